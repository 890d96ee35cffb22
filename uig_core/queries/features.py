"""The user feature frame segment rules run on: one row per user, built from what the build stores.

Activity, spend, orders, drift and anomaly columns come from the build's users table, interest shares from its
profiles. ``spend`` and ``orders`` are net of returns and cancellations (:mod:`uig_core.store.money`, the one
definition the portrait, exports and Home use too); ``spend_gross``, ``orders_gross``, ``units_gross`` and
``units_returned`` sit beside them. Extra columns of the log (e.g. ``Country``) are each user's most frequent
value, aggregated in DuckDB by :func:`extra_user_values` — the events never leave the database.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle
    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["INTEREST_PREFIX", "CANONICAL_COLUMNS", "user_features", "extra_user_values"]

log = logging.getLogger(__name__)

INTEREST_PREFIX = "interest: "
#: Columns of the event schema; every other column of a log is an extra a rule may use.
CANONICAL_COLUMNS = frozenset(
    {"user_id", "item_id", "event", "ts", "item_title", "category", "price", "quantity", "order_id", "query"}
)


def user_features(
    bundle: Bundle,
    events: pd.DataFrame | None = None,
    labels: np.ndarray | None = None,
    *,
    extras: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per user (bundle row order) holding every field a segment rule can use.

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
    users = bundle.users
    out = pd.DataFrame({"user_id": users["user_id"].astype(str).reset_index(drop=True)})
    for col in users.columns:
        if col != "user_id" and (pd.api.types.is_numeric_dtype(users[col]) or pd.api.types.is_bool_dtype(users[col])):
            out[col] = users[col].to_numpy(dtype=np.float64, na_value=np.nan)
    if "last_seen" in users:
        last = pd.to_datetime(users["last_seen"])
        out["recency_days"] = ((last.max() - last).dt.total_seconds() / 86400.0).round(1).to_numpy()
        if "first_seen" in users:
            out["tenure_days"] = (
                ((last - pd.to_datetime(users["first_seen"])).dt.total_seconds() / 86400.0).round(1).to_numpy()
            )
    out = pd.concat([out, _interest_shares(bundle)], axis=1)
    if labels is not None:
        out["cluster"] = np.asarray(labels, dtype=np.int64)
    if events is not None:
        for col in _extra_columns(events):
            name = col if col not in out else f"extra_{col}"
            out[name] = _most_frequent(events, col).reindex(out["user_id"]).to_numpy()
    if extras is not None:
        by_user = extras.assign(user_id=extras["user_id"].astype(str)).set_index("user_id")
        for col in by_user.columns:
            name = col if col not in out else f"extra_{col}"
            out[name] = by_user[col].reindex(out["user_id"]).to_numpy()
    log.debug("user features %s in %.2f s", out.shape, time.perf_counter() - start)
    return out


def _interest_shares(bundle: Bundle) -> pd.DataFrame:
    """``interest: NAME`` columns, one per profile column (a repeated name gets its id appended)."""
    names = bundle.interest_names if hasattr(bundle, "interest_names") else {}
    seen: set[str] = set()
    columns = []
    for t in np.asarray(bundle.profile_columns).astype(int):
        name = f"{INTEREST_PREFIX}{names.get(int(t), t)}"
        if name in seen:
            name = f"{name} ({t})"
        seen.add(name)
        columns.append(name)
    # One float64 block, rounded in place: np.round(x, 4) is exactly multiply, rint, divide.
    shares = np.array(bundle.profiles, dtype=np.float64)
    np.multiply(shares, 1e4, out=shares)
    np.rint(shares, out=shares)
    np.true_divide(shares, 1e4, out=shares)
    return pd.DataFrame(shares, columns=columns, copy=False)


def _extra_columns(events: pd.DataFrame) -> list[str]:
    return [c for c in events.columns if c not in CANONICAL_COLUMNS and not str(c).startswith("_")]


def _most_frequent(events: pd.DataFrame, col: str) -> pd.Series:
    """Each user's most frequent non-null value of ``col`` (ties: the first in value order)."""
    vals = events[["user_id", col]].dropna()
    vals = vals.assign(user_id=vals["user_id"].astype(str))
    counts = vals.groupby(["user_id", col], observed=True, sort=True).size().reset_index(name="n")
    counts = counts.sort_values(["user_id", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("user_id").set_index("user_id")[col]


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
