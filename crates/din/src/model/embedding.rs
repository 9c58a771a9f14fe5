//! The embedding layer (tutorial section 1, 嵌入层): one-hot ids → dense vectors.
//!
//! Three tables, as in the tutorial's `shared_with`: items (target item *and* history items share
//! it), categories (target and history categories share it) and users. Row 0 is padding, the last
//! row is out-of-vocabulary (see [`crate::data::IdMap`]).
//!
//! Tables live in host memory and are looked up per batch: a batch only ever touches the rows it
//! uses, so training updates only those rows (see `train::SparseAdam`), never a whole 63k-row table.
//!
//! ```
//! use candle_core::{DType, Device};
//! use din::data::{Batch, RowRef};
//! use din::model::{Embeddings, Layout, TableId};
//! // rows: items (padding, 3 items, OOV), categories, users; d = 2
//! let emb = Embeddings::random([5, 4, 3], 2, 0.05, 7);
//! let items = emb.table(TableId::Item);
//! assert_eq!((items.rows, items.dim, items.row(0)), (5, 2, &[0.0f32, 0.0][..])); // row 0: padding
//! let oov = items.gather(&[99], DType::F32, &Device::Cpu)?; // past the table: the OOV row
//! assert_eq!(oov.to_vec2::<f32>()?[0], items.row(4));
//! // one sample: history [1, 2], target item 2
//! let batch = Batch::from_rows([RowRef { user: 1, hist_item: &[1, 2], hist_cate: &[1, 1],
//!     target_item: 2, target_cate: 1, label: 1.0 }], 0);
//! let x = emb.lookup(&batch, Layout::Packed, DType::F32, &Device::Cpu)?;
//! assert_eq!((x.target_item.dims(), x.hist_item.dims()), (&[1, 2][..], &[2, 2][..]));
//! // targets and histories share the item table: item 2 is the same vector in both
//! assert_eq!(x.hist_item.get(1)?.to_vec1::<f32>()?, x.target_item.get(0)?.to_vec1::<f32>()?);
//! # Ok::<(), candle_core::Error>(())
//! ```

use candle_core::{DType, Device, Result, Tensor, Var};

use crate::data::Batch;
use crate::rng::Rng;

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableId {
    /// Items, target and history items alike (index 0 of [`Embeddings::tables`] and of the
    /// `[item, cate, user]` row counts).
    Item = 0,
    /// Categories, target and history categories alike (index 1).
    Cate = 1,
    /// Users (index 2).
    User = 2,
}

impl TableId {
    /// The three tables in index order: item, category, user.
    pub const ALL: [TableId; 3] = [TableId::Item, TableId::Cate, TableId::User];

    /// Tensor name in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            TableId::Item => "embedding.item",
            TableId::Cate => "embedding.cate",
            TableId::User => "embedding.user",
        }
    }
}

/// One embedding table `[rows, dim]`, row-major, f32: row 0 padding (zeros), the last row
/// out-of-vocabulary. [`EmbeddingTable::gather`] turns ids `[n]` into rows `[n, dim]` (an id past
/// the table reads the last row); the module docs run one.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingTable {
    /// Number of rows: the ids, plus row 0 (padding) and the last row (out-of-vocabulary).
    pub rows: usize,
    /// Width `d` of each row.
    pub dim: usize,
    /// The `rows · dim` values, row-major: row `i` is `data[i·dim..(i + 1)·dim]`.
    pub data: Vec<f32>,
}

