"""A build's interest points as a list (``uig interests``): each with its size and best-known items."""

from __future__ import annotations

import logging
from typing import Any

from uig_core.build.bundle import Bundle

__all__ = ["interest_list"]

log = logging.getLogger(__name__)


def interest_list(bundle: Bundle, *, top: int = 5) -> dict[str, Any]:
    """Coarse interests, largest first, each with up to ``top`` items, plus every item's interest.

    Returns:
        ``{"interests": [{interest_id, name, size, top_items: [{item_id, title}]}], "items": {item_id: interest}}``.
    """
    table = bundle.interests
    coarse = table[table["level"] == "coarse"] if "level" in table else table
    item_ids = bundle.items["item_id"].astype(str)
    titles = dict(zip(item_ids, bundle.items["title"].astype(str), strict=True))
    rows = [
        {
            "interest_id": int(r.interest_id),
            "name": str(r.name),
            "size": int(r.size),
            "top_items": [{"item_id": str(i), "title": titles.get(str(i), str(i))} for i in list(r.top_items)[:top]],
        }
        for r in coarse.sort_values("size", ascending=False).itertuples()
    ]
    return {
        "interests": rows,
        "items": dict(zip(item_ids, bundle.items["interest_id"].astype(int).tolist(), strict=True)),
    }
