"""The Clusters and Segment profile tabs of the Clusters & segments page (drawn only while open).

Everything shown comes from the clustering the build stored (or one computed for a ``k`` the analyst set): the
page reads :func:`uig_app.segment_cache.segments` once per build and ``k`` and never clusters on a rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from uig_app import segment_cache as cache
from uig_app import url_state
from uig_app.theme import wrap_row_height
from uig_core.build.bundle import Bundle
from uig_core.errors import UIGError
from uig_core.ingest.values import count_text
from uig_core.queries import clusters as clu
from uig_core.store.workspace import DatasetInfo

__all__ = ["View", "clusters_tab", "profile_tab"]


@dataclass
class View:
    """What the tabs show: the build, the clustering (stored, or for the ``k`` set) and the clusters' names."""

    info: DatasetInfo
    bundle: Bundle
    k: int | None
    method: str
    parts: dict[str, Any]
    names: dict[int, str]

    @property
    def table(self) -> pd.DataFrame:
        """One row per cluster (:func:`~uig_core.queries.segment_names.describe_segments`)."""
        return self.parts["clusters"]

    @property
    def n_users(self) -> int:
        """Users clustered."""
        return int(self.table["users"].sum())


def _choice_caption(v: View) -> str:
    scan = v.parts["scan"]
    base = (
        f"{count_text(len(v.table), 'cluster')} of {count_text(v.n_users, 'user')} from the learned user vectors "
        f"(k-means; {'stored with the build' if v.k is None else f'computed for k = {v.k}'}); "
        f"map: {'t-SNE' if v.method == 'tsne' else 'PCA'} of the same vectors."
    )
    chosen = scan[scan["chosen"]]
    if chosen.empty:
        return base
    row = chosen.iloc[0]
    stable = f", stability {row['stability']:.2f}" if pd.notna(row["stability"]) else ""
    span = f"{int(scan['k'].min())}–{int(scan['k'].max())}"
    if pd.notna(row["stability"]) and row["stability"] >= clu.STABLE:
        text = f" k = {int(row['k'])} has the best silhouette ({row['silhouette']:.2f}{stable})"
        text += f" among the stable k of {span}."
    else:
        text = (
            f" No k of {span} gave clusters that refits agree on; k = {int(row['k'])} has the best silhouette "
            f"({row['silhouette']:.2f}{stable})."
        )
    if row["silhouette"] < 0.25:
        text += " A silhouette this low means the users form a continuum: read the clusters as a partition."
    return base + text


def _rename(v: View, cluster: int) -> None:
    try:
        cache.name_cluster(v.info, v.bundle, v.k, v.parts, cluster, st.session_state.get("seg_rename", ""))
        st.session_state["seg_renamed"] = cluster
    except UIGError as err:
        st.session_state["seg_rename_error"] = str(err)


def _profile(v: View, cluster: int) -> None:
    row = v.table[v.table["cluster"] == cluster].iloc[0]
    if st.session_state.get("seg_rename_for") != cluster or "seg_rename" not in st.session_state:
        st.session_state["seg_rename"] = v.names[cluster]  # one field, refilled when another segment is shown
        st.session_state["seg_rename_for"] = cluster
    r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
    r1.text_input("Name", key="seg_rename", max_chars=80, help=f"Automatic name: {row['name']}. Leave empty to use it.")
    r2.button("Save name", key="seg_rename_save", on_click=_rename, args=(v, cluster))
    if st.session_state.pop("seg_renamed", None) == cluster:
        st.success(f"Cluster {cluster} is now {v.names[cluster]!r}.")
    if "seg_rename_error" in st.session_state:
        st.error(st.session_state.pop("seg_rename_error"))
    m = st.columns(4)
    m[0].metric("Members", count_text(int(row["users"]), "user"), help=f"{row['share']:.1%} of all users")
    m[1].metric("Spend (mean)", f"{row['spend (mean)']:,.2f}" if pd.notna(row["spend (mean)"]) else "—")
    recency = row["recency days (median)"]
    m[2].metric("Last seen (median)", f"{recency:,.0f} days ago" if pd.notna(recency) else "—")
    m[3].metric("Events (mean)", f"{row['events (mean)']:,.1f}" if pd.notna(row["events (mean)"]) else "—")
    st.caption(f"Behaviour against all users: {row['behaviour']}. Distinctive: {row['distinctive interests'] or '—'}.")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Size over time** (members active per period)")
        fig = cache.size_chart(v.bundle.build_id, v.k, cluster, v.parts["over_time"])
        if fig is None:
            st.caption("No timed events for this clustering.")
        else:
            st.plotly_chart(fig, key="seg_size_chart")
    with c2:
        st.markdown("**Distinctive interests**")
        fig = cache.interest_chart(v.bundle.build_id, v.k, cluster, row, v.bundle)
        if fig is None:
            st.caption("No interest stands out: this segment holds interests as everyone does.")
        else:
            st.plotly_chart(fig, key="seg_interest_chart")
    st.markdown("**What to recommend to it** (the default model's top items for a sample of its members)")
    items = v.parts["items"][v.parts["items"]["cluster"] == cluster].drop(columns="cluster")
    interests = v.bundle.interest_names
    items = items.assign(interest=[interests.get(int(i), "") for i in items.pop("interest_id")])
    st.dataframe(
        items,
        hide_index=True,
        key="seg_profile_items",
        column_config={
            "share": st.column_config.ProgressColumn(
                "members",
                format="percent",
                min_value=0,
                max_value=1,
                help="Share of sampled members whose top 20 holds it",
            ),
            "title": st.column_config.TextColumn(width="large"),
        },
    )


