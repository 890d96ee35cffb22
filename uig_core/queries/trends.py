"""What is going on in a shop: events over time by type, and the interest landscape with its trend.

Two DuckDB GROUP BYs over the dataset's :class:`~uig_core.store.relation.EventRelation` (the log is never loaded):
events per day or week and type, and each interest's weighted activity per bucket and window (the recent window,
the one before it, older). Results are memoised per (workspace, dataset content, build), so the Home page pays
the scans once per data hash.

The windows: the *recent* window is the last quarter of the log's span, at least 7 and at most 90 days, counted
back from the last event; the *previous* window is as long and ends where the recent one starts. An interest is
*new* when its previous share was under a tenth of its recent one, *rising* / *falling* when its share moved by at
least half a percentage point and a quarter of itself, else *steady*.

Used by the Home page (:mod:`uig_core.queries.home`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uig_core.memo import BoundedMemo
from uig_core.schema import EVENT_WEIGHTS
from uig_core.store.relation import EventRelation, positive_filter, weight_case

__all__ = ["bucket_unit", "event_series", "interest_trends", "shop_trends"]

log = logging.getLogger(__name__)

#: Up to this span (days) events are counted per day, up to ``_WEEKLY_DAYS`` per week, beyond per month.
_DAILY_DAYS = 120
_WEEKLY_DAYS = 3 * 365
_MIN_CHANGE = 0.005  # half a percentage point of share
_MIN_RATIO = 1.25
_NEW_RATIO = 10.0


def bucket_unit(first: Any, last: Any) -> str:
    """``"day"``, ``"week"`` or ``"month"``: the bucket a chart of ``first … last`` reads best in."""
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return "day"
    days = (pd.Timestamp(last) - pd.Timestamp(first)).days
    return "day" if days <= _DAILY_DAYS else "week" if days <= _WEEKLY_DAYS else "month"


def _windows(first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    """Start of the recent window, start of the previous one, and their length in days."""
    days = int(min(90, max(7, round((last - first).days / 4))))
    recent = last - pd.Timedelta(days=days)
    return recent, recent - pd.Timedelta(days=days), days


def event_series(rel: EventRelation, unit: str) -> pd.DataFrame:
    """Events per ``unit`` bucket and type (one GROUP BY).

    Returns:
        Wide frame indexed by ``bucket`` (Timestamp, oldest first; buckets without events left out), one int64
        column per event type, the most frequent type first.
    """
    with rel.query() as (con, src):
        frame = con.execute(
            f"SELECT date_trunc('{unit}', ts) AS bucket, event, count(*) AS count FROM {src} "
            "WHERE ts IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ).df()
    frame["event"] = frame["event"].astype(str)
    wide = frame.pivot_table(index="bucket", columns="event", values="count", aggfunc="sum", fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index].astype("int64")
    wide.columns = [str(c) for c in wide.columns]
    return wide


def interest_trends(
    rel: EventRelation,
    item_interest: pd.DataFrame,
    names: dict[int, str],
    *,
    unit: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    event_weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Each interest's share of the weighted activity: overall, per bucket, and recent against previous.

    Args:
        rel: The events.
        item_interest: ``item_id, interest_id`` of the build's items (``-1`` or missing: no interest).
        names: Interest id → name.
        unit: Bucket of the series (``day``, ``week``, ``month``).
        first: The log's first event time.
        last: The log's last event time.
        event_weights: ``{event: weight}`` of positive events (default ``schema.EVENT_WEIGHTS``; a return or a
            search weighs nothing).

    Returns:
        ``{"table": DataFrame, "series": DataFrame, "recent_days": int, "recent_start": Timestamp}``. ``table``:
        ``interest_id, name, share, recent_share, previous_share, change, status`` (``new``, ``rising``,
        ``falling``, ``steady``), largest overall share first; ``series``: ``bucket, interest_id, share`` (of
        the bucket's weighted activity); ``moving``: the rows of ``table`` that are not steady, largest change
        first; ``rising_series``: ``[{interest_id, name, bucket, share}]`` of up to six new or rising ones.
    """
    recent, previous, days = _windows(pd.Timestamp(first), pd.Timestamp(last))
    mapping = item_interest[["item_id", "interest_id"]].copy()
    mapping["item_id"] = mapping["item_id"].astype(str)
    mapping = mapping[mapping["interest_id"].fillna(-1).astype("int64") >= 0]
    weight = weight_case(dict(EVENT_WEIGHTS if event_weights is None else event_weights), "e.event")
    with rel.query() as (con, src):
        con.register("uig_item_interest", mapping)
        try:
            # The small mapping takes the log's id type, so the join never casts the log's millions of ids.
            kind = con.execute(f"SELECT typeof(item_id) FROM {src} LIMIT 1").fetchone()
            key = "item_id" if kind is None or kind[0] == "VARCHAR" else f"TRY_CAST(item_id AS {kind[0]})"
            cells = con.execute(
                f"SELECT date_trunc('{unit}', e.ts) AS bucket, m.interest_id, "
                "CASE WHEN e.ts > ? THEN 2 WHEN e.ts > ? THEN 1 ELSE 0 END AS win, "
                f"sum({weight}) AS w FROM {src} e JOIN (SELECT {key} AS item_id, interest_id FROM "
                f"uig_item_interest) m ON e.item_id = m.item_id "
                f"WHERE e.ts IS NOT NULL AND {positive_filter('e.event')} GROUP BY 1, 2, 3",
                [recent.to_pydatetime(), previous.to_pydatetime()],
            ).df()
        finally:
            con.unregister("uig_item_interest")
    table = _trend_table(cells, names)
    series = _share_series(cells)
    moving = table[table["status"] != "steady"].sort_values("change", ascending=False).reset_index(drop=True)
    rising = moving[moving["status"].isin(["new", "rising"])].head(6)
    return {
        "table": table,
        "series": series,
        "moving": moving,
        "rising_series": [
            {"interest_id": int(i), "name": str(n), **_one_series(series, int(i))}
            for i, n in zip(rising["interest_id"], rising["name"], strict=True)
        ],
        "recent_days": days,
        "recent_start": recent,
    }


