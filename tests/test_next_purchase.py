"""The next-purchase task: pair events, its split, the ``recent_unbought`` baseline and the funnel model.

Tiny logs with planted answers: a shopper's viewed-not-bought items in recency order; carted items that the
shopper comes back to buy after a run of more recent views (the baseline's recency misses them, the funnel
model's cart weight finds them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.evaluation.next_purchase import has_next_purchase_task, next_purchase_split, pair_events
from uig_core.models import make_model, model_class
from uig_core.store.relation import EventRelation

T0 = pd.Timestamp("2026-01-01")


def ev(user: str, item: str, event: str, day: float) -> dict:
    return {"user_id": user, "item_id": item, "event": event, "ts": T0 + pd.Timedelta(days=day)}


def funnel_log(n_users: int = 40, n_items: int = 80, seed: int = 0, *, new_items: bool = False) -> pd.DataFrame:
    """Each shopper buys a few items early, carts one item around day 17, then views 25 others (days 18–19.9);
    after the cutoff (day 20) they come back and buy the carted item. ``new_items``: each also buys one item of
    their block they never met, from day 18 on (what a discover model can find)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        user = f"u{u:02d}"
        block = np.arange(n_items // 2) if u % 2 == 0 else np.arange(n_items // 2, n_items)
        picks = rng.choice(block, size=30, replace=False)
        if new_items:
            rows.append(ev(user, f"i{picks[29]:02d}", "purchase", rng.uniform(18, 22)))
        for j in picks[:3]:
            rows.append(ev(user, f"i{j:02d}", "view", rng.uniform(1, 8)))
            rows.append(ev(user, f"i{j:02d}", "purchase", rng.uniform(8, 10)))
        carted = f"i{picks[3]:02d}"
        day = rng.uniform(16.5, 17.5)
        rows += [ev(user, carted, "view", day), ev(user, carted, "cart", day + 0.01)]
        for j in picks[4:29]:
            rows.append(ev(user, f"i{j:02d}", "view", rng.uniform(18, 19.9)))
        rows.append(ev(user, carted, "purchase", rng.uniform(20.5, 22)))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------- pair events
def test_pair_events_keep_bought_and_the_last_unbought_event() -> None:
    log = pd.DataFrame(
        [
            ev("a", "x", "view", 0),
            ev("a", "x", "purchase", 1),
            ev("a", "y", "view", 2),
            ev("a", "y", "cart", 3),
            ev("a", "z", "view", 9),
            ev("a", "w", "view", 11),  # after the reference time: not counted
        ]
    )
    users, items = pd.Index(["a"]), pd.Index(["w", "x", "y", "z"])
    side = pair_events(log, users, items, now=T0 + pd.Timedelta(days=10))
    assert side.bought.toarray().tolist() == [[0, 1, 0, 0]]
    assert side.seen_code.toarray().tolist() == [[0, 0, 4, 1]]  # cart 4, view 1
    age = side.seen_age.toarray()[0]
    assert age[2] == pytest.approx(7.0, abs=1e-3) and age[3] == pytest.approx(1.0, abs=1e-3)


def test_next_purchase_split_targets_first_purchases_even_of_viewed_items() -> None:
    log = pd.DataFrame(
        [
            ev("a", "x", "purchase", 0),
            ev("a", "y", "view", 1),
            ev("b", "x", "view", 1),
            ev("b", "y", "purchase", 2),
            ev("a", "x", "purchase", 40),  # bought before: not a target
            ev("a", "y", "purchase", 41),  # viewed before, first purchase after: a target
            ev("b", "x", "view", 42),  # not a purchase
        ]
    )
    split, side = next_purchase_split(log, T0 + pd.Timedelta(days=30))
    assert split.protocol["task"] == "next_purchase"
    truth = {(split.user_ids[r], split.item_ids[c]) for r, c in zip(*split.test.nonzero(), strict=True)}
    assert truth == {("a", "y")}
    assert split.protocol["test_pairs_seen_before"] == 1
    assert side.bought.shape == split.train.shape
    assert has_next_purchase_task(EventRelation.of_frame(log))
    assert not has_next_purchase_task(EventRelation.of_frame(log[log["event"] == "purchase"]))


# ---------------------------------------------------------------------------------------------- the models
def _fit(name: str, log: pd.DataFrame, now: pd.Timestamp, **params: object):
    from uig_core.graph.pairs import pair_matrices

    users = pd.Index(sorted(log["user_id"].unique()))
    items = pd.Index(sorted(log["item_id"].unique()))
    train = pair_matrices(log[log["ts"] < now], users, items, now=now).weight
    side = pair_events(log, users, items, now=now)
    return make_model(name, **params).fit(train, events=side), users, items


def test_recent_unbought_orders_unbought_by_recency_then_buyers() -> None:
    log = pd.DataFrame(
        [
            ev("a", "old", "view", 1),
            ev("a", "carted", "cart", 3),
            ev("a", "newest", "view", 5),
            ev("a", "mine", "purchase", 2),
            *[ev(f"b{i}", "best", "purchase", 1) for i in range(3)],  # bought by three others
            ev("b0", "second", "purchase", 1),
            ev("b1", "mine", "view", 1),
        ]
    )
    model, users, items = _fit("recent_unbought", log, T0 + pd.Timedelta(days=6))
    idx, _ = model.recommend(int(users.get_loc("a")), k=5)
    assert list(items[idx]) == ["newest", "carted", "old", "best", "second"]  # never "mine": bought


def test_recent_unbought_without_pair_events_is_a_discover_popularity() -> None:
    x = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.float32))
    model = make_model("recent_unbought").fit(x)
    idx, _ = model.recommend(0, k=2)
    assert list(idx) == [1, 2]  # the seen item left out, the rest by users


