//! Converter from the raw 2014 Amazon product data (the files the DIN paper used) to the
//! tutorial's CSV: `reviews_Electronics_5.json(.gz)` (one JSON object per line: `reviewerID`,
//! `asin`, `unixReviewTime`) and `meta_Electronics.json(.gz)` (one *Python dict literal* per line:
//! `asin`, `categories`, a list of category paths).
//!
//! As in the tutorial's preprocessing (DIN's `convert_pd.py`/`remap_id.py`), an item's category is
//! the last entry of its last category path, and users, items and categories are numbered 0, 1, …
//! in sorted order of their raw strings. Rows are written sorted by user, then time.
//!
//! Malformed lines are skipped and counted (or fail with file and line under `strict`); items
//! without metadata and items whose category path is empty get the category `"<unknown>"`.
//!
//! ```
//! use din::data::raw::{convert, UNKNOWN_CATE};
//! let dir = std::env::temp_dir().join(format!("din-raw-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let (reviews, meta) = (dir.join("reviews.json"), dir.join("meta.json"));
//! std::fs::write(&reviews, concat!(
//!     r#"{"reviewerID": "U2", "asin": "B7", "unixReviewTime": 30}"#, "\n",
//!     r#"{"reviewerID": "U1", "asin": "B7", "unixReviewTime": 20}"#, "\n",
//!     r#"{"reviewerID": "U1", "asin": "A3", "unixReviewTime": 10}"#, "\n")).unwrap();
//! // a Python dict literal; the category is the last entry of the last path; A3 has no metadata
//! std::fs::write(&meta, "{'asin': 'B7', 'categories': [['Electronics', 'Audio', 'Headphones']]}").unwrap();
//! let (events, ids, stats) = convert(&reviews, &meta, false)?;
//! assert_eq!(ids.users, ["U1", "U2"]); // dense ids in sorted order of the raw strings
//! assert_eq!(ids.items, ["A3", "B7"]);
//! assert_eq!(ids.cates, [UNKNOWN_CATE, "Headphones"]);
//! assert_eq!(stats.items_without_meta, 1);
//! // rows sorted by user, then time
//! assert_eq!((events.user, events.item, events.cate), (vec![0, 0, 1], vec![0, 1, 1], vec![0, 1, 1]));
//! std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), din::Error>(())
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::events::Events;
use crate::error::{Error, Result};

/// The category given to items without metadata or with an empty category path.
pub const UNKNOWN_CATE: &str = "<unknown>";

/// Counts from a conversion (the `--json` output of `din data prepare-raw`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawStats {
    /// Reviews converted into events (valid review lines).
    pub reviews: usize,
    /// Distinct reviewers.
    pub users: usize,
    /// Distinct reviewed items (items that appear only in the metadata are not counted).
    pub items: usize,
    /// Distinct categories of the reviewed items, [`UNKNOWN_CATE`] included when used.
    pub cates: usize,
    /// Review lines skipped (without `strict`) because they are not a JSON object with the three
    /// fields.
    pub malformed_review_lines: usize,
    /// Metadata lines skipped (without `strict`) because they do not parse or have no `asin`.
    pub malformed_meta_lines: usize,
    /// Reviewed items with no metadata line (given [`UNKNOWN_CATE`]).
    pub items_without_meta: usize,
    /// Reviewed items whose metadata yields no category (missing or empty `categories`, or an
    /// empty last path), given [`UNKNOWN_CATE`].
    pub items_with_empty_category: usize,
}

/// The raw strings behind the dense ids of a converted file (index = id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawIds {
    /// `reviewerID` of each user id.
    pub users: Vec<String>,
    /// `asin` of each item id.
    pub items: Vec<String>,
    /// Category name of each category id (the last entry of an item's last category path).
    pub cates: Vec<String>,
}

/// Open a file, transparently decompressing gzip (detected by its magic bytes).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(|e| Error::io(path, e))?;
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(
            f,
        ))))
    } else {
        Ok(Box::new(BufReader::new(f)))
    }
}

