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
    "profiles_from_evidence",
    "user_profiles",
    "profile_edges",
    "interest_cooccurrence",
    "assign_textless_items",
    "assign_textless",
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


def profiles_from_evidence(
    evidence: sp.csr_matrix, labels: np.ndarray, interest_ids: np.ndarray, user_index: pd.Index
) -> pd.DataFrame:
    """Each user's distribution over interests from per-pair evidence (users × items) and item interests.

    Args:
        evidence: ``(n_users, n_items)`` weights (e.g. :class:`~uig_core.graph.pairs.PairMatrices` ``evidence``).
        labels: ``(n_items,)`` interest id of each item, ``-1`` for none (left out).
        interest_ids: The interest ids that become columns (sorted ints), touched or not.
        user_index: The user id of each row of ``evidence``.

    Returns:
        ``(n_users with evidence, n_interests)`` float64 frame, index ``user_id``, rows summing to 1.
    """
    cols = np.asarray(interest_ids, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    pos = np.searchsorted(cols, labels)
    known = (
        (labels >= 0) & (pos < len(cols)) & (cols[np.minimum(pos, len(cols) - 1)] == labels)
        if len(cols)
        else labels < -1
    )
    items = np.flatnonzero(known)
    onehot = sp.csr_matrix(
        (np.ones(len(items)), (items, pos[items])), shape=(evidence.shape[1], len(cols)), dtype=np.float64
    )
    mat = np.asarray((evidence.astype(np.float64) @ onehot).todense())
    total = mat.sum(axis=1, keepdims=True)
    keep = total.ravel() > 0
    mat = mat[keep] / total[keep]
    index = pd.Index(np.asarray(user_index.astype(str), dtype=object)[keep], name="user_id")
    return pd.DataFrame(mat, index=index, columns=pd.Index(cols, name="interest_id"))


def user_profiles(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int],
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 30.0,
    now: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Each user's distribution over interests (a frame's events; a build uses :func:`profiles_from_evidence`).

    An event weighs ``event_weights[event] * 0.5 ** (age_days / half_life_days)`` with ``age = now - ts``
    (clipped at 0). Returns and events of items without an interest (unknown or ``-1``) are left out.

    Args:
        events: Canonical events (``user_id, item_id``; ``event`` and ``ts`` used when present).
        item_interest: ``item_id -> interest_id`` (e.g. ``InterestResult.item_interest()``).
        event_weights: ``{event: weight}``; default ``schema.EVENT_WEIGHTS`` (purchase 8 > cart 4 > click 2 > view 1).
        half_life_days: Recency half-life in days; None or ``inf`` turns decay off.
        now: Reference time for ages; default the latest positive event in ``events``.

    Returns:
        DataFrame ``(n_users, n_interests)`` float64, index ``user_id``, columns every interest id of
        ``item_interest`` (sorted ints); each row sums to 1. Users with no weighted event are absent.
    """
    from uig_core.graph.pairs import pair_matrices

    if half_life_days is not None and not half_life_days > 0:
        raise ConfigError(f"The 'half_life_days' of user_profiles must be > 0 or None. Got {half_life_days!r}.")
    series = _interest_series(item_interest)
    users, _ = factorize_ids(events["user_id"])
    items, _ = factorize_ids(events["item_id"])
    ref = pd.Timestamp(now) if now is not None else None
    pairs = pair_matrices(
        events, pd.Index(users), pd.Index(items), event_weights=event_weights, half_life_days=half_life_days, now=ref
    )
    labels = pd.to_numeric(series.reindex(items), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    known = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=np.int64)
    return profiles_from_evidence(pairs.evidence, labels, np.unique(known[known >= 0]), pd.Index(users))


def _interest_series(item_interest: pd.Series | Mapping[Any, int]) -> pd.Series:
    """``item_interest`` as a Series indexed by item id text (first value of a repeated id)."""
    s = item_interest if isinstance(item_interest, pd.Series) else pd.Series(dict(item_interest))
    s = pd.Series(s.to_numpy(), index=s.index.astype(str))
    return s[~s.index.duplicated()]


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
    """ID-only path on a frame's events: :func:`assign_textless` with the frame's undecayed evidence."""
    from uig_core.graph.pairs import pair_matrices

    out = item_interest.copy()
    out.index = out.index.astype(str)
    users, _ = factorize_ids(events["user_id"])
    labels = pd.to_numeric(out, errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    evidence = pair_matrices(events, pd.Index(users), out.index, event_weights=event_weights, half_life_days=None)
    filled = assign_textless(evidence.evidence_raw, labels)
    return pd.Series(filled, index=out.index)


def assign_textless(evidence_raw: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """ID-only path: give items without text (interest -1) the interest their users lean to.

    For each such item, sums the (undecayed) interest profiles of the users who interacted with it, weighted by
    their evidence on it, and takes the argmax. Items nobody with a profile touched stay ``-1``.

    Args:
        evidence_raw: ``(n_users, n_items)`` undecayed evidence (:class:`~uig_core.graph.pairs.PairMatrices`).
        labels: ``(n_items,)`` interest ids with ``-1`` for text-less items.

    Returns:
        A copy of ``labels`` with the text-less items filled where possible.
    """
    out = np.asarray(labels, dtype=np.int64).copy()
    missing = np.flatnonzero(out < 0)
    if len(missing) == 0 or out.max() < 0:
        return out
    ids = np.unique(out[out >= 0])
    prof = profiles_from_evidence(evidence_raw, out, ids, pd.RangeIndex(evidence_raw.shape[0]))
    if prof.empty:
        return out
    rows = prof.index.to_numpy().astype(np.int64)
    agg = np.asarray(evidence_raw[rows][:, missing].T @ prof.to_numpy())  # (n_missing, n_interests)
    has = agg.max(axis=1) > 0
    out[missing[has]] = ids[np.argmax(agg[has], axis=1)]
    return out
