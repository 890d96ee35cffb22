"""Pooled validation windows of the build's default choice (``uig_core.build.validation``).

Exact checks of the windows' arithmetic (cutoffs, back-to-back periods, user-weighted pooling), the rule's gate
(a log whose last tenth holds 1,000 validation users keeps its one window) and a planted log whose last tenth is
a fluke: a quarter of the shoppers buy the best sellers of the other block, so popularity wins that window alone,
while in the tenths before it shoppers keep to their block of items, which item-kNN finds. One window picks
popularity; the pooled windows pick item-kNN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uig_core.build.selection import select_defaults
from uig_core.build.validation import (
    MAX_WINDOWS,
    MIN_POOLED_USERS,
    discover_windows,
    pool_figures,
    validation_cutoff,
    window_cutoffs,
)
from uig_core.config import BuildConfig
from uig_core.store.relation import EventRelation

T0 = pd.Timestamp("2026-01-01")


def shoppers(n_users: int, days: float = 100.0, seed: int = 3) -> pd.DataFrame:
    """Each shopper buys 8 items of their block (of 20) at uniform times over ``days``."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        block = np.arange(20) if u % 2 == 0 else np.arange(20, 40)
        for j in rng.choice(block, size=8, replace=False):
            ts = T0 + pd.Timedelta(days=float(rng.uniform(0, days)))
            rows.append({"user_id": f"u{u:04d}", "item_id": f"i{j:02d}", "event": "purchase", "ts": ts})
    return pd.DataFrame(rows)


