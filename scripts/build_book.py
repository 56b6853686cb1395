"""Build the HTML book from the executed chapters (``make book``'s second step) and record how the build went.

The build is ``jupyter-book build . --builder html -n --keep-going``: nitpicky, so that a reference to a missing
target is a warning, and going on past a warning, so that one build lists them all. Its output is shown as it comes
and its warnings are recorded in ``_build/.book-build.json`` with a fingerprint of the sources. When Sphinx
started without a saved environment (no ``_build/.doctrees``) it read and wrote every page, so that record holds
every warning the book gives, as a clean strict build (``-W``) would have reported them (a later build of the
same sources keeps that record, its own warnings added): ``tests/test_book.py``
then checks this build (no warning, exit status 0) and its HTML instead of building the book a second time. After
an incremental build, or once any source has changed, the test makes its own clean strict build.

    .venv/bin/python scripts/build_book.py
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "_build" / ".book-build.json"
DOCTREES = ROOT / "_build" / ".doctrees"
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
BUILD_OPTIONS = ("--builder", "html", "-n", "--keep-going")
#: What a build does not read: tool folders, caches and earlier builds (the strict build's copy leaves them out too).
NOT_SOURCES = (
    ".git",
    ".venv",
    "_build",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "*.egg-info",
)

# The one line allowed to contain "WARNING": ipykernel logs it on start-up when the kernel talks to the build over
# local TCP sockets (it comes from the kernel's own logger, not from Sphinx).
_KERNEL_TCP_NOTICE = re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def sphinx_warnings(output: str) -> list[str]:
    """Lines of build output that report a warning or an error, less the kernel's TCP notice."""
    return [
        line
        for line in _ANSI_ESCAPE.sub("", output).splitlines()
        if ("WARNING" in line or re.search(r"\bERROR\b", line)) and not _KERNEL_TCP_NOTICE.search(line)
    ]


def _is_source(relative: Path) -> bool:
    return not any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in NOT_SOURCES)


def source_files(root: Path = ROOT) -> list[Path]:
    """Every file of the repository a build can read, sorted (symbolic links to folders are not followed)."""
    files = []
    for folder, subfolders, names in os.walk(root):
        here = Path(folder).relative_to(root)
        subfolders[:] = sorted(name for name in subfolders if _is_source(here / name))
        files += [Path(folder) / name for name in names if _is_source(here / name)]
    return sorted(files)


def sources_fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the sources' names and contents, and the execution inputs (the installed distributions)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import execution_inputs
    finally:
        sys.path.pop(0)
    digest = hashlib.sha256(execution_inputs.fingerprint(root).encode())
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_record(root: Path = ROOT) -> dict | None:
    """The record of the last build, or None."""
    record = root / RECORD.relative_to(ROOT)
    try:
        return json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def whole_build_of_these_sources(root: Path = ROOT) -> dict | None:
    """The record of the last build when it read every page and nothing has changed since, else None."""
    record = read_record(root)
    if record is None or not record.get("whole") or record.get("sources") != sources_fingerprint(root):
        return None
    return record


def build(root: Path = ROOT, jupyter_book: Path = JUPYTER_BOOK) -> int:
    """Build the book at ``root`` and write its record; the build's exit status."""
    record_path = root / RECORD.relative_to(ROOT)
    sources = sources_fingerprint(root)
    # A build over a whole build of the same sources changes no page: that build's record still holds.
    previous = whole_build_of_these_sources(root)
    whole = not (root / DOCTREES.relative_to(ROOT)).is_dir() or previous is not None
    record_path.unlink(missing_ok=True)
    lines = []
    with subprocess.Popen([str(jupyter_book), "build", str(root), *BUILD_OPTIONS], cwd=root,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
    status = process.returncode
    # Sources edited while the build ran make the record stale: it is then not written.
    if sources_fingerprint(root) == sources:
        warnings = (previous or {}).get("warnings", []) + sphinx_warnings("".join(lines))
        record = {"sources": sources, "whole": whole, "status": max(status, (previous or {}).get("status", 0)),
                  "warnings": warnings}
        record_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(build())
