"""The *next purchase* task of multi-behaviour logs: per-pair events before a time, and its temporal split.

*Discover* (:func:`~uig_core.evaluation.protocol.temporal_split`) asks for items new to the user: every item the
user viewed, carted or bought before the cutoff is masked. *Next purchase* asks what the shopper will buy next:

* target: the first purchase of a (user, item) pair at or after the cutoff (pairs bought before are not targets);
* candidates: every item the user has not bought before the cutoff, so viewed, favourited and carted items
  compete with unseen ones;
* Recall@K = hits / |user's test pairs| (:func:`~uig_core.evaluation.metrics.ranking_metrics`).

The models of this task (:mod:`uig_core.models.recent`) read :class:`PairEvents`: which pairs were bought, and
for the others the strongest event and the age of the last one. A log without purchases, or with nothing but
purchases (Online Retail), has no next-purchase task: there every pair a user had is bought, and the task is
*discover*.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.evaluation.protocol import Split, _clean_condition, temporal_split
from uig_core.schema import EVENT_CODES
from uig_core.store.relation import EventRelation, code_case, positive_filter

__all__ = ["PairEvents", "pair_events", "has_next_purchase_task", "next_purchase_split", "NEXT_PURCHASE"]

log = logging.getLogger(__name__)

NEXT_PURCHASE = "next_purchase"
_PURCHASE_CODE = max(EVENT_CODES)  # 5: purchase, the strongest code


@dataclass
class PairEvents:
    """What the next-purchase models read about every (user, item) pair before a reference time.

    Attributes:
        bought: ``(n_users, n_items)`` float32 CSR, 1 for each pair bought before the reference time.
        seen_code: The same shape, int8: for pairs never bought, the strongest event's
            :data:`~uig_core.schema.EVENT_CODES` code (view 1 … cart 4); bought pairs are absent.
        seen_age: The same pattern as ``seen_code``, float32: days from the pair's last event to the reference
            time, plus a tiny constant so that an event at the reference time is not an explicit zero.
    """

    bought: sp.csr_matrix
    seen_code: sp.csr_matrix
    seen_age: sp.csr_matrix

    @classmethod
    def all_bought(cls, interactions: sp.csr_matrix) -> PairEvents:
        """Events where every training pair counts as bought (a plain ``fit`` without pair events)."""
        bought = (interactions > 0).astype(np.float32).tocsr()
        empty_code = sp.csr_matrix(interactions.shape, dtype=np.int8)
        return cls(bought, empty_code, sp.csr_matrix(interactions.shape, dtype=np.float32))

    def check(self, shape: tuple[int, int]) -> PairEvents:
        """Self, after checking that every matrix has the interactions' ``shape``."""
        for name in ("bought", "seen_code", "seen_age"):
            got = getattr(self, name).shape
            if tuple(got) != tuple(shape):
                raise ConfigError(
                    f"PairEvents.{name} has shape {got}; it must match the interactions {tuple(shape)}. "
                    "Build both with the same user and item index."
                )
        return self


