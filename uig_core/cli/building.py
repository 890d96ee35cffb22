"""``uig build``, ``uig builds``, ``uig rollback``, ``uig evaluate``: making builds and measuring them."""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict
from typing import Any

from uig_core.cli.common import AddCommand, emit, progress_bar, workspace

__all__ = ["register"]

log = logging.getLogger(__name__)


def cmd_build(args: argparse.Namespace) -> int:
    """Build (or reuse) the dataset's interest graph and models."""
    from uig_core.build.history import build_lines
    from uig_core.build.pipeline import build
    from uig_core.config import BuildConfig

    ws = workspace(args)
    config = BuildConfig.from_dict(ws.settings().get("build", {}))
    if args.model:
        config.model = args.model
    if args.selection_budget is not None:
        config.selection_budget_s = args.selection_budget
    if args.embed_model:
        config.embed_model = args.embed_model
    if args.interests:
        config.n_interests = args.interests
    if args.exclude_anomalous or args.anomaly_threshold is not None:
        config = BuildConfig.from_dict(
            {**asdict(config), "exclude_anomalous": True, "anomaly_threshold": args.anomaly_threshold}
        )
    if args.log:
        _ingest_on_spark(args, ws)
    engine = dict(engine=args.engine, spark_master=args.spark_master)
    with progress_bar(args, "build") as bar:
        meta = build(ws, args.dataset, config, progress=bar, force=args.force, incremental=args.incremental, **engine)
    lines = build_lines(meta)
    lines[0] = f"build {meta['build_id']} of {meta['dataset']!r}" + (" (reused)" if meta.get("reused") else "")
    lines += _selection_lines(meta.get("selection"))
    if meta.get("interactions_sha256"):
        lines.append(f"engine {meta.get('engine', 'duckdb')}, interactions sha256 {meta['interactions_sha256'][:16]}")
    emit(args, meta, lambda: "\n".join([lines[0]] + ["  " + line for line in lines[1:]]))
    return 0


def _ingest_on_spark(args: argparse.Namespace, ws: Any) -> None:
    """``--log``: read and clean the log on Spark into the new dataset ``--dataset`` (:mod:`uig_core.spark.ingest`)."""
    from uig_core.errors import ConfigError
    from uig_core.spark.ingest import ingest_on_spark
    from uig_core.spark.session import spark_session

    if args.engine != "spark" or not args.dataset:
        raise ConfigError("--log reads the log on Spark: give --engine spark and the new dataset's --dataset NAME.")
    info = ingest_on_spark(spark_session(args.spark_master), ws, args.dataset, args.log)
    log.info("stored %s as dataset %r (%d rows, read on Spark)", args.log, info.name, info.rows)


def _selection_lines(selection: dict[str, Any] | None) -> list[str]:
    """The candidate tables of a build's default choice (:mod:`uig_core.build.selection`), one per task."""
    out: list[str] = []
    for table in (selection, (selection or {}).get("next_purchase")):
        if not table:
            continue
        where = table.get("validation") or {}
        head = f"{table.get('task', 'discover')} default: {table['default']} (chosen by {table.get('chosen_by')}"
        if where:
            head += f"; validation from {where['cutoff']}, {where['users']:,} users, {where['pairs']:,} pairs"
        out.append(head + f", budget {table.get('budget_s', 0):.0f} s)")
        for r in table.get("candidates", []):
            mark = "*" if r["model"] == table["default"] else " "
            if r["status"] == "fitted" and r.get("recall@20") is not None:
                figures = f"R@20 {r['recall@20']:.4f}  N@20 {r['ndcg@20']:.4f}  est {r['estimated_s']:.1f} s"
            else:
                figures = f"{r['status']}: {r.get('reason') or ''}"
            out.append(f"  {mark} {r['model']:<16} {figures}")
    return out


def cmd_builds(args: argparse.Namespace) -> int:
    """Show the dataset's build history, newest last, the current one starred."""
    history = workspace(args).builds(args.dataset)

    def line(b: dict[str, Any]) -> str:
        quality = b.get("quality") or {}
        added = f"+{b['rows_added']:,}" if b.get("rows_added") is not None else ""
        figures = "  ".join(
            f"{label} {quality[key]:.4f}"
            for key, label in (("validation_recall@20", "validation R@20"), ("next_batch_recall@20", "next-batch R@20"))
            if quality.get(key) is not None
        )
        return (
            f"{'*' if b['current'] else ' '} {b['build_id']}  {b['created'][:19]}  {b.get('events', 0):>9,} "
            f"events {added:>9}  {b.get('default_model', '')}"
            + ("  (reused)" if b.get("reused") else "")
            + (f"  {figures}" if figures else "")
        )

    emit(args, {"builds": history}, lambda: "\n".join(line(b) for b in history) or "no builds yet")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Make the previous (or a named) build current again."""
    from uig_core.build.history import rollback

    ws = workspace(args)
    info = ws.dataset(args.dataset)
    target = rollback(ws, info.name, to=args.to)
    emit(
        args, {"dataset": info.name, "current_build": target}, lambda: f"dataset {info.name!r} now uses build {target}"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate every model and baseline on a temporal hold-out.

    On a built dataset the run is a job (:mod:`uig_core.evaluation.jobs`): its progress shows on the Model quality
    page while it runs, and the result is kept with the build id, so the page shows it without running it again.
    """
    from uig_core.evaluation import jobs
    from uig_core.evaluation.run import evaluate_dataset

    ws = workspace(args)
    info = ws.dataset(args.dataset)
    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models else None
    options = dict(cutoff=args.cutoff, k=args.k, names=names, max_users=args.max_users or None)
    with progress_bar(args, "evaluate") as bar:
        if args.task != "discover":  # the kept evaluation (the Model quality page's) is the discover one
            result = evaluate_dataset(ws, info.name, progress=bar, task=args.task, **options)
        elif info.current_build is None or args.no_save:
            result = evaluate_dataset(ws, info.name, progress=bar, **options)
        else:
            result = jobs.run_job(ws, info.name, origin=args.job_origin, progress=bar, **options)
    emit(args, result, lambda: "\n".join(_evaluation_lines(result, args.k)))
    return 0


