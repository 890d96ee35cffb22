"""The living graph: a new batch appended with ``uig ingest --append-to`` updates the build incrementally.

The demo log is cut in time: the first 85% is ingested and built, the rest arrives as a CSV batch. The update must
add the new users and items, embed only the new item texts, keep the interests of known items, warm-start the
model (EASE keeps its chosen λ), refresh drift scores, record rows added and quality figures in the history, and
roll back in one action.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tests.conftest import copy_workspace
from uig_core.build import history as builds
from uig_core.build.bundle import Bundle
from uig_core.build.pipeline import build
from uig_core.cli.main import main
from uig_core.config import BuildConfig
from uig_core.store.workspace import Workspace


@pytest.fixture(scope="module")
def updated(demo_workspace, tmp_path_factory):
    root = copy_workspace(demo_workspace, tmp_path_factory.mktemp("incr") / "ws")
    shutil.rmtree(root / "artifacts" / "embeddings", ignore_errors=True)  # so the base build embeds its own texts
    ws = Workspace(root)
    events = ws.load_events("demo")
    cut = events["ts"].quantile(0.85)
    base, batch = events[events["ts"] < cut], events[events["ts"] >= cut]
    ws.add_dataset("shop", base.reset_index(drop=True), source="test")
    before = build(ws, "shop", BuildConfig(model="ease_recency"))  # EASE: its λ must carry over to the update
    path = root.parent / "batch.csv"
    batch.to_csv(path, index=False)
    code = main(["ingest", str(path), "--append-to", "shop", "--workspace", str(root), "--json"])
    assert code == 0
    return ws, base, batch, before, Bundle.load(ws, "shop")


def test_update_is_incremental_and_adds_new_users_and_items(updated) -> None:
    ws, base, batch, before, bundle = updated
    meta = bundle.meta
    assert meta["incremental_from"] == before["build_id"] and bundle.build_id.endswith("i")
    new_users = set(batch["user_id"]) - set(base["user_id"])
    new_items = set(batch["item_id"]) - set(base["item_id"])
    assert new_users and new_items, "the demo batch should bring new users and items"
    assert new_users <= set(bundle.user_index) and new_items <= set(bundle.item_index)
    assert meta["counts"]["events"] == len(base) + len(batch)
    assert meta["rows_added"] == len(batch)


def test_only_new_item_texts_are_embedded(updated) -> None:
    _, base, batch, before, bundle = updated
    new_items = set(batch["item_id"]) - set(base["item_id"])
    new_titles = batch.loc[batch["item_id"].isin(new_items), "item_title"].dropna().str.split().str.join(" ")
    known_titles = set(base["item_title"].dropna().str.split().str.join(" "))
    assert 0 < bundle.meta["counts"]["newly_embedded"] <= len(set(new_titles) - known_titles)
    assert before["counts"]["newly_embedded"] > bundle.meta["counts"]["newly_embedded"]


def test_known_items_keep_their_interests_and_new_ones_get_one(updated) -> None:
    ws, base, batch, before, bundle = updated
    old = Bundle(ws.build_root(ws.dataset("shop")) / before["build_id"]).items.set_index("item_id")["interest_id"]
    now = bundle.items.set_index("item_id")["interest_id"]
    pd.testing.assert_series_equal(now.reindex(old.index), old, check_names=False)
    new_items = list(set(batch["item_id"]) - set(base["item_id"]))
    assert (now.reindex(new_items) >= 0).all()
    # New items join the interest of their planted theme's old items, mostly.
    theme = base.drop_duplicates("item_id").set_index("item_id")["category"]
    new_theme = batch.drop_duplicates("item_id").set_index("item_id")["category"].reindex(new_items)
    majority = (
        pd.Series(old.to_numpy(), index=old.index)
        .groupby(theme.reindex(old.index))
        .agg(lambda s: s.value_counts().idxmax())
    )
    agree = (now.reindex(new_items).to_numpy() == majority.reindex(new_theme.to_numpy()).to_numpy()).mean()
    assert agree >= 0.8, f"only {agree:.0%} of new items joined their theme's interest"


def test_model_is_warm_started_and_drift_refreshed(updated) -> None:
    ws, base, batch, before, bundle = updated
    previous = Bundle(ws.build_root(ws.dataset("shop")) / before["build_id"])
    assert bundle.model().l2_ == previous.model().l2_  # λ carried over, not searched again
    new_users = list(set(batch["user_id"]) - set(base["user_id"]))
    users = bundle.users.set_index("user_id")
    assert users.loc[new_users, "drift_score"].notna().all()
    rows = bundle.user_index.get_indexer(new_users[:5])
    items, _ = bundle.model().recommend(rows, k=5)
    assert (items >= 0).all()


def test_history_shows_rows_added_and_quality_and_rolls_back(updated) -> None:
    ws, base, batch, before, bundle = updated
    history, previous = builds.build_history(ws, "shop")
    assert previous == before["build_id"]
    top = history.iloc[0]
    assert top["current"] and top["kind"] == "incremental" and top["rows added"] == len(batch)
    assert 0.0 < top["next-batch R@20"] <= 1.0  # the previous build predicted part of the batch
    assert history.iloc[1]["validation R@20"] > 0
    restored = builds.rollback(ws, "shop")
    assert restored == before["build_id"] and ws.dataset("shop").current_build == restored
    assert Bundle.load(ws, "shop").build_id == restored
    assert not np.isnan(history["seconds"]).any()


def test_cli_rollback_to_a_named_build_and_back(updated, capsys) -> None:
    ws, base, batch, before, bundle = updated
    root = str(ws.root)
    assert main(["rollback", "--dataset", "shop", "--to", bundle.build_id, "--workspace", root]) == 0
    assert ws.dataset("shop").current_build == bundle.build_id
    assert main(["rollback", "--dataset", "shop", "--workspace", root]) == 0  # default: the build before
    assert ws.dataset("shop").current_build == before["build_id"]
    capsys.readouterr()
    assert main(["rollback", "--dataset", "shop", "--workspace", root]) == 2  # the first build has none before it
    assert "no earlier build" in capsys.readouterr().err
    assert ws.dataset("shop").current_build == before["build_id"]
