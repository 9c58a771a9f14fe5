#!/usr/bin/env bash
# The student pack: one folder (and an archive beside it) with the student edition of the
# notebooks and everything they need to run, without the teacher's solutions.
#
#   scripts/student_pack.sh                     # out/student-pack/ and out/student-pack.tar.gz
#   scripts/student_pack.sh /tmp/din-pack       # /tmp/din-pack/ and /tmp/din-pack.tar.gz
#   scripts/student_pack.sh --rev HEAD OUT_DIR  # from a commit instead of the working tree
#   scripts/student_pack.sh --check OUT_DIR     # only the checks, on a pack folder or .tar.gz
#
# It copies notebooks/student/ as it is (derive it first: python3 scripts/make_notebooks.py
# --student; a notebook that differs from what that derives now gets a warning), the crates din,
# din-kernels, din-teach and din-cli, the workspace's Cargo.toml/Cargo.lock without the
# teacher's notebooks crate, data/README.md, environment.md and the set-up and kernel scripts,
# and writes the pack's README (中文 / English). It refuses (exit 1, nothing written) when a packed
# file holds `BEGIN SOLUTION` or an answer cell, an exercise or check cell holds outputs, or a
# `:dep` path leads outside the pack. scripts/student_pack.py has the details;
# scripts/test_student_pack.sh opens the archive in a fresh folder and runs notebook 1's first cells.
set -euo pipefail
exec python3 "$(dirname "$0")/student_pack.py" "$@"
