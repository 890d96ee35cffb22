"""The recommender contract, run against every registered model on a planted checkerboard.

Two user groups × two item groups: users of group A bought only A items and vice versa, so the right
recommendation is obvious — it must come from the user's own block and never repeat a seen item.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.errors import ConfigError, NotFittedError, UnknownId
from uig_core.models import DEFAULT_MODEL, MODEL_NAMES, MODELS, load_model, make_model
from uig_core.models.base import Recommender, topk

N_USERS, N_ITEMS = 60, 24  # two blocks of 30 users × 12 items
REQUIRED = ("popularity", "itemknn", "rp3beta", "ease", "ials", "lightgcn", "residual_gcn", "lm_gcn")

# Fast settings for the tiny graph; everything else is each model's default.
FAST = {
    "lightgcn": {"epochs": 40, "factors": 16, "validation": 0.0},
    "residual_gcn": {"epochs": 40, "factors": 16, "validation": 0.0},
    "lm_gcn": {"epochs": 40, "factors": 16, "validation": 0.0},
    "gfcf": {"factors": 4},
    "bspm": {"factors": 4},
    "ials": {"factors": 8, "iterations": 8, "search_iterations": 3, "regularization_grid": (0.1, 1.0, 10.0)},
}


def checkerboard(seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = np.zeros((N_USERS, N_ITEMS), dtype=np.float32)
    half_u, half_i = N_USERS // 2, N_ITEMS // 2
    for u in range(N_USERS):
        block = np.arange(half_i) if u < half_u else np.arange(half_i, N_ITEMS)
        dense[u, rng.choice(block, size=6, replace=False)] = rng.uniform(0.5, 2.0, size=6)
    feats = np.zeros((N_ITEMS, 8), dtype=np.float32)
    feats[:half_i, 0] = 1.0
    feats[half_i:, 1] = 1.0
    feats += rng.normal(scale=0.05, size=feats.shape).astype(np.float32)
    return sp.csr_matrix(dense), feats


def block_of_user(u: np.ndarray) -> np.ndarray:
    return (np.asarray(u) >= N_USERS // 2).astype(int)


def block_of_item(i: np.ndarray) -> np.ndarray:
    return (np.asarray(i) >= N_ITEMS // 2).astype(int)


@pytest.fixture(scope="module")
def data() -> tuple[sp.csr_matrix, np.ndarray]:
    return checkerboard()


@pytest.fixture(scope="module", params=sorted(MODEL_NAMES))
def fitted(request: pytest.FixtureRequest, data: tuple[sp.csr_matrix, np.ndarray]) -> Recommender:
    x, feats = data
    return make_model(request.param, **FAST.get(request.param, {})).fit(x, item_features=feats)


# ---------------------------------------------------------------------------------------------- registry
def test_registry_names() -> None:
    for name in REQUIRED:
        assert name in MODEL_NAMES
    assert DEFAULT_MODEL in MODEL_NAMES
    assert all(MODELS[n].name == n for n in MODEL_NAMES)


def test_unknown_model_name() -> None:
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        make_model("nope")


@pytest.mark.parametrize("name", sorted(MODEL_NAMES))
def test_params_are_keyword_only_and_stored(name: str) -> None:
    model = make_model(name)
    params = model.get_params()
    assert params, name
    assert make_model(name, **params).get_params() == params
    with pytest.raises(TypeError):
        MODELS[name](1)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- contract
class TestContract:
    """The contract mixin: every model, same checks."""

    def test_recommends_from_own_block(self, fitted: Recommender) -> None:
        if fitted.name in ("popularity", "recent_unbought"):  # recent_unbought: popularity after the unbought
            pytest.skip("popularity gives every user the same list by design")
        users = np.arange(N_USERS)
        idx, scores = fitted.recommend(users, k=3)
        assert idx.shape == (N_USERS, 3) and scores.shape == (N_USERS, 3)
        own = block_of_item(idx) == block_of_user(users)[:, None]
        assert own.mean() >= 0.95, f"{fitted.name}: only {own.mean():.0%} of recommendations in the own block"

    def test_never_recommends_seen_items(self, fitted: Recommender, data: tuple[sp.csr_matrix, np.ndarray]) -> None:
        x, _ = data
        idx, _ = fitted.recommend(np.arange(N_USERS), k=10)
        for u in range(N_USERS):
            assert not set(idx[u]) & set(x[u].indices)

    def test_scores_sorted_and_shapes(self, fitted: Recommender) -> None:
        idx, scores = fitted.recommend(5, k=4)
        assert idx.shape == (4,) and scores.shape == (4,)
        assert idx.dtype == np.int64 and scores.dtype == np.float32
        assert np.all(np.diff(scores) <= 0)
        full = fitted.score(np.array([5, 6]))
        assert full.shape == (2, N_ITEMS) and full.dtype == np.float32
        assert fitted.score(5).shape == (1, N_ITEMS)

    def test_filter_seen_off_and_items_restriction(self, fitted: Recommender) -> None:
        idx, _ = fitted.recommend(0, k=N_ITEMS, filter_seen=False)
        assert sorted(idx.tolist()) == list(range(N_ITEMS))
        cand = np.array([1, 3, 20, 22])
        idx, _ = fitted.recommend(0, k=10, filter_seen=False, items=cand)
        assert sorted(idx.tolist()) == sorted(cand.tolist())

    def test_pads_when_fewer_candidates_than_k(
        self, fitted: Recommender, data: tuple[sp.csr_matrix, np.ndarray]
    ) -> None:
        x, _ = data
        seen = x[0].indices[:2]
        idx, scores = fitted.recommend(np.array([0]), k=2, items=seen)
        assert (idx == -1).all() and np.isneginf(scores).all()

    def test_score_items_equals_the_full_scores_columns(self, fitted: Recommender) -> None:
        items = np.array([3, 0, fitted.n_items_ - 1])
        full = fitted.score(np.arange(fitted.n_users_))[:, items]
        np.testing.assert_allclose(fitted.score_items(items), full, rtol=1e-5, atol=1e-6)
        users = np.array([2, 0])
        np.testing.assert_allclose(fitted.score_items(1, users), fitted.score(users)[:, [1]], rtol=1e-5, atol=1e-6)
        with pytest.raises(UnknownId):
            fitted.score_items(fitted.n_items_)

    def test_similar_items_excludes_itself(self, fitted: Recommender) -> None:
        idx, scores = fitted.similar_items(2, k=5)
        assert len(idx) == 5 and 2 not in idx
        assert np.all(np.diff(scores) <= 1e-6)

    def test_save_load_round_trip(self, fitted: Recommender, tmp_path) -> None:
        path = fitted.save(tmp_path / "m")
        assert sorted(p.name for p in path.iterdir()) == ["params.json", "state.npz"]
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folder left behind"
        meta = json.loads((path / "params.json").read_text())
        assert meta["model"] == fitted.name and meta["params"] == fitted.get_params()
        for loader in (load_model, Recommender.load, type(fitted).load):
            again = loader(path)
            assert type(again) is type(fitted)
            users = np.arange(N_USERS)
            a, sa = fitted.recommend(users, k=5)
            b, sb = again.recommend(users, k=5)
            np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(sa, sb, rtol=1e-5, atol=1e-6)
        with np.load(path / "state.npz", allow_pickle=False) as z:  # no pickled objects inside
            assert all(z[k].dtype != object for k in z.files)

    def test_unknown_ids(self, fitted: Recommender) -> None:
        with pytest.raises(UnknownId, match="out of range"):
            fitted.recommend(N_USERS)
        with pytest.raises(UnknownId):
            fitted.similar_items(N_ITEMS)
        with pytest.raises(ConfigError, match="'k' parameter of recommend"):
            fitted.recommend(0, k=0)

    def test_factors_shapes(self, fitted: Recommender) -> None:
        uf, itf = getattr(fitted, "user_factors_", None), getattr(fitted, "item_factors_", None)
        if uf is not None:
            assert uf.shape[0] == N_USERS and itf.shape[0] == N_ITEMS


@pytest.mark.parametrize("name", sorted(MODEL_NAMES))
def test_not_fitted(name: str, tmp_path) -> None:
    model = make_model(name)
    for call in (
        lambda: model.recommend(0),
        lambda: model.score(0),
        lambda: model.similar_items(0),
        lambda: model.save(tmp_path / "x"),
    ):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ease", {"l2": -1.0}, r"The 'l2' parameter of EASE must be a float in the range \(0, inf\) or None"),
        ("ease", {"l2_grid": []}, "'l2_grid' parameter of EASE must be a non-empty list"),
        ("itemknn", {"neighbors": 0}, r"'neighbors' parameter of ItemKNN must be an int in the range \[1, inf\)"),
        ("lightgcn", {"loss": "mse"}, r"'loss' parameter of LightGCN must be one of \{'softmax', 'bpr'\}"),
        ("lightgcn", {"factors": 2.5}, "'factors' parameter of LightGCN must be an int"),
        ("residual_gcn", {"learning_rate": 0.0}, "'learning_rate' parameter of ResidualGCN"),
        ("popularity", {"use_weights": "yes"}, "'use_weights' parameter of Popularity must be an instance of"),
    ],
)
def test_parameter_validation(name: str, params: dict, message: str, data) -> None:
    x, _ = data
    with pytest.raises(ConfigError, match=message):
        make_model(name, **params).fit(x)


def test_bad_inputs(data) -> None:
    x, _ = data
    with pytest.raises(ConfigError, match="scipy.sparse.csr_matrix"):
        make_model("popularity").fit([[1, 0]])
    with pytest.raises(ConfigError, match="non-negative"):
        make_model("popularity").fit(-x)
    with pytest.raises(ConfigError, match="at least one non-zero"):
        make_model("popularity").fit(sp.csr_matrix((3, 3), dtype=np.float32))
    with pytest.warns(UserWarning, match="converting"):
        make_model("popularity").fit(x.toarray())
    with pytest.warns(UserWarning, match="COO matrix; converting to CSR"):
        make_model("popularity").fit(x.tocoo())
    with pytest.raises(ConfigError, match="item_features must have shape"):
        make_model("lm_gcn").fit(x, item_features=np.zeros((3, 4)))


def test_ease_refuses_large_catalogue(data) -> None:
    x, _ = data
    with pytest.raises(ConfigError, match=r"EASE refuses 24 items \(max_items=10\)"):
        make_model("ease", max_items=10).fit(x)


def test_ease_picks_l2_on_validation(data) -> None:
    x, _ = data
    model = make_model("ease", l2_grid=(10.0, 500.0)).fit(x)
    assert set(model.validation_) == {10.0, 500.0}
    assert model.l2_ in (10.0, 500.0)
    assert make_model("ease", l2=3.0).fit(x).l2_ == 3.0


def test_lm_gcn_needs_features(data) -> None:
    x, _ = data
    with pytest.raises(ConfigError, match="lm_gcn needs item_features"):
        make_model("lm_gcn", epochs=1).fit(x)


def test_graph_models_are_seeded(data) -> None:
    x, feats = data
    a = make_model("lightgcn", epochs=3, factors=8, random_state=7).fit(x)
    b = make_model("lightgcn", epochs=3, factors=8, random_state=7).fit(x)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert a.epochs_ == 3 and len(a.history_) == 3


def test_graph_model_early_stopping_and_progress(data) -> None:
    x, _ = data
    seen: list[tuple[float, str]] = []
    model = make_model("lightgcn", epochs=50, factors=8, patience=2, validation=0.3)
    model.fit(x, progress=lambda f, m: seen.append((f, m)))
    assert seen[0][0] == 0.0 and seen[-1][0] == 1.0
    assert all(0.0 <= f <= 1.0 for f, _ in seen)
    assert any("validation Recall@20" in m for _, m in seen)
    assert model.best_epoch_ <= model.epochs_ <= 50


def test_lm_gcn_scores_cold_items_by_text() -> None:
    """An item nobody bought gets its score from its text: it ranks high for users of its own block."""
    x, feats = checkerboard(1)
    x = x.tolil()
    x[:, 0] = 0  # item 0 (block A) becomes cold
    x = x.tocsr()
    model = make_model("lm_gcn", epochs=40, factors=16, validation=0.0).fit(x, item_features=feats)
    s = model.score(np.arange(N_USERS))[:, 0]
    assert s[: N_USERS // 2].mean() > s[N_USERS // 2 :].mean()


def test_lm_gcn_cold_threshold_drops_only_cold_ids() -> None:
    """``cold_threshold`` changes inference only: an item below it loses its ID, and with two layers the change
    reaches its one buyer and that buyer's items, nothing further."""
    x, feats = checkerboard(2)
    x = x.tolil()
    x[:, 0] = 0
    x[3, 0] = 1.0  # item 0 keeps a single buyer (user 3): cold under a threshold of 5
    x = x.tocsr()
    counts = np.diff(x.tocsc().indptr)
    assert counts[0] == 1 and (counts[1:] >= 5).all()
    params = {"epochs": 5, "factors": 16, "validation": 0.0, "random_state": 4}
    keep = make_model("lm_gcn", cold_threshold=0, **params).fit(x, item_features=feats)
    drop = make_model("lm_gcn", cold_threshold=5, **params).fit(x, item_features=feats)
    assert not np.allclose(keep.item_factors_[0], drop.item_factors_[0], atol=1e-3)
    near_items = set(x[3].indices.tolist())
    far_items = [j for j in range(N_ITEMS) if j not in near_items]
    far_users = [u for u in range(N_USERS) if u != 3]
    np.testing.assert_allclose(keep.item_factors_[far_items], drop.item_factors_[far_items], atol=1e-5)
    np.testing.assert_allclose(keep.user_factors_[far_users], drop.user_factors_[far_users], atol=1e-5)
    assert not np.allclose(keep.user_factors_[3], drop.user_factors_[3], atol=1e-5)


