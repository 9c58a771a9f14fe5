#!/usr/bin/env bash
# The notebooks' Jupyter kernel: evcxr_jupyter with a build folder that outlives the kernel, and
# the notebooks' dependency loaded while the kernel starts.
# scripts/setup_notebooks.sh registers this script as the kernel "rust" of .venv-nb/.
#
# Build folders. evcxr compiles every cell inside a cargo project of its own. By default that
# project lives in a fresh temporary folder per kernel, so every kernel start recompiles this
# repository's `din` and re-links its dependencies. Here each kernel takes the first free build
# folder of target/evcxr-notebooks/kernel-N (N = 0..7), locked with flock(1) for the kernel's
# lifetime: evcxr allows only one kernel per build folder (two kernels building in one folder break
# each other's builds), so a second notebook open at the same time gets kernel-1, and so on.
# scripts/setup_notebooks.sh warms kernel-0 and kernel-1; the others warm up on first use.
#
# Start-up work (evcxr's `prelude`, environment.md section 8). When the folder is warm for the
# current sources (scripts/evcxr_stamp.py), the kernel runs the notebooks' `:dep din-teach` line
# and one `use din_teach::prelude::*;` with a `let` before it answers Jupyter: the dependency graph
# is loaded and rust-analyzer has resolved din's names while the learner reads the introduction,
# and the notebook's own `:dep` cell then finds the same dependency already there. Otherwise (not
# prepared, or sources changed since the setup) there is no prelude: the notebook's `:dep` cell does
# the work itself, and its first cell says so. If evcxr fails in the prelude, this script starts it
# again without one (the log is kept, the notebook's first cell prints where), so a broken
# preparation never leaves a kernel that does not start.
#
# The kernel's environment tells the notebook what happened: DIN_KERNEL_PRELUDE = loaded |
# failed | stale | unprepared, and DIN_KERNEL_PRELUDE_LOG = the failed run's log.
#
# EVCXR_TMPDIR set by the caller wins (scripts/run_notebooks.sh NB_SHARED_BUILD=0 uses that), and
# DIN_KERNEL_PRELUDE=off switches the start-up work off.
set -uo pipefail
ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
EVCXR=${EVCXR_JUPYTER:-$HOME/.cargo/bin/evcxr_jupyter}
command -v "$EVCXR" >/dev/null 2>&1 || EVCXR=evcxr_jupyter
# candle's element-wise pool on the calling thread: see din::tune_process (1.2-1.3x faster training)
export CANDLE_NUM_THREADS=${CANDLE_NUM_THREADS:-1}
BASE=${DIN_EVCXR_BUILD_ROOT:-$ROOT/target/evcxr-notebooks}

# The cells' own crate (evcxr names it `ctx`) at opt-level 0, every dependency (din, candle,
# polars) at the kernel's opt-level 3 (kernel.json): a cell's crate repeats every item and variable
# of the session, and optimising it (LLVM and its local ThinLTO across 16 codegen units) was most of
# a late cell's rustc time (environment.md section 8, "Where a cell's second goes"). A package
# override outranks CARGO_PROFILE_DEV_OPT_LEVEL and cannot be given in the environment, so it goes
# into a cargo config above the build folders (evcxr rewrites each folder's own .cargo/config.toml).
# DIN_CELL_OPT_LEVEL=3 compiles the cells optimised again (for a hot loop written in a cell).
write_cell_profile() {
  local want level=${DIN_CELL_OPT_LEVEL:-0}
  case "$level" in
    0|1|2|3) ;;
    *) echo "evcxr_kernel.sh: DIN_CELL_OPT_LEVEL=$level is not 0, 1, 2 or 3; the cells compile at opt-level 0" >&2
       level=0 ;;
  esac
  want="# Written by scripts/evcxr_kernel.sh (not in git): the cells' crate at opt-level $level
[profile.dev.package.ctx]
opt-level = $level"
  if [ "$(cat "$BASE/.cargo/config.toml" 2>/dev/null)" != "$want" ]; then
    # written aside and renamed: a kernel building at this moment reads the old file or the new one
    mkdir -p "$BASE/.cargo" && printf '%s\n' "$want" > "$BASE/.cargo/config.toml.$$" \
      && mv -f "$BASE/.cargo/config.toml.$$" "$BASE/.cargo/config.toml"
  fi
}
PYTHON=python3
[ -x "$ROOT/.venv-nb/bin/python" ] && PYTHON=$ROOT/.venv-nb/bin/python

