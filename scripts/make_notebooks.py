#!/usr/bin/env python3
"""Assemble the notebooks from their Rust sources, and derive the student edition.

The notebooks' code lives in `notebooks/src/NN_name.rs`, one Rust program per notebook (compiled
by `cargo test`, so a notebook whose code no longer compiles fails in seconds). Inside `main`,
a line `// %%` starts a code cell; `// %% [markdown]` a markdown cell (its lines are `// `
comments); `// %% [setup]` the setup cell (the `:dep` lines below, which only evcxr understands);
`// %% [markdown setup]` the markdown that explains it; `// %% [end]` ends the last cell. Code
cells may carry tags, `// %% [imports]`, `// %% [exercise]`, `// %% [check]` (nbgrader's idea of
tagged cells), written into the cell's metadata. `// %% [markdown answer]` is a markdown cell with
the answers to the think questions: the teacher's edition shows it, the student edition has a
pointer to the teacher's edition in its place.

    python3 scripts/make_notebooks.py            # notebooks/NN_*.ipynb from the sources (no outputs)
    python3 scripts/make_notebooks.py --student  # notebooks/student/ from the executed notebooks
    python3 scripts/make_notebooks.py --check    # both up to date? (exit 1 if not; no writes)
    python3 scripts/make_notebooks.py --markdown # only markdown changed: new text, outputs kept
    python3 scripts/make_notebooks.py 03         # only notebooks whose name contains "03"

The teacher's edition (`notebooks/`, committed executed by scripts/run_notebooks.sh) keeps the
solutions. The student edition (`notebooks/student/`) is the same notebook with, as in nbgrader,
every region between `// BEGIN SOLUTION` and `// END SOLUTION` replaced by `todo!(...)`, and the
outputs of exercise and check cells removed (the other cells keep the teacher's outputs, so the
student edition reads as the tutorial it is). `crates/…/notebooks/build.rs` runs every check cell
against both editions (`cargo test -p din-notebooks`): each must pass on the teacher's solution
and fail on the student's stub.

Standard library only (no nbformat needed).
"""
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
NB_DIR = os.path.join(ROOT, "notebooks")
SRC_DIR = os.path.join(NB_DIR, "src")
STUDENT_DIR = os.path.join(NB_DIR, "student")

SETUP = """:cache 4000
:dep din-teach = { path = "../crates/din-teach", features = ["png"] }"""

FIRST_NOTE = """> **运行之前 · Before you run this notebook:** 在仓库根目录运行一次 `scripts/setup_notebooks.sh`（安装 Jupyter 和 evcxr 内核，并预先编译依赖），然后 `.venv-nb/bin/jupyter lab notebooks/`（学生版：`notebooks/student/`）。Run `scripts/setup_notebooks.sh` once at the repository root (it installs Jupyter and the evcxr kernel and compiles the dependencies ahead of time), then `.venv-nb/bin/jupyter lab notebooks/` (students: `notebooks/student/`)."""

STUDENT_SETUP = SETUP.replace('"../crates/din-teach"', '"../../crates/din-teach"')

