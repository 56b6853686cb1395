"""The ``{eval}`` role of the book build: a glued value pasted into the prose, from the cached execution.

A chapter's prose writes a computed number as ``{eval}`glue_text("name:format")```, a form two renderers
understand (see ``actlib/glue.py``):

* jupyterlab-myst evaluates the expression in the reader's kernel when the Markdown cell runs;
* this role, in the book build, pastes the value that the chapter's cell glued under ``name``.

MyST-NB has an ``eval`` role of its own, but it needs ``nb_execution_mode = "inline"``: the kernel must be
alive while the page is parsed, which rules out the cached execution that rebuilds one edited chapter in
seconds and never re-runs an unchanged one. Glue data, on the other hand, is part of the executed notebook
and comes back from the cache, so this role replaces MyST-NB's: it accepts exactly the call
``glue_text("<name>")`` or ``glue_text("<name>:<format>")`` (anything else is not something the build can
evaluate without a kernel) and formats the glued ``text/plain`` as ``{glue:text}`` would. A name the
chapter did not glue, a format that does not fit the value, or another expression is a warning, so the
strict build fails on it: every number in the prose is still computed by the chapter.
"""

from __future__ import annotations

import ast
from typing import Any

from docutils import nodes
from myst_nb.core.variables import RetrievalError
from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
from myst_nb.ext.utils import RoleBase
from sphinx.application import Sphinx

from actlib.glue import glued_text, split_key

#: The one function the role resolves; the chapters import it from actlib.glue for JupyterLab.
FUNCTION = "glue_text"


def glue_key(expression: str) -> str:
    """The ``"name:format"`` argument of ``glue_text("name:format")``, or ValueError for any other text.

    >>> glue_key('glue_text("time_sweep:.1f")')
    'time_sweep:.1f'
    """
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"not a Python expression ({error.msg})") from None
    call = tree.body
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == FUNCTION
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ):
        return call.args[0].value
    raise ValueError(f'the book build evaluates only {FUNCTION}("name") or {FUNCTION}("name:format")')


class EvalGlueRole(RoleBase):
    """``{eval}`glue_text("name:format")```: the value glued under ``name``, formatted, as inline text."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        try:
            name, format_spec = split_key(glue_key(self.text))
            data = retrieve_glue_data(self.document, name).data
        except (ValueError, RetrievalError) as error:
            return [], [glue_warning(f"{{eval}}`{self.text}`: {error}", self.document, self.line)]
        if "text/plain" not in data:
            return [], [glue_warning(f"{{eval}}`{self.text}`: no text/plain in {name!r}", self.document, self.line)]
        try:
            text = glued_text(data["text/plain"], format_spec)
        except (TypeError, ValueError) as error:
            message = f"{{eval}}`{self.text}`: cannot format {data['text/plain']!r} with {format_spec!r}: {error}"
            return [], [glue_warning(message, self.document, self.line)]
        node = nodes.inline(text, text, classes=["pasted-text"])
        self.set_source_info(node)
        return [node], []


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("myst_nb")  # registers MyST-NB's own eval role first, so that this one replaces it
    app.add_role("eval", EvalGlueRole(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
