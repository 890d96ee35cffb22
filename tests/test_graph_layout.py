"""Interest-first neighbourhoods, interest clusters and fixed positions on tiny planted graphs (issue 20 item 1)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_graphview import write_planted_build

from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError
from uig_core.graph import positions, view
from uig_core.graph.focus import interest_first, item_context
from uig_core.graph.overview import _clusters


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    return Bundle(write_planted_build(tmp_path_factory.mktemp("build")))


def test_a_user_hangs_from_their_interests(bundle):
    nodes, edges = interest_first(bundle, "user:u1")  # u1: running 60 % (i0), baking 40 % (i3)
    assert list(nodes["id"]) == ["user:u1", "interest:0", "interest:1", "item:i0", "item:i3"]
    assert list(nodes["hop"]) == [0, 1, 1, 2, 2]
    assert set(edges["type"]) == {"user-interest", "item-interest", "interest-interest"}  # no star of items
    size = nodes.set_index("id")["size"]
    assert size["interest:0"] > size["interest:1"]  # sized by share
    assert "60% of this user's profile" in nodes.set_index("id").at["interest:0", "title"]


def test_more_items_on_demand(bundle):
    few, _ = interest_first(bundle, "user:u0", per_interest=1)  # u0: i0 (5.0), i1 (1.0), i2 (0.5), all running
    assert set(few["id"]) == {"user:u0", "interest:0", "item:i0"} and few.attrs["more"] == {"interest:0": 2}
    more, _ = interest_first(bundle, "user:u0", per_interest=3)
    assert set(more["id"]) >= {"item:i0", "item:i1", "item:i2"} and more.attrs["more"] == {"interest:0": 0}
    with pytest.raises(ConfigError, match="per_interest"):
        interest_first(bundle, "user:u0", per_interest=0)


def test_an_item_shows_its_interest_similar_items_and_shoppers(bundle):
    # i3's shoppers u1 (1.0), u2 (3.0), u4 (1.5); of them u2 and u4 took i5, u1 took i0, u2 took i4
    nodes, edges = item_context(bundle, 3, k=2)
    assert set(nodes["id"]) == {"item:i3", "interest:1", "item:i5", "item:i0", "user:u2", "user:u4"}
    similar = edges[edges["type"] == "item-item"].set_index("target")["weight"]
    assert similar.to_dict() == pytest.approx({"item:i5": 2 / 3, "item:i0": 1 / 3})
    who = edges[edges["type"] == "user-item"]
    assert {("user:u2", "item:i5"), ("user:u4", "item:i5")} <= set(zip(who["source"], who["target"], strict=True))


def test_an_interest_view_is_its_one_hop_neighbourhood(bundle):
    nodes, _ = interest_first(bundle, "interest:baking")
    assert nodes["id"].iat[0] == "interest:1" and "interest:0" in set(nodes["id"])


def test_clusters_are_interests_held_together():
    ids = [f"interest:{i}" for i in range(6)]
    nodes = pd.DataFrame({"id": ids, "label": list("abcdef"), "size": [5, 9, 4, 3, 8, 2.0], "title": [""] * 6})
    strong = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)]
    pairs = strong + [(2, 3)]
    edges = pd.DataFrame(
        {
            "source": [ids[a] for a, _ in pairs],
            "target": [ids[b] for _, b in pairs],
            "weight": [0.8] * len(strong) + [0.05],
        }
    )
    out = _clusters(nodes, edges).set_index("id")
    assert out.loc[ids[:3], "cluster"].nunique() == 1 and out.loc[ids[3:], "cluster"].nunique() == 1
    assert out.at[ids[0], "cluster"] != out.at[ids[3], "cluster"]
    assert set(out["group"]) == {"b", "e"}  # named after the largest interest of each
    assert out.at[ids[0], "color"] != out.at[ids[3], "color"]
    placed = positions.place(out.reset_index().assign(hop=0), edges)
    xy = placed.set_index("id")[["x", "y"]]
    inside = np.linalg.norm(xy.loc[ids[0]] - xy.loc[ids[1]])
    across = np.linalg.norm(xy.loc[ids[0]] - xy.loc[ids[4]])
    assert inside < across  # a cluster sits together


def star(n_leaves: int, label: str = "a long item title, 28 cols") -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = ["user:c"] + [f"item:{k}" for k in range(n_leaves)]
    nodes = pd.DataFrame(
        {"id": ids, "label": ["c"] + [label] * n_leaves, "size": [20.0] + [8.0] * n_leaves, "hop": [0] + [1] * n_leaves}
    )
    edges = pd.DataFrame({"source": ["user:c"] * n_leaves, "target": ids[1:], "weight": np.linspace(1, 0.1, n_leaves)})
    return nodes, edges


def test_a_dense_star_gets_positions_whose_labels_never_collide():
    nodes, edges = star(60)
    placed = positions.place(nodes, edges)
    xy = placed[["x", "y"]].to_numpy()
    w, h = positions.label_boxes(placed)
    naive = np.c_[np.cos(np.arange(61)), np.sin(np.arange(61))] * 100  # what a small ring would give
    assert positions.overlaps(naive, w, h) > 100 and positions.overlaps(xy, w, h) == 0
    assert tuple(xy[0]) == (0.0, 0.0)  # the center stays in the middle
    again = positions.place(nodes, edges)
    assert np.array_equal(again[["x", "y"]].to_numpy(), xy)  # deterministic


def test_items_fan_out_behind_their_interest(bundle):
    v = view.graph_view(bundle, "user:u1")
    xy = v.nodes.set_index("id")[["x", "y"]]
    r = np.hypot(xy["x"], xy["y"])
    assert r["user:u1"] == 0 and r["item:i0"] > r["interest:0"] > 0 and r["item:i3"] > r["interest:1"] > 0
    assert np.hypot(*(xy.loc["item:i0"] - xy.loc["interest:0"])) < np.hypot(*(xy.loc["item:i0"] - xy.loc["interest:1"]))
    assert v.center == "user:u1" and v.data["center"] == "user:u1"
    assert {n["id"]: (n["x"], n["y"]) for n in v.data["nodes"]}["item:i0"] == tuple(xy.loc["item:i0"])


def test_views_reject_unknown_modes(bundle):
    with pytest.raises(ConfigError, match="mode"):
        view.graph_view(bundle, "user:u1", mode="bubbles")


def test_the_overview_backbone_keeps_each_interests_strongest_links():
    from uig_core.graph.overview import _backbone

    pairs = {("a", "b"): 0.9, ("a", "c"): 0.8, ("a", "d"): 0.7, ("b", "c"): 0.6, ("b", "d"): 0.5, ("c", "d"): 0.4}
    edges = pd.DataFrame(
        {"source": [a for a, _ in pairs], "target": [b for _, b in pairs], "weight": list(pairs.values())}
    )
    kept = _backbone(edges, 1)  # a's best is ab, b's ab, c's ac, d's ad
    assert set(zip(kept["source"], kept["target"], strict=True)) == {("a", "b"), ("a", "c"), ("a", "d")}
    assert len(_backbone(edges, 3)) == len(edges)
    with pytest.raises(ConfigError, match="max_links"):
        _backbone(edges, 0)


def test_data_in_the_exported_page_cannot_close_its_script_block():
    from uig_core.graph.html import script_json

    text = script_json({"title": "</script><script>alert(1)</script> & 'x' \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "'" not in text and "\u2028" not in text
    assert json.loads(text)["title"] == "</script><script>alert(1)</script> & 'x' \u2028"
