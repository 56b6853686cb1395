"""Lighthouse on the heaviest chapter of the built book: prints the four category scores and the page weight.

    .venv/bin/python scripts/lighthouse.py                  # the heaviest page of _build/html
    .venv/bin/python scripts/lighthouse.py --page book/relu.html --json
    .venv/bin/python scripts/lighthouse.py --categories accessibility,best-practices   # the tests' cheaper audit

The heaviest chapter is the page of the reading order whose HTML plus the local files it loads (scripts,
stylesheets, images) weigh the most in the build, so the choice follows the book as it grows. The site is
served on 127.0.0.1 from a thread of this script, and compresses text files with gzip as any web host does
(Lighthouse scores the bytes a reader would download; ``--no-compression`` shows the raw files instead).
Lighthouse runs Debian's Chromium (``CHROME_PATH``) with the desktop preset and simulated throttling, with
Chromium flags that keep the browser from making requests of its own: nothing leaves the machine.

Performance depends on how busy the machine is, so tests assert only accessibility and best practices.
Exit status: 0 when Lighthouse produced scores, 2 when something it needs is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SITE = Path(os.environ.get("ACTBOOK_SITE", ROOT / "_build" / "html"))
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Sphinx's own pages and the root redirect are not chapters.
NOT_CHAPTERS = {"genindex.html", "search.html", "py-modindex.html", "index.html"}
COMPRESSIBLE = {".html", ".js", ".css", ".svg", ".json", ".txt", ".xml", ".map"}
LIGHTHOUSE_TIMEOUT_SECONDS = 600


# --- choosing the page -----------------------------------------------------------------------------


class _LocalAssets(HTMLParser):
    """The URLs of what a page loads: scripts, stylesheets, icons, preloads and images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in {"script", "img"} and values.get("src"):
            self.urls.append(values["src"])
        elif tag == "link" and {"stylesheet", "preload", "icon"} & set(values.get("rel", "").lower().split()):
            self.urls.append(values.get("href", ""))


def page_weight(site: Path, page: Path) -> int:
    """Bytes of the page and of the local files it names (each counted once)."""
    collector = _LocalAssets()
    collector.feed(page.read_text(encoding="utf-8", errors="replace"))
    files = {page.resolve()}
    for url in collector.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        asset = (page.parent / unquote(parts.path)).resolve()
        if asset.is_file() and asset.is_relative_to(site.resolve()):
            files.add(asset)
    return sum(path.stat().st_size for path in files)


def chapters(site: Path) -> list[Path]:
    return sorted(
        path
        for path in site.rglob("*.html")
        if not any(part.startswith("_") for part in path.relative_to(site).parts)
        and path.relative_to(site).as_posix() not in NOT_CHAPTERS
    )


def heaviest_chapter(site: Path) -> tuple[str, int]:
    """The chapter with the largest weight, as a path relative to the site, and that weight."""
    weights = {page.relative_to(site).as_posix(): page_weight(site, page) for page in chapters(site)}
    if not weights:
        raise FileNotFoundError(f"no chapter pages under {site}")
    page = max(weights, key=lambda name: (weights[name], name))
    return page, weights[page]


