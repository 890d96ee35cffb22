"""Neighbourhoods on a tiny planted build, caps and filters, hostile titles, the offline HTML and `uig graph`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.build import layout
from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError, UnknownId
from uig_core.graph import html as graph_html
from uig_core.graph import view as graphview

HOSTILE = "<script>alert(1)</script>"


def write_planted_build(folder: Path, *, hostile: str = HOSTILE) -> Path:
    """A hand-made build folder with known edges, loadable by the real :class:`Bundle`.

    Users u0..u5, items i0..i5, interests 0 ("running") and 1 ("baking"):
    u0 → i0 (5.0), i1 (1.0), i2 (0.5); u1 → i0, i3; u2..u5 → i3..i5 (baking); i1's title is hostile.
    """
    folder.mkdir(parents=True, exist_ok=True)
    items = pd.DataFrame(
        {
            "item_id": [f"i{j}" for j in range(6)],
            "title": ["Trail shoes", hostile, "Running socks", "Sourdough starter", "Bread tin", "Rye flour"],
            "category": ["shoes", "apparel", "apparel", "baking", "baking", "baking"],
            "price": [80.0, 20.0, 8.0, 12.0, 15.0, 4.0],
            "n_users": [2, 1, 1, 5, 4, 4],
            "interest_id": [0, 0, 0, 1, 1, 1],
        }
    )
    users = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(6)],
            "n_events": [12, 6, 5, 5, 4, 4],
            "n_purchase": [2, 1, 1, 0, 1, 0],
            "spend": [100.0, 12.0, 15.0, 0.0, 4.0, 0.0],
        }
    )
    interests = pd.DataFrame(
        {
            "interest_id": [0, 1],
            "name": ["running", "baking"],
            "size": [3, 3],
            "top_items": [["i0", "i1"], ["i3", "i4"]],
            "top_titles": [["Trail shoes", hostile], ["Sourdough", "Tin"]],
            "level": ["coarse", "coarse"],
            "parent": [-1, -1],
        }
    )
    edges = pd.DataFrame({"source": [0], "target": [1], "n_users": [1], "weight": [0.3], "lift": [1.1]})
    rows = [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 2]
    cols = [0, 1, 2, 0, 3, 3, 4, 4, 5, 3, 5, 4, 5, 5]
    vals = [5.0, 1.0, 0.5, 2.0, 1.0, 3.0, 1.0, 2.0, 2.0, 1.5, 1.0, 1.0, 2.5, 0.2]
    inter = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(6, 6))
    profiles = np.array([[1.0, 0.0], [0.6, 0.4], [0.0, 1.0], [0.0, 1.0], [0.02, 0.98], [0.0, 1.0]], np.float32)
    layout.write_build(
        folder,
        layout.BuildContents(
            meta={"build_id": "bplanted", "dataset": "planted", "models": [], "default_model": None},
            frames={"items": items, "users": users, "interests": interests, "interest_edges": edges},
            embeddings=np.eye(6, 4, dtype=np.float32),
            centroids=np.zeros((0, 4), np.float32),
            profiles=profiles,
            profile_columns=np.array([0, 1], np.int64),
            interactions=inter,
            strongest=sp.csr_matrix(inter.shape, dtype=np.int8),
            models={},
        ),
    )
    return folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    return Bundle(write_planted_build(tmp_path_factory.mktemp("build")))


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["id"])


def test_depth1_of_a_user_is_exactly_its_items_and_interests(bundle):
    nodes, edges = graphview.neighborhood(bundle, "user:u0", depth=1)
    assert nodes["id"].iat[0] == "user:u0" and nodes["hop"].iat[0] == 0
    assert ids(nodes) == {"user:u0", "item:i0", "item:i1", "item:i2", "interest:0"}
    # induced edges: u0's three behaviour edges, its one interest, and the three items' membership
    assert set(edges["type"]) == {"user-item", "user-interest", "item-interest"}
    assert len(edges[edges["type"] == "user-item"]) == 3 and len(edges[edges["type"] == "item-interest"]) == 3
    ui = edges[edges["type"] == "user-item"].set_index("target")
    assert ui.loc["item:i0", "raw"] == pytest.approx(5.0) and ui.loc["item:i0", "weight"] == pytest.approx(1.0)
    assert ui.loc["item:i0", "weight"] > ui.loc["item:i1", "weight"] > ui.loc["item:i2", "weight"]


def test_profile_edges_below_the_floor_are_absent(bundle):
    nodes, _ = graphview.neighborhood(bundle, "user:u4", depth=1, node_types={"interest"})
    assert ids(nodes) == {"user:u4", "interest:1"}  # 2% running share is below PROFILE_EDGE_MIN


def test_min_weight_drops_weak_edges(bundle):
    nodes, edges = graphview.neighborhood(bundle, "user:u0", depth=1, min_weight=0.5, edge_types={"user-item"})
    assert ids(nodes) == {"user:u0", "item:i0", "item:i1"} or ids(nodes) == {"user:u0", "item:i0"}
    assert (edges["weight"] >= 0.5).all() and "item:i2" not in ids(nodes)  # 0.5 is the second-weakest weight


def test_cap_keeps_the_strongest(bundle):
    nodes, edges = graphview.neighborhood(bundle, "user:u0", depth=1, max_nodes=2, node_types={"item"})
    assert ids(nodes) == {"user:u0", "item:i0"} and len(edges) == 1
    for depth in (1, 2, 3):
        nodes, edges = graphview.neighborhood(bundle, "interest:1", depth=depth, max_nodes=4)
        assert len(nodes) <= 4
        assert set(edges["source"]) | set(edges["target"]) <= ids(nodes)


def test_depth_grows_and_types_filter(bundle):
    sizes = [len(graphview.neighborhood(bundle, "item:i0", depth=d)[0]) for d in (1, 2, 3)]
    assert sizes[0] < sizes[1] <= sizes[2]
    nodes, edges = graphview.neighborhood(
        bundle, "item:i3", depth=2, node_types={"user", "item"}, edge_types={"user-item"}
    )
    assert set(nodes["type"]) == {"user", "item"} and set(edges["type"]) == {"user-item"}
    nodes, _ = graphview.neighborhood(bundle, "interest:running", depth=1, node_types={"interest"})
    assert ids(nodes) == {"interest:0", "interest:1"}


def test_center_resolution_and_errors(bundle):
    assert graphview.resolve_center(bundle, "i3") == ("item", 3)
    assert graphview.resolve_center(bundle, "u2") == ("user", 2)
    assert graphview.resolve_center(bundle, "1") == ("interest", 1)
    assert graphview.resolve_center(bundle, "interest:baking") == ("interest", 1)
    with pytest.raises(UnknownId, match="user 'nobody'"):
        graphview.neighborhood(bundle, "user:nobody")
    with pytest.raises(UnknownId, match="tried item, user and interest"):
        graphview.neighborhood(bundle, "zzz")
    with pytest.raises(ConfigError, match="depth"):
        graphview.neighborhood(bundle, "u0", depth=4)
    with pytest.raises(ConfigError, match="edge type"):
        graphview.neighborhood(bundle, "u0", edge_types={"friends"})


def test_search(bundle):
    from uig_core.queries.pickers import find_nodes  # the graph page's search box

    found = find_nodes(bundle, "sourdough")
    assert list(found["id"]) == ["item:i3"]
    assert "interest:1" in set(find_nodes(bundle, "bak")["id"])
    assert list(find_nodes(bundle, "u1")["id"])[0] == "user:u1"
    assert list(find_nodes(bundle, "")["id"]) == ["interest:0", "interest:1"]
    nodes, _ = graphview.neighborhood(bundle, "user:u0", depth=1)
    labels = graphview.choice_labels(nodes)
    assert labels["user:u0"] == "user u0" and labels["item:i0"] == "item i0 · Trail shoes"
    assert labels["interest:0"] == "interest 0 · running" and len(set(labels.values())) == len(labels)


def test_default_center_and_label_thinning(bundle):
    assert graphview.default_center(bundle) == "user:u0"  # most purchases
    nodes, edges = graphview.neighborhood(bundle, "user:u0", depth=2)
    data = node_data(graph_html.render_html(nodes, edges, max_labels=3))
    labelled = {n["id"] for n in data if n["label"].strip()}
    assert labelled == {"user:u0", "interest:0", "interest:1"} and len(data) == len(nodes)
    assert all(n["title"] for n in data)  # every node keeps its tooltip


def page_data(page: str) -> dict:
    """The drawing's data block of an exported page (JSON inside <script type="application/json">)."""
    block = page.split('<script type="application/json" id="uig-data">', 1)[1].split("</script>", 1)[0]
    return json.loads(block)


