#!/usr/bin/env python3
"""What evcxr's rust-analyzer reads for the notebooks' `:dep` lines: packages, .rs files, MB.

evcxr 0.22 loads the whole `cargo metadata` graph of its cell crate into rust-analyzer (every
package's source files, compiled or not: cargo's weak features list crates that are never built).
This builds the same kind of throwaway crate with the given `:dep` lines (default: the notebooks'
setup cell from scripts/make_notebooks.py), runs `cargo metadata --offline` on it and sums the
`.rs` files under each package's folder. environment.md section 8 has the measured table.

  python3 scripts/dep_graph_size.py                 # the notebooks' current :dep lines
  python3 scripts/dep_graph_size.py --deps 'din = { path = "crates/din" }' ...
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def notebook_deps():
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_notebooks  # noqa: E402

    deps = []
    for line in make_notebooks.SETUP.splitlines():
        if line.startswith(":dep "):
            dep = line[len(":dep "):]
            # the notebooks' paths are relative to notebooks/
            deps.append(dep.replace('"../crates/', '"' + str(ROOT / "crates") + "/"))
    return deps


def measure(deps):
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d)
        (p / "src").mkdir()
        (p / "src/lib.rs").write_text("")
        (p / "Cargo.toml").write_text(
            '[package]\nname = "cell"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
            + "\n".join(deps) + "\n\n[workspace]\n")
        # rust-analyzer asks for the host's graph only (windows-sys and friends are left out)
        host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], capture_output=True,
                                                          text=True).stdout, re.M).group(1)
        out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--offline",
                              "--filter-platform", host], cwd=p,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(out.stderr)
        meta = json.loads(out.stdout)
    files = size = 0
    per = []
    for pkg in meta["packages"]:
        root = pathlib.Path(pkg["manifest_path"]).parent
        n = b = 0
        for dirpath, _, names in os.walk(root):
            if "/target" in dirpath[len(str(root)):]:
                continue
            for name in names:
                if name.endswith(".rs"):
                    n += 1
                    b += os.path.getsize(os.path.join(dirpath, name))
        files += n
        size += b
        per.append((b, pkg["name"], n))
    return len(meta["packages"]), files, size, sorted(per, reverse=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deps", nargs="*", help="dependency lines (TOML), default: the notebooks' :dep lines")
    ap.add_argument("--top", type=int, default=8, help="largest packages to list")
    a = ap.parse_args()
    deps = a.deps or notebook_deps()
    n, files, size, per = measure(deps)
    print("deps:", *deps, sep="\n  ")
    print(f"packages {n}, .rs files {files}, source {size / 1e6:.1f} MB")
    for b, name, k in per[: a.top]:
        print(f"  {name:24} {k:6} files {b / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
