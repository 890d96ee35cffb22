"""User clusters: k-means over the learned user vectors, with ``k`` chosen by silhouette and checked for stability.

Clusters are k-means over the build's L2-normalised learned user vectors (:attr:`Bundle.user_vectors`). With no
``k`` given, every ``k`` of a small range is fitted on a sample of at most 2,000 users and scored by its silhouette;
each is refitted from other seeds on random halves and scored by how well the partitions agree
(adjusted Rand index, the *stability*); the kept ``k`` is the best silhouette among the stable ones. The final
k-means is fitted on at most :data:`FIT_USERS` users, every user then joining the nearest centre (on a demo-sized
build that sample is everyone). A build does this once and stores it (:mod:`uig_core.build.clustering`); the
page computes a clustering only for a ``k`` the analyst sets. The map is :mod:`uig_core.queries.user_map`.
``tests/test_segments.py`` and ``tests/test_segment_names.py`` check that the clusters recover planted groups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.queries.features import INTEREST_PREFIX
from uig_core.queries.segment_names import describe_segments
from uig_core.queries.user_map import MAP_POINTS, map_frame, map_rows, project, sample_rows

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "FIT_USERS",
    "MAP_POINTS",
    "STABLE",
    "Clustering",
    "cluster_users",
    "cluster_vectors",
    "map_rows",
    "user_map",
    "map_frame",
    "describe_clusters",
]

log = logging.getLogger(__name__)

#: The final k-means is fitted on at most this many users (a seeded sample); the rest join the nearest centre.
FIT_USERS = 20_000
#: A ``k`` whose refits agree at least this well (adjusted Rand index) is stable enough to be chosen.
STABLE = 0.75
_BLOCK = 1 << 18  # users assigned to their centre at once

VectorsAt = Callable[[np.ndarray], np.ndarray]


@dataclass
class Clustering:
    """Users grouped by k-means over learned user vectors.

    Attributes:
        labels: ``(n_users,)`` cluster of each user (bundle row order); cluster 0 is the largest.
        k: Number of clusters.
        scores: Silhouette per ``k`` tried (empty when ``k`` was given).
        coords: ``(len(rows), 2)`` map coordinates of the users at ``rows`` (every user when ``rows`` is None).
        method: How ``coords`` were made (``pca`` or ``tsne``).
        rows: The users on the map (:func:`map_rows`), or None for all.
        note: Why the clustering is not what was asked (too few users for k-means, fewer users than ``k``), or "".
        stability: Agreement of refits (adjusted Rand index) per ``k`` measured.
        centres: ``(k, dim)`` cluster centres in label order (None for a single cluster of look-alikes).
    """

    labels: np.ndarray
    k: int
    scores: dict[int, float] = field(default_factory=dict)
    coords: np.ndarray | None = None
    method: str = "pca"
    rows: np.ndarray | None = None
    note: str = ""
    stability: dict[int, float] = field(default_factory=dict)
    centres: np.ndarray | None = None


def cluster_users(
    bundle: Bundle,
    k: int | None = None,
    *,
    k_range: Iterable[int] = range(2, 16),
    seed: int = 0,
    sample_size: int = 2000,
    map_method: str = "pca",
) -> Clustering:
    """Cluster a build's users by their learned vectors (see :func:`cluster_vectors`)."""
    return cluster_vectors(
        lambda rows: _vectors(bundle, rows),
        _n_users(bundle),
        k,
        k_range=k_range,
        seed=seed,
        sample_size=sample_size,
        map_method=map_method,
    )


