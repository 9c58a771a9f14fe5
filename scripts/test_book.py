#!/usr/bin/env python3
"""Open every page of the HTML book (scripts/book.sh) in headless Chromium and fail on a blank
page, a broken image, a console error, a failed request, a page without its math or its CJK font.
Writes a full-page screenshot of each page to <book>/screenshots/ (look at them).

    scripts/book.sh --test          # builds the book, installs what this needs, runs this
"""
import glob
import json
import os
import sys

from playwright.sync_api import sync_playwright


def main():
    book, chromium = sys.argv[1], sys.argv[2]
    pages = sorted(glob.glob(os.path.join(book, "*.html")))
    assert any(p.endswith("index.html") for p in pages), f"no index.html in {book}"
    shots = os.path.join(book, "screenshots")
    os.makedirs(shots, exist_ok=True)
    with open(os.path.join(book, "book.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    failures = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for path in pages:
            name = os.path.basename(path)
            pg = browser.new_page(viewport={"width": 1100, "height": 900})
            problems = []
            pg.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
            pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            pg.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            pg.goto("file://" + os.path.abspath(path), wait_until="load")
            pg.evaluate("document.fonts.ready.then(() => true)")
            text = pg.inner_text("body")
            if len(text.strip()) < 200:
                problems.append(f"blank page ({len(text.strip())} characters of text)")
            broken = pg.evaluate(
                "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length"
            )
            n_img = pg.evaluate("document.images.length")
            want = manifest.get(name, {}).get("figures", 0)
            n_png = pg.evaluate("[...document.images].filter(i => i.src.startsWith('data:image/png')).length")
            if n_png < want:
                problems.append(f"{n_png} PNG images for the notebook's {want} figures")
            if pg.evaluate("document.querySelectorAll('svg text').length"):
                problems.append("an inline SVG figure (its text depends on the reader's fonts)")
            if broken:
                problems.append(f"{broken} of {n_img} images broken")
            if not pg.evaluate("document.fonts.check('16px \"DIN Figures CJK\"', '注意力')"):
                problems.append("the CJK font did not load")
            if "$" in pg.evaluate("[...document.querySelectorAll('.jp-MarkdownOutput, .text_cell_render')].map(e => e.innerText).join('')"):
                problems.append("unrendered $…$ math in a markdown cell")
            n_math = pg.evaluate("document.getElementsByTagName('math').length")
            pg.screenshot(path=os.path.join(shots, name.replace(".html", ".png")), full_page=True)
            pg.screenshot(path=os.path.join(shots, name.replace(".html", "-top.png")))
            print(f"{name}: {len(text)} characters, {n_img} images, {n_math} formulas"
                  + ("" if not problems else " — " + "; ".join(problems)))
            failures += [f"{name}: {x}" for x in problems]
            pg.close()
        browser.close()
    if failures:
        sys.exit("book test failed:\n  " + "\n  ".join(failures))
    print(f"book test passed: {len(pages)} pages; screenshots in {shots}")


if __name__ == "__main__":
    main()
