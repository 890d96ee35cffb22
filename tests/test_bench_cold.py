"""The bootstrap interval of bench/cold.py's ratio line, on planted per-user recalls."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cold import bootstrap_ratio  # noqa: E402


def runs(recalls: list[list[float]], window: int = 0) -> list[dict]:
    """One run per seed; every run covers the same users 0..n-1."""
    return [{"window": window, "cold_users": list(range(len(r))), "cold_user_recalls": r} for r in recalls]


def test_exact_multiple_gives_a_point_interval() -> None:
    base = [0.1, 0.0, 0.3, 0.2, 0.5, 0.0, 0.1]
    low, high = bootstrap_ratio(runs([[2 * v for v in base]]), runs([base]))
    assert low == pytest.approx(2.0) and high == pytest.approx(2.0)


def test_seeds_are_averaged_per_user_and_noise_widens_the_interval() -> None:
    base = [0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 0.5, 1.0] * 3
    model = [[1.0 if v > 0 else 0.5 for v in base], [0.0 if v > 0 else 0.5 for v in base]]  # mean per user: 0.5
    low, high = bootstrap_ratio(runs(model), runs([base]))
    point = 0.5 / (sum(base) / len(base))
    assert low < point < high
    assert high - low > 0.1


def test_users_of_different_windows_are_not_mixed() -> None:
    a = runs([[1.0, 0.0]], window=0) + runs([[0.0, 0.0]], window=1)
    b = runs([[0.5, 0.0]], window=0) + runs([[0.0, 0.0]], window=1)
    low, high = bootstrap_ratio(a, b, draws=500)
    assert low == pytest.approx(2.0) and high == pytest.approx(2.0)
