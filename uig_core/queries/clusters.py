"""User clusters and the 2-D user map behind the Clusters & segments page.

Clusters are k-means over the build's L2-normalised learned user vectors (:attr:`Bundle.user_vectors`); ``k`` is
set or chosen by silhouette on a sample of at most 2,000 users, and the final k-means is fitted on at most
:data:`FIT_USERS` users, every user then joining the nearest centre (on a demo-sized build that sample is everyone).
The map is a PCA projection of the same vectors, drawn for at most :data:`MAP_POINTS` users (a browser cannot
draw millions of points): PCA is the default because t-SNE is three orders of magnitude slower on a demo-sized
build (UMAP is not a dependency); t-SNE is offered on request and the dashboard caches it per build.
``tests/test_segments.py`` checks that the clusters recover the demo users' planted main theme; figures in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.queries.segments import INTEREST_PREFIX

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "FIT_USERS",
    "MAP_POINTS",
    "Clustering",
    "cluster_users",
    "map_rows",
    "user_map",
    "map_frame",
    "describe_clusters",
]

log = logging.getLogger(__name__)

#: The final k-means is fitted on at most this many users (a seeded sample); the rest join the nearest centre.
FIT_USERS = 20_000
#: The map shows at most this many users (a seeded sample).
MAP_POINTS = 5_000
_BLOCK = 1 << 18  # users assigned to their centre at once


@dataclass
class Clustering:
    """Users grouped by k-means over learned user vectors.

    Attributes:
        labels: ``(n_users,)`` cluster of each user (bundle row order).
        k: Number of clusters.
        scores: Silhouette per ``k`` tried (empty when ``k`` was given).
        coords: ``(len(rows), 2)`` map coordinates of the users at ``rows`` (every user when ``rows`` is None).
        method: How ``coords`` were made (``pca`` or ``tsne``).
        rows: The users on the map (:func:`map_rows`), or None for all.
        note: Why the clustering is not what was asked (too few users for k-means, fewer users than ``k``), or "".
    """

    labels: np.ndarray
    k: int
    scores: dict[int, float] = field(default_factory=dict)
    coords: np.ndarray | None = None
    method: str = "pca"
    rows: np.ndarray | None = None
    note: str = ""


def cluster_users(
    bundle: Bundle,
    k: int | None = None,
    *,
    k_range: Iterable[int] = range(2, 16),
    seed: int = 0,
    sample_size: int = 2000,
    map_method: str = "pca",
) -> Clustering:
    """Cluster users by their learned vectors; with no ``k``, keep the ``k`` of best silhouette.

    Args:
        bundle: A loaded build.
        k: Number of clusters (≥ 2), or None to choose it from ``k_range``.
        k_range: Candidate ``k`` values when choosing.
        seed: Random state of k-means and of the silhouette sample.
        sample_size: Most users the choice of ``k`` is made on (the final fit uses at most :data:`FIT_USERS`).
        map_method: ``pca`` (default, instant) or ``tsne`` (slow; for offline use).
    """
    import sklearn.cluster  # noqa: F401 - loaded first: threadpoolctl limits only the libraries already loaded
    from threadpoolctl import threadpool_limits

    n = _n_users(bundle)
    if k is not None and (not isinstance(k, (int, np.integer)) or k < 2):
        raise ConfigError(f"The 'k' parameter of cluster_users must be an int in [2, inf). Got {k!r} instead.")
    distinct = _distinct_vectors(bundle, n)
    if distinct < 3:  # k-means and the silhouette need three users who differ; everyone is one group
        return _one_cluster(bundle, n, distinct, map_method, seed)
    note = ""
    if k is not None and k >= distinct:
        note = f"k = {int(k)} asks for more clusters than this build's users allow; k = {distinct - 1} is used."
        k = distinct - 1
    k_range = [c for c in k_range if int(c) < distinct]  # more clusters than distinct users cannot be fitted
    # The fits run on samples of at most FIT_USERS: one thread each. OpenMP's worker threads cost ten times the
    # work itself there when the cores are shared (2.8 s vs 0.2 s for the 14 fits of the k search on two cores).
    with threadpool_limits(1):
        k, scores, centres = _fit(bundle, n, k, k_range, seed, sample_size)
    if n <= FIT_USERS:
        labels = centres.labels_
    else:  # every user joins the nearest centre, a block at a time
        labels = np.concatenate(
            [centres.predict(_vectors(bundle, np.arange(a, min(a + _BLOCK, n)))) for a in range(0, n, _BLOCK)]
        )
    labels = _relabel_by_size(labels)
    return Clustering(
        labels=labels,
        k=int(k),
        scores=scores,
        coords=user_map(bundle, map_method, seed=seed),
        method=map_method,
        rows=map_rows(n, seed=seed),
        note=note,
    )


def _distinct_vectors(bundle: Bundle, n: int, limit: int = 2000) -> int:
    """How many different user vectors the first ``limit`` users have (one item's log gives all the same one)."""
    if n == 0:
        return 0
    x = _vectors(bundle, np.arange(min(n, limit)))
    return int(len(np.unique(np.round(x, 5), axis=0)))


def _one_cluster(bundle: Bundle, n: int, distinct: int, map_method: str, seed: int) -> Clustering:
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
        coords=user_map(bundle, map_method, seed=seed) if n else np.zeros((0, 2), np.float32),
        method=map_method,
        rows=map_rows(n, seed=seed),
        note=note,
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
    bundle: Bundle, n: int, k: int | None, k_range: Iterable[int], seed: int, sample_size: int
) -> tuple[int, dict[int, float], Any]:
    """The chosen ``k``, the silhouette per ``k`` tried and the fitted k-means (see :func:`cluster_users`)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    everyone = np.arange(n)
    x = _vectors(bundle, everyone) if n <= max(sample_size, FIT_USERS) else None
    scores: dict[int, float] = {}
    if k is None:
        cands = sorted({int(c) for c in k_range if 2 <= int(c) < n})
        if not cands:
            raise ConfigError(f"no k in {list(k_range)} fits {n} users; give k in [2, {n - 1}].")
        # Choose k on a sample (fits and silhouettes grow with n), then fit the chosen k on a larger one.
        rng = np.random.default_rng(seed)
        chosen = everyone if n <= sample_size else rng.choice(n, size=sample_size, replace=False)
        sample = x[chosen] if x is not None else _vectors(bundle, chosen)
        for c in cands:
            if c >= len(sample):
                continue
            lab = KMeans(n_clusters=c, n_init=2, random_state=seed).fit_predict(sample)
            if not 2 <= len(np.unique(lab)) < len(sample):  # fewer distinct users than c: no silhouette
                continue
            scores[c] = round(
                float(silhouette_score(sample, lab, sample_size=min(len(sample), 1000), random_state=seed)), 4
            )
        k = max(scores, key=lambda c: (scores[c], -c)) if scores else 2
    elif not 2 <= k < n:
        raise ConfigError(f"The 'k' parameter of cluster_users must be an int in [2, {n - 1}]. Got {k!r} instead.")
    fit_rows = _sample(n, FIT_USERS, seed)
    km = KMeans(n_clusters=int(k), n_init=4, random_state=seed).fit(
        x if fit_rows is None else _vectors(bundle, fit_rows)
    )
    return int(k), scores, km


def _sample(n: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted rows of a seeded sample of ``size`` out of ``n``, or None when ``n <= size`` (everyone)."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def map_rows(n: int, max_points: int = MAP_POINTS, *, seed: int = 0) -> np.ndarray | None:
    """The users drawn on the map: a seeded sample of ``max_points`` of ``n`` (None: all of them)."""
    return _sample(n, max_points, seed)


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest, so labels stay stable and readable."""
    order = np.argsort(-np.bincount(labels), kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap[labels].astype(np.int64)


def user_map(bundle: Bundle, method: str = "pca", *, seed: int = 0, max_points: int = MAP_POINTS) -> np.ndarray:
    """``(len(rows), 2)`` coordinates (``pca`` or ``tsne``) of the users at ``map_rows(n, max_points)``."""
    n = _n_users(bundle)
    rows = map_rows(n, max_points, seed=seed)
    x = _vectors(bundle, np.arange(n) if rows is None else rows)
    if method == "tsne" and len(x) < 5:
        method = "pca"  # t-SNE needs more points than its perplexity; a handful of users is drawn by PCA
    if method == "pca":
        from sklearn.decomposition import PCA

        if x.shape[1] < 2 or len(x) < 2:
            x = x[:, :2]
            return np.hstack([x, np.zeros((len(x), 2 - x.shape[1]), np.float32)])
        return PCA(n_components=2, random_state=seed).fit_transform(x).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return (
            TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, max(2.0, (len(x) - 1) / 3)))
            .fit_transform(x)
            .astype(np.float32)
        )
    raise ConfigError(f"map method {method!r} is not known; use 'pca' or 'tsne'.")


