"""One look across pages: page config, narrow-window CSS, wrapping tables, node-type colours, an interest palette."""

from __future__ import annotations

from typing import Any

import streamlit as st

from uig_core.graph.view import NODE_COLORS  # one colour map for node types, shared with the HTML export

PAGE_CONFIG = {"page_title": "UIG · User Interest Graph", "page_icon": ":material/hub:", "layout": "wide"}

__all__ = [
    "PAGE_CONFIG",
    "NODE_COLORS",
    "EVENT_COLORS",
    "COUNT",
    "MONEY",
    "NARROW_CSS",
    "apply_css",
    "wrap_row_height",
    "interest_color",
    "count_columns",
]

#: Under ~900 px (a laptop split screen, an 800-px window with the sidebar open) a row of columns wraps onto
#: several lines instead of squeezing each control below usable width, and the main area's side padding shrinks.
NARROW_CSS = """
<style>
@media (max-width: 900px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1rem !important; padding-right: 1rem !important; }
  [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; row-gap: 0.75rem; }
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    flex: 1 1 14rem !important; min-width: min(14rem, 100%) !important;
  }
  /* a chart or a table needs the full width to read: its column takes a line of its own */
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stPlotlyChart"]),
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stDataFrame"]) {
    flex-basis: 100% !important; min-width: 100% !important;
  }
}
</style>
"""


def apply_css() -> None:
    """Add :data:`NARROW_CSS` to the page (call once per run, after ``st.set_page_config``; takes no space)."""
    st.html(NARROW_CSS)


def wrap_row_height(lines: int = 3) -> int:
    """A ``row_height`` for ``st.dataframe`` that lets long text wrap onto ``lines`` lines in its cell.

    Streamlit's grid wraps cell text only when rows are taller than 4 rem (64 px); each line takes ~21 px. A cell
    also opens in full on click, so text longer than the lines still reads. Use it for reason and title columns::

        st.dataframe(frame, row_height=wrap_row_height(3), column_config={"reason": st.column_config.TextColumn(
            width="large")})
    """
    return max(65, 10 + 21 * int(lines))


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
