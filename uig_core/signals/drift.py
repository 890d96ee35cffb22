"""Interest drift: how a user's interest mix moves over time, a drift score and the date of change.

Method (see :func:`drift_scores`): a user's events are grouped by active day. Every boundary between two active
days is a candidate change point; at each one the interest distribution *before* and *after* is compared by the
Jensen–Shannon divergence (base 2, so it lies in [0, 1]). Both sides are smoothed toward the user's overall mix
with a prior worth ``prior_days`` active days, so a split with little evidence on a side cannot look like a strong
change. The drift score is the largest smoothed divergence over the candidate splits (each side must hold at
least ``min_events`` events on ``min_days`` active days).

Dating the change: the data only bracket it, between the day after the last active day of the old mix and the
first active day of the new one; :mod:`uig_core.signals.dating` picks the day inside the bracket by a population
prior estimated from every user's bracket. The bracket itself is returned too. Everything is vectorised over
all users at once.

A change is claimed only where it is significant: ``change_date`` and its bracket are present exactly when
``drift_score >=`` :data:`DRIFT_THRESHOLD` (0.3 bits). Below it the strongest split is mostly the noise of
choosing the best of many splits: on the demo (planted themes or found interests) every planted drifter scores
at least 0.397 while 1.1 % of the other users reach 0.3. Every bracket still shapes the population prior
(restricted to the dated ones, 88 % of the demo's planted changes were dated within a week instead of 92 %).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.schema import EVENT_WEIGHTS
from uig_core.signals.dating import change_days
from uig_core.store.relation import EventRelation, weight_case

__all__ = ["drift_scores", "js_divergence", "DRIFT_THRESHOLD"]

log = logging.getLogger(__name__)

#: The drift score (JS divergence, bits) at and above which a change of interests is claimed and dated.
DRIFT_THRESHOLD = 0.3


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise Jensen–Shannon divergence in bits of two ``(n, k)`` arrays of distributions; ``(n,)`` in [0, 1]."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log2(p / m), 0.0)
        b = np.where(q > 0, q * np.log2(q / m), 0.0)
    return np.clip(0.5 * (a.sum(axis=-1) + b.sum(axis=-1)), 0.0, 1.0)


def _user_days(
    events: pd.DataFrame | EventRelation,
    item_interest: pd.Series | Mapping[Any, int],
    event_weights: Mapping[str, float] | None,
    min_events: int,
    min_days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aggregate weighted events to (user, day) rows sorted by user then day, in DuckDB.

    Returns:
        ``(users, n_days, row_user, row_day, weights (rows, k), counts (rows,))``: every user with a weighted
        event and their active days; then rows only for users with at least ``2 * min_days`` active days and
        ``2 * min_events`` events (no one else can have a split), ``row_user`` indexing ``users`` and
        ``row_day`` in days since 1970-01-01; weight columns are the interests present, in id order.
    """
    rel = events if isinstance(events, EventRelation) else EventRelation.of_frame(events)
    weights = dict(EVENT_WEIGHTS if event_weights is None else event_weights)
    s = item_interest if isinstance(item_interest, pd.Series) else pd.Series(dict(item_interest))
    labels = pd.DataFrame({"item_id": pd.array(s.index.astype(str), dtype="string")})
    labels["interest_id"] = pd.to_numeric(pd.Series(s.to_numpy()), errors="coerce").fillna(-1).astype(np.int64)
    labels = labels.drop_duplicates("item_id")
    w = weight_case(weights, "e.event")
    with rel.query() as (con, table):
        con.register("drift_labels", labels)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE drift_days AS "
            f"SELECT e.user_id, (CAST(e.ts AS DATE) - DATE '1970-01-01')::BIGINT AS day, l.interest_id, "
            f"sum({w}) AS w, count(*) AS n FROM {table} e JOIN drift_labels l ON l.item_id = e.item_id "
            f"WHERE e.ts IS NOT NULL AND l.interest_id >= 0 AND {w} > 0 GROUP BY ALL"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE drift_users AS SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 "
            "AS u, count(DISTINCT day) AS n_days, sum(n) AS n FROM drift_days GROUP BY user_id"
        )
        per_user = con.execute("SELECT user_id, n_days FROM drift_users ORDER BY u").fetchnumpy()
        # only users with room for a split on both sides can drift; the rest need no user-day rows at all
        rows = con.execute(
            "SELECT u.u, d.day, d.interest_id, d.w, d.n FROM drift_days d JOIN drift_users u USING (user_id) "
            "WHERE u.n_days >= ? AND u.n >= ?",
            [2 * min_days, 2 * min_events],
        ).fetchnumpy()
        con.execute("DROP TABLE drift_days")
        con.execute("DROP TABLE drift_users")
        con.unregister("drift_labels")
    users = np.asarray(per_user["user_id"], dtype=object)
    n_days = np.asarray(per_user["n_days"], dtype=np.int64)
    if len(rows["u"]) == 0:
        return users, n_days, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros(0)
    uidx, day = np.asarray(rows["u"], dtype=np.int64), np.asarray(rows["day"], dtype=np.int64)
    interest_ids, cidx = np.unique(np.asarray(rows["interest_id"], dtype=np.int64), return_inverse=True)
    k = len(interest_ids)
    day0 = day.min()
    span = int(day.max() - day0) + 1
    key = uidx * span + (day - day0)
    keys, ridx = np.unique(key, return_inverse=True)  # sorted: by user, then day
    wts = np.asarray(rows["w"], dtype=np.float64)
    weights_out = np.bincount(ridx * k + cidx, weights=wts, minlength=len(keys) * k).reshape(len(keys), k)
    counts = np.bincount(ridx, weights=np.asarray(rows["n"], dtype=np.float64), minlength=len(keys))
    return users, n_days, keys // span, keys % span + day0, weights_out, counts


