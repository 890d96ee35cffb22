"""A build's graph as the neighbourhood walk reads it: each part loaded when a query first needs it.

The walk (:mod:`uig_core.graph.view`) touches a handful of nodes, so nothing here is a whole-graph pass at open:
user–item edges come from the build's memory-mapped pairs (user-major rows and the item-major users of each item),
user–interest edges from the memory-mapped profiles, ids and titles from the build's tables. The parts that do need
a pass (the strength scale of user–item weights, the users holding each interest) are computed once, on first use,
in bounded memory. At 2 M users / 444 k items / 16 M pairs the old eager index took 36 s and 2.2 GB before the
first neighbourhood (``bench/pages.py --workspace``).
"""

from __future__ import annotations

import threading
import weakref
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.errors import UnknownId

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["GraphIndex", "graph_index", "PROFILE_EDGE_MIN"]

PROFILE_EDGE_MIN = 0.05
"""User→interest edges below this profile share are left out (as in :func:`uig_core.graph.edges.to_hetero_data`)."""

#: Weights kept for the strength scale: exact below this many pairs, a seeded sample above (rank error ~1e-3).
_SCALE_SAMPLE = 2_000_000
#: The users-table columns the graph shows (the rest of a table of millions of users is not read for it).
_USER_COLUMNS = ("user_id", "n_events", "n_purchase", "spend", "orders")
#: Profile rows read per block when counting an interest's holders.
_PROFILE_BLOCK = 250_000


