"""Per (user, item) pair aggregates in one DuckDB pass: the behaviour edges and the evidence behind profiles.

One query over the events gives, for every pair with a positive event (view, click, fav, cart, purchase):

==================  ======================================================================================
``weight``          the strongest recency-decayed event weight, ``max(w_e * 0.5 ** (age_days / half_life))``
                    (the training matrix: one edge per pair, so repeat buys of staples do not outweigh
                    recency — summing measurably hurts the default model, docs/ARCHITECTURE.md)
``strongest``       the strongest event's rank code (:data:`~uig_core.schema.EVENT_CODES`)
``evidence``        the sum of the decayed weights (what users' interest profiles add up)
``evidence_raw``    the sum of the undecayed weights (interest co-occurrence, the ID-only interest path)
==================  ======================================================================================

Ages run to the last positive event (or ``now``) and are clipped at 0.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.schema import EVENT_CODES, EVENT_WEIGHTS
from uig_core.store.relation import EventRelation, code_case, positive_filter, weight_case

__all__ = ["PairMatrices", "pair_matrices", "pairs_sql", "index_frames", "matrices_of", "interactions_sha256"]

log = logging.getLogger(__name__)


@dataclass
class PairMatrices:
    """The four ``(n_users, n_items)`` CSR matrices of :func:`pair_matrices` (module docstring)."""

    weight: sp.csr_matrix
    strongest: sp.csr_matrix
    evidence: sp.csr_matrix
    evidence_raw: sp.csr_matrix


def _decay(half_life_days: float | None, ref: str) -> str:
    """SQL factor ``0.5 ** (age_days / half_life)`` with the age clipped at 0 (1.0 without decay)."""
    if not half_life_days or not np.isfinite(half_life_days):
        return "1.0"
    age = f"greatest(epoch_us({ref}) - epoch_us(e.ts), 0) / 86400e6"
    return f"coalesce(pow(0.5, {age} / {float(half_life_days)!r}), 1.0)"


def pairs_sql(
    table: str,
    users: str,
    items: str,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    now: pd.Timestamp | None = None,
) -> str:
    """SQL of the pair aggregates: one row ``r, c, strongest, weight, evidence, evidence_raw`` per positive pair.

    DuckDB's dialect; :mod:`uig_core.spark.sql` runs the same text on Spark.

    Args:
        table: The events relation.
        users: A relation ``(user_id, r)``: each indexed user's row.
        items: A relation ``(item_id, c)``: each indexed item's column.
        event_weights: Weight per event type (default :data:`~uig_core.schema.EVENT_WEIGHTS`).
        half_life_days: Recency half-life; None or inf: no decay.
        now: The reference time of the ages (default: the last positive event).
    """
    weights = dict(EVENT_WEIGHTS if event_weights is None else event_weights)
    ref = "TIMESTAMP '" + str(pd.Timestamp(now)) + "'" if now is not None else "ref.t"
    decay = _decay(half_life_days, ref)
    w = weight_case(weights, "e.event")
    return (
        f"WITH ref AS (SELECT max(ts) AS t FROM {table} WHERE {positive_filter()}) "
        f"SELECT u.r, i.c, max({code_case(EVENT_CODES, 'e.event')})::TINYINT AS strongest, "
        f"max({w} * {decay}) AS weight, sum({w} * {decay}) AS evidence, sum({w}) AS evidence_raw "
        f"FROM {table} e JOIN {users} u ON u.user_id = e.user_id "
        f"JOIN {items} i ON i.item_id = e.item_id, ref "
        f"WHERE {positive_filter('e.event')} GROUP BY u.r, i.c"
    )


def index_frames(user_index: pd.Index, item_index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``(user_id, r)`` and ``(item_id, c)`` relations :func:`pairs_sql` joins to place each pair."""
    users = pd.DataFrame({"user_id": pd.array(user_index.astype(str), dtype="string")})
    items = pd.DataFrame({"item_id": pd.array(item_index.astype(str), dtype="string")})
    users["r"] = np.arange(len(users), dtype=np.int64)
    items["c"] = np.arange(len(items), dtype=np.int64)
    return users, items


def pair_matrices(
    events: pd.DataFrame | EventRelation,
    user_index: pd.Index,
    item_index: pd.Index,
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 60.0,
    now: pd.Timestamp | None = None,
) -> PairMatrices:
    """The pair aggregates of the module docstring, rows in ``user_index`` and columns in ``item_index`` order.

    Events of users or items outside the indexes are ignored. ``weight`` holds only pairs whose weight is
    above 0 (an event type weighted 0 makes no edge); the other three hold every positive pair.
    """
    rel = events if isinstance(events, EventRelation) else EventRelation.of_frame(events)
    start = time.perf_counter()
    users, items = index_frames(user_index, item_index)
    with rel.query() as (con, table):
        con.register("pair_users", users)
        con.register("pair_items", items)
        sql = pairs_sql(
            table, "pair_users", "pair_items", event_weights=event_weights, half_life_days=half_life_days, now=now
        )
        out = con.execute(sql).fetchnumpy()
        con.unregister("pair_users")
        con.unregister("pair_items")
    result = matrices_of(out, (len(user_index), len(item_index)))
    took = time.perf_counter() - start
    log.debug("pair_matrices: %d pairs of %d users x %d items in %.2f s", len(out["r"]), *result.weight.shape, took)
    return result


def matrices_of(out: Mapping[str, np.ndarray], shape: tuple[int, int]) -> PairMatrices:
    """The :class:`PairMatrices` of :func:`pairs_sql`'s rows (column arrays, from whichever engine ran it)."""
    rows, cols = np.asarray(out["r"], dtype=np.int64), np.asarray(out["c"], dtype=np.int64)

    def matrix(values: np.ndarray, dtype: type) -> sp.csr_matrix:
        return sp.csr_matrix((np.asarray(values, dtype=dtype), (rows, cols)), shape=shape, dtype=dtype)

    weight = matrix(out["weight"], np.float32)
    weight.eliminate_zeros()
    return PairMatrices(
        weight=weight,
        strongest=matrix(out["strongest"], np.int8),
        evidence=matrix(out["evidence"], np.float64),
        evidence_raw=matrix(out["evidence_raw"], np.float64),
    )


def interactions_sha256(matrix: sp.spmatrix, user_index: pd.Index, item_index: pd.Index) -> str:
    """A hash of the training matrix as sorted ``(user id, item id, weight)`` triples: equal matrices, equal hash.

    The rows and columns are hashed through their ids, so two engines that index the same ids the same way (both
    sort them) give the same hash exactly when every pair's float32 weight is bit-for-bit the same.
    """
    csr = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.sort_indices()
    h = hashlib.sha256()
    for ids in (user_index, item_index):
        h.update(len(ids).to_bytes(8, "little"))
        h.update("\x1f".join(map(str, ids)).encode("utf-8", "surrogatepass"))
    for array in (csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data.astype("<f4")):
        h.update(array.tobytes())
    return h.hexdigest()
