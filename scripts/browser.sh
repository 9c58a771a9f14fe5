# Sourced by scripts/book.sh --test and scripts/lab_test.sh: Debian's Chromium (installed with apt
# when missing and run as root) and playwright in $VENV to drive it (no browser download).
# Sets CHROMIUM; when there is none and it cannot be installed, says why and exits 0 (skipped).
# Needs VENV and WHAT (what the browser is for, for the messages).
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's chromium (headless browser for $WHAT)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
  CHROMIUM=$(command -v chromium || true)
fi
if [ -z "$CHROMIUM" ]; then
  echo "SKIPPED: $WHAT needs Chromium (apt-get install chromium as root); none here and it cannot be installed"
  exit 0
fi
if ! "$VENV/bin/python" -c "import playwright" 2>/dev/null; then
  echo "== installing playwright into $VENV (drives $CHROMIUM; no browser download)"
  "$VENV/bin/pip" install -q "playwright>=1.40,<2"
fi
