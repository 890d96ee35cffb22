"""The Upload page's actions: flash messages, the dataset callbacks (create, rename, roll back, delete), the build.

Callbacks run before the next script run, where they may also move the sidebar's dataset picker. Messages that
quote a log's text go through :func:`md`, since Streamlit reads Markdown in alerts and labels.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from uig_app import state
from uig_app.state import md
from uig_app.theme import COUNT
from uig_core.build import history
from uig_core.build.pipeline import build as run_build
from uig_core.errors import UIGError
from uig_core.ingest.report import IngestResult
from uig_core.ingest.values import count_text
from uig_core.progress import StepTracker

__all__ = ["md", "flash", "show_flash", "create_clicked", "rollback_clicked", "rename_clicked", "delete_confirmed"]
__all__ += ["build", "open_clicked", "report_section"]


def flash(kind: str, message: str) -> None:
    """Keep a message for the next run (callbacks run before the page is drawn)."""
    st.session_state["upload_flash"] = (kind, message)


def show_flash() -> None:
    """Show (once) the message a callback kept."""
    kind, message = st.session_state.pop("upload_flash", (None, None))
    if kind == "error":
        st.error(md(message))
    elif kind == "success":
        st.success(md(message))


def create_clicked(result: IngestResult, source: str, options: dict) -> None:
    """Store the validated events as a new dataset or a batch of an existing one; the sidebar follows it."""
    ws = state.workspace()
    name = str(st.session_state.get("upload_name", "")).strip()
    try:
        if st.session_state.get("upload_target") == "append":
            target = st.session_state.get("upload_append_to")
            info = ws.append_events(target, result.events)
            flash(
                "success",
                f"Added {count_text(len(result.events), 'event')} to {info.name} (now {info.rows:,}). "
                + ("Update its build to include them." if info.current_build else "Build it next."),
            )
        else:
            info = ws.add_dataset(name, result.events, source=source, options=options, report=result.report.to_dict())
            flash(
                "success",
                f"Dataset {info.name} created: {count_text(info.rows, 'event')}, {count_text(info.users, 'user')}, "
                f"{count_text(info.items, 'item')}. Build it next.",
            )
    except UIGError as err:
        flash("error", str(err))
        return
    st.session_state["upload_created"] = info.name
    st.session_state["upload_incremental"] = bool(info.current_build)
    st.session_state[state.DATASET_KEY] = info.name


def rollback_clicked(name: str) -> None:
    """Make the dataset's previous build current again."""
    ws = state.workspace()
    try:
        target = history.rollback(ws, name)
    except UIGError as err:
        flash("error", str(err))
        return
    flash("success", f"{name} uses build {target} again.")


def rename_clicked() -> None:
    """Rename the dataset chosen in the manager (the sidebar and the build button follow the new name)."""
    ws = state.workspace()
    old, new = st.session_state.get("upload_manage"), str(st.session_state.get("upload_rename_to", "")).strip()
    try:
        info = ws.rename_dataset(old, new)
    except UIGError as err:
        flash("error", str(err))
        return
    if st.session_state.get(state.DATASET_KEY) == old:
        st.session_state[state.DATASET_KEY] = info.name
    if st.session_state.get("upload_created") == old:
        st.session_state["upload_created"] = info.name
    st.session_state["upload_manage"] = info.name
    st.session_state["upload_rename_to"] = ""
    flash("success", f"Renamed {old} to {info.name}.")


def delete_confirmed(name: str) -> None:
    """Delete a dataset, its events and its builds (after the page asked for confirmation)."""
    ws = state.workspace()
    st.session_state.pop("upload_confirm_delete", None)
    try:
        ws.delete_dataset(name)
    except UIGError as err:
        flash("error", str(err))
        return
    for key in ("upload_manage", "upload_created"):
        if st.session_state.get(key) == name:
            st.session_state.pop(key, None)
    if st.session_state.get(state.DATASET_KEY) == name:
        st.session_state.pop(state.DATASET_KEY, None)
    flash("success", f"Deleted dataset {name}, its events and its history.")


