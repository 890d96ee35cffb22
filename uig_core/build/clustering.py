"""The build's user segments: clusters, their description, their size over time and what to recommend to them.

Clustering every user takes seconds at catalogue scale (a 2 M-user build: the k scan, the final k-means and
describing the clusters), so a build does it once (:func:`segment_step`) and stores the result
(``BuildContents.segments``, written and read by :mod:`uig_core.build.layout`); the Clusters & segments page reads
it (:func:`stored_or_computed`). What is stored, by part:

* ``labels`` ``(n_users,)`` int16: each user's cluster (cluster 0 the largest); ``centres`` ``(k, dim)``;
* ``clusters``: one row per cluster (:func:`~uig_core.queries.segment_names.describe_segments`);
* ``scan``: ``k, silhouette, stability, chosen`` for every ``k`` tried;
* ``over_time``: ``cluster, period, active_users, events, purchases`` per week or month (by the log's span);
* ``items``: ``cluster, rank, item_id, title, interest, share``: the items the default model ranks highest for a
  sample of each cluster's members (``share``: the part of them whose top 20 holds it);
* ``map``: the 2-D map's points (:func:`~uig_core.queries.user_map.map_frame`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.queries.segment_names import describe_segments

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle
    from uig_core.build.steps import Interests
    from uig_core.queries.clusters import Clustering
    from uig_core.store.relation import EventRelation

__all__ = [
    "RECOMMEND_SAMPLE",
    "WEEKLY_UP_TO_DAYS",
    "segment_step",
    "build_segments",
    "stored_or_computed",
    "behaviour_frame",
    "member_labels",
    "member_sample",
]

log = logging.getLogger(__name__)

#: Members per cluster whose recommendations are counted (scored a few at a time: a score row is one float per
#: item, 445 k of them at catalogue scale).
RECOMMEND_SAMPLE = 64
_SCORE_BATCH = 16
#: Logs spanning up to this many days get weekly sizes, longer ones monthly.
WEEKLY_UP_TO_DAYS = 183
_TOP_ITEMS = 10


def behaviour_frame(users: pd.DataFrame) -> pd.DataFrame:
    """The users-table columns a cluster's behaviour is read from, plus ``recency_days`` (since the log's end)."""
    cols = [c for c in ("n_events", "n_view", "n_cart", "n_purchase", "spend") if c in users]
    out = pd.DataFrame({c: users[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in cols})
    if "last_seen" in users:
        last = pd.to_datetime(users["last_seen"])
        out["recency_days"] = ((last.max() - last).dt.total_seconds() / 86400.0).to_numpy()
    return out


def segment_step(
    model: Any,
    profiles: np.ndarray,
    interest_names: list[str],
    users: pd.DataFrame,
    items: pd.DataFrame,
    events: EventRelation | None,
    *,
    seed: int = 0,
    k: int | None = None,
) -> dict[str, Any]:
    """Cluster a build's users and describe the clusters: the parts the layout stores (module docstring).

    Args:
        model: The build's default model (its user factors are the vectors clustered, else the profiles; its
            recommendations fill ``items``).
        profiles: ``(n_users, n_interests)`` interest shares.
        interest_names: Name of each profile column.
        users: The build's users table (row = model row).
        items: The build's items table (``item_id, title, interest_id``; column = model column).
        events: The dataset's events (sizes over time), or None to leave ``over_time`` empty.
        seed: Random state of the samples and k-means.
        k: Number of clusters (default: chosen, see :func:`~uig_core.queries.clusters.cluster_vectors`).
    """
    from uig_core.queries.clusters import cluster_vectors
    from uig_core.queries.vectors import normalized, user_vectors_of

    start = time.perf_counter()
    vectors = normalized(user_vectors_of(model, profiles))
    clustering = _timed("k-means", cluster_vectors, lambda rows: vectors[rows], len(vectors), k, seed=seed)
    return _parts(clustering, model, profiles, interest_names, users, items, events, seed, start)


def _timed(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, its wall and CPU seconds logged at DEBUG (``uig build -vv``)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    log.debug("segments: %s %.2f s (%.2f CPU-s)", what, time.perf_counter() - wall, time.process_time() - cpu)
    return out


def _parts(
    clustering: Clustering,
    model: Any,
    profiles: np.ndarray,
    interest_names: list[str],
    users: pd.DataFrame,
    items: pd.DataFrame,
    events: EventRelation | None,
    seed: int,
    start: float,
) -> dict[str, Any]:
    """The stored parts of one clustering (see the module docstring)."""
    labels = clustering.labels
    table = _timed("describe", describe_segments, labels, profiles, interest_names, behaviour_frame(users))
    scan = pd.DataFrame(
        {
            "k": list(clustering.scores),
            "silhouette": list(clustering.scores.values()),
            "stability": [clustering.stability.get(c, np.nan) for c in clustering.scores],
        },
        dtype=np.float64,
    ).astype({"k": np.int64})
    scan["chosen"] = scan["k"] == clustering.k
    centres = clustering.centres if clustering.centres is not None else np.zeros((clustering.k, 0), np.float32)
    parts = {
        "labels": labels.astype(np.int16),
        "centres": np.asarray(centres, dtype=np.float32),
        "clusters": table,
        "scan": scan,
        "over_time": _timed("over time", over_time, events, users["user_id"], labels)
        if events is not None
        else _empty_over_time(),
        "items": _timed("items", recommended_items, model, labels, items, seed=seed),
        "map": _map_points(clustering, profiles, interest_names, users),
    }
    table["note"] = clustering.note  # why the clustering is not what was asked (too few users…), or ""
    log.info("clustered %d users into %d segments in %.2f s", len(labels), clustering.k, time.perf_counter() - start)
    return parts


def _empty_over_time() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cluster": pd.Series(dtype=np.int64),
            "period": pd.Series(dtype="datetime64[us]"),
            "active_users": pd.Series(dtype=np.int64),
            "events": pd.Series(dtype=np.int64),
            "purchases": pd.Series(dtype=np.int64),
        }
    )


def over_time(events: EventRelation, user_ids: pd.Series, labels: np.ndarray) -> pd.DataFrame:
    """Active members, events and purchases of each cluster per week (or month, for a log over half a year).

    The events are counted per (user, period) first and only those rows are joined to the members (an Arrow
    table, no Python string per user): at 20 M events and 2 M users that is a third of the CPU of joining every
    event.
    """
    import pyarrow as pa

    members = pa.table({"user_id": pa.array(user_ids, type=pa.string()), "cluster": pa.array(labels.astype(np.int16))})
    with events.query() as (con, rel):
        first, last = con.execute(f"SELECT min(ts), max(ts) FROM {rel}").fetchall()[0]
        if first is None or last is None:
            return _empty_over_time()
        unit = "week" if (pd.Timestamp(last) - pd.Timestamp(first)).days <= WEEKLY_UP_TO_DAYS else "month"
        con.register("segment_members", members)
        try:
            out = con.execute(
                "SELECT m.cluster, p.period, count(*) AS active_users, sum(p.n) AS events, sum(p.buys) AS purchases "
                f"FROM (SELECT CAST(user_id AS VARCHAR) AS user_id, date_trunc('{unit}', ts) AS period, count(*) AS n, "
                f"count(*) FILTER (WHERE event = 'purchase') AS buys FROM {rel} WHERE ts IS NOT NULL GROUP BY 1, 2) p "
                "JOIN segment_members m ON p.user_id = m.user_id GROUP BY 1, 2 ORDER BY 1, 2"
            ).df()
        finally:
            con.unregister("segment_members")
    return out.astype({"cluster": np.int64, "active_users": np.int64, "events": np.int64, "purchases": np.int64})


def recommended_items(
    model: Any,
    labels: np.ndarray,
    items: pd.DataFrame,
    *,
    seed: int = 0,
    sample: int = RECOMMEND_SAMPLE,
    k: int = 20,
) -> pd.DataFrame:
    """The items the model ranks highest for each cluster: counted over the top ``k`` of a sample of members."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(int(labels.max()) + 1 if len(labels) else 0):
        members = np.flatnonzero(labels == c)
        if len(members) > sample:
            members = np.sort(rng.choice(members, size=sample, replace=False))
        if not len(members):
            continue
        top = min(k, int(model.n_items_))
        idx = np.concatenate(
            [
                np.asarray(model.recommend(members[a : a + _SCORE_BATCH].astype(np.int64), k=top)[0]).ravel()
                for a in range(0, len(members), _SCORE_BATCH)
            ]
        )
        cols, counts = np.unique(idx[idx >= 0], return_counts=True)
        best = np.lexsort((cols, -counts))[:_TOP_ITEMS]
        for rank, j in enumerate(best, 1):
            rows.append({"cluster": c, "rank": rank, "col": int(cols[j]), "share": counts[j] / len(members)})
    out = pd.DataFrame(rows, columns=["cluster", "rank", "col", "share"])
    part = items.iloc[out["col"].to_numpy(dtype=np.int64)]
    out["item_id"] = part["item_id"].astype(str).to_numpy()
    out["title"] = part["title"].astype(str).to_numpy() if "title" in part else out["item_id"]
    out["interest_id"] = part["interest_id"].to_numpy(dtype=np.int64) if "interest_id" in part else -1
    return out.drop(columns="col").astype({"cluster": np.int64, "rank": np.int64, "share": np.float64})


