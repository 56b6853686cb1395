"""Fixtures for reading the built book in a real browser: Debian's Chromium, driven by Playwright.

One browser and one local server serve the whole session; ``visits`` keeps one recorded visit per page
(see ``support.py``). What a test needs and cannot find (Chromium, the built site, ``node_modules``) makes
it skip with the command that provides it; with ``CI=true`` the same condition fails the test instead, so
CI cannot pass by skipping the browser tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    AXE_SCRIPT,
    CHROMIUM,
    CHROMIUM_FLAGS,
    IMPACTS,
    NICE_VARIABLE,
    ROOT,
    SITE,
    AxeTally,
    SiteVisits,
    reading_order_pages,
    require,
    serve,
    sessions_below_kept_at,
    site_is_built,
    site_pages,
)

# Stands in for the list of pages when there is no built site, so that the page tests are still collected,
# reach the ``site`` fixture and skip (or fail, in CI) with a message, instead of vanishing as an empty
# parameter set.
NO_SITE = "no-built-site"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Under pytest-xdist (`make test` runs two workers, --dist loadgroup) every test of one page goes to the
    # worker that visits it, so each page is still loaded once.
    if "site_page" in metafunc.fixturenames:
        metafunc.parametrize("site_page", _grouped(site_pages() or [NO_SITE]), indirect=True)
    if "reading_page" in metafunc.fixturenames:
        metafunc.parametrize("reading_page", _grouped(reading_order_pages() or [NO_SITE]), indirect=True)


def _grouped(pages: list[str]) -> list[Any]:
    return [pytest.param(page, marks=pytest.mark.xdist_group(page)) for page in pages]


@pytest.fixture(scope="session", autouse=True)
def _yield_the_cores() -> Iterator[None]:
    """Under ``make test`` the browsers, audits and JupyterLab's kernels run at the nice value it gives
    (``ACTBOOK_BROWSER_NICE``), sessions included (``support.lower_sessions_below``), so that the chapters' kernels
    of the Python tests beside them keep the cores."""
    nice = os.environ.get(NICE_VARIABLE)
    with sessions_below_kept_at(int(nice) if nice else None):
        yield


@pytest.fixture(scope="session")
def site() -> Path:
    require(site_is_built(), f"the built book ({SITE}/searchindex.js)", "site")
    return SITE


@pytest.fixture
def site_page(request: pytest.FixtureRequest, site: Path) -> str:
    """Each page of the site in turn (parametrized by ``pytest_generate_tests``)."""
    _require_its_group(request)
    return request.param


def _require_its_group(request: pytest.FixtureRequest) -> None:
    """Under ``--dist loadgroup`` a test of a page must carry the page's group in its id, which is how pytest-xdist
    sends it to the worker that visits the page: without it the page is loaded (and audited) on both workers."""
    if getattr(request.config.option, "loadgroup", False) and not request.node.nodeid.endswith(f"@{request.param}"):
        pytest.fail(f"pytest-xdist did not group {request.node.nodeid} with its page: this pytest drops the group "
                    "from test ids (pytest-dev/pytest-xdist#1386); requirements.txt pins one that keeps it")


@pytest.fixture
def reading_page(request: pytest.FixtureRequest, site: Path) -> str:
    """Each page of the reading order in turn (parametrized by ``pytest_generate_tests``)."""
    _require_its_group(request)
    return request.param


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """One Playwright for the session: its sync API refuses to start a second one while the first runs."""
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    # executable_path: Debian's Chromium, never a browser downloaded by `playwright install`.
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE_SCRIPT.is_file(), f"axe-core ({AXE_SCRIPT.relative_to(ROOT)})", "node_modules")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def visits(browser: Any, site_url: str) -> SiteVisits:
    # axe runs in the same visit when it is installed, so a page is loaded once for all its checks; the
    # accessibility tests ask for ``axe_source`` themselves, and skip (or fail) without it.
    axe = AXE_SCRIPT.read_text(encoding="utf-8") if AXE_SCRIPT.is_file() else None
    return SiteVisits(browser, site_url, axe)


# --- axe's counts over the whole site, printed at the end of the run ----------------------------------


@pytest.fixture
def axe_tally(record_property: Any) -> Iterator[AxeTally]:
    """The page's violations, recorded on the test's report: the summary below adds them up over every worker."""
    tally = AxeTally()
    yield tally
    record_property("axe_tally", (sorted(tally.pages), dict(tally.nodes_by_impact), dict(tally.nodes_by_rule)))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tally = AxeTally()
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "axe_tally" and not set(value[0]) <= tally.pages:
                    tally.pages.update(value[0])
                    tally.nodes_by_impact.update(value[1])
                    tally.nodes_by_rule.update(value[2])
    if tally.pages:
        counts = ", ".join(f"{impact} {tally.nodes_by_impact[impact]}" for impact in IMPACTS)
        terminalreporter.write_line(f"axe-core violations over {len(tally.pages)} pages, in nodes: {counts}")
        for rule, count in tally.nodes_by_rule.most_common():
            terminalreporter.write_line(f"    {rule}: {count}")
