"""A portrait's story: the interest timeline over the user's whole history, and a one-line summary of the user.

The timeline is weekly for a history up to :data:`WEEKLY_SPAN_DAYS` long and monthly beyond, and spans the user's
first to last event of any kind: a buyer whose purchases all fall in one week and who returned goods two months
later gets eleven weekly buckets, not a single point (a single point is what made Online Retail customer 17850's
chart an empty one with an axis in fractions of a second). Each bucket also counts the events, returns and
searches in it, so silent weeks and non-buying activity show on the same axis.

The summary line reads the portrait itself: the leading interests, the interest gained since the drift date, a
spend tier (terciles of the net spend of the build's buying users, :mod:`uig_core.store.money`'s definition) and
how long before the log's last event the user was last seen, e.g. *mostly “decoration, christmas” (41 %), moving
to “garden” since March 2011; high spend, last seen 3 weeks ago*.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from uig_core.build.bundle import Bundle

__all__ = ["WEEKLY_SPAN_DAYS", "timeline_freq", "user_timeline", "story_line", "spend_tier", "ago"]

log = logging.getLogger(__name__)

#: A history up to this many days is drawn week by week, a longer one month by month.
WEEKLY_SPAN_DAYS = 26 * 7


def timeline_freq(first: Any, last: Any) -> str:
    """``"W"`` (weeks starting Monday) for a span up to :data:`WEEKLY_SPAN_DAYS`, else ``"M"``."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return "W"
    return "W" if (pd.Timestamp(last) - pd.Timestamp(first)).days <= WEEKLY_SPAN_DAYS else "M"


def user_timeline(bundle: Bundle, events: pd.DataFrame, user_id: str) -> dict[str, Any]:
    """The user's interest mix per week or month, and the activity in each bucket.

    Args:
        bundle: The build (item interests, interest names, event weights).
        events: The user's events (:func:`uig_core.queries.portrait.user_events`).
        user_id: The user.

    Returns:
        ``{"freq": "week" | "month", "periods": [date], "rows": [{period, interest_id, name, share}],
        "activity": [{period, events, weighted, returns, searches}]}``: ``periods`` lists every bucket from the
        first to the last event (``YYYY-MM-DD`` of its first day); ``share`` sums to 1 over a bucket with
        weighted events and is 0 in the others.
    """
    from uig_core.signals.timeline import interest_timeline

    empty: dict[str, Any] = {"freq": "week", "periods": [], "rows": [], "activity": []}
    if events.empty or "ts" not in events or events["ts"].notna().sum() == 0:
        return empty
    ts = pd.to_datetime(events["ts"])
    first, last = ts.min(), ts.max()
    freq = timeline_freq(first, last)
    item_interest = pd.Series(bundle.items["interest_id"].to_numpy(), index=bundle.item_index)
    weights = bundle.meta.get("config", {}).get("event_weights")
    wide = interest_timeline(events, item_interest, user_id, freq=freq, event_weights=weights, span=(first, last))
    periods = pd.period_range(first.to_period(freq).start_time, last.to_period(freq).start_time, freq=freq)
    starts = periods.start_time
    names = bundle.interest_names
    rows = []
    if len(wide.columns):
        wide = wide.reindex(starts, fill_value=0.0)
        for start, values in wide.iterrows():
            day = pd.Timestamp(start).strftime("%Y-%m-%d")
            for interest, share in values.items():
                name = names.get(int(interest), str(int(interest)))
                rows.append({"period": day, "interest_id": int(interest), "name": str(name), "share": round(share, 4)})
    return {
        "freq": "week" if freq == "W" else "month",
        "periods": [pd.Timestamp(s).strftime("%Y-%m-%d") for s in starts],
        "rows": rows,
        "activity": _activity(events, ts, freq, starts, weights),
    }


def _activity(
    events: pd.DataFrame, ts: pd.Series, freq: str, starts: pd.DatetimeIndex, weights: dict[str, float] | None
) -> list[dict[str, Any]]:
    """Events, weighted (positive) events, returns and searches per bucket."""
    from uig_core.semantics.profiles import event_weight_array

    bucket = ts.dt.to_period(freq).dt.start_time
    kind = events["event"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "bucket": bucket.to_numpy(),
            "events": 1,
            "weighted": (event_weight_array(events, weights) > 0).astype(int),
            "returns": (kind == "return").astype(int),
            "searches": (kind == "search").astype(int),
        }
    )
    counts = frame.groupby("bucket").sum().reindex(starts, fill_value=0)
    return [
        {"period": pd.Timestamp(s).strftime("%Y-%m-%d"), **{c: int(r[c]) for c in counts.columns}}
        for s, r in counts.iterrows()
    ]


