"""Headline figures for the Home page and ``uig datasets``: what is in a dataset and what runs on it.

:func:`home_summary` gives the counts, the current build, the default model with its validation Recall@20 and the
data quality of the upload; :func:`home_view` adds what is going on over time (:mod:`uig_core.queries.trends`).
The build-side figures are read once per build folder (folders are content-keyed and never change).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from uig_core import atomic
from uig_core.build import layout
from uig_core.ingest.report import page_wording
from uig_core.memo import BoundedMemo
from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["home_summary", "home_view", "model_line"]

log = logging.getLogger(__name__)

#: What a default model is, in a few words (the subtitle names it; others show by their registry name).
_MODEL_WORDS = {
    "ease_recency": "EASE on recency-weighted events",
    "lm_blend": "EASE blended with item-title similarity",
    "ease": "item-item linear autoencoder",
    "p3alpha": "P3α random walks on the graph",
    "rp3beta": "RP3β random walks on the graph",
    "itemknn": "item k-nearest neighbours",
    "ials": "implicit ALS matrix factorisation",
    "bspm": "BSPM graph filter",
    "gf_cf": "graph filter",
    "lightgcn": "LightGCN graph network",
    "residual_gcn": "residual graph network",
    "lm_gcn": "graph network with item text",
    "popularity": "popularity",
}


def model_line(meta: dict[str, Any]) -> str:
    """One line saying what a build really runs: text model, interests, graph and default recommender."""
    default = str(meta.get("default_model") or "")
    words = _MODEL_WORDS.get(default)
    model = f"{default} ({words})" if words and words != default else default or "no model"
    embed = meta.get("embed_model_id")
    # The id carries a version after "@" (minilm-static@gt-0.1.0-…); the name is what a reader knows.
    meaning = f"item meaning from `{str(embed).split('@')[0]}`" if embed else "item meaning from a language model"
    return f"Behaviour logs → {meaning} → interest graph → recommendations by {model}."


def home_summary(
    ws: Workspace,
    name: str | None = None,
    *,
    top: int = 8,
    overview: dict[str, Any] | None = None,
    info: DatasetInfo | None = None,
) -> dict[str, Any]:
    """Users, items, events by type, time range, interests, the default model, quality of the upload.

    Args:
        ws: The workspace.
        name: Dataset name (default: the only one).
        top: How many of the largest interests to list.
        overview: ``ws.overview(name)`` when the caller keeps it (one scan of the events; the dashboard caches
            it per content hash), else read here.
        info: The dataset's registry row, when the caller has it.

    Returns:
        A dict with ``users, items, events, events_by_type (DataFrame), first, last, interests, top_interests
        (DataFrame or None), build (dict or None), model (dict or None), quality (dict or None), revenue (dict or
        None), upload (dict or None), subtitle (str)``. ``model`` is ``{name, recall, source, candidates}``: the
        default model and its Recall@20 (``source`` says which figure: ``validation``, the build's own
        hold-out, or ``evaluation``, a stored Model quality run); ``revenue`` is ``{net, gross, orders,
        orders_gross}``; ``upload`` the data quality of the upload (:func:`_upload`).
    """
    ov = overview if overview is not None else ws.overview(name)
    info = info or ws.dataset(ov["name"])
    out: dict[str, Any] = {
        "users": ov["users"],
        "items": ov["items"],
        "events": ov["events"],
        "events_by_type": pd.DataFrame(list(ov["events_by_type"].items()), columns=["event", "count"]),
        "first": _fmt(ov["first"]),
        "last": _fmt(ov["last"]),
        "interests": None,
        "top_interests": None,
        "build": None,
        "model": None,
        "quality": None,
        "revenue": None,
        "upload": _upload(info.report),
        "subtitle": "Behaviour logs → item meaning from a language model → interest graph → recommendations.",
    }
    if not ov["built"] or info.current_build is None:
        return out
    path = ws.build_root(info) / info.current_build  # from the registry row in hand: no second registry read
    out.update(_build_figures(str(path), int(top)))
    q = _stored_evaluation(ws, info)
    if q is not None:
        best = q.get("default")
        metrics = q.get("models", {}).get(best, {})
        if "recall@20" in metrics:
            out["quality"] = {"model": best, "recall": metrics["recall@20"], "ndcg": metrics.get("ndcg@20")}
    out["model"] = _model(out.pop("_meta"), out["quality"])
    return out


def home_view(ws: Workspace, info: DatasetInfo, *, overview: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`home_summary` plus ``trends``: events over time by type and the interest landscape.

    ``trends`` is :func:`uig_core.queries.trends.shop_trends` (two DuckDB GROUP BYs). The view is memoised per
    (workspace, dataset content, build, stored evaluation), that key is the view's ``key``, and the view is
    shared between callers: treat it as read-only.
    """
    from uig_core.queries.trends import shop_trends

    evaluation = _evaluation_file(ws, info)
    stamp = evaluation.stat().st_mtime_ns if evaluation is not None and evaluation.exists() else 0
    key = (str(ws.root.resolve()), info.id, info.data_hash, info.current_build, stamp)

    def compute() -> dict[str, Any]:
        view = home_summary(ws, info.name, overview=overview, info=info)
        view["key"] = key
        build = ws.build_root(info) / info.current_build if info.current_build else None
        meta = layout.read_meta(build) if build is not None else None
        view["trends"] = shop_trends(ws, info, build=build, meta=meta)
        return view

    return _MEMO.get_or_compute(key, compute)