/// Call `f(line_number, line)` for each non-empty line; I/O and UTF-8 errors name the line.
fn for_each_line(path: &Path, mut f: impl FnMut(usize, &str) -> Result<()>) -> Result<()> {
    let mut r = open_maybe_gz(path)?;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if !text.is_empty() {
            f(line_no, text)?;
        }
    }
}

/// Read the metadata dump: asin → category (last entry of the last path; `None` when empty).
pub fn read_meta(
    path: &Path,
    strict: bool,
    stats: &mut RawStats,
) -> Result<HashMap<String, Option<String>>> {
    let mut out = HashMap::new();
    for_each_line(path, |line_no, text| {
        let parsed = super::pylit::parse(text).or_else(|e| {
            // Some re-distributions converted the dump to JSON; accept that too.
            serde_json::from_str::<serde_json::Value>(text).map_err(|_| e)
        });
        let v = match parsed {
            Ok(v) => v,
            Err(e) => {
                if strict {
                    return Err(Error::data(
                        path,
                        Some(line_no),
                        None,
                        format!("malformed metadata: {e}"),
                    ));
                }
                stats.malformed_meta_lines += 1;
                return Ok(());
            }
        };
        let Some(asin) = v.get("asin").and_then(|a| a.as_str()) else {
            if strict {
                return Err(Error::data(path, Some(line_no), Some("asin"), "missing"));
            }
            stats.malformed_meta_lines += 1;
            return Ok(());
        };
        let cate = v
            .get("categories")
            .and_then(|c| c.as_array())
            .and_then(|paths| paths.last())
            .and_then(|p| p.as_array())
            .and_then(|p| p.last())
            .and_then(|c| c.as_str())
            .map(str::to_string);
        out.insert(asin.to_string(), cate);
        Ok(())
    })?;
    Ok(out)
}

/// Convert raw reviews and metadata into the tutorial's events (dense integer ids) and the raw
/// strings behind the ids.
pub fn convert(reviews: &Path, meta: &Path, strict: bool) -> Result<(Events, RawIds, RawStats)> {
    let mut stats = RawStats::default();
    let meta_map = read_meta(meta, strict, &mut stats)?;
    let rows = read_reviews(reviews, strict, &mut stats)?;
    let users = sorted_distinct(rows.iter().map(|r| &r.0));
    let items = sorted_distinct(rows.iter().map(|r| &r.1));
    let mut item_cate_name = Vec::with_capacity(items.len());
    for asin in &items {
        let name = match meta_map.get(asin) {
            None => {
                stats.items_without_meta += 1;
                UNKNOWN_CATE.to_string()
            }
            Some(None) => {
                stats.items_with_empty_category += 1;
                UNKNOWN_CATE.to_string()
            }
            Some(Some(c)) => c.clone(),
        };
        item_cate_name.push(name);
    }
    let cates = sorted_distinct(item_cate_name.iter());
    let index = |xs: &[String]| -> HashMap<String, i64> {
        xs.iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i as i64))
            .collect()
    };
    let (ui, ii, ci) = (index(&users), index(&items), index(&cates));
    let item_cate: Vec<i64> = item_cate_name.iter().map(|c| ci[c]).collect();
    let mut enc: Vec<(i64, i64, i64)> = rows.iter().map(|(u, a, t)| (ui[u], ii[a], *t)).collect();
    enc.sort_by_key(|&(u, _, t)| (u, t)); // stable: ties keep file order
    let mut events = Events::default();
    for (u, i, t) in enc {
        events.push(u, i, t, item_cate[i as usize]);
    }
    stats.reviews = events.len();
    stats.users = users.len();
    stats.items = items.len();
    stats.cates = cates.len();
    Ok((
        events,
        RawIds {
            users,
            items,
            cates,
        },
        stats,
    ))
}

