//! Splits on disk: a directory with `train.parquet`, `val.parquet`, `test.parquet` (columns
//! `user_id`, `history_item`, `history_cate`, `target_item`, `target_cate`, `label`; encoded ids,
//! histories as lists without padding, oldest first), `vocab.json` (the id maps) and `split.json`
//! (the split's parameters and counts). `../shared/reference/rechub_on_splits.py` reads the same
//! Parquet files, so torch-rechub can train on exactly our rows.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;
use polars_parquet::write::{self as pq_write, CompressedPage};
use serde::{Deserialize, Serialize};

use super::scores::Scores;
use super::split::{Dataset, HistPool, Split, SplitConfig, SplitStats};
use super::vocab::Vocab;
use crate::error::{Error, Result};

/// The Parquet columns, in order.
pub const SPLIT_COLUMNS: [&str; 6] = [
    "user_id",
    "history_item",
    "history_cate",
    "target_item",
    "target_cate",
    "label",
];

/// Names of the three split files.
pub const SPLIT_NAMES: [&str; 3] = ["train", "val", "test"];

#[derive(Serialize, Deserialize)]
struct SplitMeta {
    config: SplitConfig,
    stats: SplitStats,
}

/// Write a split as Parquet (atomically).
pub fn write_split(split: &Split, path: &Path) -> Result<()> {
    let n = split.len();
    let total: usize = split.hist_len.iter().map(|&l| l as usize).sum();
    let mut hi = ListPrimitiveChunkedBuilder::<Int32Type>::new(
        "history_item".into(),
        n,
        total,
        DataType::Int32,
    );
    let mut hc = ListPrimitiveChunkedBuilder::<Int32Type>::new(
        "history_cate".into(),
        n,
        total,
        DataType::Int32,
    );
    let mut buf_i = Vec::new();
    let mut buf_c = Vec::new();
    for r in 0..n {
        let (items, cates) = split.history(r);
        buf_i.clear();
        buf_c.clear();
        buf_i.extend(items.iter().map(|&x| x as i32));
        buf_c.extend(cates.iter().map(|&x| x as i32));
        hi.append_slice(&buf_i);
        hc.append_slice(&buf_c);
    }
    let ints = |name: &str, v: &[u32]| -> Column {
        Column::new(
            name.into(),
            v.iter().map(|&x| x as i32).collect::<Vec<i32>>(),
        )
    };
    let labels: Vec<i32> = split.label.iter().map(|&l| l as i32).collect();
    let mut df = DataFrame::new(
        n,
        vec![
            ints("user_id", &split.user),
            hi.finish().into_series().into_column(),
            hc.finish().into_series().into_column(),
            ints("target_item", &split.target_item),
            ints("target_cate", &split.target_cate),
            Column::new("label".into(), labels),
        ],
    )?;
    write_frame(&mut df, path)
}

/// The columns of a scores file ([`write_scores`]), in order.
pub const SCORE_COLUMNS: [&str; 6] = [
    "row",
    "user_id",
    "target_item",
    "target_cate",
    "label",
    "score",
];

/// Write scores as Parquet (atomically), columns [`SCORE_COLUMNS`]: `row` u32, the ids i64
/// (nullable), `label` and `score` f32.
pub fn write_scores(scores: &Scores, path: &Path) -> Result<()> {
    let mut df = DataFrame::new(
        scores.len(),
        vec![
            Column::new("row".into(), &scores.row),
            Column::new("user_id".into(), &scores.user_id),
            Column::new("target_item".into(), &scores.target_item),
            Column::new("target_cate".into(), &scores.target_cate),
            Column::new("label".into(), &scores.label),
            Column::new("score".into(), &scores.score),
        ],
    )?;
    write_frame(&mut df, path)
}

