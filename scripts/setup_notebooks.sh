#!/usr/bin/env bash
# One command, run once before a workshop: from a fresh clone (Rust and Python 3 only) to notebooks
# whose first cell runs without compiling candle, polars and plotters. Idempotent: a second run
# checks each phase and finishes in seconds. Prints each phase's time at the end.
#
#   scripts/setup_notebooks.sh            # Jupyter (with JupyterLab), evcxr, warm compile cache
#   NB_LAB=0 scripts/setup_notebooks.sh   # without JupyterLab (only what executing notebooks needs)
#
# Phases (timings on this project's 2-core machine: environment.md):
#   1. Jupyter in .venv-nb/ (pip: nbclient, nbconvert, ipykernel, jupyter_client; jupyterlab)
#   2. the evcxr kernel: `cargo install --locked evcxr_jupyter` (about 8-13 min on 2 cores)
#   3. the kernel registered in .venv-nb/share/jupyter, with release-like build settings
#   4. evcxr's compile cache (~/.cache/evcxr, `:cache` in every notebook's first cell) and the first
#      kernel's build folder (target/evcxr-notebooks/kernel-0) filled by executing the notebooks'
#      first cell once (the long part of a cold start: about 10-15 min)
#
# Afterwards: `.venv-nb/bin/jupyter lab notebooks/` (teacher's edition) or notebooks/student/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-nb
EVCXR_VERSION=${EVCXR_VERSION:-0.22.0}
export PATH="$HOME/.cargo/bin:$PATH"
export JUPYTER_PATH="$VENV/share/jupyter"
export JUPYTER_DATA_DIR="$VENV/share/jupyter"

declare -a SUMMARY=()
PHASE_T0=0
begin() { PHASE_T0=$(date +%s); echo "== [$1/4] $2"; }
finish() {
  local dt=$(( $(date +%s) - PHASE_T0 ))
  SUMMARY+=("$(printf '  [%s/4] %-48s %5d s  %s' "$1" "$2" "$dt" "$3")")
  echo "   done in $dt s ($3)"
}

# 1. Jupyter
begin 1 "Jupyter in .venv-nb"
what="already there"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  what="installed"
fi
PKGS=(nbclient nbformat nbconvert ipykernel jupyter_client)
MODS="import nbclient, nbformat, ipykernel, jupyter_client, nbconvert"
if [ "${NB_LAB:-1}" = 1 ]; then PKGS+=(jupyterlab); MODS="$MODS, jupyterlab"; fi
if ! "$VENV/bin/python" -c "$MODS" 2>/dev/null; then
  echo "   pip install ${PKGS[*]}"
  "$VENV/bin/python" -m pip install --quiet "${PKGS[@]}"
  what="installed"
fi
finish 1 "Jupyter in .venv-nb" "$what"

# 2. evcxr
begin 2 "evcxr_jupyter $EVCXR_VERSION"
what="already installed"
if ! command -v evcxr_jupyter >/dev/null 2>&1 || ! cargo install --list | grep -q "^evcxr_jupyter v$EVCXR_VERSION:"; then
  echo "   cargo install --locked evcxr_jupyter --version $EVCXR_VERSION (about 8-13 min on 2 cores; cargo shows its progress)"
  cargo install --locked evcxr_jupyter --version "$EVCXR_VERSION"
  what="installed"
fi
finish 2 "evcxr_jupyter $EVCXR_VERSION" "$what"

# 3. the kernel: scripts/evcxr_kernel.sh (evcxr_jupyter with a build folder per kernel slot that
#    outlives the kernel), with cargo profile settings that make the notebooks' code run at release speed
begin 3 "kernel 'rust' in $JUPYTER_PATH"
what="already registered"
if [ ! -f "$JUPYTER_PATH/kernels/rust/kernel.json" ]; then
  evcxr_jupyter --install >/dev/null
  what="registered"
fi
# evcxr compiles with its own `[profile.dev]` (opt-level 2 with debug assertions and overflow
# checks in every dependency): candle's inner loops then train ~4x slower. Cargo's CARGO_PROFILE_*
# variables override that profile; they go into the kernel's environment, so that every Jupyter
# started from this venv gets them.
"$VENV/bin/python" - "$JUPYTER_PATH/kernels/rust/kernel.json" "$ROOT/scripts/evcxr_kernel.sh" <<'PY'
import json, sys
path, launcher = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
env = spec.setdefault("env", {})
want = {
    "CARGO_PROFILE_DEV_OPT_LEVEL": "3",
    "CARGO_PROFILE_DEV_DEBUG_ASSERTIONS": "false",
    "CARGO_PROFILE_DEV_OVERFLOW_CHECKS": "false",
}
argv = [launcher, "--control_file", "{connection_file}"]
# scripts/kernel/din_warm_kernel.py: a prepared kernel waits for the next notebook (registered below)
provisioner = {"provisioner_name": "din-warm-evcxr", "config": {}}
meta = spec.setdefault("metadata", {})
if any(env.get(k) != v for k, v in want.items()) or spec.get("argv") != argv or meta.get("kernel_provisioner") != provisioner:
    env.update(want)
    spec["argv"] = argv
    meta["kernel_provisioner"] = provisioner
    json.dump(spec, open(path, "w"), indent=2)
    print("   kernel: " + launcher + "; environment: " + ", ".join(f"{k}={v}" for k, v in want.items())
          + "; provisioner din-warm-evcxr")
