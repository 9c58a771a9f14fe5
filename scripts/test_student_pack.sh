#!/usr/bin/env bash
# Test of the student pack (scripts/student_pack.sh): build it into a fresh folder outside the
# repository, open its archive in another fresh folder, and there
#   1. check with grep and find, independently of student_pack.py, that no `BEGIN SOLUTION` /
#      `END SOLUTION`, no answer cell, no teacher's notebook, sources or guide, no passed check (✅)
#      and no solution region of notebooks/src is inside, that exercise and check cells hold no
#      outputs, that the `:dep` path resolves inside the pack and the workspace resolves offline
#      with its lock unchanged;
#   2. check that student_pack.py --check refuses a pack with a solution or an output slipped in;
#   3. run notebook 1's first code cells, up to the first one that prints a `din` result, headless
#      with the evcxr kernel started by the pack's own scripts/evcxr_kernel.sh (a kernel spec in the
#      temporary folder: the repository's registered kernel would build the repository's din), and
#      fail on any error output.
# The first `:dep` cell in a new folder compiles din, din-kernels and din-teach inside evcxr (evcxr
# never caches path crates): 1-3 minutes on 2 cores with evcxr's cache (~/.cache/evcxr) warm, that
# is after scripts/setup_notebooks.sh. The kernel runs cargo offline, so crates resolve from this
# machine's registry cache as in the set-up (STUDENT_PACK_TEST_ONLINE=1: online).
#
#   scripts/test_student_pack.sh            # KEEP=1 keeps the temporary folder
#   scripts/test_student_pack.sh --rev HEAD # pack a commit instead of the working tree
#
# Needs: .venv-nb (nbclient) and evcxr_jupyter, i.e. scripts/setup_notebooks.sh run once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-nb
NB=${STUDENT_PACK_TEST_NOTEBOOK:-01_data.ipynb}
export PATH="$HOME/.cargo/bin:$PATH"
export DIN_WARM_KERNEL=0  # no spare kernel (scripts/kernel/din_warm_kernel.py) beside the one timed
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
fail() { echo "test_student_pack: FAILED: $*" >&2; exit 1; }

[ -x "$VENV/bin/python" ] || fail "no $VENV: run scripts/setup_notebooks.sh first"
[ -f "$VENV/share/jupyter/kernels/rust/kernel.json" ] || fail "no kernel 'rust' in $VENV: run scripts/setup_notebooks.sh first"
[ -f "$ROOT/target/evcxr-notebooks/kernel-0/.din-setup-stamp" ] ||
  echo "test_student_pack: warning: the set-up is not warm (no target/evcxr-notebooks/kernel-0/.din-setup-stamp): the first cell may compile candle and polars (15 min)" >&2

