#!/usr/bin/env python3
"""Time the start of every notebook as a workshop participant meets it: open, run the first cells.

For each notebook (default: all of notebooks/ and notebooks/student/), starts the registered evcxr
kernel `rust` (scripts/evcxr_kernel.sh, as Jupyter would) in the notebook's folder and executes its
code cells in order up to the first one after the imports that binds a value (`let`): the first
`din` result, for which rust-analyzer has to resolve din's names. Prints the kernel start (until
it answers Jupyter: with a prepared kernel this includes loading din-teach, the prelude), each
cell's time, and the notebook's time from opening to that cell. Nothing is written back.

  .venv-nb/bin/python scripts/time_first_cells.py                     # all notebooks, one at a time
  .venv-nb/bin/python scripts/time_first_cells.py notebooks/03_*.ipynb
  .venv-nb/bin/python scripts/time_first_cells.py --second notebooks/0[14]*.ipynb

With --second, every notebook after the first is timed while the first one's kernel still runs
(two notebooks open at once: the second kernel takes the build folder kernel-1). Run it with no
other kernel open (then the kernels take kernel-0 and kernel-1, the folders the setup warms). It
prints times and never fails on them (environment.md section 8 has the measured table).
"""
import glob
import os
import sys

# the kernel's own start is what this script times: no spare kernel waiting (scripts/kernel/din_warm_kernel.py)
os.environ.setdefault("DIN_WARM_KERNEL", "0")
import time

import nbformat
from nbclient import NotebookClient


def first_cells(nb):
    """Indices of the code cells up to the first one after the `imports` cell that binds a value."""
    out, seen_imports = [], False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        out.append(i)
        tags = cell.get("metadata", {}).get("tags", [])
        if seen_imports and "let " in cell.source:
            break
        seen_imports = seen_imports or "imports" in tags
    return out


def label(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    if tags:
        return tags[0]
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return first[:40]


def client_for(path, nb):
    return NotebookClient(nb, timeout=3600, startup_timeout=600,
                          kernel_name=os.environ.get("NB_KERNEL", "rust"),
                          resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})


def time_one(path):
    nb = nbformat.read(path, as_version=4)
    client = client_for(path, nb)
    t0 = time.time()
    times = []
    with client.setup_kernel():
        start = time.time() - t0
        for i in first_cells(nb):
            t = time.time()
            client.execute_cell(nb.cells[i], i)
            times.append((label(nb.cells[i]), time.time() - t))
    total = start + sum(dt for _, dt in times)
    cells = ", ".join(f"{name} {dt:.1f} s" for name, dt in times)
    print(f"{path}: kernel {start:.1f} s; {cells}; open to the first din result {total:.1f} s", flush=True)
    return path, start, times, total


def main(argv):
    second = "--second" in argv
    paths = [a for a in argv if a != "--second"]
    if not paths:
        paths = sorted(glob.glob("notebooks/[0-9]*.ipynb")) + sorted(glob.glob("notebooks/student/[0-9]*.ipynb"))
    rows = []
    if second:
        # the first notebook's kernel stays open (its first cells run) while each other one is timed
        first = paths[0]
        nb = nbformat.read(first, as_version=4)
        held = client_for(first, nb)
        with held.setup_kernel():
            for i in first_cells(nb):
                held.execute_cell(nb.cells[i], i)
            print(f"{first}: kept open in the first kernel", flush=True)
            for path in paths[1:]:
                rows.append(time_one(path))
    else:
        rows = [time_one(p) for p in paths]
    print("\nnotebook | kernel start | `:dep` cell | imports | each cell up to the first din result | open to first din result")
    print("---|---|---|---|---|---")
    for path, start, times, total in rows:
        setup = next((dt for name, dt in times if name == "setup"), float("nan"))
        imports = next((dt for name, dt in times if name == "imports"), float("nan"))
        cells = ", ".join(f"{dt:.1f}" for _, dt in times)
        print(f"{path} | {start:.1f} s | {setup:.1f} s | {imports:.1f} s | {cells} s | {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
