//! From an interaction log to DIN samples: the tutorial's `create_seq_features`, done correctly.
//!
//! For every user, events are sorted by time (stable: ties keep file order). For each position
//! `i ≥ 1` the history is the user's events before `i` — the most recent `max_len` of them — the
//! positive target is event `i` (label 1), and one negative target (label 0) is an item drawn
//! uniformly, with a per-user seeded generator, from the items the user never interacted with,
//! together with that item's category. The user's last position goes to test, the one before to
//! validation and all earlier ones to train, so no row is in two splits.
//!
//! Two differences from torch-rechub's `create_seq_features` (which the tutorial calls), both shown
//! by tests in this module:
//! * torch-rechub's `if i == n-1 … if i == n-2 … else` also appends every test row to train, so the
//!   model trains on the rows it is tested on;
//! * torch-rechub keeps a user's *oldest* `max_len` events (`hist[:max_len]`) and drops the rest,
//!   where the tutorial's intent (and ours) is the *most recent* `max_len` before each target.
//!
//! # The official protocol
//!
//! [`SplitConfig::official`] ([`Protocol::Official`]) instead reproduces the official DIN
//! repository's `din/build_dataset.py` (zhougr1993/DeepInterestNetwork), the split behind its
//! published GAUC (DIN 0.8698, DIN+Dice 0.8711) and behind BARS/FuxiCTR's `AmazonElectronics_x1`
//! (there with histories cut to the newest 100 events). After `random.seed(seed)` the script
//! walks the users in id order; for each user it draws one negative per event (`gen_neg`:
//! `randint(0, item_count-1)` until the item is not among the user's events), then every prefix
//! `i ≥ 1` gives a positive (event `i`) and a negative (`neg_list[i]`) with the events before
//! `i` as history. A user's last prefix is a test pair; all earlier ones are train rows. Finally
//! `random.shuffle(train_set)`, then `random.shuffle(test_set)`. Draws and shuffles use
//! [`PyRandom`](super::PyRandom), a bit-exact port of CPython 3's `random`.
//!
//! *Exact* means: the same rows, in the same order, as the script run under Python 3 on the same
//! remapped ids, where the script's ids are this crate's dense ids minus one (items, users and
//! categories numbered in increasing order of their raw ids, the way `remap.py` numbers sorted
//! keys) and ties in time keep file order (a stable sort, like pandas' multi-column
//! `sort_values`). On the CSV of `din data prepare-raw`, whose ids are already ranks of the
//! sorted raw strings, this is `remap.py`'s numbering too. A test pair `(pos, neg)` becomes two
//! rows with the same history, label 1 then label 0. Histories are the newest `max_len` events
//! (no truncation by default); truncation changes no draw.
//!
//! Differences from the default protocol, and what each is for: the official split has **no
//! validation set** (the user's second-to-last prefix is a train row), so a model trained on it
//! cannot be selected or early-stopped on held-out data without looking at test — use it to
//! compare with the published numbers, trained for a fixed number of epochs; use the default
//! protocol for model selection. Its negatives are drawn from items the user never interacted
//! with in *any* event (as in the default), but from one global stream, so adding a user changes
//! every later user's negatives. `drop_short` must be 0; a user who interacted with every item is
//! an error (the script would loop forever).
//!
//! ```
//! use din::data::{build, Events, SplitConfig};
//! let mut events = Events::default();
//! for (user, item, time) in [(1, 10, 1), (1, 11, 2), (1, 12, 3), (1, 13, 4), (2, 10, 1), (2, 12, 2),
//!                            (3, 20, 1)] {
//!     events.push(user, item, time, 100);
//! }
//! let ds = build(&events, SplitConfig::official())?;
//! // user 1: prefixes 1 and 2 are train (2 rows each), prefix 3 a test pair; user 2: a test pair
//! assert_eq!((ds.train.len(), ds.val.len(), ds.test.len()), (4, 0, 4));
//! # Ok::<(), din::Error>(())
//! ```

mod leave_last_out;
mod official;

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::events::Events;
use super::vocab::{IdMap, Vocab, PAD};
use crate::error::{Error, Result};
use crate::rng::Rng;

pub use leave_last_out::torch_rechub_positive_rows;

