//! Interaction logs in the tutorial's CSV schema: `user_id,item_id,time,cate_id`.
//!
//! Loading goes through polars (multi-threaded CSV parsing). Extra columns are ignored; a missing
//! column, a non-integer or negative id, an empty field or an empty file is an [`Error::Data`] that
//! names the file, the line and the column.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};

/// The four columns every interaction log must have, in the tutorial's order.
pub const COLUMNS: [&str; 4] = ["user_id", "item_id", "time", "cate_id"];

/// An interaction log held column-wise, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Events {
    /// Raw user id of each event (`user_id`).
    pub user: Vec<i64>,
    /// Raw item id of each event (`item_id`).
    pub item: Vec<i64>,
    /// Time of each event (`time`, Unix seconds in the Amazon data); the split uses only its order.
    pub time: Vec<i64>,
    /// Raw category id of each event's item (`cate_id`).
    pub cate: Vec<i64>,
}

impl Events {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.user.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }

    /// Append one event.
    pub fn push(&mut self, user: i64, item: i64, time: i64, cate: i64) {
        self.user.push(user);
        self.item.push(item);
        self.time.push(time);
        self.cate.push(cate);
    }

    /// Read a CSV file with polars. See the module docs for what is checked.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Events> {
        let path = path.as_ref();
        check_header(path)?;
        // polars 0.55 panics on an unterminated quote at the end of a file (found by fuzzing)
        check_quotes(path)?;
        let names: Arc<[PlSmallStr]> = COLUMNS.iter().map(|c| PlSmallStr::from(*c)).collect();
        let typed = Schema::from_iter(
            COLUMNS
                .iter()
                .map(|c| Field::new(PlSmallStr::from(*c), DataType::Int64)),
        );
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_columns(Some(names.clone()))
            .with_schema_overwrite(Some(Arc::new(typed)))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish());
        let df = match df {
            Ok(df) => df,
            // Polars' parse error does not say which line; read the columns as text and find it.
            Err(_) => return Err(locate_bad_value(path, names)?),
        };
        if df.height() == 0 {
            return Err(Error::data(path, None, None, "header only: no events"));
        }
        let mut cols = Vec::with_capacity(4);
        for name in COLUMNS {
            let ca = df.column(name)?.as_materialized_series().i64()?.clone();
            let mut v = Vec::with_capacity(ca.len());
            for (row, x) in ca.iter().enumerate() {
                match x {
                    None => {
                        return Err(Error::data(path, Some(row + 2), Some(name), "empty value"))
                    }
                    Some(x) if x < 0 && name != "time" => {
                        return Err(Error::data(
                            path,
                            Some(row + 2),
                            Some(name),
                            format!("negative id {x}"),
                        ))
                    }
                    Some(x) => v.push(x),
                }
            }
            cols.push(v);
        }
        let cate = cols.pop().unwrap_or_default();
        let time = cols.pop().unwrap_or_default();
        let item = cols.pop().unwrap_or_default();
        let user = cols.pop().unwrap_or_default();
        Ok(Events {
            user,
            item,
            time,
            cate,
        })
    }

    /// Write the log as CSV (header `user_id,item_id,time,cate_id`), atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        crate::io::write_atomic(path, |w| {
            writeln!(w, "{}", COLUMNS.join(","))?;
            for i in 0..self.len() {
                writeln!(
                    w,
                    "{},{},{},{}",
                    self.user[i], self.item[i], self.time[i], self.cate[i]
                )?;
            }
            Ok(())
        })
    }
}

/// Check the header line ourselves so that a missing column gets a precise message.
fn check_header(path: &Path) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut first = Vec::new();
    BufReader::new(f)
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::io(path, e))?;
    if first.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::data(
            path,
            None,
            None,
            "empty file: no header, no events",
        ));
    }
    let header = String::from_utf8_lossy(&first);
    let header = header.trim_start_matches('\u{feff}').trim_end();
    let cols: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    for want in COLUMNS {
        if !cols.contains(&want) {
            return Err(Error::data(
                path,
                Some(1),
                Some(want),
                format!(
                    "missing column (header has: {}; need {})",
                    cols.join(","),
                    COLUMNS.join(",")
                ),
            ));
        }
    }
    Ok(())
}

