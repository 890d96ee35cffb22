"""App-side glue: cached core calls, the shared dataset picker and the optional password gate.

Resources (workspace, bundles, models) go through ``st.cache_resource`` — shared and read-only; small results
(picker lists, headline figures) through ``st.cache_data`` — copied per caller. Caches are keyed by build id /
data hash, so a new build is picked up at once. Nothing here loads a dataset's events: what the pages need per user
comes from the build or from one DuckDB query.
"""

from __future__ import annotations

import hmac
import os
import re
from typing import SupportsInt

import pandas as pd
import streamlit as st

from uig_app import url_state
from uig_core import logs
from uig_core.build.bundle import Bundle
from uig_core.errors import UIGError
from uig_core.queries.features import extra_user_values
from uig_core.queries.pickers import find_items, find_users
from uig_core.queries.recommendations import audience_table, compare_models, recommendation_table
from uig_core.store.workspace import DatasetInfo, Workspace

DATASET_KEY = "uig_dataset"

# Once per process (this module is imported once): UIG_LOG=info|debug shows the engine's step timings on the
# server's stderr, as `uig --verbose` does for the CLI. Calling it again would only reset the level.
logs.configure()


def workspace() -> Workspace:
    """The workspace served by this app (``$UIG_WORKSPACE``, default ``./uig_workspace``)."""
    return _workspace(os.environ.get("UIG_WORKSPACE") or "uig_workspace")


@st.cache_resource(show_spinner=False)
def _workspace(root: str) -> Workspace:
    return Workspace(root)


def datasets() -> list[DatasetInfo]:
    """Datasets in the workspace, re-read whenever the DuckDB file changes (uploads and renames show at once)."""
    ws = workspace()
    return list(_datasets(str(ws.root), _db_stamp(ws)))


def _db_stamp(ws: Workspace) -> tuple[int, ...]:
    stamps: list[int] = []
    for path in (ws.db_path, ws.db_path.with_name(ws.db_path.name + ".wal")):
        try:
            st_ = path.stat()
            stamps += [st_.st_mtime_ns, st_.st_size]
        except FileNotFoundError:
            stamps += [0, 0]
    return tuple(stamps)


@st.cache_data(show_spinner=False, max_entries=8)
def _datasets(root: str, stamp: tuple[int, ...]) -> list[DatasetInfo]:
    return Workspace(root).datasets()


def current_dataset() -> DatasetInfo | None:
    """The dataset chosen in the sidebar picker, or None when the workspace is empty."""
    infos = datasets()
    if not infos:
        return None
    names = [d.name for d in infos]
    chosen = st.session_state.get(DATASET_KEY)
    if chosen not in names:
        chosen = names[0]
        st.session_state[DATASET_KEY] = chosen
    return next(d for d in infos if d.name == chosen)


def dataset_picker() -> DatasetInfo | None:
    """Sidebar select box shared by all pages."""
    infos = datasets()
    if not infos:
        st.sidebar.info("No dataset yet: upload a log.")
        return None
    names = [d.name for d in infos]
    url_state.restore(DATASET_KEY, "dataset", allowed=names)  # a reload or a shared link opens its dataset
    if st.session_state.get(DATASET_KEY) not in names:
        st.session_state[DATASET_KEY] = names[0]
    st.sidebar.selectbox("Dataset", names, key=DATASET_KEY)
    info = current_dataset()
    url_state.publish(dataset=info.name if info else None)  # every run: Streamlit clears the query on page switch
    return info


@st.cache_resource(show_spinner="Loading the build…", max_entries=4)
def _bundle(build_path: str) -> Bundle:
    return Bundle(build_path)


def bundle(info: DatasetInfo | None = None) -> Bundle | None:
    """The current build of a dataset (None when it has not been built)."""
    info = info or current_dataset()
    if info is None or info.current_build is None:
        return None
    return _bundle(str(workspace().build_dir(info.name)))


@st.cache_data(show_spinner="Reading the log's extra columns…", max_entries=4)
def _user_extras(root: str, name: str, data_hash: str) -> pd.DataFrame | None:
    ws = Workspace(root)
    return extra_user_values(ws, ws.dataset(name))


def user_extras(info: DatasetInfo) -> pd.DataFrame | None:
    """Each user's most frequent value of the log's extra columns (``Country``…), or None when it has none.

    Aggregated in DuckDB and cached per content hash; the events themselves are never loaded.
    """
    return _user_extras(str(workspace().root), info.name, info.data_hash)


@st.cache_data(show_spinner=False, max_entries=8)
def _overview(root: str, name: str, data_hash: str, current_build: str | None) -> dict:
    return Workspace(root).overview(name)


def overview(info: DatasetInfo) -> dict:
    """The dataset's headline figures (one DuckDB scan), cached per content hash and build."""
    return _overview(str(workspace().root), info.name, info.data_hash, info.current_build)


@st.cache_data(show_spinner=False, max_entries=256)
def _find_users(build_id: str, query: str, order: str, limit: int, include: str | None, _bundle: Bundle) -> list:
    return find_users(_bundle, query, order=order, limit=limit, include=include)