def test_topk_breaks_ties_by_index() -> None:
    idx, sc = topk(np.array([[1.0, 3.0, 3.0, 2.0]], dtype=np.float32), 3)
    assert idx.tolist() == [[1, 2, 3]] and sc.tolist() == [[3.0, 3.0, 2.0]]


def test_load_rejects_missing_and_foreign(tmp_path, data) -> None:
    x, _ = data
    with pytest.raises(ConfigError, match="holds no saved model"):
        load_model(tmp_path / "none")
    path = make_model("popularity").fit(x).save(tmp_path / "pop")
    with pytest.raises(ConfigError, match="holds a 'popularity' model"):
        MODELS["ease"].load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_model(path).name == "popularity"


def test_positive_order_follows_the_weights() -> None:
    import torch

    from uig_core.models._gcn import positive_order

    gen = torch.Generator().manual_seed(0)
    weights = np.tile([0.0, 1.0, 3.0, 0.0], 2000)
    order = positive_order(len(weights), weights, gen).numpy()
    pattern = np.bincount(order % 4, minlength=4)
    assert pattern[0] == 0 and pattern[3] == 0  # weight 0: never drawn
    assert 2.6 < pattern[2] / pattern[1] < 3.4  # in proportion to the weights
    perm = positive_order(10, None, gen).numpy()
    assert sorted(perm) == list(range(10))  # no weights: one pass over every pair
    assert sorted(positive_order(3, np.zeros(3), gen).numpy()) == [0, 1, 2]  # all-zero weights: same


