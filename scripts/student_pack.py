#!/usr/bin/env python3
"""Write the student pack: the student edition with what it needs to run, without the solutions.

    scripts/student_pack.sh [OUT_DIR]          # default out/student-pack, and OUT_DIR.tar.gz beside it
    python3 scripts/student_pack.py [--rev REV] [--no-archive] [--keep-tests] [OUT_DIR]
    python3 scripts/student_pack.py --check PACK_DIR_OR_TAR_GZ   # only the refusal checks

The pack is a folder laid out like this repository, so that every path the notebooks, the
library and the scripts use holds unchanged inside it:

    README.md                 the pack's own (中文 / English): how to open it (it is also din's crate
                              doc, `include_str!("../../../README.md")` in crates/din/src/lib.rs)
    Cargo.toml, Cargo.lock    the workspace without the `notebooks` member (the teacher's
                              notebook sources); the lock without its package din-notebooks
    environment.md            measured timings the notebooks' markdown refers to
    data/README.md            how to get the real data (the demo world needs none)
    crates/din, din-kernels, din-teach, din-cli     the library, the notebooks' `:dep`, the `din` command
    notebooks/student/0N_*.ipynb                    the student edition (`:dep ../../crates/din-teach`
                                                     resolves to the pack's crates/din-teach)
    scripts/setup_notebooks.sh, evcxr_kernel.sh, evcxr_stamp.py, evcxr_cache.py, kernel/din_warm_kernel.py
    scripts/make_notebooks.py only the notebooks' setup-cell text (SETUP), which the two scripts
                              above read; the generator itself stays with the teacher

Left out: the teacher's notebooks (notebooks/0N_*.ipynb), their sources (notebooks/src), the
teacher's guide (notebooks/TEACHING.md), the din-notebooks crate, out/, runs/, target/, bench/,
fuzz/, tools/, the repository's README.md (it describes the solutions' markers and the teacher's
workflow). In crates/din-teach/src/exercises the `#[cfg(test)]` modules of nb01…nb06 (and
nb04/tests.rs) are cut: they are the checks' own tests, which pass the teacher's answers written
out (`--keep-tests` keeps them). The checks themselves stay (the notebooks call them), and they
compute the reference results they compare with.

Changed on the way: each `[markdown answer]` pointer cell of the student notebooks says that the
answers are in the teacher's edition, not in this pack (make_notebooks.py's pointer names
`notebooks/`, a folder the pack does not have); setup_notebooks.sh's closing line opens
notebooks/student/. Nothing else in a notebook changes.

Refuses (exit 1, nothing written at OUT_DIR) when a packed file contains `BEGIN SOLUTION`,
`END SOLUTION` or `[markdown answer]`; an answer cell holds anything but the pointer; an exercise or
check cell holds outputs or an execution count, or any output a passed check (✅, the teacher's
verdict); a solution region of notebooks/src appears whole in a notebook; a teacher-only path is in
the pack; a `:dep` path leads outside the pack. With cargo on the PATH the pack's workspace must
resolve offline with its lock unchanged (`cargo metadata --locked --offline`: the path
dependencies resolve inside the pack).

By default the files come from the working tree (tracked and untracked-but-not-ignored files);
`--rev REV` takes them from a commit instead (`git archive`), untouched by edits in progress.
Standard library only.
"""
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))

CRATES = ["crates/din", "crates/din-kernels", "crates/din-teach", "crates/din-cli"]
SCRIPTS = ["scripts/setup_notebooks.sh", "scripts/evcxr_kernel.sh", "scripts/evcxr_stamp.py",
           "scripts/evcxr_cache.py", "scripts/kernel/din_warm_kernel.py"]
FILES = ["environment.md", "data/README.md"]
MARKER = ".student-pack"

FORBIDDEN_TEXT = [b"BEGIN SOLUTION", b"END SOLUTION", b"[markdown answer]"]
# teacher-only paths: never in a pack
FORBIDDEN_PATH = [
    (re.compile(r"^notebooks/src(/|$)"), "the notebooks' sources (the solutions)"),
    (re.compile(r"^notebooks/[^/]+\.ipynb$"), "a teacher's notebook"),
    (re.compile(r"(^|/)TEACHING\.md$"), "the teacher's guide"),
    (re.compile(r"^notebooks/(Cargo\.toml|build\.rs|tests)(/|$)"), "the din-notebooks crate"),
    (re.compile(r"(^|/)\.ipynb_checkpoints(/|$)"), "Jupyter's checkpoints (may hold solutions)"),
    (re.compile(r"^(out|runs|target|\.venv-nb|bench|fuzz|tools|\.ci)(/|$)"), "not part of the pack"),
]

