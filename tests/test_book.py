"""The strict book build: a clean build with ``-n`` that gives no warning, and checks of the HTML it writes.

The clean build is the whole build ``make book`` made from the sources as they are (``scripts/build_book.py``
records its warnings), or else a ``jupyter-book build -W -n`` in a temporary copy of the repository, which starts
from the execution cache of ``make book`` when it is current and never touches the ``_build`` folder a reader may
be browsing. The HTML checks are plain functions, tested on small hand-written pages first, so a checker that
stopped detecting what it is meant to detect fails here instead of passing silently.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
# `make test` sets this so that the browser tests read the site this test built, instead of building
# the book a second time (a clean build takes minutes on two cores).
KEEP_SITE_VARIABLE = "ACTBOOK_KEEP_STRICT_SITE"
BUILD_TIMEOUT_SECONDS = 60 * 60
# The execution cache of `make book`, from which the strict build starts when it is current; set
# ACTBOOK_FRESH_BUILD=1 to execute every chapter instead.
BOOK_CACHE = ROOT / "_build" / ".jupyter_cache"
FRESH_BUILD_VARIABLE = "ACTBOOK_FRESH_BUILD"


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class body is being built
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


code_share = _load_script("code_share")
execution_inputs = _load_script("execution_inputs")
execute_chapters = _load_script("execute_chapters")
build_book = _load_script("build_book")
toc_documents = execute_chapters.toc_documents
sphinx_warnings = build_book.sphinx_warnings
# Copied into the temporary build: everything but tool folders, caches and earlier builds.
_NOT_COPIED = shutil.ignore_patterns(*build_book.NOT_SOURCES)


# Attributes through which a page makes the browser fetch something.
_FETCHING_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
# <link> fetches for these relations; others (next, prev, index, search, canonical) are navigation.
_FETCHING_LINK_RELATIONS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "manifest",
    "mask-icon",
    "preconnect",
    "dns-prefetch",
}
_CSS_REMOTE_URL = re.compile(
    r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.IGNORECASE
)


def is_remote(url: str) -> bool:
    """A URL that leaves the site: an absolute http(s) URL or a protocol-relative ``//host/...``."""
    url = url.strip()
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} or (not parts.scheme and url.startswith("//"))


class _AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        names = _FETCHING_ATTRIBUTES.get(tag, ())
        if tag == "link" and set(values.get("rel", "").lower().split()) & _FETCHING_LINK_RELATIONS:
            names = ("href",)
        for name in names:
            for url in _urls_of(name, values.get(name, "")):
                self.assets.append((tag, url))
        if "style" in values:
            self.assets += [(f"{tag}[style]", url) for url in _CSS_REMOTE_URL.findall(values["style"])]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.assets += [("style", url) for url in _CSS_REMOTE_URL.findall(data)]


def _urls_of(attribute: str, value: str) -> Iterator[str]:
    if not value:
        return
    if attribute == "srcset":
        for candidate in value.split(","):
            if candidate.strip():
                yield candidate.strip().split()[0]
    else:
        yield value


def remote_assets_in_html(html: str) -> list[tuple[str, str]]:
    """``(tag, url)`` for each script, stylesheet, image, font or frame the page fetches from another host."""
    collector = _AssetCollector()
    collector.feed(html)
    collector.close()
    return [(tag, url) for tag, url in collector.assets if is_remote(url)]


def remote_assets_in_css(css: str) -> list[str]:
    """URLs of fonts, images and imports a stylesheet fetches from another host."""
    return [url for url in _CSS_REMOTE_URL.findall(css) if is_remote(url)]


# --- the checkers, on pages whose verdict is known -------------------------------------------------


def test_checker_flags_assets_from_other_hosts() -> None:
    page = """<html><head>
      <script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
      <link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">
      <style>@font-face { src: url("https://example.org/font.woff2"); }</style>
      </head><body><img srcset="local.png 1x, http://example.org/big.png 2x"></body></html>"""
    assert remote_assets_in_html(page) == [
        ("script", "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"),
        ("link", "//fonts.googleapis.com/css?family=Lato"),
        ("style", "https://example.org/font.woff2"),
        ("img", "http://example.org/big.png"),
    ]
    css = "@import 'https://example.org/a.css'; b { background: url(//x.org/i.png) }"
    assert remote_assets_in_css(css) == [
        "https://example.org/a.css",
        "//x.org/i.png",
    ]


