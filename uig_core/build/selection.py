"""Per-dataset default models, chosen at build time on a validation split carved from the dataset's own log.

The validation split is :mod:`uig_core.build.validation`'s: window 1 is the last tenth of the log's period
(:func:`~uig_core.build.validation.validation_cutoff`, at midnight when the log spans ten days or more) cut by the
evaluation protocol's :func:`~uig_core.evaluation.protocol.temporal_split` (discover); when that tenth holds fewer
than 1,000 validation users, earlier tenths are added as further windows (at most five) and each candidate is
judged on its pooled, user-weighted figures — the rule and its reasons are in that module. Next purchase
(:func:`~uig_core.evaluation.next_purchase.next_purchase_split`, for logs with purchases among other events) uses
window 1's cutoff.

Every candidate has an *estimated* cost in seconds (:func:`estimate_seconds`, from window 1's users, items and
pairs — never from a measured wall time, so the same data and budget always fit the same candidates). Fast models
are always fitted; the slower ones (graph filters, iALS, the graph networks) while the running sum of estimates
stays within :attr:`~uig_core.config.BuildConfig.selection_budget_s`. The candidates admitted on window 1 are the
ones refitted on the other windows. Each fitted candidate ranks every item for the validation users; the best
(pooled) validation Recall@20 is the default (ties: NDCG@20, then the candidate order). Settings a candidate finds
while fitting (EASE's λ, lm_blend's text weight) are window 1's, fixed on the other windows, as the build's
full fit then reuses them. On next purchase a model must beat the ``recent_unbought`` baseline to be chosen;
where none does, the baseline is.

The table is stored in the build summary as ``meta["selection"]`` (shape in :func:`select_defaults`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.build.scoring import (
    BASELINE,
    DISCOVER,
    NEXT_PURCHASE,
    best_candidate,
    candidate_row,
    estimate_seconds,
    recall_of,
    score_candidates,
    score_row,
)
from uig_core.build.validation import (
    MAX_SCORED_USERS,
    discover_windows,
    pool_figures,
    validation_cutoff,
    validation_info,
)
from uig_core.errors import UIGError
from uig_core.progress import Progress, noop

if TYPE_CHECKING:
    from uig_core.config import BuildConfig
    from uig_core.evaluation.protocol import Split
    from uig_core.models.base import Recommender
    from uig_core.store.relation import EventRelation

__all__ = [
    "DISCOVER",
    "NEXT_PURCHASE",
    "BASELINE",
    "validation_cutoff",
    "estimate_seconds",
    "discover_candidates",
    "select_defaults",
    "chosen_by_flag",
    "score_candidates",
    "score_windows",
]

log = logging.getLogger(__name__)

#: Candidate order: it breaks ties (proven, cheap models first). Registered models not named here follow.
_ORDER = (
    "ease_recency",
    "ease",
    "p3alpha",
    "rp3beta",
    "itemknn",
    "popularity",
    "gfcf",
    "bspm",
    "ials",
    "lm_blend",
    "lm_gcn",
    "lightgcn",
    "residual_gcn",
)
_NEXT_ORDER = (BASELINE, "recent_funnel")


def discover_candidates() -> list[str]:
    """Registered discover models in candidate order (``lm_blend`` once it is registered)."""
    from uig_core.models import MODEL_NAMES, model_class

    names = [n for n in _ORDER if n in MODEL_NAMES] + [n for n in MODEL_NAMES if n not in _ORDER]
    return [n for n in names if getattr(model_class(n), "task", DISCOVER) == DISCOVER]


def chosen_by_flag(model: str, budget_s: float) -> dict[str, Any]:
    """The selection record of a build whose default was named (``--model``): no validation ran."""
    return {
        "task": DISCOVER,
        "chosen_by": "--model",
        "budget_s": float(budget_s),
        "default": model,
        "validation": None,
        "candidates": [candidate_row(model, "fitted", "chosen by --model (no validation ran)", None, None)],
        "next_purchase": None,
    }


def select_defaults(
    events: EventRelation,
    config: BuildConfig,
    item_ids: pd.Index,
    embeddings: np.ndarray | None,
    *,
    candidates: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit the candidates on the validation split and choose each task's default.

    Args:
        events: The dataset's events (the build's relation).
        config: Build settings (edge weights, half-life, seed, ``selection_budget_s``).
        item_ids: The build's item index (rows of ``embeddings``).
        embeddings: ``(n_items, d)`` item text vectors of the build (for the models that read item meaning).
        candidates: Discover candidates in order (default: :func:`discover_candidates`).
        progress: ``progress(fraction, message)``.

    Returns:
        ``{"task": "discover", "chosen_by": "validation", "budget_s", "default", "validation": {"cutoff",
        "users", "pairs", "windows"} | None, "candidates": [{"model", "status", "reason", "estimated_s",
        "recall@20", "ndcg@20", "coverage", "gini", "long_tail_share", "fit_seconds", "windows"}],
        "next_purchase": {the same keys} | None}``. With several validation windows a discover row's
        ``recall@20``/``ndcg@20`` are pooled over them and ``windows`` holds its Recall@20 per window (latest
        first; only on fitted rows); ``validation["windows"]`` lists ``{"cutoff", "end", "users", "pairs"}`` per
        window (:func:`~uig_core.build.validation.validation_info`). Coverage, Gini and long-tail share are
        window 1's.
    """
    from uig_core.models import default_model_for
    from uig_core.store.frames import time_range

    report = progress or noop
    budget = float(config.selection_budget_s)
    first, last, _ = time_range(events)
    cutoff = validation_cutoff(first, last)
    fallback = default_model_for(len(item_ids))
    splits = discover_windows(events, config, first, last)
    fitted: dict[str, Recommender] = {}
    if isinstance(splits, str):
        out = _no_validation(fallback, budget, splits)
    else:
        for split in splits:
            split.item_features = _features_for(split.item_ids, item_ids, embeddings)
        names = list(candidates or discover_candidates())
        table = score_windows(splits, names, budget, config.seed, fitted, lambda f, m: report(0.7 * f, m))
        out = {
            "task": DISCOVER,
            "chosen_by": "validation",
            "budget_s": budget,
            "default": best_candidate(table, eligible=lambda n: True) or fallback,
            "validation": validation_info(splits),
            "candidates": table,
            "next_purchase": None,
        }
    default = out["default"]
    out["next_purchase"] = _select_next_purchase(events, config, cutoff, budget, fitted.get(default), report)
    report(1.0, f"default: {default}")
    return out


