"""Title memory of lm_gcn: whitening removes the shared direction of title embeddings; the memory is a max cosine."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.models import _text_memory, make_model
from uig_core.models._text_memory import title_memory, title_memory_of_items, whitened_text


def two_families(seed: int = 0) -> np.ndarray:
    """20 + 20 item vectors sharing one big common direction (anisotropic, like raw title embeddings)."""
    rng = np.random.default_rng(seed)
    d = 16
    common, fam_a, fam_b = np.eye(d)[0] * 3.0, np.eye(d)[1], np.eye(d)[2]
    f = np.vstack(
        [common + fam_a + rng.normal(scale=0.15, size=(20, d)), common + fam_b + rng.normal(scale=0.15, size=(20, d))]
    ).astype(np.float32)
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def mean_cos(v: np.ndarray, rows: slice, cols: slice) -> float:
    c = v[rows] @ v[cols].T
    if rows == cols:
        c = c[~np.eye(len(c), dtype=bool)]
    return float(c.mean())


def test_whitening_separates_what_the_shared_direction_hid() -> None:
    raw = two_families()
    assert mean_cos(raw, slice(0, 20), slice(20, 40)) > 0.75  # raw: every pair looks alike
    w = whitened_text(raw, dims=2)  # the top directions: the family axis first (noise spreads over the rest)
    assert w.shape == (40, 2)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, rtol=1e-5)
    assert mean_cos(w, slice(0, 20), slice(0, 20)) > 0.3
    assert mean_cos(w, slice(0, 20), slice(20, 40)) < mean_cos(w, slice(0, 20), slice(0, 20)) - 0.5


def test_items_without_text_stay_zero_and_dims_are_capped() -> None:
    f = two_families()
    f[[3, 25]] = 0.0
    w = whitened_text(f, dims=500)
    assert w.shape == (40, 16)
    assert not w[[3, 25]].any()
    assert whitened_text(np.zeros((5, 4), dtype=np.float32), dims=8).any() == False  # noqa: E712


def test_title_memory_is_the_max_cosine_to_the_users_items(monkeypatch: pytest.MonkeyPatch) -> None:
    text = whitened_text(two_families(1), dims=4)
    rng = np.random.default_rng(0)
    hist = sp.random(6, 40, density=0.2, random_state=1, format="csr", dtype=np.float32)
    hist = sp.vstack([hist, sp.csr_matrix((1, 40), dtype=np.float32)]).tocsr()  # user 6 has no history
    expected = np.zeros((7, 40), dtype=np.float32)
    for u in range(6):
        items = hist[u].indices
        if len(items):
            expected[u] = (text @ text[items].T).max(axis=1)
    users = rng.permutation(7)
    np.testing.assert_allclose(title_memory(text, hist, users), expected[users], rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(_text_memory, "_CHUNK", 2)  # long histories are compared in chunks
    np.testing.assert_allclose(title_memory(text, hist, users), expected[users], rtol=1e-5, atol=1e-6)
    assert not title_memory(text, hist, np.array([6])).any()


def test_lm_gcn_adds_the_title_memory_to_its_graph_score() -> None:
    """Training ignores the memory, so two seeds-equal models differ by exactly weight × memory."""
    f = two_families(2)
    rng = np.random.default_rng(3)
    dense = np.zeros((30, 40), dtype=np.float32)
    for u in range(30):
        block = np.arange(20) if u < 15 else np.arange(20, 40)
        dense[u, rng.choice(block, size=5, replace=False)] = 1.0
    dense[:, [7, 31]] = 0.0  # one cold item per family
    x = sp.csr_matrix(dense)
    params = {"epochs": 5, "factors": 8, "validation": 0.0, "text_memory_dims": 2}
    plain = make_model("lm_gcn", text_memory=0.0, **params).fit(x, item_features=f)
    with_memory = make_model("lm_gcn", text_memory=0.5, **params).fit(x, item_features=f)
    users = np.arange(30)
    memory = title_memory(whitened_text(f, 2), x, users)
    np.testing.assert_allclose(with_memory.score(users) - plain.score(users), 0.5 * memory, atol=1e-5)
    # the cold item of a user's own family is closer in title than the other family's cold item
    assert (memory[:15, 7] > memory[:15, 31]).all() and (memory[15:, 31] > memory[15:, 7]).all()


def test_title_memory_of_a_few_items_matches_the_full_memory() -> None:
    rng = np.random.default_rng(3)
    text = rng.normal(size=(12, 5)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    text[7] = 0.0  # an item without text
    keep = sp.diags(np.array([1, 1, 1, 1, 1, 0], np.float64))  # user 5 has no history
    history = (keep @ sp.random(6, 12, density=0.3, random_state=4, format="csr")).tocsr()
    history.eliminate_zeros()
    assert history[5].nnz == 0 and history[:5].nnz > 0
    users, items = np.array([5, 0, 3, 1]), np.array([7, 2, 11])
    full = title_memory(text, history, users)[:, items]
    np.testing.assert_allclose(title_memory_of_items(text, history, users, items), full, rtol=1e-6)