def user_choices(
    bundle: Bundle, query: str, *, order: str = "id", limit: int = 500, include: str | None = None
) -> list:
    """User ids for a picker (:func:`~uig_core.queries.pickers.find_users`), cached per build and search."""
    return _find_users(bundle.build_id, str(query or ""), order, int(limit), include, bundle)


@st.cache_data(show_spinner=False, max_entries=256)
def _find_items(build_id: str, query: str, limit: int, include: str | None, _bundle: Bundle) -> list:
    return find_items(_bundle, query, limit=limit, include=include)


def item_choices(bundle: Bundle, query: str, *, limit: int = 500, include: str | None = None) -> list:
    """Item ids for a picker (:func:`~uig_core.queries.pickers.find_items`), cached per build and search."""
    return _find_items(bundle.build_id, str(query or ""), int(limit), include, bundle)


@st.cache_data(show_spinner=False, max_entries=64)
def _recommendations(
    build_id: str, user_id: str, k: int, model: str | None, category: str | None, hide: str, _bundle: Bundle
) -> pd.DataFrame:
    return recommendation_table(_bundle, user_id, k, model=model, category=category, hide=hide)


def recommendations(
    bundle: Bundle,
    user_id: str,
    k: int = 10,
    *,
    model: str | None = None,
    category: str | None = None,
    hide: str = "seen",
) -> pd.DataFrame:
    """A user's top-k with reasons (:func:`~uig_core.queries.recommendations.recommendation_table`), cached.

    Keyed by build and arguments: a rerun with the same widgets costs nothing, a heavy user's reasons are paid once.
    """
    return _recommendations(bundle.build_id, str(user_id), int(k), model, category, hide, bundle)


@st.cache_data(show_spinner=False, max_entries=64)
def _comparison(
    build_id: str, user_id: str, models: tuple[str, str], k: int, category: str | None, hide: str, _bundle: Bundle
) -> dict:
    return compare_models(_bundle, user_id, models, k, category=category, hide=hide)


def comparison(
    bundle: Bundle,
    user_id: str,
    models: tuple[str, str],
    k: int = 10,
    *,
    category: str | None = None,
    hide: str = "seen",
) -> dict:
    """Two models' top-k side by side (:func:`~uig_core.queries.recommendations.compare_models`), cached."""
    return _comparison(bundle.build_id, str(user_id), tuple(models), int(k), category, hide, bundle)


@st.cache_data(show_spinner=False, max_entries=64)
def _audience(build_id: str, item_id: str, k: int, model: str | None, _bundle: Bundle) -> pd.DataFrame:
    return audience_table(_bundle, item_id, k, model=model)


def audience(bundle: Bundle, item_id: str, k: int = 20, *, model: str | None = None) -> pd.DataFrame:
    """Who should see an item (:func:`~uig_core.queries.recommendations.audience_table`), cached per build."""
    return _audience(bundle.build_id, str(item_id), int(k), model, bundle)


def require_bundle() -> tuple[DatasetInfo, Bundle] | None:
    """Current dataset and build, or render a hint and return None."""
    info = current_dataset()
    if info is None:
        st.info("The workspace has no dataset yet. Add one on **Upload logs**.")
        return None
    b = bundle(info)
    if b is None:
        st.warning(
            f"Dataset **{info.name}** has not been built yet: press **Build** for it under *Datasets in this "
            "workspace* on **Upload logs**."
        )
        return None
    return info, b


def show_error(err: Exception) -> None:
    """Show an engine error as one clear line.

    Pages catch :class:`UIGError` only; anything else is a bug and surfaces as one. Should something else reach
    here, it is shown with its type rather than as if it were the user's to fix.
    """
    if isinstance(err, UIGError):
        st.error(str(err))
    else:
        st.error(f"Unexpected error: {type(err).__name__}: {err}")


def _expected_password() -> str | None:
    env = os.environ.get("UIG_PASSWORD")
    if env:
        return env
    try:
        return st.secrets.get("password")  # type: ignore[no-any-return]
    except FileNotFoundError:  # not an engine call: Streamlit's "no secrets file" (StreamlitSecretNotFoundError)
        return None


def password_gate() -> bool:
    """When a shared password is configured, show only a prompt until it is entered."""
    expected = _expected_password()
    if not expected or st.session_state.get("uig_authenticated"):
        return True
    st.title("UIG · sign in")
    with st.form("login"):
        given = st.text_input("Password", type="password", key="uig_password")
        ok = st.form_submit_button("Enter")
    if ok:
        if hmac.compare_digest(str(given).encode(), str(expected).encode()):
            st.session_state["uig_authenticated"] = True
            st.rerun()
        st.error("Wrong password.")
    return False


def md(text: str) -> str:
    """Text from a log (or an error quoting one), escaped for alerts and widget labels, which read Markdown."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$])", r"\\\1", str(text))


def fmt_int(n: SupportsInt) -> str:
    """Thousands separators."""
    return f"{int(n):,}"
