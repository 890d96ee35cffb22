"""Similar users (queries/similar.py, Bundle.similar_users): never the user, enough support, ties by overlap, finite."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.queries.similar import SIMILAR_MIN_ITEMS, similar_rows
from uig_core.queries.vectors import VectorIndex


def graph(rows: list[list[int]], n_items: int = 8) -> sp.csr_matrix:
    """A training graph from each user's item columns."""
    dense = np.zeros((len(rows), n_items), dtype=np.float32)
    for r, items in enumerate(rows):
        dense[r, items] = 1.0
    return sp.csr_matrix(dense)


def test_ties_are_broken_by_overlap_and_thin_users_are_left_out():
    x = graph([[0, 1, 2, 3], [0, 1, 2, 3], [0, 5, 6, 7], [0, 1, 2, 4], [1, 2], [3]])
    index = VectorIndex.exact(np.ones((6, 3), dtype=np.float32))  # identical vectors: a six-way tie at 1.000
    rows, sims, overlap = similar_rows(index, x, 0, 10)
    assert rows.tolist() == [1, 3, 2]  # 4 items in common, then 3, then 1; rows 4 and 5 hold 2 and 1 items
    assert overlap.tolist() == [4, 3, 1] and np.allclose(sims, 1.0)
    assert similar_rows(index, x, 4, 10)[0].size == 0  # the asked user has too little to compare
    rows, _, _ = similar_rows(index, x, 0, 1)  # the cut keeps the best of the tie, not the lowest row
    assert rows.tolist() == [1]
    assert similar_rows(index, x, 4, 10, min_items=1)[0].tolist() == [0, 1, 3, 2, 5]  # overlap 2, 2, 2, 0, 0


def test_tie_break_at_the_cut_sees_beyond_k():
    # 40 users tied at 1.000 with the asked user; the one sharing most items is the last row
    rows = [[0, 1, 2, 3, 4, 5]] + [[0, 6, 7]] * 39 + [[0, 1, 2, 3, 4, 5]]
    x = graph(rows)
    index = VectorIndex.exact(np.ones((len(rows), 2), dtype=np.float32))
    top, _, overlap = similar_rows(index, x, 0, 3)
    assert top[0] == len(rows) - 1 and overlap.tolist() == [6, 1, 1]


def test_never_the_user_nothing_unrelated_and_every_figure_finite():
    x = graph([[0, 1, 2], [0, 1, 2], [3, 4, 5], [0, 1, 2]])
    vectors = np.array([[1, 0], [1, 0.1], [-1, 0], [0, 0]], dtype=np.float32)  # row 3: a zero vector
    for index in (VectorIndex.exact(vectors), VectorIndex.build(vectors, exact_below=0)):
        rows, sims, _ = similar_rows(index, x, 0, 10)
        assert 0 not in rows and np.isfinite(sims).all() and (sims > 0).all()
        assert rows.tolist() == [1]  # row 2 points the other way, row 3 has no direction
    assert similar_rows(VectorIndex.exact(vectors), x, 3, 10)[0].size == 0  # a zero vector finds nothing
    with pytest.raises(ConfigError, match="'k'"):
        similar_rows(VectorIndex.exact(vectors), x, 0, 0)
    with pytest.raises(ConfigError, match="min_items"):
        similar_rows(VectorIndex.exact(vectors), x, 0, 3, min_items=0)


def test_a_three_user_build(tmp_path):
    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.ingest.clean import read_log
    from uig_core.store.workspace import Workspace

    log = tmp_path / "three.csv"
    lines = ["user_id,item_id,event,ts,item_title"]
    titles = {"a": "Red Coffee Mug", "b": "Blue Coffee Mug", "c": "Yoga Mat Purple", "d": "Yoga Block Cork"}
    for user, items in {"u1": "abc", "u2": "abd", "u3": "cd"}.items():
        lines += [f"{user},{i},purchase,2024-01-0{n + 1},{titles[i]}" for n, i in enumerate(items)]
    log.write_text("\n".join(lines) + "\n")
    ws = Workspace(tmp_path / "ws")
    ws.add_dataset("three", read_log(log).events)
    build(ws, "three")
    bundle = Bundle.load(ws, "three")
    for user in ("u1", "u2", "u3"):
        for least in (1, SIMILAR_MIN_ITEMS):
            sims = bundle.similar_users(user, k=10, min_items=least)
            assert list(sims.columns) == ["user_id", "similarity", "overlap", "n_events", "n_purchase"]
            assert user not in set(sims["user_id"]) and len(sims) <= 2
            assert all(math.isfinite(s) and s > 0 for s in sims["similarity"])
    assert bundle.similar_users("u3").empty  # two items: below the default support
    assert set(bundle.similar_users("u1", min_items=1)["user_id"]) <= {"u2", "u3"}


@pytest.mark.slow
def test_every_demo_user(demo_ws):
    from uig_core.build.bundle import Bundle

    bundle = Bundle.load(demo_ws, "demo")
    ids = bundle.users["user_id"].astype(str)
    support = pd.Series(np.diff(bundle.interactions.indptr), index=ids)
    listed = 0
    for uid in ids:
        sims = bundle.similar_users(uid, k=10)
        assert uid not in set(sims["user_id"]), uid
        assert all(math.isfinite(s) and 0 < s <= 1 + 1e-6 for s in sims["similarity"]), uid
        assert (support.reindex(sims["user_id"].astype(str)) >= SIMILAR_MIN_ITEMS).all(), uid
        shown = list(zip(np.round(sims["similarity"], 4), sims["overlap"], strict=True))
        assert shown == sorted(shown, key=lambda t: (-t[0], -t[1])), uid  # by similarity, ties by overlap
        listed += len(sims)
    assert listed >= 9 * len(ids)  # nearly everyone has a full list on the demo