def _evaluation_lines(result: dict[str, Any], k: int) -> list[str]:
    nan = float("nan")
    lines = ["protocol: " + ", ".join(f"{a}={b}" for a, b in result["protocol"].items())]
    lines.append(
        f"{'model':<14} {'recall@' + str(k):>10} {'ndcg@' + str(k):>10} {'hit@' + str(k):>8} "
        f"{'coverage':>9} {'cold_recall':>11} {'fit_s':>7}"
    )
    for name, m in result["models"].items():
        if "skipped" in m:
            lines.append(f"{name:<14} skipped: {m['skipped']}")
            continue
        lines.append(
            f"{name:<14} {m.get(f'recall@{k}', nan):>10.4f} {m.get(f'ndcg@{k}', nan):>10.4f}"
            f" {m.get(f'hitrate@{k}', nan):>8.4f} {m.get('coverage', nan):>9.3f}"
            f" {m.get(f'cold_recall@{k}', nan):>11.4f} {m.get('fit_seconds', nan):>7.1f}"
        )
    task = result["protocol"].get("task", "discover")
    lines.append(f"default ({task}): {result['default']}")
    return lines


def register(add: AddCommand) -> None:
    """Add ``build``, ``builds``, ``rollback`` and ``evaluate`` to the ``uig`` parser."""
    p = add(
        "build",
        cmd_build,
        "Build embeddings, interests, graph and models for a dataset.",
        example="uig build --dataset shop --verbose",
    )
    p.add_argument("--model", help="default model to train (e.g. lightgcn; default: the best on validation)")
    p.add_argument(
        "--selection-budget",
        type=float,
        metavar="S",
        help="estimated CPU seconds the slower candidates (EASE, graph filters, iALS, graph networks) may take "
        "when the default is chosen on validation (default 5; the sparse models and ease_recency always run)",
    )
    p.add_argument(
        "--embed-model",
        metavar="NAME_OR_PATH",
        help="item-text model: auto (default: minilm-static, or e5-static when 5 %% or more of the titles are not "
        "in Latin script), minilm-static, minilm-static-mean, minilm (full transformer), e5-static (multilingual, "
        "fast), e5 (multilingual transformer, slow), or a local model folder",
    )
    p.add_argument("--interests", type=int, metavar="K", help="number of interests (default: automatic)")
    p.add_argument(
        "--exclude-anomalous",
        action="store_true",
        help="leave users flagged by the anomaly (bot) score out of model training; they stay in the workspace",
    )
    p.add_argument(
        "--anomaly-threshold",
        type=float,
        metavar="T",
        help="anomaly score in (0, 1] at which a user is left out (implies --exclude-anomalous; default 0.5)",
    )
    p.add_argument("--force", action="store_true", help="rebuild even when an identical build exists")
    p.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="where the frames, pair aggregates and embeddings are computed (default duckdb; spark: Apache Spark, "
        "models are still fitted here; the answers are the same)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="Spark master of --engine spark: local[*] (default), local[N], spark://HOST:7077, yarn, or Spark "
        "Connect sc://HOST:15002",
    )
    p.add_argument(
        "--log",
        metavar="PATH_OR_URI",
        help="with --engine spark: read and clean this log (CSV, Parquet or a folder of part files) on Spark "
        "into the new dataset --dataset NAME, then build it",
    )
    p.add_argument(
        "--incremental",
        action="store_true",
        help="update the current build (keep interests, warm-start models) instead of rebuilding",
    )

    add("builds", cmd_builds, "Show a dataset's build history.", example="uig builds --dataset shop")
    p = add(
        "rollback",
        cmd_rollback,
        "Make the previous (or a given) build current again.",
        example="uig rollback --dataset shop",
    )
    p.add_argument("--to", metavar="BUILD_ID", help="build to restore (default: the one before the current)")
    _register_evaluate(add)


def _register_evaluate(add: AddCommand) -> None:
    p = add(
        "evaluate",
        cmd_evaluate,
        "Evaluate every model and baseline on a temporal split.",
        example="uig evaluate --dataset shop --cutoff 2011-11-09 --json",
    )
    p.add_argument("--cutoff", metavar="DATE", help="test period start (default: last event date - 30 days)")
    p.add_argument(
        "--task",
        choices=["discover", "next_purchase"],
        default="discover",
        help="discover: items new to the user (default); next_purchase: the first purchase of any item not bought "
        "before, viewed and carted items included (logs with purchases among other events)",
    )
    p.add_argument("-k", type=int, default=20, help="cut-off of the ranking metrics (default 20)")
    p.add_argument(
        "--max-users",
        type=int,
        default=20_000,
        metavar="N",
        help="score a seeded sample of N test users when there are more (default 20000; 0: all)",
    )
    p.add_argument(
        "--models",
        metavar="NAME,NAME",
        help="evaluate only these models (default: all; the full-graph GCNs and graph filters are left out "
        "above 1 M training pairs)",
    )
    p.add_argument(
        "--no-save",
        action="store_true",
        help="do not keep the result with the build (by default the Model quality page shows it)",
    )
    p.add_argument("--job-origin", choices=["cli", "page"], default="cli", help=argparse.SUPPRESS)
