"""Shared fixtures: a built demo workspace, a small hostile dataset, a Streamlit server, Playwright Chromium.

* ``demo_workspace`` (session): a folder holding the demo dataset, ingested and built once per test session with
  ``uig demo``. Treat it as read-only; copy it with ``copy_workspace`` before changing anything.
  ``UIG_TEST_WORKSPACE=DIR`` reuses (and, the first time, builds) a workspace across sessions.
* ``browser_workspace`` (session): a copy of the demo workspace plus a built dataset ``hostile`` whose logs hold
  markup and script in titles, ids and categories.
* ``or_workspace`` (session): Online Retail from ``../shared/data`` ingested as the README does and built with the
  popularity model (skips when the log is absent; read-only). One build per session, shared by every module.
* ``app_server`` (session): a factory ``app_server(workspace, **env) -> url`` that starts ``streamlit run app.py`` on a
  free localhost port with ``UIG_WORKSPACE`` set (servers stop at the end of the session); ``app_url`` is one over
  ``browser_workspace``.
* ``browser`` (session) and ``page`` (per test, in a fresh context): Playwright with Debian's Chromium. The page
  records JavaScript dialogs in ``page.dialogs`` (and dismisses them). Browser tests skip when Chromium is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES_DIR = REPO / "app_pages"  # where app.py's st.Page files live
CHROMIUM = os.environ.get("UIG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HOSTILE_TITLE = "<script>alert(1)</script>"
OR_CSV = REPO.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"  # skipped when absent
# Page screenshots go to a temporary folder, so a test run leaves the checkout clean; `make screenshots` sets
# UIG_SCREENSHOTS=docs/screenshots to refresh the ones the README shows.
SCREENSHOTS = Path(os.environ.get("UIG_SCREENSHOTS") or Path(tempfile.gettempdir()) / "uig-screenshots").resolve()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ---------------------------------------------------------------------------------------------- workspaces


def copy_workspace(src: Path, dst: Path) -> Path:
    """Copy a workspace folder (DuckDB file, builds, caches) so a test may change it freely."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.lock", ".lock"))
    return dst