PY
# The warm-kernel provisioner and its server extension (scripts/kernel/din_warm_kernel.py), made
# importable in .venv-nb without a build: a .pth line, a dist-info with the provisioner's entry
# point, and the extension enabled in the venv's Jupyter server config.
"$VENV/bin/python" - "$ROOT/scripts/kernel" "$VENV" <<'PY'
import json, os, sys, sysconfig
src, venv = sys.argv[1], sys.argv[2]
site = sysconfig.get_paths()["purelib"]
open(os.path.join(site, "din_warm_kernel.pth"), "w").write(src + "\n")
info = os.path.join(site, "din_warm_kernel-1.0.dist-info")
os.makedirs(info, exist_ok=True)
open(os.path.join(info, "METADATA"), "w").write("Metadata-Version: 2.1\nName: din-warm-kernel\nVersion: 1.0\n")
open(os.path.join(info, "entry_points.txt"), "w").write(
    "[jupyter_client.kernel_provisioners]\ndin-warm-evcxr = din_warm_kernel:WarmEvcxrProvisioner\n")
conf = os.path.join(venv, "etc", "jupyter", "jupyter_server_config.d")
os.makedirs(conf, exist_ok=True)
json.dump({"ServerApp": {"jpserver_extensions": {"din_warm_kernel": True}}},
          open(os.path.join(conf, "din_warm_kernel.json"), "w"), indent=1)
PY
finish 3 "kernel 'rust' registered" "$what"

# 4. the compile cache: run the notebooks' first cell (their `:dep` lines) once in a kernel
begin 4 "evcxr compile cache (~/.cache/evcxr) and build folder target/evcxr-notebooks/kernel-0"
# entries of evcxr's cache that name files of deleted build folders make every cell rebuild ~50
# crates (scripts/evcxr_cache.py explains): drop them, the build below refills them
"$VENV/bin/python" scripts/evcxr_cache.py --delete | tail -1 | sed 's/^/   /'
BUILD0=$ROOT/target/evcxr-notebooks/kernel-0
# Offline mode and the start-up prelude are written by scripts/evcxr_kernel.sh into each build
# folder's own config (EVCXR_CONFIG_DIR). An evcxr.toml in a notebook folder would override it:
# earlier versions of this script wrote one there, so remove those.
for dir in notebooks notebooks/student; do
  if [ -f "$dir/evcxr.toml" ] && grep -q "Written by scripts/setup_notebooks.sh" "$dir/evcxr.toml"; then
    rm -f "$dir/evcxr.toml"
  fi
done
STAMP=$BUILD0/.din-setup-stamp
# the cache is warm for these exact :dep lines, this evcxr, these build settings and these sources
# of din-teach, din and din-kernels (after a `git pull` that changed them, running this script again
# recompiles din here, not in a notebook's first cell); scripts/evcxr_kernel.sh checks the same key
KEY=$("$VENV/bin/python" scripts/evcxr_stamp.py)
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/evcxr
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && [ -d "$CACHE_DIR" ] && [ -d "$BUILD0/target" ]; then
  what="already warm"
else
  echo "   compiling candle, polars, plotters and din inside evcxr once (about 10-15 min cold on 2 cores)"
  mkdir -p "$ROOT/target/evcxr-notebooks"
  # the fill itself must be free to download crates: no stamp, so the kernel runs online
  rm -f "$BUILD0/.din-setup-stamp" "$ROOT"/target/evcxr-notebooks/kernel-*/.din-setup-stamp
  if ! flock -n "$ROOT/target/evcxr-notebooks/kernel-0.lock" true 2>/dev/null && command -v flock >/dev/null; then
    echo "   a kernel holds target/evcxr-notebooks/kernel-0: close the notebooks (or their kernels) and run this again" >&2
    exit 1
  fi
  env -u EVCXR_TMPDIR "$VENV/bin/python" - <<'PY'
