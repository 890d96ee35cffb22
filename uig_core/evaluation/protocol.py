"""The offline evaluation protocol: clean positives, temporal split (OR-30d on Online Retail), Gowalla's split.

``temporal_split``:

1. Clean positives: ``purchase`` events (all positive events when a log has no purchases) with a user id, never
   returns, and a price > 0 where a price is present.
2. Interactions are unique (user, item) pairs with their first time.
3. Cutoff (default: midnight of the last event's date minus 30 days). Train = every positive event before the
   cutoff; a pair's weight is its strongest recency-decayed event (:func:`interaction_weights` at ``now=cutoff``).
4. Test pairs: first seen at/after the cutoff, for users and items present before it, not in train.

How a split is scored lives in :mod:`uig_core.evaluation.metrics`; fitting and scoring models on it in
:mod:`uig_core.evaluation.run`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.store.relation import EventRelation

__all__ = [
    "COLD_THRESHOLD",
    "Split",
    "default_cutoff",
    "clean_positives",
    "interaction_weights",
    "temporal_split",
    "load_gowalla",
]

log = logging.getLogger(__name__)

COLD_THRESHOLD = 5  # a test item with fewer train interactions than this is "cold"


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

    @cached_property
    def item_counts(self) -> np.ndarray:
        """``(n_items,)`` training users per item (what the long-tail and cold-item metrics read), computed once."""
        return np.diff((self.train > 0).tocsc().indptr)

    @property
    def test_users(self) -> np.ndarray:
        """Rows with at least one test pair."""
        return np.flatnonzero(np.diff(self.test.indptr))

    def with_test_sample(self, n: int, seed: int) -> Split:
        """The split judged on at most ``n`` of its test users: a seeded sample, the same for every model.

        The other users keep their training rows and lose only their test pairs. ``protocol`` records
        ``test_users_sampled``: ``[kept, of]``. Unchanged when there are ``n`` test users or fewer.
        """
        users = self.test_users
        if len(users) <= n:
            return self
        kept = np.sort(np.random.default_rng(seed).choice(users, size=int(n), replace=False))
        mask = np.zeros(self.test.shape[0], dtype=np.float32)
        mask[kept] = 1.0
        test = sp.csr_matrix(sp.diags(mask) @ self.test)
        test.eliminate_zeros()
        protocol = {**self.protocol, "test_users_sampled": [int(n), int(len(users))]}
        return replace(self, test=test, protocol=protocol)

    def with_train_sample(self, n: int, seed: int) -> Split:
        """The split with training rows for at most ``n`` users: every test user, then a seeded sample of the rest.

        What a large log's model selection fits its candidates on (an item-item fit costs in proportion to the
        users' pairs). The others' rows are emptied, so the shape and the item columns stay. ``protocol``
        records ``train_users_sampled``: ``[kept, of]``. Unchanged when ``n`` covers every user with pairs.
        """
        with_pairs = np.flatnonzero(np.diff(self.train.indptr))
        if len(with_pairs) <= n:
            return self
        tested = np.intersect1d(self.test_users, with_pairs, assume_unique=True)
        others = np.setdiff1d(with_pairs, tested, assume_unique=True)
        extra = max(int(n) - len(tested), 0)
        kept = np.union1d(
            tested, np.random.default_rng(seed).choice(others, size=min(extra, len(others)), replace=False)
        )
        from uig_core.signals.exclusion import without_rows

        protocol = {**self.protocol, "train_users_sampled": [int(len(kept)), int(len(with_pairs))]}
        return replace(self, train=without_rows(self.train, np.setdiff1d(with_pairs, kept)), protocol=protocol)

    def without_training_rows(self, rows: np.ndarray) -> Split:
        """The split with the train pairs of ``rows`` removed (test unchanged); ``protocol`` records how many."""
        from uig_core.signals.exclusion import without_rows

        protocol = {**self.protocol, "excluded_from_training": int(len(rows))}
        return replace(self, train=without_rows(self.train, np.asarray(rows, dtype=np.int64)), protocol=protocol)

    def sample_users(self, max_users: int, seed: int = 0) -> Split:
        """The split with at most ``max_users`` test users: a seeded uniform sample, the rest lose their test rows.

        Train is unchanged; ``protocol`` records how many were kept and the seed.
        """
        users = self.test_users
        if len(users) <= max_users:
            return self
        keep = np.zeros(self.test.shape[0], dtype=np.float32)
        keep[np.random.default_rng(seed).choice(users, size=max_users, replace=False)] = 1.0
        test = (sp.diags(keep) @ self.test).tocsr()
        test.eliminate_zeros()
        protocol = {**self.protocol, "test_users_evaluated": max_users, "test_users_sample_seed": seed}
        return Split(self.train, test, self.user_ids, self.item_ids, protocol, self.item_features)


# ---------------------------------------------------------------------------------------------- splits
def default_cutoff(events: pd.DataFrame, days: int = 30) -> pd.Timestamp:
    """Midnight of the last event's date minus ``days`` days."""
    return pd.Timestamp(events["ts"].max()).normalize() - pd.Timedelta(days=days)


