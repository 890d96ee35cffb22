"""The tables of the *Recommendations* page: a user's top-K with reasons, two models side by side, an item's audience.

Everything here reads a loaded :class:`~uig_core.build.bundle.Bundle` and returns small frames, so the page only
renders. Titles and ids come from uploaded logs: they are returned as plain text, never as markup.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pandas as pd

from uig_core.build.bundle import Bundle
from uig_core.errors import ConfigError
from uig_core.queries.segments import neutralize_cell

__all__ = [
    "HIDE_OPTIONS",
    "model_tasks",
    "recommendation_table",
    "compare_models",
    "audience_table",
    "recommendations_csv",
]

log = logging.getLogger(__name__)

HIDE_OPTIONS = {
    "seen": "everything the user interacted with (discover)",
    "purchased": "only what the user bought (next purchase)",
    "nothing": "nothing",
}
_TASK_LABELS = {"discover": "default for discover", "next_purchase": "default for next purchase"}


def model_tasks(meta: dict[str, Any]) -> dict[str, str]:
    """``model → "default for discover"`` (or next purchase, or both) from a build summary's choice."""
    chosen = dict(meta.get("default_models") or {"discover": meta.get("default_model")})
    out: dict[str, str] = {}
    for task, label in _TASK_LABELS.items():
        name = chosen.get(task)
        if name:
            out[str(name)] = f"{out[str(name)]}, {label.removeprefix('default ')}" if name in out else label
    return out


def recommendation_table(
    bundle: Bundle,
    user_id: str,
    k: int = 10,
    *,
    model: str | None = None,
    category: str | None = None,
    hide: str = "seen",
    explain: bool = True,
) -> pd.DataFrame:
    """Top-k items for a user as a table: ``rank, item_id, title, reason, score, interest, category``.

    Args:
        bundle: The build.
        user_id: The user.
        k: How many items.
        model: Model name (default: the build's default).
        category: Only items of this category.
        hide: What to leave out, one of :data:`HIDE_OPTIONS` (``seen``: every item the user interacted with;
            ``purchased``: only items the user bought; ``nothing``).
        explain: Add the reason behind each item.
    """
    if hide not in HIDE_OPTIONS:
        raise ConfigError(f"hide={hide!r} is unknown; use one of {', '.join(HIDE_OPTIONS)}.")
    if hide == "purchased" and _hides_only_bought(bundle, model):  # its own seen mask is the bought pairs
        rows = bundle.recommend(user_id, k=int(k), model=model, explain=explain, exclude_seen=True, category=category)
    elif hide == "purchased" and bundle.strongest is not None:
        bought = _purchased(bundle, user_id)
        rows = bundle.recommend(
            user_id, k=int(k) + len(bought), model=model, explain=False, exclude_seen=False, category=category
        )
        rows = [r for r in rows if r["item_id"] not in bought][: int(k)]
        if explain and rows:
            rows = _with_reasons(bundle, user_id, rows)
    else:
        rows = bundle.recommend(
            user_id, k=int(k), model=model, explain=explain, exclude_seen=hide != "nothing", category=category
        )
    frame = pd.DataFrame(rows, columns=["item_id", "title", "reason", "score", "interest", "category"])
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def _hides_only_bought(bundle: Bundle, model: str | None) -> bool:
    from uig_core.models import MODELS

    name = model or bundle.meta.get("default_model")
    return getattr(MODELS.get(str(name)), "task", "discover") == "next_purchase"


def _purchased(bundle: Bundle, user_id: str) -> set[str]:
    from uig_core.schema import EVENT_CODES

    row = bundle.user_row(user_id)
    r = bundle.strongest[row]
    codes = np.asarray(r.data)
    bought = max(EVENT_CODES)  # the purchase code (the bundle reads older builds' codes into today's)
    return {str(bundle.items["item_id"].iat[j]) for j in np.asarray(r.indices)[codes >= bought]}


