r"""Drawing graph views with vis-network: the data the page draws, and the standalone offline HTML file.

One drawing script, ``assets/graph.js``, serves both the dashboard's component (``uig_app/graph_component.py``,
which hands it :func:`vis_data` through Streamlit) and the exported file of :func:`render_html`, so the file
behaves as the page does: fixed positions (:mod:`uig_core.graph.positions`), physics off, the view fitted to the
canvas, click a node to focus its neighbourhood, a search box that highlights matches.

Untrusted text. Titles and names come from uploaded logs. They are cleaned (control characters dropped, length
capped) and travel only as JSON data: in the file inside a ``<script type="application/json">`` block where
``<``, ``>``, ``&``, ``'`` and the line separators are written as ``\u003c``-style escapes, so no data can close
the block. The script sets every text with ``textContent`` and vis-network 9.1 draws labels on a canvas and sets
string tooltips with ``innerText``, so the text is shown literally and never parsed as HTML — which is also why it
is *not* ``html.escape``-d first (the reader would see ``&lt;``). The markup this module writes itself (heading)
goes through :func:`html.escape`.

The file is standalone: vis-network (bundled with the pyvis package) is inlined, nothing loads from the network.
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
from uig_core.graph.nodes import NODE_COLORS, NODE_TYPES, clean_text, shown_label

__all__ = [
    "EDGE_COLORS",
    "ASSETS",
    "vis_lib_dir",
    "vis_data",
    "render_html",
    "save_html",
    "legend_html",
    "clean_text_lines",
]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("assets")
EDGE_COLORS: dict[str, str] = {
    "user-item": "#9ecae9",
    "item-interest": "#f4b183",
    "user-interest": "#a1d99b",
    "interest-interest": "#54A24B",
    "user-user": "#9ecae1",
    "item-item": "#d4a373",
}
_SHAPES = {"user": "dot", "item": "square", "interest": "diamond"}
_REMOTE = re.compile(r"<script[^>]*\ssrc=|<link[^>]*\shref=\"?https?:", re.IGNORECASE)
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def vis_lib_dir() -> Path:
    """The folder of vis-network 9.1.2 as bundled with pyvis (``vis-network.min.js``, ``vis-network.css``)."""
    import pyvis

    folder = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    if not (folder / "vis-network.min.js").is_file():
        raise RuntimeError(f"vis-network is missing from the pyvis package at {folder}; reinstall pyvis>=0.3.2.")
    return folder


@lru_cache(maxsize=1)
def _inline_parts() -> tuple[str, str, str, str]:
    lib = vis_lib_dir()
    return (
        (lib / "vis-network.css").read_text(encoding="utf-8"),
        (lib / "vis-network.min.js").read_text(encoding="utf-8"),
        (ASSETS / "graph.js").read_text(encoding="utf-8"),
        (ASSETS / "graph.css").read_text(encoding="utf-8"),
    )


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


def vis_data(
    nodes: pd.DataFrame, edges: pd.DataFrame, *, center: str | None = None, max_labels: int = 60, height: int = 640
) -> dict[str, Any]:
    """What ``assets/graph.js`` draws: vis-network nodes (with fixed ``x, y``) and edges, a legend, a note.

    Args:
        nodes: A node frame of :mod:`uig_core.graph.view`; positions are computed when it has no ``x``/``y``.
        edges: Its edge frame.
        center: The center's node id (drawn larger, its details shown first); None for the overview.
        max_labels: Beyond this many nodes only the center, the interests and the largest nodes keep a visible
            label (all keep their tooltip), so dense graphs stay readable.
        height: Canvas height in pixels.

    Returns:
        A JSON-ready dict; every text in it is cleaned plain text.
    """
    from uig_core.graph.positions import place

    shown = labelled(nodes, max_labels)
    if len(nodes) and not {"x", "y"} <= set(nodes.columns):
        nodes = place(nodes, edges, labelled=shown)
    return {
        "nodes": _vis_nodes(nodes, shown, center),
        "edges": _vis_edges(edges),
        "legend": _legend(nodes, edges),
        "center": center,
        "height": int(height),
        "note": f"{len(nodes):,} nodes · {len(edges):,} edges",
    }


def _vis_nodes(nodes: pd.DataFrame, shown: set[str], center: str | None) -> list[dict[str, Any]]:
    out, overview = [], bool((nodes["hop"] == 0).all())
    for r in nodes.to_dict("records"):
        node = {
            "id": str(r["id"]),
            "label": shown_label(str(r["type"]), r["label"], overview=overview) if r["id"] in shown else "",
            "title": clean_text_lines(r["title"]),
            "shape": _SHAPES.get(str(r["type"]), "dot"),
            "color": str(r.get("color") or NODE_COLORS.get(str(r["type"]), "#999999")),
            "size": round(float(r["size"]), 1),
            "group": str(r["type"]),
            "x": float(r.get("x", 0.0)),
            "y": float(r.get("y", 0.0)),
        }
        if node["id"] == center:
            node.update(borderWidth=4, font={"size": 17, "bold": True})
        elif r["type"] == "interest":
            node["font"] = {"size": 15}
        out.append(node)
    return out


def _vis_edges(edges: pd.DataFrame) -> list[dict[str, Any]]:
    """Edge dicts, widths relative to the strongest edge of the same type (weak structure stays visible)."""
    top = edges.groupby("type")["weight"].max().to_dict() if len(edges) else {}
    return [
        {
            "from": str(e.source),
            "to": str(e.target),
            "title": clean_text_lines(e.title),
            "width": round(0.6 + 5.4 * float(e.weight) / max(float(top.get(e.type, 1.0)), 1e-9), 2),
            "color": str(getattr(e, "color", "") or EDGE_COLORS.get(e.type, "#cccccc")),
            "kind": str(e.type),
        }
        for e in edges.itertuples(index=False)
    ]


def _legend(nodes: pd.DataFrame, edges: pd.DataFrame) -> list[dict[str, str]]:
    if "group" in nodes and "cluster" in nodes:  # the overview: one chip per cluster, largest first
        firsts = nodes.sort_values("cluster", kind="stable").drop_duplicates("cluster")
        chips = [
            {"label": clean_text(g, 40), "color": str(c), "shape": "diamond"}
            for g, c in zip(firsts["group"], firsts["color"], strict=True)
        ]
    else:
        chips = [
            {"label": t, "color": NODE_COLORS[t], "shape": _SHAPES[t]} for t in NODE_TYPES if t in set(nodes["type"])
        ]
    if len(edges):
        chips.append(
            {"label": "line width = edge strength (hover a line for its weight)", "color": "", "shape": "line"}
        )
    return chips


def labelled(nodes: pd.DataFrame, max_labels: int) -> set[str]:
    if len(nodes) <= max_labels:
        return set(nodes["id"])
    rank = nodes.assign(_c=nodes["hop"] == 0, _i=nodes["type"] == "interest")
    rank = rank.sort_values(["_c", "_i", "size"], ascending=False, kind="stable")
    return set(rank["id"].iloc[:max_labels])


def clean_text_lines(value: Any, limit: int = 600) -> str:
    """Like :func:`clean_text`, keeping line breaks (tooltips are multi-line)."""
    lines = [clean_text(line, 200) for line in str(value if value is not None else "").split("\n")]
    return "\n".join(line for line in lines if line)[:limit]


def script_json(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` block (no ``<``, ``>``, ``&``, ``'`` left)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&'\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def render_html(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    height: int | str = 650,
    heading: str = "",
    max_labels: int = 60,
    center: str | None = None,
) -> str:
    """A standalone, offline HTML page drawing the nodes and edges as the dashboard does.

    Args:
        nodes: Node frame of :mod:`uig_core.graph.view` (positions are computed when it has none).
        edges: Edge frame of the same call.
        height: Canvas height (pixels or a CSS length such as ``'80vh'``).
        heading: A line of text above the graph (escaped).
        max_labels: See :func:`vis_data`.
        center: The center's node id (default: the first node when it is hop 0 of a neighbourhood).

    Returns:
        The HTML document. It loads nothing from the network and holds no markup taken from the data.
    """
    css_height = f"{int(height)}px" if isinstance(height, (int, np.integer)) else str(height)
    if not re.fullmatch(r"\d{1,5}(px|vh|%)", css_height):
        raise ConfigError(
            f"The 'height' of render_html must be pixels (e.g. 650) or a CSS length like '80vh'. "
            f"Got {height!r} instead."
        )
    if center is None and len(nodes) and int(nodes["hop"].iat[0]) == 0 and (nodes["hop"] > 0).any():
        center = str(nodes["id"].iat[0])
    data = vis_data(
        nodes, edges, center=center, max_labels=max_labels, height=int(height) if css_height.endswith("px") else 650
    )
    data["cssHeight"] = css_height
    vis_css, vis_js, graph_js, graph_css = _inline_parts()
    top = f"<h1>{html.escape(clean_text(heading, 200))}</h1>" if heading else ""
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(clean_text(heading, 120) or 'UIG graph')}</title>"
        f"<style>{vis_css}</style><style>{graph_css}</style>"
        f"<script>{vis_js}</script></head>\n<body>{top}"
        f'<script type="application/json" id="uig-data">{script_json(data)}</script>\n'
        f"<script>{graph_js}</script></body></html>\n"
    )
    if _REMOTE.search(page):  # a changed vis-network bundle must not make the page load remote code
        raise RuntimeError("the graph page references a remote resource; check vis-network and assets/graph.js.")
    return page


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
