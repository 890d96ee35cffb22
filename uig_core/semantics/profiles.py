"""User interest profiles, profile edges, interest co-occurrence, and interests for items without text.

Profiles are the recency-weighted share of each user's behaviour per interest; items without text borrow the
interest of the users who interact with them (:func:`assign_textless_items`, the ID-only path).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import map_values
from uig_core.errors import ConfigError
from uig_core.schema import EVENT_WEIGHTS

__all__ = [
    "user_profiles",
    "profile_edges",
    "interest_cooccurrence",
    "assign_textless_items",
    "event_weight_array",
    "factorize_ids",
    "interest_codes",
]

log = logging.getLogger(__name__)


def event_weight_array(events: pd.DataFrame, event_weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Return ``(len(events),)`` float64 weight of each event by its type; unknown types and returns weigh 0."""
    weights = dict(EVENT_WEIGHTS if event_weights is None else event_weights)
    weights.pop("return", None)  # returns are never positive evidence
    if "event" not in events:
        return np.full(len(events), float(weights.get("purchase", 1.0)))
    return map_values(events["event"], {str(k): float(v) for k, v in weights.items()}, 0.0)


def factorize_ids(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(sorted unique ids as str, int64 code per value)``; hashing, so much faster than ``np.unique``."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not isinstance(series.dtype, pd.StringDtype):  # an Arrow string column is factorized as it is (no copy)
        series = series.astype("string")
    codes, uniques = pd.factorize(series, sort=True)
    return np.asarray(uniques.astype(str), dtype=object), codes.astype(np.int64)


def interest_codes(events: pd.DataFrame, item_interest: pd.Series | Mapping[Any, int]) -> np.ndarray:
    """``(len(events),)`` int64 interest id of each event's item; ``-1`` where the item has none."""
    s = item_interest if isinstance(item_interest, pd.Series) else pd.Series(dict(item_interest))
    s = pd.Series(s.to_numpy(), index=s.index.astype(str))
    s = s[~s.index.duplicated()]
    items, idx = factorize_ids(events["item_id"])
    lookup = pd.to_numeric(s.reindex(items), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    return lookup[idx] if len(idx) else np.zeros(0, dtype=np.int64)


def user_profiles(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int],
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 30.0,
    now: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Each user's distribution over interests.

    An event weighs ``event_weights[event] * 0.5 ** (age_days / half_life_days)`` with ``age = now - ts``
    (clipped at 0). Returns and events of items without an interest (unknown or ``-1``) are left out.

    Args:
        events: Canonical events (``user_id, item_id``; ``event`` and ``ts`` used when present).
        item_interest: ``item_id -> interest_id`` (e.g. ``InterestResult.item_interest()``).
        event_weights: ``{event: weight}``; default ``schema.EVENT_WEIGHTS`` (purchase 8 > cart 4 > click 2 > view 1).
        half_life_days: Recency half-life in days; None or ``inf`` turns decay off.
        now: Reference time for ages; default the latest ``ts`` in ``events``.

    Returns:
        DataFrame ``(n_users, n_interests)`` float64, index ``user_id``, columns every interest id of
        ``item_interest`` (sorted ints); each row sums to 1. Users with no weighted event are absent.
    """
    if half_life_days is not None and not half_life_days > 0:
        raise ConfigError(f"The 'half_life_days' of user_profiles must be > 0 or None. Got {half_life_days!r}.")
    w = event_weight_array(events, event_weights)
    if half_life_days is not None and np.isfinite(half_life_days) and "ts" in events:
        ts = pd.to_datetime(events["ts"])
        ref = pd.Timestamp(now) if now is not None else ts.max()
        age = ((ref - ts).dt.total_seconds() / 86400.0).clip(lower=0.0).fillna(0.0).to_numpy()
        w = w * np.exp2(-age / float(half_life_days))
    codes = interest_codes(events, item_interest)
    ok = (w > 0) & (codes >= 0)
    users, uidx = factorize_ids(events["user_id"][ok])
    known = (
        pd.to_numeric(
            pd.Series(
                item_interest.values()
                if isinstance(item_interest, Mapping) and not isinstance(item_interest, pd.Series)
                else item_interest
            ),
            errors="coerce",
        )
        .dropna()
        .to_numpy(dtype=np.int64)
    )
    cols = np.union1d(known[known >= 0], codes[ok])  # every interest is a column, touched or not
    cidx = np.searchsorted(cols, codes[ok])
    mat = sp.csr_matrix((w[ok], (uidx, cidx)), shape=(len(users), len(cols))).toarray()
    total = mat.sum(axis=1, keepdims=True)
    keep = total.ravel() > 0
    mat = mat[keep] / total[keep]
    out = pd.DataFrame(mat, index=pd.Index(users[keep], name="user_id"), columns=pd.Index(cols, name="interest_id"))
    return out


def profile_edges(profiles: pd.DataFrame, *, min_weight: float = 0.02) -> pd.DataFrame:
    """User→interest edges from :func:`user_profiles`: long frame ``user_id, interest_id, weight`` (weight >= min)."""
    arr = profiles.to_numpy()
    r, c = np.nonzero(arr >= min_weight)
    return pd.DataFrame(
        {
            "user_id": profiles.index.to_numpy()[r],
            "interest_id": profiles.columns.to_numpy()[c].astype(np.int64),
            "weight": arr[r, c],
        }
    )


def interest_cooccurrence(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int] | None = None,
    *,
    event_weights: Mapping[str, float] | None = None,
    min_share: float = 0.05,
    min_users: int = 3,
) -> pd.DataFrame:
    """Interest→interest edges from co-occurrence in users' histories.

    A user "holds" an interest when it has at least ``min_share`` of the user's (undecayed) profile. For a pair
    of interests, ``n_users`` counts users holding both, ``weight`` is their Ochiai (cosine) association
    ``n_ab / sqrt(n_a * n_b)`` in [0, 1], and ``lift`` is ``n_ab * N / (n_a * n_b)`` (> 1: more than chance).

    Args:
        events: Canonical events; or, with ``item_interest`` None, a profiles frame from :func:`user_profiles`.
        item_interest: ``item_id -> interest_id``.
        event_weights: As in :func:`user_profiles`.
        min_share: Profile share from which a user holds an interest.
        min_users: Fewest users holding both for an edge to be kept.

    Returns:
        DataFrame ``source, target, n_users, weight, lift`` with ``source < target`` (undirected), sorted by
        weight descending.
    """
    if item_interest is None:
        profiles = events
    else:
        profiles = user_profiles(events, item_interest, event_weights=event_weights, half_life_days=None)
    held = sp.csr_matrix((profiles.to_numpy() >= min_share).astype(np.float64))
    co = (held.T @ held).toarray()
    n_a = np.diag(co).copy()
    a, b = np.triu_indices(len(n_a), k=1)
    n_ab = co[a, b]
    keep = n_ab >= max(min_users, 1)
    a, b, n_ab = a[keep], b[keep], n_ab[keep]
    ids = profiles.columns.to_numpy().astype(np.int64)
    denom = np.maximum(n_a[a] * n_a[b], 1.0)
    out = pd.DataFrame(
        {
            "source": ids[a],
            "target": ids[b],
            "n_users": n_ab.astype(np.int64),
            "weight": n_ab / np.sqrt(denom),
            "lift": n_ab * len(profiles) / denom,
        }
    )
    return out.sort_values(["weight", "source", "target"], ascending=[False, True, True], ignore_index=True)


def assign_textless_items(
    events: pd.DataFrame,
    item_interest: pd.Series,
    *,
    event_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """ID-only path: give items without text (interest -1) the interest their users lean to.

    For each such item, sums the (undecayed) interest profiles of the users who interacted with it, weighted by
    their events on it, and takes the argmax. Items nobody with a profile touched stay ``-1``.

    Args:
        events: Canonical events.
        item_interest: ``item_id -> interest_id`` with ``-1`` for text-less items.
        event_weights: As in :func:`user_profiles`.

    Returns:
        A copy of ``item_interest`` with the text-less items filled where possible.
    """
    out = item_interest.copy()
    out.index = out.index.astype(str)
    missing = out.index[out.to_numpy() < 0]
    if len(missing) == 0 or out.max() < 0:
        return out
    prof = user_profiles(events, out, event_weights=event_weights, half_life_days=None)
    ev = events[events["item_id"].astype(str).isin(set(missing))]
    if ev.empty or prof.empty:
        return out
    w = event_weight_array(ev, event_weights)
    users = ev["user_id"].astype(str).to_numpy()
    pos = prof.index.get_indexer(users)
    ok = (pos >= 0) & (w > 0)
    items, iidx = factorize_ids(ev["item_id"][ok])
    agg = sp.csr_matrix((w[ok], (iidx, pos[ok])), shape=(len(items), len(prof))) @ prof.to_numpy()
    best = prof.columns.to_numpy()[np.argmax(agg, axis=1)]
    has = agg.max(axis=1) > 0
    out.loc[items[has]] = best[has].astype(np.int64)
    return out
