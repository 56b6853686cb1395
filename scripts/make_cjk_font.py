"""Write the web font that renders the book's Chinese text: Noto Sans CJK SC cut to the characters used.

A reader whose system has no CJK font (a stock Debian Chromium, for one) would see every Chinese term as
an empty box. ``_static/cjk.css`` declares this subset as the first family of the theme's font stack, for
the CJK code points only (``unicode-range``), so Latin text keeps the theme's font and the browser
downloads the subset only on pages with Chinese text.

The characters are collected from everything the book prints (``book_sources``: the chapters, the
glossary, the claims audit's ``claims.yml``, the bibliography, and the Python of ``actlib`` and the
Sphinx extension, whose strings the chapters may print) and, with ``--site``, from the pages of a built
site as well. The subset is written with fixed timestamps, so re-running the script without new
characters leaves the file byte for byte the same.

    make font                                    # after adding Chinese text anywhere in the book
    python scripts/make_cjk_font.py --check      # exit 1, naming the missing characters, if stale

The source font is Debian's ``fonts-noto-cjk`` (``apt-get install fonts-noto-cjk``); any other copy of
``NotoSansCJK-Regular.ttc`` or ``NotoSansCJKsc-Regular.otf`` can be given with ``--source``. Noto Sans CJK
is under the SIL Open Font License 1.1, copied next to the subset (``_static/fonts/OFL.txt``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ROOT / "_static" / "fonts" / "noto-sans-cjk-sc-subset.woff"
STYLESHEET = ROOT / "_static" / "cjk.css"
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FAMILY = "Noto Sans CJK SC"

# The blocks a Chinese text draws from: radicals, CJK punctuation (、。《》「」), kana and bopomofo,
# enclosed and compatibility forms, the unified ideographs with their extensions, and the fullwidth
# punctuation (，：（）) of the Halfwidth and Fullwidth Forms block. The same ranges are the
# ``unicode-range`` of the @font-face rule in _static/cjk.css.
CJK_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3100, 0x312F),
    (0x3190, 0x31FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
CJK_CHARACTER = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES) + "]")

# What the book prints, relative to the repository root.
SOURCE_PATTERNS = (
    "book/**/*.md",
    "book/**/*.yml",
    "book/**/*.bib",
    "actlib/**/*.py",
    "_ext/**/*.py",
    "_templates/**/*.html",
    "_toc.yml",
    "_config.yml",
)


def book_sources(root: Path = ROOT) -> list[Path]:
    """Every file whose text the book may print, sorted."""
    return sorted({path for pattern in SOURCE_PATTERNS for path in root.glob(pattern) if path.is_file()})


def cjk_characters(texts: Iterable[str]) -> set[str]:
    """The distinct CJK characters (see ``CJK_RANGES``) in the texts."""
    found: set[str] = set()
    for text in texts:
        found.update(CJK_CHARACTER.findall(text))
    return found


def characters_of_files(paths: Iterable[Path]) -> set[str]:
    return cjk_characters(path.read_text(encoding="utf-8", errors="replace") for path in paths)


def site_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def covered_characters(font_path: Path = SUBSET) -> set[str]:
    """The characters a font file maps to a glyph (the union of its cmap subtables)."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True) as font:
        return {chr(code) for code in font.getBestCmap()}


def _open_source(source: Path):
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() == ".ttc":
        collection = TTCollection(source, recalcTimestamp=False)
        for font in collection.fonts:
            if font["name"].getDebugName(1) == SOURCE_FAMILY:
                return font
        raise SystemExit(f"make_cjk_font: {source} holds no font named {SOURCE_FAMILY!r}")
    return TTFont(source, recalcTimestamp=False)


def write_subset(characters: set[str], source: Path, target: Path = SUBSET) -> None:
    """Cut ``source`` down to ``characters`` and save it as WOFF (zlib) at ``target``."""
    from fontTools import subset

    font = _open_source(source)
    available = set(map(chr, font.getBestCmap()))
    if missing := sorted(characters - available):
        raise SystemExit(f"make_cjk_font: {source} has no glyph for {''.join(missing)}")
    options = subset.Options()
    options.flavor = "woff"
    # Browsers ignore TrueType/CFF hints when scaling CJK outlines to screen sizes; they only add bytes.
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(map(ord, characters)))
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.recalcTimestamp = False
    subset.save_font(font, str(target), options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="Noto Sans CJK (.ttc or SC .otf)")
    parser.add_argument("--site", type=Path, help="also scan the pages of this built html folder")
    parser.add_argument("--check", action="store_true", help="only report characters the subset lacks")
    arguments = parser.parse_args(argv)

    paths = book_sources()
    if arguments.site is not None:
        paths += site_pages(arguments.site)
    characters = characters_of_files(paths)
    if arguments.check:
        missing = sorted(characters - covered_characters()) if SUBSET.is_file() else sorted(characters)
        if missing:
            print(f"{SUBSET.relative_to(ROOT)} lacks {''.join(missing)}: run `make font`", file=sys.stderr)
            return 1
        print(f"{SUBSET.relative_to(ROOT)} covers all {len(characters)} CJK characters of the book")
        return 0
    if not arguments.source.is_file():
        parser.error(f"no source font at {arguments.source}: `apt-get install fonts-noto-cjk`, or pass --source")
    write_subset(characters, arguments.source)
    print(f"{SUBSET.relative_to(ROOT)}: {len(characters)} characters, {SUBSET.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
