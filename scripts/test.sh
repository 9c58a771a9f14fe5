#!/usr/bin/env bash
# The project's test command (README, .ci/run): Rust tests, the kernels at every SIMD level, lints,
# then every notebook executed with the real evcxr kernel (scripts/run_notebooks.sh installs Jupyter
# and evcxr when missing), the HTML book, JupyterLab in a browser and the student pack.
#
#   SKIP_NOTEBOOKS=1 scripts/test.sh   # Rust only (e.g. while iterating)
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's wall time goes to out/figures/test_phases.json at the end (scripts/figures.py makes
# README's table of current figures from it).
PHASES=() PHASE_NAME="" PHASE_T0=$SECONDS T_START=$SECONDS
phase() {  # phase NAME: the previous phase ends, NAME begins
  if [ -n "$PHASE_NAME" ]; then PHASES+=("$PHASE_NAME=$((SECONDS - PHASE_T0))"); fi
  PHASE_NAME=$1 PHASE_T0=$SECONDS
}
write_phases() {
  phase ""
  mkdir -p out/figures
  python3 - "$((SECONDS - T_START))" "${PHASES[@]}" > out/figures/test_phases.json <<'PY'
import json, os, sys
sys.path.insert(0, "scripts")
from figures import measured_on
phases = dict(p.split("=", 1) for p in sys.argv[2:])
print(json.dumps({"command": "scripts/test.sh", **measured_on("."), "total_s": int(sys.argv[1]),
                  "phases_s": {k: int(v) for k, v in phases.items()},
                  "skip_notebooks": os.environ.get("SKIP_NOTEBOOKS", "0") == "1"}, indent=1))
PY
}

phase "notebook sources"
echo "== notebooks up to date with their sources (notebooks/src/*.rs → teacher's and student's editions)"
python3 scripts/make_notebooks.py --check

phase "cargo test"
echo "== cargo test (release profile: dependencies are built once for tests and the CLI)"
cargo test --release --workspace

phase "SIMD levels"
echo "== the kernels at every SIMD level (DIN_SIMD=avx512|avx2|base, and emulated AVX2 / baseline CPUs)"
scripts/simd_levels.sh

if [ "${SKIP_LINT:-0}" != 1 ]; then
  phase "fmt and clippy"
  echo "== cargo fmt --check / clippy"
  if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check; fi
  if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --release --workspace --all-targets -- -D warnings
  fi
fi

if [ "${SKIP_NOTEBOOKS:-0}" != 1 ] && [ -x scripts/run_notebooks.sh ] && ls notebooks/*.ipynb >/dev/null 2>&1; then
  phase "notebooks"
  echo "== notebooks (evcxr kernel)"
  scripts/run_notebooks.sh
  phase "HTML book"
  echo "== the HTML book (nbconvert) opened in headless Chromium"
  scripts/book.sh --test
  phase "JupyterLab test"
  echo "== JupyterLab as a participant uses it, in headless Chromium (scripts/lab_test.sh; installs JupyterLab when missing)"
  NB_LAB=1 scripts/setup_notebooks.sh | tail -n 6
  scripts/lab_test.sh
  phase "student pack"
  echo "== the student pack: no solutions inside, its first cells run (scripts/test_student_pack.sh)"
  scripts/test_student_pack.sh
fi
write_phases
echo "== all tests passed ($((SECONDS - T_START)) s; phases in out/figures/test_phases.json)"
