#!/usr/bin/env bash
# Side-by-side benchmark on identical rows, in one run on one machine: this crate's DIN with its
# defaults against the careful PyTorch DIN (bench/torch_din.py, the main peer: samples/s, test AUC
# per epoch, time to a target AUC; through bench/parity.sh), then against torch-rechub (the
# tutorial's library, in its own layout). Not run by CI. Needs a Python venv with torch-rechub
# (which brings torch), numpy and pyarrow:
#   python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install torch-rechub pyarrow
#
#   bench/compare.sh                    # defaults below; results in out/bench/
#   TRAIN_ROWS=200000 EPOCHS=1 bench/compare.sh
# At the end the tables it printed are also appended to the results log,
# bench/results/<UTC date of the start>-compare.md (RESULTS_LOG=DIR elsewhere, RESULTS_LOG= none).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/refenv/bin/python}
OUT=${OUT:-out/bench}
TRAIN_ROWS=${TRAIN_ROWS:-100000}   # torch-rechub cannot finish a full 2.16M-row epoch in reasonable time
VAL_ROWS=${VAL_ROWS:-20000}
TEST_ROWS=${TEST_ROWS:-50000}
EPOCHS=${EPOCHS:-1}
BATCHES=${BATCHES:-"256 4096"}
THREADS=${THREADS:-$(nproc)}
PREP_USERS=${PREP_USERS:-0}        # >0: time data prep on the first N users only (both sides)
# torch-rechub's MLPs are Linear → BatchNorm1d → Dice: ours gets the same layout (`--batch-norm`).
# Without it ours learns much more slowly in the few steps of a one-epoch subset at batch 4096.
OURS_FLAGS=${OURS_FLAGS:---batch-norm}
RESULTS_LOG=${RESULTS_LOG-bench/results}   # '' = no results log
RUN_DATE=$(date -u +%F) RUN_TIME=$(date -u +%H:%M)
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS

cargo build --release -p din-cli -q && cargo build --release -p din --example bench -q
DIN=target/release/din
log() { echo "$@" | tee -a "$OUT/log.txt"; }
: > "$OUT/log.txt"
log "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, threads used: $THREADS; $(date -u +%F); ours: $OURS_FLAGS"

# 1. the Amazon-scale world, split once
[ -f "$OUT/amazon.csv" ] || $DIN data synth --world amazon --out "$OUT/amazon.csv" --json | tail -1 > "$OUT/synth.json"
PREP_CSV="$OUT/amazon.csv"
if [ "$PREP_USERS" -gt 0 ]; then
  PREP_CSV="$OUT/amazon_prep_subset.csv"
  awk -F, -v n="$PREP_USERS" 'NR==1 || $1 < n' "$OUT/amazon.csv" > "$PREP_CSV"
fi
rm -rf "$OUT/split"
/usr/bin/time -f "%M" -o "$OUT/split.rss" $DIN --json data split --input "$PREP_CSV" --out "$OUT/split_prep" | tail -1 > "$OUT/ours_prep.json"
$DIN --json data split --input "$OUT/amazon.csv" --out "$OUT/split" | tail -1 > "$OUT/split.json"

# 2. data prep: torch-rechub's create_seq_features on the same CSV
$PY bench/rechub_prep.py "$PREP_CSV" | tail -1 > "$OUT/rechub_prep.json"

# 3. a fixed subset of rows for both trainers
$PY bench/subset.py "$OUT/split" "$OUT/sub" "$TRAIN_ROWS" "$VAL_ROWS" "$TEST_ROWS"

# 4a. the main peer: the careful PyTorch DIN and this crate's defaults, same rows, PEER_EPOCHS
#     epochs, test AUC after each, at each of PEER_BATCHES (bench/parity.sh's report)
printf 'defaults\n' > "$OUT/peer_variants.txt"
PEER_REUSED=$( (find "$OUT/peer" -maxdepth 1 -name '*.json' -size +0 2>/dev/null || true) | wc -l)
: > "$OUT/peer_table.md"
# (each value below is expanded before any of them is assigned: OUT is still the outer one)
# (RESULTS_LOG= : this script's own entry in the results log holds the peer's table)
env WORLDS=sub WORLD_DIRS="sub=$OUT/sub" VARIANTS="$OUT/peer_variants.txt" OUT="$OUT/peer" \
  EPOCHS="${PEER_EPOCHS:-3}" BATCHES="${PEER_BATCHES:-256 1024}" THREADS="$THREADS" PY="$PY" RESULTS_LOG= \
  bench/parity.sh | sed -n '1,/^## Ablation/p' | head -n -1 | tee -a "$OUT/log.txt" "$OUT/peer_table.md"