impl EmbeddingTable {
    /// Normal(0, std) rows; the padding row (0) is zero.
    pub fn random(rows: usize, dim: usize, std: f64, rng: &mut Rng) -> Self {
        let mut data = table_vec(rows * dim, |_| (std * rng.normal()) as f32);
        let first = dim.min(data.len());
        data[..first].iter_mut().for_each(|x| *x = 0.0);
        EmbeddingTable { rows, dim, data }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Row `i`, mutable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Rows `ids` stacked into a `[ids.len(), dim]` tensor. Ids past the table are clamped to the
    /// last (out-of-vocabulary) row.
    pub fn gather(&self, ids: &[u32], dtype: DType, device: &Device) -> Result<Tensor> {
        let mut out = Vec::with_capacity(ids.len() * self.dim);
        let last = self.rows.saturating_sub(1);
        for &i in ids {
            out.extend_from_slice(self.row((i as usize).min(last)));
        }
        Tensor::from_vec(out, (ids.len(), self.dim), device)?.to_dtype(dtype)
    }

    /// The whole table as a tensor (for checkpoints and plots).
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor> {
        Tensor::from_slice(&self.data, (self.rows, self.dim), device)
    }

    /// A table from a `[rows, dim]` tensor.
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let (rows, dim) = t.dims2()?;
        let flat = t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let data = table_vec(flat.len(), |i| flat[i]);
        Ok(EmbeddingTable { rows, dim, data })
    }
}

/// A table-sized buffer (on huge pages where the OS has them, see [`din_kernels::sys::table_vec`]).
pub(crate) use din_kernels::sys::table_vec;

/// The embedding layer: the three tables (items, categories, users; [`TableId`]).
///
/// # Shapes
/// [`Embeddings::lookup`] of a batch of B rows gives a [`Lookup`]: candidate item and category
/// and the user `[B, d]`; the histories `[B, L, d]` with a `[B, L]` mask (`Layout::Padded`) or
/// `[N, d]` with each position's row (`Layout::Packed`, N real positions). Checkpoint names:
/// `embedding.item`, `embedding.cate`, `embedding.user`. The module docs run one.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    tables: [EmbeddingTable; 3],
}

impl Embeddings {
    /// Random tables for the given row counts (item, cate, user) and dimension.
    pub fn random(rows: [usize; 3], dim: usize, std: f64, seed: u64) -> Self {
        let mut rng = Rng::stream(seed, 0xE3B);
        let tables = rows.map(|r| EmbeddingTable::random(r, dim, std, &mut rng));
        Embeddings { tables }
    }

    /// Tables read back (a snapshot, a checkpoint), in [`TableId`] order.
    pub(crate) fn from_tables(tables: [EmbeddingTable; 3]) -> Self {
        Embeddings { tables }
    }

    /// The table `id`.
    pub fn table(&self, id: TableId) -> &EmbeddingTable {
        &self.tables[id as usize]
    }

    /// The table `id`, to update its rows (the optimiser, a checkpoint being loaded).
    pub fn table_mut(&mut self, id: TableId) -> &mut EmbeddingTable {
        &mut self.tables[id as usize]
    }

    /// The three tables, in [`TableId`] order (item, category, user).
    pub fn tables(&self) -> &[EmbeddingTable; 3] {
        &self.tables
    }

    /// The three tables, to update their rows.
    pub fn tables_mut(&mut self) -> &mut [EmbeddingTable; 3] {
        &mut self.tables
    }

    /// Set every table's out-of-vocabulary row (the last) to the mean of its known rows
    /// (rows 1..last), so unseen ids score like an average user/item/category.
    pub fn fill_oov_rows(&mut self) {
        for t in self.tables.iter_mut() {
            if t.rows < 3 {
                continue;
            }
            let d = t.dim;
            let mut mean = vec![0f64; d];
            for r in 1..t.rows - 1 {
                for (m, &x) in mean.iter_mut().zip(t.row(r)) {
                    *m += x as f64;
                }
            }
            let n = (t.rows - 2) as f64;
            let last = t.rows - 1;
            for (x, m) in t.row_mut(last).iter_mut().zip(mean) {
                *x = (m / n) as f32;
            }
        }
    }

    /// The embedding width `d` (the three tables share it).
    pub fn dim(&self) -> usize {
        self.tables[0].dim
    }

    /// Look a batch up for inference or evaluation.
    pub fn lookup(
        &self,
        batch: &Batch,
        layout: Layout,
        dtype: DType,
        device: &Device,
    ) -> Result<Lookup> {
        Lookup::build(batch, layout, device, |t, ids| {
            self.table(t).gather(ids, dtype, device)
        })
    }

