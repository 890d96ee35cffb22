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

from uig_core.errors import ConfigError, UIGError
from uig_core.evaluation.metrics import cold_only_metrics, ranking_metrics, top_lists
from uig_core.evaluation.protocol import Split, temporal_split
from uig_core.progress import Progress, noop
from uig_core.store.relation import EventRelation

if TYPE_CHECKING:
    from uig_core.config import BuildConfig
    from uig_core.evaluation.next_purchase import PairEvents
    from uig_core.models.base import Recommender
    from uig_core.store.workspace import Workspace

__all__ = ["evaluate_model", "evaluate_models", "evaluate_all", "evaluate_dataset", "TASKS"]

log = logging.getLogger(__name__)

_BATCH = 1024
#: The evaluation tasks: items new to the user, or the first purchase of any item not bought before.
TASKS = ("discover", "next_purchase")


#: ``uig evaluate`` scores a seeded sample of this many test users when there are more (a standard error of a
#: recall near 0.3 is then about 0.003).
MAX_TEST_USERS = 20_000
#: Above this many training pairs ``uig evaluate`` leaves the full-graph GCNs out unless they are named (the M shop
#: log's 1.7 M pairs kept LightGCN alone training for over 15 CPU-minutes; Online Retail has 0.27 M).
FULL_GRAPH_PAIRS = 1_000_000


def evaluate_model(
    model: Recommender,
    split: Split,
    *,
    k: int = 20,
    fit: bool = True,
    progress: Progress | None = None,
    events: PairEvents | None = None,
) -> dict[str, float]:
    """Fit (unless ``fit=False``) and score one model on a split; adds ``fit_seconds`` and ``score_seconds``.

    With ``events`` (the next-purchase task) next-purchase models are fitted with them, and every model ranks
    with only the bought pairs left out; the cold-only slice is a discover figure and is left out.
    """
    report = progress or noop
    t0 = time.perf_counter()
    if fit:
        extra = {"events": events} if events is not None and _is_next_purchase(model) else {}
        model.fit(split.train, item_features=split.item_features, progress=lambda f, m: report(0.8 * f, m), **extra)
    fit_s = time.perf_counter() - t0
    users = split.test_users
    top = np.full((len(users), k), -1, dtype=np.int64)
    t1 = time.perf_counter()
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        if events is not None:
            idx = top_lists(model, batch, events.bought, k)
        else:
            idx, _ = model.recommend(batch, k=k, filter_seen=True)
        top[start : start + len(batch), : idx.shape[1]] = idx
        report(0.8 + 0.2 * min(start + _BATCH, len(users)) / len(users), "ranking all items")
    score_s = time.perf_counter() - t1
    counts = split.item_counts
    out = ranking_metrics(top, split.test[users], counts, k=k)
    if events is None:
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
    events: PairEvents | None = None,
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
                events=events,
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
    protocol = {"task": "discover", **split.protocol, "k": k}
    return {"protocol": protocol, "models": results, "default": default}


def _is_next_purchase(model: Recommender) -> bool:
    return getattr(type(model), "task", "discover") == "next_purchase"


def evaluate_all(
    split: Split,
    *,
    k: int = 20,
    names: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
    events: PairEvents | None = None,
) -> dict[str, Any]:
    """Evaluate every registered model (or ``names``) with default parameters (overridden by ``params``).

    Without ``names`` the discover task evaluates every discover model and the next-purchase task (``events``
    given) the next-purchase models, popularity and item-kNN.

    Without ``names``, a split above :data:`FULL_GRAPH_PAIRS` training pairs leaves out the full-graph GCNs and
    graph filters (epochs over every edge, dense item blocks per user batch: hours there); they are listed as
    skipped, and ``names`` brings them back.
    """
    from uig_core.models import MODEL_NAMES, make_model, model_class
    from uig_core.models._gcn import GraphRecommender
    from uig_core.models.gfcf import GraphFilter

    params = params or {}
    models = {}
    chosen = list(names or _task_models(MODEL_NAMES, events is not None))
    if events is None and names is not None:
        chosen = _discover_only(chosen)
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
    result = evaluate_models(models, split, k=k, progress=progress, events=events)
    result["models"].update(skipped)
    return result


def _discover_only(names: list[str]) -> list[str]:
    """``names`` without the next-purchase models, which a discover evaluation cannot tell apart.

    Without pair events they rank as their item-kNN part, so a discover table would show item-kNN's figures
    twice (they are measured by ``--task next_purchase``).

    Raises:
        ConfigError: Every name is a next-purchase model.
    """
    from uig_core.models import model_class

    kept = [n for n in names if getattr(model_class(n), "task", "discover") != "next_purchase"]
    if names and not kept:
        raise ConfigError(
            f"{', '.join(names)} only rank next purchases; evaluate them with --task next_purchase "
            f"(e.g. uig evaluate --task next_purchase --models {','.join(names)})."
        )
    if len(kept) < len(names):
        log.info("discover evaluation leaves out the next-purchase models %s", sorted(set(names) - set(kept)))
    return kept


