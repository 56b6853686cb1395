"""Put every page of the book in the form JupyterLab saves, with prose numbers that JupyterLab can show.

    .venv/bin/python scripts/convert_chapters.py            # convert book/*.md in place (idempotent)
    .venv/bin/python scripts/convert_chapters.py --check    # list the pages not yet converted; exit 1 if any

Run it after merging chapter edits, and after adding a chapter; ``tests/test_lab.py`` fails until it has run.
For every page that ``_toc.yml`` lists, it

1. writes each glued number of the prose, ``{glue:text}`name:format```, as
   ``{eval}`glue_text("name:format")```: MyST-NB's glue role renders only in the HTML book, while jupyterlab-myst
   evaluates ``{eval}`` in the reader's kernel (the book's ``eval`` role is ``_ext/evalglue.py``);
2. imports ``glue`` and ``glue_text`` from ``actlib.glue`` instead of ``glue`` from ``myst_nb``, so that the
   kernel keeps what the cells glued and can answer those expressions;
3. drops ``mystnb: render_markdown_format: myst`` from the front matter (``_config.yml`` sets it for every
   chapter) and gives a page without front matter the MyST notebook header, so that every page opens in
   JupyterLab as a notebook with the book's kernel;
4. saves the page through the contents manager of ``make lab`` (jupytext's, see ``lab/bookcontents.py``) with
   ``book/jupytext.toml``, as JupyterLab saves it: the file is then exactly what JupyterLab writes when a
   reader saves it (code cells marked with the kernel's lexer ``ipython3``, cell options in jupytext's YAML
   layout), so saving an unedited chapter leaves it byte-identical.

Other forms of glue in the prose (``{glue}``, ``{glue:md}``, the ``glue`` directives) have no counterpart that
JupyterLab renders; the script stops and names them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
JUPYTEXT_CONFIG = BOOK / "jupytext.toml"
THIS_SCRIPT = "scripts/convert_chapters.py"

MYST_HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3 (actlib)
  language: python
  name: python3
---

"""
GLUE_TEXT_ROLE = re.compile(r"\{glue:text\}`([^`]*)`")
OTHER_GLUE = re.compile(r"\{glue(?::[A-Za-z]*)?\}`|^[`:]{3,}\{glue", re.MULTILINE)
MYST_NB_IMPORT = re.compile(r"^from myst_nb import glue[ \t]*$", re.MULTILINE)
ACTLIB_IMPORT = "from actlib.glue import glue, glue_text"
EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")


class ConversionError(Exception):
    """A page the script cannot convert by itself; the message says where and why."""


def toc_pages() -> list[Path]:
    """The .md source of every page listed in _toc.yml."""
    sys.path.insert(0, str(ROOT))
    from tests.test_book import toc_documents

    pages = [ROOT / f"{document}.md" for document in toc_documents(ROOT / "_toc.yml")]
    return [page for page in pages if page.is_file()]


def rewrite_source(text: str, name: str) -> str:
    """Steps 1 and 2 (and the header of step 3) on the text of one page."""
    leftover = OTHER_GLUE.search(GLUE_TEXT_ROLE.sub("", text))
    if leftover:
        line = text[: leftover.start()].count("\n") + 1
        raise ConversionError(f"{name}:{line}: only {{glue:text}} has a form JupyterLab renders; rewrite this glue")

    def to_eval(match: re.Match[str]) -> str:
        key = match.group(1)
        if '"' in key or "\\" in key:
            raise ConversionError(f"{name}: a glue key with a quote or a backslash: {key!r}")
        return f'{{eval}}`glue_text("{key}")`'

    text = GLUE_TEXT_ROLE.sub(to_eval, text)
    text = MYST_NB_IMPORT.sub(ACTLIB_IMPORT, text)
    if EVAL_ROLE.search(text) and ACTLIB_IMPORT not in text:
        raise ConversionError(
            f"{name}: the prose uses {{eval}} but no code cell has the line `{ACTLIB_IMPORT}`; add it to the "
            "chapter's first code cell"
        )
    if not text.startswith("---\n"):
        text = MYST_HEADER + text
    return text


def _drop_global_options(metadata: dict[str, Any]) -> None:
    """Step 3: the front-matter options that _config.yml now sets for every chapter."""
    options = metadata.get("mystnb")
    if isinstance(options, dict) and options.get("render_markdown_format") == "myst":
        del options["render_markdown_format"]
        if not options:
            del metadata["mystnb"]


def contents_manager(root_dir: Path) -> Any:
    """The contents manager of ``make lab`` (lab/bookcontents.py: jupytext's, as its server extension builds it)."""
    sys.path.insert(0, str(ROOT / "lab"))
    from bookcontents import BookContentsManager

    return BookContentsManager(root_dir=str(root_dir))


async def _save_as_jupyterlab_does(manager: Any, name: str) -> None:
    model = await manager.get(name, content=True, type="notebook")
    notebook = model["content"]
    _drop_global_options(notebook["metadata"])
    await manager.save({"type": "notebook", "format": "json", "content": notebook}, name)


def converted(page: Path) -> str:
    """The text of ``page`` once converted (steps 1 to 4), without touching the file."""
    text = rewrite_source(page.read_text(encoding="utf-8"), page.name)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copy(JUPYTEXT_CONFIG, root / JUPYTEXT_CONFIG.name)
        (root / page.name).write_text(text, encoding="utf-8")
        manager = contents_manager(root)
        asyncio.run(_save_as_jupyterlab_does(manager, page.name))
        first = (root / page.name).read_text(encoding="utf-8")
        asyncio.run(_save_as_jupyterlab_does(manager, page.name))
        second = (root / page.name).read_text(encoding="utf-8")
    if first != second:
        raise ConversionError(f"{page.name}: jupytext does not write the same text twice; the conversion is unstable")
    return first


def unconverted_pages(pages: list[Path]) -> list[str]:
    """The pages whose text differs from their converted form (what ``--check`` reports)."""
    return [page.name for page in pages if page.read_text(encoding="utf-8") != converted(page)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page needs converting")
    parser.add_argument("pages", nargs="*", type=Path, help="pages to convert (default: every page of _toc.yml)")
    arguments = parser.parse_args(argv)
    pages = [page.resolve() for page in arguments.pages] or toc_pages()
    try:
        if arguments.check:
            stale = unconverted_pages(pages)
            for name in stale:
                print(f"not converted: book/{name} (run {THIS_SCRIPT})")
            return 1 if stale else 0
        for page in pages:
            text = converted(page)
            if text != page.read_text(encoding="utf-8"):
                page.write_text(text, encoding="utf-8")
                print(f"converted book/{page.name}")
    except ConversionError as error:
        print(f"{THIS_SCRIPT}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