def test_weighted_positive_sampling_learns_the_recent_pairs() -> None:
    """Planted: every user also has stale pairs (weight 1e-4) in the other block; drawing positives by weight
    must tie users to their recent block more strongly than one uniform pass over all pairs does."""
    x, _ = checkerboard(2)
    dense = x.toarray()
    rng = np.random.default_rng(3)
    half_u, half_i = N_USERS // 2, N_ITEMS // 2
    for u in range(N_USERS):
        other = np.arange(half_i, N_ITEMS) if u < half_u else np.arange(half_i)
        dense[u, rng.choice(other, size=6, replace=False)] = 1e-4
    x = sp.csr_matrix(dense)

    def margin(sampling: str) -> float:
        model = make_model(
            "lightgcn", epochs=30, factors=16, validation=0.0, positive_sampling=sampling, random_state=0
        ).fit(x)
        s = model.score(np.arange(N_USERS))
        own = block_of_item(np.arange(N_ITEMS))[None, :] == block_of_user(np.arange(N_USERS))[:, None]
        return float(s[own].mean() - s[~own].mean())

    assert margin("weight") > margin("uniform") + 0.05


# ---------------------------------------------------------------------------------------------- scaling models
def test_default_model_follows_the_catalogue_size() -> None:
    from uig_core.models import LARGE_CATALOG_MODEL, default_model_for
    from uig_core.models.ease import MAX_ITEMS

    assert default_model_for(3_600) == DEFAULT_MODEL == "ease_recency"
    assert default_model_for(MAX_ITEMS) == DEFAULT_MODEL
    assert default_model_for(MAX_ITEMS + 1) == LARGE_CATALOG_MODEL
    assert default_model_for(470_000) == LARGE_CATALOG_MODEL
    assert LARGE_CATALOG_MODEL in MODEL_NAMES and LARGE_CATALOG_MODEL != "ease_recency"


