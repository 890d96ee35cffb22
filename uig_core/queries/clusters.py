"""User clusters and the 2-D user map behind the Clusters & segments page.

Clusters are k-means over the build's L2-normalised learned user vectors (:attr:`Bundle.user_vectors`); ``k`` is
set or chosen by silhouette on a sample of at most 2,000 users. The map is a PCA projection of the same vectors:
PCA is the default because t-SNE is three orders of magnitude slower on a demo-sized build (UMAP is not a
dependency); t-SNE is offered on request and the dashboard caches it per build. ``tests/test_segments.py`` checks
that the clusters recover the demo users' planted main theme; figures in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.queries.segments import INTEREST_PREFIX

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["Clustering", "cluster_users", "user_map", "map_frame", "describe_clusters"]

log = logging.getLogger(__name__)


@dataclass
class Clustering:
    """Users grouped by k-means over learned user vectors.

    Attributes:
        labels: ``(n_users,)`` cluster of each user (bundle row order).
        k: Number of clusters.
        scores: Silhouette per ``k`` tried (empty when ``k`` was given).
        coords: ``(n_users, 2)`` map coordinates.
        method: How ``coords`` were made (``pca`` or ``tsne``).
    """

    labels: np.ndarray
    k: int
    scores: dict[int, float] = field(default_factory=dict)
    coords: np.ndarray | None = None
    method: str = "pca"


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
        sample_size: Most users the choice of ``k`` is made on (the final fit uses everyone).
        map_method: ``pca`` (default, instant) or ``tsne`` (slow; for offline use).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = np.asarray(bundle.user_vectors, dtype=np.float32)
    n = len(x)
    if n < 3:
        raise ConfigError(f"clustering needs at least 3 users; this build has {n}.")
    scores: dict[int, float] = {}
    if k is None:
        cands = sorted({int(c) for c in k_range if 2 <= int(c) < n})
        if not cands:
            raise ConfigError(f"no k in {list(k_range)} fits {n} users; give k in [2, {n - 1}].")
        # Choose k on a sample (fits and silhouettes grow with n), then fit the chosen k on everyone.
        rng = np.random.default_rng(seed)
        sample = x if n <= sample_size else x[rng.choice(n, size=sample_size, replace=False)]
        for c in cands:
            if c >= len(sample):
                continue
            lab = KMeans(n_clusters=c, n_init=2, random_state=seed).fit_predict(sample)
            scores[c] = round(
                float(silhouette_score(sample, lab, sample_size=min(len(sample), 1000), random_state=seed)), 4
            )
        k = max(scores, key=lambda c: (scores[c], -c))
    elif not isinstance(k, (int, np.integer)) or not 2 <= k < n:
        raise ConfigError(f"The 'k' parameter of cluster_users must be an int in [2, {n - 1}]. Got {k!r} instead.")
    labels = KMeans(n_clusters=int(k), n_init=4, random_state=seed).fit_predict(x)
    labels = _relabel_by_size(labels)
    return Clustering(
        labels=labels, k=int(k), scores=scores, coords=user_map(bundle, map_method, seed=seed), method=map_method
    )


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest, so labels stay stable and readable."""
    order = np.argsort(-np.bincount(labels), kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap[labels].astype(np.int64)


def user_map(bundle: Bundle, method: str = "pca", *, seed: int = 0) -> np.ndarray:
    """``(n_users, 2)`` coordinates of the user vectors (``pca`` or ``tsne``)."""
    x = np.asarray(bundle.user_vectors, dtype=np.float32)
    if method == "pca":
        from sklearn.decomposition import PCA

        if x.shape[1] < 2:
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
    """Points of the 2-D map: ``x, y, cluster, user, top_interest, n_events, spend`` (bundle row order).

    ``coords`` (``(n_users, 2)``) replaces the clustering's own map, e.g. a t-SNE from :func:`user_map`.

    ``user`` and ``top_interest`` are HTML-escaped: Plotly renders a subset of tags (``<a>``, ``<b>``…) in hover
    labels and shows escaped entities as the literal characters, so logged text stays text.
    """
    import html

    cols = [c for c in features.columns if c.startswith(INTEREST_PREFIX)]
    top = features[cols].idxmax(axis=1).str.slice(len(INTEREST_PREFIX)) if cols else pd.Series("", index=features.index)
    if coords is None:
        coords = clustering.coords if clustering.coords is not None else np.zeros((len(features), 2), np.float32)
    out = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "cluster": clustering.labels.astype(str),
            "user": [html.escape(str(u)) for u in features["user_id"]],
            "top_interest": [html.escape(str(t)) for t in top],
        }
    )
    for c in ("n_events", "spend"):
        out[c] = features[c].to_numpy() if c in features else np.nan
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
