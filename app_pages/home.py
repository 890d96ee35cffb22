"""Home: what is in the chosen dataset, at a glance."""

import streamlit as st

from uig_app import state
from uig_app.theme import COUNT
from uig_core.errors import UIGError
from uig_core.queries.home import home_summary

st.title("UIG · User Interest Graph")
st.caption("Behaviour logs → item meaning from a language model → interest graph → GNN recommendations.")

info = state.current_dataset()
if info is None:
    st.info("The workspace is empty. Add a log on **Upload logs** to begin.")
    st.stop()

try:
    summary = home_summary(state.workspace(), info.name, overview=state.overview(info))
except UIGError as err:
    state.show_error(err)
    st.stop()

st.subheader(f"Dataset · {info.name}")
cols = st.columns(5)
cols[0].metric("Users", f"{summary['users']:,}")
cols[1].metric("Items", f"{summary['items']:,}")
cols[2].metric("Events", f"{summary['events']:,}")
cols[3].metric("Interests found", f"{summary['interests']:,}" if summary["interests"] is not None else "—")
quality = summary.get("quality")
cols[4].metric(
    f"Recall@20 ({quality['model']})" if quality else "Recall@20",
    f"{quality['recall']:.3f}" if quality else "—",
    help="Temporal hold-out of the last 30 days; see Model quality.",
)

left, right = st.columns([1, 1])
with left:
    st.markdown("**Events by type**")
    st.dataframe(
        summary["events_by_type"],
        hide_index=True,
        width="stretch",
        key="home_events",
        column_config={"count": COUNT},
    )
with right:
    st.markdown("**Time range**")
    st.write(f"{summary['first']} → {summary['last']}")
    if summary["build"]:
        b = summary["build"]
        st.markdown(
            f"**Current build** `{b['build_id']}` · default model **{b['default_model']}** · built {b['created']}"
        )
        if b.get("embed_model_id"):
            st.caption(f"Item text read by `{b['embed_model_id']}`")
    else:
        st.warning("Not built yet: press **Build** for it under *Datasets in this workspace* on **Upload logs**.")
    if summary["top_interests"] is not None:
        st.markdown("**Largest interests**")
        st.dataframe(
            summary["top_interests"],
            hide_index=True,
            width="stretch",
            key="home_interests",
            column_config={"name": st.column_config.TextColumn(width="large"), "size": COUNT},
        )
