"""Upload logs: file or server path → preview → column and event mapping → validation report → dataset → build.

Also lists the workspace's datasets, with rename, build and delete (delete asks for confirmation).
"""

import hashlib
import math

import streamlit as st

from uig_app import state
from uig_app.theme import COUNT, count_columns
from uig_app.uploads import (
    build,
    create_clicked,
    delete_confirmed,
    md,
    rename_clicked,
    report_section,
    rollback_clicked,
    show_flash,
)
from uig_core.build import history as builds
from uig_core.errors import UIGError
from uig_core.ingest import upload
from uig_core.ingest.report import IngestResult
from uig_core.ingest.values import count_text
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
                    f"{v} → {e} ({count_text(int(n), 'row')})"
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
                    f"{md(value)} ({count_text(int(n), 'row')})",
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


def manager_choice(names: list[str]) -> None:
    """The manager shows the sidebar's dataset, and follows it whenever the sidebar changes."""
    sidebar = st.session_state.get(state.DATASET_KEY)
    if st.session_state.get("upload_manage_follows") != sidebar or st.session_state.get("upload_manage") not in names:
        st.session_state["upload_manage"] = sidebar if sidebar in names else names[0]
        st.session_state["upload_manage_follows"] = sidebar


if st.session_state.pop("upload_go_home", False):  # "Open it" after a build
    st.switch_page("app_pages/home.py")
upload_flow()
show_flash()
infos = state.datasets()
created = st.session_state.get("upload_created")
if created and created in {d.name for d in infos}:
    incremental = bool(st.session_state.get("upload_incremental"))
    label = f"Update the build of {created}" if incremental else f"Build {created}"
    exclude = st.checkbox(
        "Leave flagged users (likely bots) out of model training",
        key="upload_exclude_anomalous",
        value=bool(state.workspace().settings().get("build", {}).get("exclude_anomalous", False)),
        help="Users whose anomaly score reaches the flag (0.5) train no model; they stay in the graph, "
        "portraits and segments.",
    )
    if st.button(
        label,
        key="upload_build",
        type="primary",
        help="Embeddings, interests, graph and models; an update keeps the interests and warm-starts "
        "the models from the current build.",
    ):
        build(created, incremental=incremental, exclude_anomalous=exclude)

st.divider()
st.subheader("Datasets in this workspace")
infos = state.datasets()  # again: a build above has just changed it
if not infos:
    st.info("No dataset yet.")
    st.stop()
listing = st.container()  # filled last, so that a build started below shows in it at once
names = [d.name for d in infos]
manager_choice(names)
m = st.columns([2, 2, 1, 1, 1], vertical_alignment="bottom")
chosen_ds = m[0].selectbox("Dataset", names, key="upload_manage")
m[1].text_input("New name", key="upload_rename_to", placeholder="new name")
m[2].button("Rename", key="upload_rename", on_click=rename_clicked)
build_clicked = m[3].button("Build", key="upload_manage_build")
if m[4].button("Delete…", key="upload_delete"):
    st.session_state["upload_confirm_delete"] = chosen_ds
if build_clicked:
    build(chosen_ds)
with listing:
    st.dataframe(
        upload.datasets_table(state.datasets()),
        hide_index=True,
        width="stretch",
        key="upload_datasets",
        column_config={"events": COUNT, "users": COUNT, "items": COUNT},
    )
if st.toggle("Show the build history", key="upload_show_history"):
    history, before = builds.build_history(ws, chosen_ds)
    st.dataframe(history, hide_index=True, width="stretch", key="upload_history", column_config=count_columns(history))
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
