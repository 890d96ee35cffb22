"""The build's worker threads, in one place: what runs beside the main thread, and the thread settings it needs.

A build's main thread embeds, finds interests and trains the default model (reporting progress: Streamlit's bar
needs the script thread). Beside it, workers build what needs no embeddings (the interaction matrices, anomaly
scores), train the baselines and, for an update, score the previous build on the new batch. A full build uses one
worker: its long solves run while the worker is idle. An update only fine-tunes briefly, so it uses two, and every
model that reads no item text starts on a worker as soon as the graph is ready.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Scheduler:
    """Worker threads for one build; use as a context manager, then :meth:`submit` jobs.

    Args:
        update: An incremental update: two workers and the update's thread settings (:func:`_update_threads`);
            otherwise one worker and the process defaults.
    """

    def __init__(self, *, update: bool) -> None:
        self.update = update
        self._stack = contextlib.ExitStack()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Scheduler:
        if self.update:
            self._stack.enter_context(_update_threads())
        self._pool = self._stack.enter_context(ThreadPoolExecutor(max_workers=2 if self.update else 1))
        log.debug("scheduler: %d worker(s)", 2 if self.update else 1)
        return self

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker."""
        if self._pool is None:
            raise RuntimeError("Scheduler.submit called outside its `with` block")
        return self._pool.submit(fn, *args)

    def __exit__(self, *exc: object) -> None:
        self._pool = None
        self._stack.close()


@contextlib.contextmanager
def _update_threads() -> Iterator[None]:
    """Thread settings for an update's three busy threads on 2 cores (restored on exit; both are process-wide).

    * BLAS held to one thread per caller: OpenBLAS's spinning helper threads otherwise compete with the
      workers for the cores.
    * A 0.5 ms GIL switch interval instead of 5 ms: the embedding thread issues hundreds of short numpy calls,
      each of which waited up to a full interval for the GIL while a worker ran pandas code.

    (Both measured on the OR update; figures in docs/ARCHITECTURE.md.)
    """
    import scipy.linalg  # noqa: F401 - SciPy bundles its own OpenBLAS: load it so that the limit covers it
    from threadpoolctl import threadpool_limits

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        sys.setswitchinterval(interval)
