"""User portraits: activity and RFM, interests, weekly interest timeline with the drift date, anomaly, similar users."""

from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from uig_app import state
from uig_app.theme import EVENT_COLORS, count_columns, interest_color
from uig_core.errors import UIGError
from uig_core.queries.pickers import USER_ORDERS
from uig_core.queries.portrait import portrait

st.title("User portraits")

ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready


def _open_similar() -> None:
    # A callback may set another widget's value; the pick below then shows the chosen similar user.
    chosen = st.session_state.get("portrait_similar_pick")
    if chosen:
        st.session_state["portrait_user"] = chosen
        st.session_state["portrait_similar_pick"] = None


def _new_list() -> None:
    # A new search or order starts from the top of the new list.
    st.session_state.pop("portrait_user", None)


left, mid, right = st.columns([2, 2, 3])
query = left.text_input(
    "Search user id", key="portrait_search", placeholder="start of an id, or part of one", on_change=_new_list
)
order = mid.selectbox(
    "Order", list(USER_ORDERS), format_func=USER_ORDERS.get, key="portrait_order", on_change=_new_list
)
try:
    options = state.user_choices(bundle, query, order=order, limit=500, include=st.session_state.get("portrait_user"))
except UIGError as err:
    state.show_error(err)
    st.stop()
if not options:
    st.info("No user id contains that text.")
    st.stop()
if st.session_state.get("portrait_user") not in options:
    st.session_state["portrait_user"] = options[0]
user_id = right.selectbox(f"User ({len(options):,} shown)", options, key="portrait_user")

try:
    data = portrait(state.workspace(), info.name, user_id, recent=15, similar=10, bundle=bundle, info=info)
except UIGError as err:
    state.show_error(err)
    st.stop()

act = data["activity"]
rfm = act["rfm"]
st.subheader("Activity")
st.text(f"User {data['user_id']}")
c = st.columns(6)
c[0].metric("Events", f"{act['n_events']:,.0f}")
c[1].metric("Purchases", f"{act['purchases']:,.0f}")
c[2].metric("Orders", f"{act['orders']:,.0f}")
c[3].metric("Spend", f"{act['spend']:,.0f}", help=f"{act['spend']:,.2f} over all purchases")
c[4].metric("Recency", f"{rfm['recency_days']:.0f} d", help="Days from the last event to the end of the log.")
c[5].metric(
    "RFM",
    f"{rfm['r']}-{rfm['f']}-{rfm['m']}",
    help="Recency, frequency (orders), monetary (spend), each 1-5 against all users; 5 is best.",
)
st.text(f"First seen {act['first_seen'] or '—'} · last seen {act['last_seen'] or '—'}")

# graph_objects rather than plotly.express: express costs ~30 ms a figure on every rerun.
MARGIN = dict(l=10, r=10, t=40, b=10)
a, b = st.columns([1, 2])
with a:
    events = list(act["events_by_type"].items())
    fig = go.Figure(
        go.Bar(
            x=[e for e, _ in events],
            y=[n for _, n in events],
            marker_color=[EVENT_COLORS.get(e, "#999") for e, _ in events],
        )
    )
    fig.update_layout(title="Events by type", height=300, margin=MARGIN, yaxis_title="events")
    st.plotly_chart(fig, key="portrait_events_chart")
    score = data["anomaly_score"]
    st.metric(
        "Anomaly score",
        "—" if score is None else f"{score:.2f}",
        help="0 = ordinary; near 1 = bot-like behaviour (view floods, no purchases, inhuman pace).",
    )
    st.text(f"Why: {data['anomaly_reason'] or 'nothing unusual'}")
    drift = data["drift_score"]
    st.metric(
        "Interest drift",
        "—" if drift is None else f"{drift:.2f}",
        help="How far the user's interest mix moved between the first and second half of their history.",
    )
    if data["change_date"]:
        st.text(f"Interests changed around {data['change_date']}")

with b:
    top = data["interests"][:12][::-1]
    if not top:
        st.info("No interest profile: this user has no positive events on items with an interest.")
    else:
        # Plotly reads a few HTML tags in labels; escaped names show exactly as written.
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
        st.plotly_chart(fig, key="portrait_interest_chart")

series: dict[int, dict] = {}
for t in data["timeline"]:
    s = series.setdefault(t["interest_id"], {"name": escape(t["name"]), "x": [], "y": []})
    s["x"].append(t["week"])
    s["y"].append(t["share"])
if series:
    fig = go.Figure(
        [
            go.Scatter(
                x=s["x"],
                y=s["y"],
                name=s["name"],
                stackgroup="one",
                mode="lines",
                line=dict(width=0.5, color=interest_color(i)),
            )
            for i, s in series.items()
        ]
    )
    if data["change_date"]:
        fig.add_shape(
            type="line",
            x0=data["change_date"],
            x1=data["change_date"],
            y0=0,
            y1=1,
            yref="paper",
            line=dict(color="#333", dash="dash"),
        )
        fig.add_annotation(x=data["change_date"], y=1.04, yref="paper", text="drift", showarrow=False)
    fig.update_layout(
        title="Interests by week",
        height=340,
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis_title="share of the week's activity",
        legend_title_text="interest",
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    st.plotly_chart(fig, key="portrait_timeline_chart")
else:
    st.caption(
        "No weekly interest timeline: this user has no positive event on an item with an interest, so there is "
        "nothing to draw over time."
    )

left, right = st.columns([3, 2])
with left:
    st.markdown("**Recent events**")
    recent = pd.DataFrame(data["recent_events"])
    st.dataframe(recent, hide_index=True, width="stretch", key="portrait_recent", column_config=count_columns(recent))
    if data.get("searches"):
        st.markdown("**Recent searches** (and the interest each points to)")
        st.dataframe(pd.DataFrame(data["searches"]), hide_index=True, width="stretch", key="portrait_searches")
with right:
    st.markdown("**Most similar users**")
    similar = pd.DataFrame(data["similar_users"])
    st.dataframe(
        similar,
        hide_index=True,
        width="stretch",
        key="portrait_similar",
        column_config={
            "similarity": st.column_config.NumberColumn(format="%.3f"),
            "shared_interests": st.column_config.ListColumn("shared interests", width="large"),
        },
    )
    if not similar.empty:
        st.selectbox(
            "Open a similar user",
            [None, *similar["user_id"]],
            key="portrait_similar_pick",
            on_change=_open_similar,
            format_func=lambda v: "—" if v is None else v,
        )
