"""A fingerprint of what a chapter's execution reads besides its own code, to know when the execution cache is stale.

MyST-NB's cache (jupyter-cache) matches a chapter by its code cells only, so after a change to ``actlib`` it would
keep showing outputs computed by the old code. The fingerprint covers the rest: every tracked file of ``actlib/``,
the tracked data files of ``book/`` (the chapters themselves are left to the cache), the pinned requirements, and
the name and version of every installed distribution (a chapter computes PyTorch's values only where torch is
installed).

    .venv/bin/python scripts/execution_inputs.py                    # print the fingerprint
    .venv/bin/python scripts/execution_inputs.py --write CACHE      # record it beside the cache CACHE
    .venv/bin/python scripts/execution_inputs.py --current CACHE    # exit 0 if CACHE was made from these inputs

``make book`` empties the cache when the recorded fingerprint differs (or is missing) and records the new one
after the build; the strict build of ``make test`` starts from that cache only when the fingerprint matches.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Chapters are matched by the cache itself; everything else under book/ is data a chapter may read.
CHAPTER_SUFFIXES = {".md", ".ipynb"}
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def _input_files(root: Path) -> list[Path]:
    """The files git tracks (so that what a chapter writes, such as a cache of trained models, is not an input),
    or every file outside a git checkout."""
    places = ["actlib", "book", "requirements.txt"]
    listed = subprocess.run(["git", "ls-files", "-z", "--", *places], cwd=root, capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        files = [root / name for name in listed.stdout.decode().split("\0") if name]
    else:
        files = [path for place in places for path in [root / place, *(root / place).rglob("*")]]
    return sorted(
        path
        for path in files
        if path.is_file()
        and not _SKIPPED_PARTS & set(path.relative_to(root).parts)
        and not (path.relative_to(root).parts[0] == "book" and path.suffix in CHAPTER_SUFFIXES)
    )


def fingerprint(root: Path = ROOT) -> str:
    """SHA-256 over the files a chapter's execution reads and the installed distributions."""
    digest = hashlib.sha256()
    for path in _input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    # The environment's own folders, not sys.path: pytest puts the checkout on sys.path, and with it the
    # actlib.egg-info of the editable install, which a plain `python` run does not see.
    folders = sorted({sysconfig.get_paths()[key] for key in ("purelib", "platlib")})
    distributions = sorted(
        f"{distribution.metadata['Name']}=={distribution.version}"
        for distribution in importlib.metadata.distributions(path=folders)
    )
    digest.update("\n".join(distributions).encode())
    return digest.hexdigest()


def stamp_path(cache: Path) -> Path:
    """Where the fingerprint of a cache is recorded: a file beside the cache folder, not inside jupyter-cache's."""
    return cache.with_name(cache.name + ".inputs")


def is_current(cache: Path, root: Path = ROOT) -> bool:
    """Whether ``cache`` exists and was filled from the inputs as they are now."""
    stamp = stamp_path(cache)
    return cache.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="CACHE", help="record the fingerprint beside CACHE")
    action.add_argument("--current", type=Path, metavar="CACHE", help="exit 0 if CACHE matches, 1 if not")
    args = parser.parse_args(argv)
    if args.write is not None:
        stamp_path(args.write).write_text(fingerprint() + "\n", encoding="utf-8")
    elif args.current is not None:
        return 0 if is_current(args.current) else 1
    else:
        print(fingerprint())
    return 0


if __name__ == "__main__":
    sys.exit(main())
