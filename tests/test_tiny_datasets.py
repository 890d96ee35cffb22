"""Every page, every tab, on the smallest datasets that ingest: one user, three users, one item, one day.

Each dataset is built for real (seconds); the pages must show notes where the data is too small (k-means with
fewer users than k, a test period with nothing in it), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import page_app
from streamlit.testing.v1 import AppTest

from uig_core.build.bundle import Bundle
from uig_core.build.pipeline import build
from uig_core.evaluation.results import load_quality, quality_notes
from uig_core.ingest.clean import read_log
from uig_core.queries import clusters
from uig_core.store.workspace import Workspace

PAGES = ["home", "upload", "graph", "portraits", "segments", "recommendations", "model_quality"]
TABS = {
    "graph": ["Neighbourhood", "Interest overview"],
    "segments": ["Clusters", "Segment profile", "Segment builder", "Compare segments"],
    "recommendations": ["Top-K with reasons", "Compare two models", "Who should see an item?"],
}
TINY = {"one_user": (1, 4, 40), "three_users": (3, 5, 40), "one_item": (4, 1, 40), "one_day": (3, 3, 1)}
# name: (users, items, days)


def tiny_log(path: Path, users: int, items: int, days: int = 40) -> Path:
    """``users`` users who each view and buy one of ``items`` items a day for ``days`` days."""
    start = pd.Timestamp("2024-01-01")
    rows = [
        (f"u{u}", f"i{(u + d) % items}", event, start + pd.Timedelta(days=d, minutes=u), f"tea cup {(u + d) % items}")
        for u in range(users)
        for d in range(days)
        for event in ("view", "purchase")
    ]
    pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts", "title"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the three tiny datasets, each built."""
    root = tmp_path_factory.mktemp("tiny") / "ws"
    ws = Workspace(root)
    for name, (users, items, days) in TINY.items():
        log = tiny_log(root.parent / f"{name}.csv", users, items, days)
        result = read_log(log)
        ws.add_dataset(name, result.events, source=str(log), report=result.report.to_dict())
        build(ws, name)
    return root


def open_page(root: Path, monkeypatch: pytest.MonkeyPatch, name: str, dataset: str) -> AppTest:
    monkeypatch.setenv("UIG_WORKSPACE", str(root))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    at = page_app(name, timeout=180)
    at.session_state["uig_dataset"] = dataset
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("dataset", list(TINY))
def test_every_page_and_tab_opens(tiny_workspace, monkeypatch, dataset, page):
    at = open_page(tiny_workspace, monkeypatch, page, dataset)
    assert [t.label for t in at.tabs] == TABS.get(page, [])  # every tab is drawn (AppTest runs their bodies)
    assert not [e.value for e in at.error if "Traceback" in e.value or "Error:" in e.value]


@pytest.mark.parametrize("dataset", list(TINY))
def test_segments_with_more_clusters_than_users(tiny_workspace, monkeypatch, dataset):
    at = open_page(tiny_workspace, monkeypatch, "segments", dataset)
    at.toggle(key="seg_auto_k").set_value(False).run()
    at.number_input(key="seg_k").set_value(8).run()
    assert not at.exception, [e.value for e in at.exception]
    notes = " ".join(i.value for i in at.info)
    assert "too few to cluster" in notes or "k = 8 asks for more clusters" in notes
    at.session_state["seg_tab"] = "Segment builder"  # only the open tab runs
    at.run()
    at.button(key="seg_add").click().run()  # a rule on the smallest data still works
    assert not at.exception, [e.value for e in at.exception]


def test_clustering_notes_instead_of_errors(tiny_workspace):
    ws = Workspace(tiny_workspace)
    one = clusters.cluster_users(Bundle.load(ws, "one_user"))
    assert one.k == 1 and one.labels.tolist() == [0] and "1 user:" in one.note
    alike = clusters.cluster_users(Bundle.load(ws, "one_item"))  # one item: every user has the same vector
    assert alike.k == 1 and "one learned vector" in alike.note
    with pytest.raises(Exception, match="'k'"):
        clusters.cluster_users(Bundle.load(ws, "three_users"), k=1)


def test_graph_and_portrait_on_one_user(tiny_workspace, monkeypatch):
    at = open_page(tiny_workspace, monkeypatch, "graph", "one_user")
    at.text_input(key="graph_search").input("u0").run()
    assert not at.exception
    assert at.selectbox(key="graph_pick").options[0].startswith("user u0")
    portrait = open_page(tiny_workspace, monkeypatch, "portraits", "one_user")
    assert "User u0" in [t.value for t in portrait.text]


def test_an_empty_test_period_says_so(tiny_workspace, monkeypatch):
    from uig_core.cli.main import main

    args = ["evaluate", "--workspace", str(tiny_workspace), "--dataset", "three_users", "--models", "popularity"]
    assert main(args) == 0
    result = load_quality(Workspace(tiny_workspace), "three_users")
    assert result["protocol"]["test_users"] == 0 and quality_notes(result)
    at = open_page(tiny_workspace, monkeypatch, "model_quality", "three_users")
    assert any("0 by construction" in w.value for w in at.warning)
    full = next(d.value for d in at.dataframe if "note" in d.value.columns)  # the stored build tables come first
    assert np.isclose(full["recall@20"].iloc[0], 0.0)


def test_a_log_too_short_for_a_hold_out_fails_in_words(tiny_workspace, monkeypatch):
    import time

    from uig_core.evaluation import jobs

    ws = Workspace(tiny_workspace)
    jobs.start_job(ws, "one_day", names=["popularity"])
    deadline = time.monotonic() + 120
    while (state := jobs.read_job(ws, "one_day")).active and time.monotonic() < deadline:
        time.sleep(0.3)
    assert state.status == "failed" and "too short for a 30-day hold-out" in state.message
    assert "--" not in state.message
    at = open_page(tiny_workspace, monkeypatch, "model_quality", "one_day")
    assert any("too short" in e.value for e in at.error) and at.button(key="quality_run")
