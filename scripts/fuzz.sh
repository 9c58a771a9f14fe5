#!/usr/bin/env bash
# Fuzz the CSV loader, the Amazon metadata (Python-literal) parser and checkpoint loading, each for
# a bounded time. Crashes land in fuzz/artifacts/<target>/; turn each into a regression test in
# crates/din/tests/fuzz_regressions.rs. Not run by CI (it needs cargo-fuzz and minutes per target).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60]
#
# cargo-fuzz's sanitizer flags need a nightly compiler; on stable we build without a sanitizer
# (`-s none`: libFuzzer's coverage guidance, panics and aborts still caught) and let the stable
# compiler accept cargo-fuzz's `-Z` flags with RUSTC_BOOTSTRAP=1 (set for `cargo fuzz` only: it
# changes cargo's fingerprints, so setting it for other builds would rebuild everything).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
mkdir -p out/fuzz fuzz/corpus/{csv_loader,meta_parser,checkpoint_load}
# seeds
printf 'user_id,item_id,time,cate_id\n1,10,1,3\n1,11,2,4\n2,10,3,3\n2,12,4,4\n' > fuzz/corpus/csv_loader/seed.csv
printf "{'asin': 'A', 'categories': [['Electronics', 'Camera'], ['Electronics', 'Audio']]}\n{'asin': 'B', 'title': \"b's\", 'price': 1.5, 'related': {'also_bought': ['A']}}\n" > fuzz/corpus/meta_parser/seed.json
if [ ! -f fuzz/corpus/checkpoint_load/seed.safetensors ]; then
  cargo build --release -q -p din-cli
  t=$(mktemp -d)
  target/release/din data synth --world demo --users 30 --out "$t/d.csv" >/dev/null
  target/release/din train --data "$t/d.csv" --epochs 1 --embed-dim 4 --attention-dims 4 --mlp-dims 4 --out "$t/run" >/dev/null
  cp "$t/run/model.safetensors" fuzz/corpus/checkpoint_load/seed.safetensors
fi
for t in csv_loader meta_parser checkpoint_load; do
  echo "== $t (${SECS}s)"
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none --release "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=4096 -timeout=20) \
    > "out/fuzz/$t.log" 2>&1 && rc=0 || rc=$?
  grep -E "^#[0-9]+ *DONE|Done [0-9]+ runs|ERROR|panicked|SUMMARY" "out/fuzz/$t.log" | tail -3 || true
  echo "exit $rc; crashes: $(ls fuzz/artifacts/$t 2>/dev/null | wc -l)"
done
