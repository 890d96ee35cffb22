"""The ``uig`` command line: headless access to every step.

Every subcommand takes ``--workspace DIR`` (default ``$UIG_WORKSPACE`` or ``./uig_workspace``), ``--json`` where it
prints results, and ``--debug``. Engine errors (:class:`UIGError`) print one line and exit with status 2;
anything unexpected prints one line too (exit 1) unless ``--debug`` asks for the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from uig_core.errors import UIGError

__all__ = ["main", "build_parser"]

Handler = Callable[[argparse.Namespace], int]


def _ws(args: argparse.Namespace):  # noqa: ANN202 - lazy import keeps `uig --help` fast
    from uig_core.workspace import Workspace

    return Workspace(args.workspace, snapshot=True)  # one command: read the registry once, refresh on writes


def _emit(args: argparse.Namespace, payload: Any, text: Callable[[], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(text())


def _bar(args: argparse.Namespace, desc: str):  # noqa: ANN202
    from uig_core.progress import TerminalBar

    return TerminalBar(desc, enabled=not getattr(args, "quiet", False) and sys.stderr.isatty() or args.progress)


# ---------------------------------------------------------------------------------------------- commands


def cmd_ingest(args: argparse.Namespace) -> int:
    from uig_core.ingest import read_log
    from uig_core.schema import parse_pairs

    ws = _ws(args)
    name = args.name or Path(args.log).name.split(".")[0]
    ws.check_name(name)
    if args.append_to is None and ws.has_dataset(name):
        raise UIGError(f"a dataset named {name!r} already exists; choose another --name, or add this batch to it "
                       f"with --append-to {name}.")
    mapping = {src: dst for src, dst in parse_pairs(args.map, "--map").items()}
    event_map = parse_pairs(args.event_map, "--event-map")
    pseudo = args.pseudonymize or bool(ws.settings().get("pseudonymize", False))
    if args.append_to:
        previous = ws.dataset(args.append_to).options
        pseudo = pseudo or bool(previous.get("pseudonymize"))
        mapping = mapping or previous.get("map", {})
        event_map = event_map or previous.get("event_map", {})
        args.item_pattern = args.item_pattern or previous.get("item_pattern")
    with _bar(args, "ingest") as bar:
        result = read_log(args.log, mapping=mapping, event_map=event_map, item_pattern=args.item_pattern,
                          pseudonymize_key=ws.pseudonymize_key() if pseudo else None, progress=bar)
    options = {"map": mapping, "event_map": event_map, "item_pattern": args.item_pattern, "pseudonymize": pseudo}
    if args.append_to:
        info = ws.append_events(args.append_to, result.events)
        if info.current_build is not None and not args.no_build:
            from uig_core.pipeline import build

            with _bar(args, "update") as bar:
                meta = build(ws, info.name, progress=bar, incremental=True)
            info = ws.dataset(info.name)
            result.report.warnings.append(
                f"build updated incrementally to {meta['build_id']} in {sum(meta['timings'].values()):.1f}s")
    else:
        info = ws.add_dataset(name, result.events, source=str(args.log), options=options,
                              report=result.report.to_dict())
    payload = {"dataset": info.to_dict(), "report": result.report.to_dict()}
    _emit(args, payload, lambda: "\n".join(
        [f"dataset {info.name!r}: {info.rows:,} events, {info.users:,} users, {info.items:,} items"]
        + ["  " + line for line in result.report.lines()]
        + [f"next: uig build --dataset {info.name!r}" if " " in info.name else f"next: uig build --dataset {info.name}"]
    ))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from uig_core.pipeline import BuildConfig, build

    ws = _ws(args)
    config = BuildConfig.from_dict(ws.settings().get("build", {}))
    if args.model:
        config.model = args.model
    if args.embed_model:
        config.embed_model = args.embed_model
    if args.interests:
        config.n_interests = args.interests
    with _bar(args, "build") as bar:
        meta = build(ws, args.dataset, config, progress=bar, force=args.force, incremental=args.incremental)
    c = meta["counts"]
    _emit(args, meta, lambda: "\n".join([
        f"build {meta['build_id']} of {meta['dataset']!r}" + (" (reused)" if meta.get("reused") else ""),
        f"  {c['users']:,} users, {c['items']:,} items, {c['interests']} interests, {c['edges']:,} user-item edges",
        f"  models: {', '.join(meta['models'])} (default {meta['default_model']})",
        "  times: " + ", ".join(f"{k} {v:.1f}s" for k, v in meta.get("timings", {}).items()),
    ]))
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from uig_core.bundle import Bundle

    bundle = Bundle.load(_ws(args), args.dataset)
    items = bundle.recommend(args.user_id, k=args.k, model=args.model, explain=args.explain or args.json)
    payload = {"user_id": args.user_id, "model": args.model or bundle.meta["default_model"], "items": items}

    def text() -> str:
        lines = [f"top {len(items)} for user {args.user_id} ({payload['model']}):"]
        for n, it in enumerate(items, 1):
            lines.append(f"{n:>3}. {it['item_id']:<10} {it['title'][:60]:<60} {it['score']:.4f}")
            if args.explain:
                lines.append(f"       because you {it['reason']}" if it["reason_kind"] == "shared_interest"
                             else f"       {it['reason']}")
        return "\n".join(lines)

    _emit(args, payload, text)
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    infos = _ws(args).datasets()
    payload = {"datasets": [d.to_dict() for d in infos]}
    _emit(args, payload, lambda: "\n".join(
        [f"{d.name:<24} {d.rows:>10,} events {d.users:>8,} users {d.items:>7,} items  "
         f"{'built' if d.current_build else 'not built'}" for d in infos] or ["no datasets; try `uig demo`"]))
    return 0


def cmd_builds(args: argparse.Namespace) -> int:
    history = _ws(args).builds(args.dataset)
    def line(b: dict[str, Any]) -> str:
        quality = b.get("quality") or {}
        added = f"+{b['rows_added']:,}" if b.get("rows_added") is not None else ""
        figures = "  ".join(f"{label} {quality[key]:.4f}" for key, label in (
            ("validation_recall@20", "validation R@20"), ("next_batch_recall@20", "next-batch R@20"))
            if quality.get(key) is not None)
        return (f"{'*' if b['current'] else ' '} {b['build_id']}  {b['created'][:19]}  {b.get('events', 0):>9,} "
                f"events {added:>9}  {b.get('default_model', '')}" + ("  (reused)" if b.get("reused") else "")
                + (f"  {figures}" if figures else ""))

    _emit(args, {"builds": history}, lambda: "\n".join(line(b) for b in history) or "no builds yet")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from uig_core.builds import rollback

    ws = _ws(args)
    info = ws.dataset(args.dataset)
    target = rollback(ws, info.name, to=args.to)
    _emit(args, {"dataset": info.name, "current_build": target},
          lambda: f"dataset {info.name!r} now uses build {target}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from uig_core.demo import DEMO_DIR, ensure_demo_data
    from uig_core.ingest import read_log
    from uig_core.pipeline import build

    ws = _ws(args)
    path = ensure_demo_data(DEMO_DIR, regenerate=args.regenerate)
    events_file = path / "events.csv.gz" if path.is_dir() else path
    if not ws.has_dataset(args.name):
        result = read_log(events_file)
        ws.add_dataset(args.name, result.events, source=str(events_file), report=result.report.to_dict())
    with _bar(args, "build") as bar:
        meta = build(ws, args.name, progress=bar)
    payload = {"dataset": args.name, "build": meta["build_id"], "counts": meta["counts"]}
    _emit(args, payload, lambda: f"demo dataset {args.name!r} ready in {ws.root} (build {meta['build_id']}); "
          f"open it with `uig app --workspace {ws.root}`")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    import subprocess

    app = Path(__file__).resolve().parent.parent / "app.py"
    env = {**os.environ, "UIG_WORKSPACE": str(Path(args.workspace or "uig_workspace").resolve())}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
           "--server.port", str(args.port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    print(f"serving UIG on http://{args.address}:{args.port} (workspace {env['UIG_WORKSPACE']})", flush=True)
    return subprocess.call(cmd, env=env)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from uig_core.evaluate import evaluate_dataset

    ws = _ws(args)
    with _bar(args, "evaluate") as bar:
        result = evaluate_dataset(ws, args.dataset, cutoff=args.cutoff, k=args.k, progress=bar)
    k = args.k

    def text() -> str:
        p = result["protocol"]
        lines = ["protocol: " + ", ".join(f"{a}={b}" for a, b in p.items())]
        lines.append(f"{'model':<14} {'recall@'+str(k):>10} {'ndcg@'+str(k):>10} {'hit@'+str(k):>8} "
                     f"{'coverage':>9} {'cold_recall':>11} {'fit_s':>7}")
        for name, m in result["models"].items():
            if "skipped" in m:
                lines.append(f"{name:<14} skipped: {m['skipped']}")
                continue
            nan = float("nan")
            lines.append(f"{name:<14} {m.get(f'recall@{k}', nan):>10.4f} {m.get(f'ndcg@{k}', nan):>10.4f}"
                         f" {m.get(f'hitrate@{k}', nan):>8.4f} {m.get('coverage', nan):>9.3f}"
                         f" {m.get(f'cold_recall@{k}', nan):>11.4f} {m.get('fit_seconds', nan):>7.1f}")
        lines.append(f"default: {result['default']}")
        return "\n".join(lines)

    _emit(args, result, text)
    return 0


def cmd_interests(args: argparse.Namespace) -> int:
    from uig_core.bundle import Bundle

    bundle = Bundle.load(_ws(args), args.dataset)
    table = bundle.interests
    level = table["level"] if "level" in table else None
    coarse = table[level == "coarse"] if level is not None else table
    titles = dict(zip(bundle.items["item_id"].astype(str), bundle.items["title"].astype(str), strict=True))
    rows = []
    for r in coarse.sort_values("size", ascending=False).itertuples():
        rows.append({"interest_id": int(r.interest_id), "name": str(r.name), "size": int(r.size),
                     "top_items": [{"item_id": str(i), "title": titles.get(str(i), str(i))}
                                   for i in list(r.top_items)[: args.top]]})
    payload = {"interests": rows,
               "items": dict(zip(bundle.items["item_id"].astype(str), bundle.items["interest_id"].astype(int).tolist(),
                                 strict=True))}
    _emit(args, payload, lambda: "\n".join(
        f"{r['interest_id']:>4}  {r['name']:<40} {r['size']:>6}  e.g. "
        + "; ".join(t["title"][:30] for t in r["top_items"][:3]) for r in rows))
    return 0


def cmd_portrait(args: argparse.Namespace) -> int:
    from uig_core.portrait import portrait

    ws = _ws(args)
    data = portrait(ws, args.dataset, args.user_id, recent=args.recent)

    def text() -> str:
        lines = [f"user {data['user_id']}: {data['activity']['n_events']:,} events, "
                 f"first {data['activity']['first_seen']}, last {data['activity']['last_seen']}"]
        lines.append("interests: " + ", ".join(f"{i['name']} {i['share']:.0%}" for i in data["interests"][:6]))
        lines.append(f"drift score {data['drift_score']:.3f}" + (f" (change {data['change_date']})"
                                                               if data.get("change_date") else ""))
        lines.append(f"anomaly score {data['anomaly_score']:.3f} ({data.get('anomaly_reason') or 'normal'})")
        lines.append("recent events:")
        for e in data["recent_events"]:
            lines.append(f"  {e['ts']}  {e['event']:<8} {e['item_id']:<10} {str(e.get('title') or '')[:50]}")
        return "\n".join(lines)

    _emit(args, data, text)
    return 0


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The ``uig`` argument parser."""
    parser = argparse.ArgumentParser(prog="uig", description="UIG: user interest graphs from shop behaviour logs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name: str, handler: Handler, help_: str, *, dataset: bool = True, json_: bool = True):  # noqa: ANN202
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--workspace", default=None, metavar="DIR",
                       help="workspace folder (default: $UIG_WORKSPACE or ./uig_workspace)")
        if dataset:
            p.add_argument("--dataset", default=None, metavar="NAME", help="dataset (default: the only one)")
        if json_:
            p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--debug", action="store_true", help="show tracebacks")
        p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
        p.set_defaults(handler=handler)
        return p

    p = add("ingest", cmd_ingest, "Read a CSV / CSV.GZ / Parquet log into a new dataset.", dataset=False)
    p.add_argument("log", help="log file")
    p.add_argument("--name", help="dataset name (default: the file name)")
    p.add_argument("--map", action="append", metavar="SRC=FIELD", help="map a column onto a canonical field")
    p.add_argument("--event-map", action="append", metavar="SRC=EVENT", help="map an event value onto an event")
    p.add_argument("--item-pattern", metavar="REGEX", help="keep only items whose id matches")
    p.add_argument("--append-to", metavar="NAME", help="add the rows to an existing dataset")
    p.add_argument("--no-build", action="store_true", help="with --append-to: do not update the build")
    p.add_argument("--pseudonymize", action="store_true",
                   help="replace user ids by a keyed hash (key kept in the workspace; also a workspace setting)")

    p = add("build", cmd_build, "Build embeddings, interests, graph and models for a dataset.")
    p.add_argument("--model", help="default model to train (e.g. lightgcn)")
    p.add_argument("--embed-model", metavar="PATH_OR_NAME", help="local sentence-transformers model")
    p.add_argument("--interests", type=int, metavar="K", help="number of interests (default: automatic)")
    p.add_argument("--force", action="store_true", help="rebuild even when an identical build exists")
    p.add_argument("--incremental", action="store_true",
                   help="update the current build (keep interests, warm-start models) instead of rebuilding")

    p = add("recommend", cmd_recommend, "Recommend items for a user.")
    p.add_argument("user_id")
    p.add_argument("-k", type=int, default=20, help="number of items (default 20)")
    p.add_argument("--model", help="model name (default: the build's default)")
    p.add_argument("--explain", action="store_true", help="add the reason behind each item")

    p = add("evaluate", cmd_evaluate, "Evaluate every model and baseline on a temporal split.")
    p.add_argument("--cutoff", metavar="DATE", help="test period start (default: last event date - 30 days)")
    p.add_argument("-k", type=int, default=20)

    add("datasets", cmd_datasets, "List the datasets in the workspace.", dataset=False)
    add("builds", cmd_builds, "Show a dataset's build history.")
    p = add("rollback", cmd_rollback, "Make the previous (or a given) build current again.")
    p.add_argument("--to", metavar="BUILD_ID", help="build to restore (default: the one before the current)")

    p = add("interests", cmd_interests, "List the interest points of a dataset.")
    p.add_argument("--top", type=int, default=5, help="top items per interest (default 5)")

    p = add("portrait", cmd_portrait, "Show a user's interest portrait.")
    p.add_argument("user_id")
    p.add_argument("--recent", type=int, default=10, help="recent events to show (default 10)")

    p = add("demo", cmd_demo, "Ingest and build the bundled demo data.", dataset=False)
    p.add_argument("--name", default="demo", help="dataset name (default demo)")
    p.add_argument("--regenerate", action="store_true", help="regenerate demo_data/ first")

    p = add("app", cmd_app, "Serve the dashboard over the workspace.", dataset=False, json_=False)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost", help="bind address (default localhost)")

    for extra in _extra_commands():
        extra(sub, add)
    return parser


def _extra_commands() -> list[Callable[..., None]]:
    """Subcommands contributed by other modules (graph export, build history…)."""
    out = []
    try:
        from uig_core.cli_more import register
    except ImportError:
        return out
    out.append(register)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``uig`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UIGError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the one place that turns surprises into a line
        if args.debug:
            raise
        print(f"error: {type(err).__name__}: {err} (run again with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
