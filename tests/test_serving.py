"""Serving at scale: a bundle loads lazily and answers as an eager reference would; the vector index agrees with
exact search; the picker search finds ids by prefix; the log's extra columns come from DuckDB."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from uig_core.build import layout
from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError
from uig_core.queries.explain import explain_items
from uig_core.queries.pickers import find_items, find_users
from uig_core.queries.vectors import VectorIndex, serving_indexes


@pytest.fixture(scope="module")
def demo_path(demo_ws):
    return demo_ws.build_dir("demo")


def exact_top(x: np.ndarray, q: np.ndarray, k: int, exclude=()) -> tuple[np.ndarray, np.ndarray]:
    """Brute force on normalised rows, best first, ties by row."""
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    sims = (xn @ (q / np.linalg.norm(q))).astype(np.float32)
    sims[list(exclude)] = -np.inf
    order = np.lexsort((np.arange(len(sims)), -sims))[:k]
    return order, sims[order]


def planted(n: int = 6000, dim: int = 16, centres: int = 40, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    return c[rng.integers(0, centres, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)


# ---------------------------------------------------------------------------------------------- lazy bundle


def test_opening_a_bundle_reads_only_its_summary(demo_path):
    bundle = Bundle(demo_path)
    assert not any(bundle.is_loaded(n) for n in ("items", "users", "embeddings", "profiles", "interactions"))
    user = str(layout.read_frame(demo_path, "users", columns=["user_id"])["user_id"].iat[7])
    recs = bundle.recommend(user, k=5, explain=False)
    assert len(recs) == 5
    assert not bundle.is_loaded("users") and not bundle.is_loaded("user_index")  # found by row-group statistics
    assert not bundle.is_loaded("embeddings") and not bundle.is_loaded("profiles")
    bundle.recommend(user, k=5)  # the model's own reasons: its split of the scores, not the embeddings
    assert not bundle.is_loaded("embeddings")
    bundle.reasons(bundle.user_row(user), np.arange(3))  # graph reasons read the pairs item-major
    assert bundle.is_loaded("item_users") and not bundle.is_loaded("embeddings")


def test_large_arrays_are_memory_mapped(demo_path):
    bundle = Bundle(demo_path)
    assert isinstance(bundle.embeddings, np.memmap) and not bundle.embeddings.flags.writeable  # 2.3 MB
    assert not isinstance(bundle.profile_columns, np.memmap)  # tiny files are read into memory


def test_lazy_parts_load_once_across_threads(demo_path, monkeypatch):
    calls = []
    real = layout.read_frame

    def counting(folder, name, columns=None):
        calls.append(name)
        return real(folder, name, columns)

    monkeypatch.setattr(layout, "read_frame", counting)
    bundle = Bundle(demo_path)
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        assert len(bundle.users) > 0

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls.count("users") == 1


def test_recommend_reasons_audience_and_neighbours_match_an_eager_reference(demo_path):
    bundle = Bundle(demo_path)
    inter = layout.read_interactions(demo_path, mmap=False)
    users = [str(u) for u in bundle.users["user_id"].iloc[::301]]
    for name in bundle.model_names:
        model = bundle.model(name)
        for user in users[:4]:
            row = bundle.user_row(user)
            idx, _ = model.recommend(row, k=10)
            got = bundle.recommend(user, k=10, model=name)
            assert [r["item_id"] for r in got] == [str(bundle.items["item_id"].iat[i]) for i in idx]
            split = model.contributions(row, idx)
            if split is not None:  # the model's own reasons: its parts, largest share first
                np.testing.assert_allclose(split[1].sum(axis=1), model.score(row)[0, idx], rtol=1e-4, atol=1e-5)
                for r, entry in zip(range(len(idx)), got, strict=True):
                    top = bundle.items["item_id"].iat[int(split[0][np.argmax(split[1][r])])]
                    assert not entry["because"] or entry["because"][0]["item_id"] == str(top)
            got = [{"reason": r.text} for r in bundle.reasons(row, idx)]  # the graph's reasons, no model
            # reasons from the stored item-major pairs equal those derived from the whole matrix
            plain = explain_items(
                row,
                idx,
                interactions=inter,
                item_ids=bundle.items["item_id"].to_numpy(),
                titles=bundle.items["title"].astype(str).to_numpy(),
                item_interest=bundle.items["interest_id"].to_numpy(),
                interest_names=bundle.interest_names,
                profile=np.asarray(bundle.profiles[row]),
                profile_columns=bundle.profile_columns,
                last_event=bundle._strongest_events(row),
            )
            assert [r["reason"] for r in got] == [r.text for r in plain]
    # similar users: cosine of the user vectors, exactly, among users with support (queries/similar.py); ties at
    # 4 decimals go to the larger item overlap, then the lower row
    vectors = np.asarray(bundle.user_vectors)  # normalised
    support = np.diff(inter.indptr)
    for user in users:
        row = bundle.user_row(user)
        sims = vectors @ vectors[row]
        sims[row] = -np.inf
        sims[support < 3] = -np.inf
        overlap = ((inter[row] > 0).astype(np.int64) @ (inter > 0).astype(np.int64).T).toarray().ravel()
        rows = np.lexsort((np.arange(len(sims)), -overlap, -np.round(sims.astype(np.float64), 4)))[:10]
        rows = rows[np.isfinite(sims[rows]) & (sims[rows] > 0) & (support[row] >= 3)]
        sims = sims[rows]
        got = bundle.similar_users(user, k=10)
        np.testing.assert_allclose(got["similarity"], sims, atol=1e-5)
        assert list(got["user_id"]) == [str(bundle.users["user_id"].iat[r]) for r in rows]
    # who should see item Z: the model's column for every user, users who have it left out
    model = bundle.model()
    for col in (0, 17, len(bundle.items) - 1):
        item = str(bundle.items["item_id"].iat[col])
        scores = model.score(np.arange(len(bundle.users)))[:, col].astype(np.float64)
        scores[inter[:, col].nonzero()[0]] = -np.inf
        top = np.lexsort((np.arange(len(scores)), -scores))[:20]
        got = bundle.audience(item, k=20)
        assert list(got["user_id"]) == [str(bundle.users["user_id"].iat[r]) for r in top if np.isfinite(scores[r])]
    # similar items: cosine of the embeddings
    emb = np.asarray(bundle.embeddings)
    rows, sims = exact_top(emb, emb[5], 8, exclude=[5])
    got = bundle.similar_items(str(bundle.items["item_id"].iat[5]), k=8)
    assert list(got["item_id"]) == [str(bundle.items["item_id"].iat[r]) for r in rows]
    np.testing.assert_allclose(got["similarity"], sims, atol=1e-5)


# ---------------------------------------------------------------------------------------------- vector index


def test_tiny_sets_are_searched_exactly():
    x = planted(50, 4)
    index = VectorIndex.build(x)
    assert index.kind == "exact"
    for q in range(0, 50, 7):
        rows, sims = index.search(x[q], 5, exclude=[q])
        want, want_sims = exact_top(x, x[q], 5, exclude=[q])
        assert list(rows) == list(want)
        np.testing.assert_allclose(sims, want_sims, atol=1e-6)


def test_ivf_recall_on_planted_clusters_and_exclusions():
    x = planted()
    exact, ivf = VectorIndex.build(x), VectorIndex.build(x, exact_below=0)
    assert exact.kind == "exact" and ivf.kind == "ivf"
    recall = []
    for q in range(0, len(x), 97):
        a, _ = exact.search(x[q], 10, exclude=[q])
        b, sims = ivf.search(x[q], 10, exclude=[q])
        assert q not in set(b) and np.all(np.diff(sims) <= 1e-6)
        recall.append(len(set(a) & set(b)) / 10)
    assert np.mean(recall) >= 0.95
    # leaving out most rows still returns k (the search widens), none of them excluded
    mask = np.ones(len(x), dtype=bool)
    mask[::50] = False
    rows, _ = ivf.search(x[0], 10, exclude=mask)
    assert len(rows) == 10 and not mask[rows].any()
    np.testing.assert_allclose(ivf.vector(3), x[3] / np.linalg.norm(x[3]), atol=1e-6)


def test_index_round_trip_is_memory_mapped(tmp_path):
    x = planted(3000, 8)
    for index in (VectorIndex.build(x), VectorIndex.build(x, exact_below=0)):
        back = VectorIndex.load(index.save(tmp_path / index.kind))
        assert back.kind == index.kind and back.n == index.n
        for q in (0, 1234, 2999):
            a, sa = index.search(x[q], 7)
            b, sb = back.search(x[q], 7)
            assert list(a) == list(b)
            np.testing.assert_allclose(sa, sb)
    assert isinstance(VectorIndex.load(tmp_path / "exact")._vectors, np.memmap)
    with pytest.raises(ConfigError, match="holds no vector index"):
        VectorIndex.load(tmp_path / "missing")
    with pytest.raises(ConfigError, match="'k' parameter"):
        VectorIndex.build(x).search(x[0], 0)


def test_serving_indexes_only_for_large_sets():
    model = type("M", (), {"user_factors_": planted(400, 8)})()
    profiles, embeddings = np.zeros((400, 3), np.float32), planted(100, 6)
    assert serving_indexes(model, profiles, embeddings) == {}
    out = serving_indexes(model, profiles, embeddings, exact_below=1000)
    assert set(out) == {"users"} and out["users"].kind == "ivf" and out["users"].n == 400


def test_a_bundle_uses_the_index_its_build_stored(tmp_path):
    from test_layout import tiny_contents

    contents = tiny_contents()
    contents.indexes = {"users": VectorIndex.build(np.asarray(contents.profiles) + 0.1, exact_below=0)}
    layout.write_build(tmp_path, contents)
    bundle = Bundle(tmp_path)
    assert bundle.user_neighbors.kind == "ivf" and bundle.item_neighbors.kind == "exact"
    assert list(bundle.similar_users("u0", k=1, min_items=1)["user_id"]) == ["u1"]


# ---------------------------------------------------------------------------------------------- pickers


def test_user_picker_search_finds_an_id_by_prefix(demo_path):
    bundle = Bundle(demo_path)
    ids = bundle.users["user_id"].astype(str)
    target = str(ids.iat[1234])
    for prefix in (target[:-1], target[:-2].lower()):
        found = find_users(bundle, prefix, order="activity", limit=20)
        assert 0 < len(found) <= 20 and all(f.lower().startswith(prefix.lower()) for f in found)
    assert find_users(bundle, target[:-1], order="spend", limit=20).count(target) <= 1
    exact = find_users(bundle, target, order="activity", limit=5)
    assert exact[0] == target  # the exact id first, whatever the order
    assert find_users(bundle, "", order="id", limit=3) == sorted(ids)[:3]
    assert find_users(bundle, "no-such-user-zzz") == []
    item = str(bundle.items["item_id"].iat[3])
    assert find_items(bundle, item, limit=5)[0] == item


def test_extra_log_columns_come_from_duckdb(tmp_path):
    from uig_core.queries.features import _most_frequent, extra_user_values
    from uig_core.store.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    assert ws is not None
    events = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "c", "c"],
            "item_id": ["x", "y", "x", "x", "y", "x"],
            "event": ["view"] * 6,
            "ts": pd.date_range("2024-01-01", periods=6, freq="D"),
            "Country": ["DE", "FR", "FR", None, "US", "AT"],
        }
    )
    info = ws.add_dataset("tiny", events, source="test")
    got = extra_user_values(ws, info).set_index("user_id")["Country"].sort_index()
    want = _most_frequent(events, "Country").sort_index()
    assert got.to_dict() == want.to_dict() == {"a": "FR", "c": "AT"}  # a tie goes to the first value
