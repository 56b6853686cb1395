"""Accessibility of every page of the built book: axe-core finds no serious or critical violation, and
every image has a text alternative (its own alt text, or the caption of the figure it is in).

axe-core runs inside the page (``node_modules/axe-core/axe.min.js`` is injected once the page has
settled), with the rules it enables by default. Minor and moderate findings are not failures; their
counts over the whole site are printed at the end of the run. Both checks are first run on a hand-written
page that breaks them, so that a check that stopped finding anything fails there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import ONE_PIXEL_PNG, AxeTally, PageVisit, SiteVisits, serve

pytestmark = pytest.mark.browser

FAILING_IMPACTS = {"serious", "critical"}


def serious_violations(violations: list[dict[str, Any]]) -> list[str]:
    """One line per serious or critical violation: rule, impact, what it means, where it is."""
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in violations
        if violation["impact"] in FAILING_IMPACTS
    ]


# A file name says nothing about a picture, and a screen reader reads it out (WCAG failure F30). Sphinx
# writes the image path as the alt text when a cell's output has none.
_FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp|avif)$", re.IGNORECASE)


def alt_text_problems(visit: PageVisit) -> list[str]:
    problems = []
    for image in visit.facts["images"]:
        alt = (image["alt"] or "").strip()
        if alt and (_FILE_NAME.search(alt) or alt == image["src"]):
            problems.append(f"{image['src']}: the alternative text is a file name")
        elif not alt and not image["caption"]:
            problems.append(f"{image['src']}: no alternative text and no figure caption")
    return problems


# --- the book's pages ------------------------------------------------------------------------------


def test_no_serious_or_critical_axe_violation(
    visits: SiteVisits, site_page: str, axe_source: str, axe_tally: AxeTally
) -> None:
    visit = visits[site_page]
    assert visit.axe_violations is not None, "axe-core did not run"
    axe_tally.add(site_page, visit.axe_violations)
    assert serious_violations(visit.axe_violations) == []


def test_every_image_has_a_text_alternative(visits: SiteVisits, site_page: str) -> None:
    assert alt_text_problems(visits[site_page]) == []


# --- the checks themselves, on a hand-written page -------------------------------------------------


# The theme's own mistake (a button named "Search" that shows "Search Ctrl+K"), an image without alt
# text, one whose alt text is its file name, and one with an empty alt outside any figure.
_INACCESSIBLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Inaccessible</title>
<link rel="icon" href="data:,"></head><body><main><h1>Inaccessible</h1>
<button aria-label="Search">Search <kbd>Ctrl</kbd>+<kbd>K</kbd></button>
<img src="pixel.png"><img src="plot.png" alt="plot.png"><img src="pixel.png" alt="">
</main></body></html>"""

_ACCESSIBLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Accessible</title>
<link rel="icon" href="data:,"></head><body><main><h1>Accessible</h1>
<button aria-keyshortcuts="Control+K">Search <kbd>Ctrl</kbd>+<kbd>K</kbd></button>
<img src="pixel.png" alt="A single dark pixel">
<figure><img src="plot.png" alt=""><figcaption>A plot described by its caption.</figcaption></figure>
</main></body></html>"""


@pytest.fixture(scope="module")
def hand_written_visits(
    browser: Any, axe_source: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SiteVisits]:
    directory = tmp_path_factory.mktemp("hand-written-accessibility")
    (directory / "inaccessible.html").write_text(_INACCESSIBLE_PAGE, encoding="utf-8")
    (directory / "accessible.html").write_text(_ACCESSIBLE_PAGE, encoding="utf-8")
    for image in ("pixel.png", "plot.png"):
        (directory / image).write_bytes(ONE_PIXEL_PNG)
    with serve(Path(directory)) as url:
        yield SiteVisits(browser, url, axe_source)


def test_checks_catch_an_inaccessible_page(hand_written_visits: SiteVisits) -> None:
    visit = hand_written_visits["inaccessible.html"]
    found = {line.split(" ", 1)[0] for line in serious_violations(visit.axe_violations or [])}
    assert found == {"label-content-name-mismatch", "image-alt"}
    assert alt_text_problems(visit) == [
        "pixel.png: no alternative text and no figure caption",
        "plot.png: the alternative text is a file name",
        "pixel.png: no alternative text and no figure caption",
    ]


def test_checks_pass_an_accessible_page(hand_written_visits: SiteVisits) -> None:
    visit = hand_written_visits["accessible.html"]
    assert serious_violations(visit.axe_violations or []) == []
    assert alt_text_problems(visit) == []
