#!/usr/bin/env bash
# Execute every notebook in notebooks/ in place with the evcxr Rust kernel, through Jupyter
# (nbclient), and leave the outputs in the files: the committed notebooks are this script's output.
# Fails on any error output; prints each notebook's wall time.
#
# Installs what is missing first, with scripts/setup_notebooks.sh (idempotent, see environment.md):
# Jupyter in .venv-nb/, evcxr_jupyter 0.22 registered as the kernel `rust`, evcxr's compile cache.
# (JupyterLab is left out here unless NB_LAB=1.)
#
#   scripts/run_notebooks.sh                       # all notebooks
#   scripts/run_notebooks.sh notebooks/03_*.ipynb  # some
#
# Environment: NB_MAX_SECONDS (per-notebook budget after the first, default 180 s: a warning, or a
# failure with NB_STRICT_TIME=1),
# NB_CELL_TIMEOUT (seconds, default 3600), EVCXR_VERSION (default 0.22.0), NB_SHARED_BUILD=0 to
# give the kernels a fresh temporary build folder (evcxr's default without scripts/evcxr_kernel.sh).
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

# 1. Jupyter, the evcxr kernel and its compile cache (idempotent: seconds once done)
NB_LAB=${NB_LAB:-0} scripts/setup_notebooks.sh
export PATH="$HOME/.cargo/bin:$PATH"
export JUPYTER_PATH="$VENV/share/jupyter"
export JUPYTER_DATA_DIR="$VENV/share/jupyter"
# no spare kernel waiting for the next notebook (scripts/kernel/din_warm_kernel.py): its start would
# compete with the notebook being executed and timed
export DIN_WARM_KERNEL=0

# 2. the kernel (scripts/evcxr_kernel.sh) builds in target/evcxr-notebooks/kernel-N, the first
#    free slot: the notebooks run one after another in kernel-0, which setup_notebooks.sh warmed,
#    so `din` is compiled there once, not once per kernel (evcxr never caches path crates).
#    NB_SHARED_BUILD=0 gives every kernel a fresh temporary build folder instead (evcxr's default).
if [ "${NB_SHARED_BUILD:-1}" = 0 ]; then
  EVCXR_TMPDIR=$(mktemp -d)
  export EVCXR_TMPDIR
fi

mkdir -p out/notebooks
# notebook 2 saves the tutorial's trained DIN here and notebook 3 loads it (din_teach::tutorial::cached_din);
# start without it, so that the outputs always come from the library as it is now
rm -rf out/notebooks/tutorial_din
echo "== executing ${#NOTEBOOKS[@]} notebooks with the evcxr kernel"
"$VENV/bin/python" scripts/run_notebooks.py "${NOTEBOOKS[@]}"
if [ "$#" -eq 0 ]; then
  # the student edition keeps the teacher's outputs outside the exercises: derive it anew
  python3 scripts/make_notebooks.py --student
fi
