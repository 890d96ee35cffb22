"""Segments with names: k chosen by silhouette and stability, clusters named by their distinctive interests and
behaviour, stored with the build, names that persist across reloads and rebuilds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from uig_core.build import clustering as stored
from uig_core.queries import clusters
from uig_core.queries.segment_names import describe_segments, short_interest
from uig_core.queries.segment_store import NAME_SAMPLE, SegmentStore, resolve_names

REPO = Path(__file__).resolve().parents[1]


def blobs(sizes: list[int], dim: int = 12, spread: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised vectors in groups around orthogonal directions, and each vector's group."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(sizes)), sizes)
    x = np.eye(len(sizes), dim)[group] + spread * rng.standard_normal((len(group), dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), group


def test_k_is_the_stable_best_silhouette_on_planted_groups():
    from sklearn.metrics import adjusted_rand_score

    x, group = blobs([120, 90, 60, 40])
    result = clusters.cluster_vectors(lambda rows: x[rows], len(x), k_range=range(2, 9))
    assert result.k == 4
    best = max(result.scores, key=result.scores.get)
    assert best == 4 and result.stability[4] >= clusters.STABLE  # the choice is what the scores support
    assert set(result.stability) == set(result.scores)
    assert adjusted_rand_score(group, result.labels) > 0.95
    assert result.centres.shape == (4, 12)
    sizes = np.bincount(result.labels)
    assert list(sizes) == sorted(sizes, reverse=True)  # cluster 0 is the largest
    # each centre is the mean direction of its own members
    for c in range(4):
        mean = x[result.labels == c].mean(axis=0)
        assert np.dot(mean / np.linalg.norm(mean), result.centres[c] / np.linalg.norm(result.centres[c])) > 0.99


def test_unstable_k_is_not_chosen_over_a_stable_one():
    """Uniform noise: every k's partition is arbitrary, so refits disagree; planted groups: they agree."""
    rng = np.random.default_rng(3)
    noise = rng.standard_normal((600, 6)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    flat = clusters.cluster_vectors(lambda rows: noise[rows], len(noise), k_range=range(2, 9))
    x, _ = blobs([150, 150, 150], dim=6)
    planted = clusters.cluster_vectors(lambda rows: x[rows], len(x), k_range=range(2, 9))
    assert max(planted.scores.values()) > 0.5 > max(flat.scores.values())
    assert planted.stability[planted.k] > max(flat.stability.values())


def test_distinctive_interests_are_lift_not_popularity():
    """Everyone holds 'gift wrap'; each cluster is named by what it holds more than everyone."""
    n = 60
    labels = np.repeat([0, 1, 2], n)
    profiles = np.zeros((3 * n, 4))
    profiles[:, 0] = 0.5  # gift wrap: half of everyone's activity
    profiles[:n, 1] = 0.5  # cluster 0: garden
    profiles[n : 2 * n, 2] = 0.5  # cluster 1: coffee
    profiles[2 * n :, 3] = 0.5  # cluster 2: candles
    profiles[2 * n :, 0] += 0.1
    names = ["gift wrap, paper", "garden, outdoors", "coffee, espresso", "candles, home"]
    behaviour = pd.DataFrame(
        {
            "n_events": np.r_[np.full(n, 10.0), np.full(n, 10.0), np.full(n, 10.0)],
            "n_view": np.r_[np.full(n, 8.0), np.full(n, 9.5), np.full(n, 5.0)],
            "n_cart": np.r_[np.full(n, 1.0), np.full(n, 0.4), np.full(n, 2.0)],
            "n_purchase": np.r_[np.full(n, 1.0), np.full(n, 0.1), np.full(n, 3.0)],
            "spend": np.r_[np.full(n, 40.0), np.full(n, 5.0), np.full(n, 120.0)],
            "recency_days": np.r_[np.full(n, 5.0), np.full(n, 90.0), np.full(n, 6.0)],
        }
    )
    table = describe_segments(labels, profiles, names, behaviour).set_index("cluster")
    assert table.loc[0, "distinctive interests"].startswith("garden, outdoors 50% (3.0×)")
    assert "gift wrap" in table.loc[0, "top interests"] and "gift wrap" not in table.loc[0, "distinctive interests"]
    assert list(table.loc[1, "interest_ids"]) == [2] and list(table.loc[2, "interest_ids"])[0] == 3
    assert table.loc[0, "name"] == "Garden lovers"
    assert table.loc[1, "name"] == "Coffee lovers · low spend · lapsing"
    assert table.loc[2, "name"].startswith("Candles lovers · high spend")
    assert "buyers" in table.loc[2, "behaviour"] and "browsers" in table.loc[1, "behaviour"]
    assert table["users"].tolist() == [n, n, n] and table["share"].sum() == pytest.approx(1.0)
    assert short_interest("口红 · 面膜") == "口红"  # names of any script keep their first term


def test_a_name_follows_its_members_to_another_build():
    ids = pd.Series([f"u{i:04d}" for i in range(3000)])
    old = np.repeat(np.arange(3), 1000)
    records = [
        {"name": "Garden fans", "build_id": "b1", "cluster": 2, "members": list(ids[2000 : 2000 + NAME_SAMPLE])},
        {"name": "Coffee crowd", "build_id": "b1", "cluster": 0, "members": list(ids[:NAME_SAMPLE])},
    ]

    def labels_of(labels):
        return lambda members: stored.member_labels(ids, labels, members)

    assert resolve_names(records, "b1", labels_of(old)) == {2: "Garden fans", 0: "Coffee crowd"}
    # a rebuild numbers the clusters differently and moves a tenth of the users; the coffee crowd scatters
    rng = np.random.default_rng(0)
    new = np.where(old == 2, 0, np.where(old == 1, 2, rng.integers(0, 3, len(old))))
    moved = rng.choice(len(old), size=300, replace=False)
    new[moved] = rng.integers(0, 3, 300)
    assert resolve_names(records, "b2", labels_of(new)) == {0: "Garden fans"}
    # ids a build lacks count as not found, never as cluster 0
    assert stored.member_labels(ids, new, ["nobody", "u2999"]).tolist() == [-1, int(new[2999])]


def test_store_keeps_rule_specs_and_cluster_names_apart(tmp_path):
    ids = pd.Series([f"u{i}" for i in range(40)])
    labels = np.repeat([0, 1], 20)
    store = SegmentStore(tmp_path, "shop")
    store.save("vip", {"combine": "and", "rules": []}, size=3)

    def labels_of(members):
        return stored.member_labels(ids, labels, members)

    members = stored.member_sample(ids, labels, 1)
    store.name_cluster("Night owls", build_id="b1", cluster=1, members=members, labels_of=labels_of)
    store.name_cluster("Night owls, renamed", build_id="b1", cluster=1, members=members, labels_of=labels_of)
    store.save("vip2", {"combine": "or", "rules": []})
    again = SegmentStore(tmp_path, "shop")
    assert set(again.all()) == {"vip", "vip2"}
    assert [r["name"] for r in again.cluster_names()] == ["Night owls, renamed"]  # one name per cluster
    assert resolve_names(again.cluster_names(), "b1", labels_of) == {1: "Night owls, renamed"}
    again.name_cluster("", build_id="b1", cluster=1, members=members, labels_of=labels_of)  # cleared
    assert again.cluster_names() == [] and set(again.all()) == {"vip", "vip2"}
    with pytest.raises(Exception, match="not allowed"):
        again.name_cluster("x" * 81, build_id="b1", cluster=0, members=members, labels_of=labels_of)


# ---------------------------------------------------------------------------------------------- on the demo
@pytest.mark.slow
def test_demo_themes_come_out_as_clusters_named_by_their_interests(demo_ws):
    """The build stores a clustering whose clusters are the planted themes, each named by its theme's interest."""
    from sklearn.metrics import adjusted_rand_score

    from uig_core.build.bundle import Bundle
    from uig_core.demo.generator import DEMO_DIR, load_ground_truth

    bundle = Bundle.load(demo_ws, "demo")
    parts = stored.stored_or_computed(bundle)
    truth = load_ground_truth(DEMO_DIR)
    skip = set(truth["bots"]) | {d["user_id"] for d in truth["drifters"]}
    theme = {u: t["themes"][0] for u, t in truth["users"].items() if t["themes"] and u not in skip}
    ids = bundle.users["user_id"].astype(str)
    keep = ids.isin(theme).to_numpy()
    labels = np.asarray(parts["labels"], dtype=np.int64)
    planted = ids[keep].map(theme).to_numpy()
    n_themes = len(set(planted))
    scan = parts["scan"].set_index("k")
    chosen = int(scan.index[scan["chosen"]][0])
    assert abs(chosen - n_themes) <= 1
    assert scan.loc[chosen, "silhouette"] >= scan["silhouette"].max() - 0.02
    assert scan.loc[chosen, "stability"] >= clusters.STABLE
    # users hold up to three themes, so a user's main theme and cluster can differ (ARI 0.76, purity 0.88)
    assert adjusted_rand_score(planted, labels[keep]) > 0.7
    assert pd.crosstab(labels[keep], planted).max(axis=1).sum() / len(planted) > 0.85

    # which planted theme each interest is: the theme of most of its items
    item_theme = bundle.items["item_id"].astype(str).map({i: t["theme"] for i, t in truth["items"].items()})
    interest_theme = item_theme.groupby(bundle.items["interest_id"].to_numpy()).agg(lambda s: s.mode().iat[0])
    columns = np.asarray(bundle.profile_columns).astype(int)
    named = 0
    table = parts["clusters"]
    for c, interest_ids, name in zip(table["cluster"], table["interest_ids"], table["name"], strict=True):
        members = planted[labels[keep] == c]
        if not len(members):
            continue
        majority = pd.Series(members).mode().iat[0]
        lead = int(columns[int(interest_ids[0])])
        lead_name = short_interest(bundle.interest_names[lead])
        if interest_theme[lead] == majority and name.lower().startswith(lead_name.lower()):
            named += 1
    print(table[["cluster", "users", "name", "distinctive interests"]].to_string())
    assert named >= n_themes - 1


@pytest.fixture()
def workspace(demo_workspace, tmp_path, monkeypatch) -> Path:
    from conftest import copy_workspace

    root = copy_workspace(demo_workspace, tmp_path / "ws")
    monkeypatch.setenv("UIG_WORKSPACE", str(root))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    return root


def segments_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app_pages" / "segments.py"), default_timeout=300)
    at.session_state["uig_dataset"] = "demo"
    return at


def cluster_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "distinctive interests" in d.value.columns)