    /// Look a batch up for training: for each table, the rows the batch touches become one small
    /// trainable [`Var`] (`[unique rows, dim]`), indexed by the batch. Gradients arrive only for
    /// those rows.
    pub fn lookup_train(
        &self,
        batch: &Batch,
        layout: Layout,
        dtype: DType,
        device: &Device,
    ) -> Result<(Lookup, Vec<TouchedRows>)> {
        let mut touched: Vec<TouchedRows> = Vec::with_capacity(3);
        let lookup = Lookup::build(batch, layout, device, |t, ids| {
            let pos = match touched.iter().position(|r| r.table == t) {
                Some(p) => p,
                None => {
                    let mut uniq: Vec<u32> = all_ids(batch, t);
                    uniq.sort_unstable();
                    uniq.dedup();
                    let rows = self.table(t).gather(&uniq, dtype, device)?;
                    touched.push(TouchedRows {
                        table: t,
                        ids: uniq,
                        var: Var::from_tensor(&rows)?,
                    });
                    touched.len() - 1
                }
            };
            let tr = &touched[pos];
            let local: Vec<u32> = ids
                .iter()
                .map(|i| tr.ids.binary_search(i).unwrap_or(0) as u32)
                .collect();
            let idx = Tensor::from_vec(local, ids.len(), device)?;
            tr.var.as_tensor().index_select(&idx, 0)
        })?;
        Ok((lookup, touched))
    }
}

/// Every id of table `t` a batch may ask for (targets, and all history slots incl. padding).
fn all_ids(batch: &Batch, t: TableId) -> Vec<u32> {
    match t {
        TableId::User => batch.user.clone(),
        TableId::Item => batch
            .target_item
            .iter()
            .chain(&batch.hist_item)
            .copied()
            .collect(),
        TableId::Cate => batch
            .target_cate
            .iter()
            .chain(&batch.hist_cate)
            .copied()
            .collect(),
    }
}

/// Rows of one table used by a training batch, as a trainable variable.
#[derive(Debug, Clone)]
pub struct TouchedRows {
    /// The table the rows come from.
    pub table: TableId,
    /// Global row ids, sorted, unique; row `k` of `var` is table row `ids[k]`.
    pub ids: Vec<u32>,
    /// The rows `[ids.len(), d]` as a trainable variable (the batch's dtype and device); the
    /// [`Lookup`] indexes it, so its gradient holds the gradients of exactly these rows.
    pub var: Var,
}

/// How history embeddings are laid out for the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[B, L, d]` with padding and a mask: the tutorial's formulas as written.
    Padded,
    /// `[N, d]`, only the N real history positions, with the row each belongs to: no work on
    /// padding at all.
    Packed,
}

/// Embedded inputs of one batch.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The layout of `hist_item` and `hist_cate`.
    pub layout: Layout,
    /// Batch size B.
    pub batch: usize,
    /// Padded history length L ([`Batch::max_len`]).
    pub max_len: usize,
    /// `[B, d]`
    pub user: Tensor,
    /// `[B, d]`: the candidate items, v_target of the tutorial.
    pub target_item: Tensor,
    /// `[B, d]`: the candidates' categories.
    pub target_cate: Tensor,
    /// History items: `[B, L, d]` (padded) or `[N, d]` (packed): V_hist of the tutorial.
    pub hist_item: Tensor,
    /// History categories, aligned with `hist_item`: `[B, L, d]` (padded) or `[N, d]` (packed).
    pub hist_cate: Tensor,
    /// `[B, L]` 0/1 mask (both layouts).
    pub mask: Tensor,
    /// `[N]` (u32): the row of each real history position, what the packed layout pools by
    /// (built for both layouts).
    pub seg: Tensor,
    /// `[N]` (u32): each real position's flat index `b·L + l` into `[B, L]` (the packed layout
    /// scatters its attention weights back by it).
    pub pos: Tensor,
    /// `[B, 1]`: history lengths, in the embeddings' dtype.
    pub lens: Tensor,
    /// Row 0 (padding) of the item and category tables, `[1, d]` each, for models that attend to
    /// padding as torch-rechub does ([`super::ModelConfig::attend_padding`]); set by
    /// [`super::Model::lookup`] for those models, `None` otherwise.
    pub padding: Option<[Tensor; 2]>,
    /// The batch's context ids `[B]` (u32, [`Batch::context`]) when it has them: not embedded
    /// here, a network of your own holds the table (the built-in networks ignore them).
    pub context: Option<Tensor>,
}

