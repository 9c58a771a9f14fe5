#!/usr/bin/env bash
# Learning per epoch: the library's DIN against the careful PyTorch DIN (bench/torch_din.py) on the
# same rows, test AUC after each epoch, on two synthetic worlds, at each batch size; then the
# ablation: each difference between the two switched one at a time on the library's side.
# Not run by CI. Needs a venv with torch, numpy, pyarrow (scikit-learn optional):
#   python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install torch numpy pyarrow scikit-learn
#
#   bench/parity.sh                                   # both worlds, batch 256 and 1024, 3 epochs
#   WORLDS=many BATCHES=256 EPOCHS=1 bench/parity.sh  # a quick look
#   VARIANTS=bench/parity_variants.txt bench/parity.sh
#   WORLDS=sub WORLD_DIRS="sub=out/bench/sub" bench/parity.sh  # a split directory of your own
# Results: out/parity/*.json (one JSON line each) and the table on stdout (also out/parity/table.md),
# and at the end the same tables appended to the results log, bench/results/<UTC date of the
# start>-parity.md (RESULTS_LOG=DIR elsewhere, RESULTS_LOG= none). Result files already in OUT are
# reused, not re-measured; the log entry says how many.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/refenv/bin/python}
OUT=${OUT:-out/parity}
EPOCHS=${EPOCHS:-3}
BATCHES=${BATCHES:-"256 1024"}
WORLDS=${WORLDS:-"few many"}
THREADS=${THREADS:-2}
VARIANTS=${VARIANTS:-bench/parity_variants.txt}
WORLD_DIRS=${WORLD_DIRS:-}         # NAME=SPLIT_DIR ...: worlds already split (bench/compare.sh)
RESULTS_LOG=${RESULTS_LOG-bench/results}   # '' = no results log
RUN_DATE=$(date -u +%F) RUN_TIME=$(date -u +%H:%M)
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS

cargo build --release -q -p din-cli && cargo build --release -q -p din --example parity
DIN=target/release/din
PARITY=target/release/examples/parity

# The two worlds (`din data synth`), split leave-last-out, then a fixed seeded subset of rows:
#   few:  the demo world, 12 named interests of 8 items, each user holding 3–5 of them; 10,000
#         training rows.
#   many: the Amazon-shaped world at 1/10 scale (20,000 users, 6,300 items, 80 categories,
#         120 latent interests by default, users holding 1–6 over longer histories); 50,000 rows.
world() {
  local name=$1 kv
  for kv in $WORLD_DIRS; do
    if [ "${kv%%=*}" = "$name" ]; then
      mkdir -p "$OUT/$name" && ln -sfn "$(realpath "${kv#*=}")" "$OUT/$name/sub" && return
    fi
  done
  [ -f "$OUT/$name/sub/train.parquet" ] && return
  mkdir -p "$OUT/$name"
  case $name in
    few) $DIN --json data synth --world demo --users 3000 --out "$OUT/$name/events.csv" >/dev/null
         rows="10000 5000 10000" ;;
    many) $DIN --json data synth --world amazon --users 20000 --items 6300 --cates 80 \
            --out "$OUT/$name/events.csv" >/dev/null
          rows="50000 5000 20000" ;;
    *) echo "unknown world \`$name\` (few, many, or a NAME of WORLD_DIRS)" >&2; exit 2 ;;
  esac
  $DIN --json data split --input "$OUT/$name/events.csv" --out "$OUT/$name/split" >/dev/null
  # shellcheck disable=SC2086
  $PY bench/subset.py "$OUT/$name/split" "$OUT/$name/sub" $rows
}

# The result files this run prints, and how many of them are there already (reused, not re-run).
expected_results() {
  local w bs name rest
  for w in $WORLDS; do
    for bs in $BATCHES; do
      echo "$OUT/torch_${w}_${bs}.json"
      (grep -v '^\s*#' "$VARIANTS" | grep -v '^\s*$' || true) | while read -r name rest; do
        echo "$OUT/din_${w}_${bs}_${name}.json"
      done
    done
  done
}
RESULTS_TOTAL=$(expected_results | wc -l)
RESULTS_REUSED=$(expected_results | while read -r f; do if [ -s "$f" ]; then echo; fi; done | wc -l)
if [ "$RESULTS_REUSED" -gt 0 ]; then
  echo "parity.sh: $RESULTS_REUSED of $RESULTS_TOTAL result files are already in $OUT and are reused" >&2
fi

