"""The build folder's one owner: what it writes it reads back, a folder is complete only with its summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from uig_core.build import layout
from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError
from uig_core.models import make_model


def tiny_contents() -> layout.BuildContents:
    """Three users, four items: u0 and u1 share items 0-1, u2 alone buys 2-3; popularity is planted."""
    inter = sp.csr_matrix(np.array([[3, 1, 0, 0], [2, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    strongest = sp.csr_matrix(np.array([[4, 1, 0, 0], [3, 1, 0, 0], [0, 0, 2, 4]], dtype=np.int8))
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "title": ["A", "B", "C", "D"],
            "category": ["x", "x", "y", "y"],
            "interest_id": [0, 0, 1, 1],
        }
    )
    users = pd.DataFrame(
        {"user_id": ["u0", "u1", "u2"], "n_events": [4, 3, 2], "n_purchase": [1, 1, 1], "spend": [9.0, 5.0, 2.0]}
    )
    interests = pd.DataFrame(
        {
            "interest_id": [0, 1],
            "name": ["ab", "cd"],
            "size": [2, 2],
            "top_items": [["a", "b"], ["c", "d"]],
            "level": ["coarse", "coarse"],
            "parent": [-1, -1],
        }
    )
    edges = pd.DataFrame({"source": [0], "target": [1], "weight": [0.1]})
    model = make_model("popularity").fit(inter)
    return layout.BuildContents(
        meta={"build_id": "btiny", "dataset": "tiny", "models": ["popularity"], "default_model": "popularity"},
        frames={"items": items, "users": users, "interests": interests, "interest_edges": edges},
        embeddings=np.eye(4, 3, dtype=np.float32),
        centroids=np.ones((2, 3), np.float32),
        profiles=np.array([[1, 0], [1, 0], [0, 1]], np.float32),
        profile_columns=np.array([0, 1]),
        interactions=inter,
        strongest=strongest,
        models={"popularity": model},
    )


def test_round_trip_of_every_file(tmp_path):
    contents = tiny_contents()
    meta = layout.write_build(tmp_path, contents)
    assert meta["format"] == layout.FORMAT_VERSION and layout.read_meta(tmp_path) == meta
    for name, frame in contents.frames.items():
        pd.testing.assert_frame_equal(layout.read_frame(tmp_path, name), frame)
    arrays = layout.read_arrays(tmp_path)
    np.testing.assert_array_equal(arrays["embeddings"], contents.embeddings)
    np.testing.assert_array_equal(arrays["centroids"], contents.centroids)
    np.testing.assert_array_equal(arrays["profile_columns"], [0, 1])
    assert (layout.read_interactions(tmp_path) != contents.interactions).nnz == 0
    assert layout.read_strongest(tmp_path).dtype == np.int8
    assert (layout.read_strongest(tmp_path) != contents.strongest).nnz == 0
    assert layout.model_dir(tmp_path, "popularity").is_dir()


def test_a_bundle_reads_what_the_layout_wrote(tmp_path):
    layout.write_build(tmp_path, tiny_contents())
    bundle = Bundle(tmp_path)
    recs = bundle.recommend("u2", k=2)
    assert [r["item_id"] for r in recs] == ["a", "b"]  # most popular items u2 has not seen, best first
    assert bundle.recommend("u0", k=1, explain=True)[0]["item_id"] in {"c", "d"}


def test_a_folder_without_its_summary_is_not_a_build(tmp_path):
    layout.write_data(tmp_path, tiny_contents())
    assert not layout.is_complete(tmp_path)
    with pytest.raises(ConfigError, match="no finished build"):
        Bundle(tmp_path)
    layout.write_meta(tmp_path, {"build_id": "btiny"})
    assert layout.is_complete(tmp_path)


def test_unknown_tables_are_refused(tmp_path):
    contents = tiny_contents()
    contents.frames["extra"] = pd.DataFrame({"x": [1]})
    with pytest.raises(ConfigError, match="unknown build table"):
        layout.write_data(tmp_path, contents)
    with pytest.raises(ConfigError, match="choose one of items"):
        layout.read_frame(tmp_path, "extra")


def test_evaluations_live_beside_build_folders(tmp_path):
    path = layout.evaluation_path(tmp_path, "b123")
    assert path.parent.parent == tmp_path and path.name.startswith("b123")
    assert "b123" not in path.parent.name  # not inside the build folder itself


def test_audience_of_a_build_without_interests(tmp_path):
    from uig_core.queries.recommendations import audience_table

    contents = tiny_contents()
    contents.profiles = np.zeros((3, 0), np.float32)
    contents.profile_columns = np.zeros(0, np.int64)
    contents.frames["interests"] = contents.frames["interests"].iloc[:0]
    layout.write_build(tmp_path, contents)
    table = audience_table(Bundle(tmp_path), "c", k=5)
    assert list(table["user_id"]) == ["u0", "u1"] and table["main_interest"].isna().all()


def test_large_arrays_are_memory_mapped_and_round_trip(tmp_path):
    contents = tiny_contents()
    rng = np.random.default_rng(0)
    contents.embeddings = rng.standard_normal((4, 100_000)).astype(np.float32)  # 1.6 MB: above the mapping size
    big = sp.random(100_000, 20, density=0.2, format="csr", dtype=np.float32, random_state=1)  # 1.6 MB of indices
    layout.write_build(tmp_path, contents)
    emb = layout.read_array(tmp_path, "embeddings")
    assert isinstance(emb, np.memmap) and not emb.flags.writeable
    np.testing.assert_array_equal(emb, contents.embeddings)
    assert not isinstance(layout.read_array(tmp_path, "profiles"), np.memmap)  # tiny: read into memory
    np.testing.assert_array_equal(layout.read_array(tmp_path, "embeddings", mmap=False), contents.embeddings)
    indptr, indices = layout.read_item_users(tmp_path)
    csc = contents.interactions.tocsc()
    np.testing.assert_array_equal(indptr, csc.indptr)
    np.testing.assert_array_equal(indices, csc.indices)
    with pytest.raises(ConfigError, match="unknown build array"):
        layout.read_array(tmp_path, "nope")
    # a mapped sparse matrix: scipy keeps the mapped arrays, nothing is copied
    other = tmp_path / "big"
    contents.interactions = big
    layout.write_build(other, contents)
    mapped = layout.read_interactions(other)
    assert not mapped.indices.flags.writeable and (mapped != big).nnz == 0
    assert mapped[7].indices.tolist() == big[7].indices.tolist()


def test_format_1_builds_are_still_read(tmp_path):
    """A build written before format 2 (arrays.npz, interactions.npz, strongest.npz) loads and answers."""
    from uig_core import atomic

    contents = tiny_contents()
    for name, model in contents.models.items():
        model.save(layout.model_dir(tmp_path, name))
    for name, frame in contents.frames.items():
        frame.to_parquet(tmp_path / layout.FRAMES[name], index=False)
    atomic.save_npz(
        tmp_path / "arrays.npz",
        embeddings=contents.embeddings,
        centroids=contents.centroids,
        profiles=contents.profiles,
        profile_columns=np.asarray(contents.profile_columns, np.int64),
    )
    sp.save_npz(tmp_path / "interactions.npz", contents.interactions, compressed=False)
    sp.save_npz(tmp_path / "strongest.npz", contents.strongest, compressed=False)
    atomic.write_json(tmp_path / "meta.json", {"format": 1, **contents.meta})
    assert layout.read_item_users(tmp_path) is None
    np.testing.assert_array_equal(layout.read_array(tmp_path, "profiles"), contents.profiles)
    bundle = Bundle(tmp_path)
    assert [r["item_id"] for r in bundle.recommend("u2", k=2)] == ["a", "b"]
    assert bundle.recommend("u0", k=1, explain=True)[0]["reason"]
    assert list(bundle.audience("c", k=5)["user_id"]) == ["u0", "u1"]


def test_find_row_reads_only_the_row_groups_that_can_hold_the_id(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    contents = tiny_contents()
    n = 200_000  # four row groups
    users = pd.DataFrame({"user_id": [f"u{i:07d}" for i in range(n)], "n_events": np.ones(n, np.int64)})
    contents.frames["users"] = users
    layout.write_data(tmp_path, contents)
    assert pq.ParquetFile(tmp_path / layout.FRAMES["users"]).metadata.num_row_groups == 4
    read = []
    real = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", lambda self, i, **kw: read.append(i) or real(self, i, **kw))
    assert layout.find_row(tmp_path, "users", "user_id", "u0150001") == 150_001
    assert read == [2]
    assert layout.find_row(tmp_path, "users", "user_id", "nobody") == -1


def test_map_npz_maps_uncompressed_members_and_reads_compressed_ones(tmp_path):
    from uig_core import atomic

    arrays = {
        "x": np.arange(10, dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "empty": np.zeros((0, 3), dtype=np.int32),
    }
    atomic.save_npz(tmp_path / "a.npz", **arrays)
    np.savez_compressed(tmp_path / "c.npz", **arrays)
    for name in ("a.npz", "c.npz"):
        got = atomic.map_npz(tmp_path / name)
        assert set(got) == set(arrays)
        for key, value in arrays.items():
            assert got[key].dtype == value.dtype and got[key].shape == value.shape
            np.testing.assert_array_equal(got[key], value)
    mapped = atomic.map_npz(tmp_path / "a.npz")["x"]
    assert isinstance(mapped.base, np.memmap)
    mapped[0] = 99.0  # copy-on-write: the file keeps its value
    assert atomic.load_npz(tmp_path / "a.npz")["x"][0] == 0.0
