"""Parameter constraints checked at ``fit`` time, with scikit-learn style messages.

Example message: ``The 'l2' parameter of EASE must be a float in the range (0, inf) or None. Got -1 instead.``
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from uig_core.errors import ConfigError

__all__ = ["Interval", "Options", "Boolean", "FloatList", "Constraint", "check_param", "check_k"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interval:
    """A real or integer interval; ``None`` bounds are infinite."""

    kind: type  # int or float
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"
    allow_none: bool = False

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.allow_none
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if self.kind is float and not isinstance(value, numbers.Real):
            return False
        lo_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        hi_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return bool(lo_ok and hi_ok)

    def describe(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        lo = "-inf" if self.low is None else _num(self.low)
        hi = "inf" if self.high is None else _num(self.high)
        noun = "an int" if self.kind is int else "a float"
        return f"{noun} in the range {left}{lo}, {hi}{right}" + (" or None" if self.allow_none else "")


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def ok(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    def describe(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


@dataclass(frozen=True)
class Boolean:
    """A bool."""

    def ok(self, value: Any) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "an instance of 'bool'"


@dataclass(frozen=True)
class FloatList:
    """A non-empty sequence of positive floats (e.g. a regularisation grid)."""

    def ok(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            return False
        vals = list(value)
        return bool(vals) and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0 for v in vals)

    def describe(self) -> str:
        return "a non-empty list of floats > 0"


#: Any one parameter constraint (the values of a model's ``_constraints``).
Constraint = Interval | Options | Boolean | FloatList


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def check_param(owner: str, name: str, value: Any, spec: Constraint) -> None:
    """Raise :class:`ConfigError` when ``value`` violates ``spec``."""
    if not spec.ok(value):
        raise ConfigError(f"The {name!r} parameter of {owner} must be {spec.describe()}. Got {value!r} instead.")


def check_k(k: Any, owner: str = "recommend") -> int:
    """Validate a top-k argument."""
    check_param(owner, "k", k, Interval(int, 1, None))
    return int(k)