def cluster_vectors(
    at: VectorsAt,
    n: int,
    k: int | None = None,
    *,
    k_range: Iterable[int] = range(2, 16),
    seed: int = 0,
    sample_size: int = 2000,
    map_method: str = "pca",
) -> Clustering:
    """Cluster ``n`` users by their normalised vectors; with no ``k``, keep the stable ``k`` of best silhouette.

    Args:
        at: ``at(rows) -> (len(rows), dim)`` normalised vectors of those users.
        n: Number of users.
        k: Number of clusters (≥ 2), or None to choose it from ``k_range``.
        k_range: Candidate ``k`` values when choosing.
        seed: Random state of k-means and of the samples.
        sample_size: Most users the choice of ``k`` is made on (the final fit uses at most :data:`FIT_USERS`).
        map_method: ``pca`` (default, instant) or ``tsne`` (slow; for offline use).
    """
    import sklearn.cluster  # noqa: F401 - loaded first: threadpoolctl limits only the libraries already loaded
    from threadpoolctl import threadpool_limits

    if k is not None and (not isinstance(k, (int, np.integer)) or k < 2):
        raise ConfigError(f"The 'k' parameter of cluster_users must be an int in [2, inf). Got {k!r} instead.")
    distinct = _distinct_vectors(at, n)
    if distinct < 3:  # k-means and the silhouette need three users who differ; everyone is one group
        return _one_cluster(at, n, distinct, map_method, seed)
    note = ""
    if k is not None and k >= distinct:
        note = f"k = {int(k)} asks for more clusters than this build's users allow; k = {distinct - 1} is used."
        k = distinct - 1
    k_range = [c for c in k_range if int(c) < distinct]  # more clusters than distinct users cannot be fitted
    # The fits run on samples of at most FIT_USERS: one thread each. OpenMP's worker threads cost ten times the
    # work itself there when the cores are shared (2.8 s vs 0.2 s for the 14 fits of the k search on two cores).
    with threadpool_limits(1):
        k, scores, stability, km = _fit(at, n, k, k_range, seed, sample_size)
        if n <= FIT_USERS:
            raw = km.labels_
        else:  # every user joins the nearest centre, a block at a time
            raw = np.concatenate([km.predict(at(np.arange(a, min(a + _BLOCK, n)))) for a in range(0, n, _BLOCK)])
    labels, order = _relabel_by_size(raw, int(k))
    return Clustering(
        labels=labels,
        k=int(k),
        scores=scores,
        coords=project(at, n, map_method, seed=seed),
        method=map_method,
        rows=map_rows(n, seed=seed),
        note=note,
        stability=stability,
        centres=np.asarray(km.cluster_centers_, dtype=np.float32)[order],
    )


def _distinct_vectors(at: VectorsAt, n: int, limit: int = 2000) -> int:
    """How many different user vectors the first ``limit`` users have (one item's log gives all the same one)."""
    if n == 0:
        return 0
    x = np.asarray(at(np.arange(min(n, limit))))
    return int(len(np.unique(np.round(x, 5), axis=0)))


def _one_cluster(at: VectorsAt, n: int, distinct: int, map_method: str, seed: int) -> Clustering:
    """Every user in cluster 0, with a note saying why (fewer than three users, or users that look alike)."""
    users = "user" if n == 1 else "users"
    why = (
        f"This build has {n:,} {users}"
        if n < 3
        else f"The {n:,} users of this build have {'one learned vector' if distinct == 1 else 'two distinct vectors'}"
    )
    note = f"{why}: too few to cluster (k-means needs at least three users who differ), so all are in one cluster."
    return Clustering(
        labels=np.zeros(n, dtype=np.int64),
        k=1,
        coords=project(at, n, map_method, seed=seed) if n else np.zeros((0, 2), np.float32),
        method=map_method,
        rows=map_rows(n, seed=seed),
        note=note,
        centres=np.asarray(at(np.arange(min(n, 2000)))).mean(axis=0, keepdims=True) if n else None,
    )


def _n_users(bundle: Bundle) -> int:
    """Number of users, without loading (or normalising) every user vector of a bundle."""
    if hasattr(bundle, "user_vectors_at"):
        return int(np.shape(bundle.profiles)[0])
    return len(bundle.user_vectors)


def _vectors(bundle: Bundle, rows: np.ndarray) -> np.ndarray:
    """Normalised user vectors of ``rows`` (float32)."""
    at = getattr(bundle, "user_vectors_at", None)
    out = at(rows) if at is not None else np.asarray(bundle.user_vectors)[rows]
    return np.asarray(out, dtype=np.float32)


