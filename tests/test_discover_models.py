"""A discover evaluation lists discover models only: a next-purchase model without pair events ranks as its
item-kNN part, so a discover table that named it (a build's model list does) showed item-kNN's figures twice.
The next-purchase task keeps it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_next_purchase import T0, funnel_log

from uig_core.errors import ConfigError
from uig_core.evaluation.next_purchase import next_purchase_split
from uig_core.evaluation.protocol import temporal_split
from uig_core.evaluation.run import evaluate_all
from uig_core.models import make_model

CUTOFF = T0 + pd.Timedelta(days=20)


def test_recent_funnel_without_pair_events_ranks_as_itemknn():
    """The premise of leaving it out: with no pair events its top lists are item-kNN's, item for item."""
    split = temporal_split(funnel_log(new_items=True), CUTOFF)
    knn = make_model("itemknn").fit(split.train)
    funnel = make_model("recent_funnel").fit(split.train)
    users = np.arange(min(10, split.train.shape[0]))
    knn_items, _ = knn.recommend(users, k=10)
    funnel_items, _ = funnel.recommend(users, k=10)
    assert np.array_equal(np.asarray(knn_items), np.asarray(funnel_items))


def test_a_named_next_purchase_model_is_left_out_of_a_discover_evaluation():
    split = temporal_split(funnel_log(new_items=True), CUTOFF)
    result = evaluate_all(split, names=["itemknn", "recent_funnel", "recent_unbought", "popularity"])
    assert set(result["models"]) == {"itemknn", "popularity"}
    with pytest.raises(ConfigError, match="--task next_purchase"):
        evaluate_all(split, names=["recent_funnel"])


def test_the_next_purchase_evaluation_keeps_it():
    split, side = next_purchase_split(funnel_log(), CUTOFF)
    result = evaluate_all(split, names=["itemknn", "recent_funnel"], events=side)
    assert set(result["models"]) == {"itemknn", "recent_funnel"}
    assert result["models"]["recent_funnel"]["recall@20"] > result["models"]["itemknn"]["recall@20"]
