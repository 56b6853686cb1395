"""Every page of the built book, read in Chromium: it loads cleanly, its images and formulas render, its
previous / next links lead somewhere, and the search box finds what the book contains.

Each check is a function from what a visit observed to a list of problems, so the same function is run on
the book's pages (where the list must be empty) and on small hand-written pages that break each rule
once (where it must not be): a check that stopped detecting anything would fail there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest

from tests.browser.support import (
    ONE_PIXEL_PNG,
    PAGE_TIMEOUT_MS,
    PageVisit,
    SiteVisits,
    fetch,
    open_page,
    reading_order_pages,
    serve,
    settle,
    site_pages,
)

pytestmark = pytest.mark.browser


# --- the checks ------------------------------------------------------------------------------------


def console_problems(visit: PageVisit) -> list[str]:
    return visit.console_errors


def request_problems(visit: PageVisit) -> list[str]:
    return visit.failed_requests


def foreign_request_problems(visit: PageVisit) -> list[str]:
    return visit.foreign_requests


def image_problems(visit: PageVisit) -> list[str]:
    return [f"does not decode: {src}" for src in visit.facts["undecodable"]]


def formula_problems(visit: PageVisit) -> list[str]:
    """Every ``.math`` element holds exactly one MathJax output, and none of them is a TeX error."""
    facts = visit.facts
    problems = []
    if facts["math_elements"] and not facts["mathjax_started"]:
        problems.append(f"{facts['math_elements']} formulas but MathJax did not start")
    problems += [f"not typeset: {text}" for text in facts["untypeset_math"]]
    if facts["typeset_containers"] != facts["math_elements"]:
        problems.append(f"{facts['typeset_containers']} MathJax outputs for {facts['math_elements']} formulas")
    problems += [f"TeX error: {text}" for text in facts["math_errors"]]
    return problems


def prev_next_problems(visit: PageVisit, base_url: str) -> list[str]:
    """Each previous / next link names a page of this site that the server returns (HTTP 200)."""
    problems = []
    for link in visit.facts["prev_next"]:
        if not link["url"].startswith(base_url):
            problems.append(f"{link['rel']} link leaves the site: {link['href']}")
        elif (status := fetch(link["url"])[0]) != 200:
            problems.append(f"{link['rel']} link {link['href']} answers HTTP {status}")
    return problems


# --- the book's pages ------------------------------------------------------------------------------


def test_no_console_error(visits: SiteVisits, site_page: str) -> None:
    assert console_problems(visits[site_page]) == []


def test_no_failed_request(visits: SiteVisits, site_page: str) -> None:
    assert request_problems(visits[site_page]) == []


def test_no_request_leaves_the_local_server(visits: SiteVisits, site_page: str) -> None:
    assert foreign_request_problems(visits[site_page]) == []


def test_every_image_decodes(visits: SiteVisits, site_page: str) -> None:
    assert image_problems(visits[site_page]) == []


def test_every_formula_is_typeset(visits: SiteVisits, site_page: str) -> None:
    assert formula_problems(visits[site_page]) == []


def test_the_site_root_has_an_icon(site_url: str) -> None:
    """Browsers ask for /favicon.ico on a page that names no icon (the index.html redirect): a 404 there is
    a console error, logged or not depending on how fast the redirect is, so it is checked directly."""
    status, _ = fetch(f"{site_url}favicon.ico")
    assert status == 200


def test_previous_and_next_links_resolve(visits: SiteVisits, site_url: str, reading_page: str) -> None:
    visit = visits[reading_page]
    assert visit.facts["prev_next"], "a page of the reading order without previous / next links"
    assert prev_next_problems(visit, site_url) == []


class _PrevNextLinks(HTMLParser):
    """The previous and next links of a built page as Sphinx wrote them (``left-prev`` and ``right-next``)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, list[str]] = {"prev": [], "next": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        for rel, name in (("prev", "left-prev"), ("next", "right-next")):
            if tag == "a" and name in classes:
                self.links[rel].append(attributes.get("href") or "")


def prev_next_links(site: Path, page: str) -> dict[str, str]:
    """``page``'s previous and next pages (site-relative paths), read from its HTML: the chain is a property of
    the markup, and each page's links are also followed in the browser (the test above)."""
    parser = _PrevNextLinks()
    parser.feed((site / page).read_text(encoding="utf-8"))
    assert all(len(hrefs) <= 1 for hrefs in parser.links.values()), f"{page} has several {parser.links}"
    return {rel: urljoin(page, hrefs[0]) for rel, hrefs in parser.links.items() if hrefs}


def test_previous_and_next_links_chain_every_page(site: Path) -> None:
    """Following "next" from the first page reaches every page once, and "previous" walks back."""
    pages = reading_order_pages(site)
    links = {page: prev_next_links(site, page) for page in pages}
    first = [page for page in pages if "prev" not in links[page]]
    assert len(first) == 1, f"pages without a previous link: {first}"
    order = [first[0]]
    while "next" in links[order[-1]] and len(order) <= len(pages):
        order.append(links[order[-1]]["next"])
    assert sorted(order) == sorted(pages), f"the next links visit {order}"
    for earlier, later in itertools.pairwise(order):
        assert links[later].get("prev") == earlier, f"{later} does not link back to {earlier}"


# --- search ----------------------------------------------------------------------------------------

# Sphinx's search page fills #search-results and, when it has listed every hit, writes a summary.
_SEARCH_FINISHED = """() => {
  const summary = document.querySelector("#search-results .search-summary");
  return Boolean(summary && summary.textContent.trim());
}"""


def search_results(page: Any) -> list[str]:
    """The pages listed on a search results page, once the search has finished."""
    page.wait_for_function(_SEARCH_FINISHED, timeout=PAGE_TIMEOUT_MS)
    return page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(link => link.getAttribute('href'))"
    )


