"""The 2-D user map of the Clusters & segments page: which users are drawn, their coordinates and hover text.

A browser cannot draw millions of points, so the map holds at most :data:`MAP_POINTS` users (a seeded sample).
PCA is the default projection because t-SNE is three orders of magnitude slower on a demo-sized build (UMAP is not
a dependency); t-SNE is offered on request and the dashboard caches it per build. Figures in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.queries.features import INTEREST_PREFIX

__all__ = ["MAP_POINTS", "map_rows", "sample_rows", "project", "map_frame"]

log = logging.getLogger(__name__)

#: The map shows at most this many users (a seeded sample).
MAP_POINTS = 5_000


def sample_rows(n: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted rows of a seeded sample of ``size`` out of ``n``, or None when ``n <= size`` (everyone)."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def map_rows(n: int, max_points: int = MAP_POINTS, *, seed: int = 0) -> np.ndarray | None:
    """The users drawn on the map: a seeded sample of ``max_points`` of ``n`` (None: all of them)."""
    return sample_rows(n, max_points, seed)


def project(
    at: Callable[[np.ndarray], np.ndarray], n: int, method: str = "pca", *, seed: int = 0, max_points: int = MAP_POINTS
) -> np.ndarray:
    """``(len(rows), 2)`` coordinates (``pca`` or ``tsne``) of the users at ``map_rows(n, max_points)``.

    Args:
        at: The normalised user vectors of some rows (``at(rows) -> (len(rows), dim)``).
        n: Number of users.
        method: ``pca`` (instant) or ``tsne`` (slow).
        seed: Random state of the sample and the projection.
        max_points: Most users drawn.
    """
    rows = map_rows(n, max_points, seed=seed)
    x = np.asarray(at(np.arange(n) if rows is None else rows), dtype=np.float32)
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


def map_frame(features: pd.DataFrame, clustering: Any, coords: np.ndarray | None = None) -> pd.DataFrame:
    """Points of the 2-D map: ``x, y, cluster, user, top_interest, n_events, spend``.

    One point per user of ``clustering.rows``, in row order (every user when it is None).

    Args:
        features: The user feature frame, every user; or only the map's rows (``len(features) == len(rows)``).
        clustering: Anything with ``labels`` (every user), ``rows`` and ``coords``, e.g. a
            :class:`~uig_core.queries.clusters.Clustering`.
        coords: Replaces the clustering's own map, e.g. a t-SNE from :func:`project` (same rows).

    ``user`` and ``top_interest`` are HTML-escaped: Plotly renders a subset of tags (``<a>``, ``<b>``…) in hover
    labels and shows escaped entities as the literal characters, so logged text stays text.
    """
    rows = clustering.rows
    shown = features if rows is None or len(features) == len(rows) else features.iloc[rows]
    labels = np.asarray(clustering.labels) if rows is None else np.asarray(clustering.labels)[rows]
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
