//! Where `din data split`'s time goes: read CSV, build samples, write Parquet.
//! `cargo run --release -p din --example split_stages -- FILE.csv OUT_DIR`
use std::time::Instant;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    din::tune_process();
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (csv, out) = (a.first().ok_or("FILE.csv")?, a.get(1).ok_or("OUT_DIR")?);
    let t = Instant::now();
    let ev = din::data::Events::read_csv(csv)?;
    let t1 = t.elapsed().as_secs_f64();
    let ds = din::data::build(&ev, din::data::SplitConfig::default())?;
    let t2 = t.elapsed().as_secs_f64();
    ds.save(std::path::Path::new(out))?;
    let t3 = t.elapsed().as_secs_f64();
    println!(
        "read {t1:.2} s, build {:.2} s, write {:.2} s, total {t3:.2} s",
        t2 - t1,
        t3 - t2
    );
    Ok(())
}