/// `(reviewer, asin, unix time)` of every review line; a malformed line is an error with
/// `strict`, else counted in `stats`. No valid line at all is an error.
fn read_reviews(
    reviews: &Path,
    strict: bool,
    stats: &mut RawStats,
) -> Result<Vec<(String, String, i64)>> {
    #[derive(Deserialize)]
    struct Review {
        #[serde(rename = "reviewerID")]
        user: String,
        asin: String,
        #[serde(rename = "unixReviewTime")]
        time: i64,
    }
    let mut rows = Vec::new();
    for_each_line(reviews, |line_no, text| {
        match serde_json::from_str::<Review>(text) {
            Ok(r) => rows.push((r.user, r.asin, r.time)),
            Err(e) if strict => {
                return Err(Error::data(
                    reviews,
                    Some(line_no),
                    None,
                    format!("malformed review: {e}"),
                ))
            }
            Err(_) => stats.malformed_review_lines += 1,
        }
        Ok(())
    })?;
    if rows.is_empty() {
        return Err(Error::data(reviews, None, None, "no valid review lines"));
    }
    Ok(rows)
}

/// The distinct strings, sorted (the numbering `remap.py` gives sorted keys).
fn sorted_distinct<'a>(xs: impl Iterator<Item = &'a String>) -> Vec<String> {
    xs.cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn converts_reviews_and_python_literal_meta_gz_and_plain() {
        let dir = crate::io::test_dir("raw_convert");
        let reviews = "{\"reviewerID\": \"U2\", \"asin\": \"B\", \"reviewerName\": \"x\", \"overall\": 5.0, \"unixReviewTime\": 30}\n\
             {\"reviewerID\": \"U1\", \"asin\": \"A\", \"unixReviewTime\": 20}\n\
             this is not json\n\
             {\"reviewerID\": \"U2\", \"asin\": \"A\", \"unixReviewTime\": 10}\n\
             {\"reviewerID\": \"U1\", \"asin\": \"C\", \"unixReviewTime\": 5}\n";
        let meta = "{'asin': 'A', 'categories': [['Electronics', 'Camera'], ['Electronics', 'Audio', \"Kid's Headphones\"]]}\n\
             {'asin': 'B', 'title': 'b', 'categories': [['Electronics', 'Camera']]}\n\
             {'asin': 'C', 'categories': []}\n\
             {'asin': broken\n";
        let rp = dir.join("reviews.json.gz");
        let mut gz =
            flate2::write::GzEncoder::new(File::create(&rp).unwrap(), flate2::Compression::fast());
        gz.write_all(reviews.as_bytes()).unwrap();
        gz.finish().unwrap();
        let mp = dir.join("meta.json");
        std::fs::write(&mp, meta).unwrap();

        let (ev, ids, stats) = convert(&rp, &mp, false).unwrap();
        assert_eq!(ids.users, vec!["U1", "U2"]);
        assert_eq!(ids.items, vec!["A", "B", "C"]);
        assert_eq!(ids.cates, vec![UNKNOWN_CATE, "Camera", "Kid's Headphones"]);
        assert_eq!(stats.malformed_review_lines, 1);
        assert_eq!(stats.malformed_meta_lines, 1);
        assert_eq!(stats.items_with_empty_category, 1);
        assert_eq!(stats.items_without_meta, 0);
        // sorted by user then time; A's category is the last entry of its last path
        assert_eq!(ev.user, vec![0, 0, 1, 1]);
        assert_eq!(ev.item, vec![2, 0, 0, 1]);
        assert_eq!(ev.time, vec![5, 20, 10, 30]);
        assert_eq!(ev.cate, vec![0, 2, 2, 1]);

        let e = convert(&rp, &mp, true).unwrap_err().to_string();
        assert!(e.contains("meta.json:4"), "{e}");
        std::fs::write(&mp, "{'asin': 'A', 'categories': [['x']]}\n").unwrap();
        let e = convert(&rp, &mp, true).unwrap_err().to_string();
        assert!(
            e.contains("reviews.json.gz:3") && e.contains("malformed review"),
            "{e}"
        );
        let (_, _, stats) = convert(&rp, &mp, false).unwrap();
        assert_eq!(stats.items_without_meta, 2);
    }
}
