"""Logging: one switch for the whole engine, and step timings that go to the log.

Every core module logs through ``logging.getLogger(__name__)``; nothing is shown unless asked. ``uig --verbose``
(or ``UIG_LOG=info``/``debug`` in the environment, which also reaches the dashboard) turns it on, on stderr.

Example:
    >>> timer = StepTimer()
    >>> with timer("load"):
    ...     pass
    >>> list(timer.timings)
    ['load']
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["configure", "StepTimer"]

log = logging.getLogger(__name__)
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_HANDLER_NAME = "uig-stderr"


def configure(verbose: int = 0) -> int:
    """Show the engine's log on stderr: ``verbose`` 1 for step timings (INFO), 2 for detail (DEBUG).

    ``UIG_LOG`` (``debug``, ``info``, ``warning``, ``error``) applies when ``verbose`` is 0. Calling it again
    changes the level without adding a second handler.

    Returns:
        The level set on the ``uig_core`` logger (``logging.WARNING`` when nothing was asked).
    """
    env = os.environ.get("UIG_LOG", "").strip().lower()
    if verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    else:
        level = _LEVELS.get(env, logging.WARNING)
    root = logging.getLogger("uig_core")
    root.setLevel(level)
    if level < logging.WARNING and not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S"))
        root.addHandler(handler)
    return level


class StepTimer:
    """Wall time of named steps, kept in :attr:`timings` (seconds) and logged at INFO as each step ends."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._log = logger or log

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as step ``name`` (a repeated name adds up)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - start
            self.timings[name] = round(self.timings.get(name, 0.0) + took, 3)
            self._log.info("step %s: %.2f s", name, took)
