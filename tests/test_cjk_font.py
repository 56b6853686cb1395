"""The committed CJK web font covers every Chinese character the book prints, and the stylesheet that
declares it agrees with the script that makes it.

These tests read the committed subset with fontTools and need no Noto font on the machine; only
``make font`` (scripts/make_cjk_font.py) does. Other branches add Chinese text (quotations in the claims
audit, glossary terms), so after a merge this test says which characters are missing and that
``make font`` writes them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("make_cjk_font", ROOT / "scripts" / "make_cjk_font.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_cjk_font = _load_script()


def test_collector_finds_chinese_characters_and_punctuation_only() -> None:
    text = "ReLU（修正线性单元）, “quoted”, café, 3×3, 「引用」。"
    assert make_cjk_font.cjk_characters([text]) == set("（修正线性单元）「引用」。")


def test_sources_include_chapters_glossary_and_claims() -> None:
    sources = {path.relative_to(ROOT).as_posix() for path in make_cjk_font.book_sources()}
    assert {"book/glossary.md", "book/claims.yml", "book/relu.md", "_ext/actbook.py"} <= sources


def test_subset_covers_every_cjk_character_of_the_book() -> None:
    assert make_cjk_font.SUBSET.is_file(), "no CJK subset: run `make font`"
    needed = make_cjk_font.characters_of_files(make_cjk_font.book_sources())
    assert needed, "the book has no Chinese text, so the scan itself is broken"
    missing = sorted(needed - make_cjk_font.covered_characters())
    assert missing == [], f"the CJK subset lacks {''.join(missing)}: run `make font` and commit the subset"


def test_subset_holds_no_latin_glyphs() -> None:
    """Latin text must keep the theme's font; the subset maps CJK code points only."""
    covered = make_cjk_font.covered_characters()
    assert covered and all(make_cjk_font.CJK_CHARACTER.fullmatch(character) for character in covered)


def _unicode_ranges(css: str) -> list[tuple[int, int]]:
    declaration = re.search(r"unicode-range:\s*([^;]+);", css)
    assert declaration, "no unicode-range in the @font-face rule"
    ranges = []
    for item in declaration.group(1).split(","):
        low, _, high = item.strip().removeprefix("U+").partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    return ranges


def test_stylesheet_declares_the_subset_for_the_cjk_ranges() -> None:
    css = make_cjk_font.STYLESHEET.read_text(encoding="utf-8")
    assert _unicode_ranges(css) == list(make_cjk_font.CJK_RANGES)
    source = re.search(r'src:\s*url\("([^"]+)"\)', css)
    assert source, "the @font-face rule names no file"
    assert (make_cjk_font.STYLESHEET.parent / source.group(1)).resolve() == make_cjk_font.SUBSET.resolve()
    family = re.search(r'font-family:\s*"([^"]+)"', css).group(1)
    assert f'--pst-font-family-base: "{family}"' in css, "the CJK face is not first in the theme's base font"
