"""Dating a change of interests inside its bracket, by empirical Bayes over every user's bracket.

The data only bracket a change: between the day after the last active day of the old mix and the first active
day of the new one, and a quiet user's bracket can span weeks. Changes tend to share causes (seasons,
campaigns), so a population distribution of change days is estimated from all brackets (Turnbull's EM for
interval-censored data, brackets weighted by drift score) and each bracket is dated by that distribution's
median inside it. A narrow bracket is barely moved. Used by :func:`uig_core.signals.drift.drift_scores`.

Example:
    >>> import numpy as np
    >>> change_days(np.array([10, 0, 12]), np.array([12, 30, 12]), np.ones(3), date_prior=True).tolist()
    [12, 12, 12]
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["change_days", "bracket_medians"]

log = logging.getLogger(__name__)


def change_days(lo: np.ndarray, hi: np.ndarray, weight: np.ndarray, date_prior: bool) -> np.ndarray:
    """The change day inside each bracket ``[lo, hi]``: the population prior's median, or the bracket's middle."""
    if date_prior:
        return bracket_medians(lo, hi, weight)
    return (lo + hi) // 2


def bracket_medians(lo: np.ndarray, hi: np.ndarray, weight: np.ndarray, *, n_iter: int = 200) -> np.ndarray:
    """Posterior-median change day of each bracket ``[lo, hi]`` (int days) under a shared population prior.

    The prior is the Turnbull (EM) estimate of the distribution of change days from all brackets, each
    weighted by its drift score, mixed with 1 % of a uniform so no bracket has zero mass.
    """
    base = int(lo.min())
    lo_i = (lo - base).astype(np.int64)
    hi_i = (hi - base).astype(np.int64)
    span = int(hi_i.max()) + 1
    w = np.maximum(np.asarray(weight, dtype=np.float64), 0.0)
    if span <= 1 or w.sum() <= 0:
        return (lo + hi) // 2
    w = w / w.sum()
    g = np.full(span, 1.0 / span)
    for _ in range(n_iter):
        cum = np.r_[0.0, np.cumsum(g)]
        mass = np.maximum(cum[hi_i + 1] - cum[lo_i], 1e-300)
        diff = np.zeros(span + 1)
        np.add.at(diff, lo_i, w / mass)
        np.add.at(diff, hi_i + 1, -w / mass)
        new = g * np.cumsum(diff)[:span]
        new = 0.99 * new / new.sum() + 0.01 / span
        if np.abs(new - g).max() < 1e-9:
            g = new
            break
        g = new
    cum = np.r_[0.0, np.cumsum(g)]
    target = cum[lo_i] + 0.5 * (cum[hi_i + 1] - cum[lo_i])
    day = np.searchsorted(cum, target, side="left") - 1  # first day whose cumulative mass reaches the target
    return np.clip(day, lo_i, hi_i) + base
