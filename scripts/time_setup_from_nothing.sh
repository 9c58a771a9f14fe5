#!/usr/bin/env bash
# Times `scripts/setup_notebooks.sh` from nothing, as on a new machine that has only Rust and
# Python 3: a fresh clone of HEAD, an empty HOME (no ~/.cargo registry or installed evcxr, no pip
# cache, no ~/.cache/evcxr, no fonts), this machine's Rust toolchain on PATH. It samples /proc/stat
# every second and reports, per phase, how busy the cores were (what overlapping phases could gain).
# Writes out/figures/setup_from_nothing.json.
#
#   scripts/time_setup_from_nothing.sh          # in /tmp/din-setup-XXXXXX; the folder is kept
#   WORK=/tmp/s scripts/time_setup_from_nothing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$(mktemp -d /tmp/din-setup-XXXXXX)}
rm -rf "$WORK" && mkdir -p "$WORK/home"
git clone -q "$ROOT" "$WORK/clone"
TOOLCHAIN=$(dirname "$(rustup which cargo)")
STAT=$WORK/cpu.log
# jiffies: busy and total, one line a second
( while :; do
    read -r _ u n s i w q sq st _ < /proc/stat
    echo "$(date +%s.%N) $((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
    sleep 1
  done > "$STAT" ) &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT
cd "$WORK/clone"
t0=$(date +%s.%N)
env -i HOME="$WORK/home" PATH="$TOOLCHAIN:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
  RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" TERM=dumb \
  bash -c 'scripts/setup_notebooks.sh 2>&1' | while IFS= read -r line; do
    printf '%s %s\n' "$(date +%s.%N)" "$line"
  done | tee "$WORK/setup.log" | cut -d' ' -f2-
t1=$(date +%s.%N)
kill $SAMPLER 2>/dev/null || true
mkdir -p "$ROOT/out/figures"
python3 - "$WORK" "$t0" "$t1" "$ROOT/scripts" > "$ROOT/out/figures/setup_from_nothing.json" <<'PY'
import json, os, re, sys
work, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from figures import measured_on
samples = [tuple(map(float, l.split())) for l in open(os.path.join(work, "cpu.log")) if len(l.split()) == 3]
def busy(a, b):
    """share of both cores' time busy between a and b (from the one-second samples)"""
    inside = [s for s in samples if a <= s[0] <= b]
    if len(inside) < 2:
        return None
    return round((inside[-1][1] - inside[0][1]) / (inside[-1][2] - inside[0][2]), 3)
starts, phases = [], []
for line in open(os.path.join(work, "setup.log")):
    stamp, _, text = line.rstrip("\n").partition(" ")
    m = re.match(r"== \[(\d)/4\] (.*)", text)
    if m:
        starts.append((float(stamp), m.group(2)))
    m = re.match(r"\s+done in (\d+) s \((.*)\)", text)
    if m and starts:
        a, name = starts[-1]
        phases.append({"phase": name, "seconds": int(m.group(1)), "what": m.group(2),
                       "cores_busy": busy(a, float(stamp))})
note = "fresh clone, empty HOME: crates downloaded, evcxr compiled; cores busy {:.0%}".format(busy(t0, t1) or 0)
print(json.dumps({"command": "scripts/time_setup_from_nothing.sh", **measured_on(os.path.join(work, "clone")), "note": note,
                  "total_s": round(t1 - t0), "cores_busy": busy(t0, t1), "phases": phases,
                  "work": work}, indent=1))
PY
cat "$ROOT/out/figures/setup_from_nothing.json"
