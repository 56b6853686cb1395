"""Execute the book's chapters on every core into MyST-NB's execution cache, before ``jupyter-book build``.

MyST-NB executes the chapters it finds no cached run for one after another, inside the Sphinx build, so a
cold build used one core for about six minutes. This script runs the same executions in parallel (one kernel
per core, the longest chapters first) and stores each result in the cache exactly as MyST-NB does
(``myst_nb/core/execute/cache.py``: jupyter-cache's ``single_nb_execution`` with the chapter's folder as
the working directory, then ``cache_notebook_bundle`` with the run's ``execution_seconds``). The build then
finds every chapter executed and only reads the cached outputs. A chapter that fails is not stored: the build
executes it again and reports the error as it always has.

    .venv/bin/python scripts/execute_chapters.py [--jobs N]

The order comes from the execution times of the last run (``_build/.chapter-seconds.json``), or from the
files' sizes when there is none.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
SECONDS = ROOT / "_build" / ".chapter-seconds.json"
#: As ``execute: timeout`` in _config.yml (MyST-NB's execution_timeout).
TIMEOUT_SECONDS = 600


def toc_documents(toc_path: Path, leave_out_caption: str | None = None) -> list[str]:
    """Every document named in a Jupyter Book ``_toc.yml`` (root, parts, chapters, sections), in order, without
    its suffix; with ``leave_out_caption``, not those of the part of that caption."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    documents = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if leave_out_caption is not None and entry.get("caption") == leave_out_caption:
                continue
            if "file" in entry:
                documents.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key, []))
    return [re.sub(r"\.(md|ipynb|rst)$", "", document) for document in documents]


def chapter_paths(toc_path: Path = ROOT / "_toc.yml") -> list[Path]:
    """The source (``.md``, else ``.ipynb``) of every document of the table of contents, in its order."""
    paths = []
    for document in toc_documents(toc_path):
        paths += [path for path in (ROOT / f"{document}.md", ROOT / f"{document}.ipynb") if path.is_file()][:1]
    return paths


def _read(path: Path):
    import jupytext

    return jupytext.read(path)


def needs_execution(path: Path) -> bool:
    """Whether the chapter is a notebook with no run in the cache that matches its code cells.

    A page with a kernel but no code cell (the API reference) counts: MyST-NB would start a kernel for it during
    the build, shut it down before it had finished starting, and the kernel's "KeyboardInterrupt caught" log line
    would land among the build's warnings."""
    from jupyter_cache import get_cache

    notebook = _read(path)
    if not any(cell.cell_type == "code" for cell in notebook.cells) and "kernelspec" not in notebook.metadata:
        return False
    try:
        get_cache(str(CACHE)).match_cache_notebook(notebook)
    except KeyError:
        return True
    return False


def execute(path: Path) -> tuple[Path, object, float, str | None]:
    """Run one chapter in a fresh kernel, as MyST-NB's cache mode does; the notebook, seconds and any error."""
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = _read(path)
    result = single_nb_execution(notebook, cwd=str(path.parent), allow_errors=False, timeout=TIMEOUT_SECONDS,
                                 meta_override=True)
    error = None if result.err is None else f"{result.err.__class__.__name__}: {result.err}"
    return path, notebook, result.time, error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="kernels at once (default: cores)")
    args = parser.parse_args(argv)
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    pending = [path for path in chapter_paths() if needs_execution(path)]
    if not pending:
        return 0
    last = json.loads(SECONDS.read_text(encoding="utf-8")) if SECONDS.is_file() else {}
    pending.sort(key=lambda path: (last.get(path.name, 0.0), path.stat().st_size), reverse=True)
    print(f"execute_chapters: {len(pending)} chapters on {args.jobs} kernels at once", flush=True)
    cache = get_cache(str(CACHE))
    started = time.perf_counter()
    failed = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for path, notebook, seconds, error in pool.map(execute, pending):
            name = path.relative_to(ROOT)
            if error is not None:
                failed.append(str(name))
                print(f"  {name}: failed ({error}); the book build runs it again and reports it", flush=True)
                continue
            # jupyter-cache's database is written by this process only: the workers return their notebooks.
            cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            last[path.name] = round(seconds, 1)
            print(f"  {name}: {seconds:.1f} s", flush=True)
    SECONDS.parent.mkdir(parents=True, exist_ok=True)
    SECONDS.write_text(json.dumps(last, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"execute_chapters: {time.perf_counter() - started:.0f} s wall; failed: {failed or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
