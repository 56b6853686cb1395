"""How much of each chapter a reader sees as code before expanding anything, measured on the built HTML.

The share of a page is the visible code divided by the visible text of its article: characters of the
input of every code cell that is not collapsed (MyST-NB's ``hide-input`` wraps the input in a closed
``<details>``), over every character of the article a reader sees without a click (prose, formulas'
TeX source, outputs, tables, and the visible code itself). Whitespace runs count as one character, so
indentation and blank lines weigh the same in code as in prose. Collapsed content (closed
``<details>`` elements, and the admonitions that sphinx-togglebutton folds: ``.toggle`` and
``.admonition.dropdown``) counts in neither; its summary or title line is visible and counts as text.

Reference pages (the part of ``_toc.yml`` captioned "Reference": glossary, API, references) are not
chapters and are left out. The book's target (issue 11): at most 30% over all chapters together, at
most 40% on any one chapter.

    python scripts/code_share.py [--site _build/html] [--json]

prints one row per chapter and the total, and exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Tag

# the table of contents is read by execute_chapters.py, beside this script, however this one is loaded
sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_chapters import toc_documents

ROOT = Path(__file__).resolve().parent.parent
OVERALL_LIMIT = 0.30
PER_CHAPTER_LIMIT = 0.40
REFERENCE_CAPTION = "Reference"

_WHITESPACE = re.compile(r"\s+")
# sphinx-togglebutton's default selector: what its script folds when the page loads.
_FOLDED_BY_SCRIPT = ("toggle", "dropdown")


@dataclass(frozen=True)
class Share:
    """Visible characters of code and of all text on one page."""

    page: str
    code: int
    text: int

    @property
    def fraction(self) -> float:
        return self.code / self.text if self.text else 0.0


def chapter_documents(toc_path: Path) -> list[str]:
    """The root and every chapter of ``_toc.yml`` outside the part captioned "Reference", in order."""
    return toc_documents(toc_path, leave_out_caption=REFERENCE_CAPTION)


def _visible_length(text: str) -> int:
    return len(_WHITESPACE.sub(" ", text).strip())


def _is_collapsed(element: Tag) -> bool:
    if element.name == "details":
        return not element.has_attr("open")
    classes = element.get("class") or []
    if "toggle" in classes:
        return True
    return "dropdown" in classes and "admonition" in classes


def _drop_collapsed_content(root: Tag) -> None:
    """Remove what a reader sees only after a click, keeping each fold's summary or title."""
    for element in root.find_all(_is_collapsed):
        if element.decomposed:
            continue
        keep = element.find("summary", recursive=False) if element.name == "details" else None
        if keep is None:
            keep = element.find(class_="admonition-title", recursive=False)
        for child in list(element.children):
            if child is not keep:
                child.extract()
        if keep is not None:
            # MyST-NB's summary holds both prompts; its CSS shows "Show ..." while the fold is closed.
            for prompt in keep.find_all(class_="expanded"):
                prompt.extract()


def page_share(html: str, page: str = "") -> Share:
    """Visible code and visible text of the article of one built page (see the module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup.find("main") or soup.body or soup
    for element in article.find_all(["script", "style", "template"]):
        element.decompose()
    _drop_collapsed_content(article)
    code = sum(_visible_length(cell.get_text()) for cell in article.select("div.cell_input"))
    return Share(page, code, _visible_length(article.get_text()))


def site_shares(site: Path, toc_path: Path = ROOT / "_toc.yml") -> list[Share]:
    """One ``Share`` per chapter of the built site, in reading order."""
    shares = []
    for document in chapter_documents(toc_path):
        page = site / f"{document}.html"
        shares.append(page_share(page.read_text(encoding="utf-8"), document))
    return shares


def total(shares: list[Share]) -> Share:
    return Share("all chapters", sum(share.code for share in shares), sum(share.text for share in shares))


def problems(shares: list[Share]) -> list[str]:
    """Each missed target, worded for a test's failure message; empty when both targets are met."""
    found = [
        f"{share.page}: {share.fraction:.1%} visible code (limit {PER_CHAPTER_LIMIT:.0%})"
        for share in shares
        if share.fraction > PER_CHAPTER_LIMIT
    ]
    overall = total(shares)
    if overall.fraction > OVERALL_LIMIT:
        found.append(f"all chapters: {overall.fraction:.1%} visible code (limit {OVERALL_LIMIT:.0%})")
    return found


def table(shares: list[Share]) -> str:
    rows = [f"{'page':<24}{'code':>9}{'text':>9}{'share':>8}"]
    for share in [*shares, total(shares)]:
        rows.append(f"{share.page:<24}{share.code:>9}{share.text:>9}{share.fraction:>8.1%}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="a built html folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args(argv)
    if not (arguments.site / "searchindex.js").is_file():
        parser.error(f"{arguments.site} is not a built site: run `make book` first")
    shares = site_shares(arguments.site)
    if arguments.json:
        figures = {share.page: {"code": share.code, "text": share.text} for share in [*shares, total(shares)]}
        print(json.dumps(figures, indent=2))
    else:
        print(table(shares))
    missed = problems(shares)
    for problem in missed:
        print(f"over the target: {problem}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
