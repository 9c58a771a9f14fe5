//! The data pipeline: interaction logs → dense ids → DIN samples → Parquet splits → padded batches.
//!
//! | tutorial step | here |
//! |---|---|
//! | `pd.read_csv(file_path)` | [`Events::read_csv`] |
//! | `create_seq_features(data, ['item_id','cate_id'], drop_short=0)` | [`build`] with [`SplitConfig`] |
//! | the official DIN `build_dataset.py` | [`build`] with [`SplitConfig::official`] ([`Protocol`], [`PyRandom`]) |
//! | `df_to_dict` / `DataGenerator` | [`Split`], [`plan_batches`], [`Batch`] |
//!
//! ```
//! use din::data::{build, Events, SplitConfig};
//! let mut events = Events::default();
//! for (user, item, time, cate) in [(1, 10, 1, 100), (1, 11, 2, 100), (1, 12, 3, 101), (1, 13, 4, 101),
//!                                  (2, 10, 1, 100), (2, 12, 2, 101), (2, 13, 3, 101),
//!                                  (3, 20, 1, 102)] { // user 3: one event, no rows, a negative to draw
//!     events.push(user, item, time, cate);
//! }
//! let ds = build(&events, SplitConfig::default())?;
//! // one positive and one negative per target: user 1 has 3 targets, user 2 has 2;
//! // each user's last target goes to test, the one before to validation
//! assert_eq!((ds.train.len(), ds.val.len(), ds.test.len()), (2, 4, 4));
//! # Ok::<(), din::Error>(())
//! ```

mod batch;
mod events;
#[cfg(feature = "fetch")]
pub mod fetch;
mod parquet;
pub mod pylit;
mod pyrandom;
pub mod raw;
mod scores;
mod split;
mod vocab;

pub use batch::{plan_batches, Batch, BatchOrder, RowRef};
pub use events::{Events, COLUMNS};
pub use parquet::{
    read_scores, read_split, write_scores, write_split, SCORE_COLUMNS, SPLIT_COLUMNS, SPLIT_NAMES,
};
pub use pyrandom::PyRandom;
pub use scores::Scores;
pub use split::{
    build, torch_rechub_positive_rows, Dataset, HistPool, InCategory, Protocol, Split, SplitConfig,
    SplitStats, OFFICIAL_SEED,
};
pub use vocab::{IdMap, Vocab, PAD};
