"""Clusters & segments: user clusters on a 2-D map, a rule-based segment builder, comparison, lookalikes, export."""

import json

import plotly.express as px
import streamlit as st

from uig_app import segment_cache as cache
from uig_app import state
from uig_app.theme import count_columns
from uig_core.errors import UIGError
from uig_core.ingest.values import count_text
from uig_core.queries import clusters as clu
from uig_core.queries import segments as seg

st.title("Clusters & segments")
ready = state.require_bundle()
if ready is None:
    st.stop()
info, bundle = ready
CURRENT = "(current rules)"


# ---------------------------------------------------------------------------------------------- clusters
top = st.columns([1.2, 1, 2, 1.5])
auto = top[0].toggle(
    "Automatic k",
    value=True,
    key="seg_auto_k",
    help="Keep the number of clusters k (2–15) with the best silhouette score.",
)
k_set = top[1].number_input("k", 2, 40, 8, key="seg_k", disabled=auto)
k = None if auto else int(k_set)
method = top[2].radio(
    "Map",
    ["pca", "tsne"],
    key="seg_map_method",
    horizontal=True,
    format_func={"pca": "PCA (instant)", "tsne": "t-SNE (slow, cached)"}.get,
    help="PCA projects the user vectors in milliseconds; t-SNE separates clusters better but "
    "takes about a minute for 3,000 users on two cores (once per build). "
    f"The map draws at most {clu.MAP_POINTS:,} users (a fixed sample).",
)
try:
    clusters = cache.clusters(bundle.build_id, k, bundle)
    features = cache.features(bundle.build_id, info.data_hash, k, bundle, info)
except UIGError as err:
    state.show_error(err)
    st.stop()
kinds = seg.field_kinds(features)
store = seg.SegmentStore(state.workspace().root, info.name)

tab_clusters, tab_builder, tab_compare = st.tabs(["Clusters", "Segment builder", "Compare segments"])

with tab_clusters:
    if clusters.note:
        st.info(clusters.note)
    st.caption(
        f"{count_text(clusters.k, 'cluster')} of {count_text(len(features), 'user')} from the learned user vectors "
        f"(k-means); map: {'t-SNE' if method == 'tsne' else 'PCA'} of the same vectors."
        + (
            f" Silhouette by k: {', '.join(f'{c}: {s:.2f}' for c, s in clusters.scores.items())}."
            if clusters.scores
            else ""
        )
    )
    fig, described = cache.cluster_view(bundle.build_id, k, method, features, clusters, bundle)
    st.plotly_chart(fig, key="seg_map")
    st.dataframe(
        described,
        hide_index=True,
        key="seg_clusters_table",
        column_config={
            "share": st.column_config.ProgressColumn("share", format="percent", min_value=0, max_value=1),
            "top interests": st.column_config.TextColumn(width="large"),
            **{c: st.column_config.NumberColumn(format="localized") for c in ("users",)},
            **{
                c: st.column_config.NumberColumn(format="%,.1f")
                for c in ("events (mean)", "purchases (mean)", "spend (mean)", "recency days (median)")
            },
        },
    )


# ---------------------------------------------------------------------------------------------- builder
def _add_rule() -> None:
    st.session_state["seg_rule_next"] = st.session_state.get("seg_rule_next", 0) + 1
    st.session_state["seg_rule_ids"] = [*st.session_state.get("seg_rule_ids", []), st.session_state["seg_rule_next"]]


def _drop_rule(rid: int) -> None:
    st.session_state["seg_rule_ids"] = [r for r in st.session_state.get("seg_rule_ids", []) if r != rid]


