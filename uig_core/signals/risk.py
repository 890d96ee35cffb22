"""Anomaly (bot) scores from behaviour, against the shop's own norms, with the reason that drove each score.

Each user gets six features, each oriented so that larger is more suspicious. Time features count *actions*:
the lines of one order (or, without order ids, the purchase lines of one second) are one action, so a
wholesale buyer's 300-line invoice is one checkout, not a flood:

===========================  ========================================================================
``peak_hour_actions``        most actions in any one clock hour (floods)
``actions_per_active_hour``  actions / distinct clock hours with activity (sustained rate)
``views_per_conversion``     views / (1 + carts + purchases) (look-to-book: view-only floods)
``rapid_share``              share of the user's consecutive actions less than ``rapid_seconds`` apart
``max_item_views``           most views and clicks on a single item (refresh/scrape loops; buying one
                             item again and again is repeat custom, not a loop, and does not count)
``returned_share``           units returned / units bought, from :mod:`uig_core.store.money` (buying and
                             returning everything)
===========================  ========================================================================

Every feature is compared with the population by a one-sided **robust z-score**,
``z = (log1p(x) - median) / (1.4826 * MAD)`` (shares are not logged; where the MAD is 0 the mean absolute
deviation stands in; the scale is at least 0.1 in log units, 5 points for ``rapid_share`` and 20 points for
``returned_share``, so that only returning most of what one bought stands out), clipped at 0.
A user's ``anomaly_z`` is the root mean square of their two largest z-scores, so one odd habit alone scores
lower than two that agree. The score counts only what lies beyond the ordinary range of one robust SD:
``e = max(anomaly_z - 1, 0)``, ``anomaly_score = e / (e + 2)`` in [0, 1): 0 for a typical user, and
:data:`ANOMALY_THRESHOLD` (0.5) exactly when ``anomaly_z`` reaches 3.

``anomaly_reason`` is derived from the same numbers: it is non-empty exactly when the score reaches the
threshold, and then names, strongest first, each of the two features the score is made of whose z is at
least 1 (the strongest always is, since ``anomaly_z >= 3`` needs a z of 3).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.store.money import money_sql
from uig_core.store.relation import EventRelation

__all__ = ["anomaly_scores", "FEATURES", "ANOMALY_THRESHOLD", "anomaly_score_of"]

log = logging.getLogger(__name__)

#: Behaviour features, in the order of the module docstring.
FEATURES: tuple[str, ...] = (
    "peak_hour_actions",
    "actions_per_active_hour",
    "views_per_conversion",
    "rapid_share",
    "max_item_views",
    "returned_share",
)
#: The score at and above which a user is flagged (and carries a reason): ``anomaly_z >= 3``.
ANOMALY_THRESHOLD = 0.5
_LOGGED = {"peak_hour_actions", "actions_per_active_hour", "views_per_conversion", "max_item_views"}
# The least scale of each feature (log units for counts, points for shares): below it a difference means nothing.
_FLOOR = {
    "peak_hour_actions": 0.5,
    "actions_per_active_hour": 0.5,
    "views_per_conversion": 0.5,
    "rapid_share": 0.05,
    "max_item_views": 0.5,
    "returned_share": 0.2,
}
_MIN_GAPS = 10  # rapid_share counts at least this many gaps: two quick clicks are not a habit
_CONVERSIONS = "('purchase', 'return', 'adjustment')"


def anomaly_score_of(anomaly_z: np.ndarray) -> np.ndarray:
    """``anomaly_score`` from ``anomaly_z`` (module docstring): 0 up to z = 1, 0.5 at z = 3, → 1."""
    excess = np.maximum(np.asarray(anomaly_z, dtype=np.float64) - 1.0, 0.0)
    return excess / (excess + 2.0)


def _robust_z(x: np.ndarray, feature: str) -> np.ndarray:
    """One-sided robust z-score of a feature against the population (module docstring), clipped at 0."""
    logged = feature in _LOGGED
    v = np.log1p(x) if logged else x
    med = float(np.median(v))
    dev = np.abs(v - med)
    scale = 1.4826 * float(np.median(dev))
    if scale <= 1e-12:
        scale = 1.2533 * float(dev.mean())
    scale = max(scale, _FLOOR[feature])
    return np.clip((v - med) / scale, 0.0, None)


def _describe(feature: str, value: float, median: float) -> str:
    """A feature's value in words, next to the typical user's, for ``anomaly_reason``."""
    if feature == "peak_hour_actions":
        return f"{value:,.0f} actions in one hour (typical: {median:,.0f})"
    if feature == "actions_per_active_hour":
        return f"{value:,.1f} actions per active hour (typical: {median:,.1f})"
    if feature == "views_per_conversion":
        return f"{value:,.0f} views per cart or purchase (typical: {median:,.1f})"
    if feature == "rapid_share":
        return f"{value:.0%} of actions seconds apart (typical: {median:.0%})"
    if feature == "returned_share":
        return f"returned {value:.0%} of the units bought (typical: {median:.0%})"
    return f"one item viewed {value:,.0f} times (typical: {median:,.0f})"


def anomaly_scores(events: pd.DataFrame | EventRelation, *, rapid_seconds: float = 10.0) -> pd.DataFrame:
    """Per-user anomaly (bot) score from behaviour, with its reason (method in the module docstring).

    Args:
        events: Canonical events: ``user_id, item_id``; ``event``, ``ts``, ``order_id`` and ``quantity`` are
            used when present (without ``ts`` the time features are 0 for everyone, without ``event`` every
            row counts as a view).
        rapid_seconds: Gap under which two consecutive actions count as rapid.

    Returns:
        DataFrame with one row per user: ``user_id`` (str), ``anomaly_score`` (float in [0, 1)),
        ``anomaly_z`` (float >= 0), ``anomaly_reason`` (str; non-empty exactly when ``anomaly_score >=``
        :data:`ANOMALY_THRESHOLD`), ``n_events`` and the six features, sorted by ``anomaly_score`` descending.
    """
    if rapid_seconds <= 0:
        raise ConfigError(f"The 'rapid_seconds' of anomaly_scores must be > 0. Got {rapid_seconds!r} instead.")
    start = time.perf_counter()
    users, n_events, feats = _features(events, rapid_seconds)
    if len(users) == 0:
        cols = ["user_id", "anomaly_score", "anomaly_z", "anomaly_reason", "n_events", *FEATURES]
        return pd.DataFrame(columns=cols)
    took_features = time.perf_counter() - start
    z = np.column_stack([_robust_z(feats[f], f) for f in FEATURES])  # (n_users, n_features)
    order = np.argsort(-z, axis=1, kind="stable")[:, :2]  # each user's two strongest features
    top2 = np.take_along_axis(z, order, axis=1)
    anomaly_z = np.sqrt((top2**2).mean(axis=1))
    score = anomaly_score_of(anomaly_z)
    out = pd.DataFrame(
        {
            "user_id": pd.array(users, dtype="string"),
            "anomaly_score": score,
            "anomaly_z": anomaly_z,
            "anomaly_reason": pd.array(_reasons(score, order, top2, feats), dtype="string"),
            "n_events": n_events.astype(np.int64),
            **{f: feats[f].astype(np.float64) for f in FEATURES},
        }
    )
    log.debug(
        "anomaly_scores: %d users, %d events in %.2f s (%.2f s features)",
        len(users),
        int(n_events.sum()),
        time.perf_counter() - start,
        took_features,
    )
    return out.sort_values(["anomaly_score", "user_id"], ascending=[False, True], ignore_index=True)


def _features_sql(table: str, columns: set[str], rapid_seconds: float) -> str:
    """One query: per user, events, views, conversions, actions and the per-action and per-item counts."""
    order = "CAST(order_id AS VARCHAR)" if "order_id" in columns else "NULL::VARCHAR"
    return (
        f"WITH ev AS (SELECT user_id, item_id, coalesce(event, 'view') AS event, {order} AS order_id, "
        f"epoch_us(ts) // 1000000 AS s FROM {table}), "
        # an action: one event, or every line of one order (no order id: of one second) of a conversion
        f"act AS (SELECT user_id, s FROM ev WHERE s IS NOT NULL AND event NOT IN {_CONVERSIONS} UNION ALL "
        f"SELECT user_id, min(s) AS s FROM ev WHERE s IS NOT NULL AND event IN {_CONVERSIONS} "
        "GROUP BY user_id, event, coalesce(order_id, CAST(s AS VARCHAR))), "
        "u AS (SELECT user_id, count(*) AS n_events, count(*) FILTER (WHERE event = 'view') AS views, "
        "count(*) FILTER (WHERE event IN ('cart', 'purchase')) AS conv FROM ev GROUP BY user_id), "
        "it AS (SELECT user_id, max(n) AS max_item FROM (SELECT user_id, item_id, count(*) AS n FROM ev "
        "WHERE event IN ('view', 'click') GROUP BY ALL) GROUP BY user_id), "
        "hr AS (SELECT user_id, max(n) AS peak, count(*) AS active, sum(n) AS n_actions FROM "
        "(SELECT user_id, s // 3600 AS h, count(*) AS n FROM act GROUP BY ALL) GROUP BY user_id), "
        f"gp AS (SELECT user_id, count(gap) AS n_gaps, count(*) FILTER (WHERE gap < {float(rapid_seconds)!r}) "
        "AS n_rapid FROM (SELECT user_id, s - lag(s) OVER (PARTITION BY user_id ORDER BY s) AS gap FROM act) "
        f"GROUP BY user_id), mo AS ({money_sql(table, columns)}) "
        "SELECT u.user_id, u.n_events, u.views, u.conv, coalesce(it.max_item, 0) AS max_item, "
        "coalesce(hr.peak, 0) AS peak, coalesce(hr.active, 0) AS active, coalesce(hr.n_actions, 0) AS n_actions, "
        "coalesce(gp.n_gaps, 0) AS n_gaps, coalesce(gp.n_rapid, 0) AS n_rapid, "
        "coalesce(mo.units_gross, 0.0) AS units, coalesce(mo.units_returned, 0.0) AS returned "
        "FROM u LEFT JOIN it USING (user_id) LEFT JOIN hr USING (user_id) LEFT JOIN gp USING (user_id) "
        "LEFT JOIN mo USING (user_id) ORDER BY u.user_id"
    )


def _features(
    events: pd.DataFrame | EventRelation, rapid_seconds: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``(user ids sorted, events per user, the six features)`` from one DuckDB query over the events.

    Rows without a timestamp count for the item, conversion and return features only; a log without events
    reads every row as a view.
    """
    if isinstance(events, pd.DataFrame):
        events = EventRelation.of_frame(events if "event" in events else events.assign(event="view"))
    with events.query() as (con, table):
        out = con.execute(_features_sql(table, set(events.columns), rapid_seconds)).fetchnumpy()
    f = {k: np.asarray(v, dtype=np.float64) for k, v in out.items() if k != "user_id"}
    feats = {
        "peak_hour_actions": f["peak"],
        "actions_per_active_hour": f["n_actions"] / np.maximum(f["active"], 1.0),
        "views_per_conversion": f["views"] / (1.0 + f["conv"]),
        "rapid_share": f["n_rapid"] / np.maximum(f["n_gaps"], _MIN_GAPS),
        "max_item_views": f["max_item"],
        "returned_share": np.where(f["units"] > 0, f["returned"] / np.maximum(f["units"], 1e-12), 0.0),
    }
    return np.asarray(out["user_id"], dtype=object), f["n_events"], feats


def _reasons(score: np.ndarray, order: np.ndarray, top2: np.ndarray, feats: dict[str, np.ndarray]) -> list[str]:
    """Each flagged user's strongest features (of the two the score is made of, those with z >= 1), in words."""
    medians = {f: float(np.median(feats[f])) for f in FEATURES}
    out = [""] * len(score)
    for i in np.flatnonzero(score >= ANOMALY_THRESHOLD):
        parts = [
            _describe(FEATURES[j], float(feats[FEATURES[j]][i]), medians[FEATURES[j]])
            for j, zj in zip(order[i], top2[i], strict=True)
            if zj >= 1.0
        ]
        out[i] = "; ".join(parts)
    return out