def map_frame(features: pd.DataFrame, clustering: Clustering, coords: np.ndarray | None = None) -> pd.DataFrame:
    """Points of the 2-D map: ``x, y, cluster, user, top_interest, n_events, spend``.

    One point per user of ``clustering.rows``, in row order (every user when it is None).

    ``coords`` replaces the clustering's own map, e.g. a t-SNE from :func:`user_map` (same rows).

    ``user`` and ``top_interest`` are HTML-escaped: Plotly renders a subset of tags (``<a>``, ``<b>``…) in hover
    labels and shows escaped entities as the literal characters, so logged text stays text.
    """
    import html

    rows = clustering.rows
    shown = features if rows is None else features.iloc[rows]
    labels = clustering.labels if rows is None else clustering.labels[rows]
    cols = [c for c in shown.columns if c.startswith(INTEREST_PREFIX)]
    top = shown[cols].idxmax(axis=1).str.slice(len(INTEREST_PREFIX)) if cols else pd.Series("", index=shown.index)
    if coords is None:
        coords = clustering.coords if clustering.coords is not None else np.zeros((len(shown), 2), np.float32)
    out = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "cluster": labels.astype(str),
            "user": [html.escape(str(u)) for u in shown["user_id"]],
            "top_interest": [html.escape(str(t)) for t in top],
        }
    )
    for c in ("n_events", "spend"):
        out[c] = shown[c].to_numpy() if c in shown else np.nan
    return out


