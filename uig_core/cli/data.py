"""``uig ingest``, ``uig datasets``, ``uig demo``: getting logs into the workspace."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from uig_core.cli.common import AddCommand, emit, progress_bar, workspace
from uig_core.errors import UIGError

if TYPE_CHECKING:
    from uig_core.ingest.options import IngestOptions
    from uig_core.ingest.report import IngestReport
    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["register"]

log = logging.getLogger(__name__)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Read a log into a new dataset, or append it to one (then update that dataset's build)."""
    from uig_core.ingest.clean import read_log
    from uig_core.ingest.options import IngestOptions, resolve_options
    from uig_core.ingest.stream import should_stream
    from uig_core.schema import parse_pairs

    ws = workspace(args)
    name = args.name or Path(args.log).name.split(".")[0]
    ws.check_name(name)
    if args.append_to is None and ws.has_dataset(name):
        raise UIGError(
            f"a dataset named {name!r} already exists; choose another --name, or add this batch to it "
            f"with --append-to {name}."
        )
    given = IngestOptions(
        parse_pairs(args.map, "--map"), parse_pairs(args.event_map, "--event-map"), args.item_pattern, args.pseudonymize
    )
    options = resolve_options(ws, given, append_to=args.append_to)
    if args.append_to is None and should_stream(args.log):
        return _ingest_in_parts(args, ws, name, options)
    with progress_bar(args, "ingest") as bar:
        result = read_log(args.log, **_reading(ws, options), progress=bar)
    if args.append_to:
        info = ws.append_events(args.append_to, result.events)
        if info.current_build is not None and not args.no_build:
            from uig_core.build.pipeline import build

            with progress_bar(args, "update") as bar:
                meta = build(ws, info.name, progress=bar, incremental=True)
            info = ws.dataset(info.name)
            result.report.warnings.append(
                f"build updated incrementally to {meta['build_id']} in {sum(meta['timings'].values()):.1f}s"
            )
    else:
        info = ws.add_dataset(
            name, result.events, source=str(args.log), options=options.to_dict(), report=result.report.to_dict()
        )
    _emit_ingest(args, info, result.report)
    return 0


def _reading(ws: Workspace, options: IngestOptions) -> dict:
    """The ingest options as keyword arguments of the log readers (whole file or in parts)."""
    return {
        "mapping": options.map,
        "event_map": options.event_map,
        "item_pattern": options.item_pattern,
        "pseudonymize_key": ws.pseudonymize_key() if options.pseudonymize else None,
    }


def _ingest_in_parts(args: argparse.Namespace, ws: Workspace, name: str, options: IngestOptions) -> int:
    """A large log into a new dataset, a million rows at a time (:mod:`uig_core.ingest.stream`)."""
    from uig_core.ingest.stream import read_log_parts
    from uig_core.store.bulk import add_dataset_parts

    with progress_bar(args, "ingest") as bar:
        parts, report = read_log_parts(args.log, **_reading(ws, options), progress=bar)

        def final_report(repeated: int) -> dict:
            report.duplicates += repeated
            report.rows_accepted -= repeated
            return report.to_dict()

        info = add_dataset_parts(ws, name, parts, source=str(args.log), options=options.to_dict(), report=final_report)
    _emit_ingest(args, info, report)
    return 0


def _emit_ingest(args: argparse.Namespace, info: DatasetInfo, report: IngestReport) -> None:
    payload = {"dataset": info.to_dict(), "report": report.to_dict()}
    quoted = repr(info.name) if " " in info.name else info.name
    emit(
        args,
        payload,
        lambda: "\n".join(
            [f"dataset {info.name!r}: {info.rows:,} events, {info.users:,} users, {info.items:,} items"]
            + ["  " + line for line in report.lines()]
            + [f"next: uig build --dataset {quoted}"]
        ),
    )


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the workspace's datasets."""
    infos = workspace(args).datasets()
    payload = {"datasets": [d.to_dict() for d in infos]}
    emit(
        args,
        payload,
        lambda: "\n".join(
            [
                f"{d.name:<24} {d.rows:>10,} events {d.users:>8,} users {d.items:>7,} items  "
                f"{'built' if d.current_build else 'not built'}"
                for d in infos
            ]
            or ["no datasets; try `uig demo`"]
        ),
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled demo log (generated once into demo_data/) and build it."""
    from uig_core.build.pipeline import build
    from uig_core.demo.generator import DEMO_DIR, ensure_demo_data
    from uig_core.ingest.clean import read_log

    ws = workspace(args)
    args.name = args.name or ("demo-zh" if args.lang == "zh" else "demo")
    if args.lang == "zh":
        from uig_core.demo.zh import ZH_DIR, ensure_zh_demo

        path = ensure_zh_demo(ZH_DIR, regenerate=args.regenerate)
    else:
        path = ensure_demo_data(DEMO_DIR, regenerate=args.regenerate)
    events_file = path / "events.csv.gz" if path.is_dir() else path
    if not ws.has_dataset(args.name):
        result = read_log(events_file)
        events = result.events.drop(columns=["category"]) if args.no_category else result.events
        ws.add_dataset(args.name, events, source=str(events_file), report=result.report.to_dict())
    with progress_bar(args, "build") as bar:
        meta = build(ws, args.name, progress=bar)
    payload = {"dataset": args.name, "build": meta["build_id"], "counts": meta["counts"]}
    emit(
        args,
        payload,
        lambda: (
            f"demo dataset {args.name!r} ready in {ws.root} (build {meta['build_id']}); "
            f"open it with `uig app --workspace {ws.root}`"
        ),
    )
    return 0


def register(add: AddCommand) -> None:
    """Add ``ingest``, ``datasets`` and ``demo`` to the ``uig`` parser."""
    p = add(
        "ingest",
        cmd_ingest,
        "Read a CSV / CSV.GZ / Parquet log into a new dataset.",
        dataset=False,
        example="uig ingest shop_log.csv.gz --name shop --map CustomerID=user_id --map StockCode=item_id",
    )
    p.add_argument("log", help="log file")
    p.add_argument("--name", help="dataset name (default: the file name)")
    p.add_argument("--map", action="append", metavar="SRC=FIELD", help="map a column onto a canonical field")
    p.add_argument("--event-map", action="append", metavar="SRC=EVENT", help="map an event value onto an event")
    p.add_argument("--item-pattern", metavar="REGEX", help="keep only items whose id matches")
    p.add_argument("--append-to", metavar="NAME", help="add the rows to an existing dataset")
    p.add_argument("--no-build", action="store_true", help="with --append-to: do not update the build")
    p.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace user ids by a keyed hash (key kept in the workspace; also a workspace setting)",
    )

    add("datasets", cmd_datasets, "List the datasets in the workspace.", dataset=False, example="uig datasets --json")

    p = add(
        "demo",
        cmd_demo,
        "Ingest and build the bundled demo data.",
        dataset=False,
        example="uig demo --workspace uig_workspace  (or: uig demo --lang zh --no-category --name demo-zh)",
    )
    p.add_argument("--name", help="dataset name (default demo, or demo-zh with --lang zh)")
    p.add_argument("--regenerate", action="store_true", help="regenerate demo_data/ first")
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        default="en",
        help="en: the English shop (demo_data/); zh: the Chinese shop with searches (demo_data/zh/)",
    )
    p.add_argument("--no-category", action="store_true", help="leave the category column out of the dataset")