/// Read a file written by [`write_scores`].
pub fn read_scores(path: &Path) -> Result<Scores> {
    let df = open_frame(path)?;
    let col = |name: &'static str, dtype: DataType| -> Result<Series> {
        let c = df.column(name).map_err(|_| {
            Error::data(
                path,
                None,
                Some(name),
                "missing column (a scores file is written by `din eval --predictions OUT.parquet`)",
            )
        })?;
        Ok(c.as_materialized_series().cast(&dtype)?)
    };
    let ids = |name: &'static str| -> Result<Vec<Option<i64>>> {
        Ok(col(name, DataType::Int64)?.i64()?.iter().collect())
    };
    let floats = |name: &'static str| -> Result<Vec<f32>> {
        let s = col(name, DataType::Float32)?;
        s.f32()?
            .iter()
            .enumerate()
            .map(|(r, x)| x.ok_or_else(|| Error::data(path, Some(r), Some(name), "null value")))
            .collect()
    };
    let row = col("row", DataType::UInt32)?
        .u32()?
        .iter()
        .enumerate()
        .map(|(r, x)| x.ok_or_else(|| Error::data(path, Some(r), Some("row"), "null value")))
        .collect::<Result<Vec<u32>>>()?;
    Ok(Scores {
        row,
        user_id: ids("user_id")?,
        target_item: ids("target_item")?,
        target_cate: ids("target_cate")?,
        label: floats("label")?,
        score: floats("score")?,
    })
}

/// Rows per Parquet row group (polars' default).
const ROW_GROUP_ROWS: usize = 512 * 512;

/// A row group encoded and compressed: its row count and each leaf column's pages.
type EncodedGroup = (u64, Vec<Vec<CompressedPage>>);

/// Write a DataFrame as Snappy-compressed Parquet, atomically. polars' `ParquetWriter` encodes
/// pages lazily while it writes, on one thread, and the list columns' encoding (repetition and
/// definition levels) dominates `din data split`; here every row group is encoded and compressed
/// on the rayon pool first, then written in order. The file is what `ParquetWriter` would write.
fn write_frame(df: &mut DataFrame, path: &Path) -> Result<()> {
    use rayon::prelude::*;
    df.rechunk_mut();
    let arrow_schema = df.schema().to_arrow(CompatLevel::newest());
    let types = pq_write::to_parquet_schema(&arrow_schema)?
        .fields()
        .to_vec();
    let encodings: Vec<Vec<pq_write::Encoding>> = arrow_schema
        .iter_values()
        .map(|f| pq_write::get_dtype_encoding(&f.dtype))
        .collect();
    let options = pq_write::WriteOptions {
        statistics: pq_write::StatisticsOptions::default(),
        version: pq_write::Version::V1,
        compression: pq_write::CompressionOptions::Snappy,
        data_page_size: None,
    };
    let rows = df.height();
    let starts: Vec<usize> = (0..rows).step_by(ROW_GROUP_ROWS).collect();
    let groups: Vec<Vec<EncodedGroup>> = starts
        .par_iter()
        .map(|&at| {
            let part = df.slice(at as i64, ROW_GROUP_ROWS.min(rows - at));
            encode_groups(&part, &types, &encodings, options)
        })
        .collect::<PolarsResult<_>>()?;
    let mut res = Ok(());
    crate::io::write_atomic(path, |w| {
        res = write_groups(w, df.schema(), &groups);
        Ok(())
    })?;
    res?;
    Ok(())
}

/// Write encoded row groups, in order, and the footer.
fn write_groups<W: std::io::Write>(
    w: W,
    schema: &Schema,
    groups: &[Vec<EncodedGroup>],
) -> PolarsResult<()> {
    let mut writer = ParquetWriter::new(w)
        .with_compression(ParquetCompression::Snappy)
        .batched(schema)?;
    for (n, columns) in groups.iter().flatten() {
        writer.write_row_group(*n, columns)?;
    }
    writer.finish()?;
    Ok(())
}

/// Encode and compress the row groups of `df` (one per chunk).
fn encode_groups(
    df: &DataFrame,
    types: &[pq_write::ParquetType],
    encodings: &[Vec<pq_write::Encoding>],
    options: pq_write::WriteOptions,
) -> PolarsResult<Vec<EncodedGroup>> {
    let mut groups = Vec::new();
    for batch in df.iter_chunks(CompatLevel::newest(), false) {
        let mut columns = Vec::new();
        for ((array, ty), enc) in batch.columns().iter().zip(types).zip(encodings) {
            for pages in pq_write::array_to_columns(array, ty.clone(), options, enc)? {
                let compressed = pages
                    .map(|page| Ok(pq_write::compress(page?, Vec::new(), options.compression)?))
                    .collect::<PolarsResult<Vec<_>>>()?;
                columns.push(compressed);
            }
        }
        groups.push((batch.len() as u64, columns));
    }
    Ok(groups)
}

