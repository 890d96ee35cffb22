"""Cached core calls of the Clusters & segments page.

Clusterings and feature frames hold a row per user (millions on a large build): shared, never copied per rerun
(``st.cache_resource``), and treated as read-only by the page. Arguments starting with ``_`` are left out of the
cache keys, which are the build id, the data hash and the widgets' values.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from uig_app import state
from uig_core.build.bundle import Bundle
from uig_core.queries import clusters as clu
from uig_core.queries import segments as seg
from uig_core.store.workspace import DatasetInfo

__all__ = ["clusters", "base_features", "features", "field_summary", "lookalikes", "tsne", "cluster_view", "compare"]


# Clusterings and feature frames hold a row per user (millions on a large build): shared, never copied per
# rerun (st.cache_resource), and treated as read-only here.
@st.cache_resource(show_spinner="Clustering users…", max_entries=4)
def clusters(build_id: str, k: int | None, _bundle: Bundle) -> clu.Clustering:
    """Users clustered by k-means (:func:`~uig_core.queries.clusters.cluster_users`), once per build and k."""
    return clu.cluster_users(_bundle, k)


@st.cache_resource(show_spinner="Collecting user features…", max_entries=2)
def base_features(build_id: str, data_hash: str, _bundle: Bundle, _info: DatasetInfo) -> pd.DataFrame:
    """Per-user segment features with the log's extra columns (shared, read-only)."""
    # Extra log columns (Country…) come from one DuckDB aggregate; the events are never loaded.
    return seg.user_features(_bundle, extras=state.user_extras(_info))


@st.cache_resource(show_spinner=False, max_entries=4)
def features(build_id: str, data_hash: str, k: int | None, _bundle: Bundle, _info: DatasetInfo) -> pd.DataFrame:
    """The base features plus each user's cluster."""
    # pandas' copy-on-write: the new frame shares the base frame's columns.
    base = base_features(build_id, data_hash, _bundle, _info)
    return base.assign(cluster=clusters(build_id, k, _bundle).labels)


@st.cache_data(show_spinner=False, max_entries=64)
def field_summary(build_id: str, data_hash: str, k: int | None, field: str, _features: pd.DataFrame) -> dict:
    """Range, median or choices of one feature, for a rule's value widget."""
    return seg.field_summary(_features[field])


@st.cache_data(show_spinner="Finding lookalikes…", max_entries=32)
def lookalikes(build_id: str, k: int | None, spec: str, n: int, _members: pd.Index, _bundle: Bundle) -> pd.DataFrame:
    """Users nearest the segment's centroid, members excluded."""
    return seg.lookalikes(_bundle, _members, n=n)


@st.cache_data(show_spinner="Computing the t-SNE map (slow: about a minute for 3,000 users)…", max_entries=4)
def tsne(build_id: str, _bundle: Bundle) -> np.ndarray:
    """The t-SNE user map, once per build (slow)."""
    return clu.user_map(_bundle, "tsne")


@st.cache_data(show_spinner=False, max_entries=16)
def cluster_view(
    build_id: str, k: int | None, method: str, _features: pd.DataFrame, _clusters: clu.Clustering, _bundle: Bundle
) -> tuple[go.Figure, pd.DataFrame]:
    """The cluster map figure and the per-cluster table."""
    points = clu.map_frame(_features, _clusters, tsne(build_id, _bundle) if method == "tsne" else None)
    fig = px.scatter(
        points,
        x="x",
        y="y",
        color="cluster",
        hover_name="user",
        hover_data={"top_interest": True, "n_events": True, "spend": ":.2f", "x": False, "y": False, "cluster": True},
        category_orders={"cluster": [str(c) for c in range(_clusters.k)]},
        opacity=0.7,
        height=520,
    )
    fig.update_traces(marker={"size": 5})
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10), legend_title_text="cluster")
    return fig, clu.describe_clusters(_features, _clusters.labels)


@st.cache_data(show_spinner=False, max_entries=64)
def compare(build_id: str, k: int | None, spec_a: str, spec_b: str, _features: pd.DataFrame) -> dict:
    """Two segments side by side (sizes, overlap, interest shares, means)."""
    return seg.compare_segments(_features, json.loads(spec_a), json.loads(spec_b), names=("A", "B"))
