"""Recommendations: top-K with score and reason, two models side by side, and the audience of an item."""

import streamlit as st

from uig_app import state, url_state
from uig_app.theme import MONEY, count_columns, wrap_row_height
from uig_core.errors import UIGError, UnknownId
from uig_core.queries.pickers import categories, item_labels
from uig_core.queries.recommendations import HIDE_OPTIONS, model_tasks, recommendations_csv

st.title("Recommendations")

ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready
models = bundle.model_names
SCORE = st.column_config.NumberColumn("score", format="%.4f")
PERCENTILE = st.column_config.ProgressColumn(
    "percentile",
    format="%.1f",
    min_value=0,
    max_value=100,
    help="Where the model ranks the item among every item it scores for this user (100: its very top).",
)
WIDE = st.column_config.TextColumn(width="large", help="Double-click a cell to read a long reason in full.")
TASKS = model_tasks(bundle.meta)  # model → "default for discover" / "default for next purchase"


def _known_user(user: str) -> bool:
    # A ?user= from a shared link or a reload is restored only when the build has that user.
    try:
        bundle.user_row(user)
    except UnknownId:
        return False
    return True


def _known_item(item: str) -> bool:
    return bool((bundle.item_index == item).any())


def _new_list(key: str) -> None:
    # A new search starts from the top of the new list.
    st.session_state.pop(key, None)


url_state.restore("rec_user", "user", allowed=_known_user)
url_state.restore("rec_item", "item", allowed=_known_item)
c = st.columns([2, 3, 2, 1])
query = c[0].text_input(
    "Search user id", key="rec_search", placeholder="start of an id", on_change=_new_list, args=("rec_user",)
)
users = state.user_choices(bundle, query, order="activity", limit=500, include=st.session_state.get("rec_user"))
if not users:
    st.info("No user id contains that text.")
    st.stop()
if st.session_state.get("rec_user") not in users:
    st.session_state["rec_user"] = users[0]
user_id = c[1].selectbox(f"User ({len(users):,} shown)", users, key="rec_user")
url_state.publish(user=user_id)
model = c[2].selectbox(
    "Model",
    models,
    key="rec_model",
    help=f"The {len(models)} models this build trained, its default first; the line below says which task each "
    "default was chosen for on validation (Model quality shows the candidates). Pair the next-purchase model "
    "with 'Leave out: only what the user bought'.",
)
k = c[3].number_input("k", min_value=1, max_value=100, value=10, step=1, key="rec_k")

f = st.columns([2, 2])
cats = categories(bundle)
category = f[0].selectbox(
    "Category",
    [None, *cats],
    key="rec_category",
    format_func=lambda v: "all categories" if v is None else v,
    disabled=not cats,
)
hide = f[1].selectbox(
    "Leave out",
    list(HIDE_OPTIONS),
    format_func=HIDE_OPTIONS.get,
    key="rec_hide",
    help="Discover: only items new to the user. Next purchase: only what they bought is left out, so viewed and "
    "carted items compete (the build's next-purchase model is chosen for this).",
)

if TASKS:
    st.caption(
        "Chosen on this build's validation split: "
        + "; ".join(f"{state.md(name)} — {label}" for name, label in TASKS.items())
        + (f". This list comes from {state.md(model)}, which is not a chosen default." if model not in TASKS else ".")
    )
top, side, audience = st.tabs(["Top-K with reasons", "Compare two models", "Who should see an item?"])

with top:
    try:
        table = state.recommendations(bundle, user_id, int(k), model=model, category=category, hide=hide)
    except UIGError as err:
        state.show_error(err)
    else:
        if table.empty:
            st.info("No item is left to recommend with these filters.")
        else:
            head, button = st.columns([4, 1], vertical_alignment="bottom")
            head.text(f"Top {len(table)} for user {user_id} from {model}")
            button.download_button(
                "Download CSV",
                lambda: recommendations_csv(table, user_id),
                file_name="recommendations.csv",
                mime="text/csv",
                key="rec_download",
                help="This user's list as shown, one row per item; cells are formula-safe.",
            )
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                key="rec_table",
                height="content",
                row_height=wrap_row_height(3),  # a reason names its items: wrapped, it reads without a click
                column_config={"score": SCORE, "reason": WIDE, "title": st.column_config.TextColumn(width="medium")},
            )
            with st.expander("Reasons in full"):  # a table cell cuts long reasons; plain text, never markup
                st.text("\n".join(f"{r.rank}. {r.title}: {r.reason}" for r in table.itertuples()))

with side:
    if len(models) < 2:
        st.info("This build trained one model only.")
    else:
        s = st.columns(2)
        model_a = s[0].selectbox("Left model", models, index=0, key="rec_model_a")
        model_b = s[1].selectbox("Right model", models, index=1, key="rec_model_b")
        try:
            cmp = state.comparison(bundle, user_id, (model_a, model_b), int(k), category=category, hide=hide)
        except UIGError as err:
            state.show_error(err)
        else:
            st.text(
                f"{cmp['shared']} of the top {int(k)} items are in both lists. Raw scores of two models are not "
                "comparable, so each list shows where its model ranks an item among all it scores (percentile)."
            )
            s = st.columns(2)
            config = {"percentile": PERCENTILE, "reason": WIDE}
            for side_col, key in ((s[0], "left"), (s[1], "right")):
                side_col.dataframe(
                    cmp[key],
                    hide_index=True,
                    width="stretch",
                    height="content",
                    row_height=wrap_row_height(3),
                    key=f"rec_{key}",
                    column_config=config,
                )

with audience:
    st.caption("Ad targeting: the users the model expects to want an item, leaving out those who already have it.")
    a = st.columns([2, 4, 2, 1])
    item_query = a[0].text_input(
        "Search items",
        key="rec_item_search",
        placeholder="id or words of the title",
        on_change=_new_list,
        args=("rec_item",),
    )
    items = state.item_choices(bundle, item_query, limit=500, include=st.session_state.get("rec_item"))
    if not items:
        st.info("No item id or title contains that text.")
    else:
        if st.session_state.get("rec_item") not in items:
            st.session_state["rec_item"] = items[0]
        labels = item_labels(bundle, items)
        item_id = a[1].selectbox(f"Item ({len(items):,} shown)", items, key="rec_item", format_func=labels.get)
        url_state.publish(item=item_id)
        aud_model = a[2].selectbox("Model", models, key="rec_aud_model")
        aud_k = a[3].number_input("Users", min_value=1, max_value=500, value=20, step=5, key="rec_aud_k")
        try:
            who = state.audience(bundle, item_id, int(aud_k), model=aud_model)
        except UIGError as err:
            state.show_error(err)
        else:
            st.dataframe(
                who,
                hide_index=True,
                width="stretch",
                key="rec_audience",
                column_config={**count_columns(who), "score": SCORE, "spend": MONEY},
            )
        try:
            like = bundle.similar_items(item_id, k=10)
        except UIGError as err:
            state.show_error(err)
        else:
            st.markdown("**Items like it** (nearest in meaning: cosine of the title embeddings)")
            st.dataframe(
                like,
                hide_index=True,
                width="stretch",
                key="rec_similar_items",
                column_config={"similarity": st.column_config.NumberColumn(format="%.3f")},
            )
