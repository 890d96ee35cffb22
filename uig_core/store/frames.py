"""Dataset frames: one row per item and one per user, aggregated in DuckDB from a dataset's events.

Both are one SQL query each over an :class:`~uig_core.store.relation.EventRelation` (a workspace table or a
frame), so a log of any size costs the memory of its items and users, not of its rows.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from uig_core.store.money import MONEY_COLUMNS, money_sql
from uig_core.store.relation import EventRelation

__all__ = [
    "items_frame",
    "users_frame",
    "time_range",
    "items_sql",
    "users_sql",
    "time_range_sql",
    "typed_items",
    "typed_users",
]

log = logging.getLogger(__name__)

_USER_EVENTS = ("view", "click", "fav", "cart", "purchase", "search", "return")


def _relation(events: pd.DataFrame | EventRelation) -> EventRelation:
    return events if isinstance(events, EventRelation) else EventRelation.of_frame(events)


def _most_common(col: str) -> str:
    """SQL subquery: each item's most frequent non-empty value of ``col`` (ties: the smallest value).

    A window rank rather than DuckDB's ordered ``first(... ORDER BY ...)``, so Spark runs the same text.
    """
    return (
        f"SELECT item_id, v FROM (SELECT item_id, {col} AS v, row_number() OVER (PARTITION BY item_id "
        f"ORDER BY n DESC, {col}) AS rk FROM (SELECT item_id, {col}, count(*) AS n FROM ev "
        f"WHERE {col} IS NOT NULL AND length({col}) > 0 GROUP BY ALL) counted) ranked WHERE rk = 1"
    )


def items_sql(table: str, columns: set[str] | frozenset[str]) -> str:
    """SQL ``SELECT`` of :func:`items_frame` over ``table`` with ``columns`` (DuckDB's dialect, run on Spark too).

    :mod:`uig_core.spark.sql` transpiles this one text for Spark; there is no second definition.
    """
    title = _most_common("item_title") if "item_title" in columns else "SELECT NULL::VARCHAR AS item_id, NULL AS v"
    category = _most_common("category") if "category" in columns else "SELECT NULL::VARCHAR AS item_id, NULL AS v"
    price = "median(price) FILTER (WHERE price > 0)" if "price" in columns else "NULL::DOUBLE"
    return (
        f"WITH ev AS (SELECT * FROM {table} WHERE item_id IS NOT NULL), "  # a search may name no item
        f"base AS (SELECT item_id, count(*) AS n_events, count(DISTINCT user_id) AS n_users, "
        f"min(ts) AS first_seen, max(ts) AS last_seen, {price} AS price FROM ev GROUP BY item_id), "
        f"t AS ({title}), c AS ({category}) "
        "SELECT b.item_id, b.n_events, b.n_users, b.first_seen, b.last_seen, "
        "coalesce(t.v, b.item_id) AS title, c.v AS category, b.price "
        "FROM base b LEFT JOIN t USING (item_id) LEFT JOIN c USING (item_id) ORDER BY b.item_id"
    )


def items_frame(events: pd.DataFrame | EventRelation) -> pd.DataFrame:
    """One row per item, sorted by id: ``item_id, n_events, n_users, first_seen, last_seen, title, category, price``.

    ``title`` and ``category`` are the item's most frequent non-empty values (the id where it has no title);
    ``price`` is the median of its prices above 0.
    """
    rel = _relation(events)
    cols = set(rel.columns)
    with rel.query() as (con, table):
        frame = con.sql(items_sql(table, cols)).df()
    return typed_items(frame)


def typed_items(frame: pd.DataFrame) -> pd.DataFrame:
    """The result of :func:`items_sql` with the frame's types (whichever engine ran it), sorted by id."""
    frame = _typed(frame, ("item_id", "title", "category"), ("n_events", "n_users"))
    return _by_id(frame, "item_id")


def users_sql(table: str, columns: set[str] | frozenset[str]) -> str:
    """SQL ``SELECT`` of :func:`users_frame` over ``table`` (DuckDB's dialect, run on Spark too)."""
    counts = ", ".join(f"count(*) FILTER (WHERE event = '{e}') AS n_{e}" for e in _USER_EVENTS)
    money = ", ".join(f"coalesce(m.{c}, 0) AS {c}" for c in MONEY_COLUMNS)
    return (
        f"WITH a AS (SELECT user_id, count(*) AS n_events, min(ts) AS first_seen, max(ts) AS last_seen, "
        f"{counts} FROM {table} GROUP BY user_id), m AS ({money_sql(table, columns)}) "
        f"SELECT a.*, {money} FROM a LEFT JOIN m USING (user_id) ORDER BY user_id"
    )


def users_frame(events: pd.DataFrame | EventRelation) -> pd.DataFrame:
    """One row per user, sorted by id: activity counts by event, first/last seen, orders and spend (RFM inputs).

    The money columns are :mod:`uig_core.store.money`'s one definition: ``spend`` and ``orders`` net of returns
    and cancellations, ``spend_gross`` and ``orders_gross`` before them, ``units_gross`` / ``units_returned``
    the units bought and taken back (0 for users without a purchase or return).
    """
    rel = _relation(events)
    with rel.query() as (con, table):
        frame = con.sql(users_sql(table, set(rel.columns))).df()
    return typed_users(frame)


def typed_users(frame: pd.DataFrame) -> pd.DataFrame:
    """The result of :func:`users_sql` with the frame's types (whichever engine ran it), sorted by id."""
    counts_cols = ("n_events", *(f"n_{e}" for e in _USER_EVENTS), "orders", "orders_gross")
    frame = _typed(frame, ("user_id",), counts_cols)
    for col in ("spend_gross", "units_gross", "units_returned"):
        frame[col] = frame[col].astype("float64")
    return _by_id(frame, "user_id")


def time_range_sql(table: str) -> str:
    """SQL of :func:`time_range`: one row ``(first ts, last ts, number of events)``."""
    return f"SELECT min(ts), max(ts), count(*) FROM {table}"


def time_range(events: pd.DataFrame | EventRelation) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """``(first ts, last ts, number of events)`` of a dataset."""
    with _relation(events).query() as (con, table):
        first, last, n = con.execute(time_range_sql(table)).fetchone()
    return pd.Timestamp(first), pd.Timestamp(last), int(n)


def _typed(frame: pd.DataFrame, texts: tuple[str, ...], counts: tuple[str, ...]) -> pd.DataFrame:
    """Text columns as pandas strings, counts as int64, times as datetime64 (DuckDB's types mapped once)."""
    for col in texts:
        frame[col] = frame[col].astype("string")
    for col in counts:
        frame[col] = frame[col].astype(np.int64)
    for col in ("first_seen", "last_seen"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("price", "spend"):
        if col in frame:
            frame[col] = frame[col].astype("float64")
    return frame


def _by_id(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows in id order (code point order, which is DuckDB's and Spark's binary string order too)."""
    ids = frame[column]
    if ids.is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values(column, kind="stable").reset_index(drop=True)
