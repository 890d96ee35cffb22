"""Offline evaluation: the temporal protocol (OR-30d on Online Retail), ranking metrics and slices.

Protocol (``temporal_split``):

1. Clean positives: ``purchase`` events (all positive events when a log has no purchases) with a user id, never
   returns, and a price > 0 where a price is present.
2. Interactions are unique (user, item) pairs with their first time.
3. Cutoff (default: midnight of the last event's date minus 30 days). Train = every positive event before the
   cutoff; a pair's weight is its strongest recency-decayed event (:func:`interaction_weights` at ``now=cutoff``).
4. Test pairs: first seen at/after the cutoff, for users and items present before it, not in train.
5. Every model ranks **all** train items, the user's train items masked. Recall@K = hits / |test items of the
   user|; NDCG@K is binary with the ideal DCG over ``min(|test|, K)``; both are averaged over test users.

Also reported: HitRate@K, catalogue coverage, Gini of recommendation exposure, long-tail share (slots given to items
outside the 20% most-interacted) and a cold-item slice (test items with < 5 train interactions): ``cold_recall@K``
is the slice's recall within the full top-K lists, ``cold_only_recall@K`` ranks only the cold items.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.errors import ConfigError, UIGError

if TYPE_CHECKING:
    from uig_core.models.base import Recommender
    from uig_core.workspace import Workspace

__all__ = [
    "Split",
    "temporal_split",
    "interaction_weights",
    "load_gowalla",
    "ranking_metrics",
    "evaluate_models",
    "evaluate_all",
    "evaluate_dataset",
    "COLD_THRESHOLD",
]

Progress = Callable[[float, str], None]
COLD_THRESHOLD = 5  # a test item with fewer train interactions than this is "cold"
HEAD_SHARE = 0.2  # the most-interacted 20% of items are the head; the rest is the long tail
_BATCH = 1024


def _noop(fraction: float, message: str) -> None:
    """Ignore progress."""


@dataclass
class Split:
    """A train/test split in internal indices.

    Attributes:
        train: ``(n_users, n_items)`` float32 CSR of train weights (pattern = train pairs).
        test: ``(n_users, n_items)`` CSR with 1 for each test pair (users without test pairs have empty rows).
        user_ids: Row → user id.
        item_ids: Column → item id.
        protocol: Counts and settings that define the split (JSON-able).
        item_features: Optional ``(n_items, d)`` item vectors for models that use text.
    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    user_ids: pd.Index
    item_ids: pd.Index
    protocol: dict[str, Any] = field(default_factory=dict)
    item_features: np.ndarray | None = None

    @property
    def test_users(self) -> np.ndarray:
        """Rows with at least one test pair."""
        return np.flatnonzero(np.diff(self.test.indptr))


# ---------------------------------------------------------------------------------------------- splits
def default_cutoff(events: pd.DataFrame, days: int = 30) -> pd.Timestamp:
    """Midnight of the last event's date minus ``days`` days."""
    return pd.Timestamp(events["ts"].max()).normalize() - pd.Timedelta(days=days)