_MEMO: BoundedMemo[dict[str, Any]] = BoundedMemo(16)


def _evaluation_file(ws: Workspace, info: DatasetInfo) -> Path | None:
    """Where a Model quality run of the current build is kept (:func:`uig_core.build.layout.evaluation_path`)."""
    if info.current_build is None:
        return None
    return layout.evaluation_path(ws.build_root(info), info.current_build)


def _stored_evaluation(ws: Workspace, info: DatasetInfo) -> dict[str, Any] | None:
    """The stored Model quality run of the current build (what ``results.load_quality`` reads), or None."""
    path = _evaluation_file(ws, info)
    return atomic.read_json(path) if path is not None and path.exists() else None


@functools.lru_cache(maxsize=8)
def _build_figures(path: str, top: int) -> dict[str, Any]:
    """What a build folder says about itself (read once: build folders never change)."""
    folder = Path(path)
    meta = layout.read_meta(folder)
    interests = layout.read_frame(folder, "interests")
    if "level" in interests:
        interests = interests[interests["level"] == "coarse"]
    return {
        "_meta": meta,
        "build": {k: meta.get(k) for k in ("build_id", "default_model", "created", "embed_model_id")},
        "interests": len(interests),
        "top_interests": (
            interests.sort_values("size", ascending=False)[["name", "size"]].head(top).reset_index(drop=True)
        ),
        "revenue": _revenue(folder),
        "subtitle": model_line(meta),
    }


def _model(meta: dict[str, Any], quality: dict[str, Any] | None) -> dict[str, Any]:
    """The default model and its Recall@20: the build's selection, its validation figure, or a stored run."""
    selection = meta.get("selection") or {}
    name = selection.get("default") or meta.get("default_model")
    candidates = [c for c in selection.get("candidates") or [] if isinstance(c, dict)]
    recall, source = None, None
    for c in candidates:
        if c.get("model") == name and c.get("recall@20") is not None:
            recall, source = float(c["recall@20"]), "validation"
    if recall is None and (meta.get("quality") or {}).get("validation_recall@20") is not None:
        recall, source = float(meta["quality"]["validation_recall@20"]), "validation"
    if recall is None and quality is not None and quality.get("model") == name:
        recall, source = float(quality["recall"]), "evaluation"
    return {"name": name, "recall": recall, "source": source, "candidates": len(candidates)}


def _upload(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Data quality of the stored upload: rows read and kept, and each reason rows were dropped or relabelled.

    Returns:
        ``{file, rows_read, rows_accepted, issues (DataFrame: issue, rows), warnings [str]}`` or None when the
        dataset has no stored report. Reasons and warnings quote the log: show them as text, never as markup.
    """
    if not report or not report.get("rows_read"):
        return None
    issues = [(page_wording(str(reason)), int(n)) for reason, n in (report.get("skipped") or {}).items()]
    for key, words in (
        ("duplicates", "exact duplicate rows removed"),
        ("returns", "returns (negative quantities) kept as returns"),
        ("nonpositive_price", "purchases at price ≤ 0 kept as adjustments"),
        ("truncated_titles", "titles cut to the length limit"),
    ):
        if int(report.get(key) or 0):
            issues.append((words, int(report[key])))
    return {
        "file": str(report.get("file") or ""),
        "rows_read": int(report["rows_read"]),
        "rows_accepted": int(report.get("rows_accepted") or 0),
        "issues": pd.DataFrame(issues, columns=["issue", "rows"]).sort_values("rows", ascending=False),
        "warnings": [page_wording(str(w)) for w in report.get("warnings") or []],
    }


def _revenue(path: Any) -> dict[str, float | int] | None:
    """Total net and gross spend and orders of a build's users (four columns of the users table read)."""
    columns = ["spend", "spend_gross", "orders", "orders_gross"]
    try:
        users = layout.read_frame(path, "users", columns=columns)
    except (KeyError, ValueError):  # a build made before the gross figures were stored
        return None
    totals = users.sum()
    return {
        "net": round(float(totals["spend"]), 2),
        "gross": round(float(totals["spend_gross"]), 2),
        "orders": int(totals["orders"]),
        "orders_gross": int(totals["orders_gross"]),
    }


def _fmt(ts: Any) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")