def drift_scores(
    events: pd.DataFrame | EventRelation,
    item_interest: pd.Series | Mapping[Any, int],
    *,
    event_weights: Mapping[str, float] | None = None,
    min_events: int = 5,
    min_days: int = 2,
    prior_days: float = 2.0,
    date_prior: bool = True,
    threshold: float = DRIFT_THRESHOLD,
) -> pd.DataFrame:
    """Per-user drift score and change date (method in the module docstring).

    Args:
        events: Canonical events (``user_id, item_id, ts``; ``event`` weights the mix when present), as a frame
            or a stored dataset's relation.
        item_interest: ``item_id -> interest_id``; events of items without an interest are left out.
        event_weights: ``{event: weight}`` (default ``schema.EVENT_WEIGHTS``; returns are left out).
        min_events: Fewest events on each side of a candidate split.
        min_days: Fewest active days on each side of a candidate split.
        prior_days: Strength, in active days, of the smoothing toward the user's overall mix (a day is the unit
            of evidence: one big basket is one observation of a user's taste, not fifty).
        date_prior: Date the change by the population prior (module docstring); False takes the middle of
            the user's own bracket.
        threshold: Drift score at and above which the change is dated (default :data:`DRIFT_THRESHOLD`).

    Returns:
        DataFrame with one row per user who has at least one weighted event: ``user_id`` (str),
        ``drift_score`` (float in [0, 1]; 0 where no split qualifies), ``change_date`` (datetime64, present
        exactly when ``drift_score >= threshold``, else NaT), ``change_earliest`` / ``change_latest`` (the
        bracket of days the change can lie in: the day after the last active day of the old mix, and the first
        active day of the new one; NaT with the date),
        ``n_days`` (active days), sorted by ``drift_score`` descending.
    """
    _check_drift_args(min_events, min_days, prior_days, threshold)
    start = time.perf_counter()
    users, n_days, ru, rd, wts, cnt = _user_days(events, item_interest, event_weights, min_events, min_days)
    n_users = len(users)
    score = np.zeros(n_users)
    change = np.full(n_users, np.datetime64("NaT"), dtype="datetime64[D]")
    earliest = change.copy()
    latest = change.copy()
    best, best_js = _best_splits(ru, wts, cnt, min_events, min_days, prior_days)
    n_splits = len(best)
    if n_splits:
        bu = ru[best]
        score[bu] = best_js
        lo, hi = rd[best] + 1, rd[best + 1]  # the change fell on a day in [lo, hi]
        # every bracket shapes the prior (weighted by its score); only a significant change gets a date
        days = change_days(lo, hi, best_js, date_prior)
        sig = best_js >= threshold
        earliest[bu[sig]] = lo[sig].astype("datetime64[D]")
        latest[bu[sig]] = hi[sig].astype("datetime64[D]")
        change[bu[sig]] = days[sig].astype("datetime64[D]")
    took = time.perf_counter() - start
    log.debug("drift_scores: %d users, %d user-days, %d splits scored in %.2f s", n_users, len(ru), n_splits, took)
    return _drift_frame(users, score, change, earliest, latest, n_days)


