"""``uig recommend``, ``uig interests``, ``uig portrait``, ``uig graph``: asking a finished build questions."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from uig_core.cli.common import AddCommand, emit, workspace
from uig_core.errors import ConfigError

__all__ = ["register"]

log = logging.getLogger(__name__)


def cmd_recommend(args: argparse.Namespace) -> int:
    """Top-k items for a user, with the reason behind each."""
    from uig_core.build.bundle import Bundle
    from uig_core.queries.searches import search_only_recommendations
    from uig_core.store.relation import EventRelation

    ws = workspace(args)
    bundle = Bundle.load(ws, args.dataset)
    events = EventRelation.of_dataset(ws, ws.dataset(args.dataset))
    chosen = args.model or _task_default(bundle.meta, args.task)
    searched = None if args.model else search_only_recommendations(bundle, events, args.user_id, k=args.k)
    items = searched or bundle.recommend(args.user_id, k=args.k, model=chosen, explain=args.explain or args.json)
    model = "searches" if searched else chosen
    payload = {"user_id": args.user_id, "model": model, "task": args.task, "items": items}

    def text() -> str:
        lines = [f"top {len(items)} for user {args.user_id} ({payload['model']}):"]
        for n, it in enumerate(items, 1):
            lines.append(f"{n:>3}. {it['item_id']:<10} {it['title'][:60]:<60} {it['score']:.4f}")
            if args.explain:
                lines.append(
                    f"       because you {it['reason']}"
                    if it["reason_kind"] == "shared_interest"
                    else f"       {it['reason']}"
                )
        return "\n".join(lines)

    emit(args, payload, text)
    return 0


def _task_default(meta: dict[str, Any], task: str) -> str:
    """The build's default model for ``task`` (discover: the build's default)."""
    if task == "discover":
        return str(meta["default_model"])
    chosen = (meta.get("default_models") or {}).get(task)
    if not chosen:
        raise ConfigError(
            f"build {meta.get('build_id')} has no {task} model: the task needs purchases among other events "
            "(views, carts), and builds before this version did not train one. Rebuild with `uig build --force`, "
            "or use --task discover."
        )
    return str(chosen)


def cmd_interests(args: argparse.Namespace) -> int:
    """The dataset's interest points, largest first."""
    from uig_core.build.bundle import Bundle
    from uig_core.queries.interest_list import interest_list

    payload = interest_list(Bundle.load(workspace(args), args.dataset), top=args.top)
    emit(
        args,
        payload,
        lambda: "\n".join(
            f"{r['interest_id']:>4}  {r['name']:<40} {r['size']:>6}  e.g. "
            + "; ".join(t["title"][:30] for t in r["top_items"][:3])
            for r in payload["interests"]
        ),
    )
    return 0


