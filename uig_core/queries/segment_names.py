"""What a user cluster is: its distinctive interests, its behaviour and a name a marketer can read.

A cluster is described against the whole population, not on its own: an interest everyone holds says nothing
about a cluster, so the *distinctive* interests are those whose mean share in the cluster most exceeds the
population's (excess share, with the lift ``cluster share / population share`` beside it). Behaviour is read
the same way, as ratios to the population: spend (mean net spend), recency (median days since last seen),
frequency (mean events) and the channel mix (views, carts and purchases as shares of the cluster's events).
The automatic name joins the leading distinctive interest with the behaviour tags that stand out, e.g.
``Garden lovers · high spend · lapsing``; an analyst's own name replaces it (:mod:`uig_core.queries.segment_store`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["HIGH", "LOW", "NAMED_SHARE", "describe_segments", "short_interest", "cluster_sums"]

log = logging.getLogger(__name__)

#: A cluster's behaviour stands out when its ratio to the population is at least HIGH or at most LOW.
HIGH = 1.5
LOW = 0.5
_MIN_LIFT = 1.2  # an interest is distinctive only when the cluster holds it this much more than everyone
#: An interest names a cluster only when it is at least this share of the cluster's activity (a catch-all
#: cluster of a large shop holds its "distinctive" interests at 5-8 %: "Mixed interests" says it better).
NAMED_SHARE = 0.15
_CHANNELS = ("n_view", "n_cart", "n_purchase")


def short_interest(name: str) -> str:
    """The leading term of an interest's name (``"garden, outdoors"`` → ``"garden"``)."""
    head = str(name).split(" · ")[0].split(",")[0].strip()
    return head or str(name)


