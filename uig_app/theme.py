"""One look across pages: page config, node-type colours and an interest palette."""

from __future__ import annotations

from typing import Any

import streamlit as st

from uig_core.graph.view import NODE_COLORS  # one colour map for node types, shared with the HTML export

PAGE_CONFIG = {"page_title": "UIG · User Interest Graph", "page_icon": ":material/hub:", "layout": "wide"}

__all__ = ["PAGE_CONFIG", "NODE_COLORS", "EVENT_COLORS", "COUNT", "MONEY", "interest_color", "count_columns"]

#: Table columns of whole counts (thousands separators, no decimals) and of money (separators, two decimals).
COUNT = st.column_config.NumberColumn(format="localized")
MONEY = st.column_config.NumberColumn(format="accounting")
EVENT_COLORS = {
    "view": "#9ecae9",
    "click": "#4C78A8",
    "cart": "#F58518",
    "purchase": "#54A24B",
    "return": "#E45756",
    "adjustment": "#BAB0AC",
}
_PALETTE = [
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#EECA3B",
    "#B279A2",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def count_columns(frame: Any) -> dict[str, Any]:
    """``column_config`` showing every integer column of ``frame`` with thousands separators."""
    import pandas as pd

    return {
        str(c): COUNT
        for c in frame.columns
        if pd.api.types.is_integer_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }


def interest_color(interest_id: int) -> str:
    """A stable colour for an interest id."""
    return _PALETTE[int(interest_id) % len(_PALETTE)]
