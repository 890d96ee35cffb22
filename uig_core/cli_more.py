"""Extra ``uig`` subcommands, registered by :func:`uig_core.cli.build_parser` through :func:`register`.

``uig graph`` saves the neighbourhood of a user, item or interest (or the interest–interest overview) as a
standalone HTML file that works offline.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from uig_core.errors import ConfigError

__all__ = ["register", "cmd_graph"]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def cmd_graph(args: argparse.Namespace) -> int:
    """``uig graph``: write a neighbourhood (or the interest overview) as an offline HTML file."""
    from uig_core import graph_html, graphview
    from uig_core.bundle import Bundle
    from uig_core.cli import _emit, _ws

    if not args.around and not args.overview:
        raise ConfigError("say what to draw: --around ID (user:ID, item:ID, interest:ID or a bare ID) "
                          "or --overview for the interest–interest graph.")
    bundle = Bundle.load(_ws(args), args.dataset)
    if args.overview:
        nodes, edges = graphview.interest_overview(bundle, min_weight=args.min_weight, max_nodes=args.max_nodes,
                                                   min_lift=args.min_lift)
        center, heading = None, f"Interest overview of {bundle.meta.get('dataset', '')}"
    else:
        nodes, edges = graphview.neighborhood(
            bundle, args.around, depth=args.depth, min_weight=args.min_weight, max_nodes=args.max_nodes,
            node_types=_csv(args.node_types), edge_types=_csv(args.edge_types))
        center = str(nodes["id"].iat[0])
        heading = f"{bundle.meta.get('dataset', '')}: {args.depth}-hop neighbourhood of {center}"
    path = graph_html.save_html(args.html, nodes, edges, heading=heading, height=args.height)
    payload: dict[str, Any] = {
        "center": center, "html": str(path), "nodes": len(nodes), "edges": len(edges),
        "node_types": {str(k): int(v) for k, v in nodes["type"].value_counts().items()},
        "edge_types": {str(k): int(v) for k, v in edges["type"].value_counts().items()},
    }
    _emit(args, payload, lambda: f"wrote {path} ({len(nodes)} nodes, {len(edges)} edges"
          + (f" around {center})" if center else ", interest overview)"))
    return 0


def register(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's subcommands to the ``uig`` parser.

    Args:
        sub: The parser's subparsers (unused directly; ``add`` wraps it).
        add: ``cli.build_parser``'s helper ``add(name, handler, help_, *, dataset=True, json_=True)``, which adds
            the common ``--workspace``, ``--dataset``, ``--json`` and ``--debug`` options.
    """
    from uig_core.graphview import EDGE_TYPES, NODE_TYPES

    p = add("graph", cmd_graph, "Save a user/item/interest neighbourhood as a standalone offline HTML graph.")
    p.add_argument("--around", metavar="ID", help="center: user:ID, item:ID, interest:ID (id or name), or a bare ID "
                   "(tried as item, then user, then interest)")
    p.add_argument("--overview", action="store_true", help="draw the interest–interest graph instead")
    p.add_argument("--min-lift", type=float, default=None, metavar="L",
                   help="with --overview: hide interest links whose lift is below L (1 = chance)")
    p.add_argument("--depth", type=int, default=1, choices=(1, 2, 3), help="hops from the center (default 1)")
    p.add_argument("--max-nodes", type=int, default=150, metavar="N", help="most nodes (default 150)")
    p.add_argument("--min-weight", type=float, default=0.0, metavar="W",
                   help="hide edges weaker than W, a normalised strength in [0, 1] (default 0)")
    p.add_argument("--node-types", default=",".join(NODE_TYPES), metavar="TYPES",
                   help=f"comma-separated node types (default {','.join(NODE_TYPES)})")
    p.add_argument("--edge-types", default=",".join(EDGE_TYPES), metavar="TYPES",
                   help=f"comma-separated edge types (default {','.join(EDGE_TYPES)})")
    p.add_argument("--height", type=int, default=800, metavar="PX", help="canvas height in pixels (default 800)")
    p.add_argument("--html", required=True, metavar="FILE", help="output file (.html)")
