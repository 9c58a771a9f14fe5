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
#   SEEDS="1 2 3" LEVELS="native avx2" VARIANTS=bench/parity_defaults.txt bench/parity.sh
#       # three seeds on each side (means in the table), the library at each DIN_SIMD level
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
SEEDS=${SEEDS:-2026}               # seeds of both sides (torch_din.py --seed, train.seed)
LEVELS=${LEVELS:-native}           # DIN_SIMD levels of the library's runs: native (unset), avx2, base
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
# The library's runs of one (seed, level): every variant at the first seed and level (the
# ablation), the defaults (the first variant) at the others.
variants_of() {
  local seed=$1 level=$2
  if [ "$seed" = "${SEEDS%% *}" ] && [ "$level" = "${LEVELS%% *}" ]; then
    grep -v '^\s*#' "$VARIANTS" | grep -v '^\s*$' || true
  else
    grep -v '^\s*#' "$VARIANTS" | grep -v '^\s*$' | head -n 1 || true
  fi
}
expected_results() {
  local w bs seed level name rest
  for w in $WORLDS; do
    for bs in $BATCHES; do
      for seed in $SEEDS; do
        echo "$OUT/torch_${w}_${bs}_s${seed}.json"
        for level in $LEVELS; do
          variants_of "$seed" "$level" | while read -r name rest; do
            echo "$OUT/din_${w}_${bs}_${name}_s${seed}_${level}.json"
          done
        done
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
    for seed in $SEEDS; do
      f="$OUT/torch_${w}_${bs}_s${seed}.json"
      [ -s "$f" ] || $PY bench/torch_din.py "$OUT/$w/sub" --batch-size "$bs" --epochs "$EPOCHS" \
          --threads "$THREADS" --seed "$seed" --score-candidates "" | tail -1 > "$f"
      for level in $LEVELS; do
        simd=()
        [ "$level" = native ] || simd=(DIN_SIMD="$level")
        # one variant per line: NAME then KEY=VALUE settings (none: the library's defaults)
        variants_of "$seed" "$level" | while read -r name settings; do
          f="$OUT/din_${w}_${bs}_${name}_s${seed}_${level}.json"
          # shellcheck disable=SC2086
          [ -s "$f" ] || env "${simd[@]}" $PARITY "$OUT/$w/sub" "$EPOCHS" "$bs" $settings \
              train.seed="$seed" | tail -1 > "$f"
        done
      done
    done
  done
done

$PY - "$OUT" "$WORLDS" "$BATCHES" "$VARIANTS" "$SEEDS" "$LEVELS" <<'PY' | tee "$OUT/table.md"
import json, sys
from statistics import mean
out, worlds, batches, variants = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4]
seeds, levels = sys.argv[5].split(), sys.argv[6].split()
lines = [l.split() for l in open(variants) if l.strip() and not l.lstrip().startswith("#")]
names, settings = [l[0] for l in lines], {l[0]: " ".join(l[1:]) for l in lines}
j = lambda n: json.load(open(f"{out}/{n}"))
torch = lambda w, bs, s: j(f"torch_{w}_{bs}_s{s}.json")
din = lambda w, bs, n, s, lv: j(f"din_{w}_{bs}_{n}_s{s}_{lv}.json")
aucs = lambda r: [e["test_auc"] for e in r["epochs"]]
cell = lambda xs: " | ".join(f"{a:.4f}" for a in xs)
sps = lambda r: r["train_samples_per_s"]

def time_to(run, target):
    """Training seconds until the first epoch whose test AUC reaches the target (None: never)."""
    return next((e["cum_train_s"] for e in run["epochs"] if e["test_auc"] >= target), None)

n_seeds = len(seeds)
over = f"mean of {n_seeds} seeds ({', '.join(seeds)})" if n_seeds > 1 else f"seed {seeds[0]}"
print("## The library's defaults against the careful PyTorch DIN\n")
print(f"Samples/s and AUCs: {over}, each side. Target: the best test AUC the PyTorch DIN reaches "
      "within its epochs, minus 0.005; time to target: training seconds until the end of the first "
      "epoch that reaches it (means over the seeds whose run reaches it).\n")
