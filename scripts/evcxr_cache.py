#!/usr/bin/env python3
"""Repair evcxr's compile cache (~/.cache/evcxr): drop entries that can only cause rebuilds.

evcxr 0.22's cache (`:cache`) keys a compiled crate by rustc's arguments with the build folder
replaced by a placeholder, but stores rustc's dep-info (`.d`) file as it was written, with absolute
paths into the build folder that filled the entry. A crate whose sources include a generated file
(`include!(concat!(env!("OUT_DIR"), ...))`: serde, serde_core, thiserror, rustversion, pulp, snap
in the notebooks' tree) then carries, in its cached dep-info, a path into the OUT_DIR of that first
build folder. Once that folder is gone (evcxr's default: a temporary folder per kernel), cargo finds
the input missing in every later build, recompiles the crate (a cache hit, but still), and with it
every crate that depends on it: about 50 crates up to polars, candle and din, in every cell. Measured
on this project's 2-core machine: ~3 s added to every cell and ~25 s to a notebook's `:dep` cell.

This script deletes those entries and every entry compiled against one of them (found through the
`--extern` arguments in each entry's `meta`): a stale crate is recompiled with a new crate hash
(SVH), and a cached dependent of the old one then fails with E0460 "found possibly newer version of
crate". The next build in a kernel's build folder refills them with paths into that folder
(scripts/evcxr_kernel.sh keeps one per kernel slot that outlives the kernel, so they stay valid).

  python3 scripts/evcxr_cache.py            # list stale entries
  python3 scripts/evcxr_cache.py --delete   # delete them (scripts/setup_notebooks.sh does this)
  python3 scripts/evcxr_cache.py --delete --crate pulp-e5661019c5d9daa9   # and that crate's
"""
import os
import shutil
import sys


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "evcxr")


def stale_entries(cache):
    """(entry, dep-info file, missing input) for every entry whose dep-info names a missing input."""
    out = []
    if not os.path.isdir(cache):
        return out
    for entry in sorted(os.listdir(cache)):
        d = os.path.join(cache, entry)
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            if not f.endswith(".d"):
                continue
            missing = None
            with open(os.path.join(d, f), errors="replace") as fh:
                for line in fh:
                    line = line.rstrip("\n")
                    # rustc's dep-info lists every input once more on a line of its own: "path:"
                    if line.startswith("/") and line.endswith(":") and not os.path.exists(line[:-1]):
                        missing = line[:-1]
                        break
            if missing:
                out.append((entry, f, missing))
                break
    return out


def artifacts(cache, entry):
    """File names this entry provides (libfoo-HASH.rlib, .rmeta, .so)."""
    return {f for f in os.listdir(os.path.join(cache, entry)) if f.startswith("lib")}


def dependents(cache, roots, crates=()):
    """Every entry that, directly or through others, was compiled against an entry in `roots` or a
    crate named in `crates` ("name-HASH", as in its file names)."""
    externs = {}
    for entry in os.listdir(cache):
        meta = os.path.join(cache, entry, "meta")
        if os.path.isfile(meta):
            with open(meta, errors="replace") as fh:
                externs[entry] = {os.path.basename(l.strip().split("=", 1)[-1]) for l in fh if "=<target_dir>/" in l}
    gone = set(roots)
    names = set().union(*(artifacts(cache, e) for e in gone)) if gone else set()
    for ext in externs.values():
        names |= {n for n in ext if any(n.startswith("lib" + c + ".") for c in crates)}
    changed = True
    while changed:
        changed = False
        for entry, ext in externs.items():
            if entry not in gone and ext & names:
                gone.add(entry)
                names |= artifacts(cache, entry)
                changed = True
    return gone - set(roots)


def main(argv):
    cache = cache_dir()
    stale = stale_entries(cache)
    for entry, f, missing in stale:
        print(f"  stale: {entry}/{f} names missing {missing}")
    roots = {entry for entry, _, _ in stale}
    # --crate NAME-HASH: treat that crate's entries as stale too (after a partial repair)
    for i, a in enumerate(argv):
        if a == "--crate" and i + 1 < len(argv) and os.path.isdir(cache):
            roots |= {e for e in os.listdir(cache) if os.path.isdir(os.path.join(cache, e))
                      and any(f.startswith("lib" + argv[i + 1] + ".") for f in artifacts(cache, e))}
    crates = [argv[i + 1] for i, a in enumerate(argv) if a == "--crate" and i + 1 < len(argv)]
    deps = dependents(cache, roots, crates) if roots or crates else set()
    what = f"{len(roots)} stale entries and {len(deps)} compiled against them"
    if "--delete" in argv:
        for entry in roots | deps:
            shutil.rmtree(os.path.join(cache, entry), ignore_errors=True)
        print(f"evcxr cache {cache}: deleted {what}")
    else:
        print(f"evcxr cache {cache}: {what} (--delete removes them)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