def test_checker_allows_local_assets_and_links_to_papers() -> None:
    page = """<html><head>
      <script src="../_static/mathjax/tex-chtml.js"></script>
      <link rel="stylesheet" href="_static/styles/theme.css">
      <link rel="next" href="https://example.org/next.html">
      </head><body><a href="https://doi.org/10.1109/ICCV.2015.123">He et al.</a>
      <img src="../_images/relu.png"></body></html>"""
    assert remote_assets_in_html(page) == []


def test_warning_filter_keeps_sphinx_warnings_only() -> None:
    output = "\n".join(
        [
            "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication ...",
            "\x1b[91mbook/api.md:12: WARNING: py:func reference target not found: relu\x1b[39;49;00m",
            "build succeeded.",
        ]
    )
    assert sphinx_warnings(output) == ["book/api.md:12: WARNING: py:func reference target not found: relu"]


def test_a_whole_build_stands_for_the_strict_build_only_of_the_sources_it_was_made_from(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "_build").mkdir()
    record = {"sources": build_book.sources_fingerprint(tmp_path), "whole": True, "status": 0, "warnings": []}
    (tmp_path / "_build" / ".book-build.json").write_text(json.dumps(record), encoding="utf-8")
    assert build_book.whole_build_of_these_sources(tmp_path) == record
    for not_a_source in ("_build/html/a.html", ".venv/lib/x.py", "book/.ipynb_checkpoints/a.md", "node_modules/m.js"):
        (tmp_path / not_a_source).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / not_a_source).write_text("written by a tool", encoding="utf-8")
    assert build_book.whole_build_of_these_sources(tmp_path) == record

    (tmp_path / "book" / "a.md").write_text("# A, edited\n", encoding="utf-8")
    assert build_book.whole_build_of_these_sources(tmp_path) is None
    (tmp_path / "book" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "new.css").write_text("p {}", encoding="utf-8")
    assert build_book.whole_build_of_these_sources(tmp_path) is None
    (tmp_path / "_static" / "new.css").unlink()
    assert build_book.whole_build_of_these_sources(tmp_path) == record
    incremental = {**record, "whole": False}
    (tmp_path / "_build" / ".book-build.json").write_text(json.dumps(incremental), encoding="utf-8")
    assert build_book.whole_build_of_these_sources(tmp_path) is None


def test_make_books_record_is_whole_only_after_a_build_of_every_page(tmp_path: Path) -> None:
    """A first build (no saved environment) is whole; a rebuild of the same sources keeps the record; a rebuild after
    an edit is incremental, so the strict-build test builds again."""
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("# A\n", encoding="utf-8")
    fake = tmp_path / "fake-jupyter-book"  # writes the saved environment as Sphinx does
    fake.write_text('#!/bin/sh\nmkdir -p "$2/_build/.doctrees"\necho "build succeeded."\n', encoding="utf-8")
    fake.chmod(0o755)

    def built() -> dict:
        assert build_book.build(tmp_path, fake) == 0
        return build_book.read_record(tmp_path)

    first = built()
    assert first["whole"] and first["warnings"] == []
    assert build_book.whole_build_of_these_sources(tmp_path) == first
    assert built() == first  # the same sources again: still whole
    (tmp_path / "book" / "a.md").write_text("# A, edited\n", encoding="utf-8")
    assert built()["whole"] is False
    assert build_book.whole_build_of_these_sources(tmp_path) is None


def test_toc_lists_the_root_and_every_chapter(tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
        "      - file: book/a.md\n        sections:\n          - file: book/a1\n      - file: book/b\n",
        encoding="utf-8",
    )
    assert toc_documents(toc) == ["book/intro", "book/a", "book/a1", "book/b"]


def test_every_page_under_book_is_in_the_toc() -> None:
    listed = set(toc_documents(ROOT / "_toc.yml"))
    pages = {
        path.relative_to(ROOT).with_suffix("").as_posix()
        for pattern in ("*.md", "*.ipynb")
        for path in (ROOT / "book").rglob(pattern)
        if path.name != "README.md"
        and not any(part.startswith((".", "_")) for part in path.relative_to(ROOT).parts)
    }
    assert sorted(pages - listed) == [], "pages under book/ missing from _toc.yml (they would not be built)"
    assert sorted(listed - pages) == [], "_toc.yml names pages that do not exist"



