#!/usr/bin/env python3
"""Execute notebooks in place with the evcxr Rust kernel (called by scripts/run_notebooks.sh).

Usage: run_notebooks.py NOTEBOOK.ipynb...

Each notebook runs top to bottom in a fresh kernel started in its own folder; outputs are written
back into the file. Fails (exit 1) when a cell errors, when any output is an error or mentions a
compile error, or a failed exercise check (❌). A notebook that runs longer than NB_MAX_SECONDS (default 180, 0 = no limit; the
first notebook is exempt, since it builds the dependencies) gets a warning, or fails with
NB_STRICT_TIME=1. Prints each notebook's wall time.
"""
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

# evcxr prints compile errors as stream/error output; these patterns mark a failed cell too.
# A failed exercise check (din_teach::exercises::Verdict) in the teacher's edition is a failure too.
BAD = re.compile(r"^(error(\[E\d+\])?:|thread '.*' panicked|Error: |❌ )", re.M)


def bad_outputs(nb):
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append((i, out.get("ename", "") + ": " + out.get("evalue", "")))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                if BAD.search(text):
                    problems.append((i, text[:500]))
            elif out.get("output_type") in ("execute_result", "display_data"):
                text = out.get("data", {}).get("text/plain", "")
                if isinstance(text, list):
                    text = "".join(text)
                if BAD.search(text):
                    problems.append((i, text[:500]))
    return problems


def main(paths):
    limit = float(os.environ.get("NB_MAX_SECONDS", "180"))
    cell_timeout = int(os.environ.get("NB_CELL_TIMEOUT", "3600"))
    kernel = os.environ.get("NB_KERNEL", "rust")
    failed = []
    times = []
    for k, path in enumerate(paths):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=cell_timeout,
            kernel_name=kernel,
            allow_errors=False,
            record_timing=True,
            # a prepared kernel loads din-teach before it answers (scripts/evcxr_kernel.sh): ~20 s
            # idle, more on a busy machine; nbclient's default of 60 s is too tight for CI
            startup_timeout=600,
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        t0 = time.time()
        err = None
        try:
            client.execute()
        except CellExecutionError as e:
            err = str(e)[:2000]
        except Exception as e:  # kernel died, timeout, ...
            err = f"{type(e).__name__}: {e}"[:2000]
        wall = time.time() - t0
        nbformat.write(nb, path)
        problems = bad_outputs(nb)
        status = "ok"
        if err or problems:
            status = "FAILED"
        elif limit > 0 and k > 0 and wall > limit:
            # a busy machine can push a notebook over its budget: a warning unless NB_STRICT_TIME=1
            status = f"ok, but over the {limit:.0f} s budget"
            if os.environ.get("NB_STRICT_TIME") == "1":
                status = f"TOO SLOW (limit {limit:.0f} s)"
        print(f"{path}: {wall:7.1f} s  {status}", flush=True)
        times.append((path, wall))
        if err:
            print(err, file=sys.stderr)
        for i, p in problems:
            print(f"  cell {i}: {p}", file=sys.stderr)
        if not status.startswith("ok"):
            failed.append(path)
    print("wall time per notebook:")
    for path, wall in times:
        print(f"  {wall:7.1f} s  {path}")
    print(f"  {sum(w for _, w in times):7.1f} s  total")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
