"""Money: what each user spent and ordered, net of returns and cancellations. The one definition of spend.

Every figure about money (the users table's ``spend`` and ``orders``, the portrait's RFM monetary, segment
fields and exports, the Home page's revenue, the anomaly score's ``returned_share``) comes from the SQL here,
so a purchase and its return can never count in one place and not in another.

The definition, per purchase *line* (one ``purchase`` row; ``quantity`` 1 where the log has none):

1. A ``return`` row carrying the order id of a purchase of the same user and item takes back units of that
   order's lines of the item, newest line first, never more than they hold.
2. What is left of the user's returned units of the item (returns without an order id, with an order id of
   their own, as Online Retail's ``C…`` cancellations have, or beyond what the order held) takes back units of
   the user's remaining lines of the item, newest line first, again never more than they hold. Units returned
   beyond everything the user bought of the item within the log (stock bought before the log starts) take
   back nothing.
3. A line's net value is its value (``price * quantity``) times the share of its units kept. Returned units are
   valued at the price paid, so a return logged without a price still refunds what was paid.

Per user: ``spend_gross`` (every purchase line's value), ``spend`` (net), ``orders_gross`` (distinct order ids
of purchases, or purchase lines where the log has no order ids), ``orders`` (those with a unit kept), and
``units_gross`` / ``units_returned`` (matched returned units, so ``units_returned <= units_gross``).

Example:
    >>> import pandas as pd
    >>> from uig_core.store.relation import EventRelation
    >>> log = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["jar", "jar"], "event": ["purchase", "return"],
    ...                     "price": [1.04, 1.04], "quantity": [10.0, -10.0], "order_id": ["541431", "C541433"]})
    >>> row = user_money(EventRelation.of_frame(log)).iloc[0]
    >>> float(row.spend), float(row.spend_gross), int(row.orders), int(row.orders_gross)
    (0.0, 10.4, 0, 1)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from uig_core.store.relation import EventRelation

__all__ = ["MONEY_COLUMNS", "money_sql", "user_money"]

log = logging.getLogger(__name__)

#: The per-user columns of :func:`money_sql`, after ``user_id``.
MONEY_COLUMNS: tuple[str, ...] = ("spend", "spend_gross", "orders", "orders_gross", "units_gross", "units_returned")

# Newest line first; the rest of the key only makes the order of lines with one timestamp deterministic.
_NEWEST = "ts DESC NULLS LAST, order_id DESC NULLS LAST, q DESC, v DESC"
_BEFORE = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"


def money_sql(table: str, columns: set[str] | frozenset[str]) -> str:
    """SQL ``SELECT``: one row per user with a purchase or return, ``user_id`` then :data:`MONEY_COLUMNS`.

    Args:
        table: The events relation (a table or view name usable in ``FROM``).
        columns: The relation's columns; ``price``, ``quantity`` and ``order_id`` are used when present
            (no price: every value is 0; no quantity: one unit per row; no order id: each line is an order).
    """
    qty = "abs(coalesce(quantity, 1.0))" if "quantity" in columns else "1.0"
    price = "coalesce(price, 0.0)" if "price" in columns else "0.0"
    order = "CAST(order_id AS VARCHAR)" if "order_id" in columns else "NULL::VARCHAR"
    return (
        f"WITH mv AS (SELECT user_id, item_id, event, ts, {order} AS order_id, {price} AS price, {qty} AS q "
        f"FROM {table} WHERE event IN ('purchase', 'return')), "
        "p AS (SELECT user_id, item_id, order_id, ts, q, price * q AS v FROM mv WHERE event = 'purchase' AND q > 0), "
        "r AS (SELECT user_id, item_id, order_id, sum(q) AS q FROM mv WHERE event = 'return' AND q > 0 "
        "GROUP BY ALL), "
        "pool AS (SELECT user_id, item_id, sum(q) AS q FROM r GROUP BY ALL), "
        # only the lines of a (user, item) with a return need matching; the rest are kept whole
        "hit AS (SELECT p.* FROM p SEMI JOIN pool USING (user_id, item_id)), "
        # 1. returns carrying the purchase's own order id
        "p1 AS (SELECT hit.*, least(hit.q, greatest(coalesce(r.q, 0.0) - coalesce(sum(hit.q) OVER (PARTITION BY "
        f"hit.user_id, hit.item_id, hit.order_id ORDER BY {_qualified('hit')} {_BEFORE}), 0.0), 0.0)) AS a1 "
        "FROM hit LEFT JOIN r ON r.user_id = hit.user_id AND r.item_id = hit.item_id AND r.order_id = hit.order_id), "
        # 2. the rest of the user's returned units of the item, against what the lines still hold
        "matched AS (SELECT user_id, item_id, sum(a1) AS a FROM p1 GROUP BY ALL), "
        "p2 AS (SELECT p1.*, least(p1.q - p1.a1, greatest(pool.q - m.a - coalesce(sum(p1.q - p1.a1) OVER "
        f"(PARTITION BY p1.user_id, p1.item_id ORDER BY {_qualified('p1')} {_BEFORE}), 0.0), 0.0)) AS a2 "
        "FROM p1 JOIN pool USING (user_id, item_id) JOIN matched m USING (user_id, item_id)), "
        "lines AS (SELECT user_id, order_id, q, v, q AS kept FROM p ANTI JOIN pool USING (user_id, item_id) "
        "UNION ALL SELECT user_id, order_id, q, v, q - a1 - a2 AS kept FROM p2), "
        # a line without an order id is an order of its own; a line kept whole keeps its value exactly
        "buyers AS (SELECT user_id, sum(CASE WHEN kept = q THEN v ELSE v * kept / q END) AS spend, "
        "sum(v) AS spend_gross, count(DISTINCT order_id) FILTER (WHERE kept > 0) "
        "+ count(*) FILTER (WHERE order_id IS NULL AND kept > 0) AS orders, "
        "count(DISTINCT order_id) + count(*) FILTER (WHERE order_id IS NULL) AS orders_gross, "
        "sum(q) AS units_gross, sum(q - kept) AS units_returned FROM lines GROUP BY user_id) "
        "SELECT u.user_id, coalesce(b.spend, 0.0) AS spend, coalesce(b.spend_gross, 0.0) AS spend_gross, "
        "coalesce(b.orders, 0) AS orders, coalesce(b.orders_gross, 0) AS orders_gross, "
        "coalesce(b.units_gross, 0.0) AS units_gross, coalesce(b.units_returned, 0.0) AS units_returned "
        "FROM (SELECT DISTINCT user_id FROM mv) u LEFT JOIN buyers b USING (user_id)"
    )


def _qualified(alias: str) -> str:
    """:data:`_NEWEST` with each column qualified by ``alias`` (the joins carry same-named columns)."""
    return ", ".join(f"{alias}.{part}" for part in _NEWEST.split(", "))


def user_money(events: pd.DataFrame | EventRelation) -> pd.DataFrame:
    """:func:`money_sql` run over a dataset's events or a frame: ``user_id`` + :data:`MONEY_COLUMNS`, by id.

    Only users with a purchase or a return get a row (:func:`~uig_core.store.frames.users_frame` gives every
    user the same columns, 0 where they have neither).
    """
    rel = events if isinstance(events, EventRelation) else EventRelation.of_frame(events)
    with rel.query() as (con, table):
        frame = con.sql(f"SELECT * FROM ({money_sql(table, set(rel.columns))}) ORDER BY user_id").df()
    frame["user_id"] = frame["user_id"].astype("string")
    for col in ("orders", "orders_gross"):
        frame[col] = frame[col].astype(np.int64)
    for col in ("spend", "spend_gross", "units_gross", "units_returned"):
        frame[col] = frame[col].astype(np.float64)
    return frame
