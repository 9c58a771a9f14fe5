#!/usr/bin/env python3
"""Use the notebooks in JupyterLab as a participant does, in headless Chromium, and time it.

Started by scripts/lab_test.sh, which starts JupyterLab on 127.0.0.1 (root: notebooks/, autosave
and the news notification off, a token of its own) and passes:

    test_lab.py URL CHROMIUM          # environment: LAB_TOKEN, LAB_SERVER_LOG, LAB_OUT

What it does (each part in a kernel of its own, shut down before the next part starts, so that
every kernel takes the warm build folder target/evcxr-notebooks/kernel-0):

  a. opens a teacher's notebook (LAB_FIRST, default 01_data.ipynb) by double-clicking it in the
     file browser, waits until the toolbar's kernel indicator says idle, and runs the cells one
     by one with Shift+Enter up to the first cell after the `imports` cell whose committed
     output is not empty (the first result of `din`); records click→kernel idle, click→first
     result and the seconds per cell as the page shows them (Shift+Enter → the execution count
     appears; → the first output appears);
  b. opens the student's edition of LAB_EXERCISE_NB (default 04_training_auc.ipynb), runs its
     setup cells, types a correct `hour_of_day` into the exercise's `todo!()` cell through the
     editor (select all, insert text), runs it and its check cell and waits for the passing
     verdict (✅); then types a wrong answer (`%` instead of `rem_euclid`) and waits for the
     failing verdict (❌) with the check's message;
  c. opens a teacher's notebook (LAB_RUN_ALL, default 03_interest_activation.ipynb: short, four
     figures with Chinese labels), runs Run → Run All Cells, and checks that every code cell ran,
     that the page shows as many figures as the committed notebook has, none broken, that no
     output is an error (the patterns of scripts/run_notebooks.py, or stderr with error/panic),
     and that the kernel is idle again;
  d. Chinese glyphs: in each notebook, draws 注 and 意 and a character no font has (U+10FFFD) on
     a canvas in the font of a markdown cell and of a text output: identical pixels mean the
     Chinese characters are drawn as the missing-glyph box. An SVG figure whose <text> holds
     Chinese characters depends on the reader's fonts: reported too. Both are failures with
     LAB_REQUIRE_CJK=1 (the default), reports only with LAB_REQUIRE_CJK=0;
  e. screenshots and out/lab/lab.json (timings, checks), a table on stdout; exit 1 with the list
     of failures.

Also fails when JupyterLab shows a dialog nobody asked for, a news toast, when the page requests
anything but 127.0.0.1, or when the server log says a notebook was saved (the test must not
write the committed notebooks).
"""
import json
import os
import re
import statistics
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
NB_DIR = os.path.join(ROOT, "notebooks")

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CELL = f"{PANEL} .jp-Notebook .jp-Notebook-cell"
INDICATOR = f"{PANEL} .jp-Notebook-ExecutionIndicator"
KERNEL_ITEM = '#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]'
# a failed cell, as scripts/run_notebooks.py sees one in the saved outputs
BAD = re.compile(r"^(error(\[E\d+\])?:|thread '.*' panicked|Error: |❌ )", re.M)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NUMBERED = re.compile(r"^\[\d+\]")

# timeouts (seconds): a busy 2-core machine; the kernel loads din-teach before it answers
KERNEL_START_S = float(os.environ.get("LAB_KERNEL_TIMEOUT", "240"))
CELL_S = float(os.environ.get("LAB_CELL_TIMEOUT", "300"))
CHECK_S = float(os.environ.get("LAB_CHECK_TIMEOUT", "180"))
RUN_ALL_S = float(os.environ.get("LAB_RUN_ALL_TIMEOUT", "420"))

# the exercise of part b: a correct and a wrong answer, and what each verdict must show
EXERCISE_FN = "hour_of_day"
EXERCISE_CHECK = "check_hour_of_day"
RIGHT = """/// The hour of day (0–23, UTC) of a Unix time in seconds.
fn hour_of_day(unix_seconds: i64) -> u32 {
    (unix_seconds.rem_euclid(86_400) / 3_600) as u32
}"""
WRONG = """/// The hour of day (0–23, UTC) of a Unix time in seconds.
fn hour_of_day(unix_seconds: i64) -> u32 {
    ((unix_seconds % 86_400) / 3_600) as u32
}"""
PASS_MARK = "✅ 正确 · correct [check_hour_of_day]"
FAIL_MARK = "❌ 还不对 · not yet [check_hour_of_day]"
FAIL_MESSAGE = "rem_euclid"  # the check's hint for times before 1970
# cells that only call the library (issue 48's per-cell goal), typed into the exercise cell and
# run one after the other before the answers: Shift+Enter → execution count, in the page
LIBRARY_CELLS = [
    "let probe_cfg: ModelConfig = ModelConfig::default();",
    'println!("embed_dim {}", probe_cfg.embed_dim);',
    "let probe_dims: Vec<usize> = probe_cfg.mlp_dims.clone();",
    'println!("mlp_dims {:?}", probe_dims);',
    "din::tune_process();",
]