def score_windows(
    splits: Sequence[Split],
    names: Sequence[str],
    budget: float,
    seed: int,
    fitted: dict[str, Recommender],
    progress: Progress,
) -> list[dict[str, Any]]:
    """:func:`score_candidates` on window 1, then the candidates it fitted on the other windows, pooled.

    Args:
        splits: The validation windows, window 1 first (:func:`~uig_core.build.validation.discover_windows`).
        names: Candidates in order.
        budget: Seconds of estimated cost the slower candidates may take together (read on window 1).
        seed: Random seed of the seeded models.
        fitted: Filled with ``name → model fitted on window 1``.
        progress: ``progress(fraction, message)``.

    Returns:
        Window 1's rows, the fitted ones with pooled figures
        (:func:`~uig_core.build.validation.pool_figures`); with one window, :func:`score_candidates`'s rows.
    """
    n = len(splits)

    def part(w: int) -> Progress:
        return lambda f, m: progress((w + f) / n, m if n == 1 else f"{m} (window {w + 1} of {n})")

    table = score_candidates(splits[0], names, budget, seed, fitted, part(0))
    if n == 1:
        return table
    admitted = [r["model"] for r in table if r["status"] == "fitted"]
    # window 1's settings (EASE's λ, lm_blend's text weight) are what the build's full fit will use: fixed here too
    params = {r["model"]: r["params"] for r in table if r["status"] == "fitted" and r.get("params")}
    per_window = [{r["model"]: r for r in table}]
    for w, split in enumerate(splits[1:], start=1):  # the admitted set, whatever this window's sizes would admit
        rows = score_candidates(split, admitted, float("inf"), seed, {}, part(w), params=params)
        per_window.append({r["model"]: r for r in rows})
    users = [len(s.test_users) for s in splits]
    return [pool_figures([rows.get(r["model"]) for rows in per_window], users) for r in table]


