"""What the browser tests share: where things are, how the site is served, and one recorded visit per page.

The tests read a site that is already built (``make book`` writes ``_build/html``; ``ACTBOOK_SITE`` points
them elsewhere). It is served over HTTP on 127.0.0.1, because search, MathJax's fonts and the theme's
scripts do not work the same from ``file://``. The pages are visited one after another in one tab (per
worker), each left to settle, and everything the tests check is recorded while it is open (``SiteVisits``),
so that all the checks of one page cost one page load. Tests that interact with a page open a fresh browser
context of their own (``open_page``).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("ACTBOOK_SITE", ROOT / "_build" / "html")).resolve()
CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that phones home: the tests must see only the requests the page itself makes.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NODE_MODULES = ROOT / "node_modules"
AXE_SCRIPT = NODE_MODULES / "axe-core" / "axe.min.js"
LIGHTHOUSE = NODE_MODULES / ".bin" / "lighthouse"
LOCAL_HOST = "127.0.0.1"
# Pages Sphinx writes itself rather than from a chapter. They are checked like every other page, but they
# are not in the reading order, so they have no previous / next links.
SPHINX_GENERATED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
#: ``make test`` sets this (a nice value) for the browser tests, which run beside the Python tests.
NICE_VARIABLE = "ACTBOOK_BROWSER_NICE"
#: Waits are ten times longer when the browsers yield the cores: a page can then wait minutes for them.
WAIT_SCALE = 10 if os.environ.get(NICE_VARIABLE) else 1
# Generous: MathJax and axe on the longest chapter take seconds when both cores are busy.
PAGE_TIMEOUT_MS = 60_000 * WAIT_SCALE

# A valid 1x1 PNG, for the hand-written pages on which the checks are tested.
ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a0e5b1cd0000000049454e44ae426082"
)

_HOW_TO_GET = {
    "chromium": "install it with `apt-get install chromium` (not `playwright install`, which downloads a browser)",
    "site": "build it with `make book`, or point ACTBOOK_SITE at a built html folder",
    "node_modules": "install the npm packages with `make node_modules` (`npm ci` from package-lock.json)",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require(available: bool, missing: str, provider: str) -> None:
    """Skip the test when something it needs is missing, saying how to get it; in CI, fail instead."""
    if available:
        return
    message = f"{missing} is missing: {_HOW_TO_GET[provider]}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: the browser tests must run there, not skip)", pytrace=False)
    pytest.skip(message)


# --- the pages of the site -------------------------------------------------------------------------


def site_is_built(site: Path = SITE) -> bool:
    return (site / "searchindex.js").is_file()


def site_pages(site: Path = SITE) -> list[str]:
    """Every HTML page of the built site, relative to its root, so that a new chapter is checked at once.

    Folders whose names start with ``_`` hold assets (``_static`` has the theme's template fragments, which
    are ``.html`` files but not pages). ``index.html`` stays: it is the redirect a reader opens first.
    """
    if not site_is_built(site):
        return []
    return sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if not any(part.startswith("_") for part in path.relative_to(site).parts)
    )


_META_REFRESH = re.compile(
    r"""<meta[^>]*http-equiv=["']?refresh["']?[^>]*content=["']\s*\d+\s*;\s*url=([^"']+)""", re.IGNORECASE
)


def meta_refresh_target(html: str) -> str | None:
    """Where a redirect page (``<meta http-equiv="refresh">``) sends the reader, or None."""
    match = _META_REFRESH.search(html[:4000])
    return match.group(1).strip() if match else None


def reading_order_pages(site: Path = SITE) -> list[str]:
    """The pages a reader moves through with previous / next: all but Sphinx's own pages and redirects."""
    return [
        page
        for page in site_pages(site)
        if page not in SPHINX_GENERATED_PAGES
        and meta_refresh_target((site / page).read_text(encoding="utf-8", errors="replace")) is None
    ]


# --- serving ---------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1, on a free port, from a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((LOCAL_HOST, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"serve {directory}", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def fetch(url: str) -> tuple[int, str]:
    """HTTP status and body of a URL on the local server (errors are statuses, not exceptions)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, ""


# --- sharing the cores ----------------------------------------------------------------------------

def lower_sessions_below(pid: int, nice: int) -> list[int]:
    """Give every session started by a descendant of ``pid`` the scheduling weight of ``nice``; their leaders' pids.

    Linux shares the cores between sessions first (autogroups, ``man 7 sched``) and only then between the processes
    of a session by their nice values. Chromium, Lighthouse's Chrome and a JupyterLab kernel each start a session of
    their own, so the nice value they inherit weighs nothing against a chapter's kernel, itself a session: measured
    beside two Chromiums at nice 19, a chapter ran at 45% of a core. Raising a session's nice value needs no
    privilege. Does nothing where the kernel has no autogroups.
    """
    import psutil

    lowered = []
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return lowered
    for process in descendants:
        try:
            if os.getsid(process.pid) != process.pid:
                continue
            autogroup = Path(f"/proc/{process.pid}/autogroup")
            if f" nice {nice}" not in autogroup.read_text(encoding="utf-8"):
                autogroup.write_text(f"{nice}\n", encoding="utf-8")
            lowered.append(process.pid)
        except OSError:  # gone meanwhile, or no autogroups
            continue
    return lowered


@contextlib.contextmanager
def sessions_below_kept_at(nice: int | None, every_seconds: float = 1.0) -> Iterator[None]:
    """While the block runs, keep every session this process starts at ``nice`` (``None``: do nothing)."""
    if nice is None:
        yield
        return
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(every_seconds):
            lower_sessions_below(os.getpid(), nice)

    thread = threading.Thread(target=keep, name="lower browser sessions", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- pages in the browser --------------------------------------------------------------------------


@dataclass
class Watcher:
    """What a page does that a reader should never meet: console errors, failed and foreign requests."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    handlers: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        # kept, so that detach hands Playwright the very objects it registered
        self.handlers = [
            ("console", self._on_console),
            ("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}")),
            ("requestfailed", lambda request: self.failed_requests.append(f"{request.url} ({request.failure})")),
            ("response", self._on_response),
            ("request", self._on_request),
        ]
        for event, handler in self.handlers:
            page.on(event, handler)

    def detach(self, page: Any) -> None:
        for event, handler in self.handlers:
            page.remove_listener(event, handler)
        self.handlers = []

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            source = message.location.get("url", "")
            self.console_errors.append(f"{message.text} [{source}]" if source else message.text)

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def _on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        # data: and blob: URLs never leave the page; everything else must go to the local server.
        if parts.scheme not in {"data", "blob"} and parts.hostname != LOCAL_HOST:
            self.foreign_requests.append(request.url)


