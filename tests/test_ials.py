"""iALS on ``implicit``'s CPU solver: planted blocks, seeds, the bounded λ search, threads and progress.

The shared contract (recommend / score_items / similar_items / save-load / warm start) runs on ``ials`` through
``tests/test_models.py`` and ``tests/test_warm_start.py``; these tests cover what is particular to it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.test_models import FAST, N_ITEMS, N_USERS, block_of_item, block_of_user, checkerboard
from uig_core.errors import ConfigError
from uig_core.models import load_model, make_model
from uig_core.models.ials import IALS, solver_threads

PARAMS = FAST["ials"]


@pytest.fixture(scope="module")
def fitted() -> IALS:
    x, _ = checkerboard()
    return make_model("ials", **PARAMS, random_state=3).fit(x)


def test_recommends_the_obvious_items_of_the_own_block(fitted: IALS) -> None:
    users = np.arange(N_USERS)
    idx, _ = fitted.recommend(users, k=4)
    assert (block_of_item(idx) == block_of_user(users)[:, None]).all()
    s = fitted.score(users)
    own = block_of_item(np.arange(N_ITEMS))[None, :] == block_of_user(users)[:, None]
    assert s[own].mean() > s[~own].mean() + 0.2


def test_same_seed_same_factors_other_seed_other_factors() -> None:
    x, _ = checkerboard()
    a = make_model("ials", **PARAMS, random_state=3).fit(x)
    b = make_model("ials", **PARAMS, random_state=3, num_threads=1).fit(x)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)  # thread count changes nothing either
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    c = make_model("ials", **PARAMS, random_state=4).fit(x)
    assert not np.allclose(a.item_factors_, c.item_factors_)


def test_round_trip_gives_equal_scores_and_score_items_is_a_column(fitted: IALS, tmp_path) -> None:
    again = load_model(fitted.save(tmp_path / "ials"))
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(again.score(users), fitted.score(users))
    assert again.regularization_ == fitted.regularization_ and again.validation_ == fitted.validation_
    np.testing.assert_allclose(fitted.score_items([5, 17]), fitted.score(users)[:, [5, 17]], rtol=1e-6, atol=1e-6)


def test_lambda_search_is_bounded_and_recorded(fitted: IALS) -> None:
    grid = PARAMS["regularization_grid"]
    assert 2 <= len(fitted.validation_) <= len(grid)
    assert fitted.regularization_ in grid
    assert fitted.regularization_ == max(fitted.validation_, key=fitted.validation_.get)
    x, _ = checkerboard()
    fixed = make_model("ials", factors=8, iterations=3, regularization=0.5).fit(x)
    assert fixed.regularization_ == 0.5 and fixed.validation_ == {}


def test_progress_is_reported_per_sweep_and_ordered() -> None:
    x, _ = checkerboard()
    seen: list[tuple[float, str]] = []
    make_model("ials", **PARAMS).fit(x, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions) and fractions == sorted(fractions)
    assert sum("ALS sweep" in m for _, m in seen) >= PARAMS["iterations"]


def test_fit_raises_no_blas_thread_warning() -> None:
    x, _ = checkerboard()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # implicit warns when BLAS threads would fight its own threads
        make_model("ials", factors=4, iterations=2, regularization=1.0).fit(x)


def test_threads_follow_threadpoolctl_and_torch() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    assert solver_threads(3) == 3
    with threadpool_limits(1, user_api="openmp"):
        assert solver_threads() == 1
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert solver_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert solver_threads() >= 1


def test_confidence_is_bounded_by_the_weights() -> None:
    x, _ = checkerboard()
    model = make_model("ials", alpha=10.0, use_weights=True)
    conf = model._confidence(x)
    assert conf.data.min() >= 1.0
    assert conf.data.max() <= 1.0 + 10.0 * np.log1p(x.data.max()) + 1e-5
    binary = make_model("ials", alpha=10.0)._confidence(x)
    assert np.allclose(binary.data, 1.0 + 10.0 * np.log(2.0))


def test_fine_tune_keeps_lambda_and_checks_shape(fitted: IALS) -> None:
    x, _ = checkerboard()
    model = make_model("ials", **PARAMS).fit(x)
    chosen = model.regularization_
    model.fine_tune(x)  # in place: same users and items
    assert model.regularization_ == chosen
    with pytest.raises(ConfigError, match="reindex"):
        model.fine_tune(x[:10])


def test_parameter_validation() -> None:
    x, _ = checkerboard()
    with pytest.raises(ConfigError, match=r"'factors' parameter of IALS must be an int in the range \[1, inf\)"):
        make_model("ials", factors=0).fit(x)
    with pytest.raises(ConfigError, match="'regularization_grid' parameter of IALS"):
        make_model("ials", regularization_grid=()).fit(x)
