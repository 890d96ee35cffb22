"""Every page on Online Retail in real Chromium, with a screenshot each (``make screenshots`` writes them to
docs/screenshots/ as ``<page>_or.png``, beside the demo's from tests/test_browser.py).

The workspace is the session's ``or_workspace`` (the README's ingest, built with popularity only), copied and
evaluated on its build's models with ``uig evaluate``, so the Model quality page has figures. With
``UIG_SCREENSHOTS`` set the copy is first rebuilt with the README's plain ``uig build --dataset online_retail``
(the default chosen on validation, ~1 CPU-minute), so the pictures show what an analyst gets.
``UIG_TEST_OR_SCREENS_WORKSPACE=DIR`` keeps that workspace across sessions. Skips when the log is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import copy_workspace, open_page, wait_idle
from test_browser import EXCEPTION, shot
from test_browser_graph import graph_frame

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"] .main-svg'  # drawn, not just placed
TABLE = '[data-testid="stDataFrame"]'
PAGES = {  # url path → (screenshot name, text that proves the main content is there, an element that must show)
    "": ("home_or", "Dataset · online_retail", CHART),
    "upload": ("upload_or", "Datasets in this workspace", TABLE),
    "graph": ("graph_or", "Interest graph", "iframe"),
    "graph#overview": ("graph_overview_or", "Interest overview", "iframe"),
    "portraits": ("portraits_or", "User 17850", CHART),
    "segments": ("segments_or", "Clusters & segments", CHART),
    "recommendations": ("recommendations_or", "Top 10 for user", TABLE),
    "quality": ("quality_or", "Models side by side", CHART),
}


def _cli(*args: str) -> None:
    from uig_core.cli.main import main

    assert main(list(args)) == 0, f"uig {' '.join(args)} failed"


@pytest.fixture(scope="session")
def or_screens_url(or_workspace, app_server, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server over a copy of ``or_workspace`` whose current build has a stored evaluation."""
    from uig_core.build.bundle import Bundle
    from uig_core.evaluation.results import load_quality
    from uig_core.store.workspace import Workspace

    reuse = os.environ.get("UIG_TEST_OR_SCREENS_WORKSPACE")
    root = Path(reuse).resolve() if reuse else tmp_path_factory.mktemp("or_screens") / "ws"
    if not (root / "uig.duckdb").exists():
        copy_workspace(or_workspace.root, root)
        if os.environ.get("UIG_SCREENSHOTS"):  # the README's build: default models, chosen on validation
            _cli("build", "--workspace", str(root), "--dataset", "online_retail")
    ws = Workspace(root)
    if load_quality(ws, "online_retail") is None:
        names = ",".join(Bundle.load(ws, "online_retail").model_names)
        _cli("evaluate", "--workspace", str(root), "--dataset", "online_retail", "--models", names)
    return app_server(root, UIG_PASSWORD="")


@pytest.mark.parametrize("path", list(PAGES))
def test_each_online_retail_page_shows_its_main_content(page, or_screens_url, path):
    name, needle, element = PAGES[path]
    url_path, _, view = path.partition("#")
    query = "dataset=online_retail" + ("&user=17850" if url_path == "portraits" else "")
    open_page(page, or_screens_url, f"{url_path}?{query}")
    if view == "overview":
        page.get_by_role("tab", name="Interest overview").click()
        wait_idle(page)
    page.get_by_text(needle).first.wait_for(timeout=60_000)
    page.locator(element).first.wait_for(timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0
    if url_path == "graph":
        graph_frame(page, center=None if view else ...)  # vis.js drew the network
    page.wait_for_timeout(500)  # let charts finish their entry animation before the screenshot
    shot(page, name)
