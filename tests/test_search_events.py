"""Search and favourite events: ingest, the strongest-event codes, search → interest edges, search-only users."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.errors import SchemaError
from uig_core.ingest.clean import read_log
from uig_core.schema import EVENT_CODES, EVENT_WEIGHTS, POSITIVE_EVENTS, auto_map_columns, auto_map_event
from uig_core.semantics.searches import (
    last_query_similarity,
    query_interest_matrix,
    scores_from_searches,
    search_interest_weights,
)


def _write(tmp_path, text: str):
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("raw", "event"),
    [("pv", "view"), ("fav", "fav"), ("cart", "cart"), ("buy", "purchase"), ("浏览", "view"), ("收藏", "fav")]
    + [("加购", "cart"), ("购买", "purchase"), ("search", "search"), ("Add to Wishlist", "fav")],
)
def test_taobao_and_chinese_event_words(raw: str, event: str) -> None:
    assert auto_map_event(raw) == event


@pytest.mark.parametrize("column", ["query", "search_query", "keyword", "search_term", "搜索词", "关键词"])
def test_query_column_is_auto_mapped(column: str) -> None:
    assert auto_map_columns(["user_id", "item_id", column]) == {
        "user_id": "user_id",
        "item_id": "item_id",
        column: "query",
    }


def test_fav_ranks_between_click_and_cart() -> None:
    rank = {e: c for c, e in EVENT_CODES.items()}
    assert rank["view"] < rank["click"] < rank["fav"] < rank["cart"] < rank["purchase"]
    assert EVENT_WEIGHTS["click"] < EVENT_WEIGHTS["fav"] < EVENT_WEIGHTS["cart"]
    assert "fav" in POSITIVE_EVENTS and "search" not in POSITIVE_EVENTS


def test_search_rows_need_no_item_and_stay_searches(tmp_path) -> None:
    path = _write(
        tmp_path,
        "user_id,item_id,event,ts,title,search_query\n"
        "u1,,search,2024-01-01 10:00,,red lipstick\n"
        "u1,i1,search,2024-01-01 10:01,,red lipstick\n"  # a result clicked from the search: item, no title
        "u1,i1,pv,2024-01-01 10:02,Red Lipstick,\n"
        "u2,,search,2024-01-01 11:00,,\n"  # a search with neither query nor item: skipped, reported
        "u2,,buy,2024-01-01 11:05,Mug,\n",  # a purchase needs an item
    )
    res = read_log(path)
    ev = res.events
    assert list(ev["event"]) == ["search", "search", "view"]
    assert ev["item_id"].isna().tolist() == [True, False, False]
    assert ev["query"].tolist()[:2] == ["red lipstick", "red lipstick"]
    assert res.report.skipped == {"missing item_id (column 'item_id')": 1, "search without a query or an item": 1}


def test_a_log_of_queries_without_items_ingests(tmp_path) -> None:
    ev = read_log(_write(tmp_path, "用户ID,搜索词,时间\nu1,口红,2024-01-01\nu2,跑鞋,2024-01-02\n")).events
    assert ev["event"].tolist() == ["search", "search"]
    assert ev["item_id"].isna().all()
    with pytest.raises(SchemaError, match="item_id"):
        read_log(_write(tmp_path, "user_id,title\nu1,mug\n"))


def test_query_points_at_its_interest_and_recency_weighs() -> None:
    centroids = np.eye(3, dtype=np.float32)
    q = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.98], [0.0, 0.0, 0.0]], dtype=np.float32)
    m = query_interest_matrix(q, centroids)
    assert m[0].argmax() == 0 and m[1].argmax() == 2 and m[0, 0] > 0.99
    assert not m[2].any()  # an empty query points nowhere
    searches = pd.DataFrame(
        {
            "user_id": ["a", "a", "b"],
            "ts": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-03-01"]),
            "query": list("xyz"),
        }
    )
    vecs = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    w = search_interest_weights(searches, vecs, centroids, pd.Index(["a", "b", "c"]), now=pd.Timestamp("2024-03-01"))
    w = w.toarray()
    assert w[0, 0] == pytest.approx(1.0, abs=1e-3)  # today's search counts fully
    assert w[0, 2] == pytest.approx(0.5 ** (60 / 60), abs=1e-3)  # a 60-day-old one at half, with the 60-day half-life
    assert w[1].argmax() == 1 and not w[2].any()


def test_search_only_ranking_prefers_the_searched_interest_and_the_latest_query() -> None:
    labels = np.array([0, 0, 1, 1])
    pop = np.array([10.0, 1.0, 50.0, 40.0])
    share = np.array([[1.0, 0.0]])
    top = np.argsort(-scores_from_searches(share, labels, pop)[0])
    assert set(top[:2]) == {0, 1} and top[0] == 0  # the searched interest first, its best seller on top
    searches = pd.DataFrame(
        {"user_id": ["u", "u"], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]), "query": ["a", "b"]}
    )
    items = np.eye(4, dtype=np.float32)
    sim = last_query_similarity(searches, items[[0, 1]], items, pd.Index(["u", "v"]))
    assert sim[0].argmax() == 1 and not sim[1].any()
    assert np.argsort(-scores_from_searches(share, labels, pop, sim)[0])[0] == 1


def test_old_builds_strongest_codes_are_read_in_todays_codes(tmp_path) -> None:
    from uig_core.build import layout

    folder = tmp_path / "b1"
    (folder / "strongest").mkdir(parents=True)
    old = sp.csr_matrix(np.array([[1, 3], [4, 2]], dtype=np.int8))  # format 2: 3 cart, 4 purchase
    for part in ("indptr", "indices", "data"):
        np.save(folder / "strongest" / f"{part}.npy", getattr(old, part))
    np.save(folder / "strongest" / "shape.npy", np.array(old.shape))
    (folder / "arrays").mkdir()
    (folder / "meta.json").write_text(json.dumps({"format": 2}))
    codes = layout.read_strongest(folder).toarray()
    assert [[EVENT_CODES[int(c)] for c in row] for row in codes] == [["view", "cart"], ["purchase", "click"]]


@pytest.mark.slow
def test_build_links_searchers_to_interests_and_serves_search_only_users(tmp_path) -> None:
    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.demo.zh import generate
    from uig_core.queries.home import home_summary
    from uig_core.queries.portrait import portrait
    from uig_core.queries.searches import recommend_from_searches, search_only_recommendations, users_who_searched
    from uig_core.store.relation import EventRelation
    from uig_core.store.workspace import Workspace

    generate(tmp_path / "zh", n_users=200, n_items=120, days=40)
    truth = json.loads((tmp_path / "zh" / "ground_truth.json").read_text(encoding="utf-8"))
    ws = Workspace(tmp_path / "ws")
    events = read_log(tmp_path / "zh" / "events.csv.gz").events.drop(columns=["category"])
    asked = pd.DataFrame(  # a shopper known only by what they typed
        {"user_id": "searcher", "event": "search", "query": ["猫粮", "冻干猫粮", "幼猫猫粮"]}
    ).assign(ts=events["ts"].max(), item_id=pd.NA)
    ws.add_dataset("zh", pd.concat([events, asked], ignore_index=True))
    meta = build(ws, "zh")
    assert meta["embed_model_id"].startswith("e5-static@")
    assert home_summary(ws, "zh")["build"]["embed_model_id"] == meta["embed_model_id"]  # Home shows the model
    bundle = Bundle.load(ws, "zh")
    user = truth["search_only"][0]
    theme = truth["users"][user][0]
    pic = portrait(ws, "zh", user, bundle=bundle)
    assert pic["searches"] and all(s["query"] for s in pic["searches"])
    top_interest = pic["interests"][0]["interest_id"]
    items = bundle.items
    members = items.loc[items["interest_id"] == top_interest, "item_id"].astype(str)
    assert np.mean([truth["items"][i] == theme for i in members]) > 0.8  # the profile points at the searched theme
    events = EventRelation.of_dataset(ws, ws.dataset("zh"))
    recs = recommend_from_searches(bundle, events, user, k=10)
    assert np.mean([truth["items"][str(i)] == theme for i in recs["item_id"]]) >= 0.8
    query = pic["searches"][0]["query"]
    assert user in users_who_searched(events, query)
    assert search_only_recommendations(bundle, events, user) is None  # they bought since: the models serve them
    served = search_only_recommendations(bundle, events, "searcher", k=10)
    assert served and all(truth["items"][r["item_id"]] == "catfood" for r in served)
    assert served[0]["reason_kind"] == "search" and "猫粮" in served[0]["reason"]


def test_segments_can_use_searched_for(tmp_path) -> None:
    from uig_core.queries.features import extra_user_values
    from uig_core.queries.segments import evaluate_rules
    from uig_core.store.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    ev = read_log(
        _write(
            tmp_path,
            "用户ID,商品ID,行为,时间,搜索词\nu1,,search,2024-01-01,红色口红\nu1,,search,2024-01-02,面膜\n"
            "u2,,search,2024-01-01,跑鞋\nu3,i1,pv,2024-01-01,\n",
        )
    ).events
    ws.add_dataset("s", ev)
    values = extra_user_values(ws, ws.dataset("s")).set_index("user_id")
    assert values.loc["u1", "searched"] == "红色口红 · 面膜"
    features = values.reset_index()
    rule = {"combine": "and", "rules": [{"field": "searched", "op": "contains", "value": "口红"}]}
    assert features["user_id"][evaluate_rules(features, rule)].tolist() == ["u1"]


def test_weighted_searches_sum_recency_per_user_and_query() -> None:
    from uig_core.semantics.searches import weighted_searches
    from uig_core.store.relation import EventRelation

    ev = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b"],
            "item_id": [None, None, "i1", None],
            "event": ["search", "search", "view", "search"],
            "query": ["口红", "口红", None, "跑鞋"],
            "ts": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-03-01", "2024-03-01"]),
        }
    )
    w = weighted_searches(EventRelation.of_frame(ev), now=pd.Timestamp("2024-03-01"), half_life_days=60.0)
    assert w[["user_id", "query"]].values.tolist() == [["a", "口红"], ["b", "跑鞋"]]
    assert w["weight"].tolist() == pytest.approx([1.0 + 0.5, 1.0])  # Jan 1 → Mar 1 is 60 days: half