# in the page: watch every cell's prompt and output count, with the page's clock (ms since epoch)
WATCH_JS = """
(sel) => {
  window.__lab = { log: {} };
  const cells = [...document.querySelectorAll(sel)];
  cells.forEach((cell, i) => {
    const state = () => [
      ((cell.querySelector('.jp-InputPrompt') || {}).textContent || '').trim(),
      cell.querySelectorAll('.jp-OutputArea-child').length,
    ];
    let last = state();
    const rec = [[Date.now(), last[0], last[1]]];
    window.__lab.log[i] = rec;
    new MutationObserver(() => {
      const cur = state();
      if (cur[0] !== last[0] || cur[1] !== last[1]) { rec.push([Date.now(), cur[0], cur[1]]); last = cur; }
    }).observe(cell, { subtree: true, childList: true, characterData: true });
  });
  return cells.length;
}
"""

# in the page: are these characters drawn as the missing-glyph box in the font of `el` (or in
# `family`)? Each is compared with U+10FFFD, which no font has; 'A' is the control.
GLYPH_JS = """
([el, family, chars]) => {
  const cs = el ? getComputedStyle(el) : null;
  const fam = family || (cs && cs.fontFamily);
  if (!fam) return null;
  const font = `${cs ? cs.fontStyle : 'normal'} ${cs ? cs.fontWeight : '400'} 40px ${fam}`;
  const c = document.createElement('canvas');
  c.width = 80; c.height = 80;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  const draw = (ch) => {
    ctx.clearRect(0, 0, 80, 80);
    ctx.font = font; ctx.fillStyle = '#000'; ctx.textBaseline = 'top';
    ctx.fillText(ch, 10, 10);
    const d = ctx.getImageData(0, 0, 80, 80).data;
    let h = 0, ink = 0;
    for (let k = 3; k < d.length; k += 4) { h = (Math.imul(h, 31) + d[k]) | 0; if (d[k]) ink++; }
    return { width: ctx.measureText(ch).width, hash: h, ink: ink };
  };
  const none = draw(String.fromCodePoint(0x10FFFD));
  const same = (a, b) => a.hash === b.hash && a.width === b.width;
  const boxed = chars.filter(ch => same(draw(ch), none));
  return { font: font, boxed: boxed, box: boxed.length === chars.length, control_ok: !same(draw('A'), none) };
}
"""

