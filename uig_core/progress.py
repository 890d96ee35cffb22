"""Progress callbacks: one signature everywhere, ``progress(fraction, message)``, plus helpers to nest them."""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["Progress", "noop", "scaled", "TerminalBar"]

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

        self._bar = tqdm(total=1000, desc=desc, file=sys.stderr, disable=not enabled, leave=False,
                         bar_format="{desc} {percentage:3.0f}%|{bar:30}| {elapsed} {postfix}")
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
