"""Evaluation protocol and metrics on hand-computed toy cases; OR-30d reproduction when the data is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.evaluation.metrics import gini, ranking_metrics
from uig_core.evaluation.protocol import interaction_weights, load_gowalla, temporal_split
from uig_core.evaluation.run import evaluate_all, evaluate_models
from uig_core.models import make_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OR_CSV = DATA / "online_retail" / "online_retail.csv.gz"


# ---------------------------------------------------------------------------------------------- metrics
def toy_metrics() -> dict[str, float]:
    # item counts: items 2, 3, 5 are cold (< 5 train interactions); the head (top 20% = 2 items) is {0, 1}
    counts = np.array([10, 10, 3, 1, 10, 0])
    top = np.array([[0, 2, 4], [1, 3, 0], [4, 5, 1], [0, 1, 2]])
    test = sp.csr_matrix(
        np.array(
            [
                [0, 0, 1, 0, 0, 1],  # hit at rank 2 of 2 test items
                [0, 1, 0, 0, 0, 0],  # hit at rank 1
                [0, 0, 0, 1, 0, 0],  # miss
                [0, 0, 0, 0, 0, 0],  # no test items: not counted
            ],
            dtype=np.float32,
        )
    )
    return ranking_metrics(top, test, counts, k=3)


def test_recall_ndcg_hitrate_by_hand() -> None:
    m = toy_metrics()
    assert m["users"] == 3
    assert m["recall@3"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    ndcg_user0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))  # ideal DCG over min(|test|=2, K)
    assert m["ndcg@3"] == pytest.approx((ndcg_user0 + 1.0 + 0.0) / 3)
    assert m["hitrate@3"] == pytest.approx(2 / 3)
    assert m["precision@3"] == pytest.approx(2 / 9)


def test_coverage_gini_long_tail_by_hand() -> None:
    m = toy_metrics()  # the 3 counted users expose items 0,2,4 / 1,3,0 / 4,5,1
    assert m["coverage"] == pytest.approx(1.0)
    assert m["gini"] == pytest.approx(1 / 6)  # exposures [1,1,1,2,2,2]
    assert m["long_tail_share"] == pytest.approx(5 / 9)  # head {0, 1} gets 4 of 9 slots


def test_cold_slice_by_hand() -> None:
    m = toy_metrics()  # user 0: cold test {2, 5}, hits {2}; user 2: cold test {3}, no hit
    assert m["cold_users"] == 2
    assert m["cold_recall@3"] == pytest.approx((0.5 + 0.0) / 2)


def test_gini_extremes() -> None:
    assert gini(np.array([3, 3, 3, 3])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 4])) == pytest.approx(0.75)
    assert gini(np.zeros(5)) == 0.0


def test_empty_slots_never_hit() -> None:
    test = sp.csr_matrix(np.array([[1, 0, 0]], dtype=np.float32))
    m = ranking_metrics(np.array([[-1, -1]]), test, np.array([5, 5, 5]), k=2)
    assert m["recall@2"] == 0.0 and m["coverage"] == 0.0


# ---------------------------------------------------------------------------------------------- protocol
def toy_log() -> pd.DataFrame:
    rows = [
        ("u1", "A", "purchase", "2021-01-01", 1.0, 1),
        ("u1", "B", "purchase", "2021-01-02", 1.0, 1),
        ("u1", "A", "return", "2021-01-03", 1.0, -1),
        ("u1", "E", "purchase", "2021-01-04", 0.0, 1),  # price 0: not a positive
        ("u2", "C", "purchase", "2021-01-05", 2.0, 1),
        ("u2", "B", "view", "2021-01-06", None, None),  # positive, makes (u2, B) a train pair
        ("u2", "A", "purchase", "2021-01-11", 1.0, 1),  # test
        ("u1", "C", "purchase", "2021-01-12", 2.0, 1),  # test
        ("u3", "A", "purchase", "2021-01-12", 1.0, 1),  # new user
        ("u2", "C", "purchase", "2021-01-12", 2.0, 1),  # repeat of a train pair: not a new pair
        ("u2", "B", "purchase", "2021-01-13", 1.0, 1),  # first purchase after the cutoff, but in train
        ("u1", "D", "purchase", "2021-01-15", 1.0, 1),  # new item
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts", "price", "quantity"])
    frame["ts"] = pd.to_datetime(frame["ts"])
    return frame


def test_protocol_counts_on_toy_log() -> None:
    split = temporal_split(toy_log(), "2021-01-10")
    p = split.protocol
    assert list(split.user_ids) == ["u1", "u2"] and list(split.item_ids) == ["A", "B", "C"]
    assert p["cutoff"] == "2021-01-10" and p["target_event"] == "purchase"
    assert p["positive_events"] == 10
    assert p["interactions"] == 8
    assert p["train_pairs"] == 4  # (u1,A) (u1,B) (u2,C) (u2,B)
    assert p["pairs_after_cutoff"] == 5
    assert (p["dropped_new_user"], p["dropped_new_item"], p["dropped_seen_in_train"]) == (1, 1, 1)
    assert p["test_pairs"] == 2 and p["test_users"] == 2
    assert p["cold_test_pairs"] == 2
    test = {(split.user_ids[r], split.item_ids[c]) for r, c in zip(*split.test.nonzero(), strict=True)}
    assert test == {("u1", "C"), ("u2", "A")}


def test_train_weights_are_strongest_recent_event() -> None:
    split = temporal_split(toy_log(), "2021-01-10", half_life_days=60.0)
    w = split.train.toarray()
    assert w[0, 0] == pytest.approx(8.0 * 0.5 ** (9 / 60), rel=1e-5)  # (u1, A) bought 9 days before the cutoff
    assert w[1, 1] == pytest.approx(1.0 * 0.5 ** (4 / 60), rel=1e-5)  # (u2, B) viewed only
    x = interaction_weights(toy_log(), pd.Index(["u2"]), pd.Index(["C"]), half_life_days=None)
    assert x.toarray().tolist() == [[8.0]]  # max of two purchases, not their sum


def test_default_cutoff_is_midnight_minus_30_days() -> None:
    log = toy_log()
    log.loc[len(log)] = ["u1", "B", "purchase", pd.Timestamp("2021-02-20 15:30"), 1.0, 1]
    assert temporal_split(log).protocol["cutoff"] == "2021-01-21"


def test_split_errors() -> None:
    with pytest.raises(ConfigError, match="lack column"):
        temporal_split(pd.DataFrame({"user_id": ["a"]}))
    with pytest.raises(ConfigError, match="no positive event before the cutoff"):
        temporal_split(toy_log(), "2020-01-01")


def test_evaluate_models_shape_and_skip() -> None:
    split = temporal_split(toy_log(), "2021-01-10")
    result = evaluate_models(
        {"popularity": make_model("popularity"), "ease": make_model("ease", max_items=1)}, split, k=2
    )
    assert result["protocol"]["k"] == 2
    pop = result["models"]["popularity"]
    for key in (
        "recall@2",
        "ndcg@2",
        "hitrate@2",
        "coverage",
        "gini",
        "long_tail_share",
        "cold_recall@2",
        "fit_seconds",
    ):
        assert key in pop
    assert "EASE refuses 3 items" in result["models"]["ease"]["skipped"]
    assert result["default"] == "popularity"


def test_evaluate_all_runs_every_model_or_says_why() -> None:
    split = temporal_split(toy_log(), "2021-01-10")
    result = evaluate_all(split, k=2, names=["popularity", "itemknn", "lm_gcn"])
    assert set(result["models"]) == {"popularity", "itemknn", "lm_gcn"}
    assert "lm_gcn needs item_features" in result["models"]["lm_gcn"]["skipped"]


def test_load_gowalla_format(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0\n")
    (tmp_path / "test.txt").write_text("0 3\n1 2\n")
    split = load_gowalla(tmp_path)
    assert split.train.shape == (2, 4)
    assert split.train.toarray().tolist() == [[0, 1, 1, 0], [1, 0, 0, 0]]
    assert split.test.toarray().tolist() == [[0, 0, 0, 1], [0, 0, 1, 0]]
    assert split.protocol["test_pairs"] == 2
    with pytest.raises(ConfigError, match="no train.txt"):
        load_gowalla(tmp_path / "missing")


# ---------------------------------------------------------------------------------------------- real data
def online_retail_events() -> pd.DataFrame:
    """The canonical events frame of Online Retail (what ``uig ingest`` with the issue's mapping produces)."""
    raw = pd.read_csv(OR_CSV, dtype={"InvoiceNo": str, "StockCode": str, "Description": str})
    raw = raw[raw["StockCode"].str.match(r"^\d{5}[A-Za-z]{0,2}$") & raw["CustomerID"].notna()]
    return pd.DataFrame(
        {
            "user_id": raw["CustomerID"].astype("int64").astype(str),
            "item_id": raw["StockCode"],
            "event": np.where(raw["Quantity"] < 0, "return", "purchase"),
            "ts": pd.to_datetime(raw["InvoiceDate"]),
            "item_title": raw["Description"],
            "price": raw["UnitPrice"].astype(float),
            "quantity": raw["Quantity"].astype(float),
            "order_id": raw["InvoiceNo"],
        }
    )


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.skipif(not OR_CSV.exists(), reason="../shared/data/online_retail is absent")
def test_or30d_protocol_and_ease_reference() -> None:
    split = temporal_split(online_retail_events())
    p = split.protocol
    assert p["cutoff"] == "2011-11-09"
    assert (p["train_users"], p["train_items"], p["train_pairs"]) == (4063, 3618, 230662)
    assert (p["test_users"], p["test_pairs"]) == (1287, 26458)
    result = evaluate_models({"ease": make_model("ease", l2=500.0)}, split)
    ease = result["models"]["ease"]
    assert ease["recall@20"] == pytest.approx(0.1062, abs=0.0005)
    assert ease["ndcg@20"] == pytest.approx(0.1048, abs=0.0005)


# ---------------------------------------------------------------------------------------------- demo workspace
@pytest.mark.slow
def test_evaluate_dataset_on_demo(demo_ws) -> None:
    """``uig evaluate``'s engine on the planted demo shop: the default model beats popularity."""
    from uig_core.evaluation.run import evaluate_dataset
    from uig_core.models import DEFAULT_MODEL

    seen: list[float] = []
    result = evaluate_dataset(
        demo_ws, "demo", names=["popularity", DEFAULT_MODEL], progress=lambda f, m: seen.append(f)
    )
    from uig_core.build.layout import read_meta

    assert result["default"] == read_meta(demo_ws.build_dir("demo"))["default_model"]  # the build's choice
    assert result["protocol"]["dataset"] == "demo" and result["protocol"]["test_pairs"] > 0
    assert result["protocol"]["task"] == "discover"
    ours, pop = result["models"][DEFAULT_MODEL], result["models"]["popularity"]
    assert ours["recall@20"] > pop["recall@20"]
    assert seen and max(seen) == pytest.approx(1.0)


def test_cold_only_recalls_rank_only_cold_items_per_user() -> None:
    """Popularity among cold items (train counts 1, 2, 3 for items 2, 3, 4) with k=1 always picks item 4."""
    from uig_core.evaluation.metrics import cold_only_metrics, cold_only_recalls
    from uig_core.evaluation.protocol import Split

    n_users, n_items = 8, 5
    train = np.zeros((n_users, n_items), dtype=np.float32)
    train[:, 0] = 1  # warm: 8 interactions
    train[:6, 1] = 1  # warm: 6
    train[0, 2] = 1  # cold: 1
    train[[0, 1], 3] = 1  # cold: 2
    train[[0, 1, 2], 4] = 1  # cold: 3
    test = np.zeros_like(train)
    test[3, 4] = 1  # hit: the cold top-1 for an unseen user
    test[4, 2] = 1  # miss
    test[5, [3, 4]] = 1  # half
    test[6, 1] = 1  # only a warm test item: not in the slice
    split = Split(sp.csr_matrix(train), sp.csr_matrix(test), pd.Index(range(n_users)), pd.Index(range(n_items)))
    counts = train.sum(axis=0).astype(int)
    model = make_model("popularity").fit(split.train)
    users, recalls = cold_only_recalls(model, split, counts, k=1)
    assert users.tolist() == [3, 4, 5]
    assert recalls.tolist() == [1.0, 0.0, 0.5]
    assert cold_only_metrics(model, split, counts, k=1)["cold_only_recall@1"] == pytest.approx(0.5)
    # seen items are masked: user 1 saw the two most popular cold items, so its cold top-1 is item 2
    test2 = np.zeros_like(train)
    test2[1, 2] = 1
    split2 = Split(sp.csr_matrix(train), sp.csr_matrix(test2), split.user_ids, split.item_ids)
    assert cold_only_recalls(model, split2, counts, k=1)[1].tolist() == [1.0]


def test_sampled_test_users_keep_train_and_record_the_sample():
    split = temporal_split(toy_log(), "2021-01-10")
    n = len(split.test_users)
    assert n >= 2
    small = split.sample_users(1, seed=3)
    assert len(small.test_users) == 1 and set(small.test_users) <= set(split.test_users)
    assert (small.train != split.train).nnz == 0
    assert small.protocol["test_users_evaluated"] == 1
    assert split.sample_users(n) is split  # nothing to sample