for w in $WORLDS; do
  world "$w"
  for bs in $BATCHES; do
    f="$OUT/torch_${w}_${bs}.json"
    [ -s "$f" ] || $PY bench/torch_din.py "$OUT/$w/sub" --batch-size "$bs" --epochs "$EPOCHS" \
        --threads "$THREADS" --score-candidates "" | tail -1 > "$f"
    # one variant per line: NAME then KEY=VALUE settings (none: the library's defaults)
    grep -v '^\s*#' "$VARIANTS" | grep -v '^\s*$' | while read -r name settings; do
      f="$OUT/din_${w}_${bs}_${name}.json"
      # shellcheck disable=SC2086
      [ -s "$f" ] || $PARITY "$OUT/$w/sub" "$EPOCHS" "$bs" $settings | tail -1 > "$f"
    done
  done
done

$PY - "$OUT" "$WORLDS" "$BATCHES" "$VARIANTS" <<'PY' | tee "$OUT/table.md"
import json, sys
out, worlds, batches, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4]
lines = [l.split() for l in open(variants) if l.strip() and not l.lstrip().startswith("#")]
names, settings = [l[0] for l in lines], {l[0]: " ".join(l[1:]) for l in lines}
j = lambda n: json.load(open(f"{out}/{n}"))
aucs = lambda r: [e["test_auc"] for e in r["epochs"]]
cell = lambda xs: " | ".join(f"{a:.4f}" for a in xs)

def time_to(run, target):
    """Training seconds until the first epoch whose test AUC reaches the target (None: never)."""
    return next((e["cum_train_s"] for e in run["epochs"] if e["test_auc"] >= target), None)

print("## The library's defaults against the careful PyTorch DIN\n")
print("Target: the best test AUC the PyTorch DIN reaches within its epochs, minus 0.005; time to "
      "target: training seconds until the end of the first epoch that reaches it.\n")
print("| world | batch | din samples/s | PyTorch samples/s | din AUC, epoch 1 | PyTorch AUC, epoch 1 "
      "| din − PyTorch | target | din time to target | PyTorch time to target | speed-up |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for w in worlds:
    for bs in batches:
        t, d = j(f"torch_{w}_{bs}.json"), j(f"din_{w}_{bs}_{names[0]}.json")
        target = max(aucs(t)) - 0.005
        td, tt = time_to(d, target), time_to(t, target)
        fmt = lambda s: "not reached" if s is None else f"{s:.1f} s"
        ratio = f"{tt / td:.1f}×" if td and tt else "–"
        print(f"| {w} | {bs} | {d['train_samples_per_s']:,.0f} | {t['train_samples_per_s']:,.0f} | "
              f"{aucs(d)[0]:.4f} | {aucs(t)[0]:.4f} | {aucs(d)[0] - aucs(t)[0]:+.4f} | {target:.4f} | "
              f"{fmt(td)} | {fmt(tt)} | {ratio} |")

print("\n## Ablation: each difference from the defaults, one at a time\n")
for w in worlds:
    for bs in batches:
        t = j(f"torch_{w}_{bs}.json")
        n_ep = len(t["epochs"])
        print(f"\n### world `{w}`, batch {bs}: {t['train_rows']:,} training rows, {t['test_rows']:,} test rows\n")
        print("| run | settings | " + " | ".join(f"test AUC, epoch {k}" for k in range(1, n_ep + 1)) +
              " | epoch 1 vs PyTorch |")
        print("|---|---|" + "---|" * n_ep + "---|")
        print(f"| careful PyTorch DIN | bench/torch_din.py | {cell(aucs(t))} | |")
        for n in names:
            d = j(f"din_{w}_{bs}_{n}.json")
            print(f"| {n} | {settings[n] or '(the defaults)'} | {cell(aucs(d))} | {aucs(d)[0] - aucs(t)[0]:+.4f} |")
PY

# The results log: the tables above appended to RESULTS_LOG/<UTC date of the start>-parity.md
if [ -n "$RESULTS_LOG" ]; then
  . bench/results_log.sh
  results_log_entry parity
  {
    printf 'Settings: WORLDS="%s" BATCHES="%s" EPOCHS=%s VARIANTS=%s OUT=%s; %s min in all.\n' \
      "$WORLDS" "$BATCHES" "$EPOCHS" "$VARIANTS" "$OUT" "$((SECONDS / 60))"
    if [ "$RESULTS_REUSED" -gt 0 ]; then
      printf '%s of the %s result files were already in %s and were reused, not re-measured: their numbers come from an earlier run.\n' \
        "$RESULTS_REUSED" "$RESULTS_TOTAL" "$OUT"
    fi
    printf '\n'
    sed 's/^#/##/' "$OUT/table.md"
  } >> "$log_file"
  echo "results log: $log_file" >&2
fi