# Writes $1/evcxr.toml: offline mode once the setup has downloaded every crate, and the prelude
# when $2 = prelude. evcxr reads it from EVCXR_CONFIG_DIR (a notebook folder's own evcxr.toml,
# which older setups wrote, would take precedence: the setup removes those).
write_config() {
  mkdir -p "$1"
  {
    echo "# Written by scripts/evcxr_kernel.sh at kernel start (not in git)."
    echo "[evcxr]"
    if [ -f "$BASE/kernel-0/.din-setup-stamp" ]; then echo "offline_mode = true"; fi
    if [ "$2" = prelude ]; then
      # the same text as the notebooks' setup cell (scripts/make_notebooks.py SETUP) with the
      # canonical path that evcxr makes of the notebooks' relative one: identical `:dep` text is
      # not added twice
      echo "prelude = '''"
      echo ":cache 4000"
      echo ":dep din-teach = { path = \"$ROOT/crates/din-teach\", features = [\"png\"] }"
      echo "use din_teach::prelude::*;"
      echo "let din_teach_prelude_loaded: ModelConfig = ModelConfig::default();"
      echo "'''"
    fi
  } > "$1/evcxr.toml"
}

start() {  # start evcxr for build folder $1 (empty: a temporary one)
  local slot=$1 conf mode=unprepared
  shift
  if [ -n "$slot" ]; then
    conf="$slot/.evcxr-config"
    if [ "${DIN_KERNEL_PRELUDE:-}" = off ]; then
      mode=off
    elif "$PYTHON" "$ROOT/scripts/evcxr_stamp.py" --check "$slot" 2>/dev/null; then
      mode=loaded
    elif [ -f "$slot/.din-setup-stamp" ]; then
      mode=stale
    fi
  else
    conf=$(mktemp -d)
  fi
  if [ "$mode" = loaded ]; then write_config "$conf" prelude; else write_config "$conf" none; fi
  export EVCXR_CONFIG_DIR=$conf DIN_KERNEL_PRELUDE=$mode
  if [ "$mode" != loaded ]; then
    exec "$EVCXR" "$@"
  fi
  # a foreground child (Jupyter signals the whole process group: interrupts reach evcxr)
  local log="$slot/prelude-failed.log"
  "$EVCXR" "$@" 2> >(tee "$log.tmp" >&2)
  local rc=$?
  if [ "$rc" = 0 ]; then rm -f "$log.tmp"; exit 0; fi
  mv -f "$log.tmp" "$log"
  echo "evcxr_kernel.sh: evcxr exited ($rc) while loading the prelude; log: $log." \
    "Starting it again without a prelude; run scripts/setup_notebooks.sh to prepare the kernel again." >&2
  write_config "$conf" none
  export DIN_KERNEL_PRELUDE=failed DIN_KERNEL_PRELUDE_LOG=$log
  exec "$EVCXR" "$@"
}

write_cell_profile
if [ -n "${EVCXR_TMPDIR:-}" ]; then
  start "$EVCXR_TMPDIR" "$@"
fi
if ! command -v flock >/dev/null 2>&1; then
  echo "evcxr_kernel.sh: flock(1) not found (util-linux); using $BASE/kernel-0 unlocked: open one notebook at a time" >&2
  export EVCXR_TMPDIR="$BASE/kernel-0"
  mkdir -p "$EVCXR_TMPDIR"
  start "$EVCXR_TMPDIR" "$@"
fi
for n in 0 1 2 3 4 5 6 7; do
  exec 9>"$BASE/kernel-$n.lock"
  if flock -n 9; then
    export EVCXR_TMPDIR="$BASE/kernel-$n"
    mkdir -p "$EVCXR_TMPDIR"
    # fd 9 stays open in evcxr (and its children): the lock lasts as long as the kernel
    start "$EVCXR_TMPDIR" "$@"
  fi
  exec 9>&-
done
echo "evcxr_kernel.sh: all 8 build folders in $BASE are in use by running kernels; using a temporary one" >&2
start "" "$@"
