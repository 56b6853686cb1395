"""Chinese text renders with the book's web font in a Chromium that has no CJK font of its own.

The browser of these tests is started with a fontconfig that knows only the DejaVu fonts, whatever
fonts the machine has, so the page's web font is the only source of CJK glyphs. Two observations decide:

* the ``@font-face`` of ``_static/cjk.css`` has been loaded by the page itself (``document.fonts``), and
* each CJK character, drawn on a canvas in the font the page gives its element, has pixels of its own:
  different from the missing-glyph box ("tofu") that the same character gets in DejaVu Sans, and different
  from every other character. Without a font for them, all characters draw the same box.

A control in the same browser draws two characters in DejaVu Sans and requires identical boxes: if it
fails, the browser found a CJK font after all and the other observations would prove nothing.

The checks run on the book's pages with Chinese text, and on two hand-written pages: one that links the
site's stylesheet (must pass) and one that does not (must fail). To see a book page fail, remove the
``@font-face`` rule from ``_static/cjk.css`` (or from ``_build/html/_static/cjk.css`` of a built site)
and run ``pytest -m browser tests/browser/test_cjk_rendering.py``: every page reports that the face never
loaded and that its characters draw as tofu.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    SharedTab,
    in_ci,
    require,
    serve,
    settle,
    site_pages,
)

pytestmark = pytest.mark.browser

FAMILY = "Actbook Noto Sans CJK SC"
# Fonts with no CJK glyph, present wherever Debian's Chromium is (fonts-dejavu-core).
LATIN_ONLY_FONTS = Path("/usr/share/fonts/truetype/dejavu")
TOFU_FONT = "DejaVu Sans"
# Characters compared per page: enough to catch a partial subset, few enough to stay fast.
MAX_CHARACTERS = 60


def _load_font_script():
    spec = importlib.util.spec_from_file_location("make_cjk_font", ROOT / "scripts" / "make_cjk_font.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


make_cjk_font = _load_font_script()


@pytest.fixture(scope="module")
def latin_only_browser(tmp_path_factory: pytest.TempPathFactory, playwright_driver: Any) -> Iterator[Any]:
    """Chromium whose fontconfig lists the DejaVu fonts only: no CJK system font, on any machine."""
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "chromium")
    if not LATIN_ONLY_FONTS.is_dir():
        message = f"{LATIN_ONLY_FONTS} is missing: `apt-get install fonts-dejavu-core`"
        if in_ci():
            pytest.fail(f"{message} (CI=true: the browser tests must run there, not skip)", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("fontconfig")
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{LATIN_ONLY_FONTS}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    environment = {**os.environ, "FONTCONFIG_FILE": str(config)}
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True, env=environment
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def latin_only_tab(latin_only_browser: Any) -> Iterator[SharedTab]:
    """One tab of that browser for every page observed (each visit is a new document, with its own fonts)."""
    tab = SharedTab(latin_only_browser)
    yield tab
    tab.close()


# Run in a settled page. Records whether the page loaded the CJK face before anything here asks for it,
# then draws each distinct CJK character of the article (in the font-family of the element it sits in)
# and the tofu control, and returns a fingerprint of each drawing.
_OBSERVE = """async ({family, tofuFont, maxCharacters, pattern}) => {
  await document.fonts.ready;
  const faces = [...document.fonts].filter((face) => face.family.replace(/"/g, "") === family);
  const loadedByPage = faces.some((face) => face.status === "loaded");
  const cjk = new RegExp(pattern, "gu");
  const root = document.querySelector("article") || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const seen = new Map();
  for (let node = walker.nextNode(); node && seen.size < maxCharacters; node = walker.nextNode()) {
    for (const character of node.textContent.match(cjk) || []) {
      if (!seen.has(character) && node.parentElement.getClientRects().length) {
        seen.set(character, getComputedStyle(node.parentElement).fontFamily);
      }
    }
  }
  const canvas = document.createElement("canvas");
  canvas.width = 48; canvas.height = 48;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const draw = (character, fontFamily) => {
    context.clearRect(0, 0, 48, 48);
    context.font = `32px ${fontFamily}`;
    context.fillStyle = "#000";
    context.textBaseline = "middle";
    context.fillText(character, 8, 24);
    const pixels = context.getImageData(0, 0, 48, 48).data;
    let hash = 0;
    for (let i = 3; i < pixels.length; i += 4) hash = (hash * 31 + pixels[i] * (i + 1)) >>> 0;
    return hash;
  };
  const characters = [];
  for (const [character, fontFamily] of seen) {
    await document.fonts.load(`32px ${fontFamily}`, character);
    characters.push({ character, fontFamily, drawn: draw(character, fontFamily),
                      tofu: draw(character, `"${tofuFont}"`) });
  }
  return {
    faces: faces.length,
    loadedByPage,
    characters,
    control: [draw("\\u4E00", `"${tofuFont}"`), draw("\\u9F8D", `"${tofuFont}"`)],
  };
}"""


def observe(tab: SharedTab, url: str) -> dict[str, Any]:
    with tab.visit() as (page, _):
        page.goto(url, wait_until="load")
        settle(page)
        return page.evaluate(
            _OBSERVE,
            {
                "family": FAMILY,
                "tofuFont": TOFU_FONT,
                "maxCharacters": MAX_CHARACTERS,
                "pattern": make_cjk_font.CJK_CHARACTER.pattern,
            },
        )


def rendering_problems(observed: dict[str, Any]) -> list[str]:
    """What shows that the page's Chinese text is not drawn with real glyphs; empty when it is."""
    problems = []
    if observed["control"][0] != observed["control"][1]:
        problems.append(f"the browser has a CJK font of its own ({TOFU_FONT} drew two characters differently)")
    if not observed["characters"]:
        problems.append("no visible CJK text on the page")
    if not observed["faces"]:
        problems.append(f"no @font-face named {FAMILY!r}")
    elif not observed["loadedByPage"]:
        problems.append(f"the page never loaded the {FAMILY!r} face")
    tofu = [item["character"] for item in observed["characters"] if item["drawn"] == item["tofu"]]
    if tofu:
        problems.append(f"drawn as the missing-glyph box: {''.join(tofu)}")
    by_drawing: dict[int, list[str]] = {}
    for item in observed["characters"]:
        by_drawing.setdefault(item["drawn"], []).append(item["character"])
    alike = ["".join(group) for group in by_drawing.values() if len(group) > 1]
    if alike:
        problems.append(f"different characters drawn alike: {', '.join(alike)}")
    return problems


# --- the check, on hand-written pages --------------------------------------------------------------

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{link}
<style>html {{ --pst-font-family-base-system: "DejaVu Sans", sans-serif; }}
body {{ font-family: var(--pst-font-family-base, var(--pst-font-family-base-system)); }}</style></head>
<body><article><p>ReLU ({text}) and sigmoid ({other}).</p></article></body></html>"""


@pytest.fixture(scope="module")
def hand_written_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Two pages using characters of the committed subset, with and without the site's stylesheet."""
    folder = tmp_path_factory.mktemp("cjk-pages")
    shutil.copytree(ROOT / "_static", folder / "_static")
    text, other = "修正线性单元", "激活函数"
    link = '<link rel="stylesheet" href="_static/cjk.css">'
    (folder / "with-font.html").write_text(_PAGE.format(link=link, text=text, other=other), encoding="utf-8")
    (folder / "without-font.html").write_text(_PAGE.format(link="", text=text, other=other), encoding="utf-8")
    with serve(folder) as url:
        yield url


def test_a_page_with_the_stylesheet_renders_chinese(latin_only_tab: SharedTab, hand_written_site: str) -> None:
    assert rendering_problems(observe(latin_only_tab, hand_written_site + "with-font.html")) == []


def test_a_page_without_the_font_shows_tofu(latin_only_tab: SharedTab, hand_written_site: str) -> None:
    problems = rendering_problems(observe(latin_only_tab, hand_written_site + "without-font.html"))
    assert f"no @font-face named {FAMILY!r}" in problems
    assert any(problem.startswith("drawn as the missing-glyph box: ") for problem in problems), problems


# --- the book's pages ------------------------------------------------------------------------------


def _article_has_cjk(page: Path) -> bool:
    html = page.read_text(encoding="utf-8", errors="replace")
    article = re.search(r"<article.*?</article>", html, re.DOTALL)
    return bool(article and make_cjk_font.CJK_CHARACTER.search(article.group(0)))


def test_book_pages_with_chinese_render_it(latin_only_tab: SharedTab, site: Path, site_url: str) -> None:
    pages = [page for page in site_pages(site) if _article_has_cjk(site / page)]
    assert pages, "no page of the built book has Chinese text"
    problems = {}
    for page in pages:
        if found := rendering_problems(observe(latin_only_tab, site_url + page)):
            problems[page] = found
    assert problems == {}


def test_subset_covers_the_built_pages(site: Path) -> None:
    """Text that only a build produces (cell outputs) is covered too; `make font` scans sources only."""
    needed = make_cjk_font.characters_of_files(make_cjk_font.site_pages(site))
    missing = sorted(needed - make_cjk_font.covered_characters())
    assert missing == [], (
        f"built pages use {''.join(missing)}, which the subset lacks: "
        f"run `python scripts/make_cjk_font.py --site {site}`"
    )
