"""The build's SQL on Spark: DuckDB's text of each aggregate, transpiled with sqlglot, so there is one definition.

The aggregates are written once, in DuckDB's dialect, as functions of a relation name
(:func:`~uig_core.store.frames.items_sql`, :func:`~uig_core.store.frames.users_sql`,
:func:`~uig_core.store.money.money_sql`, :func:`~uig_core.graph.pairs.pairs_sql`); DuckDB runs them as they are
and :func:`to_spark` turns each into Spark SQL. sqlglot maps casts, ``FILTER`` clauses, ``GROUP BY ALL`` and
``SEMI``/``ANTI`` joins; the one function it does not know, DuckDB's ``epoch_us``, is Spark's ``unix_micros``.

Example:
    >>> to_spark("SELECT NULL::VARCHAR AS v, epoch_us(ts) AS us FROM ev")
    'SELECT CAST(NULL AS STRING) AS v, UNIX_MICROS(CAST(ts AS TIMESTAMP)) AS us FROM ev'
"""

from __future__ import annotations

import functools
import logging

__all__ = ["to_spark"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def to_spark(duckdb_sql: str) -> str:
    """``duckdb_sql`` in Spark SQL's dialect (the same query, the same answers).

    Raises:
        sqlglot.errors.ParseError: The text is not DuckDB SQL (a bug in the caller's definition).
    """
    import sqlglot  # noqa: PLC0415 - only a Spark build needs it
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "epoch_us":
            # Spark's microseconds since the epoch take a TIMESTAMP; the log's NTZ times read as UTC (session.py)
            arg = exp.cast(node.expressions[0], exp.DataType.build("TIMESTAMP"))
            return exp.Anonymous(this="UNIX_MICROS", expressions=[arg])
        return node

    tree = sqlglot.parse_one(duckdb_sql, read="duckdb").transform(rewrite)
    out = tree.sql(dialect="spark")
    log.debug("transpiled %d characters of DuckDB SQL for Spark", len(duckdb_sql))
    return out
