"""Page state in the URL, in real Chromium: a shared link opens its dataset, a reload and a page switch keep it."""

from __future__ import annotations

import pytest
from conftest import open_page, wait_idle
from test_browser import nav, sidebar_dataset

pytestmark = pytest.mark.browser


def _sidebar_value(page) -> str:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Dataset").first
    return box.locator('[role="combobox"], input').first.input_value() or box.inner_text()


def test_dataset_in_the_url_survives_reload_and_page_switch(page, app_url):
    open_page(page, app_url, "?dataset=hostile")
    assert "hostile" in _sidebar_value(page)
    assert "dataset=hostile" in page.url
    nav(page, "Recommendations")
    wait_idle(page)
    page.wait_for_url("**/recommendations?dataset=hostile*")
    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    assert "hostile" in _sidebar_value(page)
    sidebar_dataset(page, "demo")
    page.wait_for_url("**dataset=demo*")


def test_a_hostile_dataset_parameter_falls_back_to_a_real_dataset(page, app_url):
    open_page(page, app_url, "?dataset=%3Cscript%3Ealert(1)%3C/script%3E")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "dataset=demo" in page.url or "dataset=hostile" in page.url
    assert page.dialogs == []
