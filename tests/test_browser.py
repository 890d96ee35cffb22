"""The dashboard in real Chromium (Playwright): what AppTest cannot see.

Home stats, every page's main content (with a screenshot per page; `make screenshots` refreshes docs/screenshots/),
an upload + build of the demo CSV through the Upload page, the password gate, two browser sessions on different
datasets, a segment CSV download, and hostile titles shown as text with no dialog fired.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from conftest import HOSTILE_TITLE, SCREENSHOTS, new_page, open_page, wait_idle
from playwright.sync_api import expect

from uig_core.demo.generator import DEMO_DIR

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
PAGES = {  # url path → (screenshot name, text that proves the main content is there, an element that must show)
    "": ("home", "Current build", '[data-testid="stPlotlyChart"]'),
    "upload": ("upload", "Datasets in this workspace", '[data-testid="stFileUploader"]'),
    "graph": ("graph", "Interest graph", "iframe"),
    "portraits": ("portraits", "Most similar users", '[data-testid="stPlotlyChart"]'),
    "segments": ("segments", "Clusters & segments", '[data-testid="stPlotlyChart"]'),
    "recommendations": ("recommendations", "Top 10 for user", '[data-testid="stDataFrame"]'),
    "quality": ("quality", "Model quality", '[data-testid="stPlotlyChart"]'),
}


def shot(page, name: str) -> None:
    """Save the whole page (Streamlit scrolls inside its main block, so the viewport grows to fit it first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 3000)})
    page.wait_for_timeout(700)  # charts re-layout to the new size
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def choose(page, label: str, option: str, *, where: str = "") -> None:
    """Pick ``option`` in the select box labelled ``label`` (``where``: a CSS scope such as the sidebar)."""
    box = page.locator(f'{where} [data-testid="stSelectbox"]'.strip()).filter(has_text=label).first
    box.locator('[role="combobox"], input').first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(page)


def sidebar_dataset(page, name: str) -> None:
    choose(page, "Dataset", name, where='[data-testid="stSidebar"]')


