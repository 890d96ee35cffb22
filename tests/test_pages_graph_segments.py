"""AppTest of the Interest graph and Clusters & segments pages on the built demo workspace."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def workspace(demo_workspace, tmp_path, monkeypatch) -> Path:
    from conftest import copy_workspace

    root = copy_workspace(demo_workspace, tmp_path / "ws")  # the segments page saves into the workspace
    monkeypatch.setenv("UIG_WORKSPACE", str(root))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    return root


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app_pages" / f"{name}.py"), default_timeout=300)
    at.session_state["uig_dataset"] = "demo"
    return at


def canvases(at: AppTest) -> list[dict]:
    """The args handed to the graph component (AppTest shows custom components as unknown elements)."""
    return [json.loads(c.proto.json_args) for c in at.main.get("component_instance")]


def frame_with(at: AppTest, column: str):
    """The first st.dataframe holding ``column`` (AppTest keeps no key for display-only frames)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_graph_page(workspace):
    at = page("graph").run()
    assert not at.exception and not at.error
    first = canvases(at)
    assert len(first) == 1 and first[0]["lib"].endswith("/vis-network.min.js")  # only the open tab draws
    data = first[0]["data"]
    center = at.session_state["graph_center"]
    assert center.startswith("user:") and data["center"] == center  # the user with the most purchases
    assert at.query_params["node"] == [center] or at.query_params["node"] == center  # shared links open it
    kinds = {n["id"]: n["group"] for n in data["nodes"]}
    assert "interest" in kinds.values() and all(isinstance(n["x"], float) for n in data["nodes"])
    # interest-first: the user hangs from interests, never from a star of items
    assert {e["kind"] for e in data["edges"]} <= {"user-interest", "item-interest", "interest-interest"}

    at.slider(key="graph_per_interest").set_value(12).run()
    assert not at.exception
    more = canvases(at)[0]["data"]
    assert sum(n["group"] == "item" for n in more["nodes"]) > sum(n["group"] == "item" for n in data["nodes"])

    at.text_input(key="graph_search").input("U0").run()
    labels = at.selectbox(key="graph_pick").options  # AppTest lists the shown labels ("type id · label")
    match = "user:" + next(o for o in labels if o.startswith("user ")).split(" ")[1]
    at.selectbox(key="graph_pick").set_value(match).run()
    assert not at.exception and at.session_state["graph_center"] == match
    assert at.session_state["graph_pick"] is None  # the pick resets so the same match can be chosen again
    assert canvases(at)[0]["data"]["highlight"]  # the search's matches are highlighted in the drawing

    at.segmented_control(key="graph_mode").set_value("hops").run()
    at.slider(key="graph_depth").set_value(2).run()
    at.slider(key="graph_max_nodes").set_value(40).run()
    at.multiselect(key="graph_edge_types").set_value(["user-item", "item-interest"]).run()
    assert not at.exception
    nodes = frame_with(at, "hop")
    assert 1 < len(nodes) <= 40 and nodes["id"].iat[0] == match
    assert set(nodes["type"]) <= {"user", "item", "interest"}

    neighbour = frame_with(at, "hop")["id"].iat[1]
    at.selectbox(key="graph_recenter").set_value(neighbour).run()
    assert not at.exception and at.session_state["graph_center"] == neighbour
    assert frame_with(at, "hop")["id"].iat[0] == neighbour
    assert at.download_button(key="graph_download") is not None

    at.session_state["graph_tab"] = "Interest overview"
    at.run()
    overview = canvases(at)
    assert not at.exception and len(overview) == 1 and overview[0]["data"]["center"] is None
    at.selectbox(key="overview_pick").set_value("interest:0").run()
    assert not at.exception and at.session_state["graph_center"] == "interest:0"
    assert at.session_state["graph_tab"] == "Neighbourhood"  # picking an interest opens its neighbourhood
    assert frame_with(at, "hop")["id"].iat[0] == "interest:0"


def test_graph_page_opens_the_node_in_the_url(workspace):
    at = page("graph")
    at.query_params["node"] = "interest:2"
    at.run()
    assert not at.exception and at.session_state["graph_center"] == "interest:2"
    assert canvases(at)[0]["data"]["center"] == "interest:2"
    bad = page("graph")
    bad.query_params["node"] = "user:<nobody>"
    bad.run()  # a link to a node this dataset lacks falls back to the default center, with no error
    assert not bad.exception and not bad.error and bad.session_state["graph_center"].startswith("user:")