class GraphIndex:
    """Lazy adjacency of one bundle (built once per bundle by :func:`graph_index`; thread-safe)."""

    def __init__(self, bundle: Bundle) -> None:
        self._bundle = weakref.ref(bundle)  # the index is cached per bundle: no strong reference back
        self._lock = threading.Lock()
        self._holders: dict[int, np.ndarray] = {}

    @property
    def bundle(self) -> Bundle:
        """The bundle this index reads (it must still be alive)."""
        bundle = self._bundle()
        if bundle is None:  # pragma: no cover - the cache drops the index with its bundle
            raise RuntimeError("the bundle behind this graph index was released")
        return bundle

    # ------------------------------------------------------------------ ids and texts
    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``."""
        return tuple(self.bundle.interactions.shape)  # type: ignore[return-value]

    @cached_property
    def item_ids(self) -> np.ndarray:
        """Item id of each column (strings)."""
        return self.bundle.items["item_id"].astype(str).to_numpy()

    @cached_property
    def titles(self) -> np.ndarray:
        """Item title of each column (strings)."""
        return self.bundle.items["title"].astype(str).to_numpy()

    @cached_property
    def item_interest(self) -> np.ndarray:
        """Interest id of each item."""
        return np.asarray(self.bundle.items["interest_id"], dtype=np.int64)

    @cached_property
    def _brief_users(self) -> pd.DataFrame:
        from uig_core.build import layout

        path = self.bundle.path
        have = set(layout.frame_columns(path, "users"))
        return layout.read_frame(path, "users", columns=[c for c in _USER_COLUMNS if c in have])

    @property
    def users(self) -> pd.DataFrame:
        """The users table, or only the columns the graph shows (:data:`_USER_COLUMNS`) while it is not loaded."""
        bundle = self.bundle
        return bundle.users if bundle.is_loaded("users") else self._brief_users

    def user_id(self, row: int) -> str:
        """The id of the user at ``row``."""
        return str(self.users["user_id"].iat[int(row)])

    def row_of(self, kind: str, key: str) -> int:
        """Row of a user or column of an item, or -1."""
        try:
            return self.bundle.user_row(key) if kind == "user" else self.bundle.item_row(key)
        except UnknownId:
            return -1

    # ------------------------------------------------------------------ interests
    @cached_property
    def interest_ids(self) -> np.ndarray:
        """Interest id of each profile column."""
        return np.asarray(self.bundle.profile_columns, dtype=np.int64)

    @cached_property
    def col_of(self) -> dict[int, int]:
        """Interest id → profile column."""
        return {int(t): c for c, t in enumerate(self.interest_ids)}

    @cached_property
    def interests(self) -> pd.DataFrame:
        """The coarse interest table, indexed by interest id."""
        table = self.bundle.interests
        if "level" in table:
            table = table[table["level"] == "coarse"]
        return table.set_index(table["interest_id"].astype(int))

    @cached_property
    def items_of(self) -> dict[int, np.ndarray]:
        """Interest id → its item columns (ascending)."""
        order = np.argsort(self.item_interest, kind="stable")
        keys, starts = np.unique(self.item_interest[order], return_index=True)
        parts = np.split(order, starts[1:])
        return {int(t): np.sort(p) for t, p in zip(keys, parts, strict=True) if int(t) in self.col_of}

    @cached_property
    def links(self) -> tuple[dict[int, list[tuple[int, float]]], dict[tuple[int, int], float]]:
        """Interest–interest links both ways (``id -> [(other, weight)]``) and the lift of each pair."""
        edges = self.bundle.interest_edges
        ii: dict[int, list[tuple[int, float]]] = {int(t): [] for t in self.interest_ids}
        lifts = edges["lift"].astype(float) if "lift" in edges else pd.Series(np.nan, index=edges.index)
        lift: dict[tuple[int, int], float] = {}
        for s, t, w, value in zip(
            edges["source"].astype(int), edges["target"].astype(int), edges["weight"].astype(float), lifts, strict=True
        ):
            if s in ii and t in ii and s != t:
                ii[s].append((t, w))
                ii[t].append((s, w))
                lift[(min(s, t), max(s, t))] = float(value)
        return ii, lift

    @cached_property
    def holder_counts(self) -> np.ndarray:
        """Per profile column, how many users hold it with a share of at least :data:`PROFILE_EDGE_MIN` (one pass)."""
        prof = self.bundle.profiles
        counts = np.zeros(prof.shape[1], dtype=np.int64)
        for start in range(0, prof.shape[0], _PROFILE_BLOCK):
            counts += (np.asarray(prof[start : start + _PROFILE_BLOCK]) >= PROFILE_EDGE_MIN).sum(axis=0)
        return counts

    def holders(self, interest: int) -> int:
        """How many users hold the interest with a share of at least :data:`PROFILE_EDGE_MIN`."""
        return int(self.holder_counts[self.col_of[int(interest)]])

    def interest_users(self, interest: int, min_share: float = PROFILE_EDGE_MIN) -> np.ndarray:
        """Rows of the users whose profile share of ``interest`` is at least ``max(min_share, PROFILE_EDGE_MIN)``.

        The first call per interest reads the profile column in blocks; the rows at the edge minimum are kept.
        """
        c = self.col_of[int(interest)]
        with self._lock:
            rows = self._holders.get(c)
        if rows is None:
            prof = self.bundle.profiles
            found = [
                start + np.flatnonzero(np.asarray(prof[start : start + _PROFILE_BLOCK, c]) >= PROFILE_EDGE_MIN)
                for start in range(0, prof.shape[0], _PROFILE_BLOCK)
            ]
            rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
            with self._lock:
                self._holders[c] = rows
        if min_share > PROFILE_EDGE_MIN:
            rows = rows[np.asarray(self.bundle.profiles[rows, c]) >= min_share]
        return rows

    # ------------------------------------------------------------------ user–item edges
    @cached_property
    def _scale(self) -> np.ndarray:
        """Sorted user–item weights (all, or a seeded sample) for :meth:`strength`."""
        data = np.asarray(self.bundle.interactions.data)
        if len(data) > _SCALE_SAMPLE:
            data = data[np.random.default_rng(0).choice(len(data), _SCALE_SAMPLE, replace=False)]
        return np.sort(data.astype(np.float32))

    def strength(self, raw: np.ndarray) -> np.ndarray:
        """Percentile rank in [0, 1] of raw user–item weights among all of the build's."""
        scale = self._scale
        if not len(scale):
            return np.zeros(len(raw), dtype=np.float32)
        return (np.searchsorted(scale, np.asarray(raw, dtype=np.float32), side="right") / len(scale)).astype(np.float32)

    def user_items(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The user's item columns and raw weights."""
        x = self.bundle.interactions
        lo, hi = int(x.indptr[row]), int(x.indptr[row + 1])
        return np.asarray(x.indices[lo:hi], dtype=np.int64), np.asarray(x.data[lo:hi], dtype=np.float32)

    def item_users(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """The item's user rows and raw weights (each weight looked up in its user's row)."""
        indptr, indices = self.bundle.item_users
        rows = np.asarray(indices[int(indptr[col]) : int(indptr[col + 1])], dtype=np.int64)
        return rows, self.pair_values(rows, np.full(len(rows), int(col), dtype=np.int64))

    def pair_values(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Raw weights of the pairs ``(rows[k], cols[k])`` (0 where there is no edge)."""
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.bundle.interactions[rows, cols], dtype=np.float32).ravel()


_INDEXES: weakref.WeakKeyDictionary[Bundle, GraphIndex] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def graph_index(bundle: Bundle) -> GraphIndex:
    """The bundle's :class:`GraphIndex`, made on first use and kept as long as the bundle."""
    with _LOCK:
        idx = _INDEXES.get(bundle)
        if idx is None:
            idx = _INDEXES[bundle] = GraphIndex(bundle)
    return idx
