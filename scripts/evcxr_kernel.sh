#!/usr/bin/env bash
# The notebooks' Jupyter kernel: evcxr_jupyter with a build folder that outlives the kernel.
# scripts/setup_notebooks.sh registers this script as the kernel "rust" of .venv-nb/.
#
# evcxr compiles every cell inside a cargo project of its own. By default that project lives in a
# fresh temporary folder per kernel, so every kernel start recompiles this repository's `din` and
# re-links its dependencies. Here each kernel takes the first free build folder of
# target/evcxr-notebooks/kernel-N (N = 0..7), locked with flock(1) for the kernel's lifetime:
# evcxr allows only one kernel per build folder (two kernels building in one folder break each
# other's builds), so a second notebook open at the same time gets kernel-1, and so on.
# kernel-0 is the one scripts/setup_notebooks.sh warms; the others warm up on first use.
#
# EVCXR_TMPDIR set by the caller wins (scripts/run_notebooks.sh NB_SHARED_BUILD=0 uses that).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EVCXR=${EVCXR_JUPYTER:-$HOME/.cargo/bin/evcxr_jupyter}
command -v "$EVCXR" >/dev/null 2>&1 || EVCXR=evcxr_jupyter
if [ -n "${EVCXR_TMPDIR:-}" ]; then
  exec "$EVCXR" "$@"
fi
BASE=${DIN_EVCXR_BUILD_ROOT:-$ROOT/target/evcxr-notebooks}
mkdir -p "$BASE"
if ! command -v flock >/dev/null 2>&1; then
  echo "evcxr_kernel.sh: flock(1) not found (util-linux); using $BASE/kernel-0 unlocked: open one notebook at a time" >&2
  export EVCXR_TMPDIR="$BASE/kernel-0"
  mkdir -p "$EVCXR_TMPDIR"
  exec "$EVCXR" "$@"
fi
for n in 0 1 2 3 4 5 6 7; do
  exec 9>"$BASE/kernel-$n.lock"
  if flock -n 9; then
    export EVCXR_TMPDIR="$BASE/kernel-$n"
    mkdir -p "$EVCXR_TMPDIR"
    # fd 9 stays open in evcxr (and its children): the lock lasts as long as the kernel
    exec "$EVCXR" "$@"
  fi
  exec 9>&-
done
echo "evcxr_kernel.sh: all 8 build folders in $BASE are in use by running kernels; using a temporary one" >&2
exec "$EVCXR" "$@"