# --- serving ---------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    compress = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> io.BytesIO | Any:
        path = Path(self.translate_path(self.path))
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.compress and wants_gzip and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def serve(site: Path, compress: bool) -> Iterator[str]:
    handler = functools.partial(type("Handler", (_Handler,), {"compress": compress}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- running Lighthouse ----------------------------------------------------------------------------


def run_lighthouse(url: str, report_path: Path, categories: tuple[str, ...] = CATEGORIES) -> dict[str, Any]:
    command = [
        str(LIGHTHOUSE),
        url,
        "--preset=desktop",
        f"--only-categories={','.join(categories)}",
        "--output=json",
        f"--output-path={report_path}",
        f"--chrome-flags={CHROMIUM_FLAGS}",
        "--quiet",
    ]
    environment = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=LIGHTHOUSE_TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0 or not report_path.is_file():
        raise RuntimeError(f"lighthouse exited with {result.returncode}:\n{result.stderr[-4000:]}")
    return json.loads(report_path.read_text(encoding="utf-8"))


def summarise(report: dict[str, Any], page: str, build_weight: int, compressed: bool) -> dict[str, Any]:
    """Scores, page weight, and the audits that cost points, from a Lighthouse JSON report.

    The layout shift, the weights and the requests come with the performance category: without it they are None.
    """
    audits = report["audits"]
    categories = [category for category in CATEGORIES if category in report["categories"]]
    measured = "network-requests" in audits and "total-byte-weight" in audits
    requests = audits["network-requests"]["details"]["items"] if measured else []
    served_from = urlsplit(report["finalDisplayedUrl"]).netloc
    losing: dict[str, list[str]] = {}
    for category in categories:
        for reference in report["categories"][category]["auditRefs"]:
            audit = audits[reference["id"]]
            if reference["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                shown = f", {audit['displayValue']}" if audit.get("displayValue") else ""
                losing.setdefault(category, []).append(f"{audit['id']} ({audit['score']:.2f}{shown})")
    return {
        "page": page,
        "url": report["finalDisplayedUrl"],
        "scores": {category: report["categories"][category]["score"] for category in categories},
        # The one metric that measures no time: how far the content moved while the page loaded.
        "layout_shift": audits["cumulative-layout-shift"]["numericValue"] if "cumulative-layout-shift" in audits
        else None,
        "transferred_bytes": int(audits["total-byte-weight"]["numericValue"]) if measured else None,
        "resource_bytes": int(sum(item.get("resourceSize", 0) for item in requests)) if measured else None,
        "requests": len(requests) if measured else None,
        "build_weight_bytes": build_weight,
        "compressed": compressed,
        "foreign_requests": sorted({item["url"] for item in requests if urlsplit(item["url"]).netloc != served_from})
        if measured else None,
        "losing_audits": losing,
        "lighthouse_version": report["lighthouseVersion"],
        "run_warnings": report.get("runWarnings", []),
    }


def print_summary(summary: dict[str, Any]) -> None:
    kib = 1024
    print(f"Lighthouse {summary['lighthouse_version']}, desktop preset, on {summary['page']} (the heaviest chapter)")
    for category, score in summary["scores"].items():
        print(f"  {category:<15} {score:.2f}")
    served = "gzip-compressed, as a web host serves it" if summary["compressed"] else "uncompressed"
    if summary["transferred_bytes"] is None:
        print(f"  page weight     {summary['build_weight_bytes'] / kib:,.0f} KiB in the build "
              "(transfers are measured with the performance category)")
    else:
        print(
            f"  page weight     {summary['transferred_bytes'] / kib:,.0f} KiB transferred ({served}), "
            f"{summary['resource_bytes'] / kib:,.0f} KiB of files, {summary['requests']} requests"
        )
    for category, audits in summary["losing_audits"].items():
        print(f"  {category} loses points on: {'; '.join(audits)}")
    if summary["foreign_requests"]:
        print(f"  requests to other hosts: {summary['foreign_requests']}")
    for warning in summary["run_warnings"]:
        print(f"  warning: {warning}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=DEFAULT_SITE, help="the built html folder (default %(default)s)")
    parser.add_argument("--page", help="a page of the site to audit instead of the heaviest chapter")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--report", type=Path, help="also keep Lighthouse's full JSON report here")
    parser.add_argument("--no-compression", action="store_true", help="serve the files uncompressed")
    parser.add_argument("--categories", default=",".join(CATEGORIES),
                        help="comma-separated categories to audit (default: %(default)s)")
    arguments = parser.parse_args(argv)
    categories = tuple(category.strip() for category in arguments.categories.split(",") if category.strip())
    if not categories or set(categories) - set(CATEGORIES):
        parser.error(f"--categories takes some of {', '.join(CATEGORIES)}, got {arguments.categories!r}")

    site = arguments.site.resolve()
    missing = [
        f"{what}: {how}"
        for what, how, present in (
            (f"the built book ({site})", "run `make book`", (site / "searchindex.js").is_file()),
            (f"Lighthouse ({LIGHTHOUSE})", "run `make node_modules`", LIGHTHOUSE.is_file()),
            (f"Chromium ({CHROMIUM})", "run `apt-get install chromium`", CHROMIUM.is_file()),
        )
        if not present
    ]
    if missing:
        print("missing " + "; ".join(missing), file=sys.stderr)
        return 2

    if arguments.page:
        page, weight = arguments.page, page_weight(site, site / arguments.page)
    else:
        page, weight = heaviest_chapter(site)
    compress = not arguments.no_compression
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as scratch, serve(site, compress) as base_url:
        report_path = Path(scratch) / "report.json"
        report = run_lighthouse(base_url + page, report_path, categories)
        if arguments.report:
            arguments.report.write_text(report_path.read_text(encoding="utf-8"), encoding="utf-8")
    if report.get("runtimeError"):
        print(f"Lighthouse could not audit {page}: {report['runtimeError']}", file=sys.stderr)
        return 1
    summary = summarise(report, page, weight, compress)
    if arguments.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