def _has_built(root: Path, name: str) -> bool:
    from uig_core.store.workspace import Workspace

    if not (root / "uig.duckdb").exists():
        return False
    return any(d.name == name and d.current_build for d in Workspace(root).datasets())


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a workspace with the demo dataset ``demo`` ingested and built (read-only for tests)."""
    from uig_core.cli.main import main

    reuse = os.environ.get("UIG_TEST_WORKSPACE")
    root = Path(reuse).resolve() if reuse else tmp_path_factory.mktemp("demo_ws")
    if not _has_built(root, "demo"):
        assert main(["demo", "--workspace", str(root)]) == 0, "uig demo failed"
    return root


@pytest.fixture(scope="session")
def demo_ws(demo_workspace: Path):
    """The demo workspace as a :class:`uig_core.store.workspace.Workspace`."""
    from uig_core.store.workspace import Workspace

    return Workspace(demo_workspace)


@pytest.fixture(scope="session")
def or_workspace(tmp_path_factory: pytest.TempPathFactory):
    """Online Retail ingested as the README does and built with the popularity model only (~50 s, 2 cores):
    a portrait needs the interests and drift of a build, not its recommenders. ``UIG_TEST_OR_WORKSPACE=DIR``
    reuses one across sessions."""
    if not OR_CSV.exists():
        pytest.skip("../shared/data/online_retail is absent")
    from uig_core.cli.main import main
    from uig_core.store.workspace import Workspace

    reuse = os.environ.get("UIG_TEST_OR_WORKSPACE")
    root = Path(reuse).resolve() if reuse else tmp_path_factory.mktemp("or_ws")
    ws = Workspace(root)
    if not any(d.name == "online_retail" and d.current_build for d in ws.datasets()):
        maps = ["CustomerID=user_id", "StockCode=item_id", "InvoiceDate=ts", "Description=item_title"]
        maps += ["Quantity=quantity", "UnitPrice=price", "InvoiceNo=order_id"]
        args = ["ingest", str(OR_CSV), "--workspace", str(root), "--name", "online_retail"]
        args += [a for m in maps for a in ("--map", m)] + ["--item-pattern", r"^\d{5}[A-Za-z]{0,2}$"]
        assert main(args) == 0
        build = ["build", "--workspace", str(root), "--dataset", "online_retail", "--model", "popularity"]
        assert main([*build, "--selection-budget", "0"]) == 0
    return Workspace(root)


def hostile_events(n_users: int = 60, seed: int = 7) -> pd.DataFrame:
    """A small shop log whose titles, ids and categories carry markup, script and spreadsheet formulas.

    Two plain themes (tea, bikes) plus a popular item titled ``<script>alert(1)</script>`` that almost every
    user views, so it shows up in portraits, audiences and recommendations.
    """
    rng = np.random.default_rng(seed)
    themes = {
        "tea": [
            "green tea loose leaf",
            "oolong tea tin",
            "matcha whisk bamboo",
            "ceramic teapot white",
            "earl grey tea bags",
            "cast iron kettle",
            "tea cups set of four",
            "jasmine tea pearls",
        ],
        "bike": [
            "road bike helmet",
            "bike chain lube",
            "cycling gloves padded",
            "bike lights usb",
            "inner tube 700c",
            "bike lock heavy duty",
            "cycling jersey",
            "saddle bag small",
        ],
    }
    items = [(f"{t[:1]}{i:02d}", title, t) for t, titles in themes.items() for i, title in enumerate(titles)]
    items += [
        ("x<b>1</b>", HOSTILE_TITLE, "<img src=x onerror=alert(2)>"),
        ("x2", '=HYPERLINK("http://evil","click")', "tea"),
        ("x3", "**bold** [link](javascript:alert(3))", "bike"),
    ]
    rows = []
    start = pd.Timestamp("2024-01-01")
    for u in range(n_users):
        user = f"u{u:03d}" if u != 0 else "<i>u000</i>"
        theme = "tea" if u % 2 else "bike"
        own = [it for it in items if it[2] == theme]
        for _ in range(int(rng.integers(6, 14))):
            item = own[int(rng.integers(len(own)))]
            ts = start + pd.Timedelta(hours=float(rng.uniform(0, 24 * 80)))
            for event in ("view", "click", "cart", "purchase")[: int(rng.integers(1, 5))]:
                rows.append((user, item[0], event, ts, item[1], item[2], 10.0))
                ts += pd.Timedelta(minutes=3)
        for hostile in items[-3:]:
            if rng.random() < 0.8:
                rows.append(
                    (
                        user,
                        hostile[0],
                        "view",
                        start + pd.Timedelta(days=float(rng.uniform(0, 80))),
                        hostile[1],
                        hostile[2],
                        5.0,
                    )
                )
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "timestamp", "title", "category", "price"])


@pytest.fixture(scope="session")
def browser_workspace(demo_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo workspace plus a built dataset ``hostile`` (see :func:`hostile_events`).

    The demo build is evaluated on its own models only (seconds, where every registered model takes minutes), so
    the Model quality page has figures to show.
    """
    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.evaluation.results import load_quality, run_evaluation
    from uig_core.ingest.clean import read_log
    from uig_core.store.workspace import Workspace

    root = copy_workspace(demo_workspace, tmp_path_factory.mktemp("browser") / "ws")
    if load_quality(Workspace(root), "demo") is None:
        run_evaluation(Workspace(root), "demo", names=Bundle.load(Workspace(root), "demo").model_names)
    log = root.parent / "hostile.csv"
    hostile_events().to_csv(log, index=False)
    ws = Workspace(root)
    result = read_log(log)
    ws.add_dataset("hostile", result.events, source=str(log), report=result.report.to_dict())
    build(ws, "hostile")
    return root


