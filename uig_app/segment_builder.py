"""The Segment builder and Compare segments tabs of the Clusters & segments page (drawn only while open).

The rule widgets' values live in session state: :func:`keep_rule_state` carries them over the runs that do not
draw the builder (Streamlit forgets a widget's state when a run does not draw it), so Compare can use the
current rules and the builder finds them again.
"""

from __future__ import annotations

import json

import pandas as pd
import plotly.express as px
import streamlit as st

from uig_app import segment_cache as cache
from uig_app import state
from uig_app.segment_views import View
from uig_app.theme import count_columns
from uig_core.errors import UIGError
from uig_core.ingest.values import count_text
from uig_core.queries import segments as seg

__all__ = ["CURRENT", "keep_rule_state", "builder_tab", "compare_tab"]

CURRENT = "(current rules)"


def keep_rule_state() -> None:
    """Carry the builder's widget values (and the chosen segment) over a run that does not draw them."""
    for key in [k for k in st.session_state if str(k).startswith(("seg_field_", "seg_op_", "seg_val_"))]:
        st.session_state[key] = st.session_state[key]
    for key in ("seg_combine", "seg_name", "seg_segment"):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _features(v: View) -> seg.FeatureTable:
    return cache.features(v.bundle.build_id, v.info.data_hash, v.k, v.bundle, v.info, v.parts["labels"])


def _store(v: View) -> seg.SegmentStore:
    return seg.SegmentStore(state.workspace().root, v.info.name)


def _add_rule() -> None:
    st.session_state["seg_rule_next"] = st.session_state.get("seg_rule_next", 0) + 1
    st.session_state["seg_rule_ids"] = [*st.session_state.get("seg_rule_ids", []), st.session_state["seg_rule_next"]]


def _drop_rule(rid: int) -> None:
    st.session_state["seg_rule_ids"] = [r for r in st.session_state.get("seg_rule_ids", []) if r != rid]


def _load_saved(v: View) -> None:
    name = st.session_state.get("seg_load")
    if not name:
        return
    spec = _store(v).get(name)
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


def _current_spec() -> dict:
    """The builder's rules as the session holds them (the builder tab need not be drawn)."""
    rules = []
    for rid in st.session_state.get("seg_rule_ids", []):
        field, op = st.session_state.get(f"seg_field_{rid}"), st.session_state.get(f"seg_op_{rid}")
        value = st.session_state.get(f"seg_val_{rid}_{field}_{op}")
        if field is not None and op is not None and value is not None:
            rules.append({"field": field, "op": op, "value": list(value) if op == "between" else value})
    return {"combine": str(st.session_state.get("seg_combine") or "AND").lower(), "rules": rules}


def _rule_row(v: View, rid: int, features: seg.FeatureTable, kinds: dict) -> None:
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
    summary = cache.field_summary(v.bundle.build_id, v.info.data_hash, v.k, field, features)
    if kinds[field] == "number":
        lo, hi = summary["min"], summary["max"]
        if op == "between":
            if vkey not in st.session_state:  # defaults via session state, so a loaded segment can fill them
                st.session_state[vkey] = (lo, hi)
            cols[2].slider("Range", lo, hi, key=vkey, label_visibility="collapsed")
        else:
            share = field.startswith(seg.INTEREST_PREFIX)
            if vkey not in st.session_state:  # "holds the interest" reads better than a median of mostly zeros
                st.session_state[vkey] = 0.3 if share else summary["median"]
            step = 0.05 if share else 1.0 if summary["whole"] else 0.1
            cols[2].number_input("Value", key=vkey, step=step, label_visibility="collapsed")
    else:
        choices = summary["choices"]
        if op in ("in", "not in"):
            cols[2].multiselect("Values", choices, key=vkey, label_visibility="collapsed")
        elif op == "contains":
            cols[2].text_input("Text", key=vkey, label_visibility="collapsed")
        else:
            cols[2].selectbox("Value", choices, key=vkey, label_visibility="collapsed")
    cols[3].button("✕", key=f"seg_del_{rid}", on_click=_drop_rule, args=(rid,), help="Remove this rule")


def _save_and_export(v: View, features: seg.FeatureTable, spec: dict, members: pd.Index) -> None:
    s1, s2, s3 = st.columns([2, 1, 2])
    name = s1.text_input("Segment name", key="seg_name", placeholder="e.g. weekend bakers")
    if s2.button("Save segment", key="seg_save", disabled=not name.strip()):
        try:
            _store(v).save(name, spec, size=len(members))
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


def builder_tab(v: View) -> None:
    """The Segment builder tab: rules over the user features, size, saving, export and lookalikes."""
    features = _features(v)
    kinds = seg.field_kinds(features)
    head = st.columns([2, 2, 2])
    st.session_state.setdefault("seg_combine", "AND")
    head[0].segmented_control("Combine rules with", ["AND", "OR"], key="seg_combine", required=True)
    head[1].button("Add rule", key="seg_add", on_click=_add_rule, icon=":material/add:")
    head[2].selectbox(
        "Load a saved segment",
        list(_store(v).all()),
        index=None,
        key="seg_load",
        on_change=_load_saved,
        args=(v,),
        placeholder="choose…",
    )
    for rid in st.session_state.get("seg_rule_ids", []):
        _rule_row(v, rid, features, kinds)
    spec = _current_spec()
    if not spec["rules"]:
        st.caption("No rule yet: the segment holds every user. Add a rule to narrow it.")
    try:
        rows = seg.segment_rows(features, spec)  # the rule columns alone are read
        members = seg.members_at(features, rows)
    except UIGError as err:
        state.show_error(err)
        return
    st.metric(
        "Segment size",
        count_text(len(members), "user"),
        help=f"{len(members) / max(len(features), 1):.1%} of all {count_text(len(features), 'user')}",
    )
    _save_and_export(v, features, spec, members)
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
                v.bundle.build_id, v.k, json.dumps(spec, sort_keys=True), int(n_look), members, v.bundle, rows
            )
            st.dataframe(looks, hide_index=True, key="seg_lookalikes", column_config=count_columns(looks))
        except UIGError as err:
            state.show_error(err)
    else:
        st.caption("Lookalikes need a segment that is neither empty nor everyone.")


def compare_tab(v: View) -> None:
    """The Compare segments tab: two saved (or the current) segments side by side."""
    saved = _store(v).all()
    names_ = [CURRENT, *saved]
    c1, c2 = st.columns(2)
    a_name = c1.selectbox("Segment A", names_, key="seg_cmp_a")
    b_name = c2.selectbox("Segment B", names_, index=min(1, len(names_) - 1), key="seg_cmp_b")
    if len(names_) == 1:
        st.caption("Save a segment in the builder to compare it with the current rules.")
    spec_of = {CURRENT: _current_spec(), **{n: r["spec"] for n, r in saved.items()}}
    try:
        out = cache.compare(
            v.bundle.build_id,
            v.k,
            json.dumps(spec_of[a_name], sort_keys=True),
            json.dumps(spec_of[b_name], sort_keys=True),
            _features(v),
        )
    except UIGError as err:
        state.show_error(err)
        return
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
