"""The lazy segment feature table: column for column the eager frame, reading only what a rule or export asks for.

A tiny real build folder (written by the build layout, its users table made by the real users-table code from a
planted log): four bakers hold the ``baking`` interest at 0.7; everyone else at 0.1.
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.build import layout
from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError, ExportRefused
from uig_core.queries import segments as seg
from uig_core.queries.feature_sources import build_features
from uig_core.queries.feature_table import FeatureTable, as_table

HOSTILE = "=cmd|' /C calc'!A0"
BAKERS = ["b1", "b2", "b3", HOSTILE]
OTHERS = [f"o{i}" for i in range(8)]
USERS = sorted(BAKERS + OTHERS)  # the users table is sorted by id
BAKING, RUNNING = "interest: baking", "interest: running"


def _log() -> pd.DataFrame:
    t = pd.Timestamp("2024-03-01 09:00")
    rows = []
    for n, user in enumerate(USERS):
        baker = user in BAKERS
        for k in range(1 + n % 3):
            rows.append((user, "jar" if baker else "shoe", "view", t + pd.Timedelta(days=n + k), 0.0, 1.0, None))
        if baker or n % 2:
            rows.append((user, "jar" if baker else "shoe", "purchase", t + pd.Timedelta(days=2 * n), 4.5, 2.0, f"o{n}"))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts", "price", "quantity", "order_id"])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from uig_core.store.frames import users_frame

    users = users_frame(_log())
    assert list(users["user_id"]) == USERS
    users["anomaly_score"] = np.linspace(0.0, 1.0, len(users))
    users["anomaly_reason"] = "none"  # text: not a rule field
    users["flagged"] = users["user_id"].isin(["o1", "o2"])  # bool: a 0/1 field
    baker = users["user_id"].isin(BAKERS).to_numpy()
    # Shares with more than 4 decimals: the table must round them as the frame does.
    profiles = np.where(baker[:, None], [0.712345, 0.287655], [0.1000049, 0.8999951]).astype(np.float32)
    folder = tmp_path_factory.mktemp("feature_build") / "b1"
    n_users, n_items = len(users), 2
    layout.write_build(
        folder,
        layout.BuildContents(
            meta={"build_id": "b1", "models": [], "default_model": None},
            frames={
                "users": users,
                "items": pd.DataFrame({"item_id": ["jar", "shoe"], "title": ["jar", "shoe"]}),
                "interests": pd.DataFrame({"interest_id": [3, 5], "name": ["baking", "running"]}),
                "interest_edges": pd.DataFrame({"source": [3], "target": [5], "weight": [1.0]}),
            },
            embeddings=np.zeros((n_items, 4)),
            centroids=np.zeros((2, 4)),
            profiles=profiles,
            profile_columns=np.array([3, 5]),
            interactions=sp.csr_matrix((n_users, n_items), dtype=np.float32),
            strongest=sp.csr_matrix((n_users, n_items), dtype=np.int8),
            models={},
        ),
    )
    return folder


def test_fields_and_kinds_come_from_the_schema_without_reading_a_column(build):
    bundle = Bundle(build)
    table = build_features(bundle)
    kinds = seg.field_kinds(table)
    assert table.columns[0] == "user_id" and len(table) == len(USERS)
    assert {BAKING, RUNNING, "spend", "recency_days", "tenure_days", "flagged", "anomaly_score"} <= set(kinds)
    assert "anomaly_reason" not in kinds and "first_seen" not in kinds
    assert set(kinds.values()) == {"number"}
    assert table.record == [] and not bundle.is_loaded("users")  # (the profiles are only mapped)


def test_every_column_equals_the_eager_frame_and_its_definition(build):
    lazy = build_features(Bundle(build))
    loaded = Bundle(build)
    loaded.users  # noqa: B018 (the eager frame from an already loaded users table: the other source path)
    eager = seg.user_features(loaded)
    assert lazy.columns == list(eager.columns)
    for col in eager.columns:
        pd.testing.assert_series_equal(lazy[col], eager[col], check_names=True)
    # The definitions, computed here independently.
    users = layout.read_frame(build, "users")
    assert lazy["user_id"].tolist() == USERS
    assert lazy["spend"].dtype == np.float64 and lazy["flagged"].tolist() == users["flagged"].astype(float).tolist()
    last = pd.to_datetime(users["last_seen"])
    assert lazy["recency_days"].tolist() == ((last.max() - last).dt.total_seconds() / 86400).round(1).tolist()
    shares = np.round(np.asarray(layout.read_array(build, "profiles"), dtype=np.float64), 4)
    assert lazy[BAKING].tolist() == shares[:, 0].tolist() and set(lazy[BAKING]) == {0.7123, 0.1}
    assert seg.field_kinds(lazy) == seg.field_kinds(eager)


def test_a_rule_on_an_interest_selects_the_planted_users_reading_only_its_columns(build):
    bundle = Bundle(build)
    table = build_features(bundle)
    spec = {"rules": [{"field": BAKING, "op": ">=", "value": 0.5}]}
    assert sorted(seg.segment_members(table, spec)) == sorted(BAKERS)
    assert table.record == [BAKING, "user_id"]
    two = {"combine": "and", "rules": [*spec["rules"], {"field": "spend", "op": ">", "value": 0}]}
    assert sorted(seg.segment_members(table, two)) == sorted(BAKERS)  # every baker bought
    summary = seg.field_summary(table["recency_days"])
    assert summary["min"] == 0.0 and summary["max"] == float(table["recency_days"].max()) > 0
    assert table.record == [BAKING, "user_id", "spend", "recency_days"]
    assert not bundle.is_loaded("users")
    rows = seg.segment_rows(table, spec)
    assert list(seg.members_at(table, rows)) == [u for u in USERS if u in BAKERS]
    with pytest.raises(ConfigError, match="not a user feature"):
        seg.evaluate_rules(table, {"rules": [{"field": "baking", "op": ">", "value": 0}]})


def test_export_reads_members_only_and_writes_the_same_bytes(build):
    table = build_features(Bundle(build))
    eager = seg.user_features(Bundle(build))
    members = seg.segment_members(table, {"rules": [{"field": BAKING, "op": ">=", "value": 0.5}]})
    data = seg.export_csv(table, members, min_size=4)
    assert data == seg.export_csv(eager, members, min_size=4)
    assert table.cached == [BAKING, "user_id"]  # the other columns were taken for the members, not kept
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["user_id"] for r in rows] == ["'" + HOSTILE, "b1", "b2", "b3"]  # neutralised, row order
    assert {r[BAKING] for r in rows} == {"0.7123"}
    some = seg.export_csv(table, members, min_size=4, columns=["spend", BAKING])
    assert some == seg.export_csv(eager, members, min_size=4, columns=["spend", BAKING])
    with pytest.raises(ExportRefused, match="at least 5"):
        seg.export_csv(table, members, min_size=5)
    with pytest.raises(ConfigError, match="unknown export column"):
        seg.export_csv(table, members, min_size=1, columns=["nope"])


def test_compare_and_extras_agree_with_the_frame(build):
    extras = pd.DataFrame({"user_id": ["b1", "o3", "o4"], "Country": ["DE", "=1+1", "FR"], "spend": [1, 2, 3]})
    labels = np.arange(len(USERS)) % 3
    table = build_features(Bundle(build), extras=extras).with_labels(labels)
    eager = seg.user_features(Bundle(build), extras=extras).assign(cluster=labels)  # what the app built
    assert table.columns == list(eager.columns) and {"Country", "extra_spend", "cluster"} <= set(table.columns)
    kinds = seg.field_kinds(table)
    assert kinds["Country"] == "category" and kinds["extra_spend"] == "number" and kinds["cluster"] == "category"
    a = {"rules": [{"field": BAKING, "op": ">=", "value": 0.5}]}
    b = {"rules": [{"field": "cluster", "op": "in", "value": [0, "1"]}]}
    lazy_out, eager_out = seg.compare_segments(table, a, b), seg.compare_segments(eager, a, b)
    assert lazy_out["sizes"] == eager_out["sizes"] and lazy_out["sizes"]["B"] == int((labels < 2).sum())
    pd.testing.assert_frame_equal(lazy_out["means"], eager_out["means"])
    pd.testing.assert_frame_equal(lazy_out["interests"], eager_out["interests"])
    assert lazy_out["interests"]["interest"].iat[0] == "baking"
    everyone = seg.segment_members(table, {"rules": []})
    assert seg.export_csv(table, everyone, min_size=1) == seg.export_csv(eager, everyone, min_size=1)
    assert seg.segment_members(table, {"rules": [{"field": "Country", "op": "==", "value": "FR"}]}).tolist() == ["o4"]


def test_a_labelled_table_shares_the_columns_it_reads(build):
    base = build_features(Bundle(build))
    one, two = base.with_labels(np.zeros(len(USERS))), base.with_labels(np.ones(len(USERS)))
    assert one["spend"] is not None and "spend" in base.cached
    assert np.shares_memory(one["spend"].to_numpy(), two["spend"].to_numpy())  # one copy for every labelling
    assert base.record == ["spend"]  # read once, recorded once
    assert one["cluster"].tolist() == [0] * len(USERS) and "cluster" not in base
    with pytest.raises(ConfigError, match="labels hold 3 users"):
        base.with_labels(np.zeros(3))


def test_threads_asking_for_one_column_read_it_once(build):
    table = build_features(Bundle(build))
    barrier = threading.Barrier(8)
    got = []

    def ask() -> None:
        barrier.wait()
        got.append(table[RUNNING])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert table.record == [RUNNING] and all(s is got[0] for s in got)


def test_a_plain_frame_is_seen_as_a_table():
    frame = pd.DataFrame({"user_id": ["x", "y"], "cluster": [0, 1], "n": [1.0, 2.0]}, index=[10, 20])
    table = as_table(frame)
    assert isinstance(table, FeatureTable) and table.kinds() == {"cluster": "category", "n": "number"}
    assert table["n"].index.tolist() == [0, 1] and table.take("user_id", np.array([1])).tolist() == ["y"]
    with pytest.raises(ConfigError, match="FeatureTable or a DataFrame"):
        as_table([1, 2])


def test_lookalikes_from_rows_match_lookalikes_from_ids_without_the_users_table(demo_ws):
    bundle = Bundle.load(demo_ws, "demo")
    table = build_features(bundle)
    interest = next(c for c in table.columns if c.startswith(seg.INTEREST_PREFIX))
    spec = {"rules": [{"field": interest, "op": ">=", "value": 0.3}]}
    rows = seg.segment_rows(table, spec)
    members = seg.members_at(table, rows)
    assert 0 < len(members) < len(table)
    by_rows = seg.lookalikes(bundle, members, n=20, rows=rows)
    assert not bundle.is_loaded("users")  # four columns read, not the table
    by_ids = seg.lookalikes(bundle, members, n=20)
    pd.testing.assert_frame_equal(by_rows, by_ids)
    assert not set(by_rows["user_id"]) & set(members)


def test_prefetch_gives_the_columns_one_at_a_time_gives(build, monkeypatch):
    from uig_core.queries import feature_sources

    monkeypatch.setattr(feature_sources, "_BLOCK_ROWS", 5)  # 12 users: three blocks of profile rows
    single = build_features(Bundle(build))
    labelled = build_features(Bundle(build)).with_labels(np.arange(len(USERS)) % 2)
    names = [c for c in single.columns if c != "user_id"]
    labelled.prefetch([*names, "cluster", "not a field"])
    assert sorted(labelled.record) == sorted([*names, "cluster"]) and "user_id" not in labelled.record
    for c in names:
        pd.testing.assert_series_equal(labelled[c], single[c])
    assert labelled[BAKING].tolist() == [0.7123 if u in BAKERS else 0.1 for u in USERS]