def test_ease_search_is_bounded_on_large_catalogues() -> None:
    from uig_core.models.ease import FULL_SEARCH_ITEMS, search_evaluations

    assert search_evaluations(FULL_SEARCH_ITEMS, 6) == 6
    assert search_evaluations(4_000, 6) == 2
    assert search_evaluations(5_000, 6) == 1
    assert all(search_evaluations(n, 6) >= search_evaluations(n + 500, 6) for n in range(500, 20_000, 500))


def test_ease_search_stops_at_its_budget(data, monkeypatch) -> None:
    import uig_core.models.ease as ease

    x, _ = data
    monkeypatch.setattr(ease, "FULL_SEARCH_ITEMS", 12)  # 24 items: (12/24)³ × 6 grid values → 1 inversion
    model = make_model("ease").fit(x)
    assert list(model.validation_) == [500.0] and model.l2_ == 500.0


@pytest.mark.parametrize("k", [1, 3, 50])
@pytest.mark.parametrize("budget", [1, 40, 10**9])
def test_topk_product_keeps_each_rows_best_entries(k: int, budget: int) -> None:
    from uig_core.models._sparse_knn import topk_product

    x = sp.random(200, 40, density=0.15, random_state=1, format="csr", dtype=np.float32)
    full = (x.T @ x).toarray()
    np.fill_diagonal(full, 0.0)
    got = topk_product(x.T.tocsr(), x, k, budget=budget).toarray()
    assert ((got > 0).sum(axis=1) <= k).all()
    for i in range(40):
        want = np.sort(full[i][full[i] > 0])[::-1][:k]
        np.testing.assert_allclose(np.sort(got[i][got[i] > 0])[::-1], want, rtol=1e-6)
        np.testing.assert_allclose(got[i][got[i] > 0], full[i][got[i] > 0], rtol=1e-6)  # kept values unchanged