_BLOCK_ROWS = 200_000  # user-days per block: bounds the (rows, k) side arrays


def _best_splits(
    ru: np.ndarray, wts: np.ndarray, cnt: np.ndarray, min_events: int, min_days: int, prior_days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each drifting user's strongest split row and its divergence, in blocks of whole users."""
    if not len(ru):
        return np.zeros(0, np.int64), np.zeros(0)
    firsts = np.r_[0, np.flatnonzero(np.diff(ru)) + 1, len(ru)]  # row where each user starts (and the end)
    cuts = np.unique(firsts[np.searchsorted(firsts, np.arange(0, len(ru), _BLOCK_ROWS))].tolist() + [len(ru)])
    rows, divergences = [], []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        local = ru[a:b] - ru[a]
        sides = _split_sides(local, wts[a:b], cnt[a:b], int(local[-1]) + 1)
        idx = _candidate_splits(sides, min_events, min_days)
        if len(idx):
            js = _split_divergence(sides, idx, prior_days)
            best, best_js = _best_split_per_user(local, idx, js)
            rows.append(best + a)
            divergences.append(best_js)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(divergences)


def _check_drift_args(min_events: int, min_days: int, prior_days: float, threshold: float) -> None:
    """Refuse out-of-range parameters of :func:`drift_scores` before any work is done."""
    if min_events < 1:
        raise ConfigError(f"The 'min_events' of drift_scores must be an int >= 1. Got {min_events!r} instead.")
    if min_days < 1:
        raise ConfigError(f"The 'min_days' of drift_scores must be an int >= 1. Got {min_days!r} instead.")
    if prior_days < 0:
        raise ConfigError(f"The 'prior_days' of drift_scores must be >= 0. Got {prior_days!r} instead.")
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"The 'threshold' of drift_scores must be in (0, 1]. Got {threshold!r} instead.")


@dataclass(frozen=True)
class _Sides:
    """The evidence on both sides of every candidate split; row ``r`` is the split right after user-day ``r``.

    Attributes:
        left_w / right_w / total_w: ``(rows, k)`` interest weights up to and including the day, after it, and
            over the user's whole history.
        left_c / right_c: ``(rows,)`` events on each side.
        left_d / right_d: ``(rows,)`` active days on each side.
        last: ``(rows,)`` index of the user's last row (a split after it has no right side).
    """

    left_w: np.ndarray
    right_w: np.ndarray
    total_w: np.ndarray
    left_c: np.ndarray
    right_c: np.ndarray
    left_d: np.ndarray
    right_d: np.ndarray
    last: np.ndarray


