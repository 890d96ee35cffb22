"""Home's Plotly figures: events over time by type, the interest landscape, new and rising interests.

Built once per view (``st.cache_resource``, keyed by :func:`uig_core.queries.home.home_view`'s ``key``) and shared:
a graph_objects figure costs ~30 ms of validation to build, ``st.plotly_chart`` only serialises a built one.
Plotly reads a few HTML tags in names and labels, so text from the log is escaped and shows exactly as written.
"""

from __future__ import annotations

from html import escape
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from uig_app.theme import EVENT_COLORS, interest_color

__all__ = ["home_figures", "STATUS_COLORS"]

MARGIN = dict(l=10, r=10, t=40, b=10)
STATUS_COLORS = {"new": "#B279A2", "rising": "#54A24B", "falling": "#E45756", "steady": "#9ecae9"}


@st.cache_resource(show_spinner=False, max_entries=8)
def home_figures(key: tuple[Any, ...], _view: dict[str, Any]) -> dict[str, go.Figure]:
    """``{"events", "landscape", "rising"}`` figures of a Home view (those it has data for); shared, read-only."""
    trends = _view["trends"]
    out: dict[str, go.Figure] = {}
    if len(trends["events"]):
        out["events"] = _events(trends["events"], trends["unit"])
    landscape = trends["interests"]
    if landscape is not None and len(landscape["table"]):
        out["landscape"] = _landscape(landscape)
        if landscape["rising_series"]:
            out["rising"] = _rising(landscape["rising_series"])
    return out


def _events(events: Any, unit: str) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(x=events.index, y=events[e], name=escape(e), marker_color=EVENT_COLORS.get(e, "#999"))
            for e in events.columns
        ]
    )
    fig.update_layout(
        title=f"Events per {unit} by type", barmode="stack", height=300, margin=MARGIN, yaxis_title="events"
    )
    return fig


def _landscape(landscape: dict[str, Any]) -> go.Figure:
    """The 15 largest interests' share in the recent window (coloured by trend) against the window before."""
    top = landscape["table"].head(15).iloc[::-1].to_dict("records")
    labels = [escape(str(r["name"])) for r in top]
    days = landscape["recent_days"]
    # One bar trace per trend status, so the legend says what each colour means.
    traces: list[Any] = [
        go.Bar(
            x=[r["recent_share"] for r in top if r["status"] == status],
            y=[label for label, r in zip(labels, top, strict=True) if r["status"] == status],
            orientation="h",
            name=f"{status} (last {days} days)",
            marker_color=color,
            hovertemplate="%{y}: %{x:.1%}<extra>" + status + "</extra>",
        )
        for status, color in STATUS_COLORS.items()
        if any(r["status"] == status for r in top)
    ]
    traces.append(
        go.Scatter(
            x=[r["previous_share"] for r in top],
            y=labels,
            mode="markers",
            name=f"the {days} days before",
            marker=dict(symbol="line-ns-open", size=14, color="#333"),
        )
    )
    fig = go.Figure(traces)
    fig.update_layout(
        title="Interest landscape: share of activity, now and before",
        height=480,
        margin=MARGIN,
        yaxis=dict(categoryorder="array", categoryarray=labels),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
    )
    fig.update_xaxes(tickformat=".0%")
    return fig


def _rising(series: list[dict[str, Any]]) -> go.Figure:
    fig = go.Figure(
        [
            go.Scatter(
                x=s["bucket"],
                y=s["share"],
                name=escape(s["name"]),
                mode="lines",
                line=dict(color=interest_color(s["interest_id"])),
            )
            for s in series
        ]
    )
    fig.update_layout(
        title="New and rising interests",
        height=340,
        margin=MARGIN,
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
    )
    fig.update_yaxes(tickformat=".0%")
    return fig