SETUP_MD = """**准备 Setup.** 还没有运行过 `scripts/setup_notebooks.sh`？先在仓库根目录运行它（安装 Jupyter、evcxr 内核，并预先编译依赖；本机 2 核：见 environment.md 的实测时间）。下面的 `:dep` 单元让 evcxr 加载本项目的教学 crate `din-teach`：它带来引擎 `din` 以及 candle、polars，下一个单元的一行 `use din_teach::prelude::*;` 引入笔记本用到的名字。准备好的内核（`scripts/evcxr_kernel.sh`）在启动时就已经加载了它，所以这个单元只需一两秒；上面的单元会说明你的内核是哪种情况。没有预先编译时，这个单元要编译 candle、polars、plotters 和 din，冷启动约 15 分钟。没有 `rust-src` 时 evcxr 无法推断某些类型，所以下面跨单元使用的变量都写明了类型。准备好的内核把你在单元里写的代码按 opt-level 0（不优化）编译，而 din、candle、polars 按 opt-level 3：笔记本后面的单元（它们的 crate 带着此前定义的所有函数和变量）因此快零点几秒到一秒多，很短的单元不变（environment.md 第 8 节有实测）；代价是单元里手写的大循环比在 crate 里慢，需要时用 `DIN_CELL_OPT_LEVEL=3` 启动 Jupyter。

Not run `scripts/setup_notebooks.sh` yet? Run it first, at the repository root: it installs Jupyter and the evcxr kernel and compiles the dependencies ahead of time (timings measured on this project's 2-core machine: environment.md). The `:dep` cell below makes evcxr load this project's teaching crate `din-teach`, which brings the engine `din` and candle and polars; the one line `use din_teach::prelude::*;` in the next cell brings the names the notebooks use. A prepared kernel (`scripts/evcxr_kernel.sh`) has already loaded it while it started, so the cell takes a second or two; the cell above says which case your kernel is in. Without the preparation this cell compiles candle, polars, plotters and din: about 15 minutes cold. Without `rust-src` evcxr cannot infer some types, so variables used across cells carry explicit types. A prepared kernel compiles the code you write in a cell at opt-level 0 (unoptimised) and din, candle and polars at opt-level 3: the later cells of a notebook (their crate carries every function and variable defined so far) answer a few tenths of a second to over a second sooner, very short cells no sooner (measured in environment.md, section 8); the price is that a large loop written in a cell runs slower than it would in a crate. Start Jupyter with `DIN_CELL_OPT_LEVEL=3` when you need it."""

# The cell before the setup cell: standard library only, so it runs in seconds even on a cold
# machine, and says what the next cell is about to do (scripts/evcxr_kernel.sh tells the kernel
# whether it loaded din-teach at start-up: DIN_KERNEL_PRELUDE) and how long that takes.
PROGRESS = r"""// 只用标准库：几秒内运行 · standard library only: runs in seconds
let cache = std::env::var_os("XDG_CACHE_HOME").map(std::path::PathBuf::from)
    .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
    .map(|c| c.join("evcxr"));
match (std::env::var("DIN_KERNEL_PRELUDE").as_deref(), cache) {
    (Ok("loaded"), _) => println!("内核启动时已经加载了 din-teach（scripts/evcxr_kernel.sh）：下一个单元一两秒。
The kernel loaded din-teach while it started (scripts/evcxr_kernel.sh): the next cell takes a second or two."),
    (Ok("failed"), _) => println!("内核启动时加载 din-teach 失败（日志 log: {}）：下一个单元自己编译 din（2 核上约 1–2 分钟）。修复：在仓库根目录运行 scripts/setup_notebooks.sh。
The kernel failed to load din-teach at start-up (log above): the next cell compiles din itself (about 1-2 min on 2 cores). To repair: run scripts/setup_notebooks.sh at the repository root.", std::env::var("DIN_KERNEL_PRELUDE_LOG").unwrap_or_default()),
    (Ok("stale"), _) => println!("setup 之后源代码变了（例如 git pull）：下一个单元重新编译 din（2 核上约 1–2 分钟）。再运行一次 scripts/setup_notebooks.sh，之后的内核启动时就会加载它。
The sources changed since the setup (a git pull?): the next cell recompiles din (about 1-2 min on 2 cores). Run scripts/setup_notebooks.sh again and later kernels load it at start-up."),
    (_, Some(dir)) if dir.is_dir() => println!("evcxr 的编译缓存已就绪 ({}): 下一个单元从缓存加载 candle、polars、plotters，只编译本项目的 din（2 核上约 1–2 分钟；同一内核之后的单元 1–3 秒）。
evcxr's compile cache is there ({}): the next cell loads candle, polars and plotters from it and compiles only this project's din (about 1-2 min on 2 cores; later cells 1-3 s).", dir.display(), dir.display()),
    _ => println!("没有 evcxr 的编译缓存：下一个单元要编译 candle、polars、plotters 和 din，2 核上约 15 分钟。可以先停下内核，在仓库根目录运行一次 scripts/setup_notebooks.sh。
No evcxr compile cache yet: the next cell compiles candle, polars, plotters and din, about 15 minutes on 2 cores. You may stop the kernel and run scripts/setup_notebooks.sh once at the repository root first."),
};"""

