"""Scoring the candidates of the build's default choice on one validation split (:mod:`uig_core.build.selection`).

:func:`estimate_seconds` prices a candidate from the split's sizes only; :func:`score_candidates` fits the
candidates the budget admits and ranks every item for the validation users, one row per candidate
(:func:`candidate_row`'s keys); :func:`best_candidate` reads the winner off the rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from uig_core.errors import UIGError
from uig_core.progress import Progress

if TYPE_CHECKING:
    from uig_core.evaluation.protocol import Split
    from uig_core.models.base import Recommender

__all__ = [
    "DISCOVER",
    "NEXT_PURCHASE",
    "BASELINE",
    "K",
    "ALWAYS",
    "estimate_seconds",
    "score_candidates",
    "score_row",
    "candidate_row",
    "best_candidate",
    "recall_of",
]

log = logging.getLogger(__name__)

DISCOVER = "discover"
NEXT_PURCHASE = "next_purchase"
#: The next-purchase baseline every other next-purchase model must beat.
BASELINE = "recent_unbought"
K = 20
#: Models fitted whatever the budget: the sparse ones (a few CPU-seconds even at the M shop's size), the measured
#: default ``ease_recency`` (skipped above EASE's dense limit) and the next-purchase models.
ALWAYS = frozenset(
    {"popularity", "itemknn", "rp3beta", "p3alpha", "ease_recency", "lm_blend", BASELINE, "recent_funnel"}
)
_EPOCHS = 30  # the graph networks' default epoch cap (early stopping usually ends sooner)
_LOADED = 2.5  # the constants below are loaded-machine wall seconds; wall ≈ 2.5 × CPU-s on those runs


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
    params: dict[str, dict[str, Any]] | None = None,
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
        params: Fixed settings per candidate (``name → {parameter: value}``, as a row's ``params``): passed to
            the model, which then neither searches its λ nor its ``param_grid``.

    Returns:
        One row per candidate (the ``candidates`` list of :func:`~uig_core.build.selection.select_defaults`).
    """
    from uig_core.models import MAX_ITEMS, make_model

    n_users, n_items = split.train.shape
    users = len(split.test_users)
    est_of = {n: estimate_seconds(n, n_users, n_items, split.train.nnz, users) for n in names}
    # the budget goes to the cheapest optional candidates first; the table keeps the candidate order
    optional = sorted((n for n in names if n not in ALWAYS), key=lambda n: (est_of[n], names.index(n)))
    admitted, total = set(), 0.0
    for n in optional:
        if total + est_of[n] <= budget:
            admitted.add(n)
            total += est_of[n]
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        est = est_of[name]
        if name in ("ease", "ease_recency") and n_items > MAX_ITEMS:
            rows.append(
                candidate_row(name, "skipped", f"{n_items:,} items is above EASE's dense limit of {MAX_ITEMS:,}", est)
            )
            continue
        if name not in ALWAYS and name not in admitted:
            after = f" after the cheaper optional candidates ({total:.1f} s)" if total > 0 else ""
            reason = (
                f"estimated {est:.1f} s does not fit the {budget:.0f} s selection budget{after}; "
                "raise it (uig build --selection-budget S) to include it"
            )
            rows.append(candidate_row(name, "skipped", reason, est))
            continue
        progress(i / max(len(names), 1), f"validating {name}")
        t0 = time.perf_counter()
        try:
            model = _make(make_model, name, seed, (params or {}).get(name, {}))
            kwargs = {"events": events} if getattr(type(model), "task", DISCOVER) == NEXT_PURCHASE else {}
            model.fit(split.train, item_features=split.item_features, **kwargs)
        except UIGError as err:
            rows.append(candidate_row(name, "skipped", str(err), est))
            continue
        fit_s = time.perf_counter() - t0
        fitted[name] = model
        if name in (params or {}):
            rows.append({**score_row(name, model, split, mask, est, fit_s), "params": dict(params[name])})
        else:
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
        return score_row(name, model, split, mask, est, fit_s)
    settings = [
        {key: float(v) for key, v in zip(grid, values, strict=True)} for values in itertools.product(*grid.values())
    ]
    tops: list[np.ndarray | None] = [None] * len(settings)
    if hasattr(model, "grid_top_lists"):  # the whole grid ranked from one pass (recent_funnel: one kNN product)
        tops = model.grid_top_lists(split.test_users, split.train if mask is None else mask, settings, K)
    best: dict[str, Any] | None = None
    for params, top in zip(settings, tops, strict=True):
        model.set_params(**params)
        row = score_row(name, model, split, mask, est, fit_s, top=top)
        if best is None or (row["recall@20"], row["ndcg@20"]) > (best["recall@20"], best["ndcg@20"]):
            best = {**row, "params": params}
    assert best is not None  # a non-empty grid
    model.set_params(**best["params"])
    return best


def _make(make_model: Callable[..., Recommender], name: str, seed: int, params: dict[str, Any]) -> Recommender:
    try:
        return make_model(name, random_state=seed, **params)
    except TypeError:
        return make_model(name, **params)


def score_row(
    name: str,
    model: Recommender,
    split: Split,
    mask: sp.csr_matrix | None,
    est: float,
    fit_s: float,
    *,
    top: np.ndarray | None = None,
) -> dict[str, Any]:
    """Rank every item for the validation users with ``mask`` (default: train pairs) left out; the row.

    ``top``: the validation users' top-K lists when already ranked (:meth:`RecentFunnel.grid_top_lists`).
    """
    from uig_core.evaluation.metrics import ranking_metrics, top_lists

    users = split.test_users
    if top is None:
        top = top_lists(model, users, split.train if mask is None else mask, K)
    counts = split.item_counts  # once per split, not once per candidate and grid setting
    m = ranking_metrics(top, split.test[users], counts, k=K)
    row = candidate_row(name, "fitted", None, est, m)
    row["fit_seconds"] = round(fit_s, 2)
    return row


def candidate_row(
    name: str, status: str, reason: str | None, est: float | None, m: dict[str, float] | None = None
) -> dict[str, Any]:
    """One candidate row (``model, status, reason, estimated_s`` and the validation figures of ``m``)."""
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


def recall_of(table: list[dict[str, Any]], name: str) -> float:
    """The Recall@20 of ``name``'s fitted row in ``table``."""
    return next(float(r["recall@20"]) for r in table if r["model"] == name and r["recall@20"] is not None)


def best_candidate(table: list[dict[str, Any]], *, eligible: Callable[[str], bool]) -> str | None:
    """The fitted, eligible row with the highest (recall, ndcg); earlier rows win ties."""
    best, key = None, None
    for r in table:
        if r["status"] != "fitted" or r["recall@20"] is None or not eligible(r["model"]):
            continue
        k = (r["recall@20"], r["ndcg@20"] or 0.0)
        if key is None or k > key:
            best, key = r["model"], k
    return best
