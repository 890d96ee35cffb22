"""A large log's validation runs on seeded user samples (``Split.with_test_sample`` / ``with_train_sample``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.evaluation.protocol import Split


def _split(n_users: int = 50, n_items: int = 12, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    train = sp.csr_matrix((rng.random((n_users, n_items)) < 0.4).astype(np.float32))
    test = np.zeros((n_users, n_items), dtype=np.float32)
    test[::2, 0] = 1.0  # every second user has one test pair: 25 test users
    return Split(
        train=train,
        test=sp.csr_matrix(test),
        user_ids=pd.Index([f"u{i}" for i in range(n_users)]),
        item_ids=pd.Index([f"i{j}" for j in range(n_items)]),
    )


def test_test_sample_keeps_n_test_users_the_same_for_the_same_seed() -> None:
    split = _split()
    a, b, c = split.with_test_sample(10, 3), split.with_test_sample(10, 3), split.with_test_sample(10, 4)
    assert len(a.test_users) == 10 and set(a.test_users) <= set(split.test_users)
    assert (a.test_users == b.test_users).all() and not (a.test_users == c.test_users).all()
    assert (a.train != split.train).nnz == 0  # training untouched
    assert a.protocol["test_users_sampled"] == [10, 25]
    assert split.with_test_sample(25, 0) is split  # nothing to sample


def test_train_sample_keeps_every_judged_user_and_empties_the_rest() -> None:
    split = _split().with_test_sample(10, 3)
    sampled = split.with_train_sample(20, 3)
    kept = np.flatnonzero(np.diff(sampled.train.indptr))
    judged = np.intersect1d(split.test_users, np.flatnonzero(np.diff(split.train.indptr)))
    assert len(kept) == 20 and set(judged) <= set(kept)  # every judged user with training pairs
    assert sampled.train.shape == split.train.shape  # item columns and user rows stay
    for row in kept:  # a kept user's row is unchanged
        assert (sampled.train[row] != split.train[row]).nnz == 0
    assert sampled.protocol["train_users_sampled"] == [20, int((np.diff(split.train.indptr) > 0).sum())]
    assert (sampled.test != split.test).nnz == 0