def _split_sides(ru: np.ndarray, wts: np.ndarray, cnt: np.ndarray, n_users: int) -> _Sides:
    """Both sides of every split at once, from prefix sums within each user (no per-user loop)."""
    # prefix sums within each user: global cumsum minus the user's offset
    cw = np.cumsum(wts, axis=0)
    cc = np.cumsum(cnt)
    first = np.r_[0, np.flatnonzero(np.diff(ru)) + 1]  # first row of each user present
    last = np.r_[first[1:], len(ru)] - 1
    start_of = np.zeros(n_users, dtype=np.int64)
    end_of = np.zeros(n_users, dtype=np.int64)
    start_of[ru[first]] = first
    end_of[ru[first]] = last
    s, e = start_of[ru], end_of[ru]
    base_w = np.where((s > 0)[:, None], cw[np.maximum(s - 1, 0)], 0.0)
    base_c = np.where(s > 0, cc[np.maximum(s - 1, 0)], 0.0)
    left_w = cw - base_w
    left_c = cc - base_c
    tot_w = cw[e] - base_w
    tot_c = cc[e] - base_c
    rows_idx = np.arange(len(ru))
    return _Sides(
        left_w=left_w,
        right_w=tot_w - left_w,
        total_w=tot_w,
        left_c=left_c,
        right_c=tot_c - left_c,
        left_d=(rows_idx - s + 1).astype(np.float64),  # active days up to and including this one
        right_d=(e - rows_idx).astype(np.float64),
        last=e,
    )


def _candidate_splits(sides: _Sides, min_events: int, min_days: int) -> np.ndarray:
    """Rows whose split leaves enough events and active days on both sides to be judged."""
    rows_idx = np.arange(len(sides.last))
    valid = (rows_idx < sides.last) & (sides.left_c >= min_events) & (sides.right_c >= min_events)
    valid &= (sides.left_d >= min_days) & (sides.right_d >= min_days)
    return np.flatnonzero(valid)


def _split_divergence(sides: _Sides, idx: np.ndarray, prior_days: float) -> np.ndarray:
    """Jensen–Shannon divergence of the two sides of each split in ``idx``, both smoothed toward the user's mix."""
    pool = sides.total_w[idx] / np.maximum(sides.total_w[idx].sum(axis=1, keepdims=True), 1e-300)

    def smooth(side_w: np.ndarray, side_d: np.ndarray) -> np.ndarray:
        dist = side_w / np.maximum(side_w.sum(axis=1, keepdims=True), 1e-300)
        n = side_d[:, None]
        return (n * dist + prior_days * pool) / (n + prior_days)

    left = smooth(sides.left_w[idx], sides.left_d[idx])
    right = smooth(sides.right_w[idx], sides.right_d[idx])
    return js_divergence(left, right)


def _best_split_per_user(ru: np.ndarray, idx: np.ndarray, js: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row and divergence of each user's strongest split (ties: the earliest split)."""
    # sort by (user, -js) and keep each user's first row
    order = np.lexsort((-js, ru[idx]))
    u_sorted = ru[idx][order]
    keep = np.r_[True, u_sorted[1:] != u_sorted[:-1]]
    return idx[order[keep]], js[order[keep]]


def _drift_frame(
    users: np.ndarray,
    score: np.ndarray,
    change: np.ndarray,
    earliest: np.ndarray,
    latest: np.ndarray,
    n_days: np.ndarray,
) -> pd.DataFrame:
    """The result frame of :func:`drift_scores`, strongest drift first (ties by user id, for determinism)."""
    out = pd.DataFrame(
        {
            "user_id": pd.array(users, dtype="string"),
            "drift_score": score,
            "change_date": change.astype("datetime64[s]"),
            "change_earliest": earliest.astype("datetime64[s]"),
            "change_latest": latest.astype("datetime64[s]"),
            "n_days": n_days.astype(np.int64),
        }
    )
    return out.sort_values(["drift_score", "user_id"], ascending=[False, True], ignore_index=True)
