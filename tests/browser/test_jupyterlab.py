"""A chapter in the JupyterLab of ``make lab``, driven in Chromium as a reader drives it.

The server is the one ``make lab`` starts (``tests/test_lab.py`` reads its command from ``make --dry-run lab``
with the README's variables for the port and the browser, and keeps the user's own Jupyter settings out of the
way). The browser opens a chapter by its URL, as a double click in the file browser does, and then:

* the chapter is not marked modified after opening, and saving it unedited leaves the file byte-identical;
* its Markdown is rendered MyST (jupyterlab-myst): no role, label or directive shows as written, the
  exercises are boxes and their solutions are folded;
* Run All (from the Run menu) runs every cell with no error and no output on stderr, and then every number of
  the prose shows its value (``{eval}`glue_text(...)```) instead of the expression;
* saving after the run leaves the file byte-identical again;
* in the variants chapter, moving a slider redraws the figure.

Each chapter is opened in a fresh browser context. Without Chromium the tests skip (and fail with CI=true).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import CHROMIUM, WAIT_SCALE, in_ci, require
from tests.test_lab import LabServer, running_lab

pytestmark = pytest.mark.browser

# make lab's settings for this venv (the Makefile writes them; test-browser and test depend on them).
LAB_SETTINGS = Path(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.json")
# relu has math, glossary terms, citations, cross-references, tables, exercises and glued numbers, and runs in
# seconds; variants has the sliders.
READING_CHAPTER = "relu.md"
WIDGET_CHAPTER = "variants.md"
OPEN_TIMEOUT_MS = 120_000 * WAIT_SCALE
RUN_TIMEOUT_MS = 600_000 * WAIT_SCALE

# MyST as written, which a Markdown renderer that does not know MyST shows as text.
RAW_MYST = {
    "a role": re.compile(r"\{[a-z][\w:-]*\}"),
    "a label": re.compile(r"^\([\w:.-]+\)=\s*$", re.MULTILINE),
    "a directive": re.compile(r"^(```|:::)\{", re.MULTILINE),
    "a directive option": re.compile(r"^:(label|class|name|numbered|sorted):", re.MULTILINE),
}
CURRENT_TAB = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current"
MARKDOWN = ".jp-MarkdownCell .myst"  # jupyterlab-myst's rendering of a Markdown cell
STDERR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def _require_lab_settings() -> None:
    if LAB_SETTINGS.is_file():
        return
    message = f"JupyterLab's settings for the book ({LAB_SETTINGS}) are missing: run `make {LAB_SETTINGS}`"
    if in_ci():
        pytest.fail(f"{message} (CI=true: the JupyterLab tests must run there, not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    require(CHROMIUM.is_file(), f"Chromium ({CHROMIUM})", "chromium")
    _require_lab_settings()
    home = tmp_path_factory.mktemp("jupyter-home")
    # JupyterLab asks once whether to fetch Jupyter news, in a toast over the notebook; a reader answers it once.
    news = home / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}', encoding="utf-8")
    with running_lab(home) as server:
        yield server


class Chapter:
    """A chapter open in JupyterLab in its own browser context."""

    def __init__(self, page: Any, lab: LabServer, name: str) -> None:
        self.page, self.lab, self.name = page, lab, name
        self.path = lab.root_dir / name
        self.written = self.path.read_bytes()
        self.cells = len(lab.get(f"/api/contents/{name}?type=notebook")["content"]["cells"])

    def open(self) -> None:
        # reset: a workspace of its own, without the tabs an earlier test left open.
        self.page.goto(f"{self.lab.url}/lab/tree/{self.name}?reset&token={self.lab.token}")
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=OPEN_TIMEOUT_MS)
        self.wait_for_kernel()
        # windowingMode "defer" (make lab's settings) renders every cell; wait until all are in the page.
        self.page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length === n", arg=self.cells,
            timeout=OPEN_TIMEOUT_MS,
        )

    def wait_for_kernel(self, timeout: float = OPEN_TIMEOUT_MS) -> None:
        """Until the status bar says the chapter's kernel is idle."""
        idle = r"/Python 3 \(actlib\) \| Idle/"
        self.page.wait_for_function(
            f"() => {idle}.test(document.querySelector('#jp-main-statusbar')?.innerText ?? '')",
            timeout=timeout, polling=250,
        )

    def is_modified(self) -> bool:
        return "jp-mod-dirty" in (self.page.get_attribute(CURRENT_TAB, "class") or "")

    def markdown_text(self) -> list[str]:
        return self.page.eval_on_selector_all(MARKDOWN, "cells => cells.map(cell => cell.innerText)")

    def run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        # Every code cell shows an execution count once it has run ("[*]" while it waits or runs).
        self.page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p.innerText.trim()));
            }""",
            timeout=RUN_TIMEOUT_MS,
            polling=500,
        )
        self.wait_for_kernel(RUN_TIMEOUT_MS)

    def save(self) -> bytes:
        """Save with Ctrl+S, as a reader does, and return the file once the save has finished."""
        before = self.lab.get(f"/api/contents/{self.name}?content=0")["last_modified"]
        self.page.locator(".jp-NotebookPanel").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while self.lab.get(f"/api/contents/{self.name}?content=0")["last_modified"] == before or self.is_modified():
            assert time.monotonic() < deadline, f"{self.name} was not saved within 60 s"
            time.sleep(0.25)
        return self.path.read_bytes()


@pytest.fixture
def chapter(request: pytest.FixtureRequest, browser: Any, lab: LabServer) -> Iterator[Chapter]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = Chapter(context.new_page(), lab, request.param)
    try:
        yield opened
    finally:
        context.close()
        # A failed test must not leave a changed chapter behind for the next one (or for git).
        if opened.path.read_bytes() != opened.written:
            opened.path.write_bytes(opened.written)
        for session in lab.get("/api/sessions"):
            lab.request("DELETE", f"/api/sessions/{session['id']}")


def _raw_myst(texts: list[str]) -> list[str]:
    return [f"{kind}: {match.group(0)!r} in {text[:80]!r}..." for text in texts
            for kind, pattern in RAW_MYST.items() for match in pattern.finditer(text)]


@pytest.mark.parametrize("chapter", [READING_CHAPTER], indirect=True)
def test_a_chapter_reads_like_the_book_runs_and_saves_unchanged(chapter: Chapter) -> None:
    chapter.open()
    time.sleep(2)  # let the kernel's language_info and the renderers settle before judging "modified"
    assert not chapter.is_modified(), f"{chapter.name} is marked modified as soon as it opens"
    assert chapter.save() == chapter.written, f"saving {chapter.name} unedited changed the file"

    texts = chapter.markdown_text()
    assert len(texts) == sum(1 for _ in chapter.page.query_selector_all(".jp-MarkdownCell")), "a Markdown cell is empty"
    assert _raw_myst(texts) == [], "MyST shows as written instead of rendered"
    assert chapter.page.locator(f"{MARKDOWN} .katex").count() > 0, "no math typeset"
    # Exercises are boxes, each solution folded under its title until the reader opens it.
    exercises = chapter.page.get_by_text(re.compile(r"^Exercise \d+$"))
    solutions = chapter.page.locator("details", has_text=re.compile(r"Solution to"))
    assert exercises.count() >= 1 and solutions.count() >= 1, "no exercise or solution rendered"
    assert all(solutions.nth(i).get_attribute("open") is None for i in range(solutions.count())), "a solution is open"

    expressions = re.findall(r"\{eval\}`([^`]*)`", chapter.written.decode())
    assert expressions, f"{chapter.name} has no glued number in its prose"
    chapter.run_all()
    assert chapter.page.locator(STDERR_OUTPUT).count() == 0, "a cell raised or wrote to stderr:\n" + "\n".join(
        chapter.page.eval_on_selector_all(STDERR_OUTPUT, "outputs => outputs.map(o => o.innerText.slice(0, 500))")
    )
    texts = "\n".join(chapter.markdown_text())
    unevaluated = [expression for expression in expressions if expression in texts]
    assert unevaluated == [], f"shown as written after Run All, not as values: {unevaluated}"
    assert "Error" not in texts, "an {eval} expression failed in the kernel"
    # One number as a reader reads it, with the value the chapter computed.
    assert re.search(r"Of the outputs, \d+\.\d% are exactly 0 in the first layer", texts), texts[:2000]

    assert chapter.save() == chapter.written, f"saving {chapter.name} after Run All changed the file"


@pytest.mark.parametrize("chapter", [WIDGET_CHAPTER], indirect=True)
def test_a_slider_of_the_variants_chapter_redraws_the_figure(chapter: Chapter) -> None:
    chapter.open()
    chapter.run_all()
    assert chapter.page.locator(STDERR_OUTPUT).count() == 0, "a cell of the variants chapter failed"
    slider = chapter.page.locator(".widget-slider .noUi-handle, .widget-slider .slider-container input").first
    slider.wait_for(timeout=OPEN_TIMEOUT_MS)
    figure = chapter.page.locator(".widget-output img, .jupyter-widgets-output-area img").first
    before = figure.get_attribute("src")
    slider.focus()
    for _ in range(5):
        chapter.page.keyboard.press("ArrowRight")
    chapter.page.wait_for_function(
        "([selector, old]) => { const img = document.querySelector(selector); return img && img.src !== old; }",
        arg=[".widget-output img, .jupyter-widgets-output-area img", before],
        timeout=60_000 * WAIT_SCALE,
    )
    assert chapter.save() == chapter.written, f"saving {chapter.name} after moving a slider changed the file"
