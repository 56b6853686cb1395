"""Layout a reader sees at a laptop's width: the claims audit fits its column instead of scrolling sideways.

The audit table (six columns, two of them sentences) used to be 860 px wide in a 688 px article column at a
1280 px window, so half of the scope column sat behind a horizontal scroll bar. ``_static/audit.css`` gives
it a fixed layout; this test reads the page as a reader's browser lays it out.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}


def test_claims_audit_fits_its_column_at_1280px(browser: Any, site_url: str) -> None:
    page = browser.new_page(viewport=LAPTOP)
    try:
        page.goto(f"{site_url}/book/claims.html")
        widths = page.evaluate("""() => [...document.querySelectorAll('table.claims-audit')].map(table => {
            const box = table.closest('.pst-scrollable-table-container') || table.parentElement;
            return [box.scrollWidth, box.clientWidth];
        })""")
    finally:
        page.close()
    assert widths, "the claims page has no table.claims-audit"
    overflowing = [(scroll, client) for scroll, client in widths if scroll > client + 1]
    assert not overflowing, f"the audit table scrolls sideways at 1280 px: content {overflowing} (scroll, visible) px"
