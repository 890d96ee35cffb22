"""Graph views of a build: what the Interest graph page, ``uig graph`` and the HTML export draw.

The pieces live by concept; this module names the views and re-exports the vocabulary:

* :mod:`uig_core.graph.nodes`: node and edge types, colours, cleaned text, ids, node frames;
* :mod:`uig_core.graph.walk`: the breadth-first neighbourhood (the "hops" view);
* :mod:`uig_core.graph.focus`: the interest-first neighbourhood of a user or an item;
* :mod:`uig_core.graph.overview`: the interest overview with its clusters;
* :mod:`uig_core.graph.positions`: fixed positions, so the picture is still and fits the canvas;
* :mod:`uig_core.graph.html`: the data the page draws and the standalone file.

Example:
    >>> from uig_core.graph.view import VIEW_MODES
    >>> VIEW_MODES
    ('interests', 'hops')
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from uig_core.errors import ConfigError
from uig_core.graph.focus import interest_first
from uig_core.graph.html import labelled, render_html, vis_data
from uig_core.graph.nodes import (
    DEFAULT_EDGE_TYPES,
    EDGE_TYPES,
    NODE_COLORS,
    NODE_TYPES,
    PROFILE_EDGE_MIN,
    choice_labels,
    clean_text,
    default_center,
    resolve_center,
)
from uig_core.graph.overview import interest_overview
from uig_core.graph.positions import place
from uig_core.graph.walk import neighborhood

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "NODE_TYPES",
    "EDGE_TYPES",
    "DEFAULT_EDGE_TYPES",
    "NODE_COLORS",
    "PROFILE_EDGE_MIN",
    "VIEW_MODES",
    "GraphView",
    "graph_view",
    "overview_view",
    "neighborhood",
    "interest_first",
    "interest_overview",
    "default_center",
    "choice_labels",
    "resolve_center",
    "clean_text",
]

log = logging.getLogger(__name__)

#: How a neighbourhood is walked: interest-first (user → interests → items) or breadth-first hops.
VIEW_MODES: tuple[str, ...] = ("interests", "hops")


@dataclass(frozen=True)
class GraphView:
    """One drawn view: frames with positions, the drawing's data, and the heading of its exported file."""

    nodes: pd.DataFrame  #: node frame with ``x``, ``y``
    edges: pd.DataFrame
    heading: str
    data: dict[str, Any] = field(repr=False)  #: :func:`~uig_core.graph.html.vis_data` of the frames
    center: str | None = None  #: the center's node id (None for the overview)

    def html(self) -> str:
        """The standalone offline file of this view (:func:`~uig_core.graph.html.render_html`)."""
        return render_html(self.nodes, self.edges, height=self.data["height"], heading=self.heading, center=self.center)


def _drawn(nodes: pd.DataFrame, edges: pd.DataFrame, heading: str, height: int, center: str | None) -> GraphView:
    placed = place(nodes, edges, labelled=labelled(nodes, 60))
    return GraphView(placed, edges, heading, vis_data(placed, edges, center=center, height=height), center)


def graph_view(
    bundle: Bundle,
    center: str,
    *,
    mode: str = "interests",
    per_interest: int = 5,
    depth: int = 1,
    node_types: Iterable[str] = NODE_TYPES,
    edge_types: Iterable[str] = DEFAULT_EDGE_TYPES,
    min_weight: float = 0.0,
    max_nodes: int = 150,
    height: int = 640,
) -> GraphView:
    """The neighbourhood of ``center``, laid out and ready to draw.

    Args:
        bundle: A loaded build.
        center: ``user:ID``, ``item:ID``, ``interest:ID`` or a bare ID.
        mode: ``"interests"`` (:func:`~uig_core.graph.focus.interest_first`, with ``per_interest``) or ``"hops"``
            (:func:`~uig_core.graph.walk.neighborhood`, with ``depth``, the type filters, ``min_weight`` and
            ``max_nodes``).
        per_interest: Items per interest (interest-first view).
        depth: Hops from the center (hops view).
        node_types: Node types shown (hops view).
        edge_types: Edge types walked (hops view).
        min_weight: Weakest edge strength kept (hops view).
        max_nodes: Most nodes (hops view).
        height: Canvas height in pixels.

    Returns:
        The :class:`GraphView`; ``nodes.attrs`` keep the walk's notes (``capped``, ``more``, ``edges_cut``).

    Raises:
        UnknownId: The center does not exist.
        ConfigError: A parameter is out of range.
    """
    t0 = time.perf_counter()
    if mode == "interests":
        nodes, edges = interest_first(bundle, center, per_interest=per_interest)
        what = "interests"
    elif mode == "hops":
        nodes, edges = neighborhood(
            bundle,
            center,
            depth=depth,
            node_types=node_types,
            edge_types=edge_types,
            min_weight=min_weight,
            max_nodes=max_nodes,
        )
        what = f"{depth}-hop neighbourhood"
    else:
        raise ConfigError(f"The 'mode' of graph_view must be one of {', '.join(VIEW_MODES)}. Got {mode!r} instead.")
    heading = f"{bundle.meta.get('dataset', '')}: {what} of {nodes['id'].iat[0]}"
    view = _drawn(nodes, edges, heading, height, str(nodes["id"].iat[0]))
    log.debug("graph view %s (%s): %d nodes in %.3fs", center, mode, len(nodes), time.perf_counter() - t0)
    return view


def overview_view(
    bundle: Bundle,
    *,
    min_weight: float = 0.0,
    max_nodes: int = 80,
    min_lift: float | None = None,
    max_links: int | None = 4,
    height: int = 700,
) -> GraphView:
    """The interest overview (:func:`~uig_core.graph.overview.interest_overview`), laid out and ready to draw.

    ``max_links`` (default 4) keeps each interest's strongest links only, so the clusters show; None keeps all.
    """
    nodes, edges = interest_overview(
        bundle, min_weight=min_weight, max_nodes=max_nodes, min_lift=min_lift, max_links=max_links
    )
    return _drawn(nodes, edges, f"{bundle.meta.get('dataset', '')}: interests", height, None)