# A chapter as MyST-NB writes it: a visible cell, a cell collapsed by hide-input, an exercise solution
# folded by sphinx-togglebutton, and prose; Sphinx separates block elements with newlines, as here.
_CHAPTER_PAGE = """<html><body><nav>Navigation is not article text</nav><article class="bd-article">
  <h1>Title</h1>
  <p>Prose  of\n a</p>
  <div class="cell docutils container"><div class="cell_input docutils container">
    <div class="highlight"><pre>x   =\n  1</pre></div></div></div>
  <div class="cell tag_hide-input docutils container">
    <details class="admonition hide above-input"><summary aria-label="Toggle hidden content">
      <p class="collapsed admonition-title">Show code source</p>
      <p class="expanded admonition-title">Hide code source</p></summary>
      <div class="cell_input docutils container"><pre>glue("hidden", 12345)</pre></div></details>
    <div class="cell_output docutils container"><pre>out</pre></div></div>
  <div class="solution dropdown admonition"><p class="admonition-title">Solution</p>
    <p>long answer</p></div>
  <script>var ignored = 1;</script>
</article></body></html>"""


def test_code_share_counts_visible_code_over_visible_text() -> None:
    share = code_share.page_share(_CHAPTER_PAGE, "chapter")
    assert share.code == len("x = 1")
    visible = ["Title", "Prose of a", "x = 1", "Show code source", "out", "Solution"]
    assert share.text == len(" ".join(visible))


def test_code_share_counts_an_opened_fold_and_unhidden_cells() -> None:
    opened = _CHAPTER_PAGE.replace('<details class="admonition hide above-input">', "<details open>")
    assert code_share.page_share(opened).code == len("x = 1") + len('glue("hidden", 12345)')


def test_code_share_targets_name_the_chapters_that_miss_them() -> None:
    Share = code_share.Share
    met = [Share("a", 30, 100), Share("b", 10, 100)]
    assert code_share.problems(met) == []
    one_heavy = [Share("a", 45, 100), Share("b", 0, 300)]
    assert code_share.problems(one_heavy) == ["a: 45.0% visible code (limit 40%)"]
    all_heavy = [Share("a", 35, 100), Share("b", 35, 100)]
    assert code_share.problems(all_heavy) == ["all chapters: 35.0% visible code (limit 30%)"]


def test_code_share_leaves_out_the_reference_part(tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n      - file: book/a\n"
        "  - caption: Reference\n    chapters:\n      - file: book/glossary\n      - file: book/api\n",
        encoding="utf-8",
    )
    assert code_share.chapter_documents(toc) == ["book/intro", "book/a"]


# --- the build ------------------------------------------------------------------------------------


def _strict_build(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(copy), "--builder", "html", "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        cwd=copy,
        check=False,
    )


def _remote_assets(html: Path) -> dict[str, list]:
    remote: dict[str, list] = {}
    for page in sorted(html.rglob("*.html")):
        if found := remote_assets_in_html(page.read_text(encoding="utf-8", errors="replace")):
            remote[str(page.relative_to(html))] = found
    for sheet in sorted(html.rglob("*.css")):
        if found := remote_assets_in_css(sheet.read_text(encoding="utf-8", errors="replace")):
            remote[str(sheet.relative_to(html))] = found
    return remote


def _seed_execution_cache(copy: Path) -> str:
    """Start the copy's build from the execution cache ``make book`` left, when it was made from the code as it is.

    The cache matches a chapter by its code cells, and ``scripts/execution_inputs.py`` fingerprints the rest
    (actlib, the book's data files, the installed packages): with a current fingerprint, a chapter whose code
    did not change is rendered from its recorded outputs, which an execution of the same inputs produced, and
    a changed one executes here. Nothing is lost: a cell that raised was never recorded, so it raises again;
    recorded stderr is rendered, so it is still a warning; and tests/test_notebooks.py runs every chapter in a
    fresh kernel and compares its outputs with these. Returns what was done, for the report.
    """
    if os.environ.get(FRESH_BUILD_VARIABLE):
        return f"not used ({FRESH_BUILD_VARIABLE} is set): every chapter executes"
    if not execution_inputs.is_current(BOOK_CACHE):
        return f"{BOOK_CACHE.relative_to(ROOT)} is missing or stale (run `make book`): every chapter executes"
    shutil.copytree(BOOK_CACHE, copy / "_build" / BOOK_CACHE.name)
    return f"started from {BOOK_CACHE.relative_to(ROOT)}, as `make book` left it"