def node_data(page: str) -> list[dict]:
    return page_data(page)["nodes"]


def test_hostile_title_is_inert_text(bundle):
    nodes, edges = graphview.neighborhood(bundle, "user:u0", depth=2)
    page = graph_html.render_html(nodes, edges, heading=f"around {HOSTILE}")
    assert HOSTILE not in page and "alert(1)</script>" not in page
    # the same graph with a harmless title has exactly as many <script> elements: none comes from data
    calm = graph_html.render_html(nodes.assign(label="x", title="y"), edges, heading="around x")
    assert page.lower().count("<script") == calm.lower().count("<script")
    # the data decodes back to the literal title, which vis draws on a canvas / sets with innerText
    item = next(n for n in node_data(page) if n["id"] == "item:i1")
    assert item["label"] == HOSTILE and HOSTILE in item["title"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the heading (our markup) is html-escaped
    assert "popup.innerHTML" not in page  # pyvis's HTML tooltip mode is never used


def test_href_in_a_title_does_not_switch_to_html_tooltips(tmp_path):
    b = Bundle(write_planted_build(tmp_path / "b", hostile='<img src=x onerror=alert(1) href="y">'))
    page = graph_html.render_html(*graphview.neighborhood(b, "item:i1", depth=1))
    assert "popup.innerHTML" not in page and "<img src=x" not in page


def test_html_is_offline(bundle, tmp_path):
    out = graph_html.save_html(tmp_path / "g.html", *graphview.interest_overview(bundle))
    page = out.read_text(encoding="utf-8")
    assert "vis.Network" in page and "DataSet" in page and len(page) > 200_000  # vis-network inlined
    assert not re.search(r"<script[^>]*\ssrc=", page, re.I)
    assert not re.search(r"<link[^>]*https?://", page, re.I)
    assert "interest:0" in page and "interest:1" in page
    with pytest.raises(ConfigError, match=r"\.html"):
        graph_html.save_html(tmp_path / "g.txt", *graphview.interest_overview(bundle))


def test_overview_sizes_by_interest_size(bundle):
    nodes, edges = graphview.interest_overview(bundle)
    assert ids(nodes) == {"interest:0", "interest:1"} and len(edges) == 1
    assert graphview.interest_overview(bundle, min_weight=0.5)[1].empty
    assert len(graphview.interest_overview(bundle, min_lift=1.0)[1]) == 1  # planted lift 1.1
    assert graphview.interest_overview(bundle, min_lift=1.5)[1].empty
    assert "lift 1.10" in edges["title"].iat[0]


# ---------------------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def planted_workspace(tmp_path_factory) -> Path:
    from uig_core.store.workspace import Workspace

    root = tmp_path_factory.mktemp("ws")
    ws = Workspace(root)
    events = pd.DataFrame(
        {
            "user_id": ["u0", "u1"],
            "item_id": ["i0", "i1"],
            "event": ["view", "purchase"],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    info = ws.add_dataset("planted", events)
    write_planted_build(ws.build_root(info) / "bplanted")
    ws.record_build("planted", "bplanted", {"events": 2})
    return root


def test_cli_graph_writes_offline_html(planted_workspace, tmp_path, capsys):
    from uig_core.cli.main import main

    out = tmp_path / "around.html"
    code = main(
        ["graph", "--workspace", str(planted_workspace), "--around", "u0", "--depth", "2", "--html", str(out), "--json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["center"] == "user:u0" and payload["nodes"] >= 5 and payload["edges"] >= 5
    page = out.read_text(encoding="utf-8")
    assert "vis-network" in page and not re.search(r"<script[^>]*\ssrc=\"?https?:", page, re.I)
    assert HOSTILE not in page


def test_cli_graph_unknown_id_is_one_line(planted_workspace, tmp_path, capsys):
    from uig_core.cli.main import main

    code = main(
        ["graph", "--workspace", str(planted_workspace), "--around", "user:ghost", "--html", str(tmp_path / "x.html")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "ghost" in err and err.count("\n") == 1 and not (tmp_path / "x.html").exists()


def test_cli_graph_overview(planted_workspace, tmp_path, capsys):
    from uig_core.cli.main import main

    code = main(
        [
            "graph",
            "--workspace",
            str(planted_workspace),
            "--overview",
            "--min-lift",
            "1",
            "--html",
            str(tmp_path / "o.html"),
            "--json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["center"] is None and payload["nodes"] == 2 and payload["edges"] == 1
    assert main(["graph", "--workspace", str(planted_workspace), "--html", str(tmp_path / "n.html")]) == 2
    assert "--around ID" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- lazy index
def test_a_neighbourhood_reads_only_what_it_shows(tmp_path):
    from uig_core.graph.adjacency import graph_index

    fresh = Bundle(write_planted_build(tmp_path / "lazy"))
    user = str(layout.read_frame(fresh.path, "users", columns=["user_id"])["user_id"].iat[0])
    nodes, _ = graphview.neighborhood(fresh, f"user:{user}", depth=2)
    assert len(nodes) > 1
    assert not fresh.is_loaded("users") and not fresh.is_loaded("embeddings")  # a few columns, no vectors
    idx = graph_index(fresh)
    assert idx is graph_index(fresh)  # one index per bundle
    assert set(idx.users.columns) <= {"user_id", "n_events", "n_purchase", "spend", "orders"}  # what it shows


def test_strength_is_the_percentile_rank_and_a_sample_approximates_it(bundle, monkeypatch):
    from uig_core.graph import adjacency

    weights = np.asarray(bundle.interactions.data, dtype=np.float32)
    probe = np.quantile(weights, [0.0, 0.1, 0.5, 0.9, 1.0]).astype(np.float32)
    exact = (np.searchsorted(np.sort(weights), probe, side="right") / len(weights)).astype(np.float32)
    np.testing.assert_allclose(adjacency.GraphIndex(bundle).strength(probe), exact)
    monkeypatch.setattr(adjacency, "_SCALE_SAMPLE", max(2, len(weights) // 2))
    sampled = adjacency.GraphIndex(bundle).strength(probe)
    assert np.abs(sampled - exact).max() < 0.25 and sampled[-1] == 1.0


def test_holders_and_interest_users_agree_with_the_profiles(bundle, monkeypatch):
    from uig_core.graph import adjacency

    monkeypatch.setattr(adjacency, "_PROFILE_BLOCK", 3)  # many blocks
    idx = adjacency.GraphIndex(bundle)
    prof = np.asarray(bundle.profiles)
    for c, t in enumerate(idx.interest_ids):
        want = np.flatnonzero(prof[:, c] >= adjacency.PROFILE_EDGE_MIN)
        np.testing.assert_array_equal(idx.interest_users(int(t)), want)
        assert idx.holders(int(t)) == len(want)
        np.testing.assert_array_equal(idx.interest_users(int(t), 0.5), np.flatnonzero(prof[:, c] >= 0.5))


def test_labels_are_capped_by_display_width():
    assert graphview.clean_text("a" * 40, 28) == "a" * 27 + "…"
    assert graphview.clean_text("中" * 14, 28) == "中" * 14  # 28 columns: fits
    assert graphview.clean_text("中" * 15, 28) == "中" * 13 + "…"  # two columns each, the ellipsis one
    assert graphview.clean_text("花西子 丝绒哑光口红 官方旗舰店正品", 20) == "花西子 丝绒哑光口红…"  # 19 + 1 columns
