//! The data pipeline: interaction logs → dense ids → DIN samples → Parquet splits → padded batches.
//!
//! | tutorial step | here |
//! |---|---|
//! | `pd.read_csv(file_path)` | [`Events::read_csv`] |
//! | `create_seq_features(data, ['item_id','cate_id'], drop_short=0)` | [`build`] with [`SplitConfig`] |
//! | `df_to_dict` / `DataGenerator` | [`Split`], [`plan_batches`], [`Batch`] |

mod batch;
mod events;
#[cfg(feature = "fetch")]
pub mod fetch;
mod parquet;
pub mod pylit;
pub mod raw;
mod split;
mod vocab;

pub use batch::{plan_batches, Batch, BatchOrder, RowRef};
pub use events::{Events, COLUMNS};
pub use parquet::{read_split, write_split, SPLIT_COLUMNS, SPLIT_NAMES};
pub use split::{
    build, torch_rechub_positive_rows, Dataset, HistPool, Split, SplitConfig, SplitStats,
};
pub use vocab::{IdMap, Vocab, PAD};
