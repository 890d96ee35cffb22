"""End to end on the demo data: build, then check the engine found what the generator planted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uig_core.build.bundle import Bundle
from uig_core.build.pipeline import build
from uig_core.demo.generator import DEMO_DIR
from uig_core.errors import ConfigError, UnknownId
from uig_core.ingest.clean import read_log
from uig_core.store.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("pipeline") / "ws")
    res = read_log(DEMO_DIR / "events.csv.gz")
    ws.add_dataset("demo", res.events, report=res.report.to_dict())
    build(ws, "demo")
    return ws


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((DEMO_DIR / "ground_truth.json").read_text())


@pytest.fixture(scope="module")
def bundle(demo_ws) -> Bundle:
    return Bundle.load(demo_ws, "demo")


def test_build_is_recorded_and_reused(demo_ws, bundle):
    info = demo_ws.dataset("demo")
    assert info.current_build == bundle.build_id
    again = build(demo_ws, "demo")
    assert again["reused"] and again["build_id"] == bundle.build_id
    assert bundle.meta["counts"]["users"] == 3000 and bundle.meta["counts"]["items"] == 1500


def test_recommendations_stay_within_planted_themes(bundle, truth):
    rng = np.random.default_rng(0)
    bots = set(truth["bots"])
    drifters = {d["user_id"] for d in truth["drifters"]}
    users = [u for u in truth["users"] if u not in bots and u not in drifters]
    inside = total = 0
    for user in rng.choice(users, 100, replace=False):
        themes = set(truth["users"][user]["themes"])
        recs = bundle.recommend(str(user), k=10, explain=False)
        assert len(recs) == 10
        seen = set(bundle.seen_items(str(user)))
        assert not seen & {r["item_id"] for r in recs}
        inside += sum(truth["items"][r["item_id"]]["theme"] in themes for r in recs)
        total += len(recs)
    assert inside / total >= 0.8, f"only {inside / total:.0%} of recommendations in the user's planted themes"


def test_every_recommendation_has_a_reason_naming_history_or_interest(bundle):
    user = bundle.users["user_id"].iloc[5]
    recs = bundle.recommend(user, k=20, explain=True)
    assert all(r["reason"] for r in recs)
    titles = set(bundle.items["title"])
    names = set(bundle.interests["name"])
    for r in recs:
        if r["reason_kind"] == "shared_interest":
            assert any(t in r["reason"] for t in titles) and any(n in r["reason"] for n in names)


def test_model_filters_and_errors(bundle):
    user = bundle.users["user_id"].iloc[0]
    cat = bundle.items["category"].dropna().iloc[0]
    recs = bundle.recommend(user, k=5, category=cat)
    assert recs and all(r["category"] == cat for r in recs)
    for name in bundle.model_names:
        assert len(bundle.recommend(user, k=3, model=name, explain=False)) == 3
    with pytest.raises(UnknownId, match="not in dataset"):
        bundle.recommend("nobody", k=5)
    with pytest.raises(ConfigError, match=r"'k' parameter"):
        bundle.recommend(user, k=0)


def test_item_audience_is_mostly_the_items_theme(bundle, truth):
    item = bundle.items.sort_values("n_users", ascending=False)["item_id"].iloc[0]
    theme = truth["items"][item]["theme"]
    audience = bundle.audience(item, k=30)
    share = np.mean([theme in truth["users"][u]["themes"] for u in audience["user_id"]])
    assert share >= 0.7


def test_cli_recommend_json(demo_ws):
    user = Bundle.load(demo_ws, "demo").users["user_id"].iloc[3]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "uig_core.cli.main",
            "recommend",
            user,
            "--explain",
            "--json",
            "--workspace",
            str(demo_ws.root),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["user_id"] == user and len(payload["items"]) == 20
    assert all({"item_id", "title", "score", "reason"} <= set(it) for it in payload["items"])


@pytest.mark.slow
def test_killed_build_leaves_previous_build_loadable(demo_ws, tmp_path):
    """kill -9 a rebuild at several points: the previous build and the dataset must still load."""
    before = demo_ws.dataset("demo")
    rows_before = len(demo_ws.load_events("demo"))
    for delay in (1.0, 4.0, 8.0):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uig_core.cli.main",
                "build",
                "--force",
                "--workspace",
                str(demo_ws.root),
                "--dataset",
                "demo",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.kill()
        proc.wait()
        info = demo_ws.dataset("demo")
        assert info.rows == before.rows and len(demo_ws.load_events("demo")) == rows_before
        assert info.current_build is not None
        b = Bundle.load(demo_ws, "demo")
        assert len(b.recommend(b.users["user_id"].iloc[0], k=5)) == 5
    # the next build cleans up after the killed ones and completes
    meta = build(demo_ws, "demo", force=True)
    assert meta["build_id"] == before.current_build
    leftovers = [p.name for p in demo_ws.build_root(demo_ws.dataset("demo")).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_interest_names_are_readable(bundle):
    names = bundle.interests["name"].tolist()
    assert not any(n.lower().startswith("cluster") for n in names)
    assert len(set(names)) == len(names)


def test_planted_bot_users_are_flagged(bundle, truth):
    users = bundle.users.set_index("user_id")
    top = users["anomaly_score"].rank(ascending=False) <= max(1, int(0.02 * len(users)))
    flagged = set(users.index[top])
    assert len(flagged & set(truth["bots"])) / len(truth["bots"]) >= 0.9


def test_item_without_text_takes_its_buyers_interest(tmp_path):
    log = tmp_path / "notext.csv"
    log.write_text(
        "user_id,item_id,event,ts,item_title\n"
        "u1,a,purchase,2024-01-01,Red Coffee Mug\nu1,b,purchase,2024-01-02,Blue Coffee Mug\n"
        "u2,a,purchase,2024-01-03,Red Coffee Mug\nu2,c,purchase,2024-01-04,Yoga Mat Purple\n"
        "u3,c,purchase,2024-01-05,Yoga Mat Purple\nu3,d,purchase,2024-01-06,Yoga Block Cork\n"
        "u1,x,purchase,2024-01-07,\nu1,x,view,2024-01-08,\n"
    )
    ws = Workspace(tmp_path / "ws")
    ws.add_dataset("t", read_log(log).events)
    meta = build(ws, "t")
    assert meta["counts"]["items_without_text"] == 1
    items = Bundle.load(ws, "t").items.set_index("item_id")
    assert items.loc["x", "interest_id"] == items.loc["a", "interest_id"] != items.loc["c", "interest_id"]


def test_graph_counts_match_the_torch_geometric_graph() -> None:
    import scipy.sparse as sp

    from uig_core.graph.edges import describe, graph_counts, to_hetero_data

    x = sp.csr_matrix(np.array([[1, 0, 2], [0, 1, 0]], dtype=np.float32))
    labels = np.array([0, 1, -1])
    profiles = np.array([[0.9, 0.04], [0.0, 1.0]], dtype=np.float32)
    edges = pd.DataFrame({"source": [0], "target": [1], "weight": [0.5]})
    assert graph_counts(x, labels, profiles, edges) == describe(to_hetero_data(x, labels, profiles, edges))
    assert graph_counts(x, labels, profiles, edges)["user-interested_in-interest edges"] == 2
