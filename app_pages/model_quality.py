"""Model quality: the models and baselines of the current build side by side (temporal hold-out)."""

import plotly.graph_objects as go
import streamlit as st

from uig_app import state
from uig_app.theme import interest_color
from uig_core.errors import UIGError
from uig_core.evaluation.results import load_quality, metric_names, quality_long, quality_table, run_evaluation

st.title("Model quality")

ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready
ws = state.workspace()


def _evaluate() -> None:
    bar = st.progress(0.0, text="starting the evaluation")
    with st.status("Evaluating every model on a temporal hold-out…", expanded=True) as status:

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=message[:120])

        try:
            run_evaluation(ws, info.name, progress=progress)
        except UIGError as err:
            status.update(label="Evaluation failed", state="error")
            state.show_error(err)
            return
        status.update(label="Evaluation complete", state="complete")
    st.rerun()


try:
    result = load_quality(ws, info.name)
except UIGError as err:
    state.show_error(err)
    st.stop()

if result is None:
    st.info(
        f"Build `{bundle.build_id}` of **{info.name}** has not been evaluated yet. The evaluation trains "
        "each model on the events before the cutoff and measures it on the 30 days after (a few minutes)."
    )
    if st.button("Run the evaluation", key="quality_run", type="primary"):
        _evaluate()
    st.stop()

protocol = result.get("protocol", {})
st.caption("Protocol: " + ", ".join(f"{k} = {v}" for k, v in protocol.items()))
metrics = metric_names(result)
ranking = [m for m in metrics if "@" in m]
chosen = st.multiselect("Metrics to chart", metrics, default=ranking[:3] or metrics[:3], key="quality_metrics")

table = quality_table(result)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="quality_table",
    column_config={m: st.column_config.NumberColumn(format="%.4f") for m in metrics},
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

if st.button("Evaluate again", key="quality_rerun"):
    _evaluate()