def _load_saved() -> None:
    name = st.session_state.get("seg_load")
    if not name:
        return
    spec = store.get(name)
    ids = list(range(1, len(spec["rules"]) + 1))
    base = st.session_state.get("seg_rule_next", 0)
    st.session_state["seg_rule_ids"] = [base + i for i in ids]
    st.session_state["seg_rule_next"] = base + len(ids)
    st.session_state["seg_combine"] = spec.get("combine", "and").upper()
    for rid, rule in zip(st.session_state["seg_rule_ids"], spec["rules"], strict=True):
        st.session_state[f"seg_field_{rid}"] = rule["field"]
        st.session_state[f"seg_op_{rid}"] = rule["op"]
        value = rule["value"]
        st.session_state[f"seg_val_{rid}_{rule['field']}_{rule['op']}"] = (
            tuple(value) if rule["op"] == "between" else value
        )
    st.session_state["seg_name"] = name
    st.session_state["seg_load"] = None


def _rule_row(rid: int) -> dict | None:
    cols = st.columns([3, 1.3, 3, 0.6])
    fields = list(kinds)
    if st.session_state.get(f"seg_field_{rid}") not in fields:
        st.session_state[f"seg_field_{rid}"] = next((f for f in fields if f.startswith(seg.INTEREST_PREFIX)), fields[0])
    field = cols[0].selectbox("Field", fields, key=f"seg_field_{rid}", label_visibility="collapsed")
    ops = (
        [">=", ">", "<=", "<", "between", "==", "!="]
        if kinds[field] == "number"
        else ["in", "not in", "==", "!=", "contains"]
    )
    if st.session_state.get(f"seg_op_{rid}") not in ops:
        st.session_state[f"seg_op_{rid}"] = ops[0]
    op = cols[1].selectbox("Operator", ops, key=f"seg_op_{rid}", label_visibility="collapsed")
    vkey = f"seg_val_{rid}_{field}_{op}"
    summary = cache.field_summary(bundle.build_id, info.data_hash, k, field, features)
    if kinds[field] == "number":
        lo, hi = summary["min"], summary["max"]
        if op == "between":
            if vkey not in st.session_state:  # defaults via session state, so a loaded segment can fill them
                st.session_state[vkey] = (lo, hi)
            value = list(cols[2].slider("Range", lo, hi, key=vkey, label_visibility="collapsed"))
        else:
            share = field.startswith(seg.INTEREST_PREFIX)
            if vkey not in st.session_state:  # "holds the interest" reads better than a median of mostly zeros
                st.session_state[vkey] = 0.3 if share else summary["median"]
            value = cols[2].number_input(
                "Value",
                key=vkey,
                step=0.05 if share else 1.0 if summary["whole"] else 0.1,
                label_visibility="collapsed",
            )
    else:
        choices = summary["choices"]
        if op in ("in", "not in"):
            value = cols[2].multiselect("Values", choices, key=vkey, label_visibility="collapsed")
        elif op == "contains":
            value = cols[2].text_input("Text", key=vkey, label_visibility="collapsed")
        else:
            value = cols[2].selectbox("Value", choices, key=vkey, label_visibility="collapsed")
    cols[3].button("✕", key=f"seg_del_{rid}", on_click=_drop_rule, args=(rid,), help="Remove this rule")
    return {"field": field, "op": op, "value": value}