def test_funnel_finds_the_carted_item_the_baseline_misses() -> None:
    """The planted shoppers come back for their carted item; 25 later views push it out of the baseline's top 20."""
    from uig_core.build.selection import score_candidates

    log = funnel_log()
    split, side = next_purchase_split(log, T0 + pd.Timedelta(days=20))
    rows = score_candidates(
        split, ["recent_unbought", "recent_funnel"], 0.0, 0, {}, lambda f, m: None, events=side, mask=side.bought
    )
    recall = {r["model"]: r["recall@20"] for r in rows}
    assert recall["recent_unbought"] <= 0.1
    assert recall["recent_funnel"] >= 0.9
    funnel = next(r for r in rows if r["model"] == "recent_funnel")
    assert funnel["params"]["blend"] > 0  # the funnel term, not plain item-kNN, does it


def test_funnel_round_trip_keeps_scores(tmp_path) -> None:
    from uig_core.models import load_model

    model, users, _ = _fit("recent_funnel", funnel_log(n_users=10), T0 + pd.Timedelta(days=20), blend=2.0)
    again = load_model(model.save(tmp_path / "m"))
    assert np.allclose(again.score(np.arange(len(users))), model.score(np.arange(len(users))))
    assert again.interactions_.nnz == model.interactions_.nnz  # the bought pairs: the seen mask
    assert model_class("recent_funnel").task == "next_purchase"


def test_funnel_reasons_add_up_to_the_score_and_name_the_carted_item_itself():
    from uig_core.evaluation.next_purchase import PairEvents

    rng = np.random.default_rng(4)
    x = sp.csr_matrix((rng.random((30, 20)) < 0.25).astype(np.float32))
    x[0, 3] = 1.0  # user 0 carted item 3 a day ago and has not bought it
    x.eliminate_zeros()
    bought = x.copy()
    bought[0, 3] = 0.0
    bought.eliminate_zeros()
    code = sp.csr_matrix(([4], ([0], [3])), shape=x.shape, dtype=np.int8)
    age = sp.csr_matrix(([1.0], ([0], [3])), shape=x.shape, dtype=np.float32)
    model = make_model("recent_funnel", blend=4.0).fit(x, events=PairEvents(bought, code, age))
    items = np.arange(20)
    history, parts = model.contributions(0, items)
    np.testing.assert_allclose(parts.sum(axis=1), model.score(np.array([0]))[0], rtol=1e-5, atol=1e-6)
    own = list(history).index(3)
    assert parts[3].argmax() == own and parts[3, own] > 0.5 * parts[3].sum()  # the cart explains itself
