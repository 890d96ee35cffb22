"""The parts of a finished build, each loaded on first use: tables, memory-mapped arrays, the pair matrices.

:class:`BuildParts` holds what a build folder stores, read through :mod:`uig_core.build.layout` the first time an
attribute is asked for (:class:`lazy`: once per instance even when threads ask together). The large arrays are
memory-mapped, so a query pays for the pages it reads. :class:`~uig_core.build.bundle.Bundle` adds the models and
the queries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.build import layout

if TYPE_CHECKING:
    from uig_core.graph.user_links import UserLinks

__all__ = ["BuildParts", "lazy"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class lazy(Generic[T]):  # noqa: N801 - used as a decorator, like functools.cached_property
    """``functools.cached_property`` that computes once per instance even when several threads ask at once.

    Python 3.12 dropped ``cached_property``'s lock; a bundle is shared by the dashboard's threads and its loads
    are costly, so each attribute gets its own lock (two different attributes may load side by side).
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> T: ...

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        cache = obj.__dict__
        if self.name not in cache:  # after the first load the instance attribute shadows this descriptor
            with obj._lock_for(self.name):
                if self.name not in cache:
                    cache[self.name] = self.func(obj)
        return cache[self.name]


class BuildParts:
    """What one build folder stores, each part loaded on first use.

    Attributes:
        path: The build folder.
        meta: The build summary (read at once: it is small).
        items: One row per item (``item_id, title, category, price, interest_id, ...``); row = model column.
        users: One row per user (activity, spend, drift, anomaly); row = model row.
        interests: Interest table (``interest_id, name, size, top_items, level, parent``).
        interest_edges: Interest co-occurrence edges (``source, target, weight``).
        embeddings: ``(n_items, dim)`` item embeddings (memory-mapped).
        profiles: ``(n_users, n_interests)`` interest profiles (memory-mapped).
        interactions: ``(n_users, n_items)`` CSR training matrix (over memory-mapped arrays).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = layout.read_meta(self.path)
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._memo: dict[Any, Any] = {}

    def _lock_for(self, name: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(name, threading.Lock())

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per bundle and ``key`` however many threads ask.

        For what queries derive from a build and reuse (a user order, sorted columns); dropped with the bundle.
        """
        if key not in self._memo:
            with self._lock_for(f"memo:{key!r}"):
                if key not in self._memo:
                    self._memo[key] = compute()
        return self._memo[key]

    def is_loaded(self, name: str) -> bool:
        """Whether the lazy attribute ``name`` has been loaded already (for tests and timings)."""
        return name in self.__dict__

    @property
    def build_id(self) -> str:
        """Id of this build."""
        return str(self.meta["build_id"])

    @property
    def model_names(self) -> list[str]:
        """Models trained in this build, default first."""
        return list(self.meta["models"])

    # ------------------------------------------------------------------ lazy parts
    @lazy
    def items(self) -> pd.DataFrame:
        """One row per item; row = model column."""
        return layout.read_frame(self.path, "items")

    @lazy
    def users(self) -> pd.DataFrame:
        """One row per user; row = model row."""
        return layout.read_frame(self.path, "users")

    @lazy
    def interests(self) -> pd.DataFrame:
        """The interest table."""
        return layout.read_frame(self.path, "interests")

    @lazy
    def interest_edges(self) -> pd.DataFrame:
        """Interest co-occurrence edges."""
        return layout.read_frame(self.path, "interest_edges")

    @lazy
    def arrays(self) -> dict[str, np.ndarray]:
        """``embeddings``, ``centroids``, ``profiles``, ``profile_columns`` (large ones memory-mapped)."""
        return layout.read_arrays(self.path)

    @lazy
    def embeddings(self) -> np.ndarray:
        """``(n_items, dim)`` item embeddings."""
        return self.arrays["embeddings"]

    @lazy
    def profiles(self) -> np.ndarray:
        """``(n_users, n_interests)`` interest shares."""
        return self.arrays["profiles"]

    @lazy
    def profile_columns(self) -> np.ndarray:
        """Interest id of each profile column."""
        return self.arrays["profile_columns"]

    @lazy
    def interactions(self) -> sp.csr_matrix:
        """The weighted ``(n_users, n_items)`` training matrix."""
        return layout.read_interactions(self.path)

    @lazy
    def strongest(self) -> sp.csr_matrix | None:
        """Each pair's strongest event code (None for builds that did not keep them)."""
        return layout.read_strongest(self.path)

    @lazy
    def user_links(self) -> UserLinks | None:
        """Each user's similar users as the build stored them (the user–user edges), or None for older builds."""
        from uig_core.graph.user_links import UserLinks

        stored = layout.read_user_links(self.path)
        return None if stored is None else UserLinks(**stored)

    @lazy
    def item_users(self) -> tuple[np.ndarray, np.ndarray]:
        """The training pairs item-major, ``(indptr, indices)``.

        The users of item ``j`` are ``indices[indptr[j]:indptr[j + 1]]`` (stored by format 2 builds, derived
        once for older ones).
        """
        stored = layout.read_item_users(self.path)
        if stored is not None:
            return stored
        csc = self.interactions.tocsc()
        csc.sort_indices()
        return csc.indptr, csc.indices

    @lazy
    def item_index(self) -> pd.Index:
        """Item id → column."""
        return pd.Index(self.items["item_id"].astype(str))

    @lazy
    def user_index(self) -> pd.Index:
        """User id → row (read from the users table's id column alone when the table is not loaded)."""
        if self.is_loaded("users"):
            ids = self.users["user_id"]
        else:
            ids = layout.read_frame(self.path, "users", columns=["user_id"])["user_id"]
        return pd.Index(ids.astype(str))

    @lazy
    def interest_names(self) -> dict[int, str]:
        """Interest id → name."""
        return dict(zip(self.interests["interest_id"].astype(int), self.interests["name"].astype(str), strict=True))
