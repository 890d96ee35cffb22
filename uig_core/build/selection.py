"""Per-dataset default models, chosen at build time on a validation split carved from the dataset's own log.

One definition of the validation split: :func:`validation_cutoff` (the last tenth of the log's period, at
midnight when the log spans ten days or more) and the evaluation protocol's
:func:`~uig_core.evaluation.protocol.temporal_split` there (discover) or
:func:`~uig_core.evaluation.next_purchase.next_purchase_split` (next purchase, for logs with purchases among
other events).

Every candidate has an *estimated* cost in seconds (:func:`estimate_seconds`, from the split's users, items and
pairs — never from a measured wall time, so the same data and budget always fit the same candidates). Fast models
are always fitted; the slower ones (graph filters, iALS, the graph networks) while the running sum of estimates
stays within :attr:`~uig_core.config.BuildConfig.selection_budget_s`. Each fitted candidate ranks every item for
the validation users; the best validation Recall@20 is the default (ties: NDCG@20, then the candidate order). On
next purchase a model must beat the ``recent_unbought`` baseline to be chosen; where none does, the baseline is.

The table is stored in the build summary as ``meta["selection"]`` (shape in :func:`select_defaults`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

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
]

log = logging.getLogger(__name__)

DISCOVER = "discover"
NEXT_PURCHASE = "next_purchase"
#: The next-purchase baseline every other next-purchase model must beat.
BASELINE = "recent_unbought"
K = 20
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
#: Models fitted whatever the budget: the sparse ones (a few CPU-seconds even at the M shop's size), the measured
#: default ``ease_recency`` (skipped above EASE's dense limit) and the next-purchase models.
_ALWAYS = frozenset(
    {"popularity", "itemknn", "rp3beta", "p3alpha", "ease_recency", "lm_blend", BASELINE, "recent_funnel"}
)
_EPOCHS = 30  # the graph networks' default epoch cap (early stopping usually ends sooner)
_LOADED = 2.5  # the constants below are loaded-machine wall seconds; wall ≈ 2.5 × CPU-s on those runs


def validation_cutoff(first: pd.Timestamp, last: pd.Timestamp) -> pd.Timestamp:
    """The first instant of the validation period: the last tenth of ``first``..``last``.

    Floored to midnight when the log spans ten days or more (OR: about 37 days before its end); a shorter log
    (a week of Unix-second timestamps) keeps the exact instant.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    cut = last - (last - first) * 0.1
    return cut.normalize() if last - first >= pd.Timedelta(days=10) else cut