def clean_positives(events: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Positive rows of the protocol and the event type used as target (``purchase`` when present)."""
    from uig_core.schema import POSITIVE_EVENTS

    ev = events[events["user_id"].notna() & events["item_id"].notna()]
    if "price" in ev:
        price = pd.to_numeric(ev["price"], errors="coerce")
        ev = ev[~(price <= 0)]  # a missing price is fine; a present one must be > 0
    if "quantity" in ev:
        qty = pd.to_numeric(ev["quantity"], errors="coerce")
        ev = ev[~(qty < 0)]
    positive = ev[ev["event"].isin(POSITIVE_EVENTS)]
    target = "purchase" if (positive["event"] == "purchase").any() else "positive"
    return positive, target


def interaction_weights(
    events: pd.DataFrame,
    user_ids: pd.Index,
    item_ids: pd.Index,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    now: pd.Timestamp | None = None,
) -> sp.csr_matrix:
    """Edge weights: per (user, item), the strongest event weight × recency, ``max_e w(e) · 0.5^(age_e / h)``.

    The maximum (not the sum) keeps a pair's weight a measure of how recent and how strong the signal is; a sum
    would let repeat purchases of staples outweigh recency (on OR-30d the sum costs the recency-weighted EASE
    about 0.006 Recall@20).

    Returns:
        ``(len(user_ids), len(item_ids))`` float32 CSR; events of unknown users or items are ignored.
    """
    from uig_core.graph import interaction_matrix  # one definition of edge weights for builds and evaluation

    return interaction_matrix(events, pd.Index(user_ids.astype(str)), pd.Index(item_ids.astype(str)),
                              event_weights=event_weights, half_life_days=half_life_days,
                              now=pd.Timestamp(now) if now is not None else None)


def temporal_split(
    events: pd.DataFrame,
    cutoff: str | pd.Timestamp | None = None,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    test_days: int = 30,
) -> Split:
    """Split a canonical events frame at a date (the OR-30d protocol on Online Retail).

    Args:
        events: Canonical events (``user_id, item_id, event, ts`` + optional ``price``, ``quantity``).
        cutoff: First test instant (default: midnight of the last event's date minus ``test_days``).
        event_weights: Train edge weight per event type (default: the build's).
        half_life_days: Recency half-life of train weights, measured back from the cutoff (None: no decay).
        test_days: Test window length used for the default cutoff.

    Returns:
        The :class:`Split`; ``protocol`` holds the counts.
    """
    need = {"user_id", "item_id", "event", "ts"} - set(events.columns)
    if need:
        raise ConfigError(f"events lack column(s) {sorted(need)}; pass the canonical events frame.")
    if len(events) == 0:
        raise ConfigError("events is empty; nothing to evaluate.")
    cut = default_cutoff(events, test_days) if cutoff is None else pd.Timestamp(cutoff)
    positive, target = clean_positives(events)
    first = positive.groupby(["user_id", "item_id"], sort=False, observed=True)["ts"].min()
    before = positive[positive["ts"] < cut]
    if before.empty:
        raise ConfigError(f"no positive event before the cutoff {cut.date()}; choose a later --cutoff.")
    user_ids = pd.Index(np.sort(before["user_id"].astype(str).unique()), name="user_id")
    item_ids = pd.Index(np.sort(before["item_id"].astype(str).unique()), name="item_id")
    before = before.assign(user_id=before["user_id"].astype(str), item_id=before["item_id"].astype(str))
    train = interaction_weights(
        before, user_ids, item_ids, event_weights=event_weights, half_life_days=half_life_days, now=cut
    )

    tgt = positive if target == "positive" else positive[positive["event"] == "purchase"]
    tgt_first = tgt.groupby(["user_id", "item_id"], sort=False, observed=True)["ts"].min().reset_index()
    after = tgt_first[tgt_first["ts"] >= cut]
    rows = user_ids.get_indexer(after["user_id"].astype(str))
    cols = item_ids.get_indexer(after["item_id"].astype(str))
    known_user, known_item = rows >= 0, cols >= 0
    ok = known_user & known_item
    test = sp.csr_matrix((np.ones(int(ok.sum()), np.float32), (rows[ok], cols[ok])), shape=train.shape)
    test.sum_duplicates()
    overlap = test.multiply(train > 0)
    n_overlap = int(overlap.nnz)
    if n_overlap:  # a pair first bought after the cutoff but viewed before it is not a new pair
        test = (test - (overlap > 0).astype(np.float32)).tocsr()
        test.eliminate_zeros()
    test.data[:] = 1.0
    item_counts = np.diff((train > 0).tocsc().indptr)
    cold_pairs = int((item_counts[test.indices] < COLD_THRESHOLD).sum())
    protocol = {
        "cutoff": str(cut.date()) if cut == cut.normalize() else cut.isoformat(),
        "target_event": target,
        "positive_events": int(len(positive)),
        "interactions": int(len(first)),
        "train_pairs": int(train.nnz),
        "train_users": int(train.shape[0]),
        "train_items": int(train.shape[1]),
        "pairs_after_cutoff": int(len(after)),
        "dropped_new_user": int((~known_user).sum()),
        "dropped_new_item": int((known_user & ~known_item).sum()),
        "dropped_seen_in_train": n_overlap,
        "test_pairs": int(test.nnz),
        "test_users": int((np.diff(test.indptr) > 0).sum()),
        "cold_test_pairs": cold_pairs,
        "cold_threshold": COLD_THRESHOLD,
        "half_life_days": half_life_days,
    }
    return Split(train=train, test=test, user_ids=user_ids, item_ids=item_ids, protocol=protocol)


def load_gowalla(path: str | Path) -> Split:
    """The NGCF/LightGCN Gowalla split (``train.txt``/``test.txt``: ``uid i1 i2 ...``), binary train weights."""
    path = Path(path)

    def read(name: str) -> tuple[np.ndarray, np.ndarray]:
        us, its = [], []
        with open(path / name, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2:
                    continue
                vals = np.asarray(parts, dtype=np.int64)
                us.append(np.full(len(vals) - 1, vals[0]))
                its.append(vals[1:])
        return np.concatenate(us), np.concatenate(its)

    if not (path / "train.txt").exists():
        raise ConfigError(f"{path} has no train.txt; point to the LightGCN Gowalla folder.")
    tu, ti = read("train.txt")
    su, si = read("test.txt")
    n_users = int(max(tu.max(), su.max())) + 1
    n_items = int(max(ti.max(), si.max())) + 1
    train = sp.csr_matrix((np.ones(len(tu), np.float32), (tu, ti)), shape=(n_users, n_items))
    train.sum_duplicates()
    train.data[:] = 1.0
    test = sp.csr_matrix((np.ones(len(su), np.float32), (su, si)), shape=(n_users, n_items))
    test.sum_duplicates()
    test.data[:] = 1.0
    item_counts = np.diff(train.tocsc().indptr)
    protocol = {
        "split": "gowalla (NGCF/LightGCN random 80/20)",
        "train_pairs": int(train.nnz),
        "train_users": n_users,
        "train_items": n_items,
        "test_pairs": int(test.nnz),
        "test_users": int((np.diff(test.indptr) > 0).sum()),
        "cold_test_pairs": int((item_counts[test.indices] < COLD_THRESHOLD).sum()),
        "cold_threshold": COLD_THRESHOLD,
    }
    return Split(
        train=train,
        test=test,
        user_ids=pd.Index(np.arange(n_users).astype(str), name="user_id"),
        item_ids=pd.Index(np.arange(n_items).astype(str), name="item_id"),
        protocol=protocol,
    )


# ---------------------------------------------------------------------------------------------- metrics
def ranking_metrics(
    top: np.ndarray,
    test: sp.csr_matrix,
    item_counts: np.ndarray,
    *,
    k: int = 20,
    cold_threshold: int = COLD_THRESHOLD,
) -> dict[str, float]:
    """Metrics of top-K lists against held-out items.

    Args:
        top: ``(n_users, ≥k)`` recommended item indices, best first (-1 = empty slot); row ``r`` belongs to the
            ``r``-th row of ``test``.
        test: ``(n_users, n_items)`` CSR of held-out pairs (rows without pairs are skipped).
        item_counts: ``(n_items,)`` train interactions per item (for the cold slice and the long tail).
        k: Cut-off K.
        cold_threshold: Items with fewer train interactions are cold.

    Returns:
        ``recall@K, ndcg@K, hitrate@K, precision@K, coverage, gini, long_tail_share, cold_recall@K`` and the number
        of users behind each mean (``users``, ``cold_users``).
    """
    n_items = test.shape[1]
    top = np.asarray(top)[:, :k]
    has = np.diff(test.indptr) > 0
    top, test = top[has], test[has]
    n_users = top.shape[0]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    idcg_cum = np.cumsum(discount)
    cold_item = np.asarray(item_counts) < cold_threshold
    recall = np.zeros(n_users)
    ndcg = np.zeros(n_users)
    hits_n = np.zeros(n_users)
    cold_recall: list[float] = []
    for r in range(n_users):
        truth = test.indices[test.indptr[r] : test.indptr[r + 1]]
        rec = top[r]
        hit = np.isin(rec, truth) & (rec >= 0)
        n_hit = int(hit.sum())
        hits_n[r] = n_hit
        recall[r] = n_hit / len(truth)
        ndcg[r] = float(discount[: len(rec)][hit].sum()) / idcg_cum[min(len(truth), k) - 1]
        cold_truth = truth[cold_item[truth]]
        if len(cold_truth):
            cold_recall.append(float(np.isin(cold_truth, rec[rec >= 0]).sum()) / len(cold_truth))
    valid = top[top >= 0]
    exposure = np.bincount(valid, minlength=n_items).astype(np.float64)
    order = np.lexsort((np.arange(n_items), -np.asarray(item_counts)))
    head = np.zeros(n_items, dtype=bool)
    head[order[: int(np.ceil(HEAD_SHARE * n_items))]] = True
    out = {
        f"recall@{k}": float(recall.mean()) if n_users else 0.0,
        f"ndcg@{k}": float(ndcg.mean()) if n_users else 0.0,
        f"hitrate@{k}": float((hits_n > 0).mean()) if n_users else 0.0,
        f"precision@{k}": float((hits_n / k).mean()) if n_users else 0.0,
        "coverage": float((exposure > 0).sum() / n_items),
        "gini": gini(exposure),
        "long_tail_share": float((~head[valid]).mean()) if len(valid) else 0.0,
        f"cold_recall@{k}": float(np.mean(cold_recall)) if cold_recall else 0.0,
        "users": int(n_users),
        "cold_users": len(cold_recall),
    }
    return out


def cold_only_metrics(
    model: Recommender, split: Split, item_counts: np.ndarray, *, k: int = 20, cold_threshold: int = COLD_THRESHOLD
) -> dict[str, float]:
    """Recall@K when only cold items are candidates (does the model order little-known items sensibly?).

    For each test user with cold test items, the model ranks all cold train items (fewer than
    ``cold_threshold`` interactions) the user has not seen; Recall@K = cold hits / |cold test items|.
    """
    _, recalls = cold_only_recalls(model, split, item_counts, k=k, cold_threshold=cold_threshold)
    return {f"cold_only_recall@{k}": float(np.mean(recalls)) if len(recalls) else 0.0}


def cold_only_recalls(
    model: Recommender, split: Split, item_counts: np.ndarray, *, k: int = 20, cold_threshold: int = COLD_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Per test user with cold test items: ``(users, recalls)`` of :func:`cold_only_metrics` (for bootstraps)."""
    cold = np.flatnonzero(np.asarray(item_counts) < cold_threshold)
    test = split.test
    is_cold = np.zeros(test.shape[1], dtype=bool)
    is_cold[cold] = True
    users = np.array(
        [u for u in split.test_users if is_cold[test.indices[test.indptr[u] : test.indptr[u + 1]]].any()],
        dtype=np.int64,
    )
    recalls = np.zeros(len(users), dtype=np.float64)
    if len(cold) == 0:
        return users[:0], recalls[:0]
    for start in range(0, len(users), _BATCH):
        batch = users[start : start + _BATCH]
        idx, _ = model.recommend(batch, k=k, filter_seen=True, items=cold)
        for row, u in enumerate(batch):
            truth = test.indices[test.indptr[u] : test.indptr[u + 1]]
            truth = truth[is_cold[truth]]
            recalls[start + row] = np.isin(truth, idx[row][idx[row] >= 0]).sum() / len(truth)
    return users, recalls


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal exposure, → 1 = all on one item)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * x).sum() / (n * total))


