r"""Offline pyvis rendering of graph neighbourhoods (the frames of :mod:`uig_core.graph.view`).

Untrusted text. Titles and names come from uploaded logs. They are cleaned (control characters dropped, length
capped) and travel only as JSON data inside the page's script: Jinja's ``tojson`` writes ``<``, ``>``, ``&`` and
``'`` as ``\u003c``-style escapes, so no data can close the script block. vis-network 9.1 draws labels on a
canvas and sets string tooltips with ``innerText``, so the text is shown literally and never parsed as HTML —
which is also why it is *not* ``html.escape``-d first (vis would then show ``&lt;`` to the reader). pyvis's
``innerHTML`` tooltip mode (switched on by any title containing ``href``) is never used. Every piece of markup
this module writes itself (legend, heading) goes through :func:`html.escape`.

The page is standalone: vis-network is inlined (``cdn_resources="in_line"``) and any remote ``<script>``/``<link>``
left in pyvis's template is stripped, so graphs draw with no network.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uig_core import atomic
from uig_core.errors import ConfigError
from uig_core.graph.view import NODE_COLORS, NODE_TYPES, clean_text

__all__ = ["EDGE_COLORS", "render_html", "save_html", "legend_html", "clean_text_lines"]

log = logging.getLogger(__name__)

EDGE_COLORS: dict[str, str] = {
    "user-item": "#9ecae9",
    "item-interest": "#f4b183",
    "user-interest": "#a1d99b",
    "interest-interest": "#54A24B",
    "user-user": "#9ecae1",
}
_SHAPES = {"user": "dot", "item": "square", "interest": "diamond"}


@lru_cache(maxsize=1)
def _template() -> Any:
    from pyvis.network import Network

    # One compiled template per process: compiling inlines ~500 kB of vis-network each time otherwise.
    return Network(cdn_resources="in_line").templateEnv.get_template("template.html")


_EXTERNAL = re.compile(
    r"<link[^>]*https?://[^>]*>|<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.IGNORECASE
)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.IGNORECASE)
_REMOTE = re.compile(r"<script[^>]*\ssrc=|<link[^>]*\shref=\"?https?:", re.IGNORECASE)
_DEAD_COMMENT = re.compile(r"<!--\s*<link[^>]*node_modules.*?-->", re.IGNORECASE | re.DOTALL)


def _options(n_nodes: int, physics: bool) -> dict[str, Any]:
    return {
        "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": False},
        "nodes": {"font": {"size": 13, "face": "sans-serif"}, "borderWidth": 1},
        "edges": {"smooth": False, "color": {"inherit": False}},
        "physics": {
            "enabled": physics,
            "solver": "barnesHut",
            "barnesHut": {
                "gravitationalConstant": -6000,
                "springLength": 170,
                "springConstant": 0.03,
                "damping": 0.25,
                "avoidOverlap": 0.2,
            },
            "stabilization": {"enabled": True, "iterations": 200 if n_nodes <= 200 else 100},
        },
    }


def legend_html(types: Iterable[str] = NODE_TYPES, *, note: str = "") -> str:
    """A small HTML legend of node colours (all text escaped)."""
    chips = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
        f'<span style="width:12px;height:12px;border-radius:{"50%" if t == "user" else "2px"};'
        f'background:{NODE_COLORS[t]};display:inline-block;margin-right:5px"></span>{html.escape(t)}</span>'
        for t in types
        if t in NODE_COLORS
    )
    extra = f'<span style="color:#666">{html.escape(note)}</span>' if note else ""
    return (
        f'<div class="uig-legend" style="font:13px sans-serif;padding:6px 8px;background:#fafafa;'
        f'border-bottom:1px solid #ddd">{chips}{extra}</div>'
    )


def render_html(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    height: int | str = 650,
    physics: bool = True,
    heading: str = "",
    max_labels: int = 60,
) -> str:
    """A standalone, offline HTML page (vis-network inlined) drawing the nodes and edges.

    Args:
        nodes: Node frame of :func:`~uig_core.graph.view.neighborhood` / :func:`~uig_core.graph.view.interest_overview`.
        edges: Edge frame of the same call.
        height: Canvas height (pixels or a CSS length).
        physics: Animate the force layout (off: the initial layout stays).
        heading: A line of text above the legend (escaped).
        max_labels: Beyond this many nodes only the center, the interests and the largest nodes keep a visible
            label (all keep their tooltip), so dense graphs stay readable.

    Returns:
        The HTML document. It loads nothing from the network and holds no markup taken from the data.
    """
    from pyvis.network import Network

    css_height = f"{int(height)}px" if isinstance(height, (int, np.integer)) else str(height)
    if not re.fullmatch(r"\d{1,5}(px|vh|%)", css_height):
        raise ConfigError(
            f"The 'height' of render_html must be pixels (e.g. 650) or a CSS length like '80vh'. "
            f"Got {height!r} instead."
        )
    net = Network(height=css_height, width="100%", cdn_resources="in_line")
    net.nodes = _vis_nodes(nodes, max_labels)
    net.node_ids = [n["id"] for n in net.nodes]
    net.edges = _vis_edges(edges)
    options = json.dumps(_options(len(net.nodes), physics))
    page = _template().render(
        height=css_height,
        width="100%",
        nodes=net.nodes,
        edges=net.edges,
        heading="",
        options=options,
        physics_enabled=physics,
        use_DOT=False,
        dot_lang="",
        widget=False,
        bgcolor="#ffffff",
        conf=False,
        tooltip_link=False,
        neighborhood_highlight=False,
        select_menu=False,
        filter_menu=False,
        notebook=False,
        cdn_resources="in_line",
    )
    page = _EMPTY_HEADING.sub("", _DEAD_COMMENT.sub("", _EXTERNAL.sub("", page)))
    if _REMOTE.search(page):  # a changed pyvis template must not make the page load remote code
        raise RuntimeError("the pyvis template references a remote resource; update uig_core.graph.html._EXTERNAL.")
    types = [t for t in NODE_TYPES if t in set(nodes["type"])]
    top = (
        f'<div style="font:15px sans-serif;padding:6px 8px">{html.escape(clean_text(heading, 200))}</div>'
        if heading
        else ""
    )
    note = f"  {len(nodes)} nodes · {len(edges)} edges · hover for details, scroll to zoom"
    page = page.replace("<body>", "<body>" + top + legend_html(types, note=note), 1)
    return page


def _vis_nodes(nodes: pd.DataFrame, max_labels: int) -> list[dict[str, Any]]:
    """vis-network node dicts; beyond ``max_labels`` nodes only the important ones keep a visible label."""
    shown = _labelled(nodes, max_labels)
    return [
        {
            "id": str(r.id),
            "label": clean_text(r.label, 80) if r.id in shown else " ",
            "title": clean_text_lines(r.title),
            "shape": _SHAPES.get(r.type, "dot"),
            "color": NODE_COLORS.get(r.type, "#999999"),
            "size": float(r.size),
            "group": str(r.type),
            **({"borderWidth": 3, "font": {"size": 16, "bold": True}} if int(r.hop) == 0 else {}),
        }
        for r in nodes.itertuples(index=False)
    ]


def _vis_edges(edges: pd.DataFrame) -> list[dict[str, Any]]:
    """vis-network edge dicts, widths relative to the strongest edge of the same type (weak structure stays visible)."""
    top = edges.groupby("type")["weight"].max().to_dict() if len(edges) else {}
    return [
        {
            "from": str(e.source),
            "to": str(e.target),
            "title": clean_text_lines(e.title),
            "width": 0.5 + 4.0 * float(e.weight) / max(float(top.get(e.type, 1.0)), 1e-9),
            "color": EDGE_COLORS.get(e.type, "#cccccc"),
        }
        for e in edges.itertuples(index=False)
    ]


def _labelled(nodes: pd.DataFrame, max_labels: int) -> set[str]:
    if len(nodes) <= max_labels:
        return set(nodes["id"])
    rank = nodes.assign(_c=nodes["hop"] == 0, _i=nodes["type"] == "interest")
    rank = rank.sort_values(["_c", "_i", "size"], ascending=False, kind="stable")
    return set(rank["id"].iloc[:max_labels])


def clean_text_lines(value: Any, limit: int = 600) -> str:
    """Like :func:`clean_text`, keeping line breaks (tooltips are multi-line)."""
    lines = [clean_text(line, 200) for line in str(value if value is not None else "").split("\n")]
    return "\n".join(line for line in lines if line)[:limit]


def save_html(path: str | Path, nodes: pd.DataFrame, edges: pd.DataFrame, **kwargs: Any) -> Path:
    """Write :func:`render_html`'s page to ``path`` atomically and return the path."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"the graph file must end in .html; got {str(path)!r}. Try {path.with_suffix('.html')}.")
    atomic.write_bytes(path, render_html(nodes, edges, **kwargs).encode("utf-8"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # a file for people to open and share, not a private temp file
    return path
