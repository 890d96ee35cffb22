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
from uig_core.semantics.profiles import factorize_ids

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


def anomaly_scores(events: pd.DataFrame, *, rapid_seconds: float = 10.0) -> pd.DataFrame:
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
    users, uidx = factorize_ids(events["user_id"])
    n_users = len(users)
    if n_users == 0:
        cols = ["user_id", "anomaly_score", "anomaly_z", "anomaly_reason", "n_events", *FEATURES]
        return pd.DataFrame(columns=cols)
    n_events = np.bincount(uidx, minlength=n_users).astype(np.float64)
    feats: dict[str, np.ndarray] = {"views_per_conversion": _views_per_conversion(events, uidx, n_events)}
    feats["max_item_events"] = _max_item_events(events, uidx, n_users)
    feats.update(_time_features(events, uidx, n_users, rapid_seconds))
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
        len(events),
        time.perf_counter() - start,
        took_features,
    )
    return out.sort_values(["anomaly_score", "user_id"], ascending=[False, True], ignore_index=True)


def _views_per_conversion(events: pd.DataFrame, uidx: np.ndarray, n_events: np.ndarray) -> np.ndarray:
    """Look-to-book per user, views / (1 + carts + purchases): view-only floods stand out."""
    n_users = len(n_events)
    ev = events["event"].astype("string").fillna("view").to_numpy() if "event" in events else None
    if ev is not None:
        views = np.bincount(uidx, weights=(ev == "view"), minlength=n_users)
        conv = np.bincount(uidx, weights=np.isin(ev, ("cart", "purchase")), minlength=n_users)
    else:
        views, conv = n_events, np.zeros(n_users)
    return views / (1.0 + conv)


def _max_item_events(events: pd.DataFrame, uidx: np.ndarray, n_users: int) -> np.ndarray:
    """Most events of each user on one item: refresh and scrape loops repeat an item."""
    _, iidx = factorize_ids(events["item_id"])
    pair = uidx.astype(np.int64) * (int(iidx.max()) + 1) + iidx
    pairs, pcount = np.unique(pair, return_counts=True)
    max_item = np.zeros(n_users)
    np.maximum.at(max_item, pairs // (int(iidx.max()) + 1), pcount)
    return max_item


def _time_features(events: pd.DataFrame, uidx: np.ndarray, n_users: int, rapid_seconds: float) -> dict[str, np.ndarray]:
    """The clock features: peak hour, rate per active hour, share of rapid gaps (all 0 without timestamps)."""
    ts = pd.to_datetime(events["ts"]) if "ts" in events else None
    if ts is None or not ts.notna().any():
        return {name: np.zeros(n_users) for name in ("peak_hour_events", "events_per_active_hour", "rapid_share")}
    ok = ts.notna().to_numpy()
    secs = ts.to_numpy()[ok].astype("datetime64[s]").astype(np.int64)
    u_ok = uidx[ok]
    hour = secs // 3600
    key = u_ok.astype(np.int64) * (int(hour.max() - hour.min()) + 1) + (hour - hour.min())
    hkeys, hcount = np.unique(key, return_counts=True)
    hour_user = hkeys // (int(hour.max() - hour.min()) + 1)
    peak = np.zeros(n_users)
    np.maximum.at(peak, hour_user, hcount)
    active_hours = np.bincount(hour_user, minlength=n_users).astype(np.float64)
    order = np.lexsort((secs, u_ok))
    su, ss = u_ok[order], secs[order]
    same = su[1:] == su[:-1]
    rapid = same & (np.diff(ss) < rapid_seconds)
    n_gaps = np.bincount(su[1:][same], minlength=n_users).astype(np.float64)
    n_rapid = np.bincount(su[1:][rapid], minlength=n_users).astype(np.float64)
    return {
        "peak_hour_events": peak,
        "events_per_active_hour": np.bincount(u_ok, minlength=n_users) / np.maximum(active_hours, 1.0),
        "rapid_share": np.where(n_gaps > 0, n_rapid / np.maximum(n_gaps, 1.0), 0.0),
    }


def _reasons(z: np.ndarray, feats: dict[str, np.ndarray]) -> list[str]:
    """Each user's strongest signal in words where its z is at least 3, else ``""``."""
    strongest = np.argmax(z, axis=1)
    medians = {f: float(np.median(feats[f])) for f in FEATURES}
    return [
        _describe(FEATURES[j], float(feats[FEATURES[j]][i]), medians[FEATURES[j]]) if z[i, j] >= 3.0 else ""
        for i, j in enumerate(strongest)
    ]
