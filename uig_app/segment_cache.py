"""Cached core calls of the Clusters & segments page.

The clustering the build stored is read once per build (``st.cache_resource``: a row per user, shared, never
copied per rerun, treated as read-only); a clustering with a ``k`` the analyst sets is computed once per build and
``k``. The segment features are a lazy table (:class:`~uig_core.queries.feature_table.FeatureTable`), one per
build: a column (millions of values on a large build) is read only when a rule, a summary, the comparison or
the export asks for it, and then kept for every session. Arguments starting with ``_`` are left out of the cache
keys, which are the build id, the data hash and the widgets' values.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from uig_app import state
from uig_core.build import clustering as stored
from uig_core.build import layout
from uig_core.build.bundle import Bundle
from uig_core.queries import clusters as clu
from uig_core.queries import segments as seg
from uig_core.queries.segment_store import SegmentStore, resolve_names
from uig_core.store.relation import EventRelation
from uig_core.store.workspace import DatasetInfo

__all__ = [
    "segments",
    "user_ids",
    "cluster_names",
    "name_cluster",
    "base_features",
    "features",
    "field_summary",
    "lookalikes",
    "tsne",
    "cluster_map",
    "size_chart",
    "interest_chart",
    "compare",
    "profile_names",
]


def _seed(bundle: Bundle) -> int:
    return int((bundle.meta.get("config") or {}).get("seed", 0))


@st.cache_resource(show_spinner="Reading the build's clusters…", max_entries=6)
def segments(build_id: str, k: int | None, _bundle: Bundle, _info: DatasetInfo) -> dict[str, Any]:
    """The clusters of a build: those it stored (``k`` None), else computed once for that ``k``."""
    events = EventRelation.of_dataset(state.workspace(), _info)
    if k is None:
        return stored.stored_or_computed(_bundle, events)
    return stored.segment_step(
        _bundle.model(),
        np.asarray(_bundle.profiles),
        profile_names(_bundle),
        _bundle.users,
        _bundle.items,
        events,
        seed=_seed(_bundle),
        k=int(k),
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def user_ids(build_id: str, _bundle: Bundle) -> Any:
    """The build's ``user_id`` column (pyarrow, no Python string per user)."""
    return layout.read_column(_bundle.path, "users", "user_id")


def _name_key(build_id: str, k: int | None) -> str:
    """What a cluster name is kept under: the stored clustering is the build's, a chosen ``k`` is its own."""
    return build_id if k is None else f"{build_id}:k{int(k)}"


def cluster_names(info: DatasetInfo, bundle: Bundle, k: int | None, parts: dict[str, Any]) -> dict[int, str]:
    """The analyst's names for the clusters shown (``cluster -> name``), including names given on other builds."""
    store = SegmentStore(state.workspace().root, info.name)
    try:
        stat = store.path.stat()
    except FileNotFoundError:
        return {}
    return dict(_names(bundle.build_id, k, (stat.st_mtime_ns, stat.st_size), store, bundle, parts))


@st.cache_data(show_spinner=False, max_entries=16)
def _names(
    build_id: str, k: int | None, stamp: tuple[int, int], _store: SegmentStore, _bundle: Bundle, _parts: dict
) -> dict[int, str]:
    """Names resolved once per build, ``k`` and version of the names file (matching reads every user id)."""
    records = _store.cluster_names()
    if not records:  # nothing to match: the user ids (millions on a large build) are not read
        return {}
    ids = user_ids(build_id, _bundle)
    return resolve_names(
        records, _name_key(build_id, k), lambda members: stored.member_labels(ids, _parts["labels"], members)
    )


def name_cluster(
    info: DatasetInfo, bundle: Bundle, k: int | None, parts: dict[str, Any], cluster: int, name: str
) -> None:
    """Keep (or, with an empty name, clear) the analyst's name of one cluster."""
    ids = user_ids(bundle.build_id, bundle)
    SegmentStore(state.workspace().root, info.name).name_cluster(
        name,
        build_id=_name_key(bundle.build_id, k),
        cluster=int(cluster),
        members=stored.member_sample(ids, parts["labels"], int(cluster), seed=_seed(bundle)),
        labels_of=lambda members: stored.member_labels(ids, parts["labels"], members),
    )


@st.cache_resource(show_spinner="Reading the log's extra columns…", max_entries=2)
def base_features(build_id: str, data_hash: str, _bundle: Bundle, _info: DatasetInfo) -> seg.FeatureTable:
    """Per-user segment features with the log's extra columns (shared, thread-safe; no column read yet)."""
    # Extra log columns (Country…) come from one DuckDB aggregate; the events are never loaded.
    return seg.build_features(_bundle, extras=state.user_extras(_info))


@st.cache_resource(show_spinner=False, max_entries=4)
def features(
    build_id: str, data_hash: str, k: int | None, _bundle: Bundle, _info: DatasetInfo, _labels: np.ndarray
) -> seg.FeatureTable:
    """The base features plus each user's cluster (the columns read are the base table's, shared)."""
    return base_features(build_id, data_hash, _bundle, _info).with_labels(_labels)


