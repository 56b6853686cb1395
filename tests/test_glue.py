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


@pytest.mark.parametrize("value", [0.25, 7, "text", None, [1, 2], {"a": 1.5}])
@pytest.mark.parametrize("display", [True, False])
def test_glue_sends_the_display_message_myst_nb_glue_sends(monkeypatch, value: object, display: bool) -> None:
    import IPython.display
    import myst_nb
    import myst_nb.ext.glue

    sent = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **options: sent.append((objects, options)))
    monkeypatch.setattr(myst_nb.ext.glue, "ipy_display", lambda *objects, **options: sent.append((objects, options)))
    glue("probe", value, display=display)
    myst_nb.glue("probe", value, display=display)
    assert len(sent) == 2 and sent[0] == sent[1]
    from actlib.glue import HIDDEN_MIME_PREFIX

    assert HIDDEN_MIME_PREFIX == myst_nb.ext.glue.GLUE_PREFIX


@pytest.mark.parametrize("plain_text", [
    "0.123456", "1234", "-3.25", "2.5e-17", "'holds'", '"quoted"', "True", "nan", "inf", "[1, 2]", "text with: colon",
    "np.float64(0.5)", "np.int64(7)", "np.str_('x')", "1e400",
])
@pytest.mark.parametrize("format_spec", ["", "s", ".1%", ".2f", "d", "+.1f", ".1e", "g", ">8"])
def test_glued_text_formats_as_myst_nb_formats(plain_text: str, format_spec: str) -> None:
    from actlib.glue import _without_numpy_scalar

    def outcome(function):
        try:
            return function()
        except (TypeError, ValueError, OverflowError) as error:
            return type(error)

    ours = outcome(lambda: glued_text(plain_text, format_spec))
    theirs = outcome(lambda: format_plain_text(_without_numpy_scalar(plain_text), format_spec))
    assert ours == theirs


def test_a_kernel_that_glues_does_not_import_myst_nb() -> None:
    import subprocess

    code = ("import sys\nfrom actlib.glue import glue, glue_text\nglue('n', 3, display=False)\nglue_text('n:.1f')\n"
            "print(sorted(name for name in sys.modules\n"
            "             if name.split('.')[0] in {'myst_nb', 'nbformat', 'jsonschema'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stdout


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