def _one_series(series: pd.DataFrame, interest_id: int) -> dict[str, list[Any]]:
    mine = series[series["interest_id"] == interest_id]
    return {"bucket": list(mine["bucket"]), "share": [float(v) for v in mine["share"]]}


def _trend_table(cells: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    cols = ["interest_id", "name", "share", "recent_share", "previous_share", "change", "status"]
    if cells.empty:
        return pd.DataFrame(columns=cols)
    by = cells.pivot_table(index="interest_id", columns="win", values="w", aggfunc="sum", fill_value=0.0)
    by = by.reindex(columns=[0, 1, 2], fill_value=0.0)
    total = by.sum(axis=1)
    out = pd.DataFrame({"interest_id": by.index.astype("int64")})
    out["name"] = [names.get(int(i), str(int(i))) for i in out["interest_id"]]
    out["share"] = (total / max(float(total.sum()), 1e-12)).to_numpy()
    out["recent_share"] = (by[2] / max(float(by[2].sum()), 1e-12)).to_numpy()
    out["previous_share"] = (by[1] / max(float(by[1].sum()), 1e-12)).to_numpy()
    out["change"] = out["recent_share"] - out["previous_share"]
    out["status"] = _status(out["recent_share"].to_numpy(), out["previous_share"].to_numpy())
    return out.sort_values(["share", "interest_id"], ascending=[False, True]).reset_index(drop=True)[cols]


def _status(recent: np.ndarray, previous: np.ndarray) -> np.ndarray:
    change = recent - previous
    status = np.full(len(recent), "steady", dtype=object)
    status[(change <= -_MIN_CHANGE) & (previous >= _MIN_RATIO * recent)] = "falling"
    status[(change >= _MIN_CHANGE) & (recent >= _MIN_RATIO * previous)] = "rising"
    status[(recent >= _MIN_CHANGE) & (previous * _NEW_RATIO < recent)] = "new"
    return status


def _share_series(cells: pd.DataFrame) -> pd.DataFrame:
    if cells.empty:
        return pd.DataFrame(columns=["bucket", "interest_id", "share"])
    s = cells.groupby(["bucket", "interest_id"], as_index=False)["w"].sum()
    s["share"] = s["w"] / s.groupby("bucket")["w"].transform("sum")
    s["interest_id"] = s["interest_id"].astype("int64")
    return s[["bucket", "interest_id", "share"]].sort_values(["bucket", "interest_id"]).reset_index(drop=True)


def shop_trends(ws: Any, info: Any, *, build: Path | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Events over time by type and, for a built dataset, the interest landscape; memoised per content.

    Args:
        ws: The workspace.
        info: The dataset's registry row (:class:`~uig_core.store.workspace.DatasetInfo`).
        build: The current build folder (None: no interest landscape).
        meta: That build's summary (its ``build_id``, ``time_range`` and event weights are read).

    Returns:
        ``{"unit", "first", "last", "events": DataFrame, "interests": dict or None}`` (see :func:`event_series`
        and :func:`interest_trends`), shared between callers: treat it as read-only.
    """
    build_id = (meta or {}).get("build_id") if build is not None else None
    key = (str(Path(ws.root).resolve()), info.id, info.data_hash, build_id)
    return _MEMO.get_or_compute(key, lambda: _shop_trends(ws, info, build, meta or {}))


_MEMO: BoundedMemo[dict[str, Any]] = BoundedMemo(16)


def _shop_trends(ws: Any, info: Any, build: Path | None, meta: dict[str, Any]) -> dict[str, Any]:
    from uig_core.build import layout

    start = time.perf_counter()
    rel = EventRelation.of_dataset(ws, info)
    with rel.query() as (con, src):
        first, last = con.execute(f"SELECT min(ts), max(ts) FROM {src}").fetchone()
    unit = bucket_unit(first, last)
    out: dict[str, Any] = {"unit": unit, "first": first, "last": last, "interests": None}
    out["events"] = event_series(rel, unit) if first is not None else pd.DataFrame()
    if build is not None and first is not None:
        items = layout.read_frame(build, "items", columns=["item_id", "interest_id"])
        interests = layout.read_frame(build, "interests", columns=["interest_id", "name"])
        names = {int(i): str(n) for i, n in zip(interests["interest_id"], interests["name"], strict=True)}
        weights = (meta.get("config") or {}).get("event_weights")
        out["interests"] = interest_trends(rel, items, names, unit=unit, first=first, last=last, event_weights=weights)
    log.debug("shop trends of %s: %.2f s", info.name, time.perf_counter() - start)
    return out
