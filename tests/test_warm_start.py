"""Warm start (``reindex`` + ``fine_tune``), the living graph's model update, for every recommender.

The planted checkerboard of ``test_models`` is split into an "old" graph (without some users and items of each
block) and the full graph; a model fitted on the old graph, re-indexed and fine-tuned on the full one must serve
the new users from their own block, as a model fitted from scratch does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.test_models import FAST, N_ITEMS, N_USERS, block_of_item, block_of_user, checkerboard
from uig_core.errors import ConfigError, NotFittedError
from uig_core.models import MODEL_NAMES, make_model

# Old graph: users 0..24 and 30..54, items 0..9 and 12..21 (the last 5 users / 2 items of each block are new).
OLD_USERS = np.r_[0:25, 30:55]
OLD_ITEMS = np.r_[0:10, 12:22]


def maps() -> tuple[np.ndarray, np.ndarray]:
    user_map = pd.Index(OLD_USERS).get_indexer(np.arange(N_USERS))
    item_map = pd.Index(OLD_ITEMS).get_indexer(np.arange(N_ITEMS))
    return user_map, item_map


@pytest.fixture(scope="module", params=sorted(MODEL_NAMES))
def warmed(request: pytest.FixtureRequest):
    x, feats = checkerboard()
    old = x[OLD_USERS][:, OLD_ITEMS]
    model = make_model(request.param, **FAST.get(request.param, {})).fit(old, item_features=feats[OLD_ITEMS])
    before = model.get_params()
    model.reindex(*maps())
    with pytest.raises(NotFittedError):
        model.recommend(0)
    model.fine_tune(x, item_features=feats)
    assert model.get_params() == before
    return model


def test_shape_follows_the_new_graph(warmed) -> None:
    assert (warmed.n_users_, warmed.n_items_) == (N_USERS, N_ITEMS)
    assert warmed.score(np.arange(N_USERS)).shape == (N_USERS, N_ITEMS)


def test_new_users_are_served_from_their_own_block(warmed) -> None:
    if warmed.name in ("popularity", "recent_unbought"):  # recent_unbought: popularity after the unbought
        pytest.skip("popularity gives every user the same list by design")
    new_users = np.setdiff1d(np.arange(N_USERS), OLD_USERS)
    idx, _ = warmed.recommend(new_users, k=3)
    own = block_of_item(idx) == block_of_user(new_users)[:, None]
    assert own.mean() >= 0.9, f"{warmed.name}: {own.mean():.0%} in the own block"


def test_new_items_get_learned_factors(warmed) -> None:
    factors = getattr(warmed, "item_factors_", None)
    if factors is None:
        pytest.skip("no item factors")
    new_items = np.setdiff1d(np.arange(N_ITEMS), OLD_ITEMS)
    assert np.linalg.norm(factors[new_items], axis=1).min() > 1e-3


def test_ease_keeps_its_chosen_l2() -> None:
    x, _ = checkerboard()
    model = make_model("ease").fit(x[OLD_USERS][:, OLD_ITEMS])
    chosen, evidence = model.l2_, dict(model.validation_)
    model.reindex(*maps()).fine_tune(x)
    assert model.l2_ == chosen and model.validation_ == evidence and model.l2 is None


def test_graph_fine_tune_runs_few_epochs_from_the_old_weights() -> None:
    x, _ = checkerboard()
    old = x[OLD_USERS][:, OLD_ITEMS]
    model = make_model("lightgcn", **{**FAST["lightgcn"], "fine_tune_epochs": 2}).fit(old)
    old_user0 = model.params_["embedding.weight"][0].copy()
    model.reindex(*maps())
    carried = model._warm_state["embedding"]
    np.testing.assert_array_equal(carried[0], old_user0)  # user 0 keeps its row before training resumes
    model.fine_tune(x)
    assert model.epochs_ == 2


def test_reindex_validates_maps_and_fine_tune_checks_shape() -> None:
    x, _ = checkerboard()
    model = make_model("lightgcn", **FAST["lightgcn"]).fit(x)
    with pytest.raises(ConfigError, match="user_map must hold indices"):
        model.reindex(np.array([N_USERS + 5]), np.arange(N_ITEMS))
    model.reindex(*maps())
    with pytest.raises(ConfigError, match="reindex\\(\\) prepared"):
        model.fine_tune(x[:10])


def test_fine_tune_of_an_unfitted_model_fits_it() -> None:
    x, _ = checkerboard()
    model = make_model("itemknn").fine_tune(x)
    assert model.n_users_ == N_USERS
