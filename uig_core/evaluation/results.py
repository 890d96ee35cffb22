"""Stored evaluations of builds, and the tables the *Model quality* page and ``uig evaluate`` show.

An evaluation is the same JSON as ``uig evaluate --json``::

    {"protocol": {...}, "models": {"<name>": {"recall@20": ..., "ndcg@20": ..., ...}}, "default": "<name>"}

:func:`run_evaluation` computes it with :func:`uig_core.evaluation.run.evaluate_dataset` and keeps it beside the
build folders, keyed by build id (:func:`uig_core.build.layout.evaluation_path`): a finished build folder is never
written to again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from uig_core import atomic
from uig_core.build.layout import evaluation_path
from uig_core.progress import Progress
from uig_core.store.workspace import Workspace

__all__ = [
    "quality_path",
    "load_quality",
    "save_quality",
    "run_evaluation",
    "quality_table",
    "quality_long",
    "metric_names",
    "quality_notes",
    "count_metrics",
    "selection_tables",
    "selection_caption",
]

log = logging.getLogger(__name__)

_ORDER = ("recall", "ndcg", "hitrate", "precision", "map", "mrr", "cold_recall", "coverage", "fit_seconds")


def quality_path(ws: Workspace, dataset: str | None = None, build_id: str | None = None) -> Path:
    """Where the evaluation of the dataset's current (or a given) build is kept."""
    folder = ws.build_dir(dataset, build_id)  # raises NotBuilt for a dataset without builds
    return evaluation_path(folder.parent, folder.name)


def save_quality(
    ws: Workspace, result: dict[str, Any], dataset: str | None = None, build_id: str | None = None
) -> Path:
    """Keep an evaluation of the dataset's current (or a given) build; returns where it went."""
    path = quality_path(ws, dataset, build_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, result)
    return path


def load_quality(ws: Workspace, dataset: str | None = None) -> dict[str, Any] | None:
    """The stored evaluation of the dataset's current build, or None when it was never evaluated."""
    path = quality_path(ws, dataset)
    if not path.exists():
        return None
    return atomic.read_json(path)


def run_evaluation(
    ws: Workspace,
    dataset: str | None = None,
    *,
    cutoff: str | None = None,
    k: int = 20,
    names: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate the models and baselines (default: every registered one) and keep the result beside the build."""
    from uig_core.evaluation.run import evaluate_dataset

    build_id = ws.build_dir(dataset).name  # the build evaluated is the one current when the run starts
    result = evaluate_dataset(ws, dataset, cutoff=cutoff, k=k, names=names, progress=progress)
    save_quality(ws, result, dataset, build_id)
    return result


def _sort_key(metric: str) -> tuple[int, str]:
    base = metric.split("@", 1)[0]
    return (_ORDER.index(base) if base in _ORDER else len(_ORDER), metric)


def metric_names(result: dict[str, Any]) -> list[str]:
    """Numeric metrics present in the result, in a stable reading order (recall, ndcg, hitrate, …)."""
    names: set[str] = set()
    for m in result.get("models", {}).values():
        names.update(k for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    return sorted(names, key=_sort_key)


def count_metrics(result: dict[str, Any]) -> list[str]:
    """The metrics that are whole counts (``users``, ``cold_users``): shown as integers, not as ``126.0000``."""
    values: dict[str, list[Any]] = {}
    for m in result.get("models", {}).values():
        for key, v in m.items():
            values.setdefault(key, []).append(v)
    return [
        name
        for name in metric_names(result)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values.get(name, [])) and values.get(name)
    ]


def quality_notes(result: dict[str, Any]) -> list[str]:
    """What a reader must know before trusting the figures: an empty test period, every model skipped."""
    protocol = result.get("protocol", {})
    notes = []
    if protocol.get("test_users") == 0:
        target = protocol.get("target_event") or "positive event"
        notes.append(
            f"The test period (from {protocol.get('cutoff', 'the cutoff')}) holds no {target} of a known user on an "
            "item they had not had before, so every figure below is 0 by construction. A log that runs well past "
            "the cutoff, with users who come back, gives figures that mean something."
        )
    models = result.get("models", {})
    if models and all("skipped" in m for m in models.values()):
        notes.append("Every model was skipped; the notes column says why.")
    return notes


def quality_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per model: ``model, default, <metrics…>, note`` (note: why a model was skipped).

    Rows are sorted by the first ranking metric (recall@k when present), best first; skipped models last.
    """
    metrics = metric_names(result)
    default = result.get("default")
    rows = []
    for name, m in result.get("models", {}).items():
        row: dict[str, Any] = {"model": str(name), "default": name == default}
        for metric in metrics:
            v = m.get(metric)
            row[metric] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
        row["note"] = str(m.get("skipped") or "")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["model", "default", *metrics, "note"])
    for name in count_metrics(result):
        frame[name] = frame[name].round().astype("Int64")
    if metrics and len(frame):
        frame = frame.sort_values(metrics[0], ascending=False, na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def quality_long(result: dict[str, Any], metrics: list[str] | None = None) -> pd.DataFrame:
    """Long form ``model, metric, value`` for a grouped bar chart (skipped models and NaNs left out)."""
    table = quality_table(result)
    metrics = [m for m in (metrics or metric_names(result)) if m in table]
    long = table.melt(id_vars=["model"], value_vars=metrics, var_name="metric", value_name="value")
    return long.dropna(subset=["value"]).reset_index(drop=True)


#: Columns of a stored candidate table, in reading order (``meta["selection"]``, :mod:`uig_core.build.selection`).
SELECTION_COLUMNS = ("recall@20", "ndcg@20", "coverage", "gini", "long_tail_share", "estimated_s", "fit_seconds")


def selection_tables(meta: dict[str, Any]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """Each task's stored candidate table as ``(task record, frame)``; ``[]`` for builds that chose nothing.

    A frame has ``model, default, status, <SELECTION_COLUMNS…>, reason``, in the stored candidate order (the
    order that breaks ties); figures are validation figures of that build, read, never recomputed.
    """
    selection = meta.get("selection")
    out = []
    for task in (selection, (selection or {}).get("next_purchase")):
        if not task:
            continue
        rows = []
        for r in task.get("candidates", []):
            row: dict[str, Any] = {"model": str(r.get("model")), "default": r.get("model") == task.get("default")}
            row["status"] = str(r.get("status") or "")
            for col in SELECTION_COLUMNS:
                v = r.get(col)
                row[col] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
            row["reason"] = str(r.get("reason") or "")
            rows.append(row)
        out.append((task, pd.DataFrame(rows, columns=["model", "default", "status", *SELECTION_COLUMNS, "reason"])))
    return out


def selection_caption(task: dict[str, Any]) -> str:
    """One line on how a task's default was chosen (validation period, users, budget)."""
    name = "Next purchase" if task.get("task") == "next_purchase" else "Discover"
    where = task.get("validation") or {}
    how = task.get("chosen_by") or "validation"
    text = f"{name}: default {task.get('default')}, chosen by {how}"
    if where:
        text += (
            f" — the best Recall@20 on the validation period from {where.get('cutoff')} "
            f"({where.get('users', 0):,} users, {where.get('pairs', 0):,} pairs), with a "
            f"{task.get('budget_s', 0):.0f} s budget for the slower candidates"
        )
    if task.get("task") == "next_purchase":
        text += "; a model must beat recent_unbought (viewed, not bought, most recent first) to be chosen"
    return text + "."
