"""A user's portrait: activity, interests, interest timeline and story, anomaly, recent events, similar users.

The activity card holds RFM figures, money net of returns and cancellations (:mod:`uig_core.store.money`) with
the gross beside it; the timeline carries the drift date and the anomaly score its reason. A reason is shown
exactly when the anomaly score reaches :data:`~uig_core.signals.risk.ANOMALY_THRESHOLD`, a change date exactly
when the drift score reaches :data:`~uig_core.signals.drift.DRIFT_THRESHOLD` (the build stores them so; the
portrait holds to it for a build made before that rule too).

Used by ``uig portrait USER_ID`` and the *User portraits* page. Only the user's own events are read (one
DuckDB query); everything else comes from the build, so a portrait is cheap enough for every page rerun.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from uig_core.build.bundle import Bundle
from uig_core.memo import BoundedMemo
from uig_core.queries.pickers import user_column
from uig_core.queries.rfm import rfm
from uig_core.queries.searches import searches_with_interests
from uig_core.queries.story import story_line, user_timeline
from uig_core.signals.drift import DRIFT_THRESHOLD
from uig_core.signals.risk import ANOMALY_THRESHOLD
from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["portrait", "user_events", "rfm"]

log = logging.getLogger(__name__)

_EVENT_ORDER = ("view", "click", "fav", "cart", "purchase", "search", "return", "adjustment")


def user_events(ws: Workspace, dataset: str | None, user_id: str, *, info: DatasetInfo | None = None) -> pd.DataFrame:
    """All events of one user, oldest first (canonical columns plus any extras).

    Args:
        ws: The workspace.
        dataset: Dataset name (default: the only one).
        user_id: The user.
        info: The dataset's registry row, when the caller has it (saves a registry read).
    """
    info = info or ws.dataset(dataset)
    with ws.connect() as con:
        frame = con.execute(f"SELECT * FROM {info.table} WHERE user_id = ? ORDER BY ts", [str(user_id)]).df()
    for col in ("user_id", "item_id", "event"):
        if col in frame:
            frame[col] = frame[col].astype("string")
    return frame


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value)


def _when(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def portrait(
    ws: Workspace,
    dataset: str | None,
    user_id: str,
    recent: int = 10,
    *,
    similar: int = 10,
    bundle: Bundle | None = None,
    info: DatasetInfo | None = None,
) -> dict[str, Any]:
    """Everything the portrait card shows about one user, JSON-ready.

    Results are memoised per (workspace, dataset content, build, user, recent, similar) — a dashboard rerun on
    the same user costs nothing — and a copy is returned, so callers may change it.

    Args:
        ws: The workspace.
        dataset: Dataset name (default: the only one).
        user_id: The user.
        recent: How many recent events to list.
        similar: How many similar users to list.
        bundle: The dataset's loaded build (loaded here when not given).
        info: The dataset's registry row, when the caller has it (saves a registry read).

    Returns:
        ``user_id, dataset, activity {n_events, events_by_type, first_seen, last_seen, purchases, orders,
        orders_gross, spend, spend_gross, units_returned, rfm}, interests [{interest_id, name, share}],
        timeline {freq, periods, rows [{period, interest_id, name, share}], activity [{period, events, weighted,
        returns, searches}]} (:func:`uig_core.queries.story.user_timeline`), story (one line,
        :func:`uig_core.queries.story.story_line`), drift_score, drift_threshold, change_date, anomaly_score,
        anomaly_threshold, anomaly_reason, recent_events [{ts, event, item_id, title, category, price}],
        similar_users [{user_id, similarity, overlap, n_events, n_purchase}]``. ``spend`` and ``orders`` are
        net of returns and cancellations; ``*_gross`` are None for a build made before they were stored.

    Raises:
        UnknownId: The user is not in the build (the message suggests close ids).
    """
    info = info or ws.dataset(dataset)
    bundle = bundle or Bundle.load(ws, info.name)
    key = (str(ws.root.resolve()), info.id, info.data_hash, bundle.build_id, str(user_id), int(recent), int(similar))
    hit = _MEMO.get_or_compute(key, lambda: _portrait(ws, info, bundle, str(user_id), int(recent), int(similar)))
    return copy.deepcopy(hit)


_MEMO: BoundedMemo[dict[str, Any]] = BoundedMemo(64)


def _portrait(
    ws: Workspace, info: DatasetInfo, bundle: Bundle, user_id: str, recent: int, similar: int
) -> dict[str, Any]:
    row = bundle.user_row(user_id)
    u = bundle.users.iloc[row]
    events = user_events(ws, info.name, user_id, info=info)
    profile = bundle.user_profile(user_id)
    drift_col = user_column(bundle, "drift_score", "drift")
    date_col = user_column(bundle, "change_date", "drift_date", "drift_change_date")
    anomaly_col = user_column(bundle, "anomaly_score", "anomaly", "risk_score")
    reason_col = user_column(bundle, "anomaly_reason", "risk_reason", "anomaly_reasons")
    drift = (_num(u.get(drift_col)) or 0.0) if drift_col else None
    change = u.get(date_col) if date_col and drift is not None and drift >= DRIFT_THRESHOLD else None
    anomaly = _num(u.get(anomaly_col)) if anomaly_col else None
    flagged = anomaly is not None and anomaly >= ANOMALY_THRESHOLD
    out = {
        "user_id": user_id,
        "dataset": info.name,
        "build_id": bundle.build_id,
        "activity": _activity(bundle, row, u, events),
        "interests": [
            {"interest_id": int(r.interest_id), "name": str(r.name), "share": round(float(r.share), 4)}
            for r in profile.itertuples(index=False)
        ],
        "timeline": user_timeline(bundle, events, user_id),
        # drift.py scores 0 where no split qualifies; a user without weighted events has no row there: 0 too.
        "drift_score": drift,
        "drift_threshold": DRIFT_THRESHOLD,
        "change_date": None if change is None or pd.isna(change) else pd.Timestamp(change).strftime("%Y-%m-%d"),
        "anomaly_score": anomaly,
        "anomaly_threshold": ANOMALY_THRESHOLD,
        "anomaly_reason": ((_text(u.get(reason_col)) or "") if flagged else "") if reason_col else None,
        "recent_events": _recent(bundle, events, recent),
        "searches": searches_with_interests(bundle, events, recent),
        "similar_users": _similar(bundle, user_id, similar),
    }
    out["story"] = story_line(bundle, out)
    return out


def _activity(bundle: Bundle, row: int, u: pd.Series, events: pd.DataFrame) -> dict[str, Any]:
    """Counts by event, first and last seen, purchases, orders and spend (net and gross), RFM of one user."""
    by_type = events["event"].value_counts() if len(events) else pd.Series(dtype="int64")
    order = [e for e in _EVENT_ORDER if e in by_type.index] + [e for e in by_type.index if e not in _EVENT_ORDER]
    time_range = bundle.meta.get("time_range") or [None, None]
    end = pd.Timestamp(time_range[1] or pd.to_datetime(bundle.users["last_seen"]).max())
    return {
        "n_events": int(u.get("n_events", len(events))),
        "events_by_type": {str(e): int(by_type[e]) for e in order},
        "first_seen": _when(u.get("first_seen")),
        "last_seen": _when(u.get("last_seen")),
        "purchases": int(u.get("n_purchase", by_type.get("purchase", 0))),
        "orders": int(u.get("orders", u.get("n_purchase", 0))),
        "orders_gross": int(u["orders_gross"]) if "orders_gross" in u else None,
        "spend": round(float(u.get("spend", 0.0) or 0.0), 2),
        "spend_gross": round(float(u["spend_gross"]), 2) if "spend_gross" in u else None,
        "units_returned": float(u["units_returned"]) if "units_returned" in u else None,
        "rfm": rfm(bundle.users, row, end, bundle=bundle),
    }


def _recent(bundle: Bundle, events: pd.DataFrame, recent: int) -> list[dict[str, Any]]:
    """The user's last ``recent`` events, newest first, titled from the log or the build."""
    last = events.tail(int(recent)).iloc[::-1]
    cols = bundle.item_index.get_indexer(last["item_id"].astype(str)) if len(last) else np.zeros(0, np.int64)
    titles = bundle.items["title"]
    rows = []
    for r, col in zip(last.itertuples(index=False), cols, strict=True):
        rec = r._asdict()
        item = str(rec["item_id"])
        rows.append(
            {
                "ts": _when(rec.get("ts")),
                "event": str(rec.get("event")),
                "item_id": item,
                "title": _text(rec.get("item_title")) or (_text(titles.iat[col]) if col >= 0 else None),
                "category": _text(rec.get("category")),
                "price": _num(rec.get("price")),
                **({"query": _text(rec.get("query"))} if "query" in rec else {}),
            }
        )
    return rows


