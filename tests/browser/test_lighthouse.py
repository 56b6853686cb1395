"""Lighthouse on the heaviest chapter and on the activation explorer, through ``scripts/lighthouse.py``:
accessibility 1.0 and best practices at least 0.95.

Performance and SEO are printed by the script, never asserted (the performance score measures time, which
depends on how busy the machine is), so the tests audit only what they assert: the explorer's audit keeps the
performance category for its layout shift and requests.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM, LIGHTHOUSE, ROOT, require

pytestmark = pytest.mark.browser

SCRIPT = ROOT / "scripts" / "lighthouse.py"
SCRIPT_TIMEOUT_SECONDS = 900


def load_script():
    spec = importlib.util.spec_from_file_location("lighthouse_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_lighthouse_scores_of_the_heaviest_chapter(site: Path) -> None:
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "chromium")
    require(LIGHTHOUSE.is_file(), f"Lighthouse ({LIGHTHOUSE.relative_to(ROOT)})", "node_modules")
    result = subprocess.run(
        # performance and SEO are not asserted: leaving them out saves a third of the audit's CPU
        [sys.executable, str(SCRIPT), "--site", str(site), "--json", "--categories", "accessibility,best-practices"],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    scores, losing = summary["scores"], summary["losing_audits"]
    assert scores["accessibility"] == 1.0, losing.get("accessibility")
    assert scores["best-practices"] >= 0.95, losing.get("best-practices")


@pytest.mark.slow
def test_lighthouse_scores_of_the_activation_explorer(site: Path) -> None:
    """The explorer draws after the page has loaded: its space is reserved, so nothing below it moves
    (a layout shift under 0.1, Lighthouse's "good"), and its controls keep accessibility at 1.0."""
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "chromium")
    require(LIGHTHOUSE.is_file(), f"Lighthouse ({LIGHTHOUSE.relative_to(ROOT)})", "node_modules")
    result = subprocess.run(
        # the layout shift and the requests come with the performance category
        [sys.executable, str(SCRIPT), "--site", str(site), "--page", "book/explorer.html", "--json",
         "--categories", "performance,accessibility,best-practices"],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    scores, losing = summary["scores"], summary["losing_audits"]
    assert scores["accessibility"] == 1.0, losing.get("accessibility")
    assert scores["best-practices"] >= 0.95, losing.get("best-practices")
    assert summary["layout_shift"] < 0.1, losing.get("performance")
    assert summary["foreign_requests"] == []


def test_the_heaviest_chapter_is_found_in_the_build(tmp_path: Path) -> None:
    """Weight is the page plus the local files it loads, each once; Sphinx's pages are not chapters."""
    lighthouse = load_script()
    (tmp_path / "book").mkdir()
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "big.png").write_bytes(b"x" * 50_000)
    (tmp_path / "book" / "short.html").write_text(
        '<img src="../_images/big.png"><img src="../_images/big.png"><script src="https://cdn.example/x.js"></script>',
        encoding="utf-8",
    )
    (tmp_path / "book" / "long.html").write_text("<p>" + "words " * 5_000 + "</p>", encoding="utf-8")
    (tmp_path / "genindex.html").write_text("<p>" + "index " * 20_000 + "</p>", encoding="utf-8")
    page, weight = lighthouse.heaviest_chapter(tmp_path)
    assert page == "book/short.html"
    assert weight == 50_000 + (tmp_path / "book" / "short.html").stat().st_size
