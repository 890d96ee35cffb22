"""The DuckDB aggregates behind a build, on a log small enough to work out by hand, stored and in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uig_core.graph.pairs import pair_matrices
from uig_core.schema import EVENT_CODES
from uig_core.store.frames import items_frame, time_range, users_frame
from uig_core.store.relation import EventRelation
from uig_core.store.workspace import Workspace

LOG = pd.DataFrame(
    {
        "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
        "item_id": ["a", "a", "b", "a", "b", "c"],
        "event": ["view", "purchase", "view", "cart", "return", "view"],
        "ts": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-21", "2024-01-22", "2024-01-21"]),
        "item_title": ["Red mug", "Red mug", "Blue cup", "red MUG", None, ""],
        "price": [3.0, 5.0, 2.0, 4.0, 2.0, 0.0],
        "quantity": [1.0, 2.0, 1.0, 1.0, -1.0, 1.0],
    }
)


@pytest.fixture(params=["frame", "table"])
def relation(request, tmp_path):
    if request.param == "frame":
        return EventRelation.of_frame(LOG)
    ws = Workspace(tmp_path / "ws")
    info = ws.add_dataset("log", LOG)
    return EventRelation.of_dataset(ws, info)


def test_item_and_user_frames(relation):
    items = items_frame(relation).set_index("item_id")
    assert list(items.index) == ["a", "b", "c"]
    assert items.loc["a", "title"] == "Red mug"  # the most frequent title wins over "red MUG"
    assert items.loc["c", "title"] == "c"  # an empty title falls back to the id
    assert items.loc["a", "n_users"] == 2 and items.loc["b", "n_events"] == 2
    assert items.loc["a", "price"] == 4.0  # median of 3, 5, 4
    assert np.isnan(items.loc["c", "price"])  # prices <= 0 are not prices
    users = users_frame(relation).set_index("user_id")
    assert users.loc["u1", "spend"] == 10.0  # 5 x 2: purchases only
    assert users.loc["u1", "orders"] == 1 and users.loc["u2", "n_return"] == 1
    first, last, n = time_range(relation)
    assert (first, last, n) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-22"), 6)


def test_pair_matrices_by_hand(relation):
    users, items = pd.Index(["u1", "u2", "u3"]), pd.Index(["a", "b", "c"])
    p = pair_matrices(relation, users, items, half_life_days=10.0)
    # the last positive event is 2024-01-21: u1's purchase of a is 10 days old, its view 20 days
    assert p.weight[0, 0] == pytest.approx(max(8 * 0.5, 1 * 0.25))
    assert p.evidence[0, 0] == pytest.approx(8 * 0.5 + 1 * 0.25)
    assert p.evidence_raw[0, 0] == pytest.approx(9.0)
    assert EVENT_CODES[p.strongest[0, 0]] == "purchase" and EVENT_CODES[p.strongest[1, 0]] == "cart"
    assert p.weight[1, 1] == 0  # a return is never a positive edge
    assert p.weight.nnz == 4 and p.strongest.nnz == 4
    flat = pair_matrices(relation, users, pd.Index(["b", "a"]), half_life_days=None)  # columns follow the index
    assert flat.weight[0, 1] == 8.0 and flat.weight[0, 0] == 1.0
