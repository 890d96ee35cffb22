"""Segments in real Chromium: a renamed segment keeps its name and its place in the URL across a reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import open_page, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'


@pytest.fixture(scope="module")
def segments_url(app_server, demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server over a copy of the demo workspace of its own (the test writes cluster names into it)."""
    from conftest import copy_workspace

    root = copy_workspace(demo_workspace, tmp_path_factory.mktemp("segments_browser") / "ws")
    return app_server(root, UIG_PASSWORD="")


def test_renamed_segment_survives_a_reload(page, segments_url):
    open_page(page, segments_url, "segments")
    page.get_by_role("tab", name="Segment profile").click()
    wait_idle(page)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Segment").first
    box.wait_for()
    name = page.get_by_label("Name", exact=True)
    name.wait_for()
    first_name = name.input_value()  # segment 0's
    box.locator('[role="combobox"], input').first.click()
    page.get_by_role("option").filter(has_text=re.compile(r"^2 · ")).first.click()
    expect(name).not_to_have_value(first_name)  # the rerun drew segment 2's name field (Streamlit redraws late)
    wait_idle(page)
    name.fill("Garden party")
    name.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save name").click()
    wait_idle(page)
    page.get_by_text("Cluster 2 is now 'Garden party'.").wait_for()
    assert re.search(r"[?&]segment=2(&|$)", page.url), page.url

    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    # the shared link opens the segment's profile, under its name
    expect(page.get_by_role("tab", name="Segment profile")).to_have_attribute("aria-selected", "true")
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Segment").first
    expect(box.get_by_role("combobox")).to_have_value(re.compile(r"^2 · Garden party"), timeout=30_000)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Garden party")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()  # size over time or the interests chart
    assert page.locator(EXCEPTION).count() == 0
    assert re.search(r"[?&]segment=2(&|$)", page.url), page.url
