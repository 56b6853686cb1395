"""The contents manager of ``make lab``: jupytext's, which opens the MyST chapters as notebooks, plus one fix.

JupyterLab marks a notebook modified as soon as it opens one whose metadata lacks ``language_info``: its
notebook model fills in a blank ``{"name": ""}``, and the kernel's own ``language_info`` replaces it a moment
later. A chapter is a Markdown file, which has no ``language_info`` (it would tie the file to one Python
version), so every chapter opened "modified", and closing it offered to save. This manager adds to a chapter
it reads the ``language_info`` that the chapter's kernel will report, the book's ``python3`` kernel running
the same Python as this server; JupyterLab finds the same value when the kernel starts and changes nothing.
On saving, jupytext leaves ``language_info`` out of the file again (book/jupytext.toml).
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

#: What jupytext's server extension would install: its contents manager over the server's default one.
JupytextContentsManager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)


def kernel_language_info() -> dict[str, Any]:
    """The ``language_info`` that ipykernel reports from a kernel running this Python."""
    return dict(IPythonKernel.language_info)


class BookContentsManager(JupytextContentsManager):  # type: ignore[misc, valid-type]
    """jupytext's contents manager, which gives a Python notebook the kernel's ``language_info`` on reading."""

    async def get(self, path: str, content: bool = True, type: str | None = None, format: str | None = None,
                  **kwargs: Any) -> dict[str, Any]:
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook" and model.get("content") is not None:
            metadata = model["content"]["metadata"]
            if "language_info" not in metadata and metadata.get("kernelspec", {}).get("language") == "python":
                metadata["language_info"] = kernel_language_info()
        return model
