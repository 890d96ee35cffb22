"""Progress callbacks: one signature everywhere, ``progress(fraction, message)``, plus helpers to nest them."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

__all__ = ["Progress", "noop", "scaled", "TerminalBar", "StepTracker"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


def noop(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


def scaled(progress: Progress | None, start: float, end: float, prefix: str = "") -> Progress:
    """Map a step's own 0..1 progress onto ``start..end`` of an outer callback."""
    outer = progress or noop

    def inner(fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        outer(start + (end - start) * f, f"{prefix}{message}" if prefix else message)

    return inner


class TerminalBar:
    """A tqdm progress bar on stderr driven by ``progress(fraction, message)`` calls."""

    def __init__(self, desc: str = "", *, enabled: bool = True) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=1000,
            desc=desc,
            file=sys.stderr,
            disable=not enabled,
            leave=False,
            bar_format="{desc} {percentage:3.0f}%|{bar:30}| {elapsed} {postfix}",
        )
        self._last = 0

    def __call__(self, fraction: float, message: str) -> None:
        """Move the bar to ``fraction`` (it never moves back) and show ``message``."""
        pos = int(min(max(fraction, 0.0), 1.0) * 1000)
        if pos > self._last:
            self._bar.update(pos - self._last)
            self._last = pos
        self._bar.set_postfix_str(message[:60], refresh=True)

    def close(self) -> None:
        """Remove the bar from the terminal."""
        self._bar.close()

    def __enter__(self) -> TerminalBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StepTracker:
    """Turn ``progress(fraction, message)`` calls into finished steps with wall times.

    The step is the message up to its first ``:`` ("training lightgcn: epoch 3" → "training lightgcn"); a report
    at fraction 1.0 closes the last step.
    Pass an ``on_update(tracker)`` callable to redraw a progress display on every call.
    """

    def __init__(self, on_update: Callable[[StepTracker], None] | None = None) -> None:
        self.fraction = 0.0
        self.message = ""
        self.current: str | None = None
        self.done: list[tuple[str, float]] = []
        self._on_update = on_update
        self._t0 = time.perf_counter()

    def __call__(self, fraction: float, message: str) -> None:
        """Record one progress report."""
        step = str(message).split(":", 1)[0].strip() or "working"
        now = time.perf_counter()
        if step != self.current:
            if self.current is not None:
                self.done.append((self.current, round(now - self._t0, 2)))
            # A report at 100 % is the closing notice ("build complete"), not a step of its own.
            self.current, self._t0 = (None if fraction >= 1.0 else step), now
        self.fraction = min(max(float(fraction), self.fraction), 1.0)
        self.message = str(message)
        if self._on_update is not None:
            self._on_update(self)

    def finish(self) -> None:
        """Close the running step."""
        if self.current is not None:
            self.done.append((self.current, round(time.perf_counter() - self._t0, 2)))
            self.current = None
        self.fraction = 1.0
