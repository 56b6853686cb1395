"""The activation explorer, used as a reader uses it: in Chromium, with the keyboard and the menus.

The page draws what actlib computed at build time (``_ext/explorer.py``); these tests move its sliders
and its cursor and compare what the page prints with actlib itself, to the six significant digits the
page prints (the stored values are float32).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

import actlib
from tests.browser.support import SharedTab, Watcher, open_page, settle
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser

EXPLORER_PAGE = "book/explorer.html"
PRINTED_DIGITS = 6
MINUS = "\N{MINUS SIGN}"


def printed_number(text: str) -> float:
    return float(text.strip().replace(MINUS, "-").replace("\N{INFINITY}", "inf"))


def agrees_with_printed(printed: float, exact: float) -> bool:
    """Whether ``printed`` is ``exact`` to the page's precision: six significant digits of a float32 value."""
    if exact == 0:
        return printed == 0
    unit = 10.0 ** (math.floor(math.log10(abs(exact))) - (PRINTED_DIGITS - 1))
    return abs(printed - exact) <= 0.5 * unit + abs(exact) * 2.0**-24 + 1e-300


def test_agreement_rule_accepts_rounding_and_rejects_a_wrong_digit() -> None:
    assert agrees_with_printed(0.731059, 0.7310585786300049)
    assert agrees_with_printed(-1.23457e-07, -1.2345678e-07)
    assert not agrees_with_printed(0.731058, 0.7310585786300049 + 1e-6)
    assert not agrees_with_printed(0.5, 0.0)


class ExplorerPage:
    """An explorer on a page, driven through its controls."""

    def __init__(self, page: Any, root: str = ".actlib-explorer") -> None:
        self.page = page
        self.root = page.locator(root).first
        self.root.locator("xpath=self::*[@data-ready='true']").wait_for()

    def select(self, slot: str, name: str) -> None:
        label = "Function" if slot == "a" else "Compare with"
        self.root.get_by_label(label, exact=True).select_option(name)
        self.page.wait_for_function(
            "([root, slot, name]) => [...document.querySelectorAll(root + ' tbody tr[data-slot=' + slot + '] th')]"
            ".some((cell) => cell.textContent.startsWith(name))",
            arg=[".actlib-explorer", slot, name],
        )

    def slider(self, slot: str, parameter: str) -> Any:
        return self.root.locator(f".actlib-explorer-slot-{slot} input[data-parameter='{parameter}']")

    def slider_value(self, slot: str, parameter: str) -> float:
        row = self.slider(slot, parameter).locator("xpath=..")
        return printed_number(row.locator("output").inner_text())

    def curve(self, slot: str, quantity: str) -> str:
        return self.root.locator(f"path[data-slot='{slot}'][data-quantity='{quantity}']").get_attribute("d")

    def readout(self, slot: str) -> dict[str, float]:
        row = self.root.locator(f"tbody tr[data-slot='{slot}']")
        return {quantity: printed_number(row.locator(f"td[data-quantity='{quantity}']").inner_text())
                for quantity in ("x", "f", "d")}

    def move_cursor(self, key: str, presses: int = 1) -> None:
        cursor = self.root.get_by_label("Read values at x")
        for _ in range(presses):
            cursor.press(key)

    def parameters(self, slot: str, name: str) -> dict[str, float]:
        names = actlib.ACTIVATIONS[name].info.parameters
        return {p: self.slider_value(slot, p) for p in names if self.slider(slot, p).count()}

    def check_readout(self, slot: str, name: str) -> dict[str, float]:
        """The printed x, f(x), f'(x) of a slot against actlib at the printed parameters."""
        shown = self.readout(slot)
        f = actlib.ACTIVATIONS[name]
        params = self.parameters(slot, name)
        exact_value = float(f(shown["x"], **params))
        exact_slope = float(f.derivative(shown["x"], **params))
        assert agrees_with_printed(shown["f"], exact_value), (name, params, shown, exact_value)
        assert agrees_with_printed(shown["d"], exact_slope), (name, params, shown, exact_slope)
        return shown


