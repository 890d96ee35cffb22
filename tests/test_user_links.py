"""User–user edges: the build stores each user's similar users; graph, portraits and lookalikes use them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.graph import user_links as ul
from uig_core.queries.similar import SIMILAR_MIN_ITEMS, similar_rows
from uig_core.queries.vectors import VectorIndex


def planted(n: int = 900, items: int = 60, groups: int = 6, seed: int = 4) -> tuple[np.ndarray, sp.csr_matrix]:
    """Users in taste groups: vectors near their group's centre, items mostly from their group's block."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, n)
    centres = rng.standard_normal((groups, 12)).astype(np.float32)
    vectors = centres[group] + 0.3 * rng.standard_normal((n, 12)).astype(np.float32)
    block = items // groups
    dense = np.zeros((n, items), dtype=np.float32)
    for u in range(n):
        dense[u, rng.choice(np.arange(group[u] * block, (group[u] + 1) * block), size=int(rng.integers(1, 8)))] = 1
    return vectors, sp.csr_matrix(dense)


def test_links_follow_the_similar_users_rules():
    vectors, x = planted()
    links = ul.user_links(vectors, x, k=5)
    support = np.diff(x.indptr)
    index = VectorIndex.exact(vectors)
    same = 0
    for u in range(x.shape[0]):
        rows, sims, overlap = links.of(u)
        if support[u] < SIMILAR_MIN_ITEMS:
            assert len(rows) == 0
            continue
        assert u not in rows and (support[rows] >= SIMILAR_MIN_ITEMS).all()
        assert np.isfinite(sims).all() and (sims > 0).all()
        keys = list(zip(-np.round(sims, 4), -overlap, rows, strict=True))
        assert keys == sorted(keys)  # rounded similarity, then overlap, then row
        want, _, _ = similar_rows(index, x, u, 5)
        same += list(rows) == list(want)
    assert same >= 0.98 * int((support >= SIMILAR_MIN_ITEMS).sum())  # the query-time rules, for everyone at once


def test_large_sets_go_through_an_ivf_index_with_high_recall(monkeypatch):
    vectors, x = planted(n=3000)
    exact = ul.user_links(vectors, x, k=5)
    monkeypatch.setattr(ul, "EXACT_USERS", 100)
    approx = ul.user_links(vectors, x, k=5)
    hits = total = 0
    for u in range(x.shape[0]):
        want = set(exact.of(u)[0].tolist())
        hits += len(want & set(approx.of(u)[0].tolist()))
        total += len(want)
    assert total and hits / total >= 0.9


@pytest.fixture(scope="module")
def demo_bundle(demo_ws):
    from uig_core.build.bundle import Bundle

    return Bundle.load(demo_ws, "demo")


def test_the_build_stores_them_as_similar_users_ranks_them(demo_bundle):
    links = demo_bundle.user_links
    assert links is not None and len(links.indptr) == len(demo_bundle.users) + 1
    agree = 0
    users = demo_bundle.users["user_id"].astype(str).iloc[::37]
    for user in users:
        got = demo_bundle.similar_users(user, k=10)  # the query-time rule, ties widened without bound
        rows, sims, _ = links.of(demo_bundle.user_row(user))
        np.testing.assert_allclose(sims[: len(got)], got["similarity"].to_numpy()[: len(sims)], atol=1e-4)
        agree += list(got["user_id"]) == [str(demo_bundle.users["user_id"].iat[r]) for r in rows]
    assert agree >= 0.5 * len(users)  # the rest differ only inside ties at 4 decimals broken among 48 candidates


def test_graph_shows_user_user_edges_on_request(demo_bundle, demo_workspace, tmp_path, capsys):
    from uig_core.cli.main import main
    from uig_core.graph import view

    user = str(demo_bundle.users["user_id"].iat[42])
    nodes, edges = view.neighborhood(demo_bundle, f"user:{user}", edge_types=["user-user"], node_types=["user"])
    linked = {f"user:{demo_bundle.users['user_id'].iat[r]}" for r in demo_bundle.user_links.of(42)[0]}
    assert set(nodes["id"][1:]) == linked and (edges["type"] == "user-user").all() and len(edges) >= len(linked)
    default_nodes, default_edges = view.neighborhood(demo_bundle, f"user:{user}")
    assert "user-user" not in set(default_edges["type"])  # on request only
    out = tmp_path / "uu.html"
    args = ["graph", "--workspace", str(demo_workspace), "--dataset", "demo", "--around", f"user:{user}"]
    assert main([*args, "--edge-types", "user-user,user-item", "--html", str(out)]) == 0
    assert "similar users (cosine" in out.read_text(encoding="utf-8")  # the user–user edges are drawn


def test_portraits_list_shared_interests_and_lookalikes_grow_along_the_links(demo_bundle, demo_ws):
    from uig_core.queries.lookalikes import lookalikes
    from uig_core.queries.portrait import portrait

    user = str(demo_bundle.users["user_id"].iat[42])
    data = portrait(demo_ws, "demo", user, similar=5, bundle=demo_bundle)
    assert data["similar_users"] and all(s["shared_interests"] for s in data["similar_users"][:3])
    members = [str(u) for u in demo_bundle.users["user_id"].iloc[40:60]]
    grown = lookalikes(demo_bundle, members, n=15)
    assert not set(grown["user_id"]) & set(members) and (grown["linked_members"].iloc[:5] > 0).all()
