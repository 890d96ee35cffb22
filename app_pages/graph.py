"""Interest graph: the interest-first neighbourhood of a user, item or interest, and the interest overview.

The drawing is a small Streamlit component (``uig_app/graph_component.py``) around vis-network: positions are
computed in the engine (``uig_core.graph.positions``), physics is off and the view fits the canvas; clicking a node
re-centers the page on it. The focused node is in the URL (``?node=``), so a reload or a shared link opens it.
Titles travel as JSON and are drawn as text (see ``uig_core.graph.html``).
"""

import re

import streamlit as st

from uig_app import state, url_state
from uig_app.graph_component import graph_canvas
from uig_core.build.bundle import Bundle
from uig_core.errors import UIGError
from uig_core.graph import view as graphview
from uig_core.ingest.values import count_text
from uig_core.queries.pickers import find_nodes

CENTER = "graph_center"
TAB = "graph_tab"
TABS = ["Neighbourhood", "Interest overview"]

st.title("Interest graph")
ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready


@st.cache_data(show_spinner=False, max_entries=32)
def _view(build_id: str, center: str, mode: str, params: tuple, _bundle: Bundle) -> graphview.GraphView:
    depth, node_types, edge_types, min_weight, max_nodes, per_interest = params
    return graphview.graph_view(
        _bundle,
        center,
        mode=mode,
        per_interest=per_interest,
        depth=depth,
        node_types=node_types,
        edge_types=edge_types,
        min_weight=min_weight,
        max_nodes=max_nodes,
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _overview(
    build_id: str, min_weight: float, max_nodes: int, above_chance: bool, max_links: int, _bundle: Bundle
) -> graphview.GraphView:
    return graphview.overview_view(
        _bundle,
        min_weight=min_weight,
        max_nodes=max_nodes,
        min_lift=1.0 if above_chance else None,
        max_links=max_links,
    )


def _recenter(node: str, *, to_neighbourhood: bool = False) -> None:
    # Widget callbacks run before the script, so the new center is in place when the graph is drawn.
    st.session_state[CENTER] = node
    if to_neighbourhood:
        st.session_state[TAB] = TABS[0]


def _pick(key: str) -> None:
    chosen = st.session_state.get(key)
    if chosen:
        _recenter(chosen, to_neighbourhood=True)
        st.session_state[key] = None  # so the same match can be chosen again


def _valid(node: str) -> bool:
    try:
        graphview.resolve_center(bundle, node)
    except UIGError:
        return False
    return True


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "graph"


if st.session_state.get("graph_dataset") != info.name:  # a center only means something in its own dataset
    st.session_state["graph_dataset"] = info.name
    st.session_state[CENTER] = graphview.default_center(bundle)
url_state.restore(CENTER, "node", allowed=_valid)  # a reload or a shared link opens its node

tab_around, tab_overview = st.tabs(TABS, key=TAB, on_change="rerun")


def neighbourhood_tab() -> None:
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
    mode = st.segmented_control(
        "View",
        list(graphview.VIEW_MODES),
        default="interests",
        format_func={"interests": "Interests first", "hops": "Hops (every edge)"}.get,
        key="graph_mode",
        required=True,
        help="Interests first: a user's interests sized by share, then their strongest items in each; an item's "
        "interest, the items its shoppers also took and its shoppers. Hops: every edge within a number of hops.",
    )
    params = _controls(mode)
    try:
        view = _view(bundle.build_id, st.session_state[CENTER], mode, params, bundle)
    except UIGError as err:
        state.show_error(err)
        st.session_state[CENTER] = graphview.default_center(bundle)
        return
    url_state.publish(node=view.center)
    hits = [str(i) for i in found["id"]] if query else []
    graph_canvas({**view.data, "highlight": hits}, key="graph_canvas", on_click=_recenter)
    _notes(view, mode, params)
    _in_view(view)


def _controls(mode: str) -> tuple:
    if mode == "interests":
        per = st.columns([2, 3])[0].slider(
            "Items per interest",
            1,
            50,
            5,
            key="graph_per_interest",
            help="More items on demand: how many of the user's items to show in each of their interests.",
        )
        return 1, tuple(graphview.NODE_TYPES), tuple(graphview.DEFAULT_EDGE_TYPES), 0.0, 150, int(per)
    c1, c2, c3 = st.columns(3)
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
    t1, t2 = st.columns(2)
    node_types = t1.multiselect(
        "Node types", list(graphview.NODE_TYPES), default=list(graphview.NODE_TYPES), key="graph_node_types"
    )
    edge_types = t2.multiselect(
        "Edge types", list(graphview.EDGE_TYPES), default=list(graphview.DEFAULT_EDGE_TYPES), key="graph_edge_types"
    )
    return int(depth), tuple(node_types), tuple(edge_types), float(min_weight), int(max_nodes), 5


def _notes(view: graphview.GraphView, mode: str, params: tuple) -> None:
    nodes, edges = view.nodes, view.edges
    st.caption(  # the canvas's own header counts the nodes and edges
        "Click a node to re-center on it; hover a node or a line for details; scroll to zoom, drag to pan."
    )
    more = sum(nodes.attrs.get("more", {}).values())
    cut = edges.attrs.get("edges_cut", 0)
    if mode == "interests" and more:
        st.info(
            f"This user has {count_text(more, 'more item')} in the interests shown: raise **Items per interest** "
            "to draw them."
        )
    elif mode == "hops" and (nodes.attrs.get("capped") or cut):
        st.info(
            (
                f"More nodes lie within {count_text(params[0], 'hop')} than **Max nodes** ({params[4]:,}) "
                "allows: only the strongest are drawn."
                if nodes.attrs.get("capped")
                else ""
            )
            + (f" {count_text(cut, 'weaker edge')} left out as well." if cut else "")
        )


def _in_view(view: graphview.GraphView) -> None:
    options = graphview.choice_labels(view.nodes.iloc[1:])
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
        view.html,  # built when clicked
        file_name=f"uig_{_safe_name(view.center or 'graph')}.html",
        mime="text/html",
        key="graph_download",
        help="A standalone file that works offline: click a node to focus it.",
    )
    with st.expander("Nodes in view"):
        st.dataframe(view.nodes[["id", "type", "label", "hop"]], hide_index=True, key="graph_nodes_table")


