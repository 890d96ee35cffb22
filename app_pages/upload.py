"""Upload logs: file or server path → preview → column and event mapping → validation report → dataset → build.

Also lists the workspace's datasets, with rename, build and delete (delete asks for confirmation).
"""

import hashlib
import math
import re
import time

import pandas as pd
import streamlit as st

from uig_app import state
from uig_core.build import history as builds
from uig_core.build.pipeline import build as run_build
from uig_core.errors import UIGError
from uig_core.ingest import upload
from uig_core.ingest.report import IngestResult
from uig_core.progress import StepTracker
from uig_core.schema import CANONICAL_FIELDS, EVENTS, REQUIRED_FIELDS

st.title("Upload logs")
ws = state.workspace()
MAP_PREFIX, EV_PREFIX = "upload_map_", "upload_ev_"
FIELD_HELP = {
    "user_id": "who acted (required)",
    "item_id": "what they acted on (required)",
    "event": "view / click / cart / purchase; none: every row is a purchase",
    "ts": "when; text dates or epoch seconds/milliseconds",
    "item_title": "product title or description",
    "category": "product category",
    "price": "unit price",
    "quantity": "units; negative = return",
    "order_id": "order or invoice number",
}


def md(text: str) -> str:
    """Text from a log, escaped for widget labels (which read Markdown)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$])", r"\\\1", str(text))


def flash(kind: str, message: str) -> None:
    st.session_state["upload_flash"] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop("upload_flash", (None, None))
    if kind == "error":
        st.error(md(message))
    elif kind == "success":
        st.success(md(message))


# ---------------------------------------------------------------------------------------------- callbacks
# Callbacks run before the next script run, where they may also move the sidebar's dataset picker.


def create_clicked(result: IngestResult, source: str, options: dict) -> None:
    name = str(st.session_state.get("upload_name", "")).strip()
    try:
        if st.session_state.get("upload_target") == "append":
            target = st.session_state.get("upload_append_to")
            info = ws.append_events(target, result.events)
            flash(
                "success",
                f"Added {len(result.events):,} events to {info.name} (now {info.rows:,}). "
                + ("Update its build to include them." if info.current_build else "Build it next."),
            )
        else:
            info = ws.add_dataset(name, result.events, source=source, options=options, report=result.report.to_dict())
            flash(
                "success",
                f"Dataset {info.name} created: {info.rows:,} events, {info.users:,} users, "
                f"{info.items:,} items. Build it next.",
            )
    except UIGError as err:
        flash("error", str(err))
        return
    st.session_state["upload_created"] = info.name
    st.session_state["upload_incremental"] = bool(info.current_build)
    st.session_state[state.DATASET_KEY] = info.name


def rollback_clicked(name: str) -> None:
    try:
        target = builds.rollback(ws, name)
    except UIGError as err:
        flash("error", str(err))
        return
    flash("success", f"{name} uses build {target} again.")


def rename_clicked() -> None:
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
    flash("success", f"Deleted dataset {name}, its events and its builds.")


# ---------------------------------------------------------------------------------------------- build


def build(name: str, *, incremental: bool = False) -> None:
    """Build with a live display: a progress bar and one line per finished pipeline step."""
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
            meta = run_build(ws, name, incremental=incremental, progress=tracker)
        except UIGError as err:
            status.update(label=f"Build of {name} failed", state="error")
            state.show_error(err)
            return
        tracker.finish()
        shown["n"] = -1
        redraw(tracker)
        status.update(label=f"Build complete: {name}", state="complete", expanded=True)
        st.text("\n".join(builds.build_lines(meta, ws)))
    st.session_state["upload_built"] = name


# ---------------------------------------------------------------------------------------------- 1. source


def reset_choices(token: str) -> None:
    """A new file starts with fresh mapping widgets."""
    if st.session_state.get("upload_token") == token:
        return
    for key in list(st.session_state):
        if str(key).startswith((MAP_PREFIX, EV_PREFIX)) or key in ("upload_name", "upload_item_pattern"):
            del st.session_state[key]
    st.session_state["upload_token"] = token


def source_section() -> upload.LogPreview | None:
    try:
        limit = upload.max_upload_bytes()
    except UIGError as err:
        state.show_error(err)
        return None
    source = st.radio(
        "Source",
        ["file", "path"],
        horizontal=True,
        key="upload_source",
        format_func={"file": "Upload a file", "path": "Path on the server"}.get,
    )
    try:
        if source == "file":
            file = st.file_uploader(
                f"CSV, CSV.GZ or Parquet log (up to {limit / 1e6:,.0f} MB)",
                key="upload_file",
                type=list(upload.UPLOAD_TYPES),
                max_upload_size=max(1, math.ceil(limit / 1e6)),
            )
            if file is None:
                return None
            upload.check_size(file.size, file.name, limit)
            staged = st.session_state.get("upload_staged")
            if not staged or staged[0] != file.file_id:
                staged = (file.file_id, str(upload.stage_upload(ws, file.name, file.getvalue(), max_bytes=limit)))
                st.session_state["upload_staged"] = staged
            path = staged[1]
        else:
            text = st.text_input(
                "Path of a CSV, CSV.GZ or Parquet file on the server",
                key="upload_path",
                placeholder="/data/shop_events.csv.gz",
            )
            if not text.strip():
                return None
            path = upload.resolve_path(text, max_bytes=limit)
        with st.spinner("Reading the file…"):
            preview = upload.inspect_log(path, max_bytes=limit)
    except UIGError as err:  # resolve_path and inspect_log turn a bad path or a malformed file into an IngestError
        state.show_error(err)
        return None
    reset_choices(preview.token)
    return preview


# ---------------------------------------------------------------------------------------------- 2. mapping


def mapping_section(preview: upload.LogPreview) -> tuple[dict[str, str | None], dict[str, str], str | None]:
    st.subheader("Preview")
    st.text(" · ".join(preview.facts()))
    st.dataframe(preview.head(20), hide_index=True, width="stretch", key="upload_preview")

    st.subheader("Columns")
    st.caption(
        "Guessed from the column names; change any of them. Columns left unmapped are kept as extra "
        "columns (e.g. Country) and can be used in segments."
    )
    chosen: dict[str, str | None] = {}
    grid = st.columns(3)
    for i, fld in enumerate(CANONICAL_FIELDS):
        key = MAP_PREFIX + fld
        options = [None, *preview.columns]
        if key not in st.session_state:
            st.session_state[key] = preview.suggested.get(fld)
        label = f"{fld}{' *' if fld in REQUIRED_FIELDS else ''}"
        chosen[fld] = grid[i % 3].selectbox(
            label, options, key=key, help=FIELD_HELP.get(fld), format_func=lambda c: "— none —" if c is None else str(c)
        )

    event_map: dict[str, str] = {}
    values = upload.event_values(preview, chosen.get("event"))
    if len(values):
        known = values[values["suggested"].notna()]
        unknown = values[values["suggested"].isna()]
        st.subheader("Event values")
        if len(known):
            st.text(
                "Recognised: "
                + ", ".join(
                    f"{v} → {e} ({n:,})"
                    for v, e, n in zip(known["value"], known["suggested"], known["rows"], strict=True)
                )
            )
        if len(unknown):
            st.caption(
                "These values are not known events. Map each one, or leave it skipped (its rows are "
                "counted in the report)."
            )
            grid = st.columns(3)
            for i, (value, n) in enumerate(zip(unknown["value"], unknown["rows"], strict=True)):
                key = EV_PREFIX + hashlib.sha1(f"{chosen['event']}\0{value}".encode()).hexdigest()[:10]
                target = grid[i % 3].selectbox(
                    f"{md(value)} ({n:,} rows)",
                    [None, *EVENTS],
                    key=key,
                    format_func=lambda e: "skip these rows" if e is None else e,
                )
                if target:
                    event_map[str(value)] = target

    with st.expander("More options"):
        pattern = st.text_input(
            "Keep only items whose id matches (regular expression)",
            key="upload_item_pattern",
            placeholder=r"e.g. ^\d{5}[A-Za-z]{0,2}$ drops postage and fee codes",
        )
        st.checkbox(
            "Pseudonymise user ids (keyed hash; the key stays in the workspace)",
            key="upload_pseudo",
            value=bool(ws.settings().get("pseudonymize", False)),
        )
    return chosen, event_map, pattern.strip() or None


# ---------------------------------------------------------------------------------------------- 3. report


def report_section(result: IngestResult) -> None:
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
        )
    notes = [line for line in rep.lines()[1:] if not line.startswith("skipped ")]
    if notes:
        st.text("\n".join(notes))
    st.caption("Bots and other anomalous users are scored during the build; see User portraits.")
    with st.expander("First cleaned events"):
        st.dataframe(result.events.head(10), hide_index=True, width="stretch", key="upload_cleaned")


def create_section(
    result: IngestResult,
    preview: upload.LogPreview,
    chosen: dict[str, str | None],
    event_map: dict[str, str],
    pattern: str | None,
) -> None:
    st.subheader("Dataset")
    names = [d.name for d in state.datasets()]
    target = "new"
    if names:
        target = st.radio(
            "Add as",
            ["new", "append"],
            horizontal=True,
            key="upload_target",
            format_func={"new": "a new dataset", "append": "a batch of an existing dataset"}.get,
        )
    if target == "append":
        st.selectbox("Dataset", names, key="upload_append_to")
    else:
        if "upload_name" not in st.session_state:
            st.session_state["upload_name"] = upload.suggest_name(ws, preview.path.name)
        st.text_input("Dataset name", key="upload_name", max_chars=64)
    options = {
        "map": {c: f for f, c in chosen.items() if c},
        "event_map": event_map,
        "item_pattern": pattern,
        "pseudonymize": bool(st.session_state.get("upload_pseudo")),
    }
    st.button(
        "Create dataset" if target == "new" else "Add the batch",
        key="upload_create",
        type="primary",
        on_click=create_clicked,
        args=(result, str(preview.path), options),
    )


def upload_flow() -> None:
    preview = source_section()
    if preview is None:
        return
    chosen, event_map, pattern = mapping_section(preview)
    key = ws.pseudonymize_key() if st.session_state.get("upload_pseudo") else None
    try:
        with st.spinner("Validating…"):
            result = upload.validate(preview, chosen, event_map=event_map, item_pattern=pattern, pseudonymize_key=key)
    except UIGError as err:
        state.show_error(err)
        return
    report_section(result)
    create_section(result, preview, chosen, event_map, pattern)


# ---------------------------------------------------------------------------------------------- page

upload_flow()
show_flash()
infos = state.datasets()
created = st.session_state.get("upload_created")
if created and created in {d.name for d in infos}:
    incremental = bool(st.session_state.get("upload_incremental"))
    label = f"Update the build of {created}" if incremental else f"Build {created}"
    if st.button(
        label,
        key="upload_build",
        type="primary",
        help="Embeddings, interests, graph and models; an update keeps the interests and warm-starts "
        "the models from the current build.",
    ):
        build(created, incremental=incremental)

st.divider()
st.subheader("Datasets in this workspace")
table = builds.datasets_table(infos)
if table.empty:
    st.info("No dataset yet.")
    st.stop()
st.dataframe(table, hide_index=True, width="stretch", key="upload_datasets")
names = list(table["name"])
if st.session_state.get("upload_manage") not in names:
    st.session_state["upload_manage"] = names[0]
m = st.columns([2, 2, 1, 1, 1], vertical_alignment="bottom")
chosen_ds = m[0].selectbox("Dataset", names, key="upload_manage")
m[1].text_input("New name", key="upload_rename_to", placeholder="new name")
m[2].button("Rename", key="upload_rename", on_click=rename_clicked)
build_clicked = m[3].button("Build", key="upload_manage_build")
if m[4].button("Delete…", key="upload_delete"):
    st.session_state["upload_confirm_delete"] = chosen_ds
if build_clicked:
    build(chosen_ds)
if st.toggle("Show the build history", key="upload_show_history"):
    history, before = builds.build_history(ws, chosen_ds)
    st.dataframe(history, hide_index=True, width="stretch", key="upload_history")
    st.button(
        "Roll back to the previous build" + (f" ({before})" if before else ""),
        key="upload_rollback",
        disabled=before is None,
        on_click=rollback_clicked,
        args=(chosen_ds,),
    )
pending = st.session_state.get("upload_confirm_delete")
if pending and pending in names:
    st.warning(f"Delete dataset {pending}? Its events and builds are removed; this cannot be undone.")
    y, n, _ = st.columns([1, 1, 4])
    y.button(
        f"Yes, delete {pending}", key="upload_delete_yes", type="primary", on_click=delete_confirmed, args=(pending,)
    )
    if n.button("Cancel", key="upload_delete_no"):
        st.session_state.pop("upload_confirm_delete", None)
        st.rerun()