import sys, time
sys.path.insert(0, "scripts")
import make_notebooks, nbformat
from nbclient import NotebookClient
nb = nbformat.v4.new_notebook()
nb.cells = [
    nbformat.v4.new_code_cell(make_notebooks.SETUP),
    nbformat.v4.new_code_cell('use din_teach::prelude::*;\nlet m: ModelConfig = ModelConfig::default();\nprintln!("din is ready: embed_dim {}", m.embed_dim);'),
]
t0 = time.time()
# the kernel starts in notebooks/, where the notebooks' `:dep din-teach = { path = "../crates/din-teach" }` resolves
NotebookClient(nb, timeout=7200, kernel_name="rust", resources={"metadata": {"path": "notebooks"}}).execute()
for cell in nb.cells:
    for out in cell.get("outputs", []):
        text = out.get("text", "") or "".join(out.get("data", {}).get("text/plain", ""))
        if out.get("output_type") == "error" or "error" in text.lower():
            sys.exit(f"the first cell failed in the kernel:\n{out}")
print(f"   kernel compiled the notebooks' dependencies in {time.time() - t0:.0f} s:",
      "".join(o.get("text", "") for o in nb.cells[1].outputs).strip())
PY
  mkdir -p "$BUILD0" && echo "$KEY" > "$STAMP"
  what="filled"
fi
# A second notebook open at the same time runs in kernel-1 (scripts/evcxr_kernel.sh), and the spare
# kernel that waits for the next notebook (scripts/kernel/din_warm_kernel.py) in another: copies of
# the warm kernel-0 make their first cells as quick as the first notebook's (environment.md)
for n in 1 2; do
  BUILDN=$ROOT/target/evcxr-notebooks/kernel-$n
  if ! "$VENV/bin/python" scripts/evcxr_stamp.py --check "$BUILDN"; then
    if flock -n "$ROOT/target/evcxr-notebooks/kernel-$n.lock" true 2>/dev/null || ! command -v flock >/dev/null; then
      rm -rf "$BUILDN" && cp -a "$BUILD0" "$BUILDN" && rm -f "$BUILDN"/prelude-failed.log
      echo "   kernel-$n copied from kernel-0"
    fi
  fi
done
finish 4 "evcxr compile cache" "$what"

# Fonts (not a timed phase): JupyterLab draws Chinese with the browser's fonts. On a Linux desktop
# without a CJK font every Chinese character of the markdown and the printed output is a box (the
# figures carry their own glyphs). Then the figures' font (crates/din/assets: the notebooks'
# characters and the 3,755 common ones) goes into this user's fonts, where fontconfig (Chromium,
# Firefox) finds it; a full CJK font is better and the message names the package.
if [ "$(uname -s)" = Linux ] && command -v fc-list >/dev/null; then
  # a font with 注 and 意 (the shipped subset is too small for fontconfig's `:lang=zh`)
  if [ -z "$(fc-list ':charset=6ce8 610f' family)" ]; then
    FONT_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/fonts/din-figures-cjk
    mkdir -p "$FONT_DIR" && cp crates/din/assets/NotoSansCJKsc-DIN-subset.otf crates/din/assets/OFL.txt "$FONT_DIR/"
    fc-cache -f "$FONT_DIR" >/dev/null 2>&1 || true
    echo "== fonts: no CJK font was installed: the notebooks' Chinese font is now in $FONT_DIR"
    echo "   (for all of Chinese: sudo apt-get install fonts-noto-cjk, or your system's Noto Sans CJK package)"
  fi
  if [ -z "$(fc-list ':charset=2705' family)" ]; then
    echo "== fonts: no emoji font: the checks' marks ✅ ❌ show as boxes (their words 正确 · correct / 还不对 · not yet still show);"
    echo "   sudo apt-get install fonts-noto-color-emoji (Debian/Ubuntu) draws them"
  fi
fi
# JupyterLab's first start asks whether to fetch Jupyter news, over the notebook: not in a workshop
if [ "${NB_LAB:-1}" = 1 ]; then
  SETTINGS=$VENV/share/jupyter/lab/settings
  mkdir -p "$SETTINGS"
  "$VENV/bin/python" - "$SETTINGS/overrides.json" <<'PY'
import json, os, sys
path = sys.argv[1]
cfg = json.load(open(path)) if os.path.exists(path) else {}
cfg.setdefault("@jupyterlab/apputils-extension:notification", {}).update({"fetchNews": "false", "checkForUpdates": False})
json.dump(cfg, open(path, "w"), indent=2)
PY
fi

echo "== set up; phases:"
printf '%s\n' "${SUMMARY[@]}"
echo "Open the notebooks: $VENV/bin/jupyter lab notebooks/   (students: notebooks/student/)"