@contextlib.contextmanager
def open_page(browser: Any) -> Iterator[tuple[Any, Watcher]]:
    """A page in a fresh browser context (empty cache), watched from before its first request."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    watcher = Watcher()
    watcher.attach(page)
    try:
        yield page, watcher
    finally:
        context.close()


class SharedTab:
    """One tab that successive checks navigate, each watched from before its first request.

    A new context and tab per page start a renderer each time, about a second of CPU per page, half of a visit
    without axe; a tab navigated to the next page of the same server keeps its renderer. Every visit is a new
    document: nothing of a page's state but the HTTP cache reaches the next one.
    """

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._tab: Any = None

    def _the_tab(self) -> Any:
        if self._tab is None or self._tab.is_closed():
            context = self._browser.new_context()
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            self._tab = context.new_page()
        return self._tab

    @contextlib.contextmanager
    def visit(self) -> Iterator[tuple[Any, Watcher]]:
        """The tab, with a watcher attached for this visit only."""
        page, watcher = self._the_tab(), Watcher()
        watcher.attach(page)
        try:
            yield page, watcher
        finally:
            watcher.detach(page)

    def close(self) -> None:
        if self._tab is not None and not self._tab.is_closed():
            self._tab.context.close()
        self._tab = None


def settle(page: Any) -> None:
    """Wait until the page is done: loaded, formulas typeset, and the late requests (MathJax's fonts) over."""
    page.wait_for_load_state("load")
    page.evaluate("async () => { if (window.MathJax?.startup?.promise) await window.MathJax.startup.promise; }")
    page.wait_for_load_state("networkidle")


# Run in a settled page. Images are made eager first: a lazy image below the fold would never load, and
# decode() would call it broken.
_PAGE_FACTS = """async () => {
  const images = [...document.images];
  images.forEach((image) => { image.loading = "eager"; });
  const undecodable = [];
  await Promise.all(images.map(async (image) => {
    try { await image.decode(); } catch (error) { undecodable.push(image.currentSrc || image.src); return; }
    if (image.naturalWidth === 0) undecodable.push(image.currentSrc || image.src);
  }));
  const math = [...document.querySelectorAll(".math")];
  return {
    images: images.map((image) => ({
      src: image.getAttribute("src") || "",
      alt: image.getAttribute("alt"),
      caption: image.closest("figure")?.querySelector("figcaption")?.textContent.trim() || "",
    })),
    undecodable,
    mathjax_started: Boolean(window.MathJax?.startup?.promise),
    math_elements: math.length,
    typeset_containers: document.querySelectorAll("mjx-container").length,
    untypeset_math: math.filter((element) => element.querySelectorAll("mjx-container").length !== 1)
                        .map((element) => element.textContent.trim().slice(0, 80)),
    math_errors: [...document.querySelectorAll("mjx-merror")].map((element) => element.textContent.slice(0, 80)),
    prev_next: [...document.querySelectorAll(".prev-next-area a")].map((link) => ({
      rel: link.classList.contains("left-prev") ? "prev" : link.classList.contains("right-next") ? "next" : "?",
      href: link.getAttribute("href"),
      url: link.href,
    })),
  };
}"""


@dataclass
class PageVisit:
    page: str
    final_url: str
    console_errors: list[str]
    failed_requests: list[str]
    foreign_requests: list[str]
    facts: dict[str, Any]
    axe_violations: list[dict[str, Any]] | None


class SiteVisits:
    """Visits each page of a served site at most once and keeps what was observed.

    With ``axe_source``, axe-core is injected once the page has settled (after the page's own errors and
    requests were recorded) and its violations are kept too.
    """

    def __init__(self, browser: Any, base_url: str, axe_source: str | None = None) -> None:
        self.base_url = base_url
        self._tab = SharedTab(browser)
        self._axe_source = axe_source
        self._visits: dict[str, PageVisit] = {}

    def __getitem__(self, page_path: str) -> PageVisit:
        if page_path not in self._visits:
            self._visits[page_path] = self._visit(page_path)
        return self._visits[page_path]

    def _visit(self, page_path: str) -> PageVisit:
        url = self.base_url + page_path
        _, html = fetch(url)
        redirect = meta_refresh_target(html)
        with self._tab.visit() as (page, watcher):
            page.goto(url, wait_until="load")
            if redirect is not None:
                # Waiting for the target, so that the checks run on the page the reader ends up on.
                page.wait_for_url(urljoin(url, redirect))
            settle(page)  # nothing is left in flight for the next visit to see
            facts = page.evaluate(_PAGE_FACTS)
            observed = (list(watcher.console_errors), list(watcher.failed_requests), list(watcher.foreign_requests))
        violations = run_axe(page, self._axe_source) if self._axe_source is not None else None
        return PageVisit(page_path, page.url, *observed, facts, violations)


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, with every rule axe enables by default."""
    page.add_script_tag(content=axe_source)
    # resultTypes: report only violations in full (passes are counted, not listed): three times faster.
    return page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")


IMPACTS = ("minor", "moderate", "serious", "critical")


@dataclass
class AxeTally:
    """Violating nodes by impact and by rule, summed over the pages checked."""

    pages: set[str] = field(default_factory=set)
    nodes_by_impact: Counter = field(default_factory=Counter)
    nodes_by_rule: Counter = field(default_factory=Counter)

    def add(self, page: str, violations: list[dict[str, Any]]) -> None:
        if page in self.pages:
            return
        self.pages.add(page)
        for violation in violations:
            self.nodes_by_impact[violation["impact"]] += len(violation["nodes"])
            self.nodes_by_rule[f"{violation['id']} ({violation['impact']})"] += len(violation["nodes"])
