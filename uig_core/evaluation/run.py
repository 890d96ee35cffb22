"""Fit and score models on a split: ``uig evaluate``, the Model Quality page and the benchmarks.

The split comes from :mod:`uig_core.evaluation.protocol` (OR-30d's temporal protocol, or Gowalla's own files);
every model ranks **all** train items with the user's train items masked, and :mod:`uig_core.evaluation.metrics`
scores the top-K lists (Recall, NDCG, HitRate, coverage, Gini, long-tail share, the cold-item slice).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import UIGError
from uig_core.evaluation.metrics import cold_only_metrics, ranking_metrics
from uig_core.evaluation.protocol import Split, temporal_split
from uig_core.progress import Progress, noop
from uig_core.store.relation import EventRelation

if TYPE_CHECKING:
    from uig_core.config import BuildConfig
    from uig_core.models.base import Recommender
    from uig_core.store.workspace import Workspace

__all__ = ["evaluate_model", "evaluate_models", "evaluate_all", "evaluate_dataset"]

log = logging.getLogger(__name__)

_BATCH = 1024


#: ``uig evaluate`` scores a seeded sample of this many test users when there are more (a standard error of a
#: recall near 0.3 is then about 0.003).
MAX_TEST_USERS = 20_000
#: Above this many training pairs ``uig evaluate`` leaves the full-graph GCNs out unless they are named (the M shop
#: log's 1.7 M pairs kept LightGCN alone training for over 15 CPU-minutes; Online Retail has 0.27 M).
FULL_GRAPH_PAIRS = 1_000_000


def evaluate_model(
    model: Recommender, split: Split, *, k: int = 20, fit: bool = True, progress: Progress | None = None
) -> dict[str, float]:
    """Fit (unless ``fit=False``) and score one model on a split; adds ``fit_seconds`` and ``score_seconds``."""
    report = progress or noop
    t0 = time.perf_counter()
    if fit:
        model.fit(split.train, item_features=split.item_features, progress=lambda f, m: report(0.8 * f, m))
    fit_s = time.perf_counter() - t0
    users = split.test_users
    top = np.full((len(users), k), -1, dtype=np.int64)
    t1 = time.perf_counter()
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        idx, _ = model.recommend(batch, k=k, filter_seen=True)
        top[start : start + len(batch), : idx.shape[1]] = idx
        report(0.8 + 0.2 * min(start + _BATCH, len(users)) / len(users), "ranking all items")
    score_s = time.perf_counter() - t1
    counts = np.diff((split.train > 0).tocsc().indptr)
    out = ranking_metrics(top, split.test[users], counts, k=k)
    out.update(cold_only_metrics(model, split, counts, k=k))
    out["fit_seconds"] = round(fit_s, 3)
    out["score_seconds"] = round(score_s, 3)
    log.info(
        "evaluated %s: recall@%d %.4f, fit %.1f s, scoring %.1f s",
        model.name,
        k,
        out.get(f"recall@{k}", 0.0),
        fit_s,
        score_s,
    )
    return out


def evaluate_models(
    models: Mapping[str, Recommender],
    split: Split,
    k: int = 20,
    progress: Progress | None = None,
    *,
    fit: bool = True,
) -> dict[str, Any]:
    """Fit and evaluate several models on one split.

    A model whose ``fit`` raises a :class:`~uig_core.errors.UIGError` (e.g. EASE on a catalogue that is too big,
    ``lm_gcn`` without item features) is reported as ``{"skipped": "<reason>"}`` instead of failing the run.

    Returns:
        ``{"protocol": {...}, "models": {name: {"recall@K": ..., ...}}, "default": name}``.
    """
    from uig_core.models import DEFAULT_MODEL

    report = progress or noop
    results: dict[str, Any] = {}
    names = list(models)
    for i, name in enumerate(names):
        lo, hi = i / len(names), (i + 1) / len(names)
        report(lo, f"evaluating {name}")
        try:
            results[name] = evaluate_model(
                models[name],
                split,
                k=k,
                fit=fit,
                progress=lambda f, m, lo=lo, hi=hi, name=name: report(lo + (hi - lo) * f, f"{name}: {m}"),
            )
        except UIGError as err:
            results[name] = {"skipped": str(err)}
    fitted = [n for n in names if "skipped" not in results[n]]
    default = (
        DEFAULT_MODEL
        if DEFAULT_MODEL in fitted
        else (max(fitted, key=lambda n: results[n][f"ndcg@{k}"]) if fitted else None)
    )
    report(1.0, "evaluation done")
    return {"protocol": {**split.protocol, "k": k}, "models": results, "default": default}


def evaluate_all(
    split: Split,
    *,
    k: int = 20,
    names: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Evaluate every registered model (or ``names``) with default parameters (overridden by ``params``).

    Without ``names``, a split above :data:`FULL_GRAPH_PAIRS` training pairs leaves out the full-graph GCNs and
    graph filters (epochs over every edge, dense item blocks per user batch: hours there); they are listed as
    skipped, and ``names`` brings them back.
    """
    from uig_core.models import MODEL_NAMES, make_model, model_class
    from uig_core.models._gcn import GraphRecommender
    from uig_core.models.gfcf import GraphFilter

    params = params or {}
    models = {}
    chosen = list(names or MODEL_NAMES)
    skipped: dict[str, dict[str, str]] = {}
    if names is None and split.train.nnz > FULL_GRAPH_PAIRS:
        for name in [n for n in chosen if issubclass(model_class(n), (GraphRecommender, GraphFilter))]:
            chosen.remove(name)
            skipped[name] = {
                "skipped": f"{split.train.nnz:,} training pairs is above {FULL_GRAPH_PAIRS:,}, where a full-graph "
                f"model takes hours to evaluate; ask for it by name (uig evaluate --models {name}) to include it"
            }
    for name in chosen:
        p = dict(params.get(name, {}))
        try:
            models[name] = make_model(name, **{"random_state": random_state, **p})
        except TypeError:
            models[name] = make_model(name, **p)
    result = evaluate_models(models, split, k=k, progress=progress)
    result["models"].update(skipped)
    return result


