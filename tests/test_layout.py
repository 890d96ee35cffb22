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