TMP=$(mktemp -d "${TMPDIR:-/tmp}/din-student-pack-test.XXXXXX")
case "$TMP" in "$ROOT"/*) fail "temporary folder $TMP is inside the repository";; esac
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/evcxr
mkdir -p "$TMP/cache-before"
ls "$CACHE" 2>/dev/null > "$TMP/cache-before/entries" || true
cleanup() {
  local rc=$?
  # entries evcxr added to its compile cache while building in $TMP name files there in their
  # dep-info: once $TMP is gone every later kernel would rebuild them and ~50 crates after them
  # (scripts/evcxr_cache.py). Remove the ones this test added, before $TMP goes.
  if [ -d "$CACHE" ]; then
    "$VENV/bin/python" - "$CACHE" "$TMP" "$TMP/cache-before/entries" <<'PY' || true
import os, shutil, sys
cache, tmp, before = sys.argv[1], sys.argv[2], set(open(sys.argv[3]).read().split())
new = [e for e in os.listdir(cache) if e not in before and os.path.isdir(os.path.join(cache, e))]
gone = []
for e in new:
    d = os.path.join(cache, e)
    if any(tmp in open(os.path.join(d, f), errors="replace").read() for f in os.listdir(d) if f.endswith((".d", "meta"))):
        shutil.rmtree(d, ignore_errors=True)
        gone.append(e)
print(f"test_student_pack: evcxr cache: {len(new)} entries added during the test, {len(gone)} of them naming the temporary folder removed")
PY
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "test_student_pack: kept $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT

# 1. build, then open the archive in a fresh folder
echo "== [1/4] scripts/student_pack.sh $* $TMP/build/din-student-pack"
scripts/student_pack.sh "$@" "$TMP/build/din-student-pack"
[ -f "$TMP/build/din-student-pack.tar.gz" ] || fail "no archive beside the pack"
mkdir "$TMP/open"
tar -xzf "$TMP/build/din-student-pack.tar.gz" -C "$TMP/open"
PACK=$TMP/open/din-student-pack
[ -f "$PACK/notebooks/student/$NB" ] || fail "the archive has no notebooks/student/$NB"
diff -r "$TMP/build/din-student-pack" "$PACK" >/dev/null || fail "the archive differs from the pack folder"
T_BUILD=$(elapsed)

# 2. what must not be inside (checked here with grep/find, not with student_pack.py)
echo "== [2/4] absence checks in $PACK"
if grep -rIlF -e 'BEGIN SOLUTION' -e 'END SOLUTION' -e '[markdown answer]' "$PACK"; then
  fail "solution markers or answer cells in the files above"
fi
if grep -rlF '✅' "$PACK/notebooks"; then fail "a passed check (the teacher's verdict) in the notebooks above"; fi
bad=$(cd "$PACK" && find . \( -path ./notebooks/src -o -name TEACHING.md -o -name '.ipynb_checkpoints' \
        -o -path './notebooks/*.ipynb' -a ! -path './notebooks/student/*' \
        -o -path ./out -o -path ./runs -o -path ./target -o -path ./.venv-nb -o -path ./notebooks/Cargo.toml \) -print)
[ -z "$bad" ] || fail "teacher-only paths in the pack: $bad"
n=$(find "$PACK/notebooks/student" -name '[0-9][0-9]_*.ipynb' | wc -l)
[ "$n" -ge 6 ] || fail "only $n student notebooks in the pack"
# whole solution regions of notebooks/src (each region's lines, consecutive) in any notebook cell
"$VENV/bin/python" - "$ROOT/notebooks/src" "$PACK" <<'PY' || fail "see above"
import glob, json, os, re, sys
src, pack = sys.argv[1], sys.argv[2]
regions = []
for f in sorted(glob.glob(os.path.join(src, "*.rs"))):
    cur = None
    for l in open(f, encoding="utf-8"):
        if re.match(r"\s*// BEGIN SOLUTION\s*$", l): cur = []
        elif re.match(r"\s*// END SOLUTION\s*$", l): regions.append(cur); cur = None
        elif cur is not None and l.strip(): cur.append(l.strip())
bad = []
nbs = sorted(glob.glob(os.path.join(pack, "**", "*.ipynb"), recursive=True))
for p in nbs:
    nb = json.load(open(p, encoding="utf-8"))
    for i, c in enumerate(nb["cells"]):
        tags = c.get("metadata", {}).get("tags", [])
        if c["cell_type"] == "code" and ("exercise" in tags or "check" in tags) and (c.get("outputs") or c.get("execution_count") is not None):
            bad.append(f"{p} cell {i} ({tags[0]}): holds outputs")
        lines = [l.strip() for l in "".join(c["source"]).split("\n") if l.strip()]
        for r in regions:
            if r and any(lines[j:j + len(r)] == r for j in range(len(lines) - len(r) + 1)):
                bad.append(f"{p} cell {i}: a solution region of notebooks/src ({r[0][:50]})")
