"""The graph page's drawing as a Streamlit component: a click on a node comes back to Python.

``uig_core/graph/assets`` (index.html, graph.js, graph.css) is served as the component; its script loads
vis-network from the pyvis package's own folder, served as a second component, so nothing is copied or
downloaded. The script draws :func:`uig_core.graph.html.vis_data` and, on a node click, sets the component's value
to ``{"node": id, "at": ms}``; :func:`graph_canvas` turns that into a callback with the node id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from uig_core.graph.html import ASSETS, vis_lib_dir

__all__ = ["graph_canvas"]

_GRAPH = components.declare_component("uig_graph", path=str(ASSETS))
_VIS = components.declare_component("uig_vis_lib", path=str(vis_lib_dir()))
#: The script's URL relative to the graph component's page (both are served under ``/component/<name>/``).
_LIB = f"../{_VIS.name}/vis-network.min.js"


def graph_canvas(data: dict[str, Any], *, key: str, on_click: Callable[[str], None] | None = None) -> None:
    """Draw ``data`` (from :func:`~uig_core.graph.html.vis_data`); ``on_click(node_id)`` runs before the rerun.

    Args:
        data: The drawing's data.
        key: The widget key (one per canvas on the page; the same key keeps the same frame across reruns).
        on_click: Called with the clicked node's id, as a widget callback (before the script reruns).
    """

    def clicked() -> None:
        value = st.session_state.get(key)
        if on_click is not None and isinstance(value, dict) and isinstance(value.get("node"), str):
            on_click(value["node"])

    _GRAPH(data=data, lib=_LIB, key=key, default=None, on_change=clicked)
