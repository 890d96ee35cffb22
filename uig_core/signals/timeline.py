"""A user's interest mix window by window: the long per-window profiles and one user's timeline for a chart.

The same event weights and interest labels as :mod:`uig_core.signals.drift`, so the portrait's chart shows the
mix the drift score is computed from. These read a frame of events (one user's history, a test's log); the
build's drift scores never do (they are SQL over the stored events).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError, UnknownId
from uig_core.semantics.profiles import event_weight_array, interest_codes

__all__ = ["window_profiles", "interest_timeline"]

log = logging.getLogger(__name__)


def window_profiles(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int],
    *,
    freq: str = "W",
    event_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each user's interest distribution per time window.

    Args:
        events: Canonical events.
        item_interest: ``item_id -> interest_id``.
        freq: Pandas period alias of the windows (``"W"`` weeks starting Monday, ``"D"``, ``"M"``...).
        event_weights: ``{event: weight}`` (default ``schema.EVENT_WEIGHTS``).

    Returns:
        Long DataFrame ``user_id, window_start (datetime64), interest_id, weight, share`` (``share`` sums to 1
        within each user and window), only windows where the user was active.
    """
    w = event_weight_array(events, event_weights)
    codes = interest_codes(events, item_interest)
    if "ts" not in events:
        raise ConfigError("window_profiles needs a 'ts' column; this event log has no timestamps.")
    ts = pd.to_datetime(events["ts"])
    ok = (w > 0) & (codes >= 0) & ts.notna().to_numpy()
    try:
        window = ts[ok].dt.to_period(freq).dt.start_time
    except ValueError as err:
        raise ConfigError(f"'{freq}' is not a pandas period alias; use e.g. 'W', 'D' or 'M'.") from err
    frame = pd.DataFrame(
        {
            "user_id": events["user_id"].astype("string")[ok].to_numpy(),
            "window_start": window.to_numpy(),
            "interest_id": codes[ok],
            "weight": w[ok],
        }
    )
    out = frame.groupby(["user_id", "window_start", "interest_id"], sort=True, as_index=False)["weight"].sum()
    out["share"] = out["weight"] / out.groupby(["user_id", "window_start"])["weight"].transform("sum")
    return out


def interest_timeline(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int],
    user_id: str,
    *,
    freq: str = "W",
    event_weights: Mapping[str, float] | None = None,
    normalize: bool = True,
    span: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """One user's interest mix per window, ready for a stacked chart.

    Args:
        events: Canonical events (may hold every user; only ``user_id``'s rows are used).
        item_interest: ``item_id -> interest_id``.
        user_id: The user.
        freq: Window length as a pandas period alias (default weekly).
        event_weights: ``{event: weight}`` (default ``schema.EVENT_WEIGHTS``).
        normalize: Shares (each active window sums to 1) instead of summed weights.
        span: ``(first, last)`` times the windows must cover (the user's first and last event of any kind, so a
            history whose weighted events all fall in one week still spans its returns and searches); default:
            the first to the last weighted event.

    Returns:
        DataFrame indexed by ``window_start`` (every window from the first to the last one of the span;
        inactive windows are all zero), one column per interest id the user touched (sorted), float values.

    Raises:
        UnknownId: The user has no event in ``events``.
    """
    mine = events[events["user_id"].astype(str) == str(user_id)]
    if mine.empty:
        raise UnknownId(f"User '{user_id}' has no event in this dataset. Check the id (ids are case-sensitive).")
    long = window_profiles(mine, item_interest, freq=freq, event_weights=event_weights)
    if long.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="window_start"))
    wide = long.pivot_table(
        index="window_start",
        columns="interest_id",
        values="share" if normalize else "weight",
        aggfunc="sum",
        fill_value=0.0,
    )
    lo, hi = wide.index.min(), wide.index.max()
    if span is not None:
        lo = min(lo, pd.Timestamp(span[0]).to_period(freq).start_time)
        hi = max(hi, pd.Timestamp(span[1]).to_period(freq).start_time)
    full = pd.period_range(lo, hi, freq=freq).start_time
    wide = wide.reindex(full, fill_value=0.0)
    wide.index.name = "window_start"
    wide.columns = pd.Index([int(c) for c in wide.columns], name="interest_id")
    return wide.astype(np.float64)