lv0 = levels[0]
print("| world | batch | din samples/s | PyTorch samples/s | din ÷ PyTorch | din AUC, epoch 1 | "
      "PyTorch AUC, epoch 1 | din − PyTorch, last epoch | target | din time to target | "
      "PyTorch time to target | speed-up |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for w in worlds:
    for bs in batches:
        ts = [torch(w, bs, s) for s in seeds]
        ds = [din(w, bs, names[0], s, lv0) for s in seeds]
        target = mean(max(aucs(t)) for t in ts) - 0.005
        reach = lambda rs: [x for x in (time_to(r, target) for r in rs) if x is not None]
        td, tt = reach(ds), reach(ts)
        fmt = lambda xs: "not reached" if not xs else f"{mean(xs):.1f} s" + (
            f" ({len(xs)} of {n_seeds})" if len(xs) < n_seeds else "")
        ratio = f"{mean(tt) / mean(td):.1f}×" if td and tt else "–"
        d_sps, t_sps = mean(map(sps, ds)), mean(map(sps, ts))
        last = mean(aucs(d)[-1] for d in ds) - mean(aucs(t)[-1] for t in ts)
        print(f"| {w} | {bs} | {d_sps:,.0f} | {t_sps:,.0f} | {d_sps / t_sps:.1f}× | "
              f"{mean(aucs(d)[0] for d in ds):.4f} | {mean(aucs(t)[0] for t in ts):.4f} | "
              f"{last:+.4f} | {target:.4f} | {fmt(td)} | {fmt(tt)} | {ratio} |")

if len(levels) > 1:
    print("\n## The library at each SIMD level (DIN_SIMD; gemm's products at the CPU's level)\n")
    print("| world | batch | " + " | ".join(f"{lv} samples/s" for lv in levels) + " | " +
          " | ".join(f"{lv} ÷ {lv0}" for lv in levels[1:]) + " |")
    print("|---|---|" + "---|" * (2 * len(levels) - 1))
    for w in worlds:
        for bs in batches:
            r = [mean(sps(din(w, bs, names[0], s, lv)) for s in seeds) for lv in levels]
            print(f"| {w} | {bs} | " + " | ".join(f"{x:,.0f}" for x in r) + " | " +
                  " | ".join(f"{x / r[0]:.2f}×" for x in r[1:]) + " |")

print(f"\n## Ablation: each difference from the defaults, one at a time (seed {seeds[0]}, level {lv0})\n")
for w in worlds:
    for bs in batches:
        t = torch(w, bs, seeds[0])
        n_ep = len(t["epochs"])
        print(f"\n### world `{w}`, batch {bs}: {t['train_rows']:,} training rows, {t['test_rows']:,} test rows\n")
        print("| run | settings | " + " | ".join(f"test AUC, epoch {k}" for k in range(1, n_ep + 1)) +
              " | epoch 1 vs PyTorch |")
        print("|---|---|" + "---|" * n_ep + "---|")
        print(f"| careful PyTorch DIN | bench/torch_din.py | {cell(aucs(t))} | |")
        for n in names:
            d = din(w, bs, n, seeds[0], lv0)
            print(f"| {n} | {settings[n] or '(the defaults)'} | {cell(aucs(d))} | {aucs(d)[0] - aucs(t)[0]:+.4f} |")
PY

# The results log: the tables above appended to RESULTS_LOG/<UTC date of the start>-parity.md
if [ -n "$RESULTS_LOG" ]; then
  . bench/results_log.sh
  results_log_entry parity
  {
    printf 'Settings: WORLDS="%s" BATCHES="%s" EPOCHS=%s SEEDS="%s" LEVELS="%s" VARIANTS=%s OUT=%s; %s min in all.\n' \
      "$WORLDS" "$BATCHES" "$EPOCHS" "$SEEDS" "$LEVELS" "$VARIANTS" "$OUT" "$((SECONDS / 60))"
    if [ "$RESULTS_REUSED" -gt 0 ]; then
      printf '%s of the %s result files were already in %s and were reused, not re-measured: their numbers come from an earlier run.\n' \
        "$RESULTS_REUSED" "$RESULTS_TOTAL" "$OUT"
    fi
    printf '\n'
    sed 's/^#/##/' "$OUT/table.md"
  } >> "$log_file"
  echo "results log: $log_file" >&2
fi