@pytest.fixture(scope="module")
def explorer_tab(browser: Any) -> Iterator[SharedTab]:
    """The tab the explorer tests load their pages in: each test loads its page afresh, in one renderer."""
    tab = SharedTab(browser)
    yield tab
    tab.close()


@pytest.fixture
def explorer_page(explorer_tab: SharedTab, site_url: str) -> Iterator[tuple[ExplorerPage, Watcher]]:
    with explorer_tab.visit() as (page, watcher):
        page.goto(site_url + EXPLORER_PAGE)
        settle(page)
        yield ExplorerPage(page), watcher
        assert watcher.console_errors == []
        assert watcher.failed_requests == []
        assert watcher.foreign_requests == []


def test_a_slider_redraws_the_curves_with_actlibs_values(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    explorer, _ = explorer_page
    explorer.select("a", "elu")
    before = explorer.curve("a", "f"), explorer.curve("a", "d")
    alpha = explorer.slider_value("a", "alpha")
    assert alpha == actlib.elu.info.parameters["alpha"]
    explorer.move_cursor("Home")  # x = -5, where alpha shows the most
    explorer.check_readout("a", "elu")
    explorer.slider("a", "alpha").press("ArrowRight")
    explorer.slider("a", "alpha").press("ArrowRight")
    assert explorer.slider_value("a", "alpha") > alpha
    after = explorer.curve("a", "f"), explorer.curve("a", "d")
    assert after[0] != before[0] and after[1] != before[1]
    shown = explorer.check_readout("a", "elu")
    assert shown["x"] == -5


def test_printed_values_equal_actlibs_at_sample_points(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    """Every elementwise function, at its defaults and with a slider moved, at several points of the grid."""
    explorer, _ = explorer_page
    names = [name for name, f in actlib.ACTIVATIONS.items() if f.info.properties.elementwise]
    for name in names:
        explorer.select("a", name)
        assert explorer.curve("a", "f") and explorer.curve("a", "d"), name
        # The ends of the grid, steps of a tenth of it (Page Up), and single steps (the arrow keys).
        places = set()
        for key, presses in (("Home", 1), ("PageUp", 2), ("ArrowRight", 3), ("PageUp", 3), ("End", 1)):
            explorer.move_cursor(key, presses)
            places.add(explorer.check_readout("a", name)["x"])
        assert len(places) == 5, (name, places)
        sliders = explorer.root.locator(".actlib-explorer-slot-a input[data-parameter]")
        if sliders.count():
            sliders.first.press("PageDown")
            explorer.check_readout("a", name)


def test_kinks_are_labelled_with_actlibs_derivative(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    explorer, _ = explorer_page
    for name in ("relu", "relu6", "hardtanh", "softshrink"):
        explorer.select("a", name)
        labels = explorer.root.locator(".actlib-explorer-kink-label[data-slot='a']").all_text_contents()
        f = actlib.ACTIVATIONS[name]
        params = explorer.parameters("a", name)
        found = [tuple(printed_number(part) for part in re.fullmatch(r"f′\((.+)\) = (.+)", label).groups())
                 for label in labels]
        assert sorted(at for at, _ in found) == sorted(float(k) for k in f.info.properties.kinks), (name, labels)
        for at, slope in found:
            assert agrees_with_printed(slope, float(f.derivative(at, **params))), (name, at, slope)
    # Moving softshrink's lambd moves its kinks with it.
    explorer.slider("a", "lambd").press("ArrowRight")
    lambd = explorer.slider_value("a", "lambd")
    item = explorer.root.locator(".actlib-explorer-kinks li[data-slot='a']").inner_text()
    assert f"at x = {lambd:g}," in item and f"at x = {MINUS}{lambd:g}," in item, item


def test_a_parameter_actlib_rejects_cannot_be_selected(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    explorer, _ = explorer_page
    explorer.select("a", "softplus")
    beta = explorer.slider("a", "beta")
    beta.press("Home")
    lowest = explorer.slider_value("a", "beta")
    assert lowest > 0
    actlib.softplus(1.0, beta=lowest)
    with pytest.raises(ValueError, match="beta"):
        actlib.softplus(1.0, beta=0.0)
    # The grid goes on below, but the slider stops where actlib stops; typing a lower position is refused.
    assert int(beta.get_attribute("min")) > 0
    beta.fill("0")
    assert explorer.slider_value("a", "beta") == lowest
    explorer.check_readout("a", "softplus")

    # Constraints between parameters: rrelu's lower can rise only to upper, hard tanh's min_val only below max_val.
    explorer.select("a", "rrelu")
    explorer.slider("a", "upper").press("Home")
    explorer.slider("a", "lower").press("End")
    lower, upper = explorer.slider_value("a", "lower"), explorer.slider_value("a", "upper")
    assert 0 <= lower <= upper
    actlib.rrelu(-1.0, lower=lower, upper=upper)
    explorer.select("a", "hardtanh")
    explorer.slider("a", "max_val").press("Home")
    explorer.slider("a", "min_val").press("End")
    low, high = explorer.slider_value("a", "min_val"), explorer.slider_value("a", "max_val")
    assert low < high
    explorer.check_readout("a", "hardtanh")


def test_a_second_function_is_overlaid(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    explorer, _ = explorer_page
    explorer.select("a", "gelu")
    explorer.select("b", "swish")
    assert explorer.curve("b", "f") and explorer.curve("b", "f") != explorer.curve("a", "f")
    explorer.slider("b", "beta").press("End")
    explorer.move_cursor("End")
    explorer.check_readout("a", "gelu")
    explorer.check_readout("b", "swish")
    # relu6 draws on a wider grid than gelu's window; the cursor reads both at the same x.
    explorer.select("b", "relu6")
    explorer.move_cursor("Home")
    assert explorer.readout("a")["x"] == explorer.readout("b")["x"]
    explorer.check_readout("b", "relu6")


def test_the_pointer_moves_the_cursor(explorer_page: tuple[ExplorerPage, Watcher]) -> None:
    explorer, _ = explorer_page
    explorer.select("a", "tanh")
    box = explorer.root.locator("svg").bounding_box()
    explorer.page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    left = explorer.check_readout("a", "tanh")["x"]
    explorer.page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)
    right = explorer.check_readout("a", "tanh")["x"]
    assert left < 0 < right


def test_the_compact_explorer_in_the_variants_chapter(explorer_tab: SharedTab, site_url: str) -> None:
    with explorer_tab.visit() as (page, watcher):
        page.goto(site_url + "book/variants.html")
        settle(page)
        explorer = ExplorerPage(page)
        assert explorer.root.get_attribute("data-compact") == "true"
        assert explorer.root.locator(".actlib-explorer-slot-b").count() == 0
        before = explorer.curve("a", "f")
        explorer.slider("a", "alpha").press("ArrowLeft")
        assert explorer.curve("a", "f") != before
        explorer.check_readout("a", "elu")
    assert watcher.console_errors == [] and watcher.failed_requests == [] and watcher.foreign_requests == []


def test_the_explorer_works_from_the_files_alone(browser: Any, site: Any) -> None:
    """Opened from disk (file://), with no server at all: the data are scripts, which a browser loads there."""
    with open_page(browser) as (page, watcher):
        page.goto((site / EXPLORER_PAGE).as_uri())
        page.wait_for_load_state("load")
        explorer = ExplorerPage(page)
        explorer.select("a", "selu")
        explorer.check_readout("a", "selu")
    assert [error for error in watcher.console_errors if "explorer" in error] == []



@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_explorer_passes_axe_in_both_colour_modes(browser: Any, site_url: str, axe_source: str, mode: str) -> None:
    """The curve, kink and text colours against the page in the theme's light and dark modes (the site-wide
    axe test sees only the light mode, the book's default)."""
    with open_page(browser) as (page, _):
        page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
        page.goto(site_url + EXPLORER_PAGE)
        settle(page)
        explorer = ExplorerPage(page)
        explorer.select("b", "hardswish")
        assert page.evaluate("() => document.documentElement.dataset.theme") == mode
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(
            "async () => (await axe.run(document.querySelector('.actlib-explorer-box'),"
            " { resultTypes: ['violations'] })).violations"
        )
    assert serious_violations(violations) == []
    assert [violation["id"] for violation in violations] == []
