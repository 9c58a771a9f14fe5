#!/usr/bin/env python3
"""Time the start of every notebook as a workshop participant meets it: open, run the first cells.

For each notebook (default: all of notebooks/ and notebooks/student/), starts the registered evcxr
kernel `rust` (scripts/evcxr_kernel.sh, as Jupyter would) in the notebook's folder and executes its
code cells in order up to and including the first cell after the imports, the first that runs this
project's code. Prints the kernel start, each cell's time, and the notebook's time to that cell.
Nothing is written back to the notebooks. Run scripts/setup_notebooks.sh first; run it with no
other kernel building in target/evcxr-notebooks/kernel-0 (then this uses kernel-1, a colder folder).

  .venv-nb/bin/python scripts/time_first_cells.py                     # all notebooks
  .venv-nb/bin/python scripts/time_first_cells.py notebooks/03_*.ipynb

It prints times and never fails on them (issue 19: the `:dep` cell of a prepared machine in
<= 15 s; environment.md has the measured table).
"""
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient


def first_cells(nb):
    """Indices of the code cells up to the first one after the `imports` cell."""
    out, seen_imports = [], False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        out.append(i)
        tags = cell.get("metadata", {}).get("tags", [])
        if seen_imports:
            break
        seen_imports = "imports" in tags
    return out


def label(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    if tags:
        return tags[0]
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return first[:40]


def main(paths):
    if not paths:
        paths = sorted(glob.glob("notebooks/[0-9]*.ipynb")) + sorted(glob.glob("notebooks/student/[0-9]*.ipynb"))
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=3600, kernel_name=os.environ.get("NB_KERNEL", "rust"),
                                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        t0 = time.time()
        times = []
        with client.setup_kernel():
            start = time.time() - t0
            for i in first_cells(nb):
                t = time.time()
                client.execute_cell(nb.cells[i], i)
                times.append((label(nb.cells[i]), time.time() - t))
        total = start + sum(dt for _, dt in times)
        rows.append((path, start, times, total))
        cells = ", ".join(f"{name} {dt:.1f} s" for name, dt in times)
        print(f"{path}: kernel {start:.1f} s; {cells}; to the first cell of the notebook's own code {total:.1f} s", flush=True)
    print("\nnotebook | kernel start | `:dep` cell (setup) | first code cell using din | total")
    print("---|---|---|---|---")
    for path, start, times, total in rows:
        setup = next((dt for name, dt in times if name == "setup"), float("nan"))
        print(f"{path} | {start:.1f} s | {setup:.1f} s | {times[-1][1]:.1f} s | {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