def _with_reasons(bundle: Bundle, user_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    row = bundle.user_row(user_id)
    reasons = bundle.reasons(row, bundle.item_index.get_indexer([r["item_id"] for r in rows]))
    seen = bundle._strongest_events(row)
    out = []
    for r, reason in zip(rows, reasons, strict=True):
        if r["item_id"] in seen:  # shown again because only purchases are hidden
            verb = {"view": "viewed", "click": "clicked", "cart": "added to cart"}.get(seen[r["item_id"]], "saw")
            out.append({**r, "reason": f"{verb} it already, not bought yet", "reason_kind": "seen"})
        else:
            out.append({**r, "reason": reason.text, "reason_kind": reason.kind})
    return out


def compare_models(
    bundle: Bundle,
    user_id: str,
    models: tuple[str, str],
    k: int = 10,
    *,
    category: str | None = None,
    hide: str = "seen",
) -> dict[str, Any]:
    """Two models' top-k for one user, side by side, on one scale.

    Raw scores of two models cannot be compared (a popularity count against a dot product), so each item's
    ``percentile`` says where the model puts it among every item it scores for this user: 99.9 means the model
    ranks only 0.1 % of the catalogue above it.

    Returns:
        ``{"left": DataFrame, "right": DataFrame, "shared": int, "shared_items": list[str]}``; each frame has
        ``rank, item_id, title, percentile, reason, shared`` (shared: the other model recommends it too).
    """
    tables = [recommendation_table(bundle, user_id, k, model=m, category=category, hide=hide) for m in models]
    left, right = (
        t.assign(percentile=_percentiles(bundle, user_id, m, t["item_id"]))[
            ["rank", "item_id", "title", "percentile", "reason"]
        ]
        for t, m in zip(tables, models, strict=True)
    )
    common = set(left["item_id"]) & set(right["item_id"])
    left["shared"] = left["item_id"].isin(common)
    right["shared"] = right["item_id"].isin(common)
    return {
        "left": left,
        "right": right,
        "shared": len(common),
        "shared_items": [i for i in left["item_id"] if i in common],
    }


def _percentiles(bundle: Bundle, user_id: str, model: str, item_ids: pd.Series) -> np.ndarray:
    """Rank percentile (0–100) of each item among all the items ``model`` scores for ``user_id``."""
    if len(item_ids) == 0:
        return np.zeros(0)
    raw = np.asarray(bundle.model(model).score(np.array([bundle.user_row(user_id)])), dtype=np.float64)[0]
    ranked = np.sort(raw[np.isfinite(raw)])
    cols = bundle.item_index.get_indexer(item_ids.astype(str))
    values = raw[np.where(cols >= 0, cols, 0)]
    below = np.searchsorted(ranked, values, side="left")
    out = 100.0 * below / max(len(ranked) - 1, 1)
    return np.round(np.where((cols >= 0) & np.isfinite(values), np.minimum(out, 100.0), np.nan), 1)


def recommendations_csv(table: pd.DataFrame, user_id: str) -> bytes:
    """A user's recommendation table as UTF-8 CSV bytes, a ``user_id`` column first, formulas neutralised."""
    out = table.copy()
    out.insert(0, "user_id", str(user_id))
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype(object).map(neutralize_cell)
    out.columns = [neutralize_cell(str(c)) for c in out.columns]
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8")


def audience_table(
    bundle: Bundle, item_id: str, k: int = 20, *, model: str | None = None, exclude_seen: bool = True
) -> pd.DataFrame:
    """Users most likely to want an item, with their main interest ("who should we show item Z to?")."""
    frame = bundle.audience(item_id, k, model=model, exclude_seen=exclude_seen)
    rows = bundle.user_index.get_indexer(frame["user_id"].astype(str))
    prof = bundle.profiles[rows] if len(rows) else np.zeros((0, len(bundle.profile_columns)))
    names = bundle.interest_names
    if prof.shape[1] == 0:  # a build without interests (a log with no titles or categories)
        top: list[str | None] = [None] * len(frame)
    else:
        top = [
            names.get(int(bundle.profile_columns[j])) if p.max(initial=0.0) > 0 else None
            for p, j in zip(prof, prof.argmax(axis=1) if len(prof) else [], strict=True)
        ]
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame["main_interest"] = top
    return frame
