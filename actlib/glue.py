"""Numbers in a chapter's prose, computed by its cells: the same text in the HTML book and in JupyterLab.

A chapter computes a number in a code cell and names it with :func:`glue`; its prose then writes
``{eval}`glue_text("name:format")```. Two readers see that sentence:

* The book build (Jupyter Book, MyST-NB) executes the chapter once and caches the result, so no kernel is
  left to evaluate anything when the prose is rendered. ``glue`` records the value in the cell's output
  as :func:`myst_nb.glue` does (the same display message), and the book's ``eval`` role
  (``_ext/evalglue.py``) pastes it from there, exactly as MyST-NB's ``{glue:text}`` role does.
* JupyterLab (with jupyterlab-myst) sends ``glue_text("name:format")`` to the kernel when the Markdown cell
  runs and shows what it returns. ``glue`` keeps every value it was given for that, in this module.

Both format the value the same way: MyST-NB's ``text/plain`` representation of the value, read back as a
Python literal and formatted with the format specification after the last colon (``.1f``, ``.0%``, ``+.2f``,
``g``); with no format, the text itself. So a sentence reads the same in both places, digit for digit.

The module is plumbing for the book and not part of the activation-function API: NumPy users need none of
it. IPython is imported only when :func:`glue` is called, and MyST-NB never: importing its glue module loads
nbformat and jsonschema, which took a second of every chapter's kernel start. ``tests/test_glue.py`` checks
that the message and the text are MyST-NB's own.
"""

from __future__ import annotations

from ast import literal_eval
from typing import Any

__all__ = ["glue", "glue_text", "glued_text", "split_key"]

# name -> text/plain representation of the value, as the notebook recorded it (what the book pastes).
_GLUED: dict[str, str] = {}
#: MyST-NB's ``GLUE_PREFIX``: a value glued with ``display=False`` is shown under these MIME types, which no
#: front end renders and MyST-NB reads back
HIDDEN_MIME_PREFIX = "application/papermill.record/"


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record ``value`` under ``name`` for the chapter's prose, in the notebook and in this kernel.

    Parameters
    ----------
    name : str
        The key the prose refers to, ``glue_text("name")`` or ``glue_text("name:format")``.
    value : object
        What to record: a number, a string, anything IPython can show as text.
    display : bool, default True
        Also show the value below the cell, as :func:`myst_nb.glue` does; the chapters pass False for a
        number that only the prose shows.

    Returns
    -------
    None
        The value is kept for :func:`glue_text` in this kernel and in the notebook's outputs for the book.

    Examples
    --------
    >>> glue("dead_share", 0.2496, display=False)
    >>> glue_text("dead_share:.1%")
    '25.0%'
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as show

    if not isinstance(name, str) or not name:
        raise TypeError(f"glue: the name must be a non-empty string, not {name!r}")
    bundle, metadata = format_display_data(value)
    prefix = "" if display else HIDDEN_MIME_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    show({prefix + mime: data for mime, data in bundle.items()}, raw=True, metadata=metadata)
    _GLUED[name] = bundle.get("text/plain", repr(value))


def glued_text(plain_text: str, format_spec: str) -> str:
    """Format a recorded ``text/plain`` value as MyST-NB's ``{glue:text}`` role does.

    Parameters
    ----------
    plain_text : str
        The value's ``text/plain`` representation, as recorded by :func:`glue`.
    format_spec : str
        A format specification (``.1f``, ``.0%``, ``d``), or ``""`` for the text as it is. Its last
        character decides the type the value is read as: ``s`` a string, ``b c d o x X`` an integer,
        ``e E f F g G n %`` a float.

    Returns
    -------
    str
        The text the book shows.

    Examples
    --------
    >>> glued_text("0.12345", ".1%")
    '12.3%'
    >>> glued_text("'holds with a qualification'", "")
    'holds with a qualification'
    >>> glued_text("np.float64(2.5)", ".1f")
    '2.5'
    """
    text = _without_numpy_scalar(plain_text)
    try:
        value = literal_eval(text)  # a quoted string loses its quotes
    except (SyntaxError, ValueError):
        value = text
    if format_spec == "":
        return str(value)
    kind = format_spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, format_spec)


def _without_numpy_scalar(plain_text: str) -> str:
    """``np.float64(2.5)`` (NumPy 2's repr of a scalar) as ``2.5``, the literal it stands for."""
    text = plain_text.strip()
    if text.startswith("np.") and text.endswith(")") and "(" in text:
        inner = text[text.index("(") + 1 : -1]
        try:
            literal_eval(inner)
        except (SyntaxError, ValueError):
            return plain_text
        return inner
    return plain_text


def split_key(text: str) -> tuple[str, str]:
    """``"name:format"`` as ``("name", "format")``; ``"name"`` as ``("name", "")``.

    The format is what follows the last colon, as in MyST-NB's ``{glue:text}`` role.

    Parameters
    ----------
    text : str
        A glue key, optionally followed by a colon and a format specification.

    Returns
    -------
    tuple of str
        The name and the format specification (empty if none was given).

    Examples
    --------
    >>> split_key("time_sweep:.1f")
    ('time_sweep', '.1f')
    >>> split_key("n_runs")
    ('n_runs', '')
    """
    name, colon, format_spec = text.rpartition(":")
    return (name, format_spec) if colon else (text, "")


def glue_text(text: str) -> str:
    """The text of a glued value for the prose: ``glue_text("name:format")``.

    Parameters
    ----------
    text : str
        The name given to :func:`glue`, optionally followed by a colon and a format specification.

    Returns
    -------
    str
        The value formatted as the book shows it (see :func:`glued_text`).

    Raises
    ------
    KeyError
        If no cell run so far glued ``name``: run the chapter's cells first (Run All), then this one.

    Examples
    --------
    >>> glue("epochs", 40, display=False)
    >>> glue_text("epochs")
    '40'
    >>> glue_text("epochs:.1f")
    '40.0'
    """
    name, format_spec = split_key(text)
    if name not in _GLUED:
        raise KeyError(
            f"glue_text: nothing is glued under {name!r} yet; run the chapter's code cells first (Run All), "
            "then this Markdown cell again"
        )
    return glued_text(_GLUED[name], format_spec)
