"""Clusters & segments: named user clusters (stored with the build) and a segment's profile, a rule-based segment
builder, comparison, lookalikes and export."""

import streamlit as st

from uig_app import segment_builder as builder
from uig_app import segment_cache as cache
from uig_app import segment_views as views
from uig_app import state, url_state
from uig_core.errors import UIGError
from uig_core.queries import clusters as clu

st.title("Clusters & segments")
ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready
builder.keep_rule_state()

top = st.columns([1.2, 1, 2, 1.5])
auto = top[0].toggle(
    "Automatic k",
    value=True,
    key="seg_auto_k",
    help="The clusters the build stored, with k (2–15) chosen by silhouette among the k whose refits agree "
    "(stability). Turn off to set k yourself (computed on request).",
)
st.session_state.setdefault("seg_k", 8)
if auto:  # the box shows the k the build chose (and starts from it when the analyst turns automatic off)
    try:
        st.session_state["seg_k"] = len(cache.segments(bundle.build_id, None, bundle, info)["clusters"])
    except UIGError:
        pass  # the same error is shown below, where the clusters are read
k_set = top[1].number_input("k", 2, 40, key="seg_k", disabled=auto)
k = None if auto else int(k_set)
method = top[2].radio(
    "Map",
    ["pca", "tsne"],
    key="seg_map_method",
    horizontal=True,
    format_func={"pca": "PCA (instant)", "tsne": "t-SNE (slow, cached)"}.get,
    help="PCA projects the user vectors in milliseconds; t-SNE separates clusters better but "
    "takes about a minute for 3,000 users on two cores (once per build). "
    f"The map draws at most {clu.MAP_POINTS:,} users (a fixed sample).",
)
try:
    parts = cache.segments(bundle.build_id, k, bundle, info)
except UIGError as err:
    state.show_error(err)
    st.stop()
table = parts["clusters"]
given = cache.cluster_names(info, bundle, k, parts)
names = {int(c): given.get(int(c), auto_name) for c, auto_name in zip(table["cluster"], table["name"], strict=True)}
view = views.View(info, bundle, k, method, parts, names)

# Only the open tab runs (its .open is True): the builder's feature frame costs seconds on millions of users.
if url_state.restore("seg_segment", "segment", allowed=[str(c) for c in table["cluster"]], convert=int) is not None:
    st.session_state["seg_tab"] = "Segment profile"  # a shared link to a segment opens its profile
tabs = st.tabs(["Clusters", "Segment profile", "Segment builder", "Compare segments"], key="seg_tab", on_change="rerun")
for tab, body in zip(
    tabs, (views.clusters_tab, views.profile_tab, builder.builder_tab, builder.compare_tab), strict=True
):
    if tab.open:
        with tab:
            body(view)
if not tabs[1].open:
    url_state.publish(segment=None)  # the URL names a segment only while its profile is shown
