"""Interest graph: the neighbourhood of a user, item or interest, and the interest–interest overview.

The graph is a standalone pyvis page with vis-network inlined (no network access needed), shown with
``st.iframe``, which embeds an HTML string directly (as ``srcdoc``). The page holds no markup from the data:
titles travel as escaped JSON and are drawn as text (see ``uig_core.graph.html``).
"""

import re

import pandas as pd
import streamlit as st

from uig_app import state
from uig_core.build.bundle import Bundle
from uig_core.errors import UIGError
from uig_core.graph import html as graph_html
from uig_core.graph import view as graphview
from uig_core.ingest.values import count_text
from uig_core.queries.pickers import find_nodes

CENTER = "graph_center"

st.title("Interest graph")
ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready


@st.cache_data(show_spinner=False, max_entries=32)
def _neighbourhood(
    build_id: str,
    center: str,
    depth: int,
    node_types: tuple[str, ...],
    edge_types: tuple[str, ...],
    min_weight: float,
    max_nodes: int,
    _bundle: Bundle,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    nodes, edges = graphview.neighborhood(
        _bundle,
        center,
        depth=depth,
        node_types=node_types,
        edge_types=edge_types,
        min_weight=min_weight,
        max_nodes=max_nodes,
    )
    heading = f"{info.name}: {depth}-hop neighbourhood of {nodes['id'].iat[0]}"
    return nodes, edges, graph_html.render_html(nodes, edges, height=640, heading=heading)


@st.cache_data(show_spinner=False, max_entries=8)
def _overview(
    build_id: str, min_weight: float, max_nodes: int, above_chance: bool, _bundle: Bundle
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    nodes, edges = graphview.interest_overview(
        _bundle, min_weight=min_weight, max_nodes=max_nodes, min_lift=1.0 if above_chance else None
    )
    return nodes, edges, graph_html.render_html(nodes, edges, height=640, heading=f"{info.name}: interests")


def _default_center() -> str:
    return graphview.default_center(bundle)


def _pick(key: str) -> None:
    # Callbacks run before the script, so the new center is in place when the graph is drawn.
    chosen = st.session_state.get(key)
    if chosen:
        st.session_state[CENTER] = chosen
        st.session_state[key] = None


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "graph"


if st.session_state.get("graph_dataset") != info.name:  # a center only means something in its own dataset
    st.session_state["graph_dataset"] = info.name
    st.session_state[CENTER] = _default_center()

tab_around, tab_overview = st.tabs(["Neighbourhood", "Interest overview"])

with tab_around:
    left, right = st.columns([2, 3])
    query = left.text_input(
        "Search users, items, interests", key="graph_search", placeholder="id, title words or interest name"
    )
    found = find_nodes(bundle, query, limit=100)
    labels = graphview.choice_labels(found)
    right.selectbox(
        f"Center on ({len(found)} found)",
        list(labels),
        index=None,
        format_func=labels.get,
        key="graph_pick",
        on_change=_pick,
        args=("graph_pick",),
        placeholder="choose a match…",
    )

    c1, c2, c3, c4 = st.columns(4)
    depth = c1.slider("Depth (hops)", 1, 3, 1, key="graph_depth")
    min_weight = c2.slider(
        "Min edge weight",
        0.0,
        1.0,
        0.0,
        0.05,
        key="graph_min_weight",
        help="Edge strengths are normalised to 0–1: behaviour edges by percentile, profile "
        "edges by interest share, interest links by co-occurrence.",
    )
    max_nodes = c3.slider("Max nodes", 10, 400, 150, 10, key="graph_max_nodes")
    c4.text(f"Center: {st.session_state[CENTER]}")
    t1, t2 = st.columns(2)
    node_types = t1.multiselect(
        "Node types", list(graphview.NODE_TYPES), default=list(graphview.NODE_TYPES), key="graph_node_types"
    )
    edge_types = t2.multiselect(
        "Edge types", list(graphview.EDGE_TYPES), default=list(graphview.DEFAULT_EDGE_TYPES), key="graph_edge_types"
    )

    try:
        nodes, edges, page = _neighbourhood(
            bundle.build_id,
            st.session_state[CENTER],
            depth,
            tuple(node_types),
            tuple(edge_types),
            float(min_weight),
            int(max_nodes),
            bundle,
        )
    except UIGError as err:
        state.show_error(err)
        st.session_state[CENTER] = _default_center()
    else:
        st.iframe(page, height=720, alt=f"Graph around {st.session_state[CENTER]}")
        neighbours = nodes.iloc[1:]
        options = graphview.choice_labels(neighbours)
        a, b = st.columns([3, 1])
        a.selectbox(
            "Re-center on a node in view",
            list(options),
            index=None,
            format_func=options.get,
            key="graph_recenter",
            on_change=_pick,
            args=("graph_recenter",),
            placeholder="choose a node…",
        )
        b.download_button(
            "Download HTML",
            page,
            file_name=f"uig_{_safe_name(st.session_state[CENTER])}.html",
            mime="text/html",
            key="graph_download",
            help="A standalone file that works offline.",
        )
        st.caption(
            f"{count_text(len(nodes), 'node')} · {count_text(len(edges), 'edge')}. Hover a node or an edge for "
            "details; drag to move, scroll to zoom."
        )
        cut = edges.attrs.get("edges_cut", 0)
        if nodes.attrs.get("capped") or cut:
            st.info(
                (
                    f"More nodes lie within {count_text(depth, 'hop')} than **Max nodes** ({int(max_nodes):,}) "
                    "allows: only the strongest are drawn. Raise **Max nodes** or **Min edge weight** to see more "
                    "or fewer."
                    if nodes.attrs.get("capped")
                    else ""
                )
                + (f" {count_text(cut, 'weaker edge')} left out as well." if cut else "")
            )
        with st.expander("Nodes in view"):
            st.dataframe(nodes[["id", "type", "label", "hop"]], hide_index=True, key="graph_nodes_table")

with tab_overview:
    o1, o2, o3 = st.columns([2, 2, 1])
    o_min = o1.slider(
        "Min co-occurrence",
        0.0,
        1.0,
        0.0,
        0.05,
        key="overview_min_weight",
        help="Ochiai association of two interests: users holding both / √(holders of each).",
    )
    o_max = o2.slider("Max interests", 5, 200, 80, 5, key="overview_max_nodes")
    o_lift = o3.toggle(
        "Above chance only",
        value=True,
        key="overview_above_chance",
        help="Keep links whose lift is above 1: more users hold both interests than chance predicts.",
    )
    try:
        o_nodes, o_edges, o_page = _overview(bundle.build_id, float(o_min), int(o_max), bool(o_lift), bundle)
    except UIGError as err:
        state.show_error(err)
    else:
        st.iframe(o_page, height=720, alt="Interest–interest graph")
        st.caption(
            f"{count_text(len(o_nodes), 'interest')} (size = number of items) · "
            f"{count_text(len(o_edges), 'co-occurrence link')}."
        )
        if o_nodes.attrs.get("left_out"):
            st.info(
                f"{count_text(o_nodes.attrs['left_out'], 'smaller interest')} left out by **Max interests** "
                f"({int(o_max):,}); raise it to see them."
            )
        o_opts = graphview.choice_labels(o_nodes)
        p1, p2 = st.columns([3, 1])
        p1.selectbox(
            "Open an interest's neighbourhood",
            list(o_opts),
            index=None,
            format_func=o_opts.get,
            key="overview_pick",
            on_change=_pick,
            args=("overview_pick",),
            placeholder="choose an interest…",
        )
        p2.download_button(
            "Download HTML", o_page, file_name="uig_interests.html", mime="text/html", key="overview_download"
        )
