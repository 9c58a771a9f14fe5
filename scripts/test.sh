#!/usr/bin/env bash
# The project's test command (README, .ci/run): Rust tests, the kernels at every SIMD level, lints,
# then every notebook executed with the real evcxr kernel (scripts/run_notebooks.sh installs Jupyter
# and evcxr when missing), the HTML book, JupyterLab in a browser and the student pack.
#
#   SKIP_NOTEBOOKS=1 scripts/test.sh   # Rust only (e.g. while iterating)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== notebooks up to date with their sources (notebooks/src/*.rs → teacher's and student's editions)"
python3 scripts/make_notebooks.py --check

echo "== cargo test (release profile: dependencies are built once for tests and the CLI)"
cargo test --release --workspace

echo "== the kernels at every SIMD level (DIN_SIMD=avx512|avx2|base, and emulated AVX2 / baseline CPUs)"
scripts/simd_levels.sh

if [ "${SKIP_LINT:-0}" != 1 ]; then
  echo "== cargo fmt --check / clippy"
  if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check; fi
  if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --release --workspace --all-targets -- -D warnings
  fi
fi

if [ "${SKIP_NOTEBOOKS:-0}" != 1 ] && [ -x scripts/run_notebooks.sh ] && ls notebooks/*.ipynb >/dev/null 2>&1; then
  echo "== notebooks (evcxr kernel)"
  scripts/run_notebooks.sh
  echo "== the HTML book (nbconvert) opened in headless Chromium"
  scripts/book.sh --test
  echo "== JupyterLab as a participant uses it, in headless Chromium (scripts/lab_test.sh; installs JupyterLab when missing)"
  NB_LAB=1 scripts/setup_notebooks.sh | tail -n 6
  scripts/lab_test.sh
  echo "== the student pack: no solutions inside, its first cells run (scripts/test_student_pack.sh)"
  scripts/test_student_pack.sh
fi
echo "== all tests passed"
