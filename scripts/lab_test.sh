#!/usr/bin/env bash
# The notebooks in JupyterLab, used as a participant uses them, in headless Chromium
# (scripts/test_lab.py says what it does): open a notebook and run it cell by cell, solve a
# student exercise right and then wrong, Run All on a teacher's notebook, look for figures,
# errors and Chinese drawn as boxes. Timings and screenshots in out/lab/ (lab.json).
#
#   scripts/lab_test.sh                     # after scripts/setup_notebooks.sh
#   LAB_REQUIRE_CJK=0 scripts/lab_test.sh   # Chinese drawn as boxes: reported, not a failure
#
# JupyterLab listens on 127.0.0.1 only (a free port, a random token passed in the environment,
# not on the command line), with the notebooks/ folder as its root; its settings and workspace
# live in a temporary folder (the news/update notification and autosave off: the test never writes
# the committed notebooks), and the server is stopped on exit. Needs Chromium (installed with apt
# when missing and run as root, like scripts/book.sh) and playwright in .venv-nb (installed when
# missing; it drives that Chromium, no browser download).
#
# Environment: LAB_REQUIRE_CJK (default 1), LAB_FIRST / LAB_EXERCISE_NB / LAB_RUN_ALL (the
# notebooks of parts a, b, c), LAB_TEST_TIMEOUT (seconds for the whole browser test, default 1200).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-nb
KERNEL_SPEC=$VENV/share/jupyter/kernels/rust/kernel.json
if [ ! -x "$VENV/bin/jupyter-lab" ] || [ ! -f "$KERNEL_SPEC" ]; then
  echo "no JupyterLab or no evcxr kernel 'rust' in $VENV: run scripts/setup_notebooks.sh first" >&2
  exit 1
fi
if [ ! -f "$ROOT/target/evcxr-notebooks/kernel-0/.din-setup-stamp" ]; then
  echo "warning: the evcxr build folder is not prepared (scripts/setup_notebooks.sh did not finish): the first cells will compile din for minutes" >&2
fi

WHAT="the JupyterLab test"
# shellcheck source=scripts/browser.sh
source scripts/browser.sh

# the kernel's environment, as scripts/run_notebooks.sh sets it
export PATH="$HOME/.cargo/bin:$PATH"
export JUPYTER_PATH="$VENV/share/jupyter"
export JUPYTER_DATA_DIR="$VENV/share/jupyter"

OUT=$ROOT/out/lab
rm -rf "$OUT"
mkdir -p "$OUT"
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true   # the server shuts its kernels down
    for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# JupyterLab's settings for this run only: no "get Jupyter news?" question and no update check
# (schema @jupyterlab/apputils-extension:notification of JupyterLab 4), no autosave
mkdir -p "$TMP/settings/@jupyterlab/apputils-extension" "$TMP/settings/@jupyterlab/docmanager-extension" \
  "$TMP/workspaces" "$TMP/config"
echo '{"fetchNews": "false", "checkForUpdates": false}' \
  > "$TMP/settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
echo '{"autosave": false}' > "$TMP/settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"

PORT=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')
URL="http://127.0.0.1:$PORT"
echo "== JupyterLab on $URL (root notebooks/; log out/lab/server.log)"
# JUPYTER_CONFIG_DIR: no user configuration of ~/.jupyter changes what is tested
ROOT_OK=()
if [ "$(id -u)" = 0 ]; then ROOT_OK=(--ServerApp.allow_root=True); fi  # containers, CI
JUPYTER_TOKEN=$TOKEN JUPYTER_CONFIG_DIR=$TMP/config "$VENV/bin/jupyter-lab" --no-browser \
  --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0 \
  --ServerApp.root_dir="$ROOT/notebooks" \
  --LabApp.user_settings_dir="$TMP/settings" --LabApp.workspaces_dir="$TMP/workspaces" \
  "${ROOT_OK[@]}" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do
  if "$VENV/bin/python" - "$URL" "$TOKEN" 2>/dev/null <<'PY'
import sys, urllib.request
r = urllib.request.Request(sys.argv[1] + "/api/status", headers={"Authorization": "token " + sys.argv[2]})
urllib.request.urlopen(r, timeout=2)
PY
  then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "JupyterLab exited; its log:" >&2; tail -20 "$OUT/server.log" >&2; exit 1
  fi
  sleep 0.5
done

set +e
LAB_TOKEN=$TOKEN LAB_SERVER_LOG=$OUT/server.log LAB_OUT=$OUT \
  timeout "${LAB_TEST_TIMEOUT:-1200}" "$VENV/bin/python" scripts/test_lab.py "$URL" "$CHROMIUM"
rc=$?
set -e
if [ "$rc" = 124 ]; then echo "JupyterLab test: timed out after ${LAB_TEST_TIMEOUT:-1200} s" >&2; fi
if [ "$rc" = 0 ]; then
  # the server's spare kernels go with it, then the warm kernel's own test (restart, two at once)
  kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
  echo "== the warm kernel (scripts/kernel/din_warm_kernel.py): two notebooks at once, a restart, the other edition"
  JUPYTER_CONFIG_DIR=$TMP/config timeout 900 "$VENV/bin/python" scripts/test_warm_kernel.py
  rc=$?
fi
exit "$rc"