def _task_models(names: Iterable[str], next_purchase: bool) -> list[str]:
    from uig_core.models import model_class

    if next_purchase:
        return [n for n in names if getattr(model_class(n), "task", "discover") == "next_purchase"] + [
            "popularity",
            "itemknn",
        ]
    return [n for n in names if getattr(model_class(n), "task", "discover") == "discover"]


def evaluate_dataset(
    ws: Workspace,
    dataset: str | None = None,
    *,
    cutoff: str | None = None,
    k: int = 20,
    names: Iterable[str] | None = None,
    max_users: int | None = MAX_TEST_USERS,
    progress: Progress | None = None,
    task: str = "discover",
) -> dict[str, Any]:
    """``uig evaluate``: the temporal protocol on a workspace dataset, every model and baseline.

    Above ``max_users`` test users a seeded uniform sample of that many is scored (recorded in the protocol);
    ``None`` scores them all. ``task="next_purchase"`` scores the first purchases after the cutoff with only
    bought items left out (:mod:`uig_core.evaluation.next_purchase`); the JSON shape is the same, with
    ``protocol.task``, and the top-level ``default`` is that task's default in the dataset's current build.

    Item features for the language-feature model come from the build's embedder (cached by text, so a built
    dataset is not re-embedded). Edge weights follow the workspace's build settings.

    Raises:
        ConfigError: An unknown task, or next purchase on a log without purchases among other events.
    """
    from uig_core.config import BuildConfig

    if task not in TASKS:
        raise ConfigError(f"task {task!r} is unknown; use one of {', '.join(TASKS)} (e.g. --task next_purchase).")
    report = progress or noop
    info = ws.dataset(dataset)
    config = BuildConfig.from_dict(ws.settings().get("build", {}))
    report(0.0, "splitting the events at the cutoff")
    events = EventRelation.of_dataset(ws, info)
    split, side = _task_split(events, cutoff, config, task, info.name)
    if max_users is not None:
        split = split.sample_users(max_users, seed=config.seed)
    if config.exclude_anomalous:  # as the build trains: flagged users (scored on the training period) left out
        split = _without_flagged(split, events, config)
    report(0.05, "item embeddings")
    split.item_features = _item_features(ws, events, split.item_ids, config)
    meta = _build_meta(ws, info)
    result = evaluate_all(
        split,
        k=k,
        names=names,
        params=_chosen_settings(meta, task),
        random_state=config.seed,
        progress=lambda f, m: report(0.1 + 0.9 * f, m),
        events=side,
    )
    result["protocol"]["dataset"] = info.name
    built = _build_default(meta, task)
    if built:
        result["default"] = built  # the model the dataset's build chose for this task, not a constant
    return result


def _task_split(
    events: EventRelation, cutoff: str | None, config: BuildConfig, task: str, dataset: str
) -> tuple[Split, PairEvents | None]:
    """The split of ``task`` (and the pair events before its cutoff for next purchase)."""
    weights = dict(event_weights=config.event_weights, half_life_days=config.half_life_days)
    if task == "discover":
        return temporal_split(events, cutoff, **weights), None
    from uig_core.evaluation.next_purchase import has_next_purchase_task, next_purchase_split

    if not has_next_purchase_task(events):
        raise ConfigError(
            f"dataset {dataset!r} has no next-purchase task: it needs purchases among other events (views, "
            "carts); in a purchase-only log every item a user had is bought, so use --task discover."
        )
    return next_purchase_split(events, cutoff, **weights)


def _build_meta(ws: Workspace, info: Any) -> dict[str, Any]:
    """The summary of the dataset's current build ({} without one)."""
    if info.current_build is None:
        return {}
    from uig_core.build import layout

    folder = ws.build_dir(info.name)
    return layout.read_meta(folder) if layout.is_complete(folder) else {}


def _build_default(meta: dict[str, Any], task: str) -> str | None:
    """The default model of ``task`` in a build summary (None without that task)."""
    chosen = (meta.get("default_models") or {}).get(task)
    return chosen or (meta.get("default_model") if task == "discover" else None)


def _chosen_settings(meta: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    """Settings the build chose on validation for models with a grid (``recent_funnel``'s blend, half-life)."""
    from uig_core.models import MODELS

    table = (meta.get("selection") or {}) if task == "discover" else ((meta.get("selection") or {}).get(task) or {})
    return {
        r["model"]: dict(r["params"])
        for r in table.get("candidates", [])
        if r.get("params") and getattr(MODELS.get(r["model"]), "param_grid", None)
    }


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