PACK_ANSWERS_NOTE = (
    "**思考题的答案 · Answers to the think questions:** 在教师版里，不在这个学生包中：先自己想，"
    "再和老师、同学讨论。They are in the teacher's edition, not in this student pack: think first, "
    "then discuss them with your teacher and classmates."
)
PASSED = "✅"
SETUP_DEP = re.compile(r'^:dep\s+[\w-]+\s*=\s*\{[^}]*path\s*=\s*"([^"]+)"', re.M)

PACK_MAKE_NOTEBOOKS = '''#!/usr/bin/env python3
"""The notebooks' setup cell, as scripts/setup_notebooks.sh and scripts/evcxr_stamp.py read it.

Student pack: in the teacher's repository this module also assembles the notebooks from their
sources; the pack carries only the text of the setup cell (SETUP: `:dep` relative to notebooks/,
where setup_notebooks.sh starts its kernel).
"""
SETUP = {setup!r}
'''

PACK_GITIGNORE = """# written by the notebooks, the kernels and the setup (not part of the pack)
target/
/out/
/runs/
/.venv-nb/
.ipynb_checkpoints/
__pycache__/
/data/*
!/data/README.md
"""

README = """# DIN 教程 · 学生包 — DIN tutorial · student pack

深度兴趣网络（DIN, Zhou et al., KDD 2018）的 Rust 教程：六个 Jupyter 笔记本，用 evcxr Rust 内核运行，
以及它们用到的库。这是学生版：练习里的代码留给你写（`todo!()`），思考题的答案不在这里。

A Rust tutorial on the Deep Interest Network (DIN, Zhou et al., KDD 2018): six Jupyter notebooks
on the evcxr Rust kernel and the library they use. This is the student edition: the exercises'
code is yours to write (`todo!()`), and the answers to the think questions are not in this pack.

## 需要 · You need

Linux 或 macOS，Rust（rustup，stable ≥ 1.85）和 Python 3（带 `venv`），约 10 GB 空闲磁盘；准备时需要联网，之后不需要。
Linux or macOS, Rust (rustup, stable ≥ 1.85) and Python 3 (with `venv`), about 10 GB of free
disk; the preparation needs the network, the notebooks afterwards do not.

## 打开 · Open

```sh
tar -xzf {archive}        # 如果拿到的是压缩包 · if you got the archive
cd {folder}
scripts/setup_notebooks.sh                    # 只需一次 · once (2 核机器上约 20–30 分钟 · about 20-30 min on 2 cores)
.venv-nb/bin/jupyter lab notebooks/student/   # 打开 · open 01_data.ipynb first
```

`scripts/setup_notebooks.sh` 把 Jupyter 装进 `.venv-nb/`，安装 evcxr 内核（`cargo install evcxr_jupyter`），
并预先编译 candle、polars 和 din，之后每个笔记本的第一个单元只要几秒。可以重复运行（已完成的步骤几秒跳过）。
It installs Jupyter in `.venv-nb/` and the evcxr kernel (`cargo install evcxr_jupyter`), and
compiles candle, polars and din ahead of time, so that each notebook's first cell then takes
seconds. Running it again is safe (finished phases are skipped in seconds).

## 练习 · Exercises

每个「练习 · Exercise」单元里把 `todo!(…)` 换成你的代码，再运行它下面的检查单元：✅ 正确 · correct，
❌ 还不对 · not yet（会说明哪里不对）。后面有些单元会调用你写的函数，所以请按顺序完成练习。
In each exercise cell replace `todo!(…)` with your code, then run the check cell below it: ✅
correct, ❌ not yet (it says what differs). Some later cells call the functions you write, so do
the exercises in order.

## 里面有什么 · What is inside

| 路径 · path | 内容 · contents |
|---|---|
| `notebooks/student/` | 六个笔记本 · the six notebooks: 01 数据 data, 02 embedding, 03 兴趣激活 interest activation, 04 训练与 AUC training and AUC, 05 DIN vs base, 06 全量数据 full data |
| `crates/din` | 引擎 · the engine: data, model, training, metrics, figures |
| `crates/din-teach` | 笔记本的 `:dep`：prelude、教程和练习的检查 · the notebooks' `:dep`: prelude, tutorial, the exercises' checks |
| `crates/din-kernels`, `crates/din-cli` | CPU 内核；`din` 命令行 · CPU kernels; the `din` command line |
| `data/` | 笔记本 1–5 用内置的 demo 世界，不用下载；真实数据见 `data/README.md` · notebooks 1-5 use the built-in demo world (no download); real data: `data/README.md` |
| `scripts/` | 准备和内核脚本 · set-up and kernel scripts |
| `environment.md` | 实测时间 · measured timings |

笔记本把 `data/`、`out/`、`runs/` 解析为这个文件夹里的目录（笔记本的第一个代码单元会切换到这里）。
获取教程的样本数据 · to fetch the tutorial's sample data:

```sh
cargo run --release -p din-cli -- data fetch-sample    # data/amazon_electronics_sample.csv
```

移动这个文件夹之后，下一个内核启动时会重新编译 din（2 核上 1–2 分钟），之后又很快。
After moving this folder, the next kernel to start recompiles din (1-2 minutes on 2 cores); the
ones after it start quickly again.
"""


