#!/usr/bin/env python3
"""README's table of current figures, made from the files the measuring commands write.

    python3 scripts/figures.py            # print the table
    python3 scripts/figures.py --write    # put it into README.md between its two markers

Sources (a row whose source is missing is left out, and the script says which):
  out/figures/first_command.json  scripts/time_first_command.sh (fresh clone: cold build + tutorial)
  out/figures/test_phases.json    scripts/test.sh (each phase's wall time; `bash .ci/run` in a fresh
                                  clone for the figure a new machine sees: copy the clone's file here)
  out/figures/setup_from_nothing.json  scripts/time_setup_from_nothing.sh (the notebooks' set-up, empty HOME)
  out/lab/lab.json                scripts/lab_test.sh (JupyterLab in headless Chromium)
  notebooks/*.ipynb               the committed, executed notebooks (their cells' execution times)
  bench/README.md                 its "Current table" (bench/parity.sh)

README's rows name the machine; the results log (bench/results/<date>-figures.md, appended by --write)
keeps each row's commit and date too. Standard library only.
"""
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BEGIN = "<!-- figures: made by scripts/figures.py --write; do not edit by hand -->"
END = "<!-- end of figures -->"


def load(rel):
    path = os.path.join(ROOT, rel)
    try:
        return json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError):
        return None


def mins(s):
    m, s = divmod(int(round(s)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def measured_on(repo=ROOT):
    """Where and when a measurement is taken, as the measuring scripts record it in their JSON (the
    fields `where` reads): `repo`'s commit, today's date (UTC), the CPU's name and its cores."""
    cpu = platform.processor() or "unknown"
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), cpu)
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"commit": rev, "date": time.strftime("%Y-%m-%d", time.gmtime()), "cpu": cpu, "cores": os.cpu_count()}


def where(src, full):
    """The machine in README; the commit and date too in the results log (`full`). A source's
    `note` (e.g. what ran beside it) follows the machine."""
    machine = f"{src.get('cpu', '?')}, {src.get('cores', '?')} cores"
    if src.get("note"):
        machine += f" ({src['note']})"
    return machine if not full else f"{machine}, commit {src.get('commit', '?')}, {src.get('date', '?')}"


def notebook_seconds():
    """Wall time of each committed notebook: first cell's start to last cell's end."""
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "notebooks", "0*.ipynb"))):
        nb = json.load(open(path, encoding="utf-8"))
        starts, ends = [], []
        for c in nb["cells"]:
            ex = c.get("metadata", {}).get("execution", {})
            a, b = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
            if a and b:
                starts.append(datetime.fromisoformat(a.replace("Z", "+00:00")))
                ends.append(datetime.fromisoformat(b.replace("Z", "+00:00")))
        if starts:
            out[os.path.basename(path)] = (max(ends) - min(starts)).total_seconds()
    return out


def parity_ratio():
    """din samples/s ÷ PyTorch samples/s over the rows of bench/README.md's current table."""
    text = open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8").read()
    sec = text.split("## Current table", 1)[-1].split("\n## ", 1)[0]
    ratios, cols = [], None
    for line in sec.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "din samples/s" in cells and "PyTorch samples/s" in cells:  # the table's header
            cols = (cells.index("din samples/s"), cells.index("PyTorch samples/s"))
            continue
        if cols is None:
            continue
        if not line.strip().startswith("|"):
            break  # the end of that table (the page may have others below it)
        din, torch = (cells[i] if i < len(cells) else "" for i in cols)
        if re.fullmatch(r"[\d,]+", din) and re.fullmatch(r"[\d,]+", torch):
            ratios.append(int(din.replace(",", "")) / int(torch.replace(",", "")))
    measured = re.search(r"Measured (\S+), commit (\w+)", sec)
    return ratios, measured.groups() if measured else ("?", "?")


