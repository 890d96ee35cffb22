"""The per-user fields segment rules run on, each column produced only when something asks for it.

A :class:`FeatureTable` knows its field names and kinds without reading a row (a build's come from
:func:`uig_core.queries.feature_sources.build_features`). A column is produced on first use and kept (thread-safe:
the app shares one table per build), so a rule on ``spend`` reads the users table's ``spend`` column alone and a
rule on an interest one column of the memory-mapped profiles — never the whole 2 M × 70 frame.
:meth:`FeatureTable.take` gives a few rows (an export's members) without keeping the column;
:meth:`FeatureTable.prefetch` produces many columns at once, one pass per source (a comparison's means).

:func:`as_table` wraps a plain feature frame, so the segment functions take either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError

__all__ = ["FeatureTable", "Producer", "as_table"]

log = logging.getLogger(__name__)

#: ``produce(table, rows)``: a column's values for every row (``rows`` None) or for those rows. A producer with a
#: ``source`` attribute can be produced with others of that source in one pass: ``source.batch(table, producers)``
#: returns their full columns in order.
Producer = Callable[["FeatureTable", "np.ndarray | None"], Any]


class FeatureTable:
    """One row per user (bundle row order); each field produced on first use and kept.

    Behaves like the feature frame where the segment functions need it: ``table[name]`` is a ``pd.Series``
    (RangeIndex, named), ``table.columns``, ``len(table)``, ``name in table``.

    Args:
        fields: Name → ``(kind, produce)`` in column order; kind ``number``, ``category``, ``id`` (``user_id``)
            or None (known once the column is produced: the log's extra columns).
        n_rows: Users.
        record: Where the names of the columns produced are appended (shared by derived tables).
    """

    def __init__(self, fields: Mapping[str, tuple[str | None, Producer]], n_rows: int, record: list | None = None):
        self._fields = dict(fields)
        self._n_rows = int(n_rows)
        self._cache: dict[str, pd.Series] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.record: list[str] = [] if record is None else record

    def __len__(self) -> int:
        return self._n_rows

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __repr__(self) -> str:
        return f"FeatureTable({self._n_rows:,} users, {len(self._fields)} fields, {len(self._cache)} read)"

    @property
    def columns(self) -> list[str]:
        """Every field name, ``user_id`` first (as the eager frame orders them)."""
        return list(self._fields)

    @property
    def cached(self) -> list[str]:
        """The columns produced and kept so far."""
        return list(self._cache)

    def kinds(self) -> dict[str, str]:
        """``number`` or ``category`` for every rule field (``cluster`` is a category); reads only extras."""
        out = {}
        for name, (kind, _) in self._fields.items():
            if kind == "id":
                continue
            if kind is None:  # an extra column of the log: its dtype says (a handful of columns, small aggregates)
                kind = "number" if pd.api.types.is_numeric_dtype(self[name]) else "category"
            out[name] = kind
        return out

    def __getitem__(self, name: str) -> pd.Series:
        return self.column(name)

    def column(self, name: str) -> pd.Series:
        """The whole column ``name`` (produced once, then kept).

        Raises:
            KeyError: ``name`` is not a field.
        """
        if name in self._cache:
            return self._cache[name]
        if name not in self._fields:
            raise KeyError(name)
        with self._lock_for(name):
            if name not in self._cache:
                start = time.perf_counter()
                produce = self._fields[name][1]
                self._keep(name, produce(self, None))
                log.debug("feature %r in %.3f s", name, time.perf_counter() - start)
        return self._cache[name]

    def _lock_for(self, name: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(name, threading.Lock())

    def _keep(self, name: str, values: Any) -> None:
        self._cache[name] = self._series(name, values)
        if not isinstance(self._fields[name][1], _Shared):  # a derived table's: the base table recorded it
            self.record.append(name)

    def prefetch(self, names: Iterable[str]) -> None:
        """Produce and keep the named columns not kept yet, one pass per source (users table, profiles).

        What a comparison of every numeric field needs: one read of the users table's columns and one sequential
        pass over the profiles instead of a pass per column.
        """
        todo = [n for n in dict.fromkeys(names) if n in self._fields and n not in self._cache]
        shared = [n for n in todo if isinstance(self._fields[n][1], _Shared)]
        if shared:
            self._fields[shared[0]][1].base.prefetch(shared)
        groups: dict[int, list[str]] = {}
        for name in todo:
            source = getattr(self._fields[name][1], "source", None)
            if source is None or name in shared:
                self.column(name)
            else:
                groups.setdefault(id(source), []).append(name)
        for group in groups.values():
            start = time.perf_counter()
            producers = [self._fields[n][1] for n in group]
            for name, values in zip(group, producers[0].source.batch(self, producers), strict=True):
                with self._lock_for(name):
                    if name not in self._cache:
                        self._keep(name, values)
            log.debug("features %s in one pass: %.3f s", group, time.perf_counter() - start)

    def take(self, name: str, rows: np.ndarray) -> pd.Series:
        """Column ``name`` at ``rows`` only (RangeIndex); a column not kept yet stays so (an export's members)."""
        rows = np.asarray(rows, dtype=np.int64)
        if name in self._cache:
            return self._cache[name].iloc[rows].reset_index(drop=True)
        if name not in self._fields:
            raise KeyError(name)
        return self._series(name, self._fields[name][1](self, rows))

    def _series(self, name: str, values: Any) -> pd.Series:
        if isinstance(values, pd.Series):
            return values.reset_index(drop=True).rename(name)
        return pd.Series(values, name=name, copy=False)  # produced for the table (pandas 3 would copy it)

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The fields as one frame (default: all of them; on millions of users that is gigabytes)."""
        names = self.columns if columns is None else list(columns)
        return pd.DataFrame({name: self[name] for name in names})

    def with_labels(self, labels: np.ndarray) -> FeatureTable:
        """A table of the same fields plus each user's ``cluster``; the other columns stay this table's (read once)."""
        cluster = np.asarray(labels, dtype=np.int64)
        if len(cluster) != self._n_rows:
            raise ConfigError(f"the cluster labels hold {len(cluster):,} users; the build has {self._n_rows:,}.")
        fields: dict[str, tuple[str | None, Producer]] = {
            name: (kind, _Shared(self, name)) for name, (kind, _) in self._fields.items()
        }
        fields["cluster"] = ("category", lambda _t, rows: cluster if rows is None else cluster[rows])
        return FeatureTable(fields, self._n_rows, record=self.record)


class _Shared:
    """A derived table's column: the base table's, kept there (the derived table keeps only a reference)."""

    def __init__(self, base: FeatureTable, name: str) -> None:
        self.base, self.name = base, name

    def __call__(self, _table: FeatureTable, rows: np.ndarray | None) -> pd.Series:
        return self.base.column(self.name) if rows is None else self.base.take(self.name, rows)


def as_table(features: FeatureTable | pd.DataFrame) -> FeatureTable:
    """A feature table as it is, or a feature frame (``user_features``, a test's frame) seen as one."""
    if isinstance(features, FeatureTable):
        return features
    if not isinstance(features, pd.DataFrame):
        raise ConfigError(f"segment features must be a FeatureTable or a DataFrame; got {type(features).__name__}.")
    fields: dict[str, tuple[str | None, Producer]] = {}
    for col in features.columns:
        numeric = pd.api.types.is_numeric_dtype(features[col]) and col != "cluster"
        kind = "id" if col == "user_id" else "number" if numeric else "category"
        fields[col] = (kind, lambda _t, rows, col=col: features[col] if rows is None else features[col].iloc[rows])
    return FeatureTable(fields, len(features))
