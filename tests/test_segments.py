"""Segments: rules with AND/OR, saving, comparison, lookalikes, safe export and clusters on planted data."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from uig_core.errors import ConfigError, ExportRefused
from uig_core.queries import clusters, segments


@pytest.fixture()
def features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(8)],
            "n_events": [10, 3, 25, 1, 7, 40, 2, 12],
            "spend": [0.0, 15.0, 80.0, 0.0, 5.0, 300.0, np.nan, 20.0],
            "recency_days": [1.0, 30.0, 2.0, 90.0, 10.0, 0.0, 60.0, 5.0],
            "interest: baking": [0.8, 0.1, 0.5, 0.0, 0.9, 0.2, 0.0, 0.4],
            "interest: running": [0.2, 0.9, 0.5, 1.0, 0.1, 0.8, 1.0, 0.6],
            "cluster": [0, 1, 0, 1, 0, 1, 1, 2],
            "Country": ["DE", "FR", "DE", None, "US", "FR", "DE", "=cmd|' /C calc'!A0"],
        }
    )


def members(features, spec) -> list[str]:
    return list(segments.segment_members(features, spec))


def test_and_or(features):
    bakers = {"field": "interest: baking", "op": ">=", "value": 0.5}
    active = {"field": "n_events", "op": ">", "value": "9"}  # strings coerce to numbers
    assert members(features, {"combine": "and", "rules": [bakers, active]}) == ["u0", "u2"]
    assert members(features, {"combine": "or", "rules": [bakers, active]}) == ["u0", "u2", "u4", "u5", "u7"]
    assert len(members(features, {"combine": "and", "rules": []})) == 8  # no rule: everyone


def test_operators_and_missing_values(features):
    def m(op, value, field="Country"):
        return members(features, {"rules": [{"field": field, "op": op, "value": value}]})

    assert m("==", "DE") == ["u0", "u2", "u6"]
    assert m("!=", "DE") == ["u1", "u4", "u5", "u7"]  # the missing country matches neither
    assert m("in", ["FR", "US"]) == ["u1", "u4", "u5"]
    assert m("not in", ["FR", "US"]) == ["u0", "u2", "u6", "u7"]
    assert m("contains", "cmd") == ["u7"]
    assert m("between", [10, 1], "spend") == ["u4"]  # bounds sorted; NaN spend never matches
    assert m("<", 5, "recency_days") == ["u0", "u2", "u5"]
    assert m("in", [1, 2], "cluster") == ["u1", "u3", "u5", "u6", "u7"]
    assert m("==", 2, "cluster") == ["u7"]


def test_bad_specs_name_the_problem(features):
    with pytest.raises(ConfigError, match="field 'baking' is not a user feature; did you mean 'interest: baking'"):
        segments.evaluate_rules(features, {"rules": [{"field": "baking", "op": ">", "value": 0}]})
    with pytest.raises(ConfigError, match="operator '~'"):
        segments.evaluate_rules(features, {"rules": [{"field": "spend", "op": "~", "value": 0}]})
    with pytest.raises(ConfigError, match="holds text"):
        segments.evaluate_rules(features, {"rules": [{"field": "Country", "op": ">", "value": "A"}]})
    with pytest.raises(ConfigError, match="not a number"):
        segments.evaluate_rules(features, {"rules": [{"field": "spend", "op": ">", "value": "lots"}]})
    with pytest.raises(ConfigError, match="combine"):
        segments.evaluate_rules(features, {"combine": "xor", "rules": []})


def test_store_round_trip(tmp_path, features):
    store = segments.SegmentStore(tmp_path, "shop")
    spec = {"combine": "or", "rules": [{"field": "Country", "op": "in", "value": ["FR"]}]}
    store.save("  French   buyers ", spec, size=2)
    assert (tmp_path / "segments" / "shop.json").exists()
    again = segments.SegmentStore(tmp_path, "shop")
    assert list(again.all()) == ["French buyers"] and again.get("French buyers") == spec
    assert members(features, again.get("French buyers")) == ["u1", "u5"]
    again.delete("French buyers")
    assert again.all() == {}
    with pytest.raises(ConfigError, match="no saved segment"):
        again.get("French buyers")
    with pytest.raises(ConfigError, match="not allowed"):
        again.save("", spec)


def test_compare(features):
    a = {"rules": [{"field": "interest: baking", "op": ">=", "value": 0.5}]}
    b = {"rules": [{"field": "Country", "op": "==", "value": "DE"}]}
    out = segments.compare_segments(features, a, b)
    assert out["sizes"] == {"A": 3, "B": 3, "both": 2, "only A": 1, "only B": 1, "jaccard": 0.5}
    means = out["means"].set_index("feature")
    assert means.loc["n_events", "A"] == pytest.approx((10 + 25 + 7) / 3)
    assert means.loc["n_events", "B"] == pytest.approx((10 + 25 + 2) / 3)
    top = out["interests"].set_index("interest")
    assert top.loc["baking", "A"] > top.loc["baking", "B"]


def test_export_guard_and_formula_neutralising(features):
    everyone = features["user_id"]
    with pytest.raises(ExportRefused, match="has 3 user"):
        segments.export_csv(features, ["u0", "u1", "u2"])
    assert segments.export_csv(features, ["u0", "u1", "u2"], min_size=3)
    hostile = features.assign(
        user_id=["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rY", "plain", "u7"], **{"=evil": ["a"] * 8}
    )
    data = segments.export_csv(hostile, hostile["user_id"], min_size=8).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0][0] == "user_id" and "'=evil" in rows[0]
    ids = [r[0] for r in rows[1:]]
    assert ids == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", "'\rY", "plain", "u7"]
    country = [r[rows[0].index("Country")] for r in rows[1:]]
    assert country[-1] == "'=cmd|' /C calc'!A0"
    for r in rows[1:]:  # no cell starts with a formula trigger any more (numbers stay numbers)
        for cell in r:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not (
                cell.startswith("-") and not _is_number(cell)
            )
    assert len(rows) == 1 + len(everyone)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_min_export_size_setting():
    assert segments.min_export_size({}) == 10
    assert segments.min_export_size({"min_export_size": 25}) == 25
    with pytest.raises(ConfigError):
        segments.min_export_size({"min_export_size": 0})


def planted_vectors(seed: int = 0):
    """Three planted groups of 40 users around orthogonal directions."""
    rng = np.random.default_rng(seed)
    centers = np.eye(3, 16)
    group = np.repeat(np.arange(3), 40)
    x = centers[group] + 0.2 * rng.standard_normal((120, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    users = pd.DataFrame(
        {
            "user_id": [f"u{i:03d}" for i in range(120)],
            "n_events": rng.integers(1, 50, 120),
            "n_purchase": rng.integers(0, 5, 120),
            "spend": rng.random(120) * 100,
        }
    )
    return SimpleNamespace(users=users, user_vectors=x.astype(np.float32)), group


def test_lookalikes_exclude_members_and_are_nearer_than_random():
    bundle, group = planted_vectors()
    seed_members = list(bundle.users["user_id"][group == 0][:10])
    out = segments.lookalikes(bundle, seed_members, n=20)
    assert len(out) == 20 and not set(out["user_id"]) & set(seed_members)
    assert out["similarity"].is_monotonic_decreasing
    rows = bundle.users.set_index("user_id").index.get_indexer(out["user_id"])
    assert (group[rows] == 0).mean() >= 0.9  # the planted group fills the lookalikes
    x = bundle.user_vectors
    centroid = x[:10].mean(axis=0)
    centroid /= np.linalg.norm(centroid)
    random_rows = np.random.default_rng(1).choice(np.arange(10, 120), size=20, replace=False)
    assert out["similarity"].mean() > (x[random_rows] @ centroid).mean() + 0.3
    with pytest.raises(ConfigError, match="empty"):
        segments.lookalikes(bundle, ["nobody"])


def test_clusters_recover_planted_groups():
    from sklearn.metrics import adjusted_rand_score

    bundle, group = planted_vectors()
    result = clusters.cluster_users(bundle, k_range=range(2, 7))
    assert result.k == 3 and set(result.scores) == {2, 3, 4, 5, 6}
    assert adjusted_rand_score(group, result.labels) > 0.95
    assert result.coords.shape == (120, 2)
    fixed = clusters.cluster_users(bundle, k=4)
    assert fixed.k == 4 and fixed.scores == {} and np.bincount(fixed.labels)[0] == np.bincount(fixed.labels).max()
    with pytest.raises(ConfigError, match="'k'"):
        clusters.cluster_users(bundle, k=1)


def test_user_features_from_a_bundle_and_events():
    users = pd.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "n_events": [3, 1, 2],
            "spend": [1.0, 0.0, 5.0],
            "anomaly_score": [0.1, 0.9, 0.2],
            "first_seen": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02"]),
            "last_seen": pd.to_datetime(["2024-01-10", "2024-01-05", "2024-01-03"]),
        }
    )
    bundle = SimpleNamespace(
        users=users,
        profiles=np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]),
        profile_columns=np.array([4, 7]),
        interest_names={4: "tea", 7: "tea"},
    )
    events = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "c"],
            "item_id": ["x"] * 5,
            "Country": ["DE", "FR", "FR", None, "US"],
            "_row": range(5),
        }
    )
    feats = segments.user_features(bundle, events, labels=np.array([1, 0, 1]))
    assert list(feats["Country"].fillna("?")) == ["FR", "?", "US"]
    assert list(feats["recency_days"]) == [0.0, 5.0, 7.0] and list(feats["tenure_days"]) == [9.0, 0.0, 1.0]
    assert {"interest: tea", "interest: tea (7)", "anomaly_score", "cluster"} <= set(feats.columns)
    assert "_row" not in feats and segments.field_kinds(feats)["cluster"] == "category"
    assert members(feats, {"rules": [{"field": "anomaly_score", "op": ">", "value": 0.5}]}) == ["b"]
    desc = clusters.describe_clusters(feats, np.array([1, 0, 1]))
    assert list(desc["users"]) == [1, 2] and desc["top interests"].iat[1].startswith("tea")


def test_segment_fields_and_export_carry_net_spend():
    """A purchase and its cancellation: the segment field and the exported cell are the net spend (0)."""
    from uig_core.store.frames import users_frame

    t = pd.Timestamp("2024-01-01 10:00")
    log = pd.DataFrame(
        {
            "user_id": ["=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0", "keeper", "keeper"],
            "item_id": ["jar", "jar", "mug", "jar"],
            "event": ["purchase", "return", "purchase", "purchase"],
            "ts": [t, t + pd.Timedelta(minutes=16), t, t],
            "price": [1.04, 1.04, 3.0, 1.0],
            "quantity": [74215.0, -74215.0, 2.0, 1.0],
            "order_id": ["541431", "C541433", "9", "9"],
        }
    )
    users = users_frame(log)
    bundle = SimpleNamespace(users=users, profiles=np.ones((2, 1)), profile_columns=np.array([0]), interest_names={})
    feats = segments.user_features(bundle)
    by_id = feats.set_index("user_id")
    assert by_id.loc["=cmd|' /C calc'!A0", ["spend", "spend_gross", "orders", "orders_gross"]].tolist() == [
        0.0,
        pytest.approx(77183.6),
        0.0,
        1.0,
    ]
    assert members(feats, {"rules": [{"field": "spend", "op": ">", "value": 0}]}) == ["keeper"]
    rows = list(csv.DictReader(io.StringIO(segments.export_csv(feats, feats["user_id"], min_size=2).decode())))
    assert rows[0]["user_id"] == "'=cmd|' /C calc'!A0"  # still neutralised
    assert (float(rows[0]["spend"]), float(rows[0]["spend_gross"])) == (0.0, pytest.approx(77183.6))
    assert (float(rows[1]["spend"]), float(rows[1]["orders"])) == (7.0, 1.0)


def test_map_frame_escapes_hover_text():
    feats = pd.DataFrame(
        {
            "user_id": ["<b>x</b>", "y"],
            "n_events": [1, 2],
            "spend": [0.0, 1.0],
            "interest: <a href=x>tea</a>": [1.0, 0.5],
            "interest: b": [0.0, 0.6],
        }
    )
    clustering = clusters.Clustering(labels=np.array([0, 1]), k=2, coords=np.arange(4.0).reshape(2, 2))
    out = clusters.map_frame(feats, clustering)
    assert list(out["user"]) == ["&lt;b&gt;x&lt;/b&gt;", "y"]
    assert list(out["top_interest"]) == ["&lt;a href=x&gt;tea&lt;/a&gt;", "b"]
    assert list(out["x"]) == [0.0, 2.0] and list(out["cluster"]) == ["0", "1"]


@pytest.mark.slow
def test_clusters_recover_demo_themes(demo_ws):
    """Clusters of the learned user vectors line up with the users' planted main theme."""
    from sklearn.metrics import adjusted_rand_score

    from uig_core.build.bundle import Bundle
    from uig_core.demo.generator import DEMO_DIR, load_ground_truth

    bundle = Bundle.load(demo_ws, "demo")
    truth = load_ground_truth(DEMO_DIR)
    skip = set(truth["bots"]) | {d["user_id"] for d in truth["drifters"]}
    theme = {u: t["themes"][0] for u, t in truth["users"].items() if t["themes"] and u not in skip}
    ids = bundle.users["user_id"].astype(str)
    keep = ids.isin(theme).to_numpy()
    planted = ids[keep].map(theme).to_numpy()
    for k in (None, 12):
        labels = clusters.cluster_users(bundle, k).labels[keep]
        ari = adjusted_rand_score(planted, labels)
        majority = pd.crosstab(labels, planted).max(axis=1).sum() / len(planted)
        print(f"k={k or 'auto'}: ARI {ari:.3f}, purity {majority:.3f}")
        assert ari > 0.5 and majority > 0.7