/// Which rows a split holds: the rules that turn each user's time-sorted events into samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// This crate's leak-free split (the module docs): last target to test, the one before to
    /// validation, earlier ones to train; negatives from a per-user seeded [`Rng`] stream.
    #[default]
    LeaveLastOut,
    /// The official DIN repository's `din/build_dataset.py`, reproduced draw for draw (see
    /// [`SplitConfig::official`]): train and test only, no validation rows.
    Official,
}

crate::names::named_enum!(Protocol, "protocol", {
    LeaveLastOut => "leave-last-out",
    Official => "official",
});

impl Protocol {
    /// The split configuration of this protocol with its defaults
    /// ([`SplitConfig::default`] or [`SplitConfig::official`]).
    pub fn config(self) -> SplitConfig {
        match self {
            Protocol::LeaveLastOut => SplitConfig::default(),
            Protocol::Official => SplitConfig::official(),
        }
    }
}

/// Parameters of the split (the tutorial's `create_seq_features` arguments, plus the protocol).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Longest history kept before each target (most recent events win). Tutorial: 50;
    /// [`SplitConfig::official`]: `usize::MAX` (no truncation, as the script), 100 for BARS.
    pub max_len: usize,
    /// Users with fewer events than this are dropped. Tutorial: 0. Must be 0 under
    /// [`Protocol::Official`] (the script drops no one).
    pub drop_short: usize,
    /// Seed of the negative sampler (and, under [`Protocol::Official`], of the shuffles).
    pub seed: u64,
    /// The split's rules (missing in `split.json` files written before it existed: the default).
    #[serde(default)]
    pub protocol: Protocol,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            max_len: 50,
            drop_short: 0,
            seed: 2026,
            protocol: Protocol::LeaveLastOut,
        }
    }
}

impl SplitConfig {
    /// The official script's setting: [`Protocol::Official`], `random.seed(1234)`, histories not
    /// truncated (set `max_len: 100` for the BARS/FuxiCTR `AmazonElectronics_x1` setting).
    pub fn official() -> Self {
        SplitConfig {
            max_len: usize::MAX,
            drop_short: 0,
            seed: OFFICIAL_SEED,
            protocol: Protocol::Official,
        }
    }
}

/// The seed of the official `build_dataset.py` (`random.seed(1234)`).
pub const OFFICIAL_SEED: u64 = 1234;

/// Histories of all rows, stored once: rows point into these parallel arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistPool {
    /// Item index at each position.
    pub items: Vec<u32>,
    /// Category index at each position, aligned with `items`.
    pub cates: Vec<u32>,
    /// The event time of each position, as in the log (filled by [`build`], whose pools hold
    /// every event of every user in time order; empty where the times are not known, as in a pool
    /// read back from Parquet). See [`Split::target_times`].
    pub times: Vec<i64>,
}

/// One split (train, val or test): column-wise rows whose histories are ranges of a shared pool.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// The history pool the rows' histories point into (shared between the splits of one
    /// [`build`]).
    pub pool: Arc<HistPool>,
    /// Dense user index of each row.
    pub user: Vec<u32>,
    /// Dense index of each row's candidate item.
    pub target_item: Vec<u32>,
    /// Dense category index of each row's candidate item.
    pub target_cate: Vec<u32>,
    /// Each row's label: 1.0 for a positive (the event that followed), 0.0 for a sampled negative.
    pub label: Vec<f32>,
    /// Where each row's history starts in `pool`.
    pub hist_start: Vec<usize>,
    /// Length of each row's history: it is `pool[hist_start..hist_start + hist_len]`, oldest first.
    pub hist_len: Vec<u32>,
    /// A context id per row (hour of day, device, page, …), or empty: the data of this crate have
    /// no context features and the built-in models ignore this column; a network of your own
    /// reads it through [`Batch::context`](super::Batch::context) and
    /// [`Lookup::context`](crate::model::Lookup::context). Set it with [`Split::with_context`].
    pub context: Vec<u32>,
}

impl Split {
    fn with_pool(pool: Arc<HistPool>) -> Self {
        Split {
            pool,
            ..Default::default()
        }
    }

    fn with_pool_capacity(pool: Arc<HistPool>, rows: usize) -> Self {
        Split {
            pool,
            user: Vec::with_capacity(rows),
            target_item: Vec::with_capacity(rows),
            target_cate: Vec::with_capacity(rows),
            label: Vec::with_capacity(rows),
            hist_start: Vec::with_capacity(rows),
            hist_len: Vec::with_capacity(rows),
            context: Vec::new(),
        }
    }