def cmd_portrait(args: argparse.Namespace) -> int:
    """A user's activity, interest mix, drift and anomaly scores and recent events."""
    from uig_core.queries.portrait import portrait

    data = portrait(workspace(args), args.dataset, args.user_id, recent=args.recent)

    def text() -> str:
        act = data["activity"]
        lines = [
            f"user {data['user_id']}: {act['n_events']:,} events, first {act['first_seen']}, last {act['last_seen']}"
        ]
        gross = f" (gross {act['spend_gross']:,.2f})" if act.get("spend_gross") is not None else ""
        rfm = act["rfm"]
        lines.append(
            f"spend {act['spend']:,.2f} net of returns{gross}, {act['orders']:,} orders, "
            f"RFM {rfm['r']}-{rfm['f']}-{rfm['m']}"
        )
        lines.append("interests: " + ", ".join(f"{i['name']} {i['share']:.0%}" for i in data["interests"][:6]))
        lines.append(
            f"drift score {data['drift_score']:.3f}"
            + (f" (change {data['change_date']})" if data.get("change_date") else "")
        )
        lines.append(f"anomaly score {data['anomaly_score']:.3f} ({data.get('anomaly_reason') or 'normal'})")
        lines.append("recent events:")
        for e in data["recent_events"]:
            text_ = e.get("title") or (f"“{e['query']}”" if e.get("query") else "")
            lines.append(f"  {e['ts']}  {e['event']:<8} {e['item_id']:<10} {str(text_)[:50]}")
        if data.get("searches"):
            lines.append("recent searches:")
            for s in data["searches"]:
                lines.append(f"  {s['ts']}  {s['query']}  → {s['interest'] or '-'}")
        return "\n".join(lines)

    emit(args, data, text)
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """Write a neighbourhood (or the interest overview) as an offline HTML file."""
    from uig_core.build.bundle import Bundle
    from uig_core.graph import html, view

    if not args.around and not args.overview:
        raise ConfigError(
            "say what to draw: --around ID (user:ID, item:ID, interest:ID or a bare ID) "
            "or --overview for the interest–interest graph."
        )
    bundle = Bundle.load(workspace(args), args.dataset)
    if args.overview:
        nodes, edges = view.interest_overview(
            bundle, min_weight=args.min_weight, max_nodes=args.max_nodes, min_lift=args.min_lift
        )
        center, heading = None, f"Interest overview of {bundle.meta.get('dataset', '')}"
    else:
        nodes, edges = view.neighborhood(
            bundle,
            args.around,
            depth=args.depth,
            min_weight=args.min_weight,
            max_nodes=args.max_nodes,
            node_types=_csv(args.node_types),
            edge_types=_csv(args.edge_types),
        )
        center = str(nodes["id"].iat[0])
        heading = f"{bundle.meta.get('dataset', '')}: {args.depth}-hop neighbourhood of {center}"
    path = html.save_html(args.html, nodes, edges, heading=heading, height=args.height)
    payload: dict[str, Any] = {
        "center": center,
        "html": str(path),
        "nodes": len(nodes),
        "edges": len(edges),
        "node_types": {str(k): int(v) for k, v in nodes["type"].value_counts().items()},
        "edge_types": {str(k): int(v) for k, v in edges["type"].value_counts().items()},
    }
    emit(
        args,
        payload,
        lambda: (
            f"wrote {path} ({len(nodes)} nodes, {len(edges)} edges"
            + (f" around {center})" if center else ", interest overview)")
        ),
    )
    return 0


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def register(add: AddCommand) -> None:
    """Add ``recommend``, ``interests``, ``portrait`` and ``graph`` to the ``uig`` parser."""
    p = add(
        "recommend",
        cmd_recommend,
        "Recommend items for a user.",
        example="uig recommend 17850 --dataset online_retail --explain",
    )
    p.add_argument("user_id")
    p.add_argument("-k", type=int, default=20, help="number of items (default 20)")
    p.add_argument("--model", help="model name (default: the build's default for --task)")
    p.add_argument(
        "--task",
        choices=["discover", "next_purchase"],
        default="discover",
        help="discover: items new to the user (default); next_purchase: what they will buy next, viewed and "
        "carted items included (the build's next-purchase model leaves out only what was bought)",
    )
    p.add_argument("--explain", action="store_true", help="add the reason behind each item")

    p = add(
        "interests",
        cmd_interests,
        "List the interest points of a dataset.",
        example="uig interests --dataset demo --top 3",
    )
    p.add_argument("--top", type=int, default=5, help="top items per interest (default 5)")

    p = add("portrait", cmd_portrait, "Show a user's interest portrait.", example="uig portrait U00042 --dataset demo")
    p.add_argument("user_id")
    p.add_argument("--recent", type=int, default=10, help="recent events to show (default 10)")
    _register_graph(add)


def _register_graph(add: AddCommand) -> None:
    from uig_core.graph.kinds import DEFAULT_EDGE_TYPES, EDGE_TYPES, NODE_TYPES

    p = add(
        "graph",
        cmd_graph,
        "Save a user/item/interest neighbourhood as a standalone offline HTML graph.",
        example="uig graph --dataset demo --around user:U00042 --html u42.html",
    )
    p.add_argument(
        "--around",
        metavar="ID",
        help="center: user:ID, item:ID, interest:ID (id or name), or a bare ID "
        "(tried as item, then user, then interest)",
    )
    p.add_argument("--overview", action="store_true", help="draw the interest–interest graph instead")
    p.add_argument(
        "--min-lift",
        type=float,
        default=None,
        metavar="L",
        help="with --overview: hide interest links whose lift is below L (1 = chance)",
    )
    p.add_argument("--depth", type=int, default=1, choices=(1, 2, 3), help="hops from the center (default 1)")
    p.add_argument("--max-nodes", type=int, default=150, metavar="N", help="most nodes (default 150)")
    p.add_argument(
        "--min-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="hide edges weaker than W, a normalised strength in [0, 1] (default 0)",
    )
    p.add_argument(
        "--node-types",
        default=",".join(NODE_TYPES),
        metavar="TYPES",
        help=f"comma-separated node types (default {','.join(NODE_TYPES)})",
    )
    p.add_argument(
        "--edge-types",
        default=",".join(DEFAULT_EDGE_TYPES),
        metavar="TYPES",
        help=f"comma-separated edge types of {','.join(EDGE_TYPES)} (default {','.join(DEFAULT_EDGE_TYPES)})",
    )
    p.add_argument("--height", type=int, default=800, metavar="PX", help="canvas height in pixels (default 800)")
    p.add_argument("--html", required=True, metavar="FILE", help="output file (.html)")