/// Read a split written by [`write_split`] (or by any tool writing the same columns; integer
/// types of any width are accepted). Histories that repeat the previous row's are stored once.
pub fn read_split(path: &Path) -> Result<Split> {
    let df = read_frame(path)?;
    let (offs_i, vals_i) = read_lists(&df, "history_item", path)?;
    let (offs_c, vals_c) = read_lists(&df, "history_cate", path)?;
    let mut split = Split {
        user: id_column(&df, "user_id", path)?,
        target_item: id_column(&df, "target_item", path)?,
        target_cate: id_column(&df, "target_cate", path)?,
        label: label_column(&df, path)?,
        ..Default::default()
    };
    let mut pool = HistPool::default();
    let mut prev: Option<(usize, usize)> = None; // (pool start, len) of the last history stored
    for r in 0..df.height() {
        let (s, e) = (offs_i[r], offs_i[r + 1]);
        if offs_c[r + 1] - offs_c[r] != e - s {
            return Err(Error::data(
                path,
                Some(r),
                Some("history_cate"),
                format!("row {r}: history_cate and history_item differ in length"),
            ));
        }
        let (items, cates) = (&vals_i[s..e], &vals_c[offs_c[r]..offs_c[r] + (e - s)]);
        let start = match prev {
            Some((ps, plen))
                if plen == items.len()
                    && pool.items[ps..ps + plen] == *items
                    && pool.cates[ps..ps + plen] == *cates =>
            {
                ps
            }
            _ => {
                let st = pool.items.len();
                pool.items.extend_from_slice(items);
                pool.cates.extend_from_slice(cates);
                prev = Some((st, items.len()));
                st
            }
        };
        split.hist_start.push(start);
        split.hist_len.push(items.len() as u32);
    }
    split.pool = Arc::new(pool);
    Ok(split)
}

/// A Parquet file as a frame (an I/O error, or a data error when it is not Parquet).
fn open_frame(path: &Path) -> Result<DataFrame> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(f).finish().map_err(|e| {
        Error::data(
            path,
            None,
            None,
            format!("not a readable Parquet file: {e}"),
        )
    })
}

/// A split's Parquet file as a frame that has every column of [`SPLIT_COLUMNS`].
fn read_frame(path: &Path) -> Result<DataFrame> {
    let df = open_frame(path)?;
    if let Some(c) = SPLIT_COLUMNS.iter().find(|c| df.column(c).is_err()) {
        let have: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        return Err(Error::data(
            path,
            None,
            Some(c),
            format!("missing column (file has: {})", have.join(",")),
        ));
    }
    Ok(df)
}

/// An id column (any integer type) as `u32`; a null or out-of-range value names its row.
fn id_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<u32>> {
    let s = df.column(name)?.as_materialized_series();
    if !s.dtype().is_integer() {
        return Err(Error::data(
            path,
            None,
            Some(name),
            format!("expected integers, found {}", s.dtype()),
        ));
    }
    let s = s.cast(&DataType::Int64)?;
    let mut out = Vec::with_capacity(s.len());
    for (row, x) in s.i64()?.iter().enumerate() {
        match x {
            Some(x) if (0..=u32::MAX as i64).contains(&x) => out.push(x as u32),
            Some(x) => {
                return Err(Error::data(
                    path,
                    Some(row),
                    Some(name),
                    format!("id {x} out of range (row {row})"),
                ))
            }
            None => {
                return Err(Error::data(
                    path,
                    Some(row),
                    Some(name),
                    format!("null value (row {row})"),
                ))
            }
        }
    }
    Ok(out)
}

/// The `label` column (any numeric type) as `f32`, every value in [0, 1].
fn label_column(df: &DataFrame, path: &Path) -> Result<Vec<f32>> {
    let label_s = df.column("label")?.as_materialized_series();
    if !label_s.dtype().is_primitive_numeric() {
        return Err(Error::data(
            path,
            None,
            Some("label"),
            format!("expected numbers, found {}", label_s.dtype()),
        ));
    }
    let label: Vec<f32> = label_s
        .cast(&DataType::Float32)?
        .f32()?
        .iter()
        .map(|x| x.unwrap_or(f32::NAN))
        .collect();
    if let Some(row) = label.iter().position(|l| !(0.0..=1.0).contains(l)) {
        return Err(Error::data(
            path,
            Some(row),
            Some("label"),
            format!("label must be in [0, 1] (row {row})"),
        ));
    }
    Ok(label)
}