    /// The same rows re-encoded from `from`'s ids to `to`'s (raw ids preserved; ids `to` has
    /// never seen become its out-of-vocabulary index). Used to evaluate a trained run on data that
    /// was encoded on its own.
    pub fn remap(&self, from: &Vocab, to: &Vocab) -> Split {
        let map = |m_from: &IdMap, m_to: &IdMap| -> Vec<u32> {
            (0..m_from.table_rows() as u32)
                .map(|i| {
                    if i == 0 {
                        0
                    } else {
                        m_from.raw(i).map_or(m_to.oov(), |r| m_to.get_or_oov(r))
                    }
                })
                .collect()
        };
        let (items, cates, users) = (
            map(&from.items, &to.items),
            map(&from.cates, &to.cates),
            map(&from.users, &to.users),
        );
        let at = |t: &[u32], i: u32| t.get(i as usize).copied().unwrap_or(0);
        let pool = HistPool {
            items: self.pool.items.iter().map(|&i| at(&items, i)).collect(),
            cates: self.pool.cates.iter().map(|&c| at(&cates, c)).collect(),
            times: self.pool.times.clone(),
        };
        Split {
            pool: Arc::new(pool),
            user: self.user.iter().map(|&u| at(&users, u)).collect(),
            target_item: self.target_item.iter().map(|&i| at(&items, i)).collect(),
            target_cate: self.target_cate.iter().map(|&c| at(&cates, c)).collect(),
            label: self.label.clone(),
            hist_start: self.hist_start.clone(),
            hist_len: self.hist_len.clone(),
            context: self.context.clone(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.user.len()
    }

    /// True when the split has no rows.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }

    /// History items and categories of a row, oldest first.
    pub fn history(&self, row: usize) -> (&[u32], &[u32]) {
        let s = self.hist_start[row];
        let e = s + self.hist_len[row] as usize;
        (&self.pool.items[s..e], &self.pool.cates[s..e])
    }

    /// Append a row whose history is `pool[start..start+len]`.
    pub fn push(&mut self, user: u32, start: usize, len: u32, item: u32, cate: u32, label: f32) {
        self.user.push(user);
        self.hist_start.push(start);
        self.hist_len.push(len);
        self.target_item.push(item);
        self.target_cate.push(cate);
        self.label.push(label);
    }

    /// Mean history length.
    pub fn mean_history(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.hist_len.iter().map(|&l| l as f64).sum::<f64>() / self.len() as f64
    }

    /// This split's rows followed by `other`'s. When both share a history pool (splits of one
    /// [`build`]) the pool is shared; otherwise `other`'s pool is appended to a copy of this one.
    pub fn concat(&self, other: &Split) -> Split {
        let (pool, offset) = if Arc::ptr_eq(&self.pool, &other.pool) {
            (self.pool.clone(), 0)
        } else {
            let mut items = self.pool.items.clone();
            let mut cates = self.pool.cates.clone();
            items.extend_from_slice(&other.pool.items);
            cates.extend_from_slice(&other.pool.cates);
            // times only where both pools know them
            let times = if self.pool.times.is_empty() || other.pool.times.is_empty() {
                Vec::new()
            } else {
                [self.pool.times.as_slice(), &other.pool.times].concat()
            };
            let pool = HistPool {
                items,
                cates,
                times,
            };
            (Arc::new(pool), self.pool.items.len())
        };
        let mut out = Split::with_pool_capacity(pool, self.len() + other.len());
        for (s, off) in [(self, 0), (other, offset)] {
            for r in 0..s.len() {
                out.push(
                    s.user[r],
                    s.hist_start[r] + off,
                    s.hist_len[r],
                    s.target_item[r],
                    s.target_cate[r],
                    s.label[r],
                );
            }
        }
        // a context column only where both splits have one
        if !self.context.is_empty() && !other.context.is_empty() {
            out.context = [self.context.as_slice(), &other.context].concat();
        }
        out
    }

    /// The same rows with every negative redrawn **from its positive's category**: a harder
    /// evaluation (and training) set than the uniform negatives of [`build`], for measuring how much
    /// of an AUC comes from telling categories apart (notebook 5, "how negatives are sampled").
    ///
    /// A negative row is matched to the positive row with the same user and history (both
    /// protocols write a positive and its negative with one history). Its new item is drawn
    /// uniformly, with a per-row stream of `seed`, from the items of the positive's category other
    /// than the positive itself and the items in the row's history; its category is the positive's.
    /// Negatives with no such item (a one-item category, or no matching positive) keep their
    /// uniform draw; [`InCategory::kept`] counts them.
    ///
    /// ```
    /// let (_world, ds) = din::synth::demo_dataset(200, 7)?;
    /// let hard = ds.test.with_negatives_in_category(&ds.vocab, 7);
    /// // this split writes each positive just before its negative: negatives in their positive's
    /// // category, before and after
    /// let same = |t: &din::data::Split| (0..t.len())
    ///     .filter(|&r| t.label[r] == 0.0 && t.target_cate[r] == t.target_cate[r - 1])
    ///     .count();
    /// let negatives = ds.test.label.iter().filter(|&&l| l == 0.0).count();
    /// assert_eq!(hard.redrawn + hard.kept, negatives);
    /// assert!(hard.redrawn > negatives / 2);
    /// assert!(same(&ds.test) < negatives / 5 && same(&hard.split) >= hard.redrawn);
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn with_negatives_in_category(&self, vocab: &Vocab, seed: u64) -> InCategory {
        let mut by_cate: Vec<Vec<u32>> = vec![Vec::new(); vocab.cates.table_rows()];
        // padding and out-of-vocabulary rows have category PAD and are skipped
        for (item, &c) in vocab.item_cate.iter().enumerate() {
            if let Some(list) = by_cate.get_mut(c as usize).filter(|_| c != PAD) {
                list.push(item as u32);
            }
        }
        let mut positive_of = std::collections::HashMap::new();
        for r in (0..self.len()).filter(|&r| self.label[r] != 0.0) {
            let key = (self.user[r], self.hist_start[r], self.hist_len[r]);
            positive_of.insert(key, (self.target_item[r], self.target_cate[r]));
        }
        let mut out = self.clone();
        let (mut redrawn, mut kept) = (0, 0);
        for r in (0..self.len()).filter(|&r| self.label[r] == 0.0) {
            let key = (self.user[r], self.hist_start[r], self.hist_len[r]);
            let Some(&(pos_item, pos_cate)) = positive_of.get(&key) else {
                kept += 1;
                continue;
            };
            let history = self.history(r).0;
            let choices: Vec<u32> = by_cate
                .get(pos_cate as usize)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| i != pos_item && !history.contains(&i))
                .collect();
            if choices.is_empty() {
                kept += 1;
                continue;
            }
            let mut rng = Rng::stream(seed, r as u64);
            out.target_item[r] = choices[rng.below(choices.len() as u64) as usize];
            out.target_cate[r] = pos_cate;
            redrawn += 1;
        }
        InCategory {
            split: out,
            redrawn,
            kept,
        }
    }

    /// Rows of the split in a new split, sharing the history pool.
    pub fn select(&self, rows: &[usize]) -> Split {
        let mut out = Split::with_pool(self.pool.clone());
        for &r in rows {
            out.push(
                self.user[r],
                self.hist_start[r],
                self.hist_len[r],
                self.target_item[r],
                self.target_cate[r],
                self.label[r],
            );
        }
        if !self.context.is_empty() {
            out.context = rows.iter().map(|&r| self.context[r]).collect();
        }
        out
    }

    /// The same rows with a context id each (`context[r]` for row `r`); an error unless there is
    /// exactly one per row.
    ///
    /// ```
    /// let (_world, ds) = din::synth::demo_dataset(50, 3)?;
    /// let hours: Vec<u32> = ds.test.target_times().unwrap().iter()
    ///     .map(|t| (t.rem_euclid(86_400) / 3_600) as u32).collect();
    /// let test = ds.test.clone().with_context(hours)?;
    /// let batch = din::data::Batch::from_split(&test, &[0, 1]);
    /// assert_eq!(batch.context, test.context[..2].to_vec());
    /// assert!(ds.test.clone().with_context(vec![0]).is_err());
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn with_context(mut self, context: Vec<u32>) -> Result<Split> {
        if context.len() != self.len() {
            return Err(Error::Config(format!(
                "a context column needs one id per row: {} ids for {} rows",
                context.len(),
                self.len()
            )));
        }
        self.context = context;
        Ok(self)
    }

    /// The time of each row's target event (the impression time: a positive and its negative
    /// share it), for splits made by [`build`] and their [`select`](Split::select)ions and
    /// [`concat`](Split::concat)enations; `None` when the pool does not know event times (a split
    /// read back from Parquet).
    ///
    /// ```
    /// use din::data::{build, Events, SplitConfig};
    /// let mut events = Events::default();
    /// for (user, item, time) in [(1, 10, 100), (1, 11, 250), (1, 12, 300), (1, 13, 420),
    ///                            (2, 20, 50), (2, 21, 60)] {
    ///     events.push(user, item, time, 7);
    /// }
    /// let ds = build(&events, SplitConfig::default())?;
    /// // test: each user's last event as target (a positive, then its negative); validation: the
    /// // one before (user 2 has none)
    /// assert_eq!(ds.test.target_times(), Some(vec![420, 420, 60, 60]));
    /// assert_eq!(ds.val.target_times(), Some(vec![300, 300]));
    /// # Ok::<(), din::Error>(())
    /// ```
    pub fn target_times(&self) -> Option<Vec<i64>> {
        let times = &self.pool.times;
        if times.is_empty() {
            return None;
        }
        (0..self.len())
            .map(|r| {
                times
                    .get(self.hist_start[r] + self.hist_len[r] as usize)
                    .copied()
            })
            .collect()
    }
}

/// A split whose negatives were redrawn inside their positive's category
/// ([`Split::with_negatives_in_category`]).
#[derive(Debug, Clone)]
pub struct InCategory {
    /// The rows with their negatives redrawn (positives unchanged, same order).
    pub split: Split,
    /// Negatives now from the positive's category.
    pub redrawn: usize,
    /// Negatives left as drawn (no other item in the category, or no matching positive).
    pub kept: usize,
}

/// Counts describing a split run (also the `--json` output of `din data split`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitStats {
    /// Events in the log.
    pub events: usize,
    /// Distinct users in the log (dropped ones included).
    pub users: usize,
    /// Distinct items in the log.
    pub items: usize,
    /// Distinct categories in the log.
    pub cates: usize,
    /// Rows of the train split (positives and negatives).
    pub train_rows: usize,
    /// Rows of the validation split (0 under [`Protocol::Official`]).
    pub val_rows: usize,
    /// Rows of the test split (positives and negatives).
    pub test_rows: usize,
    /// Users with a single event (no target after a history): no rows, counted here.
    pub users_single_event: usize,
    /// Users with fewer than `drop_short` events, dropped.
    pub users_dropped_short: usize,
    /// Positives without a negative because the user had interacted with every item.
    pub negatives_impossible: usize,
    /// Items seen with more than one category (the first one in file order is used).
    pub items_with_conflicting_cate: usize,
    /// Mean history length of the train rows, in events.
    pub mean_train_history: f64,
}