for b in bad: print("  " + b)
print(f"   {len(nbs)} notebooks: no exercise/check outputs, none of {len(regions)} solution regions" if not bad else "")
sys.exit(1 if bad else 0)
PY
dep=$(grep -ho ':dep din-teach = { path = \\"[^\\]*' "$PACK/notebooks/student/$NB" | sed 's/.*path = \\"//')
[ -n "$dep" ] || fail "no :dep din-teach line in $NB"
target=$(cd "$PACK/notebooks/student" && cd "$dep" 2>/dev/null && pwd -P) || fail ":dep path $dep does not resolve"
[ "$target" = "$(cd "$PACK" && pwd -P)/crates/din-teach" ] || fail ":dep path $dep resolves to $target, outside the pack's crates/din-teach"
# every script the pack's set-up names (the kernel, its stamp and cache helpers, the warm-kernel
# provisioner it registers) is inside the pack
for s in $(grep -o 'scripts/[A-Za-z0-9_./-]*' "$PACK/scripts/setup_notebooks.sh" | sort -u); do
  [ -e "$PACK/$s" ] || fail "the pack's scripts/setup_notebooks.sh names $s, which the pack lacks"
done
HOST=$(rustc -vV | sed -n 's/^host: //p')
cp "$PACK/Cargo.lock" "$TMP/lock-before"
(cd "$PACK" && cargo metadata --locked --offline --format-version 1 --filter-platform "$HOST" >/dev/null) ||
  fail "the pack's workspace does not resolve offline with its lock"
cmp -s "$PACK/Cargo.lock" "$TMP/lock-before" || fail "cargo changed the pack's Cargo.lock"
echo "   no solution markers, answers, passed checks or teacher-only paths; :dep $dep -> crates/din-teach of the pack; workspace resolves (locked, offline)"

