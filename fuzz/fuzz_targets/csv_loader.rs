//! The CSV loader on arbitrary bytes: an error or a table, never a panic; a table it returns
//! must split without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("din-fuzz-csv-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.csv");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(events) = din::data::Events::read_csv(&path) {
        let _ = din::data::build(&events, din::data::SplitConfig::default());
    }
});
