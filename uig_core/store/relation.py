"""A dataset's events as a DuckDB relation, so every aggregate is one SQL definition for any size of log.

The build never loads a log as one pandas frame: it asks DuckDB for per-item, per-user, per-pair and per-day
aggregates (:mod:`uig_core.store.frames`, :mod:`uig_core.graph.edges`, :mod:`uig_core.signals`), and their
memory is bounded by those aggregates. The same SQL runs over a frame (tests, a small upload, one user's
history) registered in an in-memory DuckDB, so there is no second, pandas copy of any definition.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user_id": ["u1", "u1"], "item_id": ["a", "b"], "event": ["view", "purchase"]})
    >>> with EventRelation.of_frame(frame).query() as (con, rel):
    ...     con.sql(f"SELECT count(*) FROM {rel}").fetchone()[0]
    2
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from uig_core.schema import POSITIVE_EVENTS

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["EventRelation", "sql_text", "positive_filter", "weight_case", "code_case"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class EventRelation:
    """Where a dataset's events are: a workspace table, or a frame registered for the length of a query.

    Use :meth:`of_dataset` or :meth:`of_frame`; :meth:`query` yields ``(connection, relation name)``.
    A frame without ``event`` reads every row as a purchase, one without ``ts`` as timeless (NULL), as
    ingest does; other missing optional columns are simply absent (see :attr:`columns`).
    """

    ws: Workspace | None = None
    table: str | None = None
    frame: pd.DataFrame | None = None
    where: str | None = None

    @classmethod
    def of_dataset(cls, ws: Workspace, info: DatasetInfo) -> EventRelation:
        """The events table of a stored dataset."""
        return cls(ws=ws, table=info.table)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> EventRelation:
        """An events frame (``user_id, item_id`` and the optional canonical columns)."""
        frame = frame.copy()
        for col in ("user_id", "item_id"):
            frame[col] = frame[col].astype("string")
        if "event" not in frame:
            frame["event"] = "purchase"
        frame["event"] = frame["event"].astype("string")
        if "ts" not in frame:
            frame["ts"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
        else:
            frame["ts"] = pd.to_datetime(frame["ts"])
        return cls(frame=frame)

    def filtered(self, condition: str) -> EventRelation:
        """The same events restricted to rows where the SQL ``condition`` holds (conditions add up)."""
        where = condition if self.where is None else f"({self.where}) AND ({condition})"
        return EventRelation(ws=self.ws, table=self.table, frame=self.frame, where=where)

    @contextmanager
    def query(self) -> Iterator[tuple[DuckDBPyConnection, str]]:
        """Yield ``(connection, relation)``: run SQL over ``relation`` on ``connection`` inside the block.

        ``relation`` is a table name, or a parenthesised subquery for a :meth:`filtered` relation.
        """
        if self.frame is not None:
            import duckdb

            con = duckdb.connect()
            try:
                con.register("events_frame", self.frame)
                yield con, self._source("events_frame")
            finally:
                con.close()
            return
        if self.ws is None or self.table is None:
            raise ValueError("an EventRelation needs a workspace table or a frame")
        with self.ws.connect() as con:
            yield con, self._source(self.table)

    def _source(self, name: str) -> str:
        return name if self.where is None else f"(SELECT * FROM {name} WHERE {self.where})"

    def after(self, ts: pd.Timestamp) -> pd.DataFrame:
        """The events later than ``ts`` as a frame (an update's new batch, small next to the log)."""
        with self.query() as (con, rel):
            frame = con.execute(f"SELECT * FROM {rel} WHERE ts > ?", [pd.Timestamp(ts).to_pydatetime()]).df()
        for col in ("user_id", "item_id", "event"):
            frame[col] = frame[col].astype("string")
        return frame

    @property
    def columns(self) -> list[str]:
        """Column names of the relation."""
        if self.frame is not None:
            return [str(c) for c in self.frame.columns]
        with self.ws.connect() as con:  # type: ignore[union-attr]
            return [r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {self.table})").fetchall()]


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal (quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def positive_filter(column: str = "event") -> str:
    """SQL condition: the row is a positive event (view, click, fav, cart, purchase; not search, return, adjustment)."""
    return f"{column} IN ({', '.join(sql_text(e) for e in POSITIVE_EVENTS)})"


def weight_case(weights: dict[str, float], column: str = "event") -> str:
    """SQL expression: each positive event's weight from ``weights`` (0 for events it does not name)."""
    whens = " ".join(f"WHEN {sql_text(e)} THEN {float(w)!r}" for e, w in weights.items() if e in POSITIVE_EVENTS)
    return f"(CASE {column} {whens} ELSE 0.0 END)" if whens else "0.0"


def code_case(codes: dict[int, str], column: str = "event") -> str:
    """SQL expression: each positive event's rank code (:data:`~uig_core.schema.EVENT_CODES`), else NULL."""
    whens = " ".join(f"WHEN {sql_text(e)} THEN {int(c)}" for c, e in codes.items())
    return f"(CASE {column} {whens} ELSE NULL END)"