def _fit(
    at: VectorsAt, n: int, k: int | None, k_range: Iterable[int], seed: int, sample_size: int
) -> tuple[int, dict[int, float], dict[int, float], Any]:
    """The chosen ``k``, silhouette and stability per ``k`` tried, and the fitted k-means (:func:`cluster_vectors`)."""
    from sklearn.cluster import KMeans

    scores: dict[int, float] = {}
    stability: dict[int, float] = {}
    if k is None:
        cands = sorted({int(c) for c in k_range if 2 <= int(c) < n})
        if not cands:
            raise ConfigError(f"no k in {list(k_range)} fits {n} users; give k in [2, {n - 1}].")
        # Choose k on a sample (fits and silhouettes grow with n), then fit the chosen k on a larger one.
        chosen = sample_rows(n, sample_size, seed)
        sample = np.asarray(at(np.arange(n) if chosen is None else chosen), dtype=np.float32)
        scores = _silhouettes(sample, cands, seed)
        stability = {c: _stability(sample, c, seed) for c in scores}
        stable = [c for c in scores if stability[c] >= STABLE] or list(scores)
        k = min(stable, key=lambda c: (-scores[c], c)) if stable else 2
    elif not 2 <= k < n:
        raise ConfigError(f"The 'k' parameter of cluster_users must be an int in [2, {n - 1}]. Got {k!r} instead.")
    fit_rows = sample_rows(n, FIT_USERS, seed)
    x = at(np.arange(n) if fit_rows is None else fit_rows)
    km = KMeans(n_clusters=int(k), n_init=4, random_state=seed).fit(np.asarray(x, dtype=np.float32))
    return int(k), scores, stability, km


def _silhouettes(sample: np.ndarray, cands: list[int], seed: int) -> dict[int, float]:
    """Silhouette of a k-means partition of ``sample`` for each ``k`` of ``cands`` that can be scored."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    scores: dict[int, float] = {}
    for c in cands:
        if c >= len(sample):
            continue
        lab = KMeans(n_clusters=c, n_init=2, random_state=seed).fit_predict(sample)
        if not 2 <= len(np.unique(lab)) < len(sample):  # fewer distinct users than c: no silhouette
            continue
        scores[c] = round(
            float(silhouette_score(sample, lab, sample_size=min(len(sample), 1000), random_state=seed)), 4
        )
    return scores


def _stability(sample: np.ndarray, k: int, seed: int, pairs: int = 2) -> float:
    """How well k-means agrees with itself (1: the same partition every time).

    The mean adjusted Rand index, over the whole sample, of fits made from other seeds on two random halves.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed + 1)
    half = max(k + 1, len(sample) // 2)
    aris = []
    for p in range(pairs):
        fits = []
        for q in range(2):
            rows = rng.choice(len(sample), size=min(half, len(sample)), replace=False)
            km = KMeans(n_clusters=k, n_init=1, random_state=seed + 10 * p + q + 1).fit(sample[rows])
            fits.append(km.predict(sample))
        aris.append(adjusted_rand_score(fits[0], fits[1]))
    return round(float(np.mean(aris)), 4)


def _relabel_by_size(labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels renumbered so that cluster 0 is the largest, and the old label of each new one."""
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap[labels].astype(np.int64), order


def user_map(bundle: Bundle, method: str = "pca", *, seed: int = 0, max_points: int = MAP_POINTS) -> np.ndarray:
    """``(len(rows), 2)`` coordinates (``pca`` or ``tsne``) of a build's users at ``map_rows(n, max_points)``."""
    return project(lambda rows: _vectors(bundle, rows), _n_users(bundle), method, seed=seed, max_points=max_points)


def describe_clusters(features: pd.DataFrame, labels: np.ndarray, *, top: int = 3) -> pd.DataFrame:
    """One row per cluster of a feature frame (:func:`~uig_core.queries.features.user_features`).

    The columns of :func:`~uig_core.queries.segment_names.describe_segments`: size, share, an automatic name,
    distinctive and top interests, behaviour.
    """
    interest_cols = [c for c in features.columns if c.startswith(INTEREST_PREFIX)]
    names = [c[len(INTEREST_PREFIX) :] for c in interest_cols]
    profiles = features[interest_cols].to_numpy(dtype=np.float32) if interest_cols else np.zeros((len(features), 0))
    return describe_segments(np.asarray(labels), profiles, names, features, top=top)