# the refusal: a solution or an output slipped into a copy of the pack
cp -a "$PACK" "$TMP/bad1" && printf '\n// BEGIN SOLUTION\n' >> "$TMP/bad1/crates/din-teach/src/lib.rs"
cp -a "$PACK" "$TMP/bad2" && "$VENV/bin/python" - "$TMP/bad2/notebooks/student/$NB" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1], encoding="utf-8"))
cell = next(c for c in nb["cells"] if "exercise" in c.get("metadata", {}).get("tags", []))
cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["42\n"]}]
json.dump(nb, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
PY
for b in bad1 bad2; do
  if python3 scripts/student_pack.py --check "$TMP/$b" >/dev/null 2>"$TMP/$b.err"; then
    fail "student_pack.py --check accepted a pack with $( [ $b = bad1 ] && echo 'BEGIN SOLUTION in a crate' || echo 'an output under an exercise cell')"
  fi
  echo "   refused as it should: $(head -1 "$TMP/$b.err" | sed 's/^ *//')"
done
T_CHECKS=$(elapsed)

# 3. the first cells of one notebook, in the opened pack, with the pack's own kernel script
echo "== [3/4] first cells of notebooks/student/$NB with the evcxr kernel (pack's scripts/evcxr_kernel.sh)"
mkdir -p "$TMP/jupyter/kernels/rust-student-pack"
"$VENV/bin/python" - "$VENV/share/jupyter/kernels/rust/kernel.json" "$PACK/scripts/evcxr_kernel.sh" \
    "$TMP/jupyter/kernels/rust-student-pack/kernel.json" <<'PY'
import json, os, sys
spec = json.load(open(sys.argv[1]))
spec["argv"] = [sys.argv[2], "--control_file", "{connection_file}"]
spec["display_name"] = "Rust (student pack test)"
if os.environ.get("STUDENT_PACK_TEST_ONLINE") != "1":
    spec.setdefault("env", {})["CARGO_NET_OFFLINE"] = "true"
json.dump(spec, open(sys.argv[3], "w"), indent=2)
PY
RC=0
env -u EVCXR_TMPDIR -u DIN_EVCXR_BUILD_ROOT -u DIN_KERNEL_PRELUDE -u DIN_FULL_CSV \
  JUPYTER_PATH="$TMP/jupyter" JUPYTER_DATA_DIR="$TMP/jupyter-data" \
  "$VENV/bin/python" - "$PACK/notebooks/student/$NB" "$PACK" "$ROOT/scripts" "$TMP/kernel.log" <<'PY' || RC=$?
import os, sys, time
import nbformat
from nbclient import NotebookClient
path, pack, scripts, log = sys.argv[1:5]
sys.path.insert(0, scripts)
from run_notebooks import BAD  # the same error patterns as scripts/run_notebooks.py
from time_first_cells import first_cells  # the cells up to din's first result

nb = nbformat.read(path, as_version=4)
cells = first_cells(nb)
for i in cells:
    nb.cells[i].outputs = []
client = NotebookClient(nb, timeout=900, startup_timeout=300, kernel_name="rust-student-pack",
                        allow_errors=True, resources={"metadata": {"path": os.path.dirname(path)}})
t0 = time.time()
problems, times = [], []
# the kernel's own output (cargo's `Compiling …` lines while the `:dep` cell builds) goes to a log
with open(log, "w") as klog, client.setup_kernel(stdout=klog, stderr=klog):
    start = time.time() - t0
    print(f"   kernel started in {start:.1f} s", flush=True)
    for i in cells:
        c = nb.cells[i]
        name = (c.get("metadata", {}).get("tags") or [c.source.strip().splitlines()[0][:40]])[0]
        t = time.time()
        client.execute_cell(c, i)
        dt = time.time() - t
        times.append((name, dt))
        text = ""
        for o in c.outputs:
            if o.output_type == "error":
                problems.append(f"cell {i} ({name}): {o.ename}: {o.evalue}")
            s = o.get("text", "") if o.output_type == "stream" else "".join(o.get("data", {}).get("text/plain", ""))
            text += s
            if BAD.search(s):
                problems.append(f"cell {i} ({name}): {s[:800]}")
        print(f"   cell {i:2d} {name:<40} {dt:6.1f} s  {text.strip().splitlines()[0][:90] if text.strip() else ''}", flush=True)
last = "".join(o.get("text", "") for o in nb.cells[cells[-1]].outputs if o.output_type == "stream")
if "数据 data:" not in last:
    problems.append(f"the last cell run (cell {cells[-1]}) printed no `数据 data:` line: {last[:300]!r}")
# enter_repo_root() in cell 5 must have moved to the pack (din-teach compiled from the pack's crates)
if not os.path.exists(os.path.join(pack, "out", "notebooks", "demo.csv")) and not os.path.exists(os.path.join(pack, "data", "amazon_electronics_sample.csv")):
    problems.append("the notebook wrote no out/notebooks/demo.csv in the pack: did enter_repo_root() leave the pack?")
for p in problems:
    print("   PROBLEM " + p)
total = start + sum(dt for _, dt in times)
print(f"   open to the first din result: {total:.1f} s (kernel {start:.1f} s, `:dep` cell "
      f"{next((dt for n, dt in times if n == 'setup'), float('nan')):.1f} s)")
sys.exit(1 if problems else 0)
PY
if [ "$RC" != 0 ]; then
  echo "--- the kernel's output (cargo, evcxr), last 40 lines of $TMP/kernel.log:" >&2
  tail -40 "$TMP/kernel.log" >&2
  fail "the first cells did not run cleanly (above)"
fi
[ -d "$PACK/target/evcxr-notebooks/kernel-0" ] || fail "the kernel did not build in the pack's target/evcxr-notebooks/kernel-0"
T_CELLS=$(elapsed)

echo "== [4/4] passed: pack built and opened in $T_BUILD s, checks $(( T_CHECKS - T_BUILD )) s, first cells $(( T_CELLS - T_CHECKS )) s; total $(elapsed) s"
