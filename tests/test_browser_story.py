"""Home and Portraits in real Chromium: Home draws its charts, a reload keeps the dataset and the portrait's user
(the URL carries both), and an 800-px window keeps every control of both pages inside the window."""

from __future__ import annotations

import pytest
from conftest import new_page, open_page, wait_idle
from test_browser import type_into

pytestmark = pytest.mark.browser

FIELDS = (  # controls one types into or picks from: they must keep a readable width
    '[data-testid="stMain"] [data-testid="stSelectbox"] [role="combobox"], '
    '[data-testid="stMain"] [data-testid="stTextInput"] input, '
    '[data-testid="stMain"] [data-testid="stNumberInput"] input, '
    '[data-testid="stSidebar"] [data-testid="stSelectbox"] [role="combobox"]'
)
BUTTONS = '[data-testid="stMain"] button'  # icon buttons included: they must stay inside the window


def _user_value(page) -> str:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="User (").first
    return box.locator('[role="combobox"], input').first.input_value() or box.inner_text()


def test_home_draws_at_least_two_charts(page, app_url):
    open_page(page, app_url, "?dataset=demo")
    charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    charts.nth(1).wait_for(timeout=30_000)
    assert charts.count() >= 2
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 2  # drawn, not just placed
    page.get_by_text("recommendations by").first.wait_for()
    assert page.get_by_text("GNN recommendations").count() == 0


def test_a_reload_keeps_dataset_and_user(page, app_url):
    open_page(page, app_url, "portraits?dataset=hostile")
    type_into(page, "Search user id", "u017")
    page.wait_for_url("**user=u017*")
    assert "dataset=hostile" in page.url
    page.get_by_text("User u017", exact=True).wait_for()
    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    page.get_by_text("User u017", exact=True).wait_for()
    assert _user_value(page) == "u017"
    assert "dataset=hostile" in page.url and "user=u017" in page.url
    # A shared link opens the same view in a new session; an unknown user falls back to the list's first.
    other = new_page(page.context.browser)
    try:
        open_page(other, app_url, "portraits?dataset=hostile&user=u017")
        other.get_by_text("User u017", exact=True).wait_for()
        open_page(other, app_url, "portraits?dataset=hostile&user=%3Cb%3Enobody")
        assert other.locator('[data-testid="stException"]').count() == 0
        assert "nobody" not in _user_value(other)
    finally:
        other.context.close()


@pytest.mark.parametrize("path", ["?dataset=demo", "portraits?dataset=demo"])
def test_an_800px_window_keeps_every_control_inside(browser, app_url, path):
    context = browser.new_context(viewport={"width": 800, "height": 900})
    try:
        page = context.new_page()
        open_page(page, app_url, path)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
        fields = page.locator(FIELDS)
        assert fields.count() >= (1 if path.startswith("?") else 4)
        for selector, min_width in ((FIELDS, 160), (BUTTONS, 16)):
            controls = page.locator(selector)
            for i in range(controls.count()):
                control = controls.nth(i)
                if not control.is_visible():
                    continue
                control.scroll_into_view_if_needed()
                box = control.bounding_box()
                assert box is not None and box["width"] >= min_width, (selector, i, box)  # wide enough to use
                assert box["x"] >= 0 and box["x"] + box["width"] <= 800 + 1, (selector, i, box)  # not cut off
        main = page.locator('[data-testid="stMain"]').first.bounding_box()
        charts = page.locator('[data-testid="stPlotlyChart"]')
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (i, box)
            assert box["width"] >= 0.6 * main["width"] - 64, (i, box)  # a chart keeps most of the width
    finally:
        context.close()


def test_customer_17850_timeline_reads_in_weeks_with_dates(page, app_server, or_workspace):
    """Online Retail's 17850 (two weeks with events, eleven weeks apart): the timeline is drawn over the weeks,
    its x-axis labelled with dates, not with fractions of a second around one day."""
    url = app_server(or_workspace.root, UIG_PASSWORD="")
    open_page(page, url, "portraits?dataset=online_retail&user=17850")
    page.get_by_text("User 17850", exact=True).wait_for()
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Interests by week").first
    chart.locator(".main-svg").first.wait_for(timeout=30_000)
    weeks = chart.locator(".js-plotly-plot").evaluate(
        "el => new Set(el.data.filter(t => t.type === 'bar').flatMap(t => t.x)).size"
    )
    assert weeks >= 10
    ticks = chart.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent.trim())")
    assert len(ticks) >= 3 and all(any(y in t for y in ("2010", "2011")) for t in ticks), ticks
    assert not any(":" in t for t in ticks)  # no clock times on the axis
