"""The user feature frame segment rules run on: one row per user, built from what the build stores.

Activity, spend, orders, drift and anomaly columns come from the build's users table, interest shares from its
profiles. ``spend`` and ``orders`` are net of returns and cancellations (:mod:`uig_core.store.money`, the one
definition the portrait, exports and Home use too); ``spend_gross``, ``orders_gross``, ``units_gross`` and
``units_returned`` sit beside them. Extra columns of the log (e.g. ``Country``) are each user's most frequent
value, aggregated in DuckDB by :func:`extra_user_values` — the events never leave the database.

The columns are defined once, in :mod:`uig_core.queries.feature_sources`: :func:`build_features` gives the lazy
:class:`~uig_core.queries.feature_table.FeatureTable` the app keeps (a column read when a rule asks),
:func:`user_features` the same columns as one frame.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

# One definition of every column: the lazy table's (this frame is that table materialised).
from uig_core.queries.feature_sources import (
    CANONICAL_COLUMNS,
    INTEREST_PREFIX,
    _most_frequent,  # noqa: F401 (a test checks the DuckDB aggregate against it)
    build_features,
)
from uig_core.queries.feature_table import FeatureTable

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle
    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = [
    "INTEREST_PREFIX",
    "CANONICAL_COLUMNS",
    "FeatureTable",
    "build_features",
    "user_features",
    "extra_user_values",
]

log = logging.getLogger(__name__)


def user_features(
    bundle: Bundle,
    events: pd.DataFrame | None = None,
    labels: np.ndarray | None = None,
    *,
    extras: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per user (bundle row order) holding every field a segment rule can use, all read at once.

    The eager form of :func:`~uig_core.queries.feature_sources.build_features` (same arguments, same columns), for
    small builds and tests; the app keeps the lazy table, which reads a column only when a rule needs it.

    Columns: ``user_id``; the numeric activity columns of the build's users table (event counts, net and
    gross orders and spend, anomaly and drift scores and the anomaly features…); ``recency_days`` and
    ``tenure_days``; ``interest: NAME`` profile shares; ``cluster`` when ``labels`` is given; and each extra
    column of the log (e.g. ``Country``) as the user's most frequent value.

    Args:
        bundle: The build.
        events: Events holding extra columns (a small log or a test's frame); each user's most frequent value
            of each extra column is taken.
        labels: ``(n_users,)`` cluster labels.
        extras: One row per user, ``user_id`` plus extra columns, as :func:`extra_user_values` returns them
            (what the dashboard passes: no events are loaded).
    """
    start = time.perf_counter()
    out = build_features(bundle, events, labels, extras=extras).frame()
    log.debug("user features %s in %.2f s", out.shape, time.perf_counter() - start)
    return out


def extra_user_values(ws: Workspace, info: DatasetInfo) -> pd.DataFrame | None:
    """Each user's most frequent value of every extra column of a dataset's log, aggregated in DuckDB.

    Ties go to the first value in value order, as :func:`user_features` does on a frame. Only users with a value
    get a row. None when the log has no extra column (then nothing is scanned).

    Returns:
        ``user_id`` plus one column per extra column of the log.
    """
    with ws.connect() as con:
        columns = [str(r[0]) for r in con.execute(f"DESCRIBE {info.table}").fetchall()]
        extra = [c for c in columns if c not in CANONICAL_COLUMNS and not c.startswith("_")]
        if not extra and "query" not in columns:
            return None
        start = time.perf_counter()
        out: pd.DataFrame | None = None
        if "query" in columns:  # "searched for X": a rule `searched contains X` over the user's distinct queries
            out = con.execute(
                f"SELECT user_id, string_agg(DISTINCT query, ' · ' ORDER BY query) AS searched FROM {info.table} "
                "WHERE event = 'search' AND query IS NOT NULL GROUP BY user_id"
            ).df()
            out["user_id"] = out["user_id"].astype(str)
        for col in extra:
            q = '"' + col.replace('"', '""') + '"'
            frame = con.execute(
                f"SELECT user_id, v AS {q} FROM (SELECT user_id, {q} AS v, row_number() OVER "
                f"(PARTITION BY user_id ORDER BY count(*) DESC, {q}) AS r FROM {info.table} "
                f"WHERE {q} IS NOT NULL GROUP BY user_id, {q}) WHERE r = 1"
            ).df()
            frame["user_id"] = frame["user_id"].astype(str)
            out = frame if out is None else out.merge(frame, on="user_id", how="outer")
    log.debug("extra user columns %s in %.2f s", extra, time.perf_counter() - start)
    return out