@st.cache_data(show_spinner=False, max_entries=64)
def field_summary(build_id: str, data_hash: str, k: int | None, field: str, _features: seg.FeatureTable) -> dict:
    """Range, median or choices of one feature, for a rule's value widget."""
    return seg.field_summary(_features[field])


@st.cache_data(show_spinner="Finding lookalikes…", max_entries=32)
def lookalikes(
    build_id: str,
    k: int | None,
    spec: str,
    n: int,
    _members: pd.Index,
    _bundle: Bundle,
    _rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Users nearest the segment's centroid, members excluded (``_rows``: the members' rows, not looked up)."""
    return seg.lookalikes(_bundle, _members, n=n, rows=_rows)


@st.cache_data(show_spinner="Computing the t-SNE map (slow: about a minute for 3,000 users)…", max_entries=4)
def tsne(build_id: str, _bundle: Bundle) -> np.ndarray:
    """The t-SNE user map, once per build (slow), for the same users as the stored map."""
    return clu.user_map(_bundle, "tsne", seed=_seed(_bundle))


# Plotly figures take 0.1-0.7 s each to build on a loaded machine: built once per build, k and input, and
# shared (st.plotly_chart only reads them).
@st.cache_resource(show_spinner=False, max_entries=16)
def cluster_map(
    build_id: str, k: int | None, method: str, names: tuple[str, ...], _points: pd.DataFrame, _coords: np.ndarray | None
) -> go.Figure:
    """The 2-D map of the users, one trace per cluster (named in the legend; ``names[c]`` is cluster c's).

    The hover text is one preformatted string per point (the map frame's ``user`` and ``top_interest`` are
    HTML-escaped already, the names are escaped here): Streamlit deep-copies the figure on every rerun, and a
    string per point costs a fifth of Plotly Express' several hover columns.
    """
    import html

    points = _points if _coords is None else _points.assign(x=_coords[:, 0], y=_coords[:, 1])
    spend = points["spend"].to_numpy(dtype=np.float64, na_value=np.nan)
    events = points["n_events"].to_numpy(dtype=np.float64, na_value=np.nan)
    text = [
        f"<b>{u}</b><br>{t}<br>events {e:,.0f} · spend {s:,.2f}"
        for u, t, e, s in zip(points["user"], points["top_interest"], events, spend, strict=True)
    ]
    text = np.asarray(text, dtype=object)
    cluster = points["cluster"].astype(int).to_numpy()
    fig = go.Figure()
    for c in range(len(names)):
        at = cluster == c
        fig.add_trace(
            go.Scattergl(
                x=points["x"].to_numpy()[at],
                y=points["y"].to_numpy()[at],
                mode="markers",
                name=html.escape(f"{c} · {names[c]}"[:60]),
                text=text[at],
                hovertemplate="%{text}<extra>cluster " + str(c) + "</extra>",
                marker={"size": 5, "opacity": 0.7},
            )
        )
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=10, b=10), legend_title_text="cluster")
    return fig


@st.cache_resource(show_spinner=False, max_entries=64)
def size_chart(build_id: str, k: int | None, cluster: int, _over_time: pd.DataFrame) -> go.Figure | None:
    """Active members of one cluster per period (None when the clustering has no timed events)."""
    part = _over_time[_over_time["cluster"] == int(cluster)]
    if part.empty:
        return None
    fig = px.bar(part, x="period", y="active_users", hover_data=["events", "purchases"], height=260)
    fig.update_layout(margin=dict(l=10, r=10, t=10, b=10), xaxis_title=None, yaxis_title="active members")
    return fig


@st.cache_resource(show_spinner=False, max_entries=64)
def interest_chart(build_id: str, k: int | None, cluster: int, _row: pd.Series, _bundle: Bundle) -> go.Figure | None:
    """A cluster's distinctive interests: its mean share beside everyone's (None when none stands out)."""
    names = profile_names(_bundle)
    picks = [int(i) for i in _row["interest_ids"]]
    if not picks:
        return None
    labels = [names[i] if i < len(names) else str(i) for i in picks]
    frame = pd.DataFrame(
        {
            "interest": labels * 2,
            "share": [*_row["interest_shares"], *_row["population_shares"]],
            "who": ["this segment"] * len(picks) + ["all users"] * len(picks),
        }
    )
    fig = px.bar(
        frame, x="share", y="interest", color="who", barmode="group", orientation="h", height=90 + 50 * len(picks)
    )
    fig.update_layout(
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"tickformat": ".0%"},
        legend={"orientation": "h", "y": 1.05, "yanchor": "bottom", "title": None},
    )
    return fig


@st.cache_data(show_spinner=False, max_entries=64)
def compare(build_id: str, k: int | None, spec_a: str, spec_b: str, _features: seg.FeatureTable) -> dict:
    """Two segments side by side (sizes, overlap, interest shares, means)."""
    return seg.compare_segments(_features, json.loads(spec_a), json.loads(spec_b), names=("A", "B"))


def profile_names(bundle: Bundle) -> list[str]:
    """The interest name of each profile column (what a cluster's ``interest_ids`` point at)."""
    names = bundle.interest_names
    return [names.get(int(t), str(t)) for t in np.asarray(bundle.profile_columns).astype(int)]