def pair_events(
    events: pd.DataFrame | EventRelation, user_index: pd.Index, item_index: pd.Index, *, now: pd.Timestamp | None
) -> PairEvents:
    """One DuckDB pass over the positive events before ``now`` (all of them when None).

    Args:
        events: Canonical events (frame or relation).
        user_index: Row order (events of other users are ignored).
        item_index: Column order.
        now: Reference time: only events strictly before it count, ages are measured to it (None: every
            event, ages to the last positive event).
    """
    rel = events if isinstance(events, EventRelation) else EventRelation.of_frame(events)
    if now is not None:
        rel = rel.filtered(f"ts < TIMESTAMP '{pd.Timestamp(now).isoformat(sep=' ')}'")
    users = pd.DataFrame({"user_id": pd.array(user_index.astype(str), dtype="string")})
    items = pd.DataFrame({"item_id": pd.array(item_index.astype(str), dtype="string")})
    users["r"] = np.arange(len(users), dtype=np.int64)
    items["c"] = np.arange(len(items), dtype=np.int64)
    ref = f"TIMESTAMP '{pd.Timestamp(now).isoformat(sep=' ')}'" if now is not None else "ref.t"
    with rel.query() as (con, table):
        con.register("np_users", users)
        con.register("np_items", items)
        out = con.execute(
            f"WITH ref AS (SELECT max(ts) AS t FROM {table} WHERE {positive_filter()}) "
            f"SELECT u.r, i.c, max({code_case(EVENT_CODES, 'e.event')})::TINYINT AS code, "
            f"greatest(epoch_us({ref}) - epoch_us(max(e.ts)), 0) / 86400e6 AS age "
            f"FROM {table} e JOIN np_users u ON u.user_id = e.user_id "
            "JOIN np_items i ON i.item_id = e.item_id, ref "
            f"WHERE {positive_filter('e.event')} GROUP BY u.r, i.c, ref.t"
        ).fetchnumpy()
        con.unregister("np_users")
        con.unregister("np_items")
    shape = (len(user_index), len(item_index))
    rows, cols = np.asarray(out["r"], dtype=np.int64), np.asarray(out["c"], dtype=np.int64)
    code = np.asarray(out["code"], dtype=np.int8)
    age = np.nan_to_num(np.asarray(out["age"], dtype=np.float64), nan=0.0)
    bought = code >= _PURCHASE_CODE

    def matrix(keep: np.ndarray, values: np.ndarray, dtype: type) -> sp.csr_matrix:
        m = sp.csr_matrix((values[keep].astype(dtype), (rows[keep], cols[keep])), shape=shape, dtype=dtype)
        m.sort_indices()
        return m

    return PairEvents(
        bought=matrix(bought, np.ones(len(rows)), np.float32),
        seen_code=matrix(~bought, code, np.int8),
        seen_age=matrix(~bought, age + 1e-4, np.float32),
    )


def has_next_purchase_task(events: EventRelation) -> bool:
    """Whether the log holds purchases *and* other positive events (else next purchase is discover)."""
    with events.query() as (con, table):
        n_buy, n_other = con.execute(
            f"SELECT count(*) FILTER (WHERE event = 'purchase'), count(*) FILTER (WHERE event <> 'purchase') "
            f"FROM {table} WHERE {positive_filter()}"
        ).fetchone()
    return bool(n_buy) and bool(n_other)


def next_purchase_split(
    events: pd.DataFrame | EventRelation,
    cutoff: str | pd.Timestamp | None = None,
    *,
    event_weights: dict[str, float] | None = None,
    half_life_days: float | None = 60.0,
    test_days: int = 30,
) -> tuple[Split, PairEvents]:
    """The next-purchase split: discover's train matrix, and as test the first purchases after the cutoff.

    Train, users and items are those of :func:`~uig_core.evaluation.protocol.temporal_split` (one definition);
    the test holds each (user, item) pair whose first purchase is at or after the cutoff, for known users and
    items, whether or not the user viewed or carted the item before.

    Returns:
        ``(split, pair events before the cutoff)``; ``split.protocol["task"]`` is ``"next_purchase"``.
    """
    rel = events if isinstance(events, EventRelation) else EventRelation.of_frame(events)
    base = temporal_split(rel, cutoff, event_weights=event_weights, half_life_days=half_life_days, test_days=test_days)
    cut = pd.Timestamp(base.protocol["cutoff"])
    at = f"TIMESTAMP '{cut.isoformat(sep=' ')}'"
    with rel.filtered(_clean_condition(rel.columns)).query() as (con, table):  # the protocol's clean positives
        after = con.execute(
            f"SELECT user_id, item_id FROM {table} WHERE event = 'purchase' GROUP BY ALL HAVING min(ts) >= {at}"
        ).df()
    rows = base.user_ids.get_indexer(after["user_id"].astype(str))
    cols = base.item_ids.get_indexer(after["item_id"].astype(str))
    ok = (rows >= 0) & (cols >= 0)
    test = sp.csr_matrix((np.ones(int(ok.sum()), np.float32), (rows[ok], cols[ok])), shape=base.train.shape)
    test.sum_duplicates()
    test.data[:] = 1.0
    side = pair_events(rel, base.user_ids, base.item_ids, now=cut)
    seen = test.multiply(side.seen_code > 0)
    protocol = {
        **base.protocol,
        "task": NEXT_PURCHASE,
        "target_event": "purchase",
        "test_pairs": int(test.nnz),
        "test_users": int((np.diff(test.indptr) > 0).sum()),
        "test_pairs_seen_before": int(seen.nnz),
        "dropped_seen_in_train": 0,
        "pairs_after_cutoff": int(len(after)),
    }
    split = Split(train=base.train, test=test.tocsr(), user_ids=base.user_ids, item_ids=base.item_ids)
    split.protocol = protocol
    return split, side