def evaluate_dataset(
    ws: Workspace,
    dataset: str | None = None,
    *,
    cutoff: str | None = None,
    k: int = 20,
    names: Iterable[str] | None = None,
    max_users: int | None = MAX_TEST_USERS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``uig evaluate``: the temporal protocol on a workspace dataset, every model and baseline.

    Above ``max_users`` test users a seeded uniform sample of that many is scored (recorded in the protocol);
    ``None`` scores them all.

    Item features for the language-feature model come from the build's embedder (cached by text, so a built
    dataset is not re-embedded). Edge weights follow the workspace's build settings.
    """
    from uig_core.config import BuildConfig

    report = progress or noop
    info = ws.dataset(dataset)
    config = BuildConfig.from_dict(ws.settings().get("build", {}))
    report(0.0, "splitting the events at the cutoff")
    events = EventRelation.of_dataset(ws, info)
    split = temporal_split(events, cutoff, event_weights=config.event_weights, half_life_days=config.half_life_days)
    if max_users is not None:
        split = split.sample_users(max_users, seed=config.seed)
    if config.exclude_anomalous:  # as the build trains: flagged users (scored on the training period) left out
        split = _without_flagged(split, events, config)
    report(0.05, "item embeddings")
    split.item_features = _item_features(ws, events, split.item_ids, config)
    result = evaluate_all(
        split, k=k, names=names, random_state=config.seed, progress=lambda f, m: report(0.1 + 0.9 * f, m)
    )
    result["protocol"]["dataset"] = info.name
    current = [b for b in ws.builds(info.name) if b["current"]]
    built = current[0].get("default_model") if current else None
    if built and "skipped" not in result["models"].get(built, {"skipped": ""}):
        result["default"] = built  # the model the dataset's build chose, not a constant
    return result


def _without_flagged(split: Split, events: EventRelation, config: BuildConfig) -> Split:
    """The split with the training rows of users flagged on the training period emptied (recorded in protocol)."""
    from uig_core.signals.exclusion import excluded_users
    from uig_core.signals.risk import anomaly_scores

    cutoff = pd.Timestamp(split.protocol["cutoff"])
    scores = anomaly_scores(events.filtered(f"ts < TIMESTAMP '{cutoff.isoformat(sep=' ')}'"))
    users = pd.DataFrame({"user_id": split.user_ids.astype(str)}).merge(
        scores[["user_id", "anomaly_score"]].astype({"user_id": str}), on="user_id", how="left"
    )
    return split.without_training_rows(excluded_users(users, config))


def _item_features(ws: Workspace, events: EventRelation, item_ids: pd.Index, config: BuildConfig) -> np.ndarray | None:
    from uig_core.semantics import embeddings as semantics
    from uig_core.store.frames import items_frame

    items = items_frame(events)
    texts, _ = semantics.item_texts(items)
    from uig_core.semantics.registry import AUTO, auto_text_model

    model = auto_text_model(events) if config.embed_model in (None, AUTO) else config.embed_model  # as the build
    embedder = semantics.Embedder(model=model, cache_dir=ws.artifacts / "embeddings")
    emb = embedder.embed(texts)
    rows = pd.Index(items["item_id"].astype(str)).get_indexer(item_ids)
    return np.asarray(emb, dtype=np.float32)[rows]