def rows(full=False):
    """The table's rows; `full`: for the results log, with commits and dates (README has neither)."""
    out, missing = [], []
    first = load("out/figures/first_command.json")
    if first:
        out.append(("the first command in a fresh clone (cold release build, then the tutorial)",
                    f"{mins(first['total_s'])}; the tutorial {first['tutorial_s']:.0f} s of it "
                    f"(DIN test AUC {first['din_test_auc']:.4f}, base {first['base_test_auc']:.4f})",
                    where(first, full), "`scripts/time_first_command.sh`"))
    else:
        missing.append("out/figures/first_command.json (scripts/time_first_command.sh)")
    phases = load("out/figures/test_phases.json")
    if phases and not phases.get("skip_notebooks"):
        p = phases["phases_s"]
        detail = ", ".join(f"{k} {mins(v)}" for k, v in p.items())
        out.append(("the second command (the tests)", f"{mins(phases['total_s'])}: {detail}",
                    where(phases, full), "`scripts/test.sh`"))
    else:
        missing.append("out/figures/test_phases.json of a full run (scripts/test.sh)")
    setup = load("out/figures/setup_from_nothing.json")
    if setup and setup.get("phases"):
        names = {"Jupyter": "Jupyter", "evcxr_jupyter": "evcxr", "evcxr compile cache": "compile cache and kernel-0"}
        detail = ", ".join(f"{short} {mins(ph['seconds'])}" for ph in setup["phases"]
                           for key, short in names.items() if ph["phase"].startswith(key))
        out.append(("the notebooks' set-up from nothing", f"{mins(setup['total_s'])}: {detail}",
                    where(setup, full), "`scripts/time_setup_from_nothing.sh`"))
    else:
        missing.append("out/figures/setup_from_nothing.json (scripts/time_setup_from_nothing.sh)")
    lab = load("out/lab/lab.json")
    if lab and lab.get("notebooks"):
        parts = []
        for e in lab["notebooks"]:
            bits = [f"→ idle {e['click_to_kernel_idle_s']:.0f} s"] if e.get("click_to_kernel_idle_s") else []
            if e.get("click_to_first_result_s"):
                bits.append(f"→ first result {e['click_to_first_result_s']:.0f} s")
            if e.get("median_cell_s"):
                bits.append(f"median cell {e['median_cell_s']:.1f} s")
            if e.get("median_library_cell_s"):
                bits.append(f"a cell that only calls the library {e['median_library_cell_s']:.2f} s (median)")
            parts.append(f"{e['notebook']} ({e['edition']}): " + ", ".join(bits))
        out.append(("a prepared notebook in JupyterLab, from the click", "; ".join(parts),
                    f"{where(lab, full)}; headless Chromium, {lab.get('total_s', 0):.0f} s in all"
                    + ("" if lab.get("passed") else ", test FAILED"), "`scripts/lab_test.sh`"))
    else:
        missing.append("out/lab/lab.json (scripts/lab_test.sh)")
    nbs = notebook_seconds()
    if nbs:
        each = ", ".join(f"{k[:2]} {v:.0f} s" for k, v in nbs.items())
        out.append(("the six notebooks' cells top to bottom (kernel start excluded)", f"{mins(sum(nbs.values()))} ({each})",
                    "the committed notebooks' own execution times", "`scripts/run_notebooks.sh`"))
    ratios, (date, commit) = parity_ratio()
    if ratios:
        out.append(("training vs a careful PyTorch DIN on the same rows",
                    f"{min(ratios):.1f}–{max(ratios):.1f}× the samples/s (4 worlds × batches)",
                    "bench/README.md, current table" + (f": commit {commit}, {date}" if full else ""),
                    "`bench/parity.sh`"))
    return out, missing


def table(full=False):
    out, missing = rows(full)
    lines = [BEGIN, "| what | time | measured on | command |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in out]
    lines.append(END)
    return "\n".join(lines), missing


def main(argv):
    text, missing = table()
    for m in missing:
        print(f"figures.py: no {m}: its row is left out", file=sys.stderr)
    if "--write" not in argv:
        print(text)
        return 0
    path = os.path.join(ROOT, "README.md")
    readme = open(path, encoding="utf-8").read()
    if BEGIN not in readme or END not in readme:
        print(f"figures.py: README.md has no markers {BEGIN!r} … {END!r}", file=sys.stderr)
        return 1
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    open(path, "w", encoding="utf-8").write(head + text + tail)
    # the same rows with their commits and dates go to the results log
    full, _ = table(full=True)
    day = datetime.now().strftime("%Y-%m-%d")
    log = os.path.join(ROOT, "bench", "results", f"{day}-figures.md")
    new = not os.path.exists(log)
    with open(log, "a", encoding="utf-8") as f:
        if new:
            f.write(f"# {day}: README's current figures\n\nAppended by `python3 scripts/figures.py --write`, newest last.\n")
        f.write(f"\n## {datetime.now().strftime('%H:%M')}\n\n" + "\n".join(full.splitlines()[1:-1]) + "\n")
    print(f"figures.py: README.md's table rewritten; with commits and dates in {os.path.relpath(log, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