/// An unterminated quoted field is an error naming the line where it opens.
fn check_quotes(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !bytes.contains(&b'"') {
        return Ok(());
    }
    let (mut line, mut open_line, mut in_quote) = (1usize, 0usize, false);
    for &b in &bytes {
        match b {
            b'"' => {
                in_quote = !in_quote;
                if in_quote {
                    open_line = line;
                }
            }
            b'\n' => line += 1,
            _ => {}
        }
    }
    if in_quote {
        return Err(Error::data(
            path,
            Some(open_line),
            None,
            "a quoted field is never closed (unbalanced `\"`)",
        ));
    }
    Ok(())
}

/// The first line with bytes that are not UTF-8, as an error naming it (None if all are UTF-8).
fn locate_non_utf8(path: &Path) -> Result<Option<Error>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(std::str::from_utf8(&bytes).err().map(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::data(
            path,
            Some(line),
            None,
            format!("bytes that are not UTF-8 (at byte {at}); save the file as UTF-8"),
        )
    }))
}

/// Re-read the four columns as text and report the first value that is not an integer.
fn locate_bad_value(path: &Path, names: Arc<[PlSmallStr]>) -> Result<Error> {
    if let Some(e) = locate_non_utf8(path)? {
        return Ok(e);
    }
    let text = Schema::from_iter(
        COLUMNS
            .iter()
            .map(|c| Field::new(PlSmallStr::from(*c), DataType::String)),
    );
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_columns(Some(names))
        .with_schema_overwrite(Some(Arc::new(text)))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
        .map_err(|e| Error::data(path, None, None, format!("not a readable CSV: {e}")))?;
    for name in COLUMNS {
        let ca = df.column(name)?.as_materialized_series().str()?.clone();
        for (row, x) in ca.iter().enumerate() {
            let s = x.unwrap_or("").trim();
            if s.parse::<i64>().is_err() {
                let msg = if s.is_empty() {
                    "empty value".to_string()
                } else {
                    format!("`{s}` is not an integer")
                };
                return Ok(Error::data(path, Some(row + 2), Some(name), msg));
            }
        }
    }
    Ok(Error::data(
        path,
        None,
        None,
        "could not parse the file as CSV with integer columns",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_schema_ignores_extra_columns() {
        let dir = crate::io::test_dir("events_read");
        let p = write(
            &dir,
            "a.csv",
            "extra,cate_id,user_id,item_id,time\nx,5,1,10,100\ny,6,2,11,50\n",
        );
        let ev = Events::read_csv(&p).unwrap();
        assert_eq!(ev.user, vec![1, 2]);
        assert_eq!(ev.item, vec![10, 11]);
        assert_eq!(ev.time, vec![100, 50]);
        assert_eq!(ev.cate, vec![5, 6]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let dir = crate::io::test_dir("events_err");
        let p = write(&dir, "miss.csv", "user_id,item_id,time\n1,2,3\n");
        let e = Events::read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains("miss.csv:1") && e.contains("cate_id") && e.contains("missing"),
            "{e}"
        );

        let mut text = String::from("user_id,item_id,time,cate_id\n");
        for i in 0..300 {
            text.push_str(&format!("{i},{i},{i},1\n"));
        }
        text.push_str("7,abc,9,1\n");
        let p = write(&dir, "bad.csv", &text);
        let e = Events::read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv:302") && e.contains("item_id") && e.contains("abc"),
            "{e}"
        );

        let p = write(&dir, "neg.csv", "user_id,item_id,time,cate_id\n1,-4,3,1\n");
        let e = Events::read_csv(&p).unwrap_err().to_string();
        assert!(
            e.contains(":2") && e.contains("item_id") && e.contains("negative"),
            "{e}"
        );

        let p = write(&dir, "empty.csv", "");
        let e = Events::read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("empty file"), "{e}");

        let p = write(&dir, "header.csv", "user_id,item_id,time,cate_id\n");
        let e = Events::read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("header only"), "{e}");
    }

    #[test]
    fn csv_round_trip() {
        let dir = crate::io::test_dir("events_rt");
        let mut ev = Events::default();
        ev.push(3, 4, 5, 6);
        ev.push(1, 2, -3, 4);
        let p = dir.join("rt.csv");
        ev.write_csv(&p).unwrap();
        assert_eq!(Events::read_csv(&p).unwrap(), ev);
    }
}