/// Train/validation/test samples with their vocabulary.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Id maps fitted on every event of the log, and each item's category.
    pub vocab: Vocab,
    /// The configuration the splits were built with.
    pub config: SplitConfig,
    /// Training rows: every target before the validation one (before the test pair under
    /// [`Protocol::Official`]).
    pub train: Split,
    /// Validation rows (each user's second-to-last target; empty under [`Protocol::Official`]).
    pub val: Split,
    /// Test rows (each user's last target).
    pub test: Split,
    /// Counts describing the split.
    pub stats: SplitStats,
}

impl Dataset {
    /// The same dataset with torch-rechub's leak put back: every test row (positive and negative)
    /// also appended to train, as `create_seq_features`'s `if i == n-1 … if i == n-2 … else`
    /// does (the second `if` is not an `elif`). Validation and test are unchanged, so a model
    /// trained on each can be scored on the same test rows (notebook 1). For measuring what the
    /// leak does, never for a number you report.
    pub fn with_test_leaked_into_train(&self) -> Dataset {
        let train = self.train.concat(&self.test);
        let mut stats = self.stats.clone();
        stats.train_rows = train.len();
        stats.mean_train_history = train.mean_history();
        Dataset {
            train,
            stats,
            ..self.clone()
        }
    }
}

/// Encode ids and build the splits of `config.protocol`. See the module docs.
pub fn build(events: &Events, config: SplitConfig) -> Result<Dataset> {
    if events.is_empty() {
        return Err(Error::Config("no events to split".into()));
    }
    if config.max_len == 0 {
        return Err(Error::Config("max_len must be at least 1".into()));
    }
    let enc = Encoded::new(events);
    match config.protocol {
        Protocol::LeaveLastOut => leave_last_out::build(events, enc, config),
        Protocol::Official => official::build(events, enc, config),
    }
}

