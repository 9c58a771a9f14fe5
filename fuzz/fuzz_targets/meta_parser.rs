//! The Python-literal parser of the Amazon metadata dump (one dict per line) and the raw
//! converter around it: errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = din::data::pylit::parse(text);
    }
    let dir = std::env::temp_dir().join(format!("din-fuzz-meta-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (meta, reviews) = (dir.join("meta.json"), dir.join("reviews.json"));
    let ok = std::fs::write(&meta, data).is_ok()
        && std::fs::write(&reviews, b"{\"reviewerID\": \"U\", \"asin\": \"A\", \"unixReviewTime\": 1}\n").is_ok();
    if ok {
        let _ = din::data::raw::convert(&reviews, &meta, false);
        let _ = din::data::raw::convert(&reviews, &meta, true);
    }
});