def cluster_sums(labels: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """``(k, values.shape[1])`` column sums of ``values`` per cluster, one sparse product (no copy per cluster)."""
    import scipy.sparse as sp

    n = len(labels)
    onehot = sp.csr_matrix((np.ones(n, dtype=np.float64), (np.asarray(labels), np.arange(n))), shape=(k, n))
    return np.asarray(onehot @ np.asarray(values, dtype=np.float64))


def describe_segments(
    labels: np.ndarray,
    profiles: np.ndarray,
    interest_names: Sequence[str],
    behaviour: pd.DataFrame,
    *,
    top: int = 3,
) -> pd.DataFrame:
    """One row per cluster: size, automatic name, distinctive and top interests, behaviour against everyone.

    Args:
        labels: ``(n_users,)`` cluster of each user, ``0 .. k-1``.
        profiles: ``(n_users, n_interests)`` interest shares.
        interest_names: Name of each profile column.
        behaviour: One row per user (same order) with any of ``n_events, n_view, n_cart, n_purchase, spend,
            recency_days``.
        top: Interests listed per cluster.

    Returns:
        ``cluster, users, share, name, distinctive interests, top interests, behaviour, events (mean),
        purchases (mean), spend (mean), recency days (median)`` plus the machine-readable ``interest_ids``
        (profile columns of the distinctive interests, best first) with their ``interest_shares`` in the cluster
        and ``population_shares``, ``lift`` (of the first) and the channel shares ``view share, cart share,
        purchase share``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    k = int(labels.max()) + 1 if n else 0
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    shares, overall = _interest_means(labels, profiles, k, sizes)
    stats = _behaviour(labels, behaviour, k, sizes)
    rows = []
    for c in range(k):
        picks = _distinctive(shares[c], overall, top)
        tags = _tags(stats, c)
        lead = [short_interest(interest_names[i]) for i in picks[:2] if shares[c, i] >= NAMED_SHARE]
        if len(lead) > 1 and shares[c, picks[1]] - overall[picks[1]] < 0.5 * (shares[c, picks[0]] - overall[picks[0]]):
            lead = lead[:1]  # a second interest joins the name only when it is nearly as distinctive
        head = f"{' & '.join(lead).capitalize()} lovers" if lead else "Mixed interests"
        order = np.argsort(-shares[c], kind="stable")[:top]
        rows.append(
            {
                "cluster": c,
                "users": int(sizes[c]),
                "share": sizes[c] / max(n, 1),
                "name": " · ".join([head, *tags[:2]]),
                "distinctive interests": " · ".join(
                    f"{interest_names[i]} {shares[c, i]:.0%} ({shares[c, i] / max(overall[i], 1e-12):.1f}×)"
                    for i in picks
                ),
                "top interests": " · ".join(
                    f"{interest_names[i]} {shares[c, i]:.0%}" for i in order if shares[c, i] > 0
                ),
                "behaviour": ", ".join(tags) or "like everyone",
                **{col: stats[col][c] for col in _SHOWN},
                "interest_ids": [int(i) for i in picks],
                "interest_shares": [float(shares[c, i]) for i in picks],
                "population_shares": [float(overall[i]) for i in picks],
                "lift": float(shares[c, picks[0]] / max(overall[picks[0]], 1e-12)) if len(picks) else np.nan,
                **{f"{ch[2:]} share": stats["mix"][c][j] for j, ch in enumerate(_CHANNELS)},
            }
        )
    return _unique_names(pd.DataFrame(rows))


_SHOWN = ("events (mean)", "purchases (mean)", "spend (mean)", "recency days (median)")


def _interest_means(
    labels: np.ndarray, profiles: np.ndarray, k: int, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(k, n_interests)`` mean share per cluster and ``(n_interests,)`` the population's."""
    if np.ndim(profiles) != 2 or np.shape(profiles)[1] == 0:
        return np.zeros((k, 0)), np.zeros(0)
    sums = cluster_sums(labels, profiles, k)
    overall = sums.sum(axis=0) / max(len(labels), 1)
    return sums / np.maximum(sizes, 1)[:, None], overall


def _distinctive(shares: np.ndarray, overall: np.ndarray, top: int) -> list[int]:
    """Profile columns held most above the population (excess share), each with a lift of at least 1.2."""
    excess = shares - overall
    lift = shares / np.maximum(overall, 1e-12)
    order = np.argsort(-excess, kind="stable")
    return [int(i) for i in order if excess[i] > 0 and lift[i] >= _MIN_LIFT][:top]


def _behaviour(labels: np.ndarray, behaviour: pd.DataFrame, k: int, sizes: np.ndarray) -> dict[str, Any]:
    """Per cluster: the shown means and medians, the ratios to the population and the channel mix."""
    nan = np.full(k, np.nan)

    def means(col: str) -> tuple[np.ndarray, float]:
        if col not in behaviour:
            return nan, np.nan
        v = np.nan_to_num(behaviour[col].to_numpy(dtype=np.float64, na_value=0.0))
        return cluster_sums(labels, v[:, None], k)[:, 0] / np.maximum(sizes, 1), float(v.mean()) if len(v) else np.nan

    events, all_events = means("n_events")
    buys, _ = means("n_purchase")
    spend, all_spend = means("spend")
    recency, all_recency = nan, np.nan
    if "recency_days" in behaviour:
        r = behaviour["recency_days"].to_numpy(dtype=np.float64, na_value=np.nan)
        recency = pd.Series(r).groupby(labels).median().reindex(range(k)).to_numpy()
        all_recency = float(np.nanmedian(r)) if np.isfinite(r).any() else np.nan
    channel = np.column_stack([means(ch)[0] for ch in _CHANNELS])
    mix = channel / np.maximum(np.nansum(channel, axis=1, keepdims=True), 1e-12)
    overall_mix = np.nansum(channel * sizes[:, None], axis=0)
    overall_mix = overall_mix / max(overall_mix.sum(), 1e-12)
    return {
        "events (mean)": events,
        "purchases (mean)": buys,
        "spend (mean)": spend,
        "recency days (median)": recency,
        "mix": np.nan_to_num(mix),
        "ratios": {
            "spend": spend / all_spend if all_spend > 0 else nan,
            "recency": (recency + 1.0) / (all_recency + 1.0) if np.isfinite(all_recency) else nan,
            "events": events / all_events if all_events > 0 else nan,
            "buying": mix[:, 2] / overall_mix[2] if overall_mix[2] > 0 else nan,
        },
    }


def _tags(stats: dict[str, Any], c: int) -> list[str]:
    """The behaviour that stands out for cluster ``c``, most telling first (spend, recency, frequency, mix)."""
    r = {name: float(v[c]) for name, v in stats["ratios"].items()}
    tags = []
    for name, high, low in (
        ("spend", "high spend", "low spend"),
        ("recency", "lapsing", "active"),
        ("events", "frequent", "occasional"),
        ("buying", "buyers", "browsers"),
    ):
        if np.isfinite(r[name]) and r[name] >= HIGH:
            tags.append(high)
        elif np.isfinite(r[name]) and r[name] <= LOW:
            tags.append(low)
    return tags


def _unique_names(table: pd.DataFrame) -> pd.DataFrame:
    """Clusters that got the same automatic name are told apart by their number."""
    if table.empty:
        return table
    repeated = table["name"].duplicated(keep=False)
    table.loc[repeated, "name"] = (
        table.loc[repeated, "name"] + " (cluster " + table.loc[repeated, "cluster"].astype(str) + ")"
    )
    return table