def search(page: Any, site_url: str, query: str) -> list[str]:
    """What the search page lists for ``query``, as the search box's form would ask for it."""
    page.goto(f"{site_url}search.html?q={quote(query)}")
    return search_results(page)


def lists_page(results: list[str], page: str) -> bool:
    return any(href.split("#")[0].split("?")[0].endswith(page) for href in results)


def test_search_box_finds_relu(browser: Any, site_url: str) -> None:
    """Typed into the search box of a chapter, as a reader does, "ReLU" lists the ReLU chapter."""
    with open_page(browser) as (page, watcher):
        page.goto(f"{site_url}book/why.html")
        settle(page)
        page.keyboard.press("Control+k")  # the theme's shortcut; it opens the search dialog
        box = page.locator("#pst-search-dialog input[name=q]")
        box.fill("ReLU")
        box.press("Enter")
        page.wait_for_url(re.compile(r"/search\.html\?q=ReLU"))
        results = search_results(page)
    assert lists_page(results, "book/relu.html"), results
    assert watcher.console_errors == []


def chinese_glossary_terms(site: Path) -> list[str]:
    """The glossary's terms that contain Chinese characters, read from the built glossary page."""
    glossary = (site / "book" / "glossary.html").read_text(encoding="utf-8")
    terms = re.findall(r'<dt id="term-[^"]*">(.*?)<a class="headerlink"', glossary, flags=re.DOTALL)
    return [term.strip() for term in terms if re.search(r"[\u4e00-\u9fff]", term)]


def test_search_finds_every_chinese_glossary_term(browser: Any, site_url: str, site: Path) -> None:
    terms = chinese_glossary_terms(site)
    assert len(terms) >= 10, f"the glossary should give the Chinese term of each entry, found {terms}"
    with open_page(browser) as (page, watcher):
        # One page for every query: after the first, the search index comes from the browser's cache.
        not_found = [term for term in terms if not lists_page(search(page, site_url, term), "book/glossary.html")]
    assert not_found == [], "Chinese glossary terms the search does not find"
    assert watcher.console_errors == []


def test_search_for_a_nonsense_word_finds_nothing(browser: Any, site_url: str) -> None:
    with open_page(browser) as (page, watcher):
        results = search(page, site_url, "qzxvjwkplm")
        summary = page.inner_text("#search-results .search-summary")
    assert results == []
    assert "did not match any documents" in summary
    assert watcher.console_errors == []


# --- the checks themselves, on hand-written pages -----------------------------------------------------

# Another host that refuses at once (127.0.0.2 is loopback, but not the server), so the broken page's
# foreign request fails fast with or without a network.
_OTHER_HOST = "http://127.0.0.2:9"

_CLEAN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clean</title>
<link rel="icon" href="data:,">
<script>window.MathJax = {startup: {typeset: true}};</script><script defer src="mathjax/tex-chtml.js"></script>
</head><body><main><h1>Clean</h1><img src="pixel.png" alt="a single pixel">
<p><span class="math">\\(x^2\\)</span></p>
<div class="prev-next-area"><a class="right-next" href="broken.html">next</a></div>
</main></body></html>"""

_BROKEN_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Broken</title>
<link rel="icon" href="data:,">
<script>console.error("logged by the page");</script>
<script>window.addEventListener("load", () => {{ undefinedFunction(); }});</script>
<script src="{_OTHER_HOST}/cdn.js"></script>
<script>window.MathJax = {{startup: {{typeset: true}}}};</script><script defer src="mathjax/tex-chtml.js"></script>
</head><body><main><h1>Broken</h1>
<img src="missing.png" alt="missing"><img src="not-an-image.png" alt="text that claims to be a PNG">
<p><span class="math">\\(\\frac{{1}}\\)</span> and <span class="math">\\(x\\)</span></p>
<div class="prev-next-area"><a class="left-prev" href="gone.html">prev</a>
<a class="right-next" href="https://example.org/next.html">next</a></div>
</main></body></html>"""