MARK = re.compile(r"^\s*// %%(?: \[([^\]]*)\])?\s*$")
SOLUTION = re.compile(r"^(\s*)// BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*// END SOLUTION\s*$")
ANSWERS_NOTE = "**思考题的答案 · Answers to the think questions:** 在教师版里（`notebooks/` 下同名的笔记本）。先自己想，再去看。They are in the teacher's edition (the notebook of the same name in `notebooks/`): think first, then look."
STUB = 'todo!("练习：在这里写你的代码 · exercise: write your code here")'

METADATA = {
    "kernelspec": {"name": "rust", "display_name": "Rust", "language": "rust"},
    "language_info": {
        "name": "rust",
        "file_extension": ".rs",
        "mimetype": "text/rust",
        "codemirror_mode": "rust",
        "pygment_lexer": "rust",
        "version": "",
    },
}


def dedent(lines):
    """Remove the indentation common to a cell's lines (a cell's code may sit indented in `main`)."""
    ind = [len(l) - len(l.lstrip(" ")) for l in lines if l.strip()]
    cut = min(ind) if ind else 0
    return [l[cut:] for l in lines]


def source_lines(s):
    lines = s.split("\n")
    return [l + "\n" for l in lines[:-1]] + [lines[-1]]


def parse(path):
    """The cells of one notebook source: [(kind, tags, text)]."""
    text = open(path, encoding="utf-8").read().split("\n")
    try:
        start = next(i for i, l in enumerate(text) if l.startswith(("fn main(", "pub fn main(")))
    except StopIteration:
        sys.exit(f"{path}: no `fn main(` (each notebook source is one Rust program)")
    cells, cur = [], None
    for line in text[start + 1:]:
        m = MARK.match(line)
        if m:
            if cur:
                cells.append(cur)
            tags = (m.group(1) or "").split()
            if tags == ["end"]:
                cur = None
                break
            cur = (tags, [])
            continue
        if cur is not None:
            cur[1].append(line)
    else:
        sys.exit(f"{path}: no `// %% [end]` line before the end of `main`")
    out = []
    for tags, lines in cells:
        lines = dedent(lines)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if "markdown" in tags:
            if "setup" in tags:
                out.append(("markdown", [], SETUP_MD))
                continue
            md = [re.sub(r"^// ?", "", l) if l.lstrip().startswith("//") else l for l in lines]
            if not any(k == "markdown" for k, _, _ in out):
                md += ["", FIRST_NOTE]
            out.append(("markdown", ["answer"] if "answer" in tags else [], "\n".join(md)))
        elif "setup" in tags:
            out.append(("code", ["progress"], PROGRESS))
            out.append(("code", ["setup"], SETUP))
        else:
            src = "\n".join(lines)
            # a cell ending in a bare block `{ … }`: make it a statement, or evcxr prints `()`
            starts = [l for l in lines if l and not l[0].isspace() and l[0] != "}"]
            if lines and lines[-1] == "}" and starts and not starts[-1].startswith(("fn ", "impl", "struct", "enum", "#[")):
                src += ";"
            if "check" in tags:
                # a check cell is one expression statement in the Rust source; in the notebook
                # its value (a `din_teach::exercises::Verdict`) is displayed, so drop the `;`
                src = src.rstrip().removesuffix(";")
            out.append(("code", tags, src))
    return out


