//! Inputs that crashed a fuzz target (scripts/fuzz.sh), kept as regression tests: each must be a
//! clear error (or a value), never a panic.

fn csv(name: &str, bytes: &[u8]) -> din::Result<din::data::Events> {
    let d = din::io::test_dir(&format!("fuzzreg_{name}"));
    let p = d.join(format!("{name}.csv"));
    std::fs::write(&p, bytes).unwrap();
    din::data::Events::read_csv(&p)
}

/// csv_loader crash-85803ad9…: a lone `"` at the end of the file made polars 0.55's CSV reader
/// slice `bytes[1..0]` and panic in a worker thread.
#[test]
fn unterminated_quote_at_end_of_file() {
    let e = csv(
        "quote_eof",
        b"user_id,item_iuser_id,item_id,time,cate_id,1,10,1,3:,4\x0a2P10,3,3\x0a\x22",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("quote_eof.csv:3") && e.contains("never closed"),
        "{e}"
    );
}

#[test]
fn quoted_ids_are_still_read() {
    let ev = csv(
        "quoted",
        b"user_id,item_id,time,cate_id\n\"1\",2,3,4\n1,\"5\",6,4\n",
    )
    .unwrap();
    assert_eq!(ev.user, vec![1, 1]);
    assert_eq!(ev.item, vec![2, 5]);
}
