#!/usr/bin/env bash
# The static HTML book: the executed notebooks rendered by nbconvert to out/book/ (index.html in
# the tutorial's order, one page per notebook, figures inline, math as MathML, the shipped CJK
# font), readable without installing anything and without a network.
#
#   scripts/book.sh            # → out/book/index.html
#   scripts/book.sh --test     # and open every page in headless Chromium (scripts/test_book.py)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-nb
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import nbconvert, latex2mathml" 2>/dev/null; then
  echo "== installing nbconvert and latex2mathml into $VENV"
  "$VENV/bin/pip" install -q "nbconvert>=7,<8" "latex2mathml>=3.77,<4"
fi
"$VENV/bin/python" scripts/book.py out/book
if [ "${1:-}" = --test ]; then
  WHAT="the book's browser test"
  # shellcheck source=scripts/browser.sh
  source scripts/browser.sh
  "$VENV/bin/python" scripts/test_book.py out/book "$CHROMIUM"
fi
