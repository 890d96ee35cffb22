"""The build's validation split: one window of the log's last tenth, or several pooled when that tenth is small.

A *window* is a tenth of the log's period (first..last event): window 1 is the last tenth
(:func:`validation_cutoff`), window 2 the tenth before it, and so on. Window ``k`` is the evaluation protocol's
:func:`~uig_core.evaluation.protocol.temporal_split` of the events *before window k-1 starts*, cut where window ``k``
starts: its model is trained on everything earlier (with recency weights measured from its own cutoff) and judged
on the new pairs inside the window, so the windows' validation pairs never overlap.

**The rule** (:func:`discover_windows`): take window 1; while the windows taken hold fewer than
:data:`MIN_POOLED_USERS` validation users (a user counted once per window) and fewer than :data:`MAX_WINDOWS` are
taken, add the next earlier window. The choice then reads each candidate's *pooled* figures
(:func:`pool_figures`): the user-weighted mean of its per-window Recall@20 and NDCG@20, i.e. the mean over every
(window, user) row, exactly what one window holding all those users would give.

Why 1,000: a candidate's mean Recall@20 over ``n`` users has a standard error of about 0.45 / √n on the logs we
measured (per-user recall is mostly 0 or 1), 0.026 at the demo's 300 validation users — wider than the gaps between
the strong candidates — and 0.014 at 1,000; Online Retail's single window (1,425 users) chose the test best.
``MAX_WINDOWS = 5`` keeps at least half the period as training data for the earliest window. The rule reads only
counts, so it is deterministic, and a log whose last tenth already holds 1,000 users (OR, the M and L shops) gets
exactly the one window it had before, at no extra cost. Each extra window refits the candidates admitted on window
1 (the same set, so the pooled figures compare like with like) with the settings window 1 found (EASE's λ,
lm_blend's text weight: what the build's full fit will use), so no λ is searched again; on the logs that need it
that costs a few CPU-seconds per window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from uig_core.errors import UIGError

if TYPE_CHECKING:
    from uig_core.config import BuildConfig
    from uig_core.evaluation.protocol import Split
    from uig_core.store.relation import EventRelation

__all__ = [
    "MIN_POOLED_USERS",
    "MAX_SCORED_USERS",
    "MAX_FIT_USERS",
    "MAX_WINDOWS",
    "WINDOW_SHARE",
    "validation_cutoff",
    "window_cutoffs",
    "discover_windows",
    "pool_figures",
    "validation_info",
]

log = logging.getLogger(__name__)

#: Validation users (one per user and window) the pooled windows aim for.
MIN_POOLED_USERS = 1_000
#: A larger validation window is judged on a seeded sample of this many users (the same for every candidate):
#: ranking all items for them costs each candidate a few CPU-seconds at the M shop (97 k items), where its
#: 27 k validation users cost a minute, and the standard error stays near 0.45 / √4000 ≈ 0.007.
MAX_SCORED_USERS = 4_000
#: A larger log's candidates are fitted on the training pairs of this many users (the judged ones among them):
#: at the M shop (500 k users) each item-item fit then costs a fifth, and every candidate sees the same users.
MAX_FIT_USERS = 100_000
#: At most this many windows (five tenths: the earliest window still trains on half the period).
MAX_WINDOWS = 5
#: The share of the log's period one window spans.
WINDOW_SHARE = 0.1
#: Row figures pooled as user-weighted means; the others are window 1's.
POOLED = ("recall@20", "ndcg@20")


def validation_cutoff(first: pd.Timestamp, last: pd.Timestamp, window: int = 1) -> pd.Timestamp:
    """The first instant of validation window ``window`` (1: the last tenth of ``first``..``last``).

    Floored to midnight when the log spans ten days or more (OR: about 37 days before its end); a shorter log
    (a week of Unix-second timestamps) keeps the exact instant.

    Args:
        first: The log's first event time.
        last: The log's last event time.
        window: 1 for the last tenth, 2 for the tenth before it, …

    Returns:
        ``last - window × (last - first) / 10``, floored as above.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    cut = last - (last - first) * (WINDOW_SHARE * window)
    return cut.normalize() if last - first >= pd.Timedelta(days=10) else cut


def window_cutoffs(first: pd.Timestamp, last: pd.Timestamp, n: int = MAX_WINDOWS) -> list[pd.Timestamp]:
    """The start of windows 1..``n``, latest first (window ``k`` ends where window ``k-1`` starts)."""
    return [validation_cutoff(first, last, k) for k in range(1, n + 1)]