def _map_points(
    clustering: Clustering, profiles: np.ndarray, interest_names: list[str], users: pd.DataFrame
) -> pd.DataFrame:
    """The map's points (as :func:`~uig_core.queries.user_map.map_frame` draws them), read at the map's rows only."""
    import html

    n = len(clustering.labels)
    rows = clustering.rows if clustering.rows is not None else np.arange(n)
    coords = clustering.coords if clustering.coords is not None else np.zeros((len(rows), 2), np.float32)
    if np.ndim(profiles) == 2 and np.shape(profiles)[1]:
        top = np.asarray(interest_names, dtype=object)[np.asarray(profiles[rows]).argmax(axis=1)]
    else:
        top = np.full(len(rows), "", dtype=object)
    out = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "cluster": clustering.labels[rows].astype(str),
            "user": [html.escape(str(u)) for u in users["user_id"].iloc[rows]],
            "top_interest": [html.escape(str(t)) for t in top],
        }
    )
    for c in ("n_events", "spend"):
        out[c] = users[c].iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan) if c in users else np.nan
    return out


def stored_or_computed(bundle: Bundle, events: EventRelation | None = None) -> dict[str, Any]:
    """The build's stored segments, or (a build written before builds stored them) the same computed now.

    Args:
        bundle: The build.
        events: The dataset's events, for the sizes over time of a computed clustering.
    """
    stored = bundle.segments
    if stored is not None:
        return stored
    log.info("build %s stores no segments; clustering its users now", bundle.build_id)
    names = bundle.interest_names
    columns = np.asarray(bundle.profile_columns).astype(int)
    return segment_step(
        bundle.model(),
        np.asarray(bundle.profiles),
        [names.get(int(t), str(t)) for t in columns],
        bundle.users,
        bundle.items,
        events,
        seed=int(bundle.meta.get("config", {}).get("seed", 0)),
    )


