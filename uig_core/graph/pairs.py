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

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.schema import EVENT_CODES, EVENT_WEIGHTS
from uig_core.store.relation import EventRelation, code_case, positive_filter, weight_case

__all__ = ["PairMatrices", "pair_matrices"]

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
    weights = dict(EVENT_WEIGHTS if event_weights is None else event_weights)
    start = time.perf_counter()
    users = pd.DataFrame({"user_id": pd.array(user_index.astype(str), dtype="string")})
    items = pd.DataFrame({"item_id": pd.array(item_index.astype(str), dtype="string")})
    users["r"] = np.arange(len(users), dtype=np.int64)
    items["c"] = np.arange(len(items), dtype=np.int64)
    with rel.query() as (con, table):
        con.register("pair_users", users)
        con.register("pair_items", items)
        ref = "TIMESTAMP '" + str(pd.Timestamp(now)) + "'" if now is not None else "ref.t"
        decay = _decay(half_life_days, ref)
        w = weight_case(weights, "e.event")
        out = con.execute(
            f"WITH ref AS (SELECT max(ts) AS t FROM {table} WHERE {positive_filter()}) "
            f"SELECT u.r, i.c, max({code_case(EVENT_CODES, 'e.event')})::TINYINT AS strongest, "
            f"max({w} * {decay}) AS weight, sum({w} * {decay}) AS evidence, sum({w}) AS evidence_raw "
            f"FROM {table} e JOIN pair_users u ON u.user_id = e.user_id "
            "JOIN pair_items i ON i.item_id = e.item_id, ref "
            f"WHERE {positive_filter('e.event')} GROUP BY u.r, i.c"
        ).fetchnumpy()
        con.unregister("pair_users")
        con.unregister("pair_items")
    shape = (len(user_index), len(item_index))
    rows, cols = np.asarray(out["r"], dtype=np.int64), np.asarray(out["c"], dtype=np.int64)

    def matrix(values: np.ndarray, dtype: type) -> sp.csr_matrix:
        return sp.csr_matrix((np.asarray(values, dtype=dtype), (rows, cols)), shape=shape, dtype=dtype)

    weight = matrix(out["weight"], np.float32)
    weight.eliminate_zeros()
    result = PairMatrices(
        weight=weight,
        strongest=matrix(out["strongest"], np.int8),
        evidence=matrix(out["evidence"], np.float64),
        evidence_raw=matrix(out["evidence_raw"], np.float64),
    )
    took = time.perf_counter() - start
    log.debug("pair_matrices: %d pairs of %d users x %d items in %.2f s", len(rows), *shape, took)
    return result