/// Events with dense ids, ordered by (user, time): user `u`'s events are
/// `pool[start[u]..start[u + 1]]`, oldest first.
struct Encoded {
    users: IdMap,
    items: IdMap,
    cates: IdMap,
    item_cate: Vec<u32>,
    conflicts: usize,
    pool: Arc<HistPool>,
    start: Vec<usize>,
}

impl Encoded {
    fn new(events: &Events) -> Encoded {
        let users = IdMap::fit(&events.user);
        let items = IdMap::fit(&events.item);
        let cates = IdMap::fit(&events.cate);
        let u = users.encode_all(&events.user);
        let it = items.encode_all(&events.item);
        let ct = cates.encode_all(&events.cate);

        // Category of each item: the first one seen in file order.
        let mut item_cate = vec![0u32; items.table_rows()];
        let mut conflicts = HashSet::new();
        for (&i, &c) in it.iter().zip(&ct) {
            let slot = &mut item_cate[i as usize];
            if *slot == 0 {
                *slot = c;
            } else if *slot != c {
                conflicts.insert(i);
            }
        }

        // Order events by (user, time), stable on ties: counting sort by user, then a stable
        // sort of each user's slice by time.
        let n_users = users.len();
        let mut start = vec![0usize; n_users + 2];
        for &x in &u {
            start[x as usize + 1] += 1;
        }
        for k in 1..start.len() {
            start[k] += start[k - 1];
        }
        let mut fill = start.clone();
        let mut order = vec![0usize; u.len()];
        for (row, &x) in u.iter().enumerate() {
            order[fill[x as usize]] = row;
            fill[x as usize] += 1;
        }
        for x in 1..=n_users {
            order[start[x]..start[x + 1]].sort_by_key(|&row| events.time[row]);
        }
        let pool = Arc::new(HistPool {
            items: order.iter().map(|&r| it[r]).collect(),
            cates: order.iter().map(|&r| ct[r]).collect(),
            times: order.iter().map(|&r| events.time[r]).collect(),
        });
        Encoded {
            users,
            items,
            cates,
            item_cate,
            conflicts: conflicts.len(),
            pool,
            start,
        }
    }

