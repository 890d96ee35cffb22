"""The portrait's Plotly figures: events by type, the interest mix, and the interest timeline.

The timeline stacks interest shares per week or month, with the events, returns and searches of each bucket and
the drift date.

Built once per (build, user) (``st.cache_resource``) and shared: a graph_objects figure costs ~30 ms of
validation to build, ``st.plotly_chart`` only serialises a built one. Names from the log are escaped (Plotly reads
a few HTML tags in them) and show exactly as written.

Bars rather than a stacked area: a buyer active in a single week still shows (an area of one point draws nothing),
and the x-axis is fixed to the user's whole span, so it reads in dates even then.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from uig_app.theme import EVENT_COLORS, interest_color

__all__ = ["portrait_figures", "timeline_figure"]

MARGIN = dict(l=10, r=10, t=40, b=10)

_BUCKET_DAYS = {"week": 7, "month": 30.44}


@st.cache_resource(show_spinner=False, max_entries=64)
def portrait_figures(key: tuple[str, str], _data: dict[str, Any]) -> dict[str, go.Figure]:
    """``{"events", "interests", "timeline"}`` figures of a portrait (``key``: build id and user id); shared."""
    events = list(_data["activity"]["events_by_type"].items())
    fig = go.Figure(
        go.Bar(
            x=[escape(e) for e, _ in events],
            y=[n for _, n in events],
            marker_color=[EVENT_COLORS.get(e, "#999") for e, _ in events],
        )
    )
    fig.update_layout(title="Events by type", height=300, margin=MARGIN, yaxis_title="events")
    out = {"events": fig, "timeline": timeline_figure(_data["timeline"], _data["change_date"])}
    top = _data["interests"][:12][::-1]
    fig = go.Figure(
        go.Bar(
            x=[i["share"] for i in top],
            y=[escape(i["name"]) for i in top],
            orientation="h",
            marker_color=[interest_color(i["interest_id"]) for i in top],
        )
    )
    fig.update_layout(title="Interest distribution", height=330, margin=MARGIN)
    fig.update_xaxes(tickformat=".0%")
    out["interests"] = fig
    return out


def timeline_figure(timeline: dict[str, Any], change_date: str | None) -> go.Figure:
    """A figure of :func:`uig_core.queries.story.user_timeline`'s result, the drift date marked when given."""
    freq = timeline["freq"]
    periods = timeline["periods"]
    width_ms = 0.8 * _BUCKET_DAYS[freq] * 86_400_000
    # Each bar and point sits in the middle of its week or month, so the drift line falls where the change began.
    period = dict(
        xperiod=7 * 86_400_000 if freq == "week" else "M1",
        xperiod0=periods[0] if periods else None,
        xperiodalignment="middle",
    )
    series: dict[int, dict[str, Any]] = {}
    for row in timeline["rows"]:
        s = series.setdefault(row["interest_id"], {"name": escape(row["name"]), "x": [], "y": []})
        s["x"].append(row["period"])
        s["y"].append(row["share"])
    # Plotly reads a few HTML tags in names; escaped names show exactly as written.
    traces: list[Any] = [
        go.Bar(
            x=s["x"],
            y=s["y"],
            name=s["name"],
            width=width_ms,
            **period,
            marker_color=interest_color(i),
            hovertemplate="%{x|%d %b %Y}: %{y:.0%}<extra>" + s["name"] + "</extra>",
        )
        for i, s in series.items()
    ]
    activity = timeline["activity"]
    traces.append(
        go.Scatter(
            x=[a["period"] for a in activity],
            y=[a["events"] for a in activity],
            name="events",
            yaxis="y2",
            **period,
            mode="lines+markers",
            line=dict(color="#666", width=1, dash="dot"),
            marker=dict(size=4),
        )
    )
    for key, label, color in (("returns", "returns", EVENT_COLORS["return"]), ("searches", "searches", "#72B7B2")):
        marked = [a for a in activity if a[key]]
        if marked:
            traces.append(
                go.Scatter(
                    x=[a["period"] for a in marked],
                    y=[1.06] * len(marked),
                    text=[str(a[key]) for a in marked],
                    name=label,
                    **period,
                    mode="markers+text",
                    textposition="top center",
                    marker=dict(symbol="triangle-down", size=10, color=color),
                    hovertemplate="%{x|%d %b %Y}: %{text} " + label + "<extra></extra>",
                )
            )
    fig = go.Figure(traces)
    _layout(fig, freq, periods)
    if change_date:
        fig.add_shape(
            type="line", x0=change_date, x1=change_date, y0=0, y1=1, yref="paper", line=dict(color="#333", dash="dash")
        )
        fig.add_annotation(x=change_date, y=1.08, yref="paper", text="drift", showarrow=False)
    return fig


def _layout(fig: go.Figure, freq: str, periods: list[str]) -> None:
    pad = pd.Timedelta(days=_BUCKET_DAYS[freq] * 0.1)
    span = pd.Timedelta(days=7) if freq == "week" else pd.offsets.MonthBegin(1)
    lo, hi = (pd.Timestamp(periods[0]) - pad, pd.Timestamp(periods[-1]) + span + pad) if periods else (None, None)
    fig.update_layout(
        title=f"Interests by {freq}",
        barmode="stack",
        height=440,
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis=dict(
            title=f"share of the {freq}'s activity", tickformat=".0%", range=[0, 1.15], tickvals=[0, 0.25, 0.5, 0.75, 1]
        ),
        yaxis2=dict(
            title="events", overlaying="y", side="right", showgrid=False, rangemode="tozero", tickformat=",.0f"
        ),
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0),
        bargap=0.1,
    )
    fig.update_xaxes(
        type="date",
        range=[lo, hi] if lo is not None else None,
        tickformat="%d %b %Y" if freq == "week" else "%b %Y",
    )
