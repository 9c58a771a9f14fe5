//! Dense id encoding. Index 0 is padding, `1..=n` are the ids seen in the data (in increasing raw
//! order), and `n + 1` is the out-of-vocabulary row used for ids first seen at prediction time, so
//! every embedding table has `n + 2` rows (the same size torch-rechub uses).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Index of the padding row in every table.
pub const PAD: u32 = 0;

/// Raw id ↔ dense index map for one id space (users, items or categories).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<i64>", into = "Vec<i64>")]
pub struct IdMap {
    raw: Vec<i64>,
    index: HashMap<i64, u32>,
}

impl From<Vec<i64>> for IdMap {
    fn from(raw: Vec<i64>) -> Self {
        let index = raw
            .iter()
            .enumerate()
            .map(|(i, &r)| (r, i as u32 + 1))
            .collect();
        IdMap { raw, index }
    }
}

impl From<IdMap> for Vec<i64> {
    fn from(m: IdMap) -> Self {
        m.raw
    }
}

impl IdMap {
    /// Build from raw ids (any order, duplicates allowed): sorted unique ids get 1, 2, ...
    pub fn fit(ids: &[i64]) -> Self {
        let mut raw = ids.to_vec();
        raw.sort_unstable();
        raw.dedup();
        IdMap::from(raw)
    }

    /// Number of known ids (n).
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// True when no id is known.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Rows an embedding table needs: padding + n + out-of-vocabulary.
    pub fn table_rows(&self) -> usize {
        self.raw.len() + 2
    }

    /// The out-of-vocabulary index (`n + 1`).
    pub fn oov(&self) -> u32 {
        self.raw.len() as u32 + 1
    }

    /// Dense index of a raw id, if known.
    pub fn get(&self, raw: i64) -> Option<u32> {
        self.index.get(&raw).copied()
    }

    /// Dense index of a raw id, or the OOV index.
    pub fn get_or_oov(&self, raw: i64) -> u32 {
        self.get(raw).unwrap_or_else(|| self.oov())
    }

    /// Raw id of a dense index (None for padding, OOV or out of range).
    pub fn raw(&self, index: u32) -> Option<i64> {
        if index == PAD {
            return None;
        }
        self.raw.get(index as usize - 1).copied()
    }

    /// Encode a whole column; every id must be known.
    pub fn encode_all(&self, ids: &[i64]) -> Vec<u32> {
        ids.iter().map(|&r| self.get_or_oov(r)).collect()
    }
}

/// The three id maps of a dataset plus each item's category (dense indices).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vocab {
    /// Raw user id ↔ user index.
    pub users: IdMap,
    /// Raw item id ↔ item index.
    pub items: IdMap,
    /// Raw category id ↔ category index.
    pub cates: IdMap,
    /// `item_cate[item_index]` = category index of that item (0 for padding / OOV).
    pub item_cate: Vec<u32>,
}

impl Vocab {
    /// Rows of the item, category and user embedding tables, in the order
    /// [`Model::new`](crate::model::Model::new) takes them (each [`IdMap::table_rows`]: padding +
    /// ids + out-of-vocabulary).
    pub fn table_rows(&self) -> [usize; 3] {
        [
            self.items.table_rows(),
            self.cates.table_rows(),
            self.users.table_rows(),
        ]
    }

    /// Category index of an item index (0 when unknown).
    pub fn cate_of(&self, item: u32) -> u32 {
        self.item_cate.get(item as usize).copied().unwrap_or(PAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_with_padding_and_oov() {
        let m = IdMap::fit(&[40, 7, 40, 1_000_000_000_000]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(7), Some(1));
        assert_eq!(m.get(40), Some(2));
        assert_eq!(m.get(1_000_000_000_000), Some(3));
        assert_eq!(m.get(5), None);
        assert_eq!(m.get_or_oov(5), 4);
        assert_eq!(m.table_rows(), 5);
        assert_eq!(m.raw(0), None);
        assert_eq!(m.raw(2), Some(40));
        assert_eq!(m.raw(4), None);
    }

    #[test]
    fn serde_round_trip() {
        let m = IdMap::fit(&[3, 1, 2]);
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(s, "[1,2,3]");
        let back: IdMap = serde_json::from_str(&s).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.get(3), Some(3));
    }
}