    fn stats(&self, events: &Events) -> SplitStats {
        SplitStats {
            events: events.len(),
            users: self.users.len(),
            items: self.items.len(),
            cates: self.cates.len(),
            items_with_conflicting_cate: self.conflicts,
            ..Default::default()
        }
    }

    fn vocab(self) -> Vocab {
        Vocab {
            users: self.users,
            items: self.items,
            cates: self.cates,
            item_cate: self.item_cate,
        }
    }

    /// The dataset of a protocol's splits: their row counts and train's mean history written into
    /// `stats`, the vocabulary taken from the encoding.
    fn into_dataset(
        self,
        config: SplitConfig,
        mut stats: SplitStats,
        train: Split,
        val: Split,
        test: Split,
    ) -> Dataset {
        stats.train_rows = train.len();
        stats.val_rows = val.len();
        stats.test_rows = test.len();
        stats.mean_train_history = train.mean_history();
        Dataset {
            vocab: self.vocab(),
            config,
            train,
            val,
            test,
            stats,
        }
    }
}

/// Mark `items` as seen by `user` in `seen_by` (`seen_by[item] == user`, no per-user set to
/// allocate); returns how many distinct items the user has.
fn mark_seen(seen_by: &mut [u32], items: &[u32], user: u32) -> u64 {
    let mut distinct = 0u64;
    for &item in items {
        let mark = &mut seen_by[item as usize];
        if *mark != user {
            *mark = user;
            distinct += 1;
        }
    }
    distinct
}

#[cfg(test)]
mod tests;