impl Lookup {
    /// Build from any row source: `embed(table, ids)` returns `[ids.len(), d]`.
    pub fn build(
        batch: &Batch,
        layout: Layout,
        device: &Device,
        mut embed: impl FnMut(TableId, &[u32]) -> Result<Tensor>,
    ) -> Result<Lookup> {
        let (b, l) = (batch.size, batch.max_len);
        let mut seg = Vec::with_capacity(batch.n_valid());
        let mut pos = Vec::with_capacity(batch.n_valid());
        let mut hi = Vec::with_capacity(batch.n_valid());
        let mut hc = Vec::with_capacity(batch.n_valid());
        for k in 0..b {
            for j in 0..batch.hist_len[k] as usize {
                seg.push(k as u32);
                pos.push((k * l + j) as u32);
                hi.push(batch.hist_item[k * l + j]);
                hc.push(batch.hist_cate[k * l + j]);
            }
        }
        let user = embed(TableId::User, &batch.user)?;
        let target_item = embed(TableId::Item, &batch.target_item)?;
        let target_cate = embed(TableId::Cate, &batch.target_cate)?;
        let d = user.dim(1)?;
        let (hist_item, hist_cate) = match layout {
            Layout::Padded => (
                embed(TableId::Item, &batch.hist_item)?.reshape((b, l, d))?,
                embed(TableId::Cate, &batch.hist_cate)?.reshape((b, l, d))?,
            ),
            Layout::Packed => (embed(TableId::Item, &hi)?, embed(TableId::Cate, &hc)?),
        };
        let dtype = user.dtype();
        let lens: Vec<f32> = batch.hist_len.iter().map(|&x| x as f32).collect();
        let n = seg.len();
        Ok(Lookup {
            layout,
            batch: b,
            max_len: l,
            user,
            target_item,
            target_cate,
            hist_item,
            hist_cate,
            mask: Tensor::from_slice(&batch.mask, (b, l), device)?.to_dtype(dtype)?,
            seg: Tensor::from_vec(seg, n, device)?,
            pos: Tensor::from_vec(pos, n, device)?,
            lens: Tensor::from_vec(lens, (b, 1), device)?.to_dtype(dtype)?,
            padding: None,
            context: if batch.context.is_empty() {
                None
            } else {
                Some(Tensor::from_slice(&batch.context, b, device)?)
            },
        })
    }

    /// Number of real history positions.
    pub fn n_valid(&self) -> Result<usize> {
        self.seg.dim(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::RowRef;

    #[test]
    fn a_lookup_carries_the_batch_context_ids_and_none_without_them() {
        let hist = [3u32, 4];
        let row = |user| RowRef {
            user,
            hist_item: &hist,
            hist_cate: &hist,
            target_item: 1,
            target_cate: 1,
            label: 1.0,
        };
        let mut batch = Batch::from_rows([row(1), row(2)], 0);
        let embed =
            |_: TableId, ids: &[u32]| Tensor::zeros((ids.len(), 2), DType::F32, &Device::Cpu);
        let plain = Lookup::build(&batch, Layout::Padded, &Device::Cpu, embed).unwrap();
        assert!(plain.context.is_none());
        batch.context = vec![7, 23];
        for layout in [Layout::Padded, Layout::Packed] {
            let x = Lookup::build(&batch, layout, &Device::Cpu, embed).unwrap();
            let ids = x.context.unwrap().to_vec1::<u32>().unwrap();
            assert_eq!(ids, vec![7, 23]);
        }
    }
}
