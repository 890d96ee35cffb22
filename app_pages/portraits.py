"""User portraits: a summary line, activity and RFM, interests, the interest timeline with drift, similar users."""

import pandas as pd
import streamlit as st

from uig_app import state, url_state
from uig_app.portrait_charts import portrait_figures
from uig_app.theme import count_columns
from uig_core.errors import UIGError, UnknownId
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


def _known(user: str) -> bool:
    # A ?user= from a shared link or a reload is restored only when the build has that user.
    try:
        bundle.user_row(user)
    except UnknownId:
        return False
    return True


url_state.restore("portrait_user", "user", allowed=_known)
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
url_state.publish(user=user_id)

try:
    data = portrait(state.workspace(), info.name, user_id, recent=15, similar=10, bundle=bundle, info=info)
except UIGError as err:
    state.show_error(err)
    st.stop()

act = data["activity"]
rfm = act["rfm"]
st.subheader("Activity")
st.text(f"User {data['user_id']}")
st.info(state.md(data["story"]), icon=":material/auto_stories:")
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

figures = portrait_figures((data["build_id"], data["user_id"]), data)
a, b = st.columns([1, 2])
with a:
    st.plotly_chart(figures["events"], key="portrait_events_chart")
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
    if not data["interests"]:
        st.info("No interest profile: this user has no positive events on items with an interest.")
    else:
        st.plotly_chart(figures["interests"], key="portrait_interest_chart")

timeline = data["timeline"]
if timeline["rows"] or timeline["activity"]:
    st.plotly_chart(figures["timeline"], key="portrait_timeline_chart")
else:
    st.caption("No interest timeline: this user has no dated event.")

left, right = st.columns([3, 2])
with left:
    st.markdown("**Recent events**")
    recent = pd.DataFrame(data["recent_events"]).dropna(axis=1, how="all")  # no column of empty cells (OR's category)
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
            "user_id": st.column_config.TextColumn("user"),
            "similarity": st.column_config.NumberColumn(format="%.3f"),
            "overlap": st.column_config.NumberColumn("items in common", format="%d"),
            "n_events": st.column_config.NumberColumn("events", format="localized"),
            "n_purchase": st.column_config.NumberColumn("purchases", format="localized"),
            "shared_interests": st.column_config.ListColumn("shared interests", width="medium"),
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