/// Offsets and values (as u32) of a list-of-integers column.
fn read_lists(df: &DataFrame, name: &str, path: &Path) -> Result<(Vec<usize>, Vec<u32>)> {
    let s = df.column(name)?.as_materialized_series();
    let inner_ok = matches!(s.dtype(), DataType::List(inner) if inner.is_integer());
    if !inner_ok {
        return Err(Error::data(
            path,
            None,
            Some(name),
            format!("expected a list of integers, found {}", s.dtype()),
        ));
    }
    let ca = s
        .cast(&DataType::List(Box::new(DataType::Int64)))?
        .list()?
        .rechunk()
        .into_owned();
    let arr = ca.downcast_as_array();
    if arr.validity().is_some_and(|v| v.unset_bits() > 0) {
        return Err(Error::data(path, None, Some(name), "null history list"));
    }
    let offsets: Vec<usize> = arr
        .offsets()
        .as_slice()
        .iter()
        .map(|&o| o as usize)
        .collect();
    let inner = ca.get_inner();
    let inner = inner.i64()?.rechunk();
    let mut vals = Vec::with_capacity(inner.len());
    for x in inner.iter() {
        match x {
            Some(x) if (0..=u32::MAX as i64).contains(&x) => vals.push(x as u32),
            _ => {
                return Err(Error::data(
                    path,
                    None,
                    Some(name),
                    "history ids must be non-null and non-negative",
                ))
            }
        }
    }
    Ok((offsets, vals))
}

