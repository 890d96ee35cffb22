"""Workspace: datasets side by side, transactions, rename/delete, atomic artifacts."""

from __future__ import annotations

import pandas as pd
import pytest

from uig_core import atomic
from uig_core.errors import AmbiguousDataset, ConfigError, DatasetExists, DatasetNotFound, SchemaError
from uig_core.store.workspace import Workspace, data_hash


def events(n: int = 5, user: str = "u") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [f"{user}{i % 2}" for i in range(n)],
            "item_id": [f"i{i}" for i in range(n)],
            "event": ["purchase"] * n,
            "ts": pd.date_range("2024-01-01", periods=n, freq="D").astype("datetime64[us]"),
            "Country": ["UK"] * n,
        }
    )


def test_add_load_and_default_dataset(tmp_path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(DatasetNotFound, match="no dataset yet"):
        ws.dataset()
    info = ws.add_dataset("shop", events(), source="a.csv")
    assert (info.rows, info.users, info.items, info.current_build) == (5, 2, 5, None)
    assert ws.dataset().name == "shop"
    back = ws.load_events("shop")
    assert list(back["item_id"]) == [f"i{i}" for i in range(5)] and "Country" in back
    assert data_hash(back) == info.data_hash


def test_several_datasets_need_a_name_and_names_are_unique(tmp_path):
    ws = Workspace(tmp_path)
    ws.add_dataset("a", events())
    ws.add_dataset("b", events(3, "v"))
    with pytest.raises(AmbiguousDataset, match="a, b"):
        ws.dataset()
    with pytest.raises(DatasetExists):
        ws.add_dataset("a", events())
    with pytest.raises(DatasetNotFound, match="datasets: a, b"):
        ws.dataset("c")
    with pytest.raises(ConfigError, match="not allowed"):
        ws.add_dataset("../evil", events())


def test_rename_delete_keep_others(tmp_path):
    ws = Workspace(tmp_path)
    ws.add_dataset("a", events())
    ws.add_dataset("b", events(3, "v"))
    ws.rename_dataset("a", "renamed")
    assert [d.name for d in ws.datasets()] == ["renamed", "b"]
    ws.delete_dataset("renamed")
    assert [d.name for d in ws.datasets()] == ["b"]
    assert len(ws.load_events("b")) == 3


def test_failed_add_leaves_nothing_behind(tmp_path, monkeypatch):
    import uig_core.store.workspace as wsmod

    ws = Workspace(tmp_path)
    ws.add_dataset("keep", events())

    def boom(frame):  # fails after the events table was created inside the transaction
        raise RuntimeError("killed mid-way")

    monkeypatch.setattr(wsmod, "data_hash", boom)
    with pytest.raises(RuntimeError):
        ws.add_dataset("broken", events())
    monkeypatch.undo()
    assert [d.name for d in ws.datasets()] == ["keep"]
    with ws.connect() as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert tables == {"datasets", "builds", "events_1"}
    assert ws.add_dataset("broken", events()).rows == 5


def test_append_updates_counts_and_hash(tmp_path):
    ws = Workspace(tmp_path)
    before = ws.add_dataset("a", events())
    extra = events(2, "w")
    extra["item_id"] = ["new1", "new2"]
    extra = extra.drop(columns="Country").assign(channel="app")
    after = ws.append_events("a", extra)
    assert (after.rows, after.users, after.items) == (7, 4, 7)
    assert after.data_hash != before.data_hash
    assert "channel" in ws.load_events("a")


def test_append_refuses_text_in_a_numeric_column_and_changes_nothing(tmp_path):
    ws = Workspace(tmp_path)
    first = events().assign(store=[1, 2, 3, 4, 5])
    before = ws.add_dataset("a", first)
    batch = events(2, "w").assign(store=["S0", "7"], channel=["app", "web"])
    with pytest.raises(SchemaError, match=r"column 'store' .* has 'S0' there \(1 such rows\)"):
        ws.append_events("a", batch)
    after = ws.dataset("a")
    assert (after.rows, after.data_hash) == (before.rows, before.data_hash)
    assert "channel" not in ws.load_events("a")  # the new column went with the failed append


def test_append_takes_a_new_column_whatever_its_name(tmp_path):
    ws = Workspace(tmp_path)
    ws.add_dataset("a", events())
    hostile = 'we"ird; DROP TABLE datasets; --'
    ws.append_events("a", events(2, "w").assign(**{hostile: ["x", "y"]}))
    loaded = ws.load_events("a")
    assert hostile in loaded and loaded[hostile].dropna().tolist() == ["x", "y"]
    assert ws.dataset("a").rows == 7


def test_atomic_dir_keeps_old_on_failure(tmp_path):
    target = tmp_path / "build"
    with atomic.atomic_dir(target) as tmp:
        atomic.write_json(tmp / "meta.json", {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(target) as tmp:
            atomic.write_json(tmp / "meta.json", {"v": 2})
            raise RuntimeError("killed")
    assert atomic.read_json(target / "meta.json") == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["build"]


def test_npz_round_trip_refuses_pickles(tmp_path):
    import numpy as np

    atomic.save_npz(tmp_path / "a.npz", x=np.arange(3))
    assert atomic.load_npz(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]
    np.savez(tmp_path / "p.npz", x=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        atomic.load_npz(tmp_path / "p.npz")


def test_settings_round_trip(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.settings() == {}
    ws.update_settings(build={"half_life_days": 30})
    assert Workspace(tmp_path).settings()["build"]["half_life_days"] == 30


def test_saved_segments_follow_rename_and_go_with_delete(tmp_path):
    ws = Workspace(tmp_path)
    ws.add_dataset("a", events())
    atomic.write_json(tmp_path / "segments" / "a.json", {"vip": {}})
    ws.rename_dataset("a", "b")
    assert not (tmp_path / "segments" / "a.json").exists()
    assert atomic.read_json(tmp_path / "segments" / "b.json") == {"vip": {}}
    ws.delete_dataset("b")
    assert not (tmp_path / "segments" / "b.json").exists()
