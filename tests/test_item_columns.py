"""One item's audience from the item-major pairs equals the model's own column of scores."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.models import make_model
from uig_core.models._columns import column_of, column_scores


def planted_pairs(n_users: int = 300, n_items: int = 120, seed: int = 5) -> sp.csr_matrix:
    """Two blocks of taste plus noise, with weights that are not 0/1 (binary models must ignore them)."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.03).astype(np.float32)
    dense[: n_users // 2, : n_items // 2] += rng.random((n_users // 2, n_items // 2)) < 0.15
    dense *= rng.uniform(0.5, 8.0, dense.shape).astype(np.float32)
    dense[7] = 0.0  # a user with no pairs
    dense[:, 11] = 0.0  # an item nobody touched
    return sp.csr_matrix(dense)


def test_column_of_reads_a_csr_column():
    w = sp.random(50, 40, density=0.2, format="csr", random_state=1, dtype=np.float32)
    for col in (0, 13, 39):
        rows, vals = column_of(w, col)
        dense = w.toarray()[:, col]
        np.testing.assert_array_equal(rows, np.flatnonzero(dense))
        np.testing.assert_allclose(vals, dense[rows])


@pytest.mark.parametrize("name", ["p3alpha", "rp3beta", "itemknn"])
def test_item_column_scores_equal_score_items(name):
    x = planted_pairs()
    model = make_model(name).fit(x)
    csc = x.tocsc()
    csc.sort_indices()
    for item in (0, 11, 30, 119):
        column = model.item_column(item)
        assert column is not None
        got = column_scores(*column, csc.indptr, csc.indices, x.shape[0])
        want = model.score_items(item)[:, 0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert got[7] == 0.0  # no pairs, no score


def test_weighted_or_factor_models_have_no_item_column():
    x = planted_pairs()
    assert make_model("itemknn", use_weights=True).fit(x).item_column(3) is None
    assert make_model("popularity").fit(x).item_column(3) is None


def test_column_scores_in_blocks_equals_one_pass(monkeypatch):
    x = planted_pairs(seed=9)
    csc = x.tocsc()
    rows = np.arange(x.shape[1])
    vals = np.linspace(0.1, 2.0, x.shape[1])
    whole = column_scores(rows, vals, csc.indptr, csc.indices, x.shape[0])
    monkeypatch.setattr("uig_core.models._columns._BLOCK", 7)  # many small blocks
    np.testing.assert_allclose(column_scores(rows, vals, csc.indptr, csc.indices, x.shape[0]), whole, rtol=1e-6)
    np.testing.assert_allclose(whole, (x > 0).astype(np.float64) @ vals, rtol=1e-6)


def test_a_column_that_touches_most_pairs_takes_the_user_major_product():
    from uig_core.models._columns import binary_user_major

    x = planted_pairs(seed=3)
    csc = x.tocsc()
    csc.sort_indices()
    rows = np.arange(x.shape[1])  # every item: the gather would read every pair
    vals = np.linspace(0.1, 2.0, x.shape[1]).astype(np.float32)
    asked = []

    def by_user() -> sp.csr_matrix:
        asked.append(True)
        return binary_user_major(x)

    got = column_scores(rows, vals, csc.indptr, csc.indices, x.shape[0], by_user=by_user)
    assert asked  # the product path ran
    np.testing.assert_allclose(got, (x > 0).astype(np.float64) @ vals, rtol=1e-5)
    asked.clear()
    few = column_scores(rows[:2], vals[:2], csc.indptr, csc.indices, x.shape[0], by_user=by_user)
    assert not asked  # two items touch few pairs: the gather
    np.testing.assert_allclose(few, (x[:, :2] > 0).astype(np.float64) @ vals[:2], rtol=1e-5)
