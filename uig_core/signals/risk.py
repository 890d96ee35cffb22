"""Anomaly (bot) scores from behaviour alone.

Each user gets five behaviour features, each oriented so that larger is more suspicious:

==========================  =========================================================================
``peak_hour_events``        most events in any one clock hour (floods)
``events_per_active_hour``  events / distinct clock hours with activity (sustained rate)
``views_per_conversion``    views / (1 + carts + purchases) (look-to-book: view-only floods)
``rapid_share``             share of the user's consecutive events less than ``rapid_seconds`` apart
``max_item_events``         most events on a single item (refresh/scrape loops)
==========================  =========================================================================

Every feature is compared with the population by a one-sided **robust z-score**,
``z = (log1p(x) - median) / (1.4826 * MAD)`` (shares are not logged; where the MAD is 0 the mean absolute
deviation stands in, and the scale is at least 0.1 in log units or 5 points for a share), clipped at 0.
A user's ``anomaly_z`` is the root mean square of their two largest z-scores, so one odd habit alone scores
lower than two that agree, and ``anomaly_score = anomaly_z / (anomaly_z + 3)`` in [0, 1): 0 for a typical user,
0.5 when the two strongest signals sit 3 robust SDs above the median, → 1 for floods. ``anomaly_reason`` names
the strongest signal in words when its z is at least 3, else it is ``""``.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.store.relation import EventRelation

__all__ = ["anomaly_scores", "FEATURES"]

log = logging.getLogger(__name__)

#: Behaviour features, in the order of the module docstring.
FEATURES: tuple[str, ...] = (
    "peak_hour_events",
    "events_per_active_hour",
    "views_per_conversion",
    "rapid_share",
    "max_item_events",
)
_LOGGED = {"peak_hour_events", "events_per_active_hour", "views_per_conversion", "max_item_events"}


def _robust_z(x: np.ndarray, logged: bool) -> np.ndarray:
    """One-sided robust z-score of a feature against the population (module docstring), clipped at 0."""
    v = np.log1p(x) if logged else x
    med = float(np.median(v))
    dev = np.abs(v - med)
    scale = 1.4826 * float(np.median(dev))
    if scale <= 1e-12:
        scale = 1.2533 * float(dev.mean())
    # A floor on the scale: differences below ~10 % (log features) or 5 points (shares) mean nothing.
    scale = max(scale, 0.1 if logged else 0.05)
    return np.clip((v - med) / scale, 0.0, None)


def _describe(feature: str, value: float, median: float) -> str:
    """A feature's value in words, next to the typical user's, for ``anomaly_reason``."""
    if feature == "peak_hour_events":
        return f"{value:,.0f} events in one hour (typical user: {median:,.0f})"
    if feature == "events_per_active_hour":
        return f"{value:,.1f} events per active hour (typical: {median:,.1f})"
    if feature == "views_per_conversion":
        return f"{value:,.0f} views per cart or purchase (typical: {median:,.1f})"
    if feature == "rapid_share":
        return f"{value:.0%} of events seconds apart (typical: {median:.0%})"
    return f"one item hit {value:,.0f} times (typical: {median:,.0f})"


def anomaly_scores(events: pd.DataFrame | EventRelation, *, rapid_seconds: float = 10.0) -> pd.DataFrame:
    """Per-user anomaly (bot) score from behaviour (method in the module docstring).

    Args:
        events: Canonical events: ``user_id, item_id``; ``event`` and ``ts`` are used when present (without
            ``ts`` the time features are 0 for everyone, without ``event`` every row counts as a view).
        rapid_seconds: Gap under which two consecutive events count as rapid.

    Returns:
        DataFrame with one row per user: ``user_id`` (str), ``anomaly_score`` (float in [0, 1)),
        ``anomaly_z`` (float >= 0), ``anomaly_reason`` (str, ``""`` when nothing stands out), ``n_events``
        and the five features, sorted by ``anomaly_score`` descending.
    """
    if rapid_seconds <= 0:
        raise ConfigError(f"The 'rapid_seconds' of anomaly_scores must be > 0. Got {rapid_seconds!r} instead.")
    start = time.perf_counter()
    users, n_events, feats = _features(events, rapid_seconds)
    n_users = len(users)
    if n_users == 0:
        cols = ["user_id", "anomaly_score", "anomaly_z", "anomaly_reason", "n_events", *FEATURES]
        return pd.DataFrame(columns=cols)
    took_features = time.perf_counter() - start
    z = np.column_stack([_robust_z(feats[f], f in _LOGGED) for f in FEATURES])  # (n_users, n_features)
    top2 = -np.sort(-z, axis=1)[:, :2]
    anomaly_z = np.sqrt((top2**2).mean(axis=1))
    score = anomaly_z / (anomaly_z + 3.0)
    reasons = _reasons(z, feats)
    out = pd.DataFrame(
        {
            "user_id": pd.array(users, dtype="string"),
            "anomaly_score": score,
            "anomaly_z": anomaly_z,
            "anomaly_reason": pd.array(reasons, dtype="string"),
            "n_events": n_events.astype(np.int64),
            **{f: feats[f].astype(np.float64) for f in FEATURES},
        }
    )
    log.debug(
        "anomaly_scores: %d users, %d events in %.2f s (%.2f s features)",
        n_users,
        int(n_events.sum()),
        time.perf_counter() - start,
        took_features,
    )
    return out.sort_values(["anomaly_score", "user_id"], ascending=[False, True], ignore_index=True)


def _features(
    events: pd.DataFrame | EventRelation, rapid_seconds: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(user ids sorted, events per user, the five features)`` from one DuckDB query over the events.

    Rows without a timestamp count for the item and conversion features only; a log without events reads
    every row as a view.
    """
    if isinstance(events, pd.DataFrame):
        events = EventRelation.of_frame(events if "event" in events else events.assign(event="view"))
    with events.query() as (con, table):
        out = con.execute(
            f"WITH ev AS (SELECT user_id, item_id, coalesce(event, 'view') AS event, "
            f"epoch_us(ts) // 1000000 AS s FROM {table}), "
            "u AS (SELECT user_id, count(*) AS n_events, count(*) FILTER (WHERE event = 'view') AS views, "
            "count(*) FILTER (WHERE event IN ('cart', 'purchase')) AS conv, count(s) AS n_timed "
            "FROM ev GROUP BY user_id), "
            "it AS (SELECT user_id, max(n) AS max_item FROM "
            "(SELECT user_id, item_id, count(*) AS n FROM ev GROUP BY ALL) GROUP BY user_id), "
            "hr AS (SELECT user_id, max(n) AS peak, count(*) AS active FROM "
            "(SELECT user_id, s // 3600 AS h, count(*) AS n FROM ev WHERE s IS NOT NULL GROUP BY ALL) "
            "GROUP BY user_id), "
            f"gp AS (SELECT user_id, count(gap) AS n_gaps, count(*) FILTER (WHERE gap < {float(rapid_seconds)!r}) "
            "AS n_rapid FROM (SELECT user_id, s - lag(s) OVER (PARTITION BY user_id ORDER BY s) AS gap "
            "FROM ev WHERE s IS NOT NULL) GROUP BY user_id) "
            "SELECT u.user_id, u.n_events, u.views, u.conv, u.n_timed, coalesce(it.max_item, 0) AS max_item, "
            "coalesce(hr.peak, 0) AS peak, coalesce(hr.active, 0) AS active, coalesce(gp.n_gaps, 0) AS n_gaps, "
            "coalesce(gp.n_rapid, 0) AS n_rapid FROM u LEFT JOIN it USING (user_id) LEFT JOIN hr USING (user_id) "
            "LEFT JOIN gp USING (user_id) ORDER BY u.user_id"
        ).fetchnumpy()
    f = {k: np.asarray(v, dtype=np.float64) for k, v in out.items() if k != "user_id"}
    feats = {
        "peak_hour_events": f["peak"],
        "events_per_active_hour": f["n_timed"] / np.maximum(f["active"], 1.0),
        "views_per_conversion": f["views"] / (1.0 + f["conv"]),
        "rapid_share": np.where(f["n_gaps"] > 0, f["n_rapid"] / np.maximum(f["n_gaps"], 1.0), 0.0),
        "max_item_events": f["max_item"],
    }
    return np.asarray(out["user_id"], dtype=object), f["n_events"], feats


def _reasons(z: np.ndarray, feats: dict[str, np.ndarray]) -> list[str]:
    """Each user's strongest signal in words where its z is at least 3, else ``""``."""
    strongest = np.argmax(z, axis=1)
    medians = {f: float(np.median(feats[f])) for f in FEATURES}
    return [
        _describe(FEATURES[j], float(feats[FEATURES[j]][i]), medians[FEATURES[j]]) if z[i, j] >= 3.0 else ""
        for i, j in enumerate(strongest)
    ]