def estimate_seconds(name: str, n_users: int, n_items: int, nnz: int, eval_users: int | None = None) -> float:
    """Estimated fit + validation-scoring CPU seconds of a candidate (deterministic: sizes only).

    Args:
        name: Registry name.
        n_users: Training users.
        n_items: Training items.
        nnz: Training pairs.
        eval_users: Users ranked on validation (default: ``n_users``).

    The constants were read off validation fits on the demo and OR-30d on the shared 2-core machine while it
    was loaded, as wall seconds, and divided by that load (wall ≈ 2.5 × CPU-s); ``bench/quality.py
    --selection`` prints the estimates beside the measured seconds. What they must do is order the models and
    grow with the data as the fits do.
    """
    u, i, p = float(n_users), float(n_items), float(nnz)
    e = float(n_users if eval_users is None else eval_users)
    knn = 2e-7 * p * p / max(u, 1.0) + 3e-6 * p + 0.2
    scoring = 5e-7 * e * i
    gcn = _EPOCHS * (1.5e-5 * p + 2e-6 * (u + i)) + scoring
    costs: dict[str, Callable[[], float]] = {
        "popularity": lambda: 1e-8 * p + scoring + 0.01,
        "itemknn": lambda: knn + scoring,
        "rp3beta": lambda: 1.2 * knn + scoring,
        "p3alpha": lambda: 1.2 * knn + scoring,
        "ease": lambda: 2e-6 * u * i + 2e-11 * i**3 + scoring,
        "ease_recency": lambda: 2e-6 * u * i + 2e-11 * i**3 + scoring,
        "gfcf": lambda: 1.5e-6 * u * i + 8.0 + scoring,
        "bspm": lambda: 1.5e-6 * u * i + 8.0 + 5e-6 * e * i + scoring,
        "ials": lambda: 3e-5 * p + 6.0 + scoring,
        "lightgcn": lambda: gcn,
        "residual_gcn": lambda: 1.15 * gcn,
        "lm_gcn": lambda: 1.3 * gcn + 1.0,
        "lm_blend": lambda: 2e-6 * u * i + 2e-11 * i**3 + 1e-8 * i * i + scoring,  # EASE + a text kNN graph
        BASELINE: lambda: 1e-7 * p + scoring + 0.02,
        "recent_funnel": lambda: knn + 24 * scoring,  # scored once per setting of its grid
    }
    cost = costs.get(name, lambda: 1.5 * gcn + 1.0)  # an unknown model: priced as a graph network
    return round(float(cost()) / _LOADED, 2)


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
        "candidates": [_row(model, "fitted", "chosen by --model (no validation ran)", None, None)],
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
        "users", "pairs"} | None, "candidates": [{"model", "status", "reason", "estimated_s", "recall@20",
        "ndcg@20", "coverage", "gini", "long_tail_share", "fit_seconds"}], "next_purchase": {the same keys} |
        None}``.
    """
    from uig_core.models import default_model_for
    from uig_core.store.frames import time_range

    report = progress or noop
    budget = float(config.selection_budget_s)
    first, last, _ = time_range(events)
    cutoff = validation_cutoff(first, last)
    fallback = default_model_for(len(item_ids))
    split = _discover_split(events, config, cutoff)
    fitted: dict[str, Recommender] = {}
    if isinstance(split, str):
        out = _no_validation(fallback, budget, split)
    else:
        split.item_features = _features_for(split.item_ids, item_ids, embeddings)
        names = list(candidates or discover_candidates())
        table = score_candidates(split, names, budget, config.seed, fitted, lambda f, m: report(0.7 * f, m))
        out = {
            "task": DISCOVER,
            "chosen_by": "validation",
            "budget_s": budget,
            "default": _best(table, eligible=lambda n: True) or fallback,
            "validation": _validation_info(split),
            "candidates": table,
            "next_purchase": None,
        }
    default = out["default"]
    out["next_purchase"] = _select_next_purchase(events, config, cutoff, budget, fitted.get(default), report)
    report(1.0, f"default: {default}")
    return out


def _discover_split(events: EventRelation, config: BuildConfig, cutoff: pd.Timestamp) -> Split | str:
    """The discover validation split, or why there is none."""
    from uig_core.evaluation.protocol import temporal_split

    weights = dict(event_weights=config.event_weights, half_life_days=config.half_life_days)
    try:
        split = temporal_split(events, cutoff, **weights)
    except UIGError as err:
        return f"no validation split: {err}"
    if not len(split.test_users):
        return f"the validation period (from {cutoff}) holds no new pair"
    return split


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
    names = [n for n in _NEXT_ORDER if n in MODEL_NAMES] + [
        n for n in MODEL_NAMES if n not in _NEXT_ORDER and getattr(model_class(n), "task", DISCOVER) == NEXT_PURCHASE
    ]
    table = score_candidates(
        split, names, budget, config.seed, {}, lambda f, m: report(0.7 + 0.25 * f, m), events=side, mask=side.bought
    )
    if discover_model is not None and len(split.test_users):  # for reference: the discover default on this task
        row = _score_row(discover_model.name, discover_model, split, side.bought, 0.0, 0.0)
        row["reason"] = "the discover default, ranked with only bought items left out (for reference)"
        table.append(row)
    base = next((r for r in table if r["model"] == BASELINE and r["status"] == "fitted"), None)
    floor = base["recall@20"] if base else -1.0

    def eligible(name: str) -> bool:
        return getattr(model_class(name), "task", DISCOVER) == NEXT_PURCHASE

    best = _best(table, eligible=eligible)
    chosen = best if best and (best == BASELINE or _recall(table, best) > floor) else BASELINE
    return {
        "task": NEXT_PURCHASE,
        "chosen_by": "validation",
        "budget_s": budget,
        "default": chosen,
        "validation": _validation_info(split),
        "candidates": table,
    }


def score_candidates(
    split: Split,
    names: Sequence[str],
    budget: float,
    seed: int,
    fitted: dict[str, Recommender],
    progress: Progress,
    *,
    events: Any = None,
    mask: sp.csr_matrix | None = None,
) -> list[dict[str, Any]]:
    """Fit each candidate that the budget allows on ``split.train`` and score it on ``split.test``.

    Args:
        split: The validation split.
        names: Candidates in order.
        budget: Seconds of estimated cost the slower candidates may take together.
        seed: Random seed of the seeded models.
        fitted: Filled with ``name → fitted model``.
        progress: ``progress(fraction, message)``.
        events: Pair events for next-purchase models (passed to their ``fit``).
        mask: Pairs left out of each ranking (default: the train pattern, the discover task).

    Returns:
        One row per candidate (the ``candidates`` list of :func:`select_defaults`).
    """
    from uig_core.models import MAX_ITEMS, make_model

    n_users, n_items = split.train.shape
    users = len(split.test_users)
    est_of = {n: estimate_seconds(n, n_users, n_items, split.train.nnz, users) for n in names}
    # the budget goes to the cheapest optional candidates first; the table keeps the candidate order
    optional = sorted((n for n in names if n not in _ALWAYS), key=lambda n: (est_of[n], names.index(n)))
    admitted, total = set(), 0.0
    for n in optional:
        if total + est_of[n] <= budget:
            admitted.add(n)
            total += est_of[n]
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        est = est_of[name]
        if name in ("ease", "ease_recency") and n_items > MAX_ITEMS:
            rows.append(_row(name, "skipped", f"{n_items:,} items is above EASE's dense limit of {MAX_ITEMS:,}", est))
            continue
        if name not in _ALWAYS and name not in admitted:
            reason = (
                f"estimated {est:.1f} s does not fit the {budget:.0f} s selection budget once the cheaper "
                f"optional candidates are in ({total:.1f} s); raise selection_budget_s to include it"
            )
            rows.append(_row(name, "skipped", reason, est))
            continue
        progress(i / max(len(names), 1), f"validating {name}")
        t0 = time.perf_counter()
        try:
            model = _make(make_model, name, seed)
            kwargs = {"events": events} if getattr(type(model), "task", DISCOVER) == NEXT_PURCHASE else {}
            model.fit(split.train, item_features=split.item_features, **kwargs)
        except UIGError as err:
            rows.append(_row(name, "skipped", str(err), est))
            continue
        fit_s = time.perf_counter() - t0
        fitted[name] = model
        rows.append(_best_blend(name, model, split, mask, est, fit_s))
        if getattr(model, "l2_", None) is not None:  # EASE's λ: the build's full fit reuses it (no second search)
            rows[-1]["params"] = {"l2": float(model.l2_)}
            if getattr(model, "text_weight_", None) is not None:  # lm_blend's α, chosen with λ
                rows[-1]["params"]["text_weight"] = float(model.text_weight_)
        log.info(
            "fit %s: %.2f s (validation recall@20 %.4f, estimated %.2f s)", name, fit_s, rows[-1]["recall@20"], est
        )
    return rows


def _best_blend(
    name: str, model: Recommender, split: Split, mask: sp.csr_matrix | None, est: float, fit_s: float
) -> dict[str, Any]:
    """The validation row; for a model with a ``param_grid``, its best setting (earlier settings win ties)."""
    import itertools

    grid: dict[str, tuple[float, ...]] = getattr(type(model), "param_grid", {}) or {}
    if not grid:
        return _score_row(name, model, split, mask, est, fit_s)
    best: dict[str, Any] | None = None
    for values in itertools.product(*grid.values()):
        params = {key: float(v) for key, v in zip(grid, values, strict=True)}
        model.set_params(**params)
        row = _score_row(name, model, split, mask, est, fit_s)
        if best is None or (row["recall@20"], row["ndcg@20"]) > (best["recall@20"], best["ndcg@20"]):
            best = {**row, "params": params}
    assert best is not None  # a non-empty grid
    model.set_params(**best["params"])
    return best


def _make(make_model: Callable[..., Recommender], name: str, seed: int) -> Recommender:
    try:
        return make_model(name, random_state=seed)
    except TypeError:
        return make_model(name)


def _score_row(
    name: str, model: Recommender, split: Split, mask: sp.csr_matrix | None, est: float, fit_s: float
) -> dict[str, Any]:
    """Rank every item for the validation users with ``mask`` (default: train pairs) left out; the row."""
    from uig_core.evaluation.metrics import ranking_metrics, top_lists

    users = split.test_users
    top = top_lists(model, users, split.train if mask is None else mask, K)
    counts = np.diff((split.train > 0).tocsc().indptr)
    m = ranking_metrics(top, split.test[users], counts, k=K)
    row = _row(name, "fitted", None, est, m)
    row["fit_seconds"] = round(fit_s, 2)
    return row


def _row(
    name: str, status: str, reason: str | None, est: float | None, m: dict[str, float] | None = None
) -> dict[str, Any]:
    m = m or {}

    def fig(key: str) -> float | None:
        return round(float(m[key]), 4) if key in m else None

    return {
        "model": name,
        "status": status,
        "reason": reason,
        "estimated_s": est,
        "recall@20": fig("recall@20"),
        "ndcg@20": fig("ndcg@20"),
        "coverage": fig("coverage"),
        "gini": fig("gini"),
        "long_tail_share": fig("long_tail_share"),
    }


def _recall(table: list[dict[str, Any]], name: str) -> float:
    return next(float(r["recall@20"]) for r in table if r["model"] == name and r["recall@20"] is not None)


def _best(table: list[dict[str, Any]], *, eligible: Callable[[str], bool]) -> str | None:
    """The fitted, eligible row with the highest (recall, ndcg); earlier rows win ties."""
    best, key = None, None
    for r in table:
        if r["status"] != "fitted" or r["recall@20"] is None or not eligible(r["model"]):
            continue
        k = (r["recall@20"], r["ndcg@20"] or 0.0)
        if key is None or k > key:
            best, key = r["model"], k
    return best


def _validation_info(split: Split) -> dict[str, Any]:
    return {
        "cutoff": str(split.protocol.get("cutoff")),
        "users": int(len(split.test_users)),
        "pairs": int(split.test.nnz),
    }


def _no_validation(default: str, budget: float, reason: str) -> dict[str, Any]:
    log.info("default %s without validation: %s", default, reason)
    return {
        "task": DISCOVER,
        "chosen_by": "catalogue size",
        "budget_s": budget,
        "default": default,
        "validation": None,
        "candidates": [_row(default, "fitted", f"{reason}; the measured default for the catalogue size", None)],
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