# 4b. torch-rechub: training, same rows, same config, same batch sizes
for bs in $BATCHES; do
  rm -rf "$OUT/run_$bs"
  /usr/bin/time -f "%M" -o "$OUT/ours_$bs.rss" $DIN --json train --data "$OUT/sub" --model din --epochs "$EPOCHS" \
     --batch-size "$bs" --lr 1e-3 --weight-decay 1e-3 --optimizer adam --patience 0 $OURS_FLAGS --out "$OUT/run_$bs" | tail -1 > "$OUT/ours_$bs.json"
  $PY bench/rechub_train.py "$OUT/sub" --batch-size "$bs" --epochs "$EPOCHS" --threads "$THREADS" | tail -1 > "$OUT/rechub_$bs.json"
done

# 5. full-scale memory: all 2.16M/385k/385k rows loaded, training on FULL_ROWS of them (peak RSS)
if [ "${FULL:-1}" = 1 ]; then
  rm -rf "$OUT/run_full"
  /usr/bin/time -f "%M" -o "$OUT/ours_full.rss" $DIN --json train --data "$OUT/split" --epochs 1 --batch-size 4096 --max-train-rows "${FULL_ROWS:-300000}" \
     --optimizer adam --patience 0 $OURS_FLAGS --out "$OUT/run_full" | tail -1 > "$OUT/ours_full.json"
fi

# 6. stage breakdown, FLOP bound, serving
BN=0; case " $OURS_FLAGS " in *" --batch-norm "*) BN=1 ;; esac
DIN_BENCH_BATCH_NORM=$BN target/release/examples/bench "$OUT/sub" 256,4096 40 | tee "$OUT/stages.txt" | head -n -1
tail -1 "$OUT/stages.txt" > "$OUT/stages.json"

: > "$OUT/rechub_table.md"
$PY - "$OUT" "$BATCHES" <<'PY' | tee -a "$OUT/log.txt" "$OUT/rechub_table.md"
import json, sys
out, batches = sys.argv[1], sys.argv[2].split()
j = lambda n: json.load(open(f"{out}/{n}"))
rss = lambda n: int(open(f"{out}/{n}").read().strip().splitlines()[-1]) / 1024
print("\n| batch | ours samples/s | torch-rechub samples/s | ratio | ours test AUC | torch-rechub test AUC | ours peak RSS MB | torch-rechub peak RSS MB |")
print("|---|---|---|---|---|---|---|---|")
for bs in batches:
    o, r = j(f"ours_{bs}.json"), j(f"rechub_{bs}.json")
    print(f"| {bs} | {o['train_samples_per_s']:.0f} | {r['train_samples_per_s']:.0f} | {o['train_samples_per_s']/r['train_samples_per_s']:.1f}× "
          f"| {o['test_auc']:.4f} | {r['test_auc']:.4f} | {rss(f'ours_{bs}.rss'):.0f} | {r['peak_rss_mb']:.0f} |")
o, r = j("ours_prep.json"), j("rechub_prep.json")
print(f"\ndata prep on {r['events']} events: din data split {o['seconds']:.2f} s, create_seq_features {r['seconds']:.1f} s "
      f"(split only {r['split_s']:.1f} s): {r['seconds']/o['seconds']:.0f}×")
try:
    f = j("ours_full.json")
    print(f"full scale: one epoch on {f['train_rows']} rows at batch 4096: {f['train_samples_per_s']:.0f} samples/s, "
          f"test AUC {f['test_auc']:.4f}, peak RSS {rss('ours_full.rss'):.0f} MB")
except FileNotFoundError:
    pass
PY

# 7. the results log: this run's tables appended to RESULTS_LOG/<UTC date of the start>-compare.md
if [ -n "$RESULTS_LOG" ]; then
  . bench/results_log.sh
  results_log_entry compare
  {
    printf 'Settings: TRAIN_ROWS=%s VAL_ROWS=%s TEST_ROWS=%s EPOCHS=%s BATCHES="%s" PEER_EPOCHS=%s PEER_BATCHES="%s" FULL=%s PREP_USERS=%s OURS_FLAGS="%s"; %s min in all.\n' \
      "$TRAIN_ROWS" "$VAL_ROWS" "$TEST_ROWS" "$EPOCHS" "$BATCHES" "${PEER_EPOCHS:-3}" "${PEER_BATCHES:-256 1024}" \
      "${FULL:-1}" "$PREP_USERS" "$OURS_FLAGS" "$((SECONDS / 60))"
    if [ "$PEER_REUSED" -gt 0 ]; then
      printf 'The PyTorch DIN peer: %s result files were already in %s/peer and were reused (bench/parity.sh skips them): its numbers may come from an earlier run.\n' "$PEER_REUSED" "$OUT"
    fi
    printf '\n'
    sed 's/^#/##/' "$OUT/peer_table.md"
    printf '\n### torch-rechub, same rows (this crate with %s)\n' "$OURS_FLAGS"
    cat "$OUT/rechub_table.md"
    printf '\n### The Rust harness: stage breakdown, FLOP bound, serving\n\n```text\n'
    head -n -1 "$OUT/stages.txt"
    printf '```\n'
  } >> "$log_file"
  echo "results log: $log_file"
fi
