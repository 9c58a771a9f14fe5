#!/usr/bin/env bash
# Times README's first command as a new user meets it: a fresh clone of this repository's HEAD
# (cargo's download cache in ~/.cargo is shared: a machine that never built anything also
# downloads the crates), then `cargo run --release -p din-cli -- tutorial` from a cold build.
# Writes out/figures/first_command.json (scripts/figures.py puts it into README's table) and keeps
# the clone's path in it, so that `bash .ci/run` can follow in the same clone.
#
#   scripts/time_first_command.sh            # clone into a temporary folder
#   CLONE=/tmp/fresh scripts/time_first_command.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CLONE=${CLONE:-$(mktemp -d /tmp/din-fresh-XXXXXX)}
rm -rf "$CLONE"
git clone -q "$ROOT" "$CLONE"
cd "$CLONE"
echo "== $CLONE: cargo run --release -p din-cli -- tutorial --json (cold build)"
t0=$SECONDS
cargo run --release -p din-cli -- tutorial --json | tee "$CLONE/tutorial.log" | tail -n 1 > "$CLONE/tutorial.json"
total=$((SECONDS - t0))
mkdir -p "$ROOT/out/figures"
python3 - "$total" "$CLONE" "$ROOT/scripts" > "$ROOT/out/figures/first_command.json" <<'PY'
import json, os, sys
total, clone = int(sys.argv[1]), sys.argv[2]
sys.path.insert(0, sys.argv[3])
from figures import measured_on
report = json.load(open(os.path.join(clone, "tutorial.json")))
load = open("/proc/loadavg").read().split()[:3]
print(json.dumps({"command": "cargo run --release -p din-cli -- tutorial", **measured_on(clone), "load_at_end": load,
                  "total_s": total, "tutorial_s": round(report["seconds"], 1),
                  "din_test_auc": report["din_test_auc"], "base_test_auc": report["base_test_auc"],
                  "clone": clone}, indent=1))
PY
cat "$ROOT/out/figures/first_command.json"