class Refused(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print("student_pack: warning: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# the source: the working tree, or a commit


def git(*args, cwd=ROOT, **kw):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, **kw).stdout


def source_tree(rev, tmp):
    """(folder to read from, set of relative paths to consider, description)."""
    if rev:
        sha = git("rev-parse", "--verify", rev + "^{commit}").decode().strip()
        dest = os.path.join(tmp, "src")
        os.makedirs(dest)
        data = git("archive", "--format=tar", sha)
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            extract(t, dest)
        paths = set()
        for d, _, fs in os.walk(dest):
            for f in fs:
                paths.add(os.path.relpath(os.path.join(d, f), dest).replace(os.sep, "/"))
        return dest, paths, f"commit {sha[:12]}"
    out = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").decode()
    paths = {p for p in out.split("\0") if p and os.path.isfile(os.path.join(ROOT, p))}
    try:
        sha = git("rev-parse", "HEAD").decode().strip()[:12]
        dirty = bool(git("status", "--porcelain").strip())
    except subprocess.CalledProcessError:
        sha, dirty = "?", True
    return ROOT, paths, f"working tree at {sha}" + (" (with uncommitted changes)" if dirty else "")


def extract(t, dest):
    if hasattr(tarfile, "data_filter"):  # Python >= 3.12 (and backports): no links out, no devices
        t.extractall(dest, filter="tar")
    else:
        t.extractall(dest)


def read_json_retry(path, tries=5):
    """A notebook another process may be rewriting this very moment: retry a torn read."""
    for k in range(tries):
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        except json.JSONDecodeError:
            if k == tries - 1:
                raise
            time.sleep(2)


def dump_nb(nb):
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


# ---------------------------------------------------------------------------------------------
# building


def copy_file(src_root, rel, pack, data=None):
    dst = os.path.join(pack, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if data is None:
        shutil.copy2(os.path.join(src_root, rel), dst)
    else:
        with open(dst, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        mode = os.stat(os.path.join(src_root, rel)).st_mode if os.path.exists(os.path.join(src_root, rel)) else 0o644
        os.chmod(dst, mode & 0o777)


def strip_test_module(text):
    """Cut a trailing `#[cfg(test)] mod tests { … }` / `mod tests;` from a Rust file, or None."""
    lines = text.split("\n")
    for i, l in enumerate(lines[:-1]):
        if l.strip() == "#[cfg(test)]" and re.match(r"^mod tests\s*(\{|;)\s*$", lines[i + 1]):
            break
    else:
        return None
    tail = lines[i + 1:]
    if tail[0].rstrip().endswith(";"):
        end = 0
    else:
        depth, end = 0, None
        for k, l in enumerate(tail):
            depth += l.count("{") - l.count("}")
            if depth == 0:
                end = k
                break
        if end is None or tail[end].strip() != "}":
            return None
    if any(l.strip() for l in tail[end + 1:]):
        return None  # something follows the test module: leave the file alone
    head = lines[:i]
    while head and not head[-1].strip():
        head.pop()
    return "\n".join(head) + "\n"


def rewrite_workspace(text):
    m = re.search(r"^members\s*=\s*\[([^\]]*)\]", text, re.M)
    if not m:
        raise Refused("Cargo.toml: no `members = [...]` line in [workspace]")
    members = re.findall(r'"([^"]+)"', m.group(1))
    keep = [c for c in members if c in CRATES]
    missing = [c for c in CRATES if c not in members]
    if missing:
        raise Refused(f"Cargo.toml: workspace members {missing} expected, not there")
    line = "members = [" + ", ".join(f'"{c}"' for c in keep) + "]"
    return (text[:m.start()] + "# student pack: the teacher's `notebooks` member (din-notebooks) left out\n"
            + line + text[m.end():])


def prune_lock(text, name="din-notebooks"):
    blocks = re.split(r"(?m)^(?=\[\[package\]\]\n)", text)
    kept = [b for b in blocks if not re.match(r'\[\[package\]\]\nname = "' + re.escape(name) + '"\n', b)]
    out = "".join(kept)
    if re.search(r'^\s*"' + re.escape(name) + r'[" ]', out, re.M):
        raise Refused(f"Cargo.lock: another package depends on {name}")
    return out


def student_notebooks(src_root, paths):
    """[(rel path, notebook dict, original text)] of notebooks/student/NN_*.ipynb."""
    rels = sorted(p for p in paths if re.match(r"^notebooks/student/\d\d_[^/]*\.ipynb$", p))
    if not rels:
        raise Refused("no student notebooks in notebooks/student/ (python3 scripts/make_notebooks.py --student)")
    out = []
    for rel in rels:
        try:
            nb = read_json_retry(os.path.join(src_root, rel))
        except json.JSONDecodeError as e:
            raise Refused(f"{rel}: not valid JSON ({e}); is someone rewriting it? Try again") from e
        out.append((rel, nb))
    return out


def check_derived(src_root, notebooks):
    """Warn when a student notebook is not what make_notebooks.py --student derives now."""
    sys.path.insert(0, os.path.join(src_root, "scripts"))
    try:
        import make_notebooks  # noqa: E402
    except Exception as e:  # noqa: BLE001
        warn(f"cannot import scripts/make_notebooks.py ({e}): freshness of the student edition not checked")
        return None
    finally:
        sys.path.pop(0)
    for rel, nb in notebooks:
        teacher = os.path.join(src_root, "notebooks", os.path.basename(rel))
        try:
            want = make_notebooks.student_notebook(read_json_retry(teacher))
        except Exception as e:  # noqa: BLE001
            warn(f"{rel}: not compared with its teacher's notebook ({type(e).__name__}: {e})")
            continue
        if dump_nb(want) != dump_nb(nb):
            warn(f"{rel} is not what `python3 scripts/make_notebooks.py --student` derives from "
                 f"notebooks/{os.path.basename(rel)} now (outputs re-executed, or sources changed): "
                 "packing it as it is")
    return make_notebooks


def pack_notebook(nb, answers_note):
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown" and "answer" in tags:
            src = "".join(cell["source"])
            if answers_note is not None and src != answers_note:
                raise Refused("an answer cell holds something other than make_notebooks.py's pointer "
                              "(the teacher's answers?)")
            cell["source"] = [PACK_ANSWERS_NOTE]
    return nb


def solution_regions(src_root):
    """The solution regions of notebooks/src/*.rs: [(file, [stripped non-blank lines])]."""
    d = os.path.join(src_root, "notebooks", "src")
    out = []
    if not os.path.isdir(d):
        return out
    for f in sorted(os.listdir(d)):
        if not f.endswith(".rs"):
            continue
        cur = None
        for l in open(os.path.join(d, f), encoding="utf-8"):
            if re.match(r"\s*// BEGIN SOLUTION\s*$", l):
                cur = []
            elif re.match(r"\s*// END SOLUTION\s*$", l):
                if cur:
                    out.append((f, cur))
                cur = None
            elif cur is not None and l.strip():
                cur.append(l.strip())
    return out


def build(src_root, paths, pack, keep_tests, notes, folder):
    for p in sorted(paths):
        if any(p.startswith(c + "/") for c in CRATES):
            copy_file(src_root, p, pack)
    for p in FILES + SCRIPTS:
        if p not in paths:
            raise Refused(f"{p} is missing in the source")
        copy_file(src_root, p, pack)
    # the workspace
    copy_file(src_root, "Cargo.toml", pack, rewrite_workspace(open(os.path.join(src_root, "Cargo.toml"), encoding="utf-8").read()))
    copy_file(src_root, "Cargo.lock", pack, prune_lock(open(os.path.join(src_root, "Cargo.lock"), encoding="utf-8").read()))
    # the scripts: the setup cell's text, and setup_notebooks.sh's closing line
    sys.path.insert(0, os.path.join(src_root, "scripts"))
    try:
        import make_notebooks  # noqa: E402
        setup, answers_note = make_notebooks.SETUP, make_notebooks.ANSWERS_NOTE
    finally:
        sys.path.pop(0)
    copy_file(src_root, "scripts/make_notebooks.py", pack, PACK_MAKE_NOTEBOOKS.format(setup=setup))
    sh = open(os.path.join(pack, "scripts/setup_notebooks.sh"), encoding="utf-8").read()
    new = re.sub(r'(?m)^echo "Open the notebooks: .*$',
                 'echo "Open the notebooks: $VENV/bin/jupyter lab notebooks/student/"', sh)
    new = re.sub(r"(?m)^# Afterwards: .*$",
                 "# Afterwards: `.venv-nb/bin/jupyter lab notebooks/student/`.", new)
    if new == sh:
        warn("scripts/setup_notebooks.sh: its closing `Open the notebooks` line was not found; copied unchanged")
    with open(os.path.join(pack, "scripts/setup_notebooks.sh"), "w", encoding="utf-8") as fh:
        fh.write(new)
    # the student notebooks
    nbs = student_notebooks(src_root, paths)
    check_derived(src_root, nbs)
    for rel, nb in nbs:
        copy_file(src_root, rel, pack, dump_nb(pack_notebook(nb, answers_note)))
    os.makedirs(os.path.join(pack, "notebooks"), exist_ok=True)
    # din-teach: the checks' own tests pass the teacher's answers written out
    ex = os.path.join(pack, "crates/din-teach/src/exercises")
    if not keep_tests and os.path.isdir(ex):
        for f in sorted(os.listdir(ex)):
            p = os.path.join(ex, f)
            if not (f.startswith("nb") and f.endswith(".rs")):
                continue
            stripped = strip_test_module(open(p, encoding="utf-8").read())
            if stripped is None:
                if "#[cfg(test)]" in open(p, encoding="utf-8").read():
                    warn(f"crates/din-teach/src/exercises/{f}: its test module is not the file's last item; kept")
                continue
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(stripped)
            notes.append(f"cut the #[cfg(test)] module of crates/din-teach/src/exercises/{f}")
            sub = os.path.join(ex, f[:-3], "tests.rs")
            if os.path.isfile(sub):
                os.remove(sub)
                notes.append(f"removed crates/din-teach/src/exercises/{f[:-3]}/tests.rs")
                if not os.listdir(os.path.dirname(sub)):
                    os.rmdir(os.path.dirname(sub))
    # the pack's own files
    with open(os.path.join(pack, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(README.replace("{archive}", folder + ".tar.gz").replace("{folder}", folder))
    with open(os.path.join(pack, ".gitignore"), "w", encoding="utf-8") as fh:
        fh.write(PACK_GITIGNORE)


# ---------------------------------------------------------------------------------------------
# the refusal checks


def pack_files(pack):
    out = []
    for d, dirs, fs in os.walk(pack):
        dirs.sort()
        for f in sorted(fs):
            out.append(os.path.relpath(os.path.join(d, f), pack).replace(os.sep, "/"))
    return out


def check_pack(pack, regions=()):
    """Problems of a pack folder ([] when it may go to students)."""
    problems = []
    files = pack_files(pack)
    for rel in files:
        for rx, why in FORBIDDEN_PATH:
            if rx.search(rel):
                problems.append(f"{rel}: {why}")
        with open(os.path.join(pack, rel), "rb") as fh:
            data = fh.read()
        for t in FORBIDDEN_TEXT:
            k = data.find(t)
            if k >= 0:
                line = data.count(b"\n", 0, k) + 1
                problems.append(f"{rel}:{line}: contains `{t.decode()}`")
    nbs = [f for f in files if f.endswith(".ipynb")]
    if not any(re.match(r"^notebooks/student/\d\d_", f) for f in nbs):
        problems.append("no student notebook in notebooks/student/")
    for rel in nbs:
        try:
            nb = json.load(open(os.path.join(pack, rel), encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            problems.append(f"{rel}: not a notebook ({e})")
            continue
        for i, cell in enumerate(nb.get("cells", [])):
            tags = cell.get("metadata", {}).get("tags", [])
            src = "".join(cell.get("source", []))
            where = f"{rel} cell {i} ({', '.join(tags) or cell.get('cell_type')})"
            if cell.get("cell_type") == "markdown" and "answer" in tags and src != PACK_ANSWERS_NOTE:
                problems.append(f"{where}: an answer cell that is not the pointer (the teacher's answers?)")
            if cell.get("cell_type") != "code":
                continue
            if ("exercise" in tags or "check" in tags) and (cell.get("outputs") or cell.get("execution_count") is not None):
                problems.append(f"{where}: holds the teacher's outputs")
            if PASSED in json.dumps(cell.get("outputs", []), ensure_ascii=False):
                problems.append(f"{where}: an output holds a passed check ({PASSED}), the teacher's verdict")
            lines = [l.strip() for l in src.split("\n") if l.strip()]
            for f, region in regions:
                k = len(region)
                if any(lines[j:j + k] == region for j in range(len(lines) - k + 1)):
                    problems.append(f"{where}: holds a solution region of notebooks/src/{f} ({region[0][:50]} …)")
            for dep in SETUP_DEP.findall(src):
                target = os.path.normpath(os.path.join(pack, os.path.dirname(rel), dep))
                inside = os.path.commonpath([os.path.abspath(pack), os.path.abspath(target)]) == os.path.abspath(pack)
                if os.path.isabs(dep) or not inside:
                    problems.append(f"{where}: `:dep` path {dep} leads outside the pack")
                elif not os.path.isfile(os.path.join(target, "Cargo.toml")):
                    problems.append(f"{where}: `:dep` path {dep} has no Cargo.toml in the pack")
    return problems


def check_cargo(pack):
    cargo = shutil.which("cargo")
    if not cargo:
        warn("cargo not found: the pack's workspace and lock were not checked")
        return []
    # this machine's platform only: other platforms' crates (windows-*) need not be downloaded
    host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout or "", re.M)
    plat = ["--filter-platform", host.group(1)] if host else []
    r = subprocess.run([cargo, "metadata", "--locked", "--offline", "--format-version", "1", *plat,
                        "--manifest-path", os.path.join(pack, "Cargo.toml")], capture_output=True, text=True)
    if r.returncode != 0:
        return ["cargo metadata --locked --offline failed in the pack (path dependencies or lock):\n    "
                + r.stderr.strip().replace("\n", "\n    ")]
    meta = json.loads(r.stdout)
    problems = []
    for p in meta["packages"]:
        if p.get("source") is None:  # a path package: must live in the pack
            if os.path.commonpath([os.path.realpath(pack), os.path.realpath(p["manifest_path"])]) != os.path.realpath(pack):
                problems.append(f"path dependency {p['name']} resolves outside the pack: {p['manifest_path']}")
    return problems


# ---------------------------------------------------------------------------------------------


def write_archive(pack, archive):
    name = os.path.basename(os.path.normpath(pack))
    tmp = archive + ".tmp"
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as t:
        def norm(ti):
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            return ti
        t.add(pack, arcname=name, filter=norm, recursive=False)
        for d, dirs, fs in os.walk(pack):
            dirs.sort()
            for x in dirs + sorted(fs):
                full = os.path.join(d, x)
                if os.path.isfile(full) or os.path.isdir(full):
                    t.add(full, arcname=os.path.join(name, os.path.relpath(full, pack)), filter=norm, recursive=False)
    os.replace(tmp, archive)


def summary(pack):
    files = pack_files(pack)
    total = sum(os.path.getsize(os.path.join(pack, f)) for f in files)
    groups = {}
    for f in files:
        parts = f.split("/")
        key = "/".join(parts[:2]) if parts[0] in ("crates", "notebooks", "scripts", "data") and len(parts) > 2 else \
            ("/".join(parts[:1]) if len(parts) > 1 else f)
        n, s = groups.get(key, (0, 0))
        groups[key] = (n + 1, s + os.path.getsize(os.path.join(pack, f)))
    for key in sorted(groups):
        n, s = groups[key]
        log(f"  {key:<34} {n:4d} files {s / 1024:9.1f} KiB")
    log(f"  {'total':<34} {len(files):4d} files {total / 1024:9.1f} KiB")


def main(argv):
    args = list(argv)
    if args[:1] == ["--check"]:
        if len(args) != 2:
            sys.exit(__doc__)
        target = args[1]
        with tempfile.TemporaryDirectory() as tmp:
            if os.path.isfile(target):
                with tarfile.open(target) as t:
                    extract(t, tmp)
                tops = os.listdir(tmp)
                target = os.path.join(tmp, tops[0]) if len(tops) == 1 else tmp
            problems = check_pack(target, solution_regions(ROOT))
        for p in problems:
            print("  " + p, file=sys.stderr)
        if problems:
            print(f"student_pack: {args[1]} is NOT fit for students ({len(problems)} problems above)", file=sys.stderr)
            return 1
        log(f"student_pack: {args[1]}: no solutions, answers or teacher's outputs found")
        return 0
    rev, archive, keep_tests = None, True, False
    rest = []
    while args:
        a = args.pop(0)
        if a == "--rev" and args:
            rev = args.pop(0)
        elif a == "--no-archive":
            archive = False
        elif a == "--keep-tests":
            keep_tests = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif a.startswith("-"):
            sys.exit(f"student_pack: unknown option {a}\n\n{__doc__}")
        else:
            rest.append(a)
    if len(rest) > 1:
        sys.exit(__doc__)
    out = os.path.abspath(rest[0] if rest else os.path.join(ROOT, "out", "student-pack"))
    if out == os.path.abspath(ROOT) or os.path.abspath(ROOT).startswith(out.rstrip(os.sep) + os.sep) or out == os.sep:
        sys.exit(f"student_pack: refusing to write the pack at {out}: it holds the repository")
    if os.path.exists(out) and (not os.path.isdir(out) or (os.listdir(out) and not os.path.exists(os.path.join(out, MARKER)))):
        sys.exit(f"student_pack: {out} exists and is not a student pack (no {MARKER}): refusing to replace it")
    t0 = time.time()
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    notes = []
    with tempfile.TemporaryDirectory(prefix=".student-pack-", dir=parent) as tmp:
        src_root, paths, what = source_tree(rev, tmp)
        log(f"student_pack: packing the student edition from the {what}")
        stage = os.path.join(tmp, "pack")
        os.makedirs(stage)
        try:
            build(src_root, paths, stage, keep_tests, notes, os.path.basename(out))
            with open(os.path.join(stage, MARKER), "w", encoding="utf-8") as fh:
                fh.write(f"DIN tutorial student pack, from the {what}, written {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n")
            problems = check_pack(stage, solution_regions(src_root)) + check_cargo(stage)
        except Refused as e:
            problems = [str(e)]
        if problems:
            print("student_pack: REFUSED, the pack is not fit for students:", file=sys.stderr)
            for p in problems:
                print("  " + p, file=sys.stderr)
            print(f"nothing written at {out}", file=sys.stderr)
            return 1
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(stage, out)
    for n in notes:
        log(f"  {n}")
    log(f"  note: crates/din-teach/src/exercises (the checks the notebooks call) computes the reference results "
        "it compares with, and crates/din implements the model the exercises rebuild: both are the library, packed as they are")
    if archive:
        write_archive(out, out + ".tar.gz")
    log(f"student_pack: wrote {out}" + (f" and {out}.tar.gz ({os.path.getsize(out + '.tar.gz') / 1024:.0f} KiB)" if archive else "")
        + f" in {time.time() - t0:.1f} s; checked: no solutions, answers or teacher's outputs")
    summary(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