def _similar(bundle: Bundle, user_id: str, similar: int) -> list[dict[str, Any]]:
    """The ``similar`` most similar users with their activity and the interests they share with the user."""
    sims = bundle.similar_users(user_id, k=int(similar)) if similar > 0 else pd.DataFrame()
    mine = np.asarray(bundle.profiles[bundle.user_row(user_id)]) if len(sims) else None
    return [
        {
            "user_id": str(r.user_id),
            "similarity": round(float(r.similarity), 4),
            "overlap": int(getattr(r, "overlap", 0)),
            "n_events": int(r.n_events),
            "n_purchase": int(r.n_purchase),
            "shared_interests": _shared_interests(bundle, mine, str(r.user_id)),
        }
        for r in sims.itertuples(index=False)
    ]


def _shared_interests(bundle: Bundle, mine: np.ndarray | None, other: str, top: int = 3) -> list[str]:
    """Names of the interests both users hold (each at least 5 % of the profile), largest common share first."""
    if mine is None:
        return []
    both = np.minimum(mine, np.asarray(bundle.profiles[bundle.user_row(other)]))
    cols = [c for c in np.argsort(-both, kind="stable")[:top] if both[c] >= 0.05]
    names = bundle.interest_names
    return [names.get(int(bundle.profile_columns[c]), str(int(bundle.profile_columns[c]))) for c in cols]