# ---------------------------------------------------------------------------------------------- build


def build(name: str, *, incremental: bool = False, exclude_anomalous: bool | None = None) -> None:
    """Build with a live display: a progress bar and one line per finished pipeline step.

    ``exclude_anomalous`` sets the workspace's build setting of that name first (None keeps it), so later
    builds and evaluations of the workspace train the same way.
    """
    from uig_core.config import BuildConfig

    ws = state.workspace()
    settings = dict(ws.settings().get("build", {}))
    if exclude_anomalous is not None and bool(settings.get("exclude_anomalous", False)) != bool(exclude_anomalous):
        settings["exclude_anomalous"] = bool(exclude_anomalous)
        ws.update_settings(build=settings)
    config = BuildConfig.from_dict(settings)
    with st.status(f"{'Updating' if incremental else 'Building'} {name}…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        steps = st.empty()
        shown = {"t": 0.0, "n": -1}  # last redraw time and finished-step count: redraw at most 4x a second

        def redraw(tracker: StepTracker) -> None:
            now = time.perf_counter()
            if now - shown["t"] < 0.25 and len(tracker.done) == shown["n"] and tracker.fraction < 1.0:
                return
            shown.update(t=now, n=len(tracker.done))
            bar.progress(tracker.fraction, text=tracker.message[:120])
            lines = [f"✓ {s} — {t:.1f}s" for s, t in tracker.done]
            if tracker.current:
                lines.append(f"… {tracker.current}")
            steps.text("\n".join(lines))

        tracker = StepTracker(redraw)
        try:
            meta = run_build(ws, name, config, incremental=incremental, progress=tracker)
        except UIGError as err:
            status.update(label=f"Build of {name} failed", state="error")
            state.show_error(err)
            return
        tracker.finish()
        shown["n"] = -1
        redraw(tracker)
        status.update(label=f"Build complete: {name}", state="complete", expanded=True)
        st.text("\n".join(history.build_lines(meta, ws)))
    st.session_state["upload_built"] = name
    st.button(f"Open {name}", key="upload_open", type="primary", on_click=open_clicked, args=(name,))


def open_clicked(name: str) -> None:
    """Make ``name`` the sidebar's dataset and go to Home (after a build)."""
    st.session_state[state.DATASET_KEY] = name
    st.session_state["upload_go_home"] = True


def report_section(result: IngestResult) -> None:
    """What validation read, kept and rejected (by reason, with examples), and the first cleaned events."""
    rep = result.report
    st.subheader("Validation and cleaning")
    c = st.columns(4)
    rejected = sum(rep.skipped.values())
    c[0].metric("Rows read", f"{rep.rows_read:,}")
    c[1].metric("Accepted", f"{rep.rows_accepted:,}")
    c[2].metric("Rejected", f"{rejected:,}")
    c[3].metric("Duplicates removed", f"{rep.duplicates:,}")
    if rep.skipped:
        st.markdown("**Rejected rows, by reason**")
        st.dataframe(
            pd.DataFrame(
                [
                    {"reason": r, "rows": n, "examples": "; ".join(rep.examples.get(r, []))}
                    for r, n in rep.skipped.items()
                ]
            ),
            hide_index=True,
            width="stretch",
            key="upload_rejected",
            column_config={
                "reason": st.column_config.TextColumn(width="large"),
                "rows": COUNT,
                "examples": st.column_config.TextColumn(width="large"),
            },
        )
    notes = [line for line in rep.lines()[1:] if not line.startswith("skipped ")]
    if notes:
        st.text("\n".join(notes))
    st.caption("Bots and other anomalous users are scored during the build; see User portraits.")
    with st.expander("First cleaned events"):
        st.dataframe(result.events.head(10), hide_index=True, width="stretch", key="upload_cleaned")
