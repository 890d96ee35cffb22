"""Home: what is going on in this shop — activity over time, the interest landscape, the model, the data."""

import streamlit as st

from uig_app import state
from uig_app.home_charts import home_figures
from uig_app.theme import COUNT, wrap_row_height
from uig_core.errors import UIGError
from uig_core.queries.home import home_view

st.title("UIG · User Interest Graph")
info = state.current_dataset()
if info is None:
    st.caption("Behaviour logs → item meaning from a language model → interest graph → recommendations.")
    st.info("The workspace is empty. Add a log on **Upload logs** to begin.")
    st.stop()

try:
    summary = home_view(state.workspace(), info, overview=state.overview(info))
except UIGError as err:
    state.show_error(err)
    st.stop()
st.caption(summary["subtitle"])

st.subheader(f"Dataset · {info.name}")
model = summary["model"]
cols = st.columns(5)
cols[0].metric("Users", f"{summary['users']:,}")
cols[1].metric("Items", f"{summary['items']:,}")
cols[2].metric("Events", f"{summary['events']:,}")
cols[3].metric("Interests found", f"{summary['interests']:,}" if summary["interests"] is not None else "—")
cols[4].metric(
    f"Recall@20 · {model['name']}" if model else "Recall@20",
    f"{model['recall']:.3f}" if model and model["recall"] is not None else "not measured",
    help=(
        "The default model's Recall@20 on the validation split its build held out (the newest interactions)."
        if not model or model["source"] != "evaluation"
        else "The default model's Recall@20 on the temporal hold-out of the stored Model quality run."
    ),
)
st.caption(f"{summary['first']} → {summary['last']}")

trends = summary["trends"]
figures = home_figures(summary["key"], summary)
if "events" in figures:
    st.plotly_chart(figures["events"], key="home_events_chart")

landscape = trends["interests"]
if "landscape" in figures:
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures["landscape"], key="home_landscape_chart")
    with right:
        if "rising" in figures:
            st.plotly_chart(figures["rising"], key="home_rising_chart")
        else:
            st.markdown("**New and rising interests**")
            st.caption(f"No interest's share moved much in the last {landscape['recent_days']} days.")
        moving = landscape["moving"]
        if not moving.empty:  # when nothing moved, the caption above says so; an empty table would say nothing
            st.dataframe(
                moving[["name", "status", "recent_share", "change"]].assign(
                    recent_share=moving["recent_share"] * 100, change=moving["change"] * 100
                ),
                hide_index=True,
                width="stretch",
                height="content",
                key="home_moving",
                column_config={
                    "name": st.column_config.TextColumn("interest", width="medium"),
                    "recent_share": st.column_config.NumberColumn("share now", format="%.1f%%"),
                    "change": st.column_config.NumberColumn(
                        "change",
                        format="%+.1f",
                        help=f"Percentage points: the share now minus the share in the {landscape['recent_days']} "
                        "days before.",
                    ),
                },
            )

left, right = st.columns([1, 1])
with left:
    if summary["build"]:
        b = summary["build"]
        st.markdown(
            f"**Current build** `{b['build_id']}` · default model **{b['default_model']}** · built "
            f"{str(b['created'] or '—').replace('T', ' ')[:16]}"
        )
        if model and model["candidates"]:
            st.caption(f"Chosen among {model['candidates']} candidate models; see **Model quality**.")
    else:
        st.warning("Not built yet: press **Build** for it under *Datasets in this workspace* on **Upload logs**.")
    st.dataframe(
        summary["events_by_type"], hide_index=True, width="stretch", key="home_events", column_config={"count": COUNT}
    )
with right:
    upload = summary["upload"]
    st.markdown("**Data quality of the upload**")
    if upload is None:
        st.caption("No ingest report is stored for this dataset.")
    else:
        kept = upload["rows_accepted"] / max(upload["rows_read"], 1)
        st.text(f"{upload['rows_accepted']:,} of {upload['rows_read']:,} rows kept ({kept:.1%}) from {upload['file']}")
        st.dataframe(
            upload["issues"],
            hide_index=True,
            width="stretch",
            key="home_upload_issues",
            row_height=wrap_row_height(2),
            column_config={"issue": st.column_config.TextColumn(width="large"), "rows": COUNT},
        )
        for warning in upload["warnings"]:
            st.text(f"⚠ {warning}")
