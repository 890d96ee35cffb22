"""Each model's own reasons: the parts of a score, one per history item, add up to it (or attribute it)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.models import make_model


def planted(n_users: int = 200, n_items: int = 80, seed: int = 2) -> sp.csr_matrix:
    """Two taste blocks plus noise, weighted edges."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.04).astype(np.float32)
    dense[: n_users // 2, : n_items // 2] += rng.random((n_users // 2, n_items // 2)) < 0.2
    dense[n_users // 2 :, n_items // 2 :] += rng.random((n_users - n_users // 2, n_items - n_items // 2)) < 0.2
    dense *= rng.uniform(0.5, 8.0, dense.shape).astype(np.float32)
    return sp.csr_matrix(dense)


ADDITIVE = [
    ("ease", {}),
    ("ease_recency", {}),
    ("itemknn", {}),
    ("rp3beta", {}),
    ("p3alpha", {}),
    ("gfcf", {"factors": 8}),
    ("bspm", {"factors": 8}),
]


@pytest.mark.parametrize(("name", "params"), ADDITIVE)
def test_additive_parts_add_up_to_the_score(name, params):
    x = planted()
    model = make_model(name, **params).fit(x)
    assert model.additive
    items = np.arange(0, x.shape[1], 7)
    for user in (0, 57, 150):
        history, parts = model.contributions(user, items)
        np.testing.assert_array_equal(history, x[user].indices)
        np.testing.assert_allclose(parts.sum(axis=1), model.score(user)[0, items], rtol=1e-4, atol=1e-5)
        # removing the top part's item lowers the score by exactly that part
        r = int(np.argmax(parts.max(axis=1)))
        j = int(np.argmax(parts[r]))
        row = x[user].tolil()
        row[0, history[j]] = 0
        after = model.score_history(sp.csr_matrix(row), items[[r]])[0, 0]
        assert after == pytest.approx(model.score(user)[0, items[r]] - parts[r, j], rel=1e-3, abs=1e-5)


def test_ials_parts_are_the_exact_leave_one_out_drops_of_the_folded_in_score():
    x = planted()
    model = make_model("ials", factors=8, iterations=12, regularization=1.0, random_state=0).fit(x)
    items = np.arange(0, x.shape[1], 5)
    for user in (3, 120):
        history, parts = model.contributions(user, items)
        folded = model.score_history(x[user], items)[0]
        for j in (0, len(history) // 2, len(history) - 1):
            row = x[user].tolil()
            row[0, history[j]] = 0
            without = model.score_history(sp.csr_matrix(row), items)[0]
            np.testing.assert_allclose(parts[:, j], folded - without, rtol=1e-3, atol=1e-5)
        trained = model.score(user)[0]
        everything = model.score_history(x[user], np.arange(x.shape[1]))[0]
        assert np.corrcoef(everything, trained)[0, 1] > 0.99  # the CG solution the model keeps is near the exact one


def test_models_without_reasons_of_their_own_say_so():
    x = planted(60, 30)
    model = make_model("popularity").fit(x)
    assert model.contributions(0, np.arange(5)) is None
    assert model.score_history(x[0], np.arange(5)) is None


@pytest.mark.parametrize("name", ["lightgcn", "residual_gcn"])
def test_graph_network_parts_are_the_drops_without_each_edge(name):
    from uig_core.models import _gcn

    x = planted(60, 30)
    model = make_model(name, epochs=3, random_state=0).fit(x)
    assert model.score_history(x[0], np.arange(5)) is None  # no user vector for an arbitrary history
    items = np.arange(0, 30, 4)
    user = 7
    history, parts = model.contributions(user, items)
    weights = x[user].toarray()[0]
    assert set(history) <= set(x[user].indices) and len(history) == min(_gcn.LOO_HISTORY, x[user].nnz)
    assert weights[history].min() >= np.sort(weights[x[user].indices])[::-1][len(history) - 1]  # the heaviest
    # one removal by hand: the user's row without its heaviest item, the graph re-propagated
    j = int(np.argmax(weights))
    without = x.tolil()
    without[user, j] = 0
    import torch

    enc = model._encoder(*x.shape, None, None)
    enc.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in model.params_.items()})
    enc.eval()
    with torch.no_grad():
        users_emb, items_emb = model._final(enc, model._adjacency(sp.csr_matrix(without), None))
    expected = model.score(user)[0, items] - users_emb[user] @ items_emb[items].T
    np.testing.assert_allclose(parts[:, list(history).index(j)], expected, rtol=1e-3, atol=1e-5)
    big = make_model(name, epochs=1).fit(x)
    big.params_ = {}
    assert big.contributions(0, items) is None  # a model saved without its encoder weights


def test_every_recommendation_of_a_demo_build_carries_its_model_s_because(demo_ws):
    from uig_core.build.bundle import Bundle

    bundle = Bundle.load(demo_ws, "demo")
    users = [str(u) for u in bundle.users["user_id"].iloc[5::500]]
    for name in bundle.model_names:
        for user in users:
            recs = bundle.recommend(user, k=10, model=name)
            assert recs and all(r["reason"] for r in recs)
            if name == "popularity":
                assert all(r["reason_kind"] == "popular" and "shoppers" in r["reason"] for r in recs)
                continue
            for r in recs:
                assert r["because"], (name, user, r)
                shares = [b["share"] for b in r["because"]]
                assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0 + 1e-6
                assert r["because"][0]["title"] in r["reason"]
                assert r["because"][0]["event"] in ("view", "click", "fav", "cart", "purchase")


def test_lm_gcn_explains_itself_and_keeps_what_it_needs_across_save_and_load(tmp_path):
    from uig_core.models import load_model

    x = planted(60, 30)
    feats = np.random.default_rng(1).standard_normal((30, 16)).astype(np.float32)
    model = make_model("lm_gcn", epochs=2, random_state=0).fit(x, item_features=feats)
    items = np.arange(0, 30, 3)
    history, parts = model.contributions(5, items)
    assert len(history) and np.isfinite(parts).all() and (parts != 0).any()
    again = load_model(model.save(tmp_path / "lm"))
    history2, parts2 = again.contributions(5, items)
    np.testing.assert_array_equal(history2, history)
    np.testing.assert_allclose(parts2, parts, rtol=1e-4, atol=1e-6)
