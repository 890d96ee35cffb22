"""A dataset's builds as the Upload page and the CLI show them: history, rollback, a summary of a build.

:func:`build_history` lists the builds newest first with the figures each recorded (validation and next-batch
Recall@20, time); :func:`rollback` makes the build before the current one current again (``uig rollback``, the
page's button); :func:`build_lines` summarises a finished build, including how many users look like bots.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from uig_core.build import layout
from uig_core.errors import UIGError

if TYPE_CHECKING:
    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["HISTORY_COLUMNS", "build_history", "previous_build", "rollback", "build_lines", "datasets_table"]

log = logging.getLogger(__name__)

#: Columns of :func:`build_history`. ``validation R@20``: the default model's own validation figure;
#: ``next-batch R@20``: how well the build before predicted the purchases this update brought (see
#: :mod:`uig_core.evaluation.on_build`).
HISTORY_COLUMNS = (
    "current",
    "build_id",
    "created",
    "events",
    "rows added",
    "users",
    "items",
    "model",
    "kind",
    "validation R@20",
    "next-batch R@20",
    "seconds",
)


def build_history(ws: Workspace, name: str) -> tuple[pd.DataFrame, str | None]:
    """The dataset's builds and the one a rollback would restore.

    Returns:
        A frame, newest first, with :data:`HISTORY_COLUMNS`; and the build recorded before the current one
        (None when there is none).
    """
    builds = ws.builds(name)
    rows = []
    for b in reversed(builds):
        kind = "reused" if b.get("reused") else "incremental" if str(b["build_id"]).endswith("i") else "full"
        quality = b.get("quality") or {}
        rows.append(
            {
                "current": bool(b.get("current")),
                "build_id": b["build_id"],
                "created": str(b.get("created", ""))[:19].replace("T", " "),
                "events": b.get("events"),
                "rows added": b.get("rows_added"),
                "users": b.get("users"),
                "items": b.get("items"),
                "model": b.get("default_model"),
                "kind": kind,
                "validation R@20": quality.get("validation_recall@20"),
                "next-batch R@20": quality.get("next_batch_recall@20"),
                "seconds": round(sum((b.get("timings") or {}).values()), 1),
            }
        )
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return frame, _previous(
        [b["build_id"] for b in builds], next((b["build_id"] for b in builds if b["current"]), None)
    )


def _previous(history: list[str], current: str | None) -> str | None:
    order: list[str] = []
    for b in history:
        if b not in order:
            order.append(b)
    if current not in order:
        return order[-1] if order else None
    earlier = order[: order.index(current)]
    return earlier[-1] if earlier else None


def previous_build(ws: Workspace, name: str) -> str | None:
    """The build recorded before the current one (what a rollback restores), or None."""
    info = ws.dataset(name)
    return _previous([b["build_id"] for b in ws.builds(name)], info.current_build)


def rollback(ws: Workspace, name: str, to: str | None = None) -> str:
    """Make the previous build (or the build ``to``) current again and return its id.

    Raises:
        UIGError: There is no earlier build (``ConfigError`` when ``to`` is not on disk).
    """
    target = to if to is not None else previous_build(ws, name)
    if target is None:
        raise UIGError(f"dataset {name!r} has no earlier build to roll back to.")
    ws.set_current_build(name, target)
    return target


def build_lines(meta: dict[str, Any], ws: Workspace | None = None, *, bot_score: float = 0.5) -> list[str]:
    """A short, readable summary of a finished build; with ``ws``, also how many users look like bots."""
    c = meta.get("counts", {})
    out = [f"build {meta.get('build_id')}" + (" (reused: same data and settings)" if meta.get("reused") else "")]
    if c:
        out.append(
            f"{c.get('users', 0):,} users, {c.get('items', 0):,} items, {c.get('interests', 0)} interests, "
            f"{c.get('edges', 0):,} user-item edges"
        )
    if meta.get("models"):
        out.append(f"models: {', '.join(meta['models'])} (default {meta.get('default_model')})")
    if meta.get("config", {}).get("exclude_anomalous"):
        t = meta["config"].get("anomaly_threshold")
        at = f"{float(t):.2f}" if t is not None else "the flag threshold"
        out.append(f"left out of training: {int(meta.get('excluded_users', 0)):,} users with anomaly score >= {at}")
    if meta.get("timings"):
        out.append("times: " + ", ".join(f"{k} {v:.1f}s" for k, v in meta["timings"].items()))
    if ws is not None and meta.get("dataset"):
        out.extend(_bot_lines(ws, str(meta["dataset"]), str(meta.get("build_id")), bot_score))
    return out


def _bot_lines(ws: Workspace, name: str, build_id: str, threshold: float) -> list[str]:
    try:
        users = layout.read_frame(ws.build_dir(name, build_id), "users")
    except (UIGError, OSError):
        return []
    if "anomaly_score" not in users:
        return []
    flagged = users[pd.to_numeric(users["anomaly_score"], errors="coerce") >= threshold]
    if flagged.empty:
        return [f"no user scores {threshold:.1f} or more on the anomaly (bot) score"]
    line = f"{len(flagged):,} users look like bots (anomaly score >= {threshold:.1f})"
    if "anomaly_reason" in flagged:
        top = flagged.sort_values("anomaly_score", ascending=False).iloc[0]
        line += f", e.g. {top['user_id']}: {top['anomaly_reason'] or 'several weak signals'}"
    return [line + "; see User portraits, ordered by anomaly."]


def datasets_table(infos: list[DatasetInfo]) -> pd.DataFrame:
    """Datasets (e.g. ``ws.datasets()``) as a table: ``name, events, users, items, built, created, source``."""
    rows = [
        {
            "name": d.name,
            "events": d.rows,
            "users": d.users,
            "items": d.items,
            "built": d.current_build is not None,
            "created": d.created.strftime("%Y-%m-%d %H:%M"),
            "source": Path(d.source).name if d.source else "",
        }
        for d in infos
    ]
    return pd.DataFrame(rows, columns=["name", "events", "users", "items", "built", "created", "source"])