def fluke_log(n_users: int = 80, seed: int = 5) -> pd.DataFrame:
    """Shoppers buy 8 of the 40 items of their block (popular items more often) over days 0–90; in days 91–100
    (the last tenth) every fourth shopper buys the two most popular items of the *other* block: item-kNN, which ranks
    the shopper's own block, misses them all; popularity ranks them in its top 20."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 41)
    rows = []
    for u in range(n_users):
        own, other = (0, 40) if u % 2 == 0 else (40, 0)
        for j in rng.choice(40, size=8, replace=False, p=weights / weights.sum()):
            rows.append((f"u{u:04d}", f"i{own + j:02d}", float(rng.uniform(0, 90))))
        for j in (0, 1) if u % 4 == 0 else ():
            rows.append((f"u{u:04d}", f"i{other + j:02d}", float(rng.uniform(91, 100))))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "day"])
    frame["ts"] = T0 + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["event"] = "purchase"
    return frame


def test_window_cutoffs_are_back_to_back_tenths_latest_first() -> None:
    first, last = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-11 00:00")  # 100 days
    assert validation_cutoff(first, last) == validation_cutoff(first, last, 1) == pd.Timestamp("2026-04-01")
    assert window_cutoffs(first, last, 3) == [pd.Timestamp(d) for d in ("2026-04-01", "2026-03-22", "2026-03-12")]
    assert len(window_cutoffs(first, last)) == MAX_WINDOWS
    short = pd.Timestamp("2026-01-06")  # 5 days: exact instants, 12 h apart
    assert window_cutoffs(first, short, 2) == [pd.Timestamp("2026-01-05 12:00"), pd.Timestamp("2026-01-05")]


def test_pooling_is_the_user_weighted_mean_over_fitted_windows() -> None:
    rows = [
        {"model": "m", "status": "fitted", "recall@20": 0.5, "ndcg@20": 0.25, "coverage": 0.3, "fit_seconds": 1.0},
        {"model": "m", "status": "fitted", "recall@20": 0.1, "ndcg@20": 0.05, "coverage": 0.9, "fit_seconds": 2.0},
        None,
    ]
    out = pool_figures(rows, [100, 300, 50])
    assert out["recall@20"] == pytest.approx((0.5 * 100 + 0.1 * 300) / 400)
    assert out["ndcg@20"] == pytest.approx((0.25 * 100 + 0.05 * 300) / 400)
    assert out["coverage"] == 0.3 and out["fit_seconds"] == 3.0  # window 1's coverage; seconds summed
    assert out["windows"] == [0.5, 0.1, None]
    skipped = {"model": "s", "status": "skipped", "recall@20": None}
    assert pool_figures([skipped, rows[1]], [100, 300]) == skipped  # not fitted on window 1: left as it was
    assert pool_figures(rows[:1], [100]) == rows[0]  # one window: nothing pooled, no new field


def test_small_logs_pool_up_to_five_windows_back_to_back_without_overlap() -> None:
    events = shoppers(60)
    rel = EventRelation.of_frame(events)
    first, last = events["ts"].min(), events["ts"].max()
    splits = discover_windows(rel, BuildConfig(), first, last)
    assert isinstance(splits, list) and len(splits) == MAX_WINDOWS  # 60 users: far below 1,000 in any number
    cuts = window_cutoffs(first, last)
    for k, split in enumerate(splits):
        assert split.protocol["cutoff"] == str(cuts[k].date())
        end = last if k == 0 else cuts[k - 1]
        assert split.protocol["end"] == str(end)
        # the truth of window k: exactly the events in [cut_k, end_k) of users and items known before cut_k
        # (every pair here is new to its user)
        before = events[events["ts"] < cuts[k]]
        inside = events[(events["ts"] >= cuts[k]) & (events["ts"] < end if k else events["ts"] <= end)]
        inside = inside[inside["user_id"].isin(before["user_id"]) & inside["item_id"].isin(before["item_id"])]
        truth = {(split.user_ids[r], split.item_ids[c]) for r, c in zip(*split.test.nonzero(), strict=True)}
        assert truth == set(zip(inside["user_id"], inside["item_id"], strict=True))
        assert split.train.nnz == int((events["ts"] < cuts[k]).sum())


def test_a_log_with_enough_users_in_its_last_tenth_keeps_one_window() -> None:
    events = shoppers(2_000, seed=4)  # 1 - 0.9^8 ≈ 57 % of shoppers buy in the last tenth: about 1,140
    splits = discover_windows(EventRelation.of_frame(events), BuildConfig(), events["ts"].min(), events["ts"].max())
    assert isinstance(splits, list) and len(splits) == 1
    assert len(splits[0].test_users) >= MIN_POOLED_USERS


def test_a_fluke_last_tenth_fools_one_window_and_the_pooled_windows_pick_the_planted_model() -> None:
    events = fluke_log()
    rel = EventRelation.of_frame(events)
    items = pd.Index(sorted(events["item_id"].unique()))
    config = BuildConfig(selection_budget_s=0.0)
    one = _single_window_choice(rel, config)
    assert one == "popularity"  # the fluke alone decides the last tenth
    sel = select_defaults(rel, config, items, None, candidates=["popularity", "itemknn"])
    assert sel["default"] == "itemknn"
    windows = sel["validation"]["windows"]
    assert len(windows) == MAX_WINDOWS and sel["validation"]["users"] == sum(w["users"] for w in windows)
    assert sel["validation"]["cutoff"] == windows[-1]["cutoff"]
    by = {r["model"]: r for r in sel["candidates"]}
    assert by["popularity"]["windows"][0] > by["itemknn"]["windows"][0]  # window 1: the fluke
    assert all(k > p for k, p in zip(by["itemknn"]["windows"][1:], by["popularity"]["windows"][1:], strict=True))
    users = [w["users"] for w in windows]
    pooled = sum(r * n for r, n in zip(by["itemknn"]["windows"], users, strict=True)) / sum(users)
    assert by["itemknn"]["recall@20"] == pytest.approx(pooled, abs=1e-4)


def _single_window_choice(rel: EventRelation, config: BuildConfig) -> str:
    """What the choice was before pooling: window 1 alone."""
    from uig_core.build.selection import score_candidates
    from uig_core.store.frames import time_range

    first, last, _ = time_range(rel)
    split = discover_windows(rel, config, first, last)[0]
    rows = score_candidates(split, ["popularity", "itemknn"], 0.0, 0, {}, lambda f, m: None)
    return max(rows, key=lambda r: (r["recall@20"], r["ndcg@20"]))["model"]