def nav(page, title: str) -> None:
    """Follow a sidebar navigation link (same browser session, so session state is kept)."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    wait_idle(page)


def type_into(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True).first
    field.fill(text)
    field.press("Enter")
    wait_idle(page)


def test_home_shows_demo_stats(page, app_url):
    open_page(page, app_url)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Users").first
    metric.wait_for()
    assert re.fullmatch(r"Users\s*3,000", metric.inner_text().strip())
    page.get_by_text("Dataset · demo").wait_for()
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_shows_its_main_content(page, app_url, path):
    name, needle, element = PAGES[path]
    open_page(page, app_url, path)
    if path == "portraits":  # a drifter makes the more telling picture
        choose(page, "Order", "strongest interest drift first")
    page.get_by_text(needle).first.wait_for(timeout=60_000)
    page.locator(element).first.wait_for(timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0
    if path == "graph":
        frame = page.frame_locator("iframe").first
        frame.locator("canvas").first.wait_for(timeout=30_000)  # vis.js drew the network
    page.wait_for_timeout(500)  # let charts finish their entry animation before the screenshot
    shot(page, name)


def test_upload_demo_csv_and_build(page, app_url):
    open_page(page, app_url, "upload")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(DEMO_DIR / "events.csv.gz"))
    page.get_by_text("Validation and cleaning").wait_for(timeout=60_000)
    wait_idle(page)
    type_into(page, "Dataset name", "shop upload")
    page.get_by_role("button", name="Create dataset").click()
    page.get_by_text("Dataset shop upload created").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Build shop upload").click()
    page.get_by_text("Build complete: shop upload").wait_for(timeout=400_000)
    wait_idle(page, timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0
    shot(page, "upload_build")
    page.get_by_role("button", name="Open shop upload").click()  # after a build: straight to its Home
    page.get_by_text("Dataset · shop upload").wait_for()
    wait_idle(page)
    assert "3,000" in page.locator('[data-testid="stMetric"]').filter(has_text="Users").first.inner_text()


def signed_out(p) -> bool:
    """Only the sign-in prompt is on the page: no navigation, no dataset picker, no figures."""
    p.get_by_text("UIG · sign in").wait_for()
    return all(p.locator(f'[data-testid="{t}"]').count() == 0 for t in ("stSidebarNav", "stMetric", "stSelectbox"))


def test_password_gate(browser, app_server, demo_workspace):
    url = app_server(demo_workspace, UIG_PASSWORD="open sesame")
    first = new_page(browser)  # the first visit to a fresh server is a deep link: the gate must hold there too
    try:
        open_page(first, url, "portraits")
        assert signed_out(first)
    finally:
        first.context.close()
    p = new_page(browser)
    try:
        open_page(p, url)
        assert signed_out(p)
        p.get_by_label("Password", exact=True).fill("wrong")
        p.get_by_role("button", name="Enter").click()
        p.get_by_text("Wrong password.").wait_for()
        assert p.locator('[data-testid="stMetric"]').count() == 0
        p.get_by_label("Password", exact=True).fill("open sesame")
        p.get_by_role("button", name="Enter").click()
        p.locator('[data-testid="stMetric"]').filter(has_text="Users").first.wait_for()
        nav(p, "User portraits")  # signed in for the whole session
        p.get_by_text("Most similar users").wait_for()
    finally:
        p.context.close()
    fresh = new_page(browser)  # a new browser context must sign in again, on any page
    try:
        open_page(fresh, url, "recommendations")
        assert signed_out(fresh)
    finally:
        fresh.context.close()


def test_two_sessions_on_different_datasets_stay_apart(browser, app_url):
    a, b = new_page(browser), new_page(browser)
    try:
        open_page(a, app_url)
        open_page(b, app_url)
        sidebar_dataset(a, "hostile")
        a.get_by_text("Dataset · hostile").wait_for()
        b.reload(wait_until="domcontentloaded")
        wait_idle(b)
        b.get_by_text("Dataset · demo").wait_for()
        nav(a, "User portraits")
        nav(b, "User portraits")
        a.get_by_text(re.compile(r"^User u0\d\d$|^User <i>u000</i>$")).first.wait_for()
        assert b.get_by_text("Dataset · hostile").count() == 0
        b_user = b.locator('[data-testid="stText"]').filter(has_text=re.compile(r"^User ")).first.inner_text()
        assert not re.fullmatch(r"User (u0\d\d|<i>u000</i>)", b_user.strip())
        nav(a, "Home")
        a.get_by_text("Dataset · hostile").wait_for()
    finally:
        a.context.close()
        b.context.close()


def test_segment_csv_download(page, app_url, tmp_path):
    open_page(page, app_url, "segments")
    page.get_by_role("tab", name="Segment builder").click()
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download CSV").first
    button.wait_for(timeout=60_000)
    with page.expect_download() as info:
        button.click()
    path = Path(tmp_path / "segment.csv")
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3000 and "user_id" in rows[0]
    assert not any(str(v).startswith(("=", "+", "-", "@")) for r in rows for v in r.values() if v)


def test_hostile_titles_show_as_text(page, app_url):
    open_page(page, app_url)
    sidebar_dataset(page, "hostile")
    nav(page, "Recommendations")
    page.get_by_role("tab", name="Who should see an item?").click()
    type_into(page, "Search items", "alert(1)")
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Item (").locator("input").first
    expect(picker).to_have_value(f"x<b>1</b> · {HOSTILE_TITLE}")
    picker.click()  # the open option list renders each label as DOM text
    page.get_by_role("option", name=f"x<b>1</b> · {HOSTILE_TITLE}").wait_for()
    assert page.locator("[role=option] b").count() == 0
    page.keyboard.press("Escape")
    nav(page, "User portraits")
    type_into(page, "Search user id", "u000")
    page.get_by_text("User <i>u000</i>", exact=True).wait_for()
    assert page.locator('[data-testid="stMain"] i', has_text="u000").count() == 0
    nav(page, "Interest graph")
    wait_idle(page)
    page.wait_for_timeout(1000)
    assert page.locator(EXCEPTION).count() == 0
    assert page.dialogs == []


def test_evaluation_started_in_the_page_survives_a_closed_tab(browser, app_server, browser_workspace, tmp_path):
    from conftest import copy_workspace

    from uig_core.evaluation import jobs
    from uig_core.evaluation.results import load_quality, quality_path
    from uig_core.store.workspace import Workspace

    root = copy_workspace(browser_workspace, tmp_path / "ws")
    ws = Workspace(root)
    quality_path(ws, "hostile").unlink(missing_ok=True)
    url = app_server(root, UIG_PASSWORD="")
    first = new_page(browser)
    try:
        open_page(first, url)
        sidebar_dataset(first, "hostile")
        nav(first, "Model quality")
        first.get_by_role("button", name="Run the evaluation").click()
        first.get_by_text("It keeps running when you close this tab").wait_for(timeout=30_000)
        # the caption and the button arrive as separate deltas of a fragment redrawn every second: wait, not count
        first.get_by_role("button", name="Cancel the evaluation").wait_for(timeout=10_000)
    finally:
        first.context.close()  # the tab is closed while the evaluation runs
    state = jobs.read_job(ws, "hostile")
    assert state is not None and state.origin == "page" and state.status != "cancelled"
    again = new_page(browser)  # a new tab: a new Streamlit session
    try:
        open_page(again, url)
        sidebar_dataset(again, "hostile")
        nav(again, "Model quality")
        again.get_by_text("Evaluated on this page").wait_for(timeout=240_000)
        again.locator('[data-testid="stDataFrame"]').first.wait_for()
        assert again.locator(EXCEPTION).count() == 0
    finally:
        again.context.close()
    assert load_quality(ws, "hostile")["run"]["origin"] == "page"


_GLYPHS = """([el, ref]) => {
  const font = getComputedStyle(el).font || "16px sans-serif";
  const han = (el.textContent.match(/[\\u4e00-\\u9fff]{2}/) || [""])[0];
  const draw = (t) => {
    const c = document.createElement("canvas"); c.width = 120; c.height = 40;
    const g = c.getContext("2d"); g.font = font; g.fillText(t, 2, 28);
    return Array.from(g.getImageData(0, 0, 120, 40).data).join(",");
  };
  return {han, font, differs: han !== "" && draw(han) !== draw(ref) && draw(ref) !== draw("")};
}"""
_HAN_NODE = """() => {
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    if (/[\\u4e00-\\u9fff]{2}/.test(walk.currentNode.textContent)) return true;
  }
  return false;
}"""


def _han_element(scope):
    """The first element whose own text holds two Chinese characters (None when there is none)."""
    handle = scope.evaluate_handle(
        """() => {
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            if (/[\\u4e00-\\u9fff]{2}/.test(walk.currentNode.textContent)) return walk.currentNode.parentElement;
          }
          return null;
        }"""
    )
    return handle.as_element()


def test_chinese_titles_render_as_chinese_glyphs(browser, app_server, tmp_path):
    """Chinese titles and names show as Chinese characters (a CJK font drew them, not boxes) on the portrait page
    and in the pyvis graph: two different Chinese words render differently, which two missing glyphs never do."""
    from uig_core.build.pipeline import build
    from uig_core.demo.zh import generate
    from uig_core.ingest.clean import read_log
    from uig_core.store.workspace import Workspace

    generate(tmp_path / "zh", n_users=120, n_items=90, days=30)
    ws = Workspace(tmp_path / "ws")
    ws.add_dataset("zh", read_log(tmp_path / "zh" / "events.csv.gz").events)
    build(ws, "zh")
    url = app_server(tmp_path / "ws", UIG_PASSWORD="")
    page = new_page(browser)
    try:
        open_page(page, url, "portraits")
        page.get_by_text("Most similar users").first.wait_for(timeout=60_000)
        page.wait_for_function(_HAN_NODE, timeout=60_000)
        found = page.evaluate(_GLYPHS, [_han_element(page), "乒乓"])
        assert found["differs"], found
        assert page.locator(EXCEPTION).count() == 0
        open_page(page, url, "graph")
        page.frame_locator("iframe").first.locator("canvas").first.wait_for(timeout=60_000)
        frame = next(f for f in page.frames if f != page.main_frame and "vis-network" in f.content())
        assert re.search(r"[\u4e00-\u9fff]{2}", frame.content())  # node titles and labels in Chinese
        assert page.locator(EXCEPTION).count() == 0
        probe = frame.evaluate(
            """() => { const c = document.createElement("canvas"), g = c.getContext("2d"); g.font = "13px sans-serif";
              const d = (t) => { g.clearRect(0, 0, 300, 150); g.fillText(t, 2, 20);
                return Array.from(g.getImageData(0, 0, 60, 30).data).join(","); };
              return d("口红") !== d("面膜"); }"""
        )
        assert probe, "the graph's labels would draw Chinese as boxes (no CJK font: apt-get install fonts-noto-cjk)"
    finally:
        page.context.close()