def _select_next_purchase(
    events: EventRelation,
    config: BuildConfig,
    cutoff: pd.Timestamp,
    budget: float,
    discover_model: Recommender | None,
    report: Progress,
) -> dict[str, Any] | None:
    """The next-purchase table (None for a log without purchases among other events)."""
    from uig_core.evaluation.next_purchase import has_next_purchase_task, next_purchase_split
    from uig_core.models import MODEL_NAMES, model_class

    if not has_next_purchase_task(events):
        return None
    try:
        split, side = next_purchase_split(
            events, cutoff, event_weights=config.event_weights, half_life_days=config.half_life_days
        )
    except UIGError as err:
        log.info("no next-purchase validation: %s", err)
        return None
    if not len(split.test_users):
        log.info("no next-purchase validation: no first purchase of a known user and item after %s", cutoff)
        return None
    split = split.with_test_sample(MAX_SCORED_USERS, config.seed)  # a large log: every candidate on one sample
    names = [n for n in _NEXT_ORDER if n in MODEL_NAMES] + [
        n for n in MODEL_NAMES if n not in _NEXT_ORDER and getattr(model_class(n), "task", DISCOVER) == NEXT_PURCHASE
    ]
    table = score_candidates(
        split, names, budget, config.seed, {}, lambda f, m: report(0.7 + 0.25 * f, m), events=side, mask=side.bought
    )
    if discover_model is not None and len(split.test_users):  # for reference: the discover default on this task
        row = score_row(discover_model.name, discover_model, split, side.bought, 0.0, 0.0)
        row["reason"] = "the discover default, ranked with only bought items left out (for reference)"
        table.append(row)
    base = next((r for r in table if r["model"] == BASELINE and r["status"] == "fitted"), None)
    floor = base["recall@20"] if base else -1.0

    def eligible(name: str) -> bool:
        return getattr(model_class(name), "task", DISCOVER) == NEXT_PURCHASE

    best = best_candidate(table, eligible=eligible)
    chosen = best if best and (best == BASELINE or recall_of(table, best) > floor) else BASELINE
    return {
        "task": NEXT_PURCHASE,
        "chosen_by": "validation",
        "budget_s": budget,
        "default": chosen,
        "validation": validation_info([split]),
        "candidates": table,
    }


def _no_validation(default: str, budget: float, reason: str) -> dict[str, Any]:
    log.info("default %s without validation: %s", default, reason)
    return {
        "task": DISCOVER,
        "chosen_by": "catalogue size",
        "budget_s": budget,
        "default": default,
        "validation": None,
        "candidates": [
            candidate_row(default, "fitted", f"{reason}; the measured default for the catalogue size", None)
        ],
        "next_purchase": None,
    }


def _features_for(split_items: pd.Index, item_ids: pd.Index, embeddings: np.ndarray | None) -> np.ndarray | None:
    """The build's item vectors in the split's item order (None without embeddings)."""
    if embeddings is None or len(embeddings) != len(item_ids):
        return None
    rows = pd.Index(item_ids.astype(str)).get_indexer(split_items.astype(str))
    out = np.zeros((len(split_items), embeddings.shape[1]), dtype=np.float32)
    out[rows >= 0] = np.asarray(embeddings, dtype=np.float32)[rows[rows >= 0]]
    return out
