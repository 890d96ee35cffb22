"""The one ranking rule (``models/_topk.py``): both paths give a full sort's lists, ties at the cut included."""

from __future__ import annotations

import numpy as np
import pytest

from uig_core.models import _topk
from uig_core.models._topk import topk


def _planted(seed: int, n: int = 64, m: int = 20_000) -> np.ndarray:
    """Scores with every hard case: ties across the k-th place, ties inside the list, -inf, rows of zeros."""
    rng = np.random.default_rng(seed)
    s = rng.random((n, m), dtype=np.float32)
    s[0] = 0.0  # every score tied
    s[1, :] = 0.0
    s[1, [5, 9, 13]] = 1.0  # three winners, then ties at 0 by index
    s[2] = np.round(s[2], 1)  # ties everywhere, across the 20th place
    s[3, ::2] = -np.inf  # half the row hidden
    s[4] = -np.inf
    s[4, [7, 3]] = 0.5  # two finite scores, the rest -inf by index
    s[5, 100:130] = 2.0  # 30 tied best: the 20 lowest indices win
    return s


@pytest.mark.parametrize("k", [1, 20, 100])
@pytest.mark.parametrize("seed", [0, 1])
def test_both_paths_equal_a_full_sort(seed: int, k: int) -> None:
    import torch  # noqa: F401 - imported, torch ranks blocks from TORCH_MIN_SIZE on

    s = _planted(seed)
    assert s.size >= _topk.TORCH_MIN_SIZE  # the fast path is the one under test
    full = np.array([np.lexsort((np.arange(s.shape[1]), -row))[:k] for row in s])
    fast_idx, fast_vals = topk(s, k)
    slow_idx, slow_vals = _topk._topk_numpy(s, k)
    np.testing.assert_array_equal(fast_idx, full)
    np.testing.assert_array_equal(slow_idx, full)
    np.testing.assert_array_equal(fast_vals, slow_vals)
    np.testing.assert_array_equal(fast_vals, np.take_along_axis(s, full, axis=1))


def test_known_answers_of_the_planted_rows() -> None:
    idx, _ = topk(_planted(0), 20)
    assert idx[0].tolist() == list(range(20))
    assert idx[1].tolist() == [5, 9, 13, *[i for i in range(20) if i not in (5, 9, 13)][:17]]
    assert idx[4, :2].tolist() == [3, 7] and idx[4, 2:].tolist() == [0, 1, 2, 4, 5, 6, *range(8, 20)]
    assert idx[5].tolist() == list(range(100, 120))


def test_read_only_broadcast_and_nan_blocks() -> None:
    row = np.linspace(0, 1, 30_000, dtype=np.float32)
    block = np.broadcast_to(row, (40, len(row)))  # what a popularity model returns: read-only, strides 0
    idx, _ = topk(block, 5)
    assert (idx == np.arange(29_999, 29_994, -1)).all()
    with_nan = np.array(block)
    with_nan[0, 0] = np.nan
    np.testing.assert_array_equal(topk(with_nan, 5)[0], _topk._topk_numpy(with_nan, 5)[0])