def build_segments(
    model: Any, found: Interests, users: pd.DataFrame, items: pd.DataFrame, events: EventRelation, *, seed: int = 0
) -> dict[str, Any]:
    """The build step: :func:`segment_step` on what the earlier steps produced (interests, users, items)."""
    table = found.table
    names = dict(zip(table["interest_id"].astype(int), table["name"].astype(str), strict=True))
    columns = np.asarray(found.profiles.columns).astype(int)
    profiles = found.profiles.to_numpy(dtype=np.float32)
    return segment_step(model, profiles, [names.get(int(t), str(t)) for t in columns], users, items, events, seed=seed)


def member_labels(user_ids: Any, labels: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    """The cluster of each of ``ids`` (-1 for an id the build lacks), one pass over the build's user ids.

    Args:
        user_ids: The build's ``user_id`` column (a pyarrow array or a pandas Series; row = label row).
        labels: ``(n_users,)`` clusters.
        ids: The user ids asked about (a few hundred).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    column = (
        user_ids if isinstance(user_ids, (pa.Array, pa.ChunkedArray)) else pa.array(pd.Series(user_ids).astype(str))
    )
    column = pc.cast(column, pa.string())
    wanted = pa.array([str(i) for i in ids], type=pa.string())
    rows = np.flatnonzero(np.asarray(pc.is_in(column, value_set=wanted), dtype=bool))
    found = dict(zip(column.take(pa.array(rows)).to_pylist(), np.asarray(labels)[rows].tolist(), strict=True))
    return np.array([found.get(str(i), -1) for i in ids], dtype=np.int64)


def member_sample(user_ids: Any, labels: np.ndarray, cluster: int, *, size: int = 500, seed: int = 0) -> list[str]:
    """A seeded sample of at most ``size`` ids of the cluster's members (what a cluster's name is kept with)."""
    import pyarrow as pa

    rows = np.flatnonzero(np.asarray(labels) == int(cluster))
    if len(rows) > size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=size, replace=False))
    if isinstance(user_ids, (pa.Array, pa.ChunkedArray)):
        return [str(v) for v in user_ids.take(pa.array(rows)).to_pylist()]
    return [str(v) for v in pd.Series(user_ids).iloc[rows]]
