"""Numbers in the prose: ``actlib.glue`` in the kernel and the book's ``{eval}`` role (``_ext/evalglue.py``).

JupyterLab shows what ``glue_text("name:format")`` returns in the reader's kernel; the book build pastes what the
role makes of the value the chapter glued. Both must give the same text, and the role must refuse what it
cannot resolve without a kernel, so that the strict build fails on it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from myst_nb.core.variables import format_plain_text

from actlib.glue import glue, glue_text, glued_text, split_key

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import evalglue  # noqa: E402  (a Sphinx extension of the book, not a package)


@pytest.mark.parametrize(("value", "format_spec"), [
    (0.123456, ".1%"), (0.123456, ".2f"), (1234, "d"), (1234, ""), (2.5e-17, ".1e"), (-3.25, "+.1f"),
    ("holds with a qualification", ""), ("holds", "s"), (3.0, "g"), (True, ""),
])
def test_the_kernel_and_the_book_show_the_same_text(value: object, format_spec: str) -> None:
    glue("probe", value, display=False)
    key = f"probe:{format_spec}" if format_spec else "probe"
    from IPython.core.formatters import format_display_data

    recorded = format_display_data(value)[0]["text/plain"]  # what MyST-NB stores for the book
    book = format_plain_text(recorded, format_spec or "s")
    assert glue_text(key) == book


def test_numpy_scalars_read_as_their_value() -> None:
    assert glued_text("np.float64(0.5)", ".0%") == "50%"
    assert glued_text("np.int64(7)", "d") == "7"


def test_a_name_glued_nowhere_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="nothing is glued under 'never_glued'"):
        glue_text("never_glued:.1f")


def test_the_format_follows_the_last_colon() -> None:
    assert split_key("claim-10-number") == ("claim-10-number", "")
    assert split_key("a:b:.2f") == ("a:b", ".2f")


@pytest.mark.parametrize("expression", ['glue_text("time_sweep:.1f")', " glue_text('n_runs') "])
def test_the_role_reads_the_glue_key(expression: str) -> None:
    assert evalglue.glue_key(expression) == expression.strip()[11:-2]


@pytest.mark.parametrize("expression", [
    "n_runs", 'glue_text(name)', 'glue_text("a", "b")', 'str(glue_text("a"))', "glue_text(", 'other("a")',
    'glue_text(text="a")',
])
def test_the_role_refuses_what_needs_a_kernel(expression: str) -> None:
    with pytest.raises(ValueError):
        evalglue.glue_key(expression)
