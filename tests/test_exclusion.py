"""Risk-aware training: users the anomaly score flags are left out of the models, kept everywhere else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import copy_workspace

from uig_core.config import BuildConfig
from uig_core.errors import ConfigError
from uig_core.signals.exclusion import excluded_users, without_rows

REPO = Path(__file__).resolve().parents[1]


def test_only_users_at_or_above_the_threshold_are_left_out():
    users = pd.DataFrame({"user_id": list("abcde"), "anomaly_score": [0.1, 0.5, 0.49, np.nan, 0.9]})
    assert excluded_users(users, BuildConfig()).tolist() == []  # off by default
    assert excluded_users(users, BuildConfig(exclude_anomalous=True)).tolist() == [1, 4]
    assert excluded_users(users, BuildConfig(exclude_anomalous=True, anomaly_threshold=0.95)).tolist() == []
    assert excluded_users(users.drop(columns="anomaly_score"), BuildConfig(exclude_anomalous=True)).tolist() == []


def test_without_rows_empties_rows_and_keeps_the_shape():
    x = sp.csr_matrix(np.arange(1, 13, dtype=np.float32).reshape(4, 3))
    out = without_rows(x, np.array([1, 3]))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.diff(out.indptr).tolist() == [3, 0, 3, 0]
    np.testing.assert_array_equal(out[[0, 2]].toarray(), x[[0, 2]].toarray())
    assert without_rows(x, np.array([], dtype=np.int64)) is x


@pytest.mark.parametrize("bad", [0, 0.0, 1.5, -0.2, "high"])
def test_threshold_out_of_range_is_refused(bad):
    with pytest.raises(ConfigError, match="anomaly_threshold"):
        BuildConfig(exclude_anomalous=True, anomaly_threshold=bad)


@pytest.mark.slow
def test_demo_build_leaves_the_planted_bots_out_of_training(demo_workspace, tmp_path):
    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.store.workspace import Workspace

    ws = Workspace(copy_workspace(demo_workspace, tmp_path / "ws"))
    meta = build(ws, "demo", BuildConfig(exclude_anomalous=True))
    truth = json.loads((REPO / "demo_data" / "ground_truth.json").read_text())
    bots = set(truth["bots"])
    bundle = Bundle.load(ws, "demo")
    users = bundle.users["user_id"].astype(str)
    model = bundle.model()
    left_out = set(users[np.diff(model.interactions_.indptr) == 0]) - set(
        users[np.diff(bundle.interactions.indptr) == 0]
    )
    assert meta["excluded_users"] == len(left_out) > 0
    assert len(left_out & bots) >= 0.9 * len(bots)  # at least 90 % of the planted bots
    assert len(left_out - bots) <= 0.02 * (len(users) - len(bots))  # at most 2 % of everyone else
    assert len(bundle.users) == len(users) and bots <= set(users)  # still in the workspace and the graph
    assert meta["build_id"] != Workspace(demo_workspace).dataset("demo").current_build  # a setting of its own
