"""``recent_funnel``'s whole-grid ranking equals ranking the model once per setting (the build's validation).

Random multi-behaviour data: every user has bought, viewed and carted pairs of random ages, so the funnel term
reorders the kNN lists differently under each setting; the grid path must give exactly the same lists.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.evaluation.metrics import top_lists
from uig_core.evaluation.next_purchase import PairEvents
from uig_core.models import make_model, model_class


def _random_funnel(seed: int, n_users: int = 300, n_items: int = 120):
    rng = np.random.default_rng(seed)
    x = sp.random(n_users, n_items, density=0.12, format="csr", random_state=seed, dtype=np.float32)
    x.data[:] = 1.0
    unbought = x.multiply(rng.random(x.shape) < 0.5).tocsr()
    unbought.eliminate_zeros()
    bought = (x - unbought).tocsr()
    bought.eliminate_zeros()
    code = unbought.copy().astype(np.int8)
    code.data = rng.integers(1, 5, size=len(code.data)).astype(np.int8)  # view, click, fav, cart
    age = unbought.copy()
    age.data = rng.uniform(0.0, 40.0, size=len(age.data)).astype(np.float32)
    return x, PairEvents(bought, code, age)


@pytest.mark.parametrize("seed", [0])
@pytest.mark.parametrize("hide_kind", ["bought", "train"])
def test_grid_lists_equal_one_ranking_per_setting(seed: int, hide_kind: str) -> None:
    x, side = _random_funnel(seed)
    model = make_model("recent_funnel").fit(x, events=side)
    hide = side.bought if hide_kind == "bought" else x
    users = np.arange(x.shape[0])
    grid = model_class("recent_funnel").param_grid
    settings = [dict(zip(grid, v, strict=True)) for v in itertools.product(*grid.values())]
    tops = model.grid_top_lists(users, hide, settings, k=20)
    assert len(tops) == len(settings)
    differ = 0
    for setting, top in zip(settings, tops, strict=True):
        model.set_params(**setting)
        expected = top_lists(model, users, hide, 20)
        np.testing.assert_array_equal(top, expected)
        differ += int(not np.array_equal(top, tops[0]))
    if hide_kind == "bought":  # the unbought pairs compete: the settings really reorder the lists
        assert differ >= len(settings) // 2
    else:  # every touched pair is hidden, so the funnel term never counts
        assert differ == 0