def clusters_tab(v: View) -> None:
    """The Clusters tab: how k was chosen, the map, the named clusters."""
    note = str(v.table["note"].iat[0]) if "note" in v.table and len(v.table) else ""
    if note:
        st.info(note)
    st.caption(_choice_caption(v))
    if not v.parts["scan"].empty:
        with st.expander("How k was chosen"):
            st.dataframe(
                v.parts["scan"],
                hide_index=True,
                key="seg_scan",
                column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("silhouette", "stability")},
            )
            st.caption(
                f"Silhouette on a sample of at most 2,000 users; stability: agreement (adjusted Rand index) of "
                f"k-means refitted from other seeds on random halves; a k is stable "
                f"at {clu.STABLE:.2f} or more."
            )
    coords = cache.tsne(v.bundle.build_id, v.bundle) if v.method == "tsne" else None
    labels = tuple(v.names[int(c)] for c in v.table["cluster"])
    st.plotly_chart(cache.cluster_map(v.bundle.build_id, v.k, v.method, labels, v.parts["map"], coords), key="seg_map")
    shown = v.table.assign(name=[v.names[int(c)] for c in v.table["cluster"]], **{"automatic name": v.table["name"]})
    columns = ["cluster", "name", "users", "share", "distinctive interests", "behaviour", "events (mean)"]
    columns += ["purchases (mean)", "spend (mean)", "recency days (median)", "top interests", "automatic name"]
    st.dataframe(
        shown[columns],
        hide_index=True,
        height="content",  # every cluster in view (k is at most 15 when automatic)
        row_height=wrap_row_height(2),  # distinctive interests and behaviour wrap instead of being cut
        key="seg_clusters_table",
        column_config={
            "share": st.column_config.ProgressColumn("share", format="percent", min_value=0, max_value=1),
            "name": st.column_config.TextColumn(width="medium"),
            "distinctive interests": st.column_config.TextColumn(width="large"),
            "top interests": st.column_config.TextColumn(width="large"),
            "users": st.column_config.NumberColumn(format="localized"),
            **{
                c: st.column_config.NumberColumn(format="%,.1f")
                for c in ("events (mean)", "purchases (mean)", "spend (mean)", "recency days (median)")
            },
        },
    )
    st.caption("Open **Segment profile** for a segment's size over time, spend and what to recommend to it.")


def profile_tab(v: View) -> None:
    """The Segment profile tab: one segment's name, size over time, interests, spend and recommendations."""
    options = [int(c) for c in v.table["cluster"]]
    if st.session_state.get("seg_segment") not in options:
        st.session_state["seg_segment"] = options[0]
    sizes = dict(zip(v.table["cluster"].astype(int), v.table["users"].astype(int), strict=True))
    cluster = st.selectbox(
        "Segment",
        options,
        key="seg_segment",
        format_func=lambda c: f"{c} · {v.names[c]} ({sizes[c]:,} users)",
    )
    url_state.publish(segment=cluster)
    _profile(v, int(cluster))