with tab_builder:
    saved = store.all()
    head = st.columns([2, 2, 2])
    st.session_state.setdefault("seg_combine", "AND")
    combine = head[0].segmented_control("Combine rules with", ["AND", "OR"], key="seg_combine", required=True)
    head[1].button("Add rule", key="seg_add", on_click=_add_rule, icon=":material/add:")
    head[2].selectbox(
        "Load a saved segment", list(saved), index=None, key="seg_load", on_change=_load_saved, placeholder="choose…"
    )
    rules = [_rule_row(rid) for rid in st.session_state.get("seg_rule_ids", [])]
    spec = {"combine": str(combine or "AND").lower(), "rules": rules}
    if not rules:
        st.caption("No rule yet: the segment holds every user. Add a rule to narrow it.")
    try:
        members = seg.segment_members(features, spec)
    except UIGError as err:
        state.show_error(err)
        members = None
    if members is not None:
        st.metric(
            "Segment size",
            count_text(len(members), "user"),
            help=f"{len(members) / max(len(features), 1):.1%} of all {count_text(len(features), 'user')}",
        )
        s1, s2, s3 = st.columns([2, 1, 2])
        name = s1.text_input("Segment name", key="seg_name", placeholder="e.g. weekend bakers")
        if s2.button("Save segment", key="seg_save", disabled=not name.strip()):
            try:
                store.save(name, spec, size=len(members))
                st.success(f"Saved {name.strip()!r} ({count_text(len(members), 'user')}).")
            except UIGError as err:
                state.show_error(err)
        min_size = seg.min_export_size(state.workspace().settings())
        refused = len(members) < min_size
        # The CSV is written only when the button is clicked (a callable), keeping reruns fast.
        s3.download_button(
            "Download CSV",
            lambda: seg.export_csv(features, members, min_size=min_size),
            file_name=f"segment_{len(members)}_users.csv",
            mime="text/csv",
            key="seg_download",
            disabled=refused,
            help=f"Exports need at least {min_size} users; cells are formula-safe.",
        )
        if refused:
            s3.caption(seg.refusal_message(len(members), min_size))

        st.subheader("Lookalikes")
        n_look = st.number_input(
            "How many lookalikes",
            1,
            1000,
            50,
            key="seg_look_n",
            help="Users nearest to the segment's centroid in the learned vector space, members excluded.",
        )
        if 0 < len(members) < len(features):
            try:
                looks = cache.lookalikes(
                    bundle.build_id, k, json.dumps(spec, sort_keys=True), int(n_look), members, bundle
                )
                st.dataframe(looks, hide_index=True, key="seg_lookalikes", column_config=count_columns(looks))
            except UIGError as err:
                state.show_error(err)
        else:
            st.caption("Lookalikes need a segment that is neither empty nor everyone.")


# ---------------------------------------------------------------------------------------------- compare
with tab_compare:
    saved = store.all()
    names = [CURRENT, *saved]
    c1, c2 = st.columns(2)
    a_name = c1.selectbox("Segment A", names, key="seg_cmp_a")
    b_name = c2.selectbox("Segment B", names, index=min(1, len(names) - 1), key="seg_cmp_b")
    if len(names) == 1:
        st.caption("Save a segment in the builder to compare it with the current rules.")
    spec_of = {CURRENT: spec, **{n: r["spec"] for n, r in saved.items()}}
    try:
        out = cache.compare(
            bundle.build_id,
            k,
            json.dumps(spec_of[a_name], sort_keys=True),
            json.dumps(spec_of[b_name], sort_keys=True),
            features,
        )
    except UIGError as err:
        state.show_error(err)
    else:
        sizes = out["sizes"]
        m = st.columns(5)
        m[0].metric("A", f"{sizes['A']:,}")
        m[1].metric("B", f"{sizes['B']:,}")
        m[2].metric("Both", f"{sizes['both']:,}")
        m[3].metric("Only A / only B", f"{sizes['only A']:,} / {sizes['only B']:,}")
        m[4].metric("Overlap (Jaccard)", f"{sizes['jaccard']:.0%}")
        long = out["interests"].melt(id_vars="interest", var_name="segment", value_name="mean share")
        fig = px.bar(
            long,
            x="mean share",
            y="interest",
            color="segment",
            barmode="group",
            orientation="h",
            height=80 + 34 * len(out["interests"]),
        )
        fig.update_layout(
            margin=dict(l=10, r=10, t=30, b=10),
            yaxis={"autorange": "reversed", "title": None},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "title": None},
        )
        st.plotly_chart(fig, key="seg_cmp_chart")
        st.dataframe(
            out["means"],
            hide_index=True,
            key="seg_cmp_means",
            column_config={c: st.column_config.NumberColumn(format="%.2f") for c in ("A", "B", "all users")},
        )
