"""A small thread-safe memo of the newest results, shared by the queries the pages repeat (Home, trends, portraits).

Example:
    >>> memo = BoundedMemo(2)
    >>> memo.get_or_compute("a", lambda: 1), memo.get_or_compute("a", lambda: 2)
    (1, 1)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["BoundedMemo"]

T = TypeVar("T")


class BoundedMemo(Generic[T]):
    """Keeps the ``size`` most recently used results by key; ``compute`` runs outside the lock.

    Two callers missing the same key at once both compute it (the last one's result is kept): results are pure
    functions of their key, so this costs time, never correctness.
    """

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result kept under ``key``, else ``compute()`` kept and returned (the oldest dropped beyond size)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