def _keep_execution_cache(copy: Path, inputs: str) -> None:
    """Leave the executions of a passing strict build where ``make book`` and the next test run look for them.

    Only when the inputs did not change while the build ran; the folder is swapped in whole, and its
    fingerprint written after it, so that a reader of the cache never sees half of it.
    """
    if execution_inputs.fingerprint() != inputs:
        return
    staged = BOOK_CACHE.with_name(f"{BOOK_CACHE.name}.{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(copy / "_build" / BOOK_CACHE.name, staged)
    execution_inputs.stamp_path(BOOK_CACHE).unlink(missing_ok=True)
    shutil.rmtree(BOOK_CACHE, ignore_errors=True)
    staged.rename(BOOK_CACHE)
    execution_inputs.stamp_path(BOOK_CACHE).write_text(inputs + "\n", encoding="utf-8")


# One test, so that the book is built once even when pytest-xdist spreads tests over workers.
@pytest.mark.slow
def test_strict_build(tmp_path: Path) -> None:
    """No warning and no error in a clean build with ``-n``, and the checks of the HTML it wrote.

    When ``make book`` built every page from the sources as they are now (``scripts/build_book.py`` records its
    warnings and a fingerprint of the sources), that build is the clean build: Sphinx, starting without a saved
    environment, read and wrote every page, and ``-W`` would only have turned the warnings it recorded into a
    failing exit status. Otherwise (an incremental build, a changed source, or ``ACTBOOK_FRESH_BUILD``) the book is
    built here with ``-W -n --keep-going`` in a copy of the repository.
    """
    if not JUPYTER_BOOK.exists():
        pytest.skip(f"jupyter-book is not installed next to {sys.executable}; run `make book-strict`")
    whole_build = None if os.environ.get(FRESH_BUILD_VARIABLE) else build_book.whole_build_of_these_sources()
    if whole_build is not None:
        print("checked: the build `make book` made of every page from these sources (_build/.book-build.json)")
        assert whole_build["status"] == 0, f"jupyter-book exited with {whole_build['status']}"
        assert whole_build["warnings"] == [], "\n".join(whole_build["warnings"])
        built = ROOT
    else:
        built = tmp_path / "repo"
        shutil.copytree(ROOT, built, ignore=_NOT_COPIED)
        inputs = execution_inputs.fingerprint()
        seeded = _seed_execution_cache(built)
        result = _strict_build(built)
        output = result.stdout + result.stderr

        print(f"built here with -W -n; execution cache: {seeded}")
        assert result.returncode == 0, f"jupyter-book exited with {result.returncode}:\n{output[-6000:]}"
        assert sphinx_warnings(output) == [], "\n".join(sphinx_warnings(output))
        if seeded.startswith(str(BOOK_CACHE.relative_to(ROOT))):  # missing or stale: nobody reads it now
            _keep_execution_cache(built, inputs)

    html = built / "_build" / "html"
    if keep := os.environ.get(KEEP_SITE_VARIABLE):
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(html, keep)
    documents = toc_documents(built / "_toc.yml")
    missing = [doc for doc in documents if not (html / f"{doc}.html").is_file()]
    assert missing == [], f"pages in _toc.yml without HTML: {missing}"

    assert _remote_assets(html) == {}, "the site fetches assets from other hosts"

    first_page = html / f"{documents[0]}.html"
    sources = re.findall(r'<script[^>]*\ssrc="([^"]*mathjax[^"]*)"', first_page.read_text(encoding="utf-8"))
    assert sources, "the first page loads no MathJax script"
    for source in sources:
        assert not is_remote(source), f"MathJax comes from another host: {source}"
        local = (first_page.parent / source.split("?")[0]).resolve()
        assert local.is_file(), f"MathJax script {source} is not in the build"

    # Last, so that a chapter heavy with code does not hide a broken build. The figures are printed
    # (shown with -rP or on failure) whether the targets are met or not.
    shares = code_share.site_shares(html, built / "_toc.yml")
    print(f"visible code share of the chapters:\n{code_share.table(shares)}")
    assert code_share.problems(shares) == [], code_share.table(shares)
