#!/usr/bin/env python3
"""Rebuild crates/din/assets/NotoSansCJKsc-DIN-subset.otf, the font the figures are rasterised with.

Source: Noto Sans CJK SC Regular (SIL Open Font License 1.1, no Reserved Font Name), from Debian
bookworm's fonts-noto-cjk 1:20220127 (NotoSansCJK-Regular.ttc, face 2). The subset keeps ASCII,
Latin-1, general punctuation, arrows and maths symbols, the 3,755 level-1 characters of GB2312
(the common simplified characters), and every non-ASCII character in the repository's Rust sources
and notebooks, so a learner who edits a label in common Chinese still gets glyphs. A test
(crates/din/tests/figures.rs) fails when a source uses a character the font lacks.

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb x
    python3 -m venv /tmp/ft && /tmp/ft/bin/pip install fonttools
    /tmp/ft/bin/python scripts/make_font.py x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
    /tmp/ft/bin/python scripts/make_font.py x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --latin-only

The subset is renamed "DIN Figures CJK" (a modified font does not keep the original's name);
the second command writes the tests' control font, ASCII only ("DIN Figures Latin").
"""
import glob
import os
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "din", "assets", "NotoSansCJKsc-DIN-subset.otf")
CONTROL = os.path.join(ROOT, "crates", "din", "tests", "fixtures", "latin-only-control.otf")


def repo_chars():
    files = glob.glob(os.path.join(ROOT, "crates", "**", "*.rs"), recursive=True)
    files += glob.glob(os.path.join(ROOT, "notebooks", "src", "*.rs"))
    files += glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb"))
    chars = set()
    for f in files:
        with open(f, encoding="utf-8") as fh:
            chars |= {c for c in fh.read() if ord(c) > 0x7E}
    return chars


def gb2312_level1():
    out = set()
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def rename(font, family):
    """A modified version may not keep the original's name as its primary name (OFL §3; the
    Reserved Font Name of Noto Sans CJK / Source Han Sans is "Source"): give it its own."""
    ps = family.replace(" ", "")
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = family
        elif rec.nameID in (4, 18):
            rec.string = family
        elif rec.nameID in (3, 6):
            rec.string = ps
        elif rec.nameID in (2, 17):
            rec.string = "Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [ps]
        top = cff.topDictIndex[0]
        top.FullName = family
        top.FamilyName = family


def main():
    src = sys.argv[1]
    latin_only = "--latin-only" in sys.argv
    font = TTCollection(src).fonts[2]
    assert font["name"].getDebugName(1) == "Noto Sans CJK SC", font["name"].getDebugName(1)
    cps = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))
    cps |= set(range(0x2000, 0x2070)) | set(range(0x2190, 0x2200)) | set(range(0x2200, 0x2300))
    cps |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFF70))
    cps |= {ord(c) for c in gb2312_level1() | repo_chars()}
    out, family = OUT, "DIN Figures CJK"
    if latin_only:
        # the tests' control: the same design without any CJK glyph (they render as boxes)
        cps = set(range(0x20, 0x7F))
        out, family = CONTROL, "DIN Figures Latin"
    cmap = font.getBestCmap()
    keep = sorted(c for c in cps if c in cmap)
    opts = subset.Options()
    opts.layout_features = ["kern", "liga", "locl", "vert", "palt"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=keep)
    sub.subset(font)
    rename(font, family)
    font.save(out)
    print(f"{out}: {family}, {len(keep)} characters, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
