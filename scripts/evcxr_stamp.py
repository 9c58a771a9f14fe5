#!/usr/bin/env python3
"""The key of a prepared evcxr build folder (target/evcxr-notebooks/kernel-N/.din-setup-stamp).

A build folder is warm for one exact set of inputs: the notebooks' setup cell (`:cache` and the
`:dep` line, scripts/make_notebooks.py), the evcxr_jupyter binary, the build settings, and the
sources of the path crates that the kernel compiles itself (evcxr's cache keeps only registry
crates): din-teach, din and din-kernels. scripts/setup_notebooks.sh writes the key after it filled
the folder; scripts/evcxr_kernel.sh loads din-teach at kernel start (evcxr's prelude) only when the
key still matches, so a `git pull` that changed the sources never makes a kernel compile din before
it answers Jupyter.

  python3 scripts/evcxr_stamp.py              # prints the key (16 hex digits)
  python3 scripts/evcxr_stamp.py --check DIR  # exit 0 when DIR/.din-setup-stamp holds it
"""
import hashlib
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STAMP = ".din-setup-stamp"
CRATES = ("crates/din-teach", "crates/din", "crates/din-kernels")


def key():
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_notebooks  # noqa: E402

    h = hashlib.sha256((make_notebooks.SETUP + "opt3 kernel-slots prelude").encode())
    evcxr = os.environ.get("EVCXR_JUPYTER") or shutil.which("evcxr_jupyter") \
        or str(pathlib.Path.home() / ".cargo/bin/evcxr_jupyter")
    if os.path.exists(evcxr):
        st = os.stat(evcxr)
        h.update(f"{evcxr} {st.st_size} {int(st.st_mtime)}".encode())
    for crate in CRATES:
        # what cargo compiles into the library: its manifest, build script, sources and assets
        # (not tests/, examples/ or benches/: editing a test must not make kernels stale)
        files = [ROOT / crate / "Cargo.toml", ROOT / crate / "build.rs"]
        for sub in ("src", "assets"):
            files += sorted((ROOT / crate / sub).rglob("*"))
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(ROOT)).encode())
                h.update(f.read_bytes())
    # the workspace's dependency versions and features (not Cargo.lock: evcxr's crate has its own)
    h.update((ROOT / "Cargo.toml").read_bytes())
    return h.hexdigest()[:16]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        stamp = pathlib.Path(sys.argv[2]) / STAMP
        sys.exit(0 if stamp.is_file() and stamp.read_text().strip() == key() else 1)
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    print(key())


if __name__ == "__main__":
    main()
