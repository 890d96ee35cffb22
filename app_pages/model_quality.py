"""Model quality: how the build chose its defaults (stored validation tables), and the full temporal hold-out.

The candidate tables are read from the build summary (``meta["selection"]``): nothing is fitted to draw them.
A full evaluation runs as a background job (``uig_core.evaluation.jobs``): a separate ``uig evaluate`` process owned by
the server, whose progress and result live in the workspace. Closing the tab does not stop it, and a run started
with ``uig evaluate`` in a terminal shows here like one started on this page.
"""

from datetime import datetime

import plotly.graph_objects as go
import streamlit as st

from uig_app import state
from uig_app.theme import COUNT, interest_color, wrap_row_height
from uig_core.errors import UIGError
from uig_core.evaluation import jobs
from uig_core.evaluation.results import (
    count_metrics,
    load_quality,
    metric_names,
    quality_long,
    quality_notes,
    quality_table,
    selection_caption,
    selection_tables,
)

st.title("Model quality")

ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready
ws = state.workspace()
ORIGIN = {"page": "on this page", "cli": "from the command line (uig evaluate)"}


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "—"


def _start() -> None:
    try:
        jobs.start_job(ws, info.name)
    except UIGError as err:
        st.session_state["quality_flash"] = str(err)


def _cancel() -> None:
    try:
        jobs.cancel_job(ws, info.name)
    except UIGError as err:
        st.session_state["quality_flash"] = str(err)


@st.fragment(run_every=1.0)
def _progress() -> None:
    """Redrawn every second while the job runs; the whole page reruns once it has finished."""
    job = jobs.read_job(ws, info.name)
    if job is None or not job.active:
        st.rerun()
    st.progress(min(max(job.fraction, 0.0), 1.0), text=f"{job.fraction:.0%} · {job.message}"[:140])
    st.caption(
        f"Started {ORIGIN.get(job.origin, '')} at {_when(job.started)}. It keeps running when you close this tab; "
        "come back any time to see the result."
    )
    st.button("Cancel the evaluation", key="quality_cancel", on_click=_cancel)


try:
    job = jobs.read_job(ws, info.name)
    result = load_quality(ws, info.name)
except UIGError as err:
    state.show_error(err)
    st.stop()
if flash := st.session_state.pop("quality_flash", None):
    st.error(state.md(flash))

SELECTION_CONFIG = {
    **{m: st.column_config.NumberColumn(format="%.4f") for m in ("recall@20", "ndcg@20", "coverage", "gini")},
    "long_tail_share": st.column_config.NumberColumn("long-tail share", format="%.4f"),
    "estimated_s": st.column_config.NumberColumn("estimated s", format="%.1f"),
    "fit_seconds": st.column_config.NumberColumn("fit s", format="%.1f"),
    "reason": st.column_config.TextColumn(width="large", help="Why a candidate was skipped; double-click to read."),
}
st.subheader("How this build chose its defaults")
tables = selection_tables(bundle.meta)
if not tables:
    st.info("This build chose no default on validation (it was made before the choice existed); rebuild to see it.")
for task_record, frame in tables:
    st.caption(state.md(selection_caption(task_record)))
    key = f"quality_selection_{task_record.get('task', 'discover')}"
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height="content",  # every candidate in view: the skipped ones say why in their reason
        row_height=wrap_row_height(2),
        key=key,
        column_config=SELECTION_CONFIG,
    )
st.subheader("Full evaluation on a temporal hold-out")

if job is not None and job.active:
    st.info(f"Evaluating build `{bundle.build_id}` of **{info.name}**: every model on a temporal hold-out.")
    _progress()
elif job is not None and (result is None or (job.finished or 0) > result.get("run", {}).get("finished", 0)):
    if job.status == "failed":
        st.error(f"The last evaluation failed: {state.md(job.message)}")
    elif job.status == "cancelled":
        st.info(f"The last evaluation was cancelled at {_when(job.finished)}.")

if result is None:
    if job is None or not job.active:
        st.info(
            f"Build `{bundle.build_id}` of **{info.name}** has not been evaluated yet. The evaluation trains "
            "each model on the events before the cutoff and measures it on the 30 days after (a few minutes; it "
            "runs in the background, so you may leave this page)."
        )
        st.button("Run the evaluation", key="quality_run", type="primary", on_click=_start)
    st.stop()

run = result.get("run") or {}
protocol = result.get("protocol", {})
st.caption(
    "Protocol: "
    + ", ".join(f"{k} = {f'{v:,}' if isinstance(v, int) else v}" for k, v in protocol.items())
    + (f". Evaluated {ORIGIN.get(run.get('origin'), '')} at {_when(run.get('finished'))}." if run else ".")
)
for note in quality_notes(result):
    st.warning(note)
metrics = metric_names(result)
table = quality_table(result)
if "cold_users" in table and not table["cold_users"].fillna(0).any():  # no test user had a cold item
    metrics = [m for m in metrics if not m.startswith("cold_")]
    table = table.drop(columns=[c for c in table.columns if c.startswith("cold_")])
    st.caption(
        f"No test pair is a cold item (fewer than {protocol.get('cold_threshold', 5)} training interactions), so "
        "the cold-item metrics are left out."
    )
ranking = [m for m in metrics if "@" in m]
chosen = st.multiselect("Metrics to chart", metrics, default=ranking[:3] or metrics[:3], key="quality_metrics")

st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="quality_table",
    column_config={
        **{m: st.column_config.NumberColumn(format="%.4f") for m in metrics},
        **{m: st.column_config.NumberColumn(format="%.2f") for m in metrics if m.endswith("_seconds")},
        **{m: COUNT for m in count_metrics(result)},
        "note": st.column_config.TextColumn(width="large"),
    },
)
if result.get("default"):
    st.text(f"Default model of this build: {result['default']}")

long = quality_long(result, chosen)
if not long.empty:
    names = list(table["model"])
    fig = go.Figure(
        [
            go.Bar(
                name=m,
                x=list(long.loc[long["model"] == m, "metric"]),
                y=list(long.loc[long["model"] == m, "value"]),
                marker_color=interest_color(i),
            )
            for i, m in enumerate(names)
            if (long["model"] == m).any()
        ]
    )
    fig.update_layout(
        title="Models side by side",
        barmode="group",
        height=420,
        margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(categoryorder="array", categoryarray=chosen),
    )
    st.plotly_chart(fig, key="quality_chart")

if job is None or not job.active:
    st.button("Evaluate again", key="quality_rerun", on_click=_start)
