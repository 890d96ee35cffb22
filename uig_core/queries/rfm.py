"""Recency, frequency and monetary value (RFM) of a user, scored 1–5 against every user of the build.

Frequency and monetary are the users table's net ``orders`` and ``spend`` (:mod:`uig_core.store.money`), so the
scores an analyst segments on agree with the spend the portrait, the exports and Home show.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["rfm"]

log = logging.getLogger(__name__)


def rfm(users: pd.DataFrame, row: int, end: pd.Timestamp, *, bundle: Bundle | None = None) -> dict[str, Any]:
    """Recency, frequency and monetary value of one user, with 1–5 scores relative to all users (5 = best).

    Frequency is the user's net orders and monetary their net spend (the users table's ``orders`` and
    ``spend``), so an order returned in full counts for neither; a user with nothing kept scores 1 on both.

    With ``bundle`` (whose ``users`` these are), the sorted columns the scores rank against are computed once per
    bundle, so a portrait costs a binary search instead of ranking every user.
    """
    u = users.iloc[row]
    last = pd.Timestamp(u["last_seen"])
    recency = (end - last).total_seconds() / 86400.0
    freq_col = "orders" if "orders" in users else "n_purchase" if "n_purchase" in users else None
    freq = int(u[freq_col]) if freq_col else 0
    money = float(u["spend"]) if "spend" in users else 0.0

    def sorted_values(name: str) -> np.ndarray:
        def compute() -> np.ndarray:
            if name == "recency":
                seen = pd.to_datetime(users["last_seen"])
                values = -((end - seen).dt.total_seconds() / 86400.0)
            else:
                values = users[name] if name in users else pd.Series(0.0, index=users.index)
            return np.sort(pd.to_numeric(values, errors="coerce").fillna(0.0).to_numpy(dtype=np.float64))

        return bundle.memo(("rfm_sorted", name, str(end)), compute) if bundle is not None else compute()

    def score(name: str, value: float) -> int:
        v = sorted_values(name)
        value = 0.0 if value is None or pd.isna(value) else float(value)
        # pandas' rank(pct=True, method="average"): the mean 1-based position of the ties, over n.
        lo, hi = np.searchsorted(v, value, side="left"), np.searchsorted(v, value, side="right")
        pct = (lo + 1 + hi) / 2 / len(v)
        return int(min(5, max(1, math.ceil(pct * 5))))

    return {
        "recency_days": round(float(recency), 1),
        "frequency": freq,
        "monetary": round(money, 2),
        "r": score("recency", -recency),
        "f": score(freq_col, freq) if freq > 0 and freq_col else 1,
        "m": score("spend", money) if money > 0 else 1,
    }