def _split_relation(events: pd.DataFrame | EventRelation) -> EventRelation:
    if isinstance(events, EventRelation):
        return events
    need = {"user_id", "item_id", "event", "ts"} - set(events.columns)
    if need:
        raise ConfigError(f"events lack column(s) {sorted(need)}; pass the canonical events frame.")
    return EventRelation.of_frame(events)


def _split_sides(positive: EventRelation, at: str) -> tuple[int, int, str, np.ndarray, np.ndarray, pd.DataFrame]:
    """Counts, the target event, the users and items before the cutoff ``at``, and the target pairs after it.

    Returns:
        ``(positive events, distinct pairs, target, train user ids, train item ids, frame of pairs first seen
        at or after the cutoff)``; ids sorted.
    """
    with positive.query() as (con, table):
        n_pos, has_purchase, n_pairs = con.execute(
            f"SELECT count(*), coalesce(bool_or(event = 'purchase'), false), "
            f"(SELECT count(*) FROM (SELECT DISTINCT user_id, item_id FROM {table})) FROM {table}"
        ).fetchone()
        users = con.execute(f"SELECT DISTINCT user_id FROM {table} WHERE ts < {at} ORDER BY 1").fetchnumpy()
        items = con.execute(f"SELECT DISTINCT item_id FROM {table} WHERE ts < {at} ORDER BY 1").fetchnumpy()
        only = "WHERE event = 'purchase'" if has_purchase else ""
        after = con.execute(f"SELECT user_id, item_id FROM {table} {only} GROUP BY ALL HAVING min(ts) >= {at}").df()
    target = "purchase" if has_purchase else "positive"
    as_ids = lambda values: np.asarray(values, dtype=object)  # noqa: E731 - two one-line uses
    return int(n_pos), int(n_pairs), target, as_ids(users["user_id"]), as_ids(items["item_id"]), after


def _clean_condition(columns: list[str]) -> str:
    """SQL condition of :func:`clean_positives`: a positive event with ids, price > 0 and quantity >= 0 if given."""
    from uig_core.store.relation import positive_filter

    parts = ["user_id IS NOT NULL", "item_id IS NOT NULL", positive_filter()]
    if "price" in columns:
        parts.append("(price IS NULL OR isnan(price::DOUBLE) OR price > 0)")
    if "quantity" in columns:
        parts.append("(quantity IS NULL OR isnan(quantity::DOUBLE) OR quantity >= 0)")
    return " AND ".join(parts)


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
    would let repeat purchases of staples outweigh recency (measured: docs/ARCHITECTURE.md, "Figures behind the
    code").

    Returns:
        ``(len(user_ids), len(item_ids))`` float32 CSR; events of unknown users or items are ignored.
    """
    from uig_core.graph.edges import interaction_matrix  # one definition of edge weights for builds and evaluation

    return interaction_matrix(
        events,
        pd.Index(user_ids.astype(str)),
        pd.Index(item_ids.astype(str)),
        event_weights=event_weights,
        half_life_days=half_life_days,
        now=pd.Timestamp(now) if now is not None else None,
    )


def temporal_split(
    events: pd.DataFrame | EventRelation,
    cutoff: str | pd.Timestamp | None = None,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    test_days: int = 30,
) -> Split:
    """Split a dataset's events at a date (the OR-30d protocol on Online Retail), aggregating in DuckDB.

    Args:
        events: Canonical events (``user_id, item_id, event, ts`` + optional ``price``, ``quantity``), as a
            frame or a stored dataset's relation.
        cutoff: First test instant (default: midnight of the last event's date minus ``test_days``).
        event_weights: Train edge weight per event type (default: the build's).
        half_life_days: Recency half-life of train weights, measured back from the cutoff (None: no decay).
        test_days: Test window length used for the default cutoff.

    Returns:
        The :class:`Split`; ``protocol`` holds the counts.
    """
    rel = _split_relation(events)
    with rel.query() as (con, table):
        n_rows, last = con.execute(f"SELECT count(*), max(ts) FROM {table}").fetchone()
    if n_rows == 0:
        raise ConfigError("events is empty; nothing to evaluate.")
    cut = pd.Timestamp(last).normalize() - pd.Timedelta(days=test_days) if cutoff is None else pd.Timestamp(cutoff)
    positive = rel.filtered(_clean_condition(rel.columns))
    at = "TIMESTAMP '" + cut.isoformat(sep=" ") + "'"
    n_pos, n_pairs, target, users, items, after = _split_sides(positive, at)
    if not len(users):
        raise ConfigError(f"no positive event before the cutoff {cut.date()}; choose a later --cutoff.")
    user_ids, item_ids = pd.Index(users, name="user_id"), pd.Index(items, name="item_id")
    before = positive.filtered(f"ts < {at}")
    train = interaction_weights(
        before, user_ids, item_ids, event_weights=event_weights, half_life_days=half_life_days, now=cut
    )
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
        "positive_events": n_pos,
        "interactions": int(n_pairs),
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