impl Dataset {
    /// Write the dataset to a split directory (see the module docs).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // The three files side by side on the rayon pool (each also encodes its row groups in
        // parallel), so the small files fill the gaps the big one leaves.
        let write =
            |name: &str, split: &Split| write_split(split, &dir.join(format!("{name}.parquet")));
        let (train, (val, test)) = rayon::join(
            || write("train", &self.train),
            || rayon::join(|| write("val", &self.val), || write("test", &self.test)),
        );
        train.and(val).and(test)?;
        crate::io::write_json(&dir.join("vocab.json"), &self.vocab)?;
        let meta = SplitMeta {
            config: self.config,
            stats: self.stats.clone(),
        };
        crate::io::write_json(&dir.join("split.json"), &meta)?;
        Ok(())
    }

    /// Load a split directory written by [`Dataset::save`].
    pub fn load(dir: &Path) -> Result<Dataset> {
        let file = |n: &str| -> PathBuf { dir.join(n) };
        for (name, what) in [
            (
                "vocab.json",
                "the id maps (raw ids to table rows) and item categories",
            ),
            ("split.json", "the split's configuration and counts"),
            ("train.parquet", "the training rows"),
            ("val.parquet", "the validation rows"),
            ("test.parquet", "the test rows"),
        ] {
            if !file(name).is_file() {
                return Err(Error::data(
                    file(name),
                    None,
                    None,
                    format!(
                        "missing: this file of the split directory {} holds {what}; \
                         `din data split --input EVENTS.csv --out {}` writes the whole directory",
                        dir.display(),
                        dir.display()
                    ),
                ));
            }
        }
        let vocab: Vocab = crate::io::read_json(&file("vocab.json"))?;
        let meta: SplitMeta = crate::io::read_json(&file("split.json"))?;
        let train = read_split(&file("train.parquet"))?;
        let val = read_split(&file("val.parquet"))?;
        let test = read_split(&file("test.parquet"))?;
        let limits = [
            ("user_id", vocab.users.table_rows()),
            ("item", vocab.items.table_rows()),
            ("cate", vocab.cates.table_rows()),
        ];
        for (name, split) in SPLIT_NAMES.iter().zip([&train, &val, &test]) {
            let p = file(&format!("{name}.parquet"));
            let max_u = split.user.iter().copied().max().unwrap_or(0) as usize;
            let max_i = split
                .target_item
                .iter()
                .chain(&split.pool.items)
                .copied()
                .max()
                .unwrap_or(0) as usize;
            let max_c = split
                .target_cate
                .iter()
                .chain(&split.pool.cates)
                .copied()
                .max()
                .unwrap_or(0) as usize;
            for ((field, rows), max) in limits.iter().zip([max_u, max_i, max_c]) {
                if max >= *rows {
                    return Err(Error::data(
                        &p,
                        None,
                        Some(field),
                        format!("id {max} is outside vocab.json ({rows} rows)"),
                    ));
                }
            }
        }
        Ok(Dataset {
            vocab,
            config: meta.config,
            train,
            val,
            test,
            stats: meta.stats,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{build, Events};

    #[test]
    fn a_missing_file_of_a_split_directory_is_named_with_what_makes_it() {
        let mut ev = Events::default();
        for u in 0..4i64 {
            for k in 0..5i64 {
                ev.push(u, u * 10 + k, k, 1);
            }
        }
        let ds = build(&ev, SplitConfig::default()).unwrap();
        for name in ["vocab.json", "split.json", "train.parquet", "test.parquet"] {
            let dir = crate::io::test_dir(&format!("split_missing_{name}"));
            ds.save(&dir).unwrap();
            std::fs::remove_file(dir.join(name)).unwrap();
            let msg = Dataset::load(&dir).unwrap_err().to_string();
            assert!(msg.contains(&dir.join(name).display().to_string()), "{msg}");
            assert!(msg.contains("din data split --input"), "{msg}");
            assert!(msg.contains("holds"), "{msg}");
            assert!(!msg.contains("os error"), "{msg}");
        }
        let msg = Error::io("x.json", std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(
            std::error::Error::source(&msg).is_none(),
            "the reason is printed once"
        );
    }

    #[test]
    fn parquet_round_trip_keeps_rows_and_columns() {
        let mut ev = Events::default();
        for u in 0..20i64 {
            for k in 0..(3 + u % 7) {
                ev.push(u, (u * 3 + k * 5) % 40, k, ((u + k) % 4) + 100);
            }
        }
        let ds = build(&ev, SplitConfig::default()).unwrap();
        let dir = crate::io::test_dir("parquet_rt");
        ds.save(&dir).unwrap();
        let back = Dataset::load(&dir).unwrap();
        assert_eq!(back.vocab, ds.vocab);
        assert_eq!(back.stats, ds.stats);
        for (a, b) in [
            (&ds.train, &back.train),
            (&ds.val, &back.val),
            (&ds.test, &back.test),
        ] {
            assert_eq!(a.len(), b.len());
            assert_eq!(a.user, b.user);
            assert_eq!(a.target_item, b.target_item);
            assert_eq!(a.target_cate, b.target_cate);
            assert_eq!(a.label, b.label);
            for r in 0..a.len() {
                assert_eq!(a.history(r), b.history(r));
            }
        }
        // exactly the contract's columns, lists of ints without padding
        let f = File::open(dir.join("train.parquet")).unwrap();
        let df = ParquetReader::new(f).finish().unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, SPLIT_COLUMNS);
        assert!(matches!(
            df.column("history_item").unwrap().dtype(),
            DataType::List(_)
        ));
        // the shared history of a positive and its negative is stored once after reload
        assert!(
            back.train.pool.items.len() * 2
                <= ds.train.hist_len.iter().map(|&l| l as usize).sum::<usize>() + 2
        );
    }

    #[test]
    fn wrong_columns_and_types_are_named() {
        let dir = crate::io::test_dir("parquet_bad");
        let p = dir.join("bad.parquet");
        let mut df = DataFrame::new(
            2,
            vec![
                Column::new("user_id".into(), vec![1i32, 2]),
                Column::new("target_item".into(), vec![1i32, 2]),
            ],
        )
        .unwrap();
        ParquetWriter::new(File::create(&p).unwrap())
            .finish(&mut df)
            .unwrap();
        let e = read_split(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad.parquet") && e.contains("history_item") && e.contains("missing"),
            "{e}"
        );

        let mut df = DataFrame::new(
            1,
            vec![
                Column::new("user_id".into(), vec!["a"]),
                Column::new("history_item".into(), vec![1i32]),
                Column::new("history_cate".into(), vec![1i32]),
                Column::new("target_item".into(), vec![1i32]),
                Column::new("target_cate".into(), vec![1i32]),
                Column::new("label".into(), vec![1i32]),
            ],
        )
        .unwrap();
        let p2 = dir.join("types.parquet");
        ParquetWriter::new(File::create(&p2).unwrap())
            .finish(&mut df)
            .unwrap();
        let e = read_split(&p2).unwrap_err().to_string();
        assert!(e.contains("history_item") && e.contains("list"), "{e}");
    }
}