def overview_tab() -> None:
    o1, o2, o4, o3 = st.columns([3, 3, 3, 2])
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
    o_links = o4.slider(
        "Links per interest",
        1,
        30,
        4,
        key="overview_max_links",
        help="Each interest keeps its strongest links (a link stays when it is among the strongest of either "
        "end): the clusters show instead of a hairball.",
    )
    o_lift = o3.toggle(
        "Above chance",
        value=True,
        key="overview_above_chance",
        help="Keep links whose lift is above 1: more users hold both interests than chance predicts.",
    )
    try:
        view = _overview(bundle.build_id, float(o_min), int(o_max), bool(o_lift), int(o_links), bundle)
    except UIGError as err:
        state.show_error(err)
        return
    graph_canvas(view.data, key="overview_canvas", on_click=lambda node: _recenter(node, to_neighbourhood=True))
    n_clusters = view.nodes["cluster"].nunique() if len(view.nodes) else 0
    st.caption(
        f"{count_text(len(view.nodes), 'interest')} in {count_text(n_clusters, 'cluster')} of interests held "
        f"together (colour; size = number of items) · {count_text(len(view.edges), 'co-occurrence link')}. "
        "Click an interest to open its neighbourhood."
    )
    if view.nodes.attrs.get("left_out"):
        st.info(
            f"{count_text(view.nodes.attrs['left_out'], 'smaller interest')} left out by **Max interests** "
            f"({int(o_max):,}); raise it to see them."
        )
    o_opts = graphview.choice_labels(view.nodes)
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
        "Download HTML", view.html, file_name="uig_interests.html", mime="text/html", key="overview_download"
    )


if tab_overview.open:
    with tab_overview:
        overview_tab()
else:
    with tab_around:
        neighbourhood_tab()