class Lab:
    def __init__(self, url, token, out):
        self.url, self.token, self.out = url.rstrip("/"), token, out
        self.failures = []
        self.notes = []
        self.report = {"notebooks": [], "checks": [], "screenshots": []}

    # ---------------------------------------------------------------- bookkeeping
    def check(self, name, ok, detail="", cjk=False):
        """Record a check; a failed one fails the test (a CJK one only with LAB_REQUIRE_CJK=1)."""
        fatal = not ok and (not cjk or REQUIRE_CJK)
        self.report["checks"].append({"check": name, "passed": bool(ok), "detail": detail,
                                      "fails_the_test": fatal})
        mark = "pass" if ok else ("FAIL" if fatal else "fail (reported only: LAB_REQUIRE_CJK=0)")
        print(f"  [{mark}] {name}" + (f": {detail}" if detail else ""), flush=True)
        if fatal:
            self.failures.append(f"{name}: {detail}" if detail else name)
        return ok

    def shot(self, page, name, what):
        path = os.path.join(self.out, name)
        page.screenshot(path=path)
        self.report["screenshots"].append({"path": os.path.relpath(path, ROOT), "shows": what})
        print(f"  screenshot {os.path.relpath(path, ROOT)} ({what})", flush=True)

    # ---------------------------------------------------------------- server side
    def api(self, method, path):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self):
        """Delete every session (and its kernel) and wait until a prepared build folder
        (kernel-0 … kernel-2, which the setup warms) is free again, so that the next notebook's kernel
        gets one (a spare kernel, scripts/kernel/din_warm_kernel.py, may hold another)."""
        for s in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{s['id']}")
        t0 = time.time()
        while self.api("GET", "/api/kernels") and time.time() - t0 < 60:
            time.sleep(0.5)
        import fcntl
        locks = [os.path.join(ROOT, "target", "evcxr-notebooks", f"kernel-{n}.lock") for n in range(3)]
        locks = [p for p in locks if os.path.exists(p)]
        while locks and time.time() - t0 < 60:
            for path in locks:
                with open(path, "a") as f:
                    try:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        fcntl.flock(f, fcntl.LOCK_UN)
                        return
                    except OSError:
                        pass
            time.sleep(0.5)
        if locks:
            self.notes.append("every prepared build folder still locked 60 s after the kernels were shut down")

    # ---------------------------------------------------------------- page helpers
    def open_until_idle(self, page, rel, n_cells, entry):
        """Double-click `rel` in the file browser, wait for its cells and for an idle kernel, and
        record the statuses seen and the seconds in `entry`. The click's time, or None (a failed
        check) when the kernel did not become idle."""
        self.report["notebooks"].append(entry)
        t_click = self.open_notebook(page, rel)
        self.wait_notebook(page, rel, n_cells)
        idle, seen = self.wait_idle(page, t_click, KERNEL_START_S)
        entry["kernel_statuses"] = seen
        entry["click_to_kernel_idle_s"] = round(idle, 1) if idle else None
        if not self.check(f"{rel}: kernel idle after opening", idle is not None,
                          f"{idle:.1f} s" if idle else f"not idle within {KERNEL_START_S:.0f} s (statuses {seen})"):
            return None
        self.dialogs(page, f"after opening {rel}")
        return t_click

    def dialogs(self, page, where):
        """A JupyterLab dialog nobody asked for is a failure (screenshot, then Escape)."""
        d = page.locator(".jp-Dialog")
        if d.count():
            text = d.first.inner_text()[:300].replace("\n", " ")
            self.shot(page, f"dialog-{len(self.failures)}.png", f"unexpected dialog {where}")
            self.check(f"no unexpected dialog ({where})", False, text)
            page.keyboard.press("Escape")

    def browse_to(self, page, folder):
        """Wait until the file browser shows `folder` ('' = the root): its breadcrumbs, and a
        listing with only names that folder holds (the listing changes after the breadcrumbs'
        click, and a stale one offers the wrong item under the pointer)."""
        want = "/" + (folder + "/" if folder else "")
        disk = {n for n in os.listdir(os.path.join(NB_DIR, folder)) if not n.startswith(".")}
        t0 = time.time()
        while time.time() - t0 < 30:
            crumbs = re.sub(r"\s+", "", page.locator(".jp-FileBrowser .jp-BreadCrumbs").inner_text())
            names = page.locator(".jp-FileBrowser .jp-DirListing-content .jp-DirListing-itemText").all_inner_texts()
            if crumbs == want and names and set(names) <= disk:
                page.wait_for_timeout(300)
                return
            time.sleep(0.2)
        raise AssertionError(f"the file browser did not show {want} (breadcrumbs {crumbs!r}, items {names[:8]})")

    def open_notebook(self, page, relpath):
        """Double-click through the file browser; returns the time of the double-click."""
        if not page.locator(".jp-FileBrowser").is_visible():
            page.locator('.jp-SideBar .lm-TabBar-tab[data-id="filebrowser"]').click()
        page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
        self.browse_to(page, "")
        parts = relpath.split("/")
        for k, part in enumerate(parts):
            item = page.locator(".jp-FileBrowser .jp-DirListing-content .jp-DirListing-item").filter(
                has=page.locator(".jp-DirListing-itemText", has_text=re.compile("^" + re.escape(part) + "$")))
            item.wait_for(state="visible", timeout=30_000)
            if k == len(parts) - 1:
                t_click = time.time()
                item.dblclick()
                return t_click
            item.dblclick()
            self.browse_to(page, "/".join(parts[:k + 1]))
        raise AssertionError("unreachable")

    def wait_notebook(self, page, relpath, ncells):
        page.locator(f"#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").filter(
            has_text=os.path.basename(relpath)).wait_for(timeout=60_000)
        t0 = time.time()
        while True:
            n = page.locator(CELL).count()
            if n == ncells:
                break
            if time.time() - t0 > 60:
                raise AssertionError(f"{relpath}: the page shows {n} cells, the file has {ncells}")
            time.sleep(0.2)
        return page.evaluate(WATCH_JS, CELL)

    def kernel_status(self, page):
        """The status bar's kernel item ("Rust | Idle"; "No Kernel | Initializing" before the
        session exists) and the toolbar's kernel indicator (which says idle even then)."""
        item = page.locator(KERNEL_ITEM)
        text = item.first.text_content() if item.count() else ""
        ind = page.locator(INDICATOR)
        st = ind.first.get_attribute("data-status") if ind.count() else None
        return (text or "").strip(), st

    def wait_idle(self, page, t_from, timeout):
        """Seconds from t_from until the kernel is idle (status bar "<kernel> | Idle" and the
        toolbar indicator idle); the statuses seen on the way."""
        seen = []
        while time.time() - t_from < timeout:
            text, st = self.kernel_status(page)
            if not seen or seen[-1] != [text, st]:
                seen.append([text, st])
            if st == "idle" and re.search(r"\| Idle$", text) and not text.startswith("No Kernel"):
                return time.time() - t_from, seen
            time.sleep(0.1)
        return None, seen

    def log(self, page, i):
        return page.evaluate("(i) => window.__lab.log[i]", i)

    @staticmethod
    def finished(log, t_ms):
        """(ms of the execution count, ms of the first output) after t_ms, from a cell's log."""
        started = done = out = None
        for ts, prompt, nout in log:
            if ts < t_ms - 50:
                continue
            if started is None and prompt.startswith("[*]"):
                started = ts
            elif started is not None and done is None and NUMBERED.match(prompt):
                done = ts
            if started is not None and out is None and nout > 0 and not prompt.startswith("[ ]"):
                out = ts
        return done, out

    def active_index(self, page):
        return page.evaluate(
            "(sel) => [...document.querySelectorAll(sel)].findIndex(c => c.classList.contains('jp-mod-active'))", CELL)

    def run_cell(self, page, i, timeout=CELL_S):
        """Shift+Enter on the active cell (it must be cell i); waits for its execution count.
        Returns (seconds to the count, seconds to the first output or None)."""
        act = self.active_index(page)
        if act != i:
            raise AssertionError(f"cell {i} should be the active cell, but cell {act} is")
        t_ms = time.time() * 1000
        page.keyboard.press("Shift+Enter")
        while time.time() * 1000 - t_ms < timeout * 1000:
            done, out = self.finished(self.log(page, i), t_ms)
            if done is not None:
                return (done - t_ms) / 1000, (out - t_ms) / 1000 if out else None
            time.sleep(0.1)
        raise AssertionError(f"cell {i} did not finish within {timeout:.0f} s")

    def cell_text(self, page, i):
        # textContent: innerText is empty for the cells that content-visibility skips (off screen)
        return page.locator(CELL).nth(i).locator(".jp-OutputArea").evaluate("(e) => e.textContent")

    def output_problems(self, page):
        """Cells whose outputs show an error: scripts/run_notebooks.py's patterns, or stderr that
        says error/panic, or an error output."""
        found = page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map((cell, i) => [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
            const r = o.matches('[data-mime-type]') ? o : o.querySelector('[data-mime-type]');
            return [i, r ? r.getAttribute('data-mime-type') : '', o.textContent, o.classList.contains('jp-OutputArea-executeResult')];
          })).flat()""", CELL)
        probs = []
        for i, mime, text, _ in found:
            if BAD.search(text) or (mime == "application/vnd.jupyter.stderr" and re.search(r"error|panic", text, re.I)):
                probs.append(f"cell {i}: {text[:200]!r}")
        return probs

    def glyphs(self, page, name, entry):
        """Part d for the open notebook: Chinese in the markdown and text output fonts, and the
        verdicts' marks ✅ ❌ in the text output font."""
        res = {}
        for what, sel, chars, label in (
                ("markdown", f"{PANEL} .jp-MarkdownOutput", ["注", "意"], "Chinese characters"),
                ("text output", f"{PANEL} .jp-RenderedText pre", ["注", "意"], "Chinese characters"),
                ("text output (verdict marks)", f"{PANEL} .jp-RenderedText pre", ["✅", "❌"], "the verdict marks ✅ ❌")):
            el = page.evaluate_handle("""(sel) => [...document.querySelectorAll(sel)].find(e => /[\\u4e00-\\u9fff]/.test(e.textContent)) || null""", sel)
            r = page.evaluate(GLYPH_JS, [el, None, chars])
            res[what] = r
            if r is None:
                self.notes.append(f"{name}: no {what} with Chinese text to test the glyphs")
                continue
            if not r["control_ok"]:
                self.notes.append(f"{name}: glyph test inconclusive for the {what} ('A' drawn like the missing glyph)")
                continue
            detail = f"{' '.join(r['boxed'])} drawn as the missing-glyph box in {r['font']}" if r["boxed"] else r["font"]
            if "marks" in what and r["boxed"]:
                # emoji need an emoji font (scripts/setup_notebooks.sh says which package); the
                # verdict's words 正确 · correct / 还不对 · not yet carry the result without them
                self.notes.append(f"{name}: {label}: {detail} (no emoji font; the verdict's words still show)")
                continue
            self.check(f"{name}: {label} have glyphs in the {what.split(' (')[0]} font", not r["boxed"], detail, cjk=True)
        entry["cjk_glyphs"] = {k: (None if v is None else {"boxed": v["boxed"], "font": v["font"]}) for k, v in res.items()}

    def figures(self, page):
        """The figure outputs shown: per output, the kind and whether it is drawn; the SVG source."""
        return page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map((cell, i) => [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => {
            const imgs = [...o.querySelectorAll('img')].filter(im => /^data:image\\/(png|svg\\+xml)/.test(im.src));
            const inline = [...o.querySelectorAll('svg')].filter(s => !s.closest('.jp-icon3, [class*="Icon"], button'));
            if (!imgs.length && !inline.length) return null;
            const svg = imgs.filter(im => im.src.startsWith('data:image/svg+xml')).map(im => decodeURIComponent(im.src.slice(im.src.indexOf(',') + 1)))
              .concat(inline.map(s => s.outerHTML));
            return { cell: i, png: imgs.filter(im => im.src.startsWith('data:image/png')).length,
                     svg_img: imgs.filter(im => im.src.startsWith('data:image/svg+xml')).length, inline_svg: inline.length,
                     broken: imgs.filter(im => !im.complete || im.naturalWidth === 0).length, svg: svg,
                     font_family: (svg.join('').match(/font-family="([^"]*)"/) || [null, null])[1] };
          }).filter(x => x)).flat()""", CELL)

    def close_current(self, page):
        """Close the notebook's tab without saving (Discard)."""
        page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").click()
        try:
            page.locator(".jp-Dialog button", has_text="Discard").click(timeout=5_000)
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
def committed(relpath):
    with open(os.path.join(NB_DIR, relpath), encoding="utf-8") as f:
        return json.load(f)["cells"]


def src(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def prelude_says(lab, page, cells):
    """What the notebook's first cell (tag `progress`) said about the kernel: whether it loaded
    din-teach while it started (scripts/evcxr_kernel.sh), or why not."""
    k = next((i for i, c in enumerate(cells) if "progress" in c.get("metadata", {}).get("tags", [])), None)
    if k is None:
        return None
    text = lab.cell_text(page, k).strip()
    return text.splitlines()[-1] if text else ""


def median(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 2) if xs else None


def part_a(lab, page, rel):
    print(f"== a. {rel}: open, kernel idle, run cells one by one up to din's first result", flush=True)
    cells = committed(rel)
    imports = next(i for i, c in enumerate(cells) if "imports" in c.get("metadata", {}).get("tags", []))
    target = next(i for i, c in enumerate(cells) if i > imports and c["cell_type"] == "code" and c.get("outputs"))
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    entry = {"notebook": rel, "edition": "teacher", "part": "a"}
    t_click = lab.open_until_idle(page, rel, len(cells), entry)
    if t_click is None:
        return
    page.locator(CELL).nth(first_code).locator(".jp-InputPrompt").click()
    per_cell = []
    i = first_code
    while i <= target:
        if cells[i]["cell_type"] != "code":
            page.keyboard.press("Shift+Enter")  # a markdown cell: Shift+Enter moves on
            i += 1
            continue
        count_s, out_s = lab.run_cell(page, i)
        per_cell.append({"cell": i, "count_s": round(count_s, 2), "output_s": None if out_s is None else round(out_s, 2)})
        print(f"    cell {i:2d}: execution count after {count_s:5.1f} s"
              + (f", first output after {out_s:5.1f} s" if out_s is not None else ""), flush=True)
        i += 1
    log = lab.log(page, target)
    _, out_ms = Lab.finished(log, t_click * 1000)
    entry["first_result_cell"] = target
    entry["click_to_first_result_s"] = round(out_ms / 1000 - t_click, 1) if out_ms else None
    entry["cells"] = per_cell
    entry["median_cell_s"] = median(c["count_s"] for c in per_cell)
    entry["median_output_s"] = median(c["output_s"] for c in per_cell)
    entry["kernel_prelude_says"] = prelude_says(lab, page, cells)
    text = lab.cell_text(page, target)
    lab.check(f"{rel}: cell {target} shows din's first result", bool(out_ms) and bool(text.strip()),
              text.strip().splitlines()[0][:100] if text.strip() else "no output")
    probs = lab.output_problems(page)
    lab.check(f"{rel}: no error output in the cells run", not probs, "; ".join(probs))
    page.locator(CELL).nth(target).scroll_into_view_if_needed()
    lab.shot(page, "a-first-result.png", f"{rel}: cells run one by one up to din's first result (cell {target})")
    lab.glyphs(page, rel, entry)


def type_into(page, cell, text):
    """Select all in the cell's editor and insert `text` (as typing would, but without the
    editor's auto-indent and bracket closing); returns what the editor then holds."""
    cell.evaluate("(c) => c.scrollIntoView({block: 'center'})")
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    return cell.locator(".cm-content").inner_text()


def part_b(lab, page, rel):
    print(f"== b. student/{rel}: exercise {EXERCISE_FN}: a right, then a wrong answer", flush=True)
    srel = f"student/{rel}"
    cells = committed(srel)
    ex = next(i for i, c in enumerate(cells) if c["cell_type"] == "code" and f"fn {EXERCISE_FN}(" in src(c))
    chk = next(i for i, c in enumerate(cells) if i > ex and c["cell_type"] == "code" and EXERCISE_CHECK in src(c))
    assert "todo!(" in src(cells[ex]), f"{srel}: cell {ex} is not a todo!() stub"
    imports = next(i for i, c in enumerate(cells) if "imports" in c.get("metadata", {}).get("tags", []))
    setup = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and i <= imports + 1]
    entry = {"notebook": srel, "edition": "student", "part": "b", "exercise_cell": ex, "check_cell": chk}
    t_click = lab.open_until_idle(page, srel, len(cells), entry)
    if t_click is None:
        return
    page.locator(CELL).nth(setup[0]).locator(".jp-InputPrompt").click()
    per_cell = []
    for i in setup:
        count_s, out_s = lab.run_cell(page, i)
        per_cell.append({"cell": i, "count_s": round(count_s, 2), "output_s": None if out_s is None else round(out_s, 2)})
        print(f"    cell {i:2d}: execution count after {count_s:5.1f} s", flush=True)
    entry["cells"] = per_cell
    entry["median_cell_s"] = median(c["count_s"] for c in per_cell)
    entry["kernel_prelude_says"] = prelude_says(lab, page, cells)
    exc = page.locator(CELL).nth(ex)
    lib = []
    for probe in LIBRARY_CELLS:
        type_into(page, exc, probe)
        count_s, _ = lab.run_cell(page, ex)
        lib.append(round(count_s, 2))
    entry["library_cells_s"] = lib
    entry["median_library_cell_s"] = median(lib)
    print(f"    {len(lib)} cells that only call the library: {lib} s (median {median(lib)} s)", flush=True)
    probs = lab.output_problems(page)
    lab.check(f"{srel}: no error output from the cells that only call the library", not probs, "; ".join(probs))

    for kind, answer, want, mark, extra in (("right", RIGHT, "passed", PASS_MARK, None),
                                            ("wrong", WRONG, "failed", FAIL_MARK, FAIL_MESSAGE)):
        held = type_into(page, exc, answer)
        norm = lambda s: "\n".join(l.rstrip() for l in s.replace("\u00a0", " ").strip().splitlines())
        lab.check(f"{srel}: the editor holds the {kind} answer as typed", norm(held) == norm(answer),
                  "" if norm(held) == norm(answer) else f"editor: {held!r}")
        t_run = time.time()
        lab.run_cell(page, ex)
        lab.run_cell(page, chk, CHECK_S)
        text = lab.cell_text(page, chk)
        secs = time.time() - t_run
        entry[f"{kind}_answer_to_verdict_s"] = round(secs, 1)
        ok = mark in text and (extra is None or extra in text)
        lab.check(f"{srel}: the check shows it {want} after the {kind} answer", ok,
                  " / ".join(l.strip() for l in text.strip().splitlines())[:240] or "no output")
        print(f"    {kind} answer: verdict {secs:.1f} s after Shift+Enter on the exercise", flush=True)
        exc.evaluate("(c) => c.scrollIntoView({block: 'center'})")
        lab.shot(page, f"b-student-check-{want}.png", f"{srel}: the {kind} answer and the check {want}")
    lab.glyphs(page, srel, entry)


def part_c(lab, page, rel):
    print(f"== c. {rel}: Run → Run All Cells", flush=True)
    cells = committed(rel)
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    want_figs = sum(1 for c in cells for o in c.get("outputs", [])
                    if any(k.startswith("image/") for k in o.get("data", {})))
    entry = {"notebook": rel, "edition": "teacher", "part": "c", "figures_committed": want_figs}
    t_click = lab.open_until_idle(page, rel, len(cells), entry)
    if t_click is None:
        return
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    t_ms = time.time() * 1000
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    idle_since = None
    done = {}
    while time.time() * 1000 - t_ms < RUN_ALL_S * 1000:
        logs = page.evaluate("() => window.__lab.log")
        for i in code:
            if i not in done:
                d, o = Lab.finished(logs[str(i)], t_ms)
                if d is not None:
                    done[i] = ((d - t_ms) / 1000, None if o is None else (o - t_ms) / 1000)
        queued = page.evaluate("(sel) => [...document.querySelectorAll(sel + ' .jp-InputPrompt')].some(p => p.textContent.trim().startsWith('[*]'))", CELL)
        text, st = lab.kernel_status(page)
        st = "idle" if st == "idle" and text.endswith("| Idle") else (st or text)
        if len(done) == len(code) and st == "idle" and not queued:
            break
        if st == "idle" and not queued:
            idle_since = idle_since or time.time()
            if time.time() - idle_since > 5:
                break  # stopped early (an error stops Run All)
        else:
            idle_since = None
        time.sleep(0.2)
    run_all = (max(d for d, _ in done.values()) if done else None)
    entry["run_all_s"] = round(run_all, 1) if run_all else None
    starts = sorted(done.items())
    per = []
    prev = 0.0
    for i, (d, o) in starts:  # a cell's own time: from the previous cell's count to its count
        per.append({"cell": i, "count_s": round(d - prev, 2)})
        prev = d
    entry["cells"] = per
    entry["median_cell_s"] = median(c["count_s"] for c in per)
    text, st = lab.kernel_status(page)
    entry["kernel_prelude_says"] = prelude_says(lab, page, cells)
    lab.check(f"{rel}: every code cell ran", len(done) == len(code),
              f"{len(done)} of {len(code)} in {run_all:.1f} s" if run_all else f"0 of {len(code)}")
    lab.check(f"{rel}: kernel idle after Run All", st == "idle" and text.endswith("| Idle"), f"{text} ({st})")
    probs = lab.output_problems(page)
    lab.check(f"{rel}: no error output", not probs, "; ".join(probs))
    figs = lab.figures(page)
    drawn = [f for f in figs if not f["broken"]]
    entry["figures_shown"] = len(drawn)
    entry["figure_kinds"] = {"svg_img": sum(f["svg_img"] for f in figs), "png": sum(f["png"] for f in figs),
                             "inline_svg": sum(f["inline_svg"] for f in figs)}
    lab.check(f"{rel}: figures rendered", len(drawn) >= want_figs and want_figs > 0 and not any(f["broken"] for f in figs),
              f"{len(drawn)} shown of the committed {want_figs} ({entry['figure_kinds']}), "
              f"{sum(f['broken'] for f in figs)} broken")
    cjk_text = []
    for f in figs:
        texts = [re.sub(r"<[^>]*>", "", t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", "".join(f["svg"]), re.S)]
        labels = [t.strip() for t in texts if CJK.search(t)]
        if labels:
            cjk_text.append({"cell": f["cell"], "labels": labels[:4], "font_family": f["font_family"]})
    entry["figures_with_cjk_svg_text"] = cjk_text
    lab.check(f"{rel}: figures do not depend on the reader's CJK fonts (no Chinese in SVG <text>)", not cjk_text,
              "; ".join(f"cell {c['cell']}: {', '.join(c['labels'][:2])}" for c in cjk_text), cjk=True)
    fam = next((c["font_family"] for c in cjk_text if c["font_family"]), None)
    if fam:  # the figure's font as the browser resolves it, drawn like the markdown test
        r = page.evaluate(GLYPH_JS, [None, fam, ["注", "意"]])
        entry["figure_font_box"] = r["box"] if r else None
        if r and r["control_ok"]:
            lab.check(f"{rel}: Chinese characters have glyphs in the figures' SVG font", not r["boxed"],
                      f"{' '.join(r['boxed'])} drawn as the missing-glyph box in {fam}" if r["boxed"] else fam, cjk=True)
    # screenshots: a figure with Chinese labels, and the notebook after Run All
    fig_cell = cjk_text[0]["cell"] if cjk_text else (drawn[0]["cell"] if drawn else None)
    if fig_cell is not None:
        page.locator(CELL).nth(fig_cell).locator(".jp-OutputArea-output img, .jp-OutputArea-output svg").last.evaluate(
            "(e) => e.scrollIntoView({block: 'center'})")
        time.sleep(0.3)
        lab.shot(page, "c-figure-cjk.png", f"{rel}: cell {fig_cell}'s figure with Chinese labels, as drawn in the page")
    page.locator(CELL).nth(code[-1]).evaluate("(e) => e.scrollIntoView({block: 'end'})")
    time.sleep(0.3)
    lab.shot(page, "c-run-all.png", f"{rel} after Run All Cells (end of the notebook)")
    lab.glyphs(page, rel, entry)


REQUIRE_CJK = os.environ.get("LAB_REQUIRE_CJK", "1") == "1"


def main():
    url, chromium = sys.argv[1], sys.argv[2]
    token = os.environ["LAB_TOKEN"]
    out = os.environ.get("LAB_OUT", os.path.join(ROOT, "out", "lab"))
    os.makedirs(out, exist_ok=True)
    first = os.environ.get("LAB_FIRST", "01_data.ipynb")
    exercise_nb = os.environ.get("LAB_EXERCISE_NB", "04_training_auc.ipynb")
    run_all = os.environ.get("LAB_RUN_ALL", "03_interest_activation.ipynb")
    lab = Lab(url, token, out)
    t_start = time.time()
    outside = []
    with sync_playwright() as p:
        # every host but 127.0.0.1 resolves to nothing: the page cannot reach the network
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        console_errors = []
        page.on("console", lambda m: m.type == "error" and console_errors.append(m.text[:200]))
        page.on("request", lambda r: (not re.match(r"^(data|blob):|^https?://127\.0\.0\.1[:/]", r.url))
                and outside.append(r.url))
        t0 = time.time()
        page.goto(f"{lab.url}/lab?token={token}", wait_until="domcontentloaded")
        page.locator(".jp-FileBrowser .jp-DirListing-item").first.wait_for(timeout=120_000)
        lab.report["lab_load_s"] = round(time.time() - t0, 1)
        print(f"JupyterLab loaded in {lab.report['lab_load_s']} s", flush=True)
        page.wait_for_timeout(3000)  # the news question would show as a toast after start-up
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        news = [t for t in toasts if re.search(r"news|update", t, re.I)]
        lab.check("no news/update notification", not news, " | ".join(news)[:200])
        lab.dialogs(page, "after start-up")
        for part, rel in ((part_a, first), (part_b, exercise_nb), (part_c, run_all)):
            try:
                part(lab, page, rel)
            except Exception as e:  # a part that cannot go on: record, screenshot, next part
                lab.check(f"{part.__name__} ({rel}) ran to the end", False, f"{type(e).__name__}: {str(e)[:300]}")
                try:
                    lab.shot(page, f"{part.__name__}-error.png", f"where {part.__name__} stopped")
                except Exception:
                    pass
            try:
                lab.dialogs(page, f"after {part.__name__}")
                lab.close_current(page)
            except Exception as e:
                lab.notes.append(f"closing {rel}: {e}")
            lab.shut_down_kernels()
        lab.report["console_errors"] = console_errors[:20]
        browser.close()
    lab.check("the page requested nothing but 127.0.0.1", not outside, ", ".join(outside[:5]))
    log = os.environ.get("LAB_SERVER_LOG")
    if log and os.path.exists(log):
        saved = [l.strip() for l in open(log, encoding="utf-8", errors="replace") if "Saving file at" in l]
        lab.check("JupyterLab saved no notebook (the committed files are untouched)", not saved, "; ".join(saved[:3]))
    total = time.time() - t_start
    lab.report.update({"total_s": round(total, 1), "require_cjk": REQUIRE_CJK, "notes": lab.notes,
                       "failures": lab.failures, "passed": not lab.failures})
    # where it was measured (scripts/figures.py puts it into README's table)
    from figures import measured_on
    lab.report.update(measured_on(ROOT))
    with open(os.path.join(out, "lab.json"), "w", encoding="utf-8") as f:
        json.dump(lab.report, f, ensure_ascii=False, indent=1)

    def fmt(x, unit=" s"):
        return "—" if x is None else f"{x:.1f}{unit}"
    print()
    print(f"{'notebook':36} {'ed.':8} {'→idle':>8} {'→result':>8} {'cell med':>9} {'cells':>5} {'run all':>8} {'✅ after':>8} {'❌ after':>8} {'CJK box':>8}")
    for e in lab.report["notebooks"]:
        box = e.get("cjk_glyphs", {}).get("markdown") or {}
        print(f"{e['notebook']:36} {e['edition']:8} {fmt(e.get('click_to_kernel_idle_s')):>8} "
              f"{fmt(e.get('click_to_first_result_s')):>8} {fmt(e.get('median_cell_s')):>9} {len(e.get('cells', [])):>5} "
              f"{fmt(e.get('run_all_s')):>8} {fmt(e.get('right_answer_to_verdict_s')):>8} "
              f"{fmt(e.get('wrong_answer_to_verdict_s')):>8} {('yes' if box.get('boxed') else 'no') if box else '—':>8}")
    print(f"(seconds; →idle: double-click → kernel idle; →result: double-click → din's first output; "
          f"cell med: median Shift+Enter → execution count)")
    for n in lab.notes:
        print(f"note: {n}")
    print(f"JupyterLab test: {total:.0f} s; {os.path.relpath(os.path.join(out, 'lab.json'), ROOT)}")
    if lab.failures:
        print(f"JupyterLab test FAILED ({len(lab.failures)}):\n  " + "\n  ".join(lab.failures), flush=True)
        return 1
    print("JupyterLab test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