# ---------------------------------------------------------------------------------------------- AppTest

# AppTest.switch_page (Streamlit 1.67) runs a navigation page's file on its own, without the router, so the
# sidebar dataset picker and the password gate never run. This harness is app.py's router with one page.
_PAGE_HARNESS = """
import streamlit as st
from uig_app.state import dataset_picker, password_gate
from uig_app.theme import PAGE_CONFIG

st.set_page_config(**PAGE_CONFIG)
if password_gate():
    page = st.navigation([st.Page({path!r}, default=True)], position="hidden")
    dataset_picker()
    page.run()
"""


def page_app(name: str, *, timeout: float = 120) -> object:
    """An AppTest of ``<PAGES_DIR>/<name>.py`` behind the app's router (password gate, sidebar dataset picker).

    Set ``UIG_WORKSPACE`` (and unset ``UIG_PASSWORD``) before ``run()``.
    """
    from streamlit.testing.v1 import AppTest

    return AppTest.from_string(_PAGE_HARNESS.format(path=str(PAGES_DIR / f"{name}.py")), default_timeout=timeout)


def table(at: object, *columns: str, nth: int = 0) -> pd.DataFrame:
    """The ``nth`` dataframe shown by an AppTest run whose columns include ``columns``.

    (AppTest does not expose ``st.dataframe`` keys, so tables are found by their columns.)
    """
    found = [d.value for d in at.dataframe if set(columns) <= set(map(str, d.value.columns))]
    if len(found) <= nth:
        raise KeyError(
            f"no table #{nth} with columns {columns}; tables: {[list(d.value.columns) for d in at.dataframe]}"
        )
    return found[nth]


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppServer:
    """``streamlit run app.py`` in a subprocess, bound to localhost."""

    def __init__(self, workspace: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        full_env = {**os.environ, "UIG_WORKSPACE": str(workspace), "PYTHONUNBUFFERED": "1", **env}
        for key, value in env.items():
            if value is None:
                full_env.pop(key, None)
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--server.runOnSave",
            "false",
        ]
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=self._fh, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 90.0) -> AppServer:
        """Block until the health endpoint answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not start in {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Terminate the server (kill after 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._fh.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Factory: ``app_server(workspace, **env) -> base url`` of a fresh server (stopped at session end)."""
    servers: list[AppServer] = []
    logs = tmp_path_factory.mktemp("server_logs")

    def start(workspace: Path, **env: str) -> str:
        server = AppServer(Path(workspace), logs / f"streamlit_{len(servers)}.log", **env)
        servers.append(server)
        return server.wait().url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def app_url(app_server: Callable[..., str], browser_workspace: Path) -> str:
    """Base URL of a server over ``browser_workspace`` (no password)."""
    return app_server(browser_workspace, UIG_PASSWORD="")


# ---------------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Playwright's Chromium, launched from Debian's binary (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser: object) -> object:
    """A page in a fresh browser context (own cookies and Streamlit session) that records dialogs."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog: object) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[object]:
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh context and page per test; ``page.dialogs`` lists any alert/confirm that fired.

    When the test fails, a screenshot of the page is saved under ``$TMPDIR/uig-test-screenshots`` (path printed).
    """
    p = new_page(browser)
    yield p
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = Path(tempfile.gettempdir()) / "uig-test-screenshots" / f"{request.node.name}.png"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            p.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failed page: {path}")
        except Exception:  # noqa: BLE001 - a screenshot is a courtesy, never a second failure
            pass
    p.context.close()


def wait_idle(page: object, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script run of the page has finished."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def open_page(page: object, base_url: str, path: str = "", timeout: float = 60_000) -> None:
    """Open ``base_url/path`` and wait for the script run to finish."""
    page.goto(f"{base_url}/{path}".rstrip("/"), wait_until="domcontentloaded")
    wait_idle(page, timeout)