def discover_windows(
    events: EventRelation, config: BuildConfig, first: pd.Timestamp, last: pd.Timestamp
) -> list[Split] | str:
    """The discover validation windows by the module's rule, or why there is none.

    Args:
        events: The dataset's events.
        config: Build settings (edge weights, half-life).
        first: The log's first event time.
        last: The log's last event time.

    Returns:
        ``list[Split]``, window 1 first (each ``protocol`` holds its ``cutoff`` and ``end``), or a ``str``: why
        window 1 could not be made (then there is no validation at all).
    """
    from uig_core.evaluation.protocol import temporal_split

    weights = dict(event_weights=config.event_weights, half_life_days=config.half_life_days)
    splits: list[Split] = []
    end: pd.Timestamp | None = None
    for k, cut in enumerate(window_cutoffs(first, last), start=1):
        if splits and sum(len(s.test_users) for s in splits) >= MIN_POOLED_USERS:
            break
        rel = events if end is None else events.filtered(f"ts < TIMESTAMP '{end.isoformat(sep=' ')}'")
        try:
            split = temporal_split(rel, cut, **weights)
        except UIGError as err:
            if not splits:
                return f"no validation split: {err}"
            log.info("validation window %d (from %s) dropped: %s", k, cut, err)
            break
        if not len(split.test_users):
            if not splits:
                return f"the validation period (from {cut}) holds no new pair"
            log.info("validation window %d (from %s) holds no new pair; %d window(s) kept", k, cut, len(splits))
            break
        split.protocol["end"] = str(last) if end is None else str(end)
        splits.append(split)
        end = cut
    if len(splits) == 1:  # a large log: every candidate is fitted and judged on the same seeded user samples
        splits[0] = (
            splits[0].with_test_sample(MAX_SCORED_USERS, config.seed).with_train_sample(MAX_FIT_USERS, config.seed)
        )
    log.info("validation: %d window(s), %s users", len(splits), "+".join(str(len(s.test_users)) for s in splits))
    return splits


def pool_figures(rows: Sequence[dict[str, Any] | None], users: Sequence[int]) -> dict[str, Any]:
    """One candidate's rows of the windows, pooled.

    Args:
        rows: The candidate's row per window (``None`` or unfitted where it was not fitted on that window).
        users: Validation users per window (the weights).

    Returns:
        Window 1's row with ``recall@20`` and ``ndcg@20`` replaced by user-weighted means over the windows where
        the candidate was fitted, ``fit_seconds`` summed, and ``windows``: its ``recall@20`` per window (None where
        not fitted). A candidate not fitted on window 1 comes back as window 1's row.

    Example:
        >>> rows = [{"status": "fitted", "recall@20": 0.5, "ndcg@20": 0.2}, {"status": "fitted", "recall@20": 0.2,
        ...         "ndcg@20": 0.1}]
        >>> pool_figures(rows, [100, 300])["recall@20"]
        0.275
    """
    first = dict(rows[0] or {})
    if first.get("status") != "fitted" or len(rows) < 2:
        return first
    ok = [(r, n) for r, n in zip(rows, users, strict=True) if r and r.get("status") == "fitted"]
    total = sum(n for _, n in ok)
    for key in POOLED:
        if all(r.get(key) is not None for r, _ in ok) and total:
            first[key] = round(sum(float(r[key]) * n for r, n in ok) / total, 4)
    if first.get("fit_seconds") is not None:
        first["fit_seconds"] = round(sum(float(r.get("fit_seconds") or 0.0) for r, _ in ok), 2)
    first["windows"] = [r.get("recall@20") if r and r.get("status") == "fitted" else None for r in rows]
    return first


def validation_info(splits: Sequence[Split]) -> dict[str, Any]:
    """The ``validation`` record: the pooled period's start, users and pairs, and ``windows`` (latest first).

    ``cutoff`` is the earliest window's start (the windows are back to back up to the log's end), ``users`` and
    ``pairs`` are summed over the windows (a user active in two windows counts twice), and ``windows`` lists
    ``{"cutoff", "end", "users", "pairs"}`` per window.
    """
    windows = [
        {
            "cutoff": str(s.protocol.get("cutoff")),
            "end": s.protocol.get("end"),
            "users": int(len(s.test_users)),
            "pairs": int(s.test.nnz),
        }
        for s in splits
    ]
    return {
        "cutoff": windows[-1]["cutoff"],
        "users": sum(w["users"] for w in windows),
        "pairs": sum(w["pairs"] for w in windows),
        "windows": windows,
    }