# Math the build marked up but nothing typesets: MathJax is not loaded.
_UNTYPESET_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Raw TeX</title>
<link rel="icon" href="data:,"></head><body><main><p><span class="math">\\(x\\)</span></p></main></body></html>"""


@pytest.fixture(scope="module")
def hand_written_site(tmp_path_factory: pytest.TempPathFactory, site: Path) -> Path:
    directory = tmp_path_factory.mktemp("hand-written-site")
    for name, html in (("clean", _CLEAN_PAGE), ("broken", _BROKEN_PAGE), ("untypeset", _UNTYPESET_PAGE)):
        (directory / f"{name}.html").write_text(html, encoding="utf-8")
    (directory / "pixel.png").write_bytes(ONE_PIXEL_PNG)
    (directory / "not-an-image.png").write_text("not a PNG", encoding="utf-8")
    # The book's own MathJax, so that the TeX error below is MathJax's verdict, as it would be in a chapter.
    (directory / "mathjax").symlink_to(site / "_static" / "mathjax", target_is_directory=True)
    return directory


@pytest.fixture(scope="module")
def hand_written_visits(browser: Any, hand_written_site: Path) -> Iterator[tuple[SiteVisits, str]]:
    with serve(hand_written_site) as url:
        yield SiteVisits(browser, url), url


ALL_PAGE_CHECKS = (console_problems, request_problems, foreign_request_problems, image_problems, formula_problems)


def test_checks_pass_a_clean_page(hand_written_visits: tuple[SiteVisits, str]) -> None:
    visits, url = hand_written_visits
    visit = visits["clean.html"]
    problems = {check.__name__: check(visit) for check in ALL_PAGE_CHECKS}
    assert problems == {name: [] for name in problems}
    assert visit.facts["math_elements"] == 1
    assert prev_next_problems(visit, url) == []


def test_checks_catch_a_broken_page(hand_written_visits: tuple[SiteVisits, str]) -> None:
    visits, url = hand_written_visits
    visit = visits["broken.html"]
    console = "\n".join(console_problems(visit))
    assert "logged by the page" in console
    assert "undefinedFunction" in console
    assert any("missing.png (HTTP 404)" in problem for problem in request_problems(visit))
    assert foreign_request_problems(visit) == [f"{_OTHER_HOST}/cdn.js"]
    assert sorted(problem.rsplit("/", 1)[1] for problem in image_problems(visit)) == ["missing.png", "not-an-image.png"]
    assert [problem for problem in formula_problems(visit) if problem.startswith("TeX error")] != []
    assert prev_next_problems(visit, url) == [
        "prev link gone.html answers HTTP 404",
        "next link leaves the site: https://example.org/next.html",
    ]


def test_formula_check_catches_math_left_as_tex(hand_written_visits: tuple[SiteVisits, str]) -> None:
    visits, _ = hand_written_visits
    assert formula_problems(visits["untypeset.html"]) == [
        "1 formulas but MathJax did not start",
        r"not typeset: \(x\)",
        "0 MathJax outputs for 1 formulas",
    ]


def test_pages_are_discovered_from_the_build(tmp_path: Path) -> None:
    for page in ("index.html", "search.html", "genindex.html", "book/a.html", "book/b/c.html", "_static/macros.html"):
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("<html></html>", encoding="utf-8")
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/a.html" />', encoding="utf-8")
    (tmp_path / "searchindex.js").write_text("Search.setIndex({})", encoding="utf-8")
    assert site_pages(tmp_path) == ["book/a.html", "book/b/c.html", "genindex.html", "index.html", "search.html"]
    assert reading_order_pages(tmp_path) == ["book/a.html", "book/b/c.html"]


def test_sessions_a_test_starts_are_lowered(tmp_path: Path) -> None:
    """What ``make test`` relies on to keep the cores for the chapters: a child's own session gets the nice value."""
    import os
    import subprocess
    import sys

    from tests.browser.support import lower_sessions_below

    if not Path("/proc/self/autogroup").is_file():
        pytest.skip("this kernel has no autogroups: the inherited nice value is enough")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        assert child.pid in lower_sessions_below(os.getpid(), 7)
        assert Path(f"/proc/{child.pid}/autogroup").read_text(encoding="utf-8").rstrip().endswith(" nice 7")
    finally:
        child.kill()
        child.wait()
