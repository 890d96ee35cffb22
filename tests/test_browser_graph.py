"""The Interest graph in real Chromium: a still picture that fits the canvas, click to re-center, the node in the
URL, and the exported file behaving the same (issue 20 items 1 and 5).

Positions are read from the vis-network instance inside the component's frame (``window.uig.network``:
``getPositions`` and ``canvasToDOM``) and compared with the canvas's own size.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import HOSTILE_TITLE, open_page, wait_idle
from test_browser import EXCEPTION, sidebar_dataset

pytestmark = pytest.mark.browser

COMPONENT = "/component/uig_app.graph_component.uig_graph/"
_POSITIONS = """() => {
  const s = window.uig, n = s.network, c = document.querySelector('#uig-graph canvas');
  const out = {};
  for (const [id, p] of Object.entries(n.getPositions())) { const d = n.canvasToDOM(p); out[id] = [d.x, d.y]; }
  return {w: c.clientWidth, h: c.clientHeight, pos: out, center: s.data.center, focus: s.focus};
}"""


def graph_frame(page, *, center: object = ..., timeout: float = 30_000):
    """The graph component's frame once it has drawn (and, if given, drawn around ``center``)."""
    page.locator(f'iframe[src*="{COMPONENT}"]').first.wait_for(timeout=timeout)
    frame = next(f for f in page.frames if COMPONENT in f.url)
    frame.wait_for_function("() => window.uigReady >= 1 && window.uig.network", timeout=timeout)
    if center is not ...:
        frame.wait_for_function("(c) => window.uig.data.center === c", arg=center, timeout=timeout)
    return frame


def settled(frame) -> dict:
    """Positions after the layout had time to move (it must not): read twice, a second apart."""
    first = frame.evaluate(_POSITIONS)
    frame.wait_for_timeout(1000)
    second = frame.evaluate(_POSITIONS)
    moved = max(abs(a - b) for k in first["pos"] for a, b in zip(first["pos"][k], second["pos"][k], strict=True))
    assert moved < 1.0, f"the layout kept moving ({moved:.1f} px in a second)"
    return second


def inside_share(state: dict) -> float:
    pos = state["pos"].values()
    return sum(0 <= x <= state["w"] and 0 <= y <= state["h"] for x, y in pos) / max(len(state["pos"]), 1)


def click_node(page, frame, node: str) -> None:
    frame.frame_element().scroll_into_view_if_needed()
    x, y = frame.evaluate(_POSITIONS)["pos"][node]
    box = frame.locator("#uig-graph canvas").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


@pytest.mark.parametrize("dataset", ["demo", "hostile"])
def test_overview_fits_the_canvas_and_a_click_opens_an_interest(page, app_url, dataset):
    open_page(page, app_url, "graph")
    if dataset != "demo":
        sidebar_dataset(page, dataset)
    page.get_by_role("tab", name="Interest overview").click()
    wait_idle(page)
    frame = graph_frame(page, center=None)
    state = settled(frame)
    assert len(state["pos"]) >= 2 and inside_share(state) >= 0.95, state
    target = sorted(state["pos"])[-1]
    click_node(page, frame, target)
    page.wait_for_url(f"**node={quote(target, safe='')}**", timeout=30_000)
    wait_idle(page)
    assert page.get_by_role("tab", name="Neighbourhood").get_attribute("aria-selected") == "true"
    graph_frame(page, center=target)
    assert page.locator(EXCEPTION).count() == 0 and page.dialogs == []


def test_click_recenters_and_a_reload_keeps_dataset_and_node(page, app_url):
    open_page(page, app_url, "graph")
    frame = graph_frame(page)
    state = settled(frame)
    assert inside_share(state) >= 0.95
    start = state["center"]
    assert start.startswith("user:") and f"node={quote(start, safe='')}" in page.url
    target = next(k for k in sorted(state["pos"]) if k.startswith("item:"))
    click_node(page, frame, target)
    page.wait_for_url(f"**node={quote(target, safe='')}**", timeout=30_000)
    wait_idle(page)
    frame = graph_frame(page, center=target)
    assert inside_share(settled(frame)) >= 0.95
    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    graph_frame(page, center=target)
    assert "dataset=demo" in page.url and page.locator(EXCEPTION).count() == 0


def test_exported_html_fits_and_focuses_on_click(page, app_url, tmp_path: Path):
    open_page(page, app_url, "graph")
    graph_frame(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download HTML").click()
    path = tmp_path / "graph.html"
    download.value.save_as(path)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.uigReady >= 1", timeout=30_000)
    state = settled(page.main_frame)
    assert inside_share(state) >= 0.95
    target = next(k for k in sorted(state["pos"]) if k != state["center"])
    x, y = state["pos"][target]
    box = page.locator("#uig-graph canvas").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("(t) => window.uig.focus === t", arg=target, timeout=10_000)
    focused = page.evaluate(_POSITIONS)
    assert inside_share(focused) < 1.0 or len(focused["pos"]) <= 3 or focused["pos"] != state["pos"]  # zoomed in
    assert target.split(":", 1)[1] in page.locator("#uig-info").inner_text()  # its details, as text
    page.fill("#uig-search", "zzzz-no-such-node")
    assert "no node in view matches" in page.locator("#uig-info").inner_text()


def test_hostile_titles_stay_text_in_the_graph(page, app_url):
    node = "item:x<b>1</b>"  # a shared link to the item titled <script>alert(1)</script>
    open_page(page, app_url, f"graph?dataset=hostile&node={quote(node)}")
    frame = graph_frame(page, center=node)
    frame.wait_for_function("(t) => document.querySelector('#uig-info').textContent.includes(t)", arg=HOSTILE_TITLE)
    assert frame.locator("#uig-info script, #uig-info b, #uig-info img").count() == 0
    state = settled(frame)
    assert inside_share(state) >= 0.95
    other = next(k for k in sorted(state["pos"]) if k.startswith("user:"))
    click_node(page, frame, other)
    page.wait_for_url(f"**node={quote(other, safe='')}**", timeout=30_000)
    wait_idle(page)
    graph_frame(page, center=other)
    assert page.dialogs == [] and page.locator(EXCEPTION).count() == 0