def teacher_notebook(stem, cells):
    nb_cells = []
    for i, (kind, tags, src) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"{stem[:2]}-{i:02d}", "metadata": {}, "source": source_lines(src)}
        if tags:
            cell["metadata"]["tags"] = tags
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        nb_cells.append(cell)
    return {"cells": nb_cells, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def stub_solutions(src):
    """nbgrader's rule: every `// BEGIN SOLUTION` … `// END SOLUTION` region becomes a stub."""
    out, inside, indent = [], False, ""
    for line in src.split("\n"):
        m = SOLUTION.match(line)
        if m and not inside:
            inside, indent = True, m.group(1)
            out.append(f"{indent}// 你的代码 · your code")
            out.append(f"{indent}{STUB}")
            continue
        if inside:
            if END_SOLUTION.match(line):
                inside = False
            continue
        out.append(line)
    if inside:
        raise ValueError("a `// BEGIN SOLUTION` without `// END SOLUTION`")
    return "\n".join(out)


# Names a solution defines (functions whose body is a `// BEGIN SOLUTION` region) and, cell after
# cell, the names bound by cells that use them: their teacher's outputs come from the solutions, so
# the student edition shows them empty (a learner's cell prints what the learner's code gives).
LET_NAMES = re.compile(r"\blet\s+(?:mut\s+)?(\(?[\w\s,]+\)?)\s*[:=]")
IMPL_FOR = re.compile(r"\bimpl\b[^{]*\bfor\s+(\w+)")


def solved_functions(src):
    """Functions whose body holds a solution region."""
    names, current = set(), None
    for line in src.split("\n"):
        m = re.match(r"\s*(?:pub\s+)?fn\s+(\w+)", line)
        if m:
            current = m.group(1)
        if SOLUTION.match(line) and current:
            names.add(current)
    return names


def uses(src, names):
    return any(re.search(r"\b" + re.escape(n) + r"\b", src) for n in names)


def bound_names(src):
    out = set()
    for m in LET_NAMES.finditer(src):
        out |= {w for w in re.findall(r"\w+", m.group(1)) if w not in ("mut", "_")}
    out |= set(IMPL_FOR.findall(src))
    return out


def student_notebook(teacher):
    nb = copy.deepcopy(teacher)
    tainted = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "exercise" in cell.get("metadata", {}).get("tags", []):
            tainted |= solved_functions("".join(cell["source"]))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if "answer" in tags:
                # the answers to the think questions are the teacher's (an `[markdown answer]` cell)
                src = ANSWERS_NOTE
            src = src.replace("../environment.md", "../../environment.md")
            cell["source"] = source_lines(src)
            continue
        if "setup" in tags:
            src = STUDENT_SETUP
        if "exercise" in tags or "check" in tags:
            src = stub_solutions(src)
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell["cell_type"] == "code" and uses(src, tainted):
            # this cell runs the learner's code: no teacher's output in its place
            tainted |= bound_names(src)
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["source"] = source_lines(src)
    return nb


def dump(nb):
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


def code_of(nb):
    return [(c["cell_type"], c.get("metadata", {}).get("tags", []), "".join(c["source"])) for c in nb["cells"]]


# Calls in the solutions that are Rust's own (std, iterators, maps) or the notebooks' own
# functions, not candle's: the primer need not list them.
NOT_CANDLE = set("""Msg as_ref collect contains default entry enumerate filter forward from_split into iter
len ln_1p map max min ok_or_else or_default or_insert push rem_euclid saturating_sub to_vec""".split())


def primer_gaps():
    """Every candle operation a solution calls appears in notebook 2's candle primer (the markdown
    cell "candle for PyTorch users"), so a learner finds it there."""
    primer = None
    for _, tags, text in parse(os.path.join(SRC_DIR, "02_embedding.rs")):
        if "candle for PyTorch users" in text:
            primer = text
    if primer is None:
        return ["notebooks/src/02_embedding.rs: no markdown cell \"candle for PyTorch users\" (the candle primer)"]
    used = {}
    for f in sorted(os.listdir(SRC_DIR)):
        if not re.match(r"\d\d_.*\.rs$", f):
            continue
        text = open(os.path.join(SRC_DIR, f), encoding="utf-8").read()
        for m in re.finditer(r"// BEGIN SOLUTION\n(.*?)// END SOLUTION", text, re.S):
            body = "\n".join(l for l in m.group(1).split("\n") if not l.strip().startswith("//"))
            for name in re.findall(r"(?:\.|::)(\w+)(?:::<[^>]*>)?\(", body):
                if name not in NOT_CANDLE:
                    used.setdefault(name, f)
    missing = [f"{n} (used in {f})" for n, f in sorted(used.items())
               if not re.search(r"\b" + re.escape(n) + r"\b", primer)]
    return [f"the candle primer in notebooks/src/02_embedding.rs lacks {m}" for m in missing]


def main(argv):
    mode = "teacher"
    names = []
    for a in argv:
        if a in ("--student", "--check", "--markdown"):
            mode = a[2:]
        else:
            names.append(a)
    sources = sorted(f for f in os.listdir(SRC_DIR) if re.match(r"\d\d_.*\.rs$", f))
    if names:
        sources = [s for s in sources if any(n in s for n in names)]
    stale = []
    for src in sources:
        stem = src[:-3]
        path = os.path.join(NB_DIR, stem + ".ipynb")
        spath = os.path.join(STUDENT_DIR, stem + ".ipynb")
        cells = parse(os.path.join(SRC_DIR, src))
        want = teacher_notebook(stem, cells)
        if mode == "teacher":
            open(path, "w", encoding="utf-8").write(dump(want))
            print("wrote", os.path.relpath(path, ROOT))
            continue
        if not os.path.exists(path):
            stale.append(f"{os.path.relpath(path, ROOT)} is missing")
            continue
        have = json.load(open(path, encoding="utf-8"))
        if mode == "markdown":
            code = lambda nb: [c for c in code_of(nb) if c[0] == "code"]
            kinds = lambda nb: [c["cell_type"] for c in nb["cells"]]
            if code(have) != code(want) or kinds(have) != kinds(want):
                stale.append(f"{os.path.relpath(path, ROOT)}: code cells changed, not only markdown "
                             f"(run `python3 scripts/make_notebooks.py {stem[:2]}` and scripts/run_notebooks.sh)")
                continue
            for h, w in zip(have["cells"], want["cells"]):
                if h["cell_type"] == "markdown":
                    h["source"] = w["source"]
            open(path, "w", encoding="utf-8").write(dump(have))
            print("wrote", os.path.relpath(path, ROOT), "(markdown only)")
            continue
        if code_of(have) != code_of(want):
            stale.append(f"{os.path.relpath(path, ROOT)}: its cells differ from notebooks/src/{src} "
                         f"(run `python3 scripts/make_notebooks.py {stem[:2]}` and scripts/run_notebooks.sh)")
            continue
        student = student_notebook(have)
        if mode == "student":
            os.makedirs(STUDENT_DIR, exist_ok=True)
            open(spath, "w", encoding="utf-8").write(dump(student))
            print("wrote", os.path.relpath(spath, ROOT))
        elif not os.path.exists(spath) or open(spath, encoding="utf-8").read() != dump(student):
            stale.append(f"{os.path.relpath(spath, ROOT)} is not derived from {os.path.relpath(path, ROOT)} "
                         f"(run `python3 scripts/make_notebooks.py --student`)")
    if mode == "check" and not names:
        stale += primer_gaps()
    if stale:
        print("notebooks out of date:\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    if mode == "check":
        print(f"notebooks up to date with their sources ({len(sources)} teacher + student editions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