# ---------------------------------------------------------------------------------------------- running
def evaluate_model(
    model: Recommender, split: Split, *, k: int = 20, fit: bool = True, progress: Progress | None = None
) -> dict[str, float]:
    """Fit (unless ``fit=False``) and score one model on a split; adds ``fit_seconds`` and ``score_seconds``."""
    report = progress or _noop
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

    report = progress or _noop
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
    """Evaluate every registered model (or ``names``) with default parameters (overridden by ``params``)."""
    from uig_core.models import MODEL_NAMES, make_model

    params = params or {}
    models = {}
    for name in names or MODEL_NAMES:
        p = dict(params.get(name, {}))
        try:
            models[name] = make_model(name, **{"random_state": random_state, **p})
        except TypeError:
            models[name] = make_model(name, **p)
    return evaluate_models(models, split, k=k, progress=progress)


def evaluate_dataset(
    ws: Workspace,
    dataset: str | None = None,
    *,
    cutoff: str | None = None,
    k: int = 20,
    names: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``uig evaluate``: the temporal protocol on a workspace dataset, every model and baseline.

    Item features for the language-feature model come from the build's embedder (cached by text, so a built
    dataset is not re-embedded). Edge weights follow the workspace's build settings.
    """
    from uig_core.pipeline import BuildConfig

    report = progress or _noop
    info = ws.dataset(dataset)
    config = BuildConfig.from_dict(ws.settings().get("build", {}))
    report(0.0, "loading events")
    events = ws.load_events(info.name)
    split = temporal_split(events, cutoff, event_weights=config.event_weights, half_life_days=config.half_life_days)
    report(0.05, "item embeddings")
    split.item_features = _item_features(ws, events, split.item_ids, config)
    result = evaluate_all(
        split, k=k, names=names, random_state=config.seed, progress=lambda f, m: report(0.1 + 0.9 * f, m)
    )
    result["protocol"]["dataset"] = info.name
    return result


def _item_features(ws: Workspace, events: pd.DataFrame, item_ids: pd.Index, config: Any) -> np.ndarray | None:
    from uig_core import semantics
    from uig_core.pipeline import items_frame

    items = items_frame(events)
    texts, _ = semantics.item_texts(items)
    embedder = semantics.Embedder(model=config.embed_model, cache_dir=ws.artifacts / "embeddings")
    emb = embedder.embed(texts)
    rows = pd.Index(items["item_id"].astype(str)).get_indexer(item_ids)
    return np.asarray(emb, dtype=np.float32)[rows]
