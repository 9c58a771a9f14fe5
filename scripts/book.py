#!/usr/bin/env python3
"""Render the executed notebooks to a static HTML book in out/book/ (see scripts/book.sh).

nbconvert's `basic` template renders each notebook's cells (markdown, code, outputs); this script
wraps them in pages of its own so the book needs nothing from the network: no MathJax or
require.js from a CDN (math is converted to MathML, which browsers render natively, by
latex2mathml), figures inline as PNG (the notebooks carry PNG beside SVG), and the shipped CJK
font (crates/din/assets, SIL OFL 1.1) so the Chinese text renders on a machine without CJK fonts.
"""
import glob
import html
import json
import os
import re
import shutil
import sys

import nbformat
from latex2mathml.converter import convert as to_mathml
from nbconvert import HTMLExporter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FONT = os.path.join(ROOT, "crates", "din", "assets", "NotoSansCJKsc-DIN-subset.otf")

CSS = """
@font-face { font-family: "DIN Figures CJK"; src: url("fonts/NotoSansCJKsc-DIN-subset.otf") format("opentype"); }
body { font-family: "DIN Figures CJK", "Noto Sans CJK SC", sans-serif; max-width: 980px; margin: 0 auto;
       padding: 0 24px 64px; line-height: 1.6; color: #1a1a1a; }
nav { display: flex; gap: 24px; padding: 12px 0; border-bottom: 1px solid #ddd; margin-bottom: 16px; }
a { color: #0060a8; }
pre, code { font-family: "DejaVu Sans Mono", monospace, "DIN Figures CJK"; font-size: 13px; }
.jp-InputArea, .input_area { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px;
       padding: 6px 10px; overflow-x: auto; margin: 8px 0; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }
.jp-OutputArea-output pre, .output_text pre { background: #fff; border-left: 3px solid #ccc;
       padding: 4px 10px; overflow-x: auto; white-space: pre-wrap; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 8px; }
math { font-size: 1.05em; }
"""

MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def mathml(md):
    """$…$ and $$…$$ in a markdown cell → MathML (outside code spans and fenced blocks)."""
    parts = re.split(r"(```.*?```|`[^`\n]*`)", md, flags=re.S)
    for i in range(0, len(parts), 2):
        parts[i] = MATH.sub(
            lambda m: to_mathml(m.group(1), display="block")
            if m.group(1) is not None
            else to_mathml(m.group(2)),
            parts[i],
        )
    return "".join(parts)


def title_of(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "notebook"


def page(title, nav, body):
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="stylesheet" href="book.css"></head>
<body><nav>{nav}</nav>
<main>
{body}
</main></body></html>
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "out", "book")
    os.makedirs(os.path.join(out, "fonts"), exist_ok=True)
    shutil.copy(FONT, os.path.join(out, "fonts"))
    shutil.copy(os.path.join(ROOT, "crates", "din", "assets", "OFL.txt"), os.path.join(out, "fonts"))
    with open(os.path.join(out, "book.css"), "w", encoding="utf-8") as f:
        f.write(CSS)
    paths = sorted(glob.glob(os.path.join(ROOT, "notebooks", "[0-9][0-9]_*.ipynb")))
    if not paths:
        sys.exit("no notebooks in notebooks/ (they are committed executed; scripts/run_notebooks.sh makes them)")
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    pages, manifest = [], {}
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = mathml(cell.source)
            # the PNG, not the SVG: it was rendered with the shipped CJK font, so the figure looks
            # the same in every browser whatever fonts the reader's machine has
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data and "image/svg+xml" in data:
                    del data["image/svg+xml"]
        body, _ = exporter.from_notebook_node(nb)
        name = os.path.splitext(os.path.basename(p))[0] + ".html"
        figures = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        pages.append((name, title_of(nb), body))
        manifest[name] = {"figures": figures}
    for i, (name, title, body) in enumerate(pages):
        links = ['<a href="index.html">目录 · Contents</a>']
        if i > 0:
            links.append(f'<a href="{pages[i - 1][0]}">← {html.escape(pages[i - 1][1])}</a>')
        if i + 1 < len(pages):
            links.append(f'<a href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} →</a>')
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(page(title, " ".join(links), body))
    items = "\n".join(f'<li><a href="{n}">{html.escape(t)}</a></li>' for n, t, _ in pages)
    index = f"""<h1>DIN 深度兴趣网络教程 · A DIN tutorial in Rust</h1>
<p>按教程的顺序，六个已执行的 notebook（evcxr Rust 内核）。在本机运行它们：<code>scripts/setup_notebooks.sh</code>，然后用 Jupyter 打开 <code>notebooks/</code>。</p>
<p>The six executed notebooks (evcxr Rust kernel), in the tutorial's order. To run them yourself:
<code>scripts/setup_notebooks.sh</code>, then open <code>notebooks/</code> in Jupyter.</p>
<ol>
{items}
</ol>
<p>字体 Font: Noto Sans CJK SC subset “DIN Figures CJK”, SIL Open Font License 1.1 (<a href="fonts/OFL.txt">OFL.txt</a>).</p>"""
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
        f.write(page("DIN 教程 · DIN tutorial", '<a href="index.html">目录 · Contents</a>', index))
    manifest["index.html"] = {"figures": 0}
    with open(os.path.join(out, "book.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    print(f"book: {len(pages)} pages + index in {out}")


if __name__ == "__main__":
    main()