def test_sparse_itemknn_equals_the_dense_cosine_with_shrink(data) -> None:
    x, _ = data
    model = make_model("itemknn", neighbors=None, shrink=2.0).fit(x)
    b = (x > 0).astype(np.float32).toarray()
    norms = np.linalg.norm(b, axis=0)
    want = (b.T @ b) / (norms[:, None] * norms[None, :] + 2.0)
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), want, rtol=1e-5, atol=1e-7)
    pruned = make_model("itemknn", neighbors=3).fit(x).similarity_
    assert (np.diff(pruned.indptr) <= 3).all()


def test_bm25_and_rp3beta_weightings(data) -> None:
    from uig_core.models.itemknn import bm25_weight

    x, _ = data
    w = bm25_weight((x > 0).astype(np.float32))
    assert w.shape == x.shape and (w.data > 0).all()
    rp3 = make_model("rp3beta", neighbors=5).fit(x)
    assert (np.diff(rp3.weights_.indptr) <= 5).all() and (rp3.weights_.diagonal() == 0).all()
    flat = make_model("rp3beta", beta=0.0).fit(x).weights_.toarray()
    damped = make_model("rp3beta", beta=1.0).fit(x).weights_.toarray()
    degree = np.diff(x.tocsc().indptr)
    np.testing.assert_allclose(damped, flat / degree[None, :], rtol=1e-5, atol=1e-7)  # β divides by deg(j)^β