@pytest.mark.slow
def test_page_reads_the_stored_clustering(workspace, monkeypatch):
    """No k-means at page time: the page's clusters are the build's, with clustering code made to fail."""
    import streamlit as st

    from uig_core.build.bundle import Bundle
    from uig_core.store.workspace import Workspace

    parts = Bundle.load(Workspace(workspace), "demo").segments
    assert parts is not None, "the demo build stores no clustering"

    def refuse(*args, **kwargs):
        raise AssertionError("the Clusters & segments page clustered users")

    monkeypatch.setattr(clusters, "cluster_vectors", refuse)
    monkeypatch.setattr(stored, "segment_step", refuse)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = segments_page().run()
    assert not at.exception and not at.error
    shown = cluster_table(at)
    assert shown["name"].tolist() == parts["clusters"]["name"].tolist()
    assert shown["users"].tolist() == parts["clusters"]["users"].tolist()
    assert sum(shown["users"]) == len(parts["labels"])


@pytest.mark.slow
def test_a_renamed_segment_keeps_its_name_after_reload_and_rebuild(workspace):
    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.config import BuildConfig
    from uig_core.store.workspace import Workspace

    at = segments_page()
    at.session_state["seg_tab"] = "Segment profile"
    at.run()
    at.selectbox(key="seg_segment").set_value(3).run()
    at.text_input(key="seg_rename").input("Weekend <b>bakers</b>").run()
    at.button(key="seg_rename_save").click().run()
    assert not at.exception and at.success
    members = set(
        Bundle.load(Workspace(workspace), "demo")
        .users["user_id"]
        .astype(str)[np.asarray(Bundle.load(Workspace(workspace), "demo").segments["labels"]) == 3]
    )

    reload = segments_page().run()  # a new session: nothing in session state
    assert cluster_table(reload).set_index("cluster").loc[3, "name"] == "Weekend <b>bakers</b>"

    ws = Workspace(workspace)
    build(ws, "demo", BuildConfig(seed=1))  # another build: other samples, maybe other cluster numbers
    bundle = Bundle.load(ws, "demo")
    labels = np.asarray(bundle.segments["labels"])
    ids = bundle.users["user_id"].astype(str)
    best = int(pd.Series(labels[ids.isin(members).to_numpy()]).mode().iat[0])
    after = segments_page().run()
    table = cluster_table(after).set_index("cluster")
    assert table.loc[best, "name"] == "Weekend <b>bakers</b>"
    assert (table["name"] == "Weekend <b>bakers</b>").sum() == 1