def spend_tier(users: pd.DataFrame, spend: float) -> str:
    """``high``, ``medium`` or ``low`` spend against the terciles of the buying users' net spend; ``none``."""
    if "spend" not in users or not spend or spend <= 0:
        return "none"
    paid = users["spend"].to_numpy(dtype=np.float64)
    paid = paid[paid > 0]
    if not len(paid):
        return "none"
    low, high = np.quantile(paid, [1 / 3, 2 / 3])
    return "high" if spend >= high else "medium" if spend >= low else "low"


def ago(last_seen: Any, end: Any) -> str:
    """How long before ``end`` (the log's last event) ``last_seen`` was, in words."""
    if last_seen is None or end is None or pd.isna(last_seen) or pd.isna(end):
        return "never seen"
    days = (pd.Timestamp(end) - pd.Timestamp(last_seen)).days
    if days < 1:
        return "active on the log's last day"
    if days < 14:
        return f"last seen {days} day{'s' if days > 1 else ''} ago"
    if days < 60:
        return f"last seen {round(days / 7)} weeks ago"
    months = round(days / 30.44)
    return f"last seen {months} months ago" if months < 24 else f"last seen {days / 365.25:.0f} years ago"


def story_line(bundle: Bundle, data: dict[str, Any]) -> str:
    """One sentence about the user, from the portrait ``data`` (:func:`uig_core.queries.portrait.portrait`).

    Interest names come from the log's titles: show the line as text, never as markup.
    """
    head = _interests_phrase(data["interests"], _moving(data["timeline"]["rows"], data.get("change_date")))
    act = data["activity"]
    tier = spend_tier(bundle.users, act["spend"])
    time_range = bundle.meta.get("time_range") or [None, None]
    end = time_range[1] or pd.to_datetime(bundle.users["last_seen"]).max()
    tail = ["no purchases" if tier == "none" else f"{tier} spend", ago(act.get("last_seen"), end)]
    for key, word in (("returns", "return"), ("searches", "search")):
        n = sum(a[key] for a in data["timeline"]["activity"])
        if n:
            tail.append(f"{n:,} {word}{'es' if word == 'search' and n > 1 else 's' if n > 1 else ''}")
    if data.get("anomaly_reason"):
        tail.append("flagged as bot-like")
    text = f"{head}; {', '.join(tail)}"
    return text[0].upper() + text[1:] + "."


def _interests_phrase(interests: list[dict[str, Any]], moving: tuple[str, str, str] | None) -> str:
    """``mostly “X” (41 %)`` or ``led by “X” (15 %) and “Y” (12 %) of 14 interests``, with the drift if any."""
    if not interests:
        return "no interest profile yet"
    top = interests[0]
    if moving is not None and moving[0] == top["name"]:
        return f"mostly “{top['name']}” ({top['share']:.0%}) since {moving[2]}, “{moving[1]}” before"
    if top["share"] >= 0.4 or len(interests) == 1:
        head = f"mostly “{top['name']}” ({top['share']:.0%})"
    else:
        two = " and ".join(f"“{i['name']}” ({i['share']:.0%})" for i in interests[:2])
        head = f"led by {two} of {len(interests)} interests"
    return head if moving is None else f"{head}, moving from “{moving[1]}” to “{moving[0]}” since {moving[2]}"


def _moving(rows: list[dict[str, Any]], change_date: str | None) -> tuple[str, str, str] | None:
    """``(gained, lost, "Month YYYY")``: the interests whose mean share grew and fell most from the drift date."""
    if not change_date or not rows:
        return None
    frame = pd.DataFrame(rows)
    frame = frame[frame.groupby("period")["share"].transform("sum") > 0]  # buckets with weighted events
    after = frame["period"] >= change_date
    if not after.any() or after.all():
        return None
    mean_after = frame[after].groupby("interest_id")["share"].mean()
    gain = mean_after.sub(frame[~after].groupby("interest_id")["share"].mean(), fill_value=0.0)
    up, down = int(gain.idxmax()), int(gain.idxmin())
    if gain[up] <= 0 or gain[down] >= 0:
        return None
    names = frame.drop_duplicates("interest_id").set_index("interest_id")["name"]
    return str(names[up]), str(names[down]), pd.Timestamp(change_date).strftime("%B %Y")