def describe_clusters(features: pd.DataFrame, labels: np.ndarray, *, top: int = 3) -> pd.DataFrame:
    """One row per cluster: size, share, top interests, activity and spend.

    Args:
        features: :func:`user_features` (bundle row order).
        labels: ``(n_users,)`` cluster labels.
        top: Interests listed per cluster.
    """
    labels = np.asarray(labels)
    interest_cols = [c for c in features.columns if c.startswith(INTEREST_PREFIX)]
    needed = ["n_events", "n_purchase", "spend", "recency_days"]
    features = features[interest_cols + [c for c in needed if c in features]]  # each cluster copies only these
    rows = []
    for c in np.unique(labels):
        part = features[labels == c]
        shares = part[interest_cols].mean().sort_values(ascending=False).head(top)
        rows.append(
            {
                "cluster": int(c),
                "users": len(part),
                "share": len(part) / max(len(features), 1),
                "top interests": " · ".join(f"{n[len(INTEREST_PREFIX) :]} {s:.0%}" for n, s in shares.items() if s > 0),
                "events (mean)": float(part["n_events"].mean()) if "n_events" in part else np.nan,
                "purchases (mean)": float(part["n_purchase"].mean()) if "n_purchase" in part else np.nan,
                "spend (mean)": float(part["spend"].mean()) if "spend" in part else np.nan,
                "recency days (median)": float(part["recency_days"].median()) if "recency_days" in part else np.nan,
            }
        )
    return pd.DataFrame(rows)
