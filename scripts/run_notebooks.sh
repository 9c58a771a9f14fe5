#!/usr/bin/env bash
# Execute every notebook in notebooks/ in place with the evcxr Rust kernel, through Jupyter
# (nbclient), and leave the outputs in the files: the committed notebooks are this script's output.
# Fails on any error output; prints each notebook's wall time.
#
# Installs what is missing (idempotent, see environment.md):
#   * Jupyter (nbclient, nbformat, nbconvert, ipykernel, jupyter_client) in .venv-nb/ (PyPI);
#   * evcxr_jupyter 0.22 (`cargo install --locked`, ~12 min on a 2-core machine), registered as
#     the kernel `rust` inside .venv-nb/share/jupyter.
#
#   scripts/run_notebooks.sh                       # all notebooks
#   scripts/run_notebooks.sh notebooks/03_*.ipynb  # some
#
# Environment: NB_MAX_SECONDS (per-notebook budget after the first, default 180 s: a warning, or a
# failure with NB_STRICT_TIME=1),
# NB_CELL_TIMEOUT (seconds, default 3600), EVCXR_VERSION (default 0.22.0), NB_SHARED_BUILD=0 to
# give every kernel a fresh build folder (as in an interactive session).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-nb
EVCXR_VERSION=${EVCXR_VERSION:-0.22.0}

if [ "$#" -gt 0 ]; then
  NOTEBOOKS=("$@")
else
  NOTEBOOKS=(notebooks/[0-9]*.ipynb)
fi

# 1. Jupyter in a virtual environment
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import nbclient, nbformat, ipykernel, jupyter_client, nbconvert" 2>/dev/null; then
  echo "== installing Jupyter (nbclient, nbconvert, ipykernel, jupyter_client) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet nbclient nbformat nbconvert ipykernel jupyter_client
fi

# 2. the evcxr kernel
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v evcxr_jupyter >/dev/null 2>&1 || ! cargo install --list | grep -q "^evcxr_jupyter v$EVCXR_VERSION:"; then
  echo "== installing evcxr_jupyter $EVCXR_VERSION (cargo install --locked; ~12 min on 2 cores)"
  t0=$(date +%s)
  cargo install --locked evcxr_jupyter --version "$EVCXR_VERSION"
  echo "   evcxr_jupyter installed in $(( $(date +%s) - t0 )) s"
fi
export JUPYTER_PATH="$VENV/share/jupyter"
export JUPYTER_DATA_DIR="$VENV/share/jupyter"
if [ ! -f "$JUPYTER_PATH/kernels/rust/kernel.json" ]; then
  echo "== registering the evcxr kernel in $JUPYTER_PATH"
  evcxr_jupyter --install
fi
# evcxr compiles everything with its own `[profile.dev]` (opt-level 2 with debug assertions and
# overflow checks on, in every dependency): candle's inner loops then train ~7× slower than a
# release build. Cargo's CARGO_PROFILE_* variables override that profile; put them in the kernel's
# environment, so that Jupyter sessions started from this venv get them too.
"$VENV/bin/python" - "$JUPYTER_PATH/kernels/rust/kernel.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
env = spec.setdefault("env", {})
want = {
    "CARGO_PROFILE_DEV_OPT_LEVEL": "3",
    "CARGO_PROFILE_DEV_DEBUG_ASSERTIONS": "false",
    "CARGO_PROFILE_DEV_OVERFLOW_CHECKS": "false",
}
if any(env.get(k) != v for k, v in want.items()):
    env.update(want)
    json.dump(spec, open(path, "w"), indent=2)
    print("   kernel environment: " + ", ".join(f"{k}={v}" for k, v in want.items()))
PY

# 3. one build folder for all kernels (run one at a time): crate din is then compiled once, not
#    once per kernel (evcxr never caches path dependencies). Notebooks also set `:cache`, which
#    shares the compiled registry dependencies between kernels (and interactive sessions).
if [ "${NB_SHARED_BUILD:-1}" = 1 ]; then
  # (outside the repository: cargo would take it for a stray member of the workspace; and not
  # under ~/.cache: there evcxr's first dlopen failed on this project's machines)
  export EVCXR_TMPDIR="${TMPDIR:-/tmp}/din-notebooks-evcxr-$(id -u)"
  mkdir -p "$EVCXR_TMPDIR"
fi

mkdir -p out/notebooks
# notebook 2 saves the tutorial's trained DIN here and notebook 3 loads it (din::tutorial::cached_din);
# start without it, so that the outputs always come from the library as it is now
rm -rf out/notebooks/tutorial_din
echo "== executing ${#NOTEBOOKS[@]} notebooks with the evcxr kernel"
"$VENV/bin/python" scripts/run_notebooks.py "${NOTEBOOKS[@]}"
