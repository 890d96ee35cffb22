"""Storing a log that arrives in parts: a new dataset from cleaned frames, one part at a time, in one transaction.

A large file is cleaned part by part (:mod:`uig_core.ingest.stream`), so no part of UIG holds the whole log;
the parts go straight into DuckDB. Rows repeated in different parts (an export that overlaps itself) are found
by DuckDB once everything is in and removed, so the result equals reading the file whole. The dataset's content
hash chains the parts' hashes, as appends do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from uig_core.errors import IngestError, SchemaError
from uig_core.store.workspace import DatasetInfo, Workspace, data_hash, register_dataset

__all__ = ["add_dataset_parts"]

log = logging.getLogger(__name__)


def add_dataset_parts(
    ws: Workspace,
    name: str,
    parts: Iterable[pd.DataFrame],
    *,
    source: str = "",
    options: dict | None = None,
    report: Callable[[int], dict[str, Any]],
) -> DatasetInfo:
    """Store a new dataset from cleaned parts; nothing is stored unless every part is.

    Args:
        ws: The workspace.
        name: New dataset name.
        parts: Cleaned canonical frames, all with the same columns.
        source: Where the log came from.
        options: Ingest options to keep with the dataset.
        report: Called once the parts are in with the number of duplicate rows removed across parts; returns
            the ingest report to store.

    Raises:
        DatasetExists: The name is taken.
        IngestError: No part held a usable row.
        SchemaError: A part's column holds values the first part's could not (e.g. text in a number column).
    """
    import duckdb

    name = ws.check_new_name(name)
    with ws.connect(write=True) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            ds_id = con.execute("SELECT nextval('dataset_ids')").fetchall()[0][0]
            table = f"events_{ds_id}"
            chained = _insert_parts(con, table, parts)
            removed = _drop_repeats(con, table)
            rows, users, items = con.execute(
                f"SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM {table}"
            ).fetchone()
            register_dataset(con, ds_id, name, source, options, report(removed), (rows, users, items), chained)
            con.execute("COMMIT")
        except duckdb.ConversionException as err:
            con.execute("ROLLBACK")
            raise SchemaError(
                f"a later part of the log does not fit the columns of its first part: {err}. Give each column one "
                "kind of values throughout the file."
            ) from err
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return ws.dataset(name)


def _insert_parts(con: Any, table: str, parts: Iterable[pd.DataFrame]) -> str:
    """Create ``table`` from the first part and insert the rest by column name; returns the chained hash."""
    chained = ""
    created = False
    for part in parts:
        if part.empty:
            continue
        con.register("incoming", part)
        if not created:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming")
            created = True
        else:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        chained = hashlib.sha256(f"{chained}+{data_hash(part)}".encode()).hexdigest()[:20]
    if not created:
        raise IngestError("no usable row remains in any part of the log (see the report's skipped rows).")
    return chained


def _drop_repeats(con: Any, table: str) -> int:
    """Remove rows repeated across parts (each part is already free of repeats); returns how many went."""
    total = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    distinct = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {table})").fetchone()[0]
    removed = int(total - distinct)
    if removed:
        con.execute(f"CREATE TEMP TABLE dedup AS SELECT DISTINCT * FROM {table} ORDER BY ts")
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} SELECT * FROM dedup")
        con.execute("DROP TABLE dedup")
        log.info("%d rows repeated across parts of the log removed", removed)
    return removed