def test_graph_page_escapes_hostile_titles(browser_workspace, monkeypatch):
    from conftest import HOSTILE_TITLE

    monkeypatch.setenv("UIG_WORKSPACE", str(browser_workspace))
    at = AppTest.from_file(str(REPO / "app_pages" / "graph.py"), default_timeout=300)
    at.session_state["uig_dataset"] = "hostile"
    at.run()
    at.text_input(key="graph_search").input("alert(1)").run()
    labels = at.selectbox(key="graph_pick").options
    hit = "item:" + next(o for o in labels if o.startswith("item ")).split(" ", 1)[1].split(" · ")[0]
    at.selectbox(key="graph_pick").set_value(hit).run()
    assert not at.exception
    data = canvases(at)[0]["data"]
    assert any(n["label"] == HOSTILE_TITLE for n in data["nodes"])  # drawn as text by vis (canvas, innerText)


def test_segments_page(workspace):
    at = page("segments").run()
    assert not at.exception and not at.error
    clusters = frame_with(at, "top interests")
    total = int(clusters["users"].sum())
    assert len(clusters) >= 2 and total > 100 and clusters["share"].sum() == pytest.approx(1.0)
    assert at.number_input(key="seg_k").value == len(clusters)  # the disabled box shows the k the build chose
    assert not at.warning  # no "value set via Session State" warning for the k box

    at.toggle(key="seg_auto_k").set_value(False).run()
    at.number_input(key="seg_k").set_value(5).run()
    assert not at.exception and len(frame_with(at, "top interests")) == 5

    at.session_state["seg_tab"] = "Segment builder"  # only the open tab runs
    at.run()
    at.button(key="seg_add").click().run()
    at.button(key="seg_add").click().run()
    fields = at.selectbox(key="seg_field_1").options
    interest_field = next(f for f in fields if f.startswith("interest: "))
    at.selectbox(key="seg_field_1").set_value(interest_field).run()
    at.selectbox(key="seg_op_1").set_value(">=").run()
    at.number_input(key=f"seg_val_1_{interest_field}_>=").set_value(0.3).run()
    at.selectbox(key="seg_field_2").set_value("n_purchase").run()
    at.selectbox(key="seg_op_2").set_value(">=").run()
    at.number_input(key="seg_val_2_n_purchase_>=").set_value(2.0).run()
    assert not at.exception
    size_and = _size(at)
    at.segmented_control(key="seg_combine").set_value("OR").run()
    size_or = _size(at)
    assert 0 < size_and <= size_or <= total

    at.segmented_control(key="seg_combine").set_value("AND").run()
    at.text_input(key="seg_name").input("fans").run()
    at.button(key="seg_save").click().run()
    assert not at.exception and at.success
    saved = json.loads((workspace / "segments" / "demo.json").read_text())
    assert saved["segments"]["fans"]["size"] == size_and

    download = at.download_button(key="seg_download")
    assert not download.disabled
    assert frame_with(at, "similarity").shape[0] == 50

    at.session_state["seg_tab"] = "Compare segments"  # the builder's rules are kept while it is closed
    at.run()
    at.selectbox(key="seg_cmp_b").set_value("fans").run()
    assert not at.exception
    both = next(m for m in at.metric if m.label == "Both")
    assert int(both.value.replace(",", "")) == size_and  # the current rules are the saved ones

    at.session_state["seg_tab"] = "Segment builder"
    at.run()
    assert _size(at) == size_and  # the rules came back with the tab
    at.button(key="seg_del_2").click().run()
    at.selectbox(key="seg_load").set_value("fans").run()
    assert not at.exception and _size(at) == size_and


def test_segments_page_never_loads_the_log(workspace, monkeypatch):
    import streamlit as st

    from uig_core.store.workspace import Workspace

    def refuse(self, name=None):
        raise AssertionError("the Segments page loaded every event of the dataset")

    monkeypatch.setattr(Workspace, "load_events", refuse)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = page("segments").run()
    assert not at.exception and not at.error
    assert int(frame_with(at, "top interests")["users"].sum()) > 100


def _size(at: AppTest) -> int:
    metric = next(m for m in at.metric if m.label == "Segment size")
    return int(metric.value.split()[0].replace(",", ""))


def test_segment_csv_is_formula_safe(browser_workspace):
    from uig_core.build.bundle import Bundle
    from uig_core.queries import segments
    from uig_core.store.workspace import Workspace

    ws = Workspace(browser_workspace)
    bundle = Bundle.load(ws, "hostile")
    feats = segments.user_features(bundle, ws.load_events("hostile"))
    data = segments.export_csv(feats, feats["user_id"]).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data)))
    assert len(rows) == len(feats) + 1
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
