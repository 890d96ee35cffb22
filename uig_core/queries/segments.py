"""Segments: the user feature frame, a rule-based segment builder, lookalikes, saved segments and safe CSV export.

Clusters and the user map live in :mod:`uig_core.queries.clusters`; the feature frame in
:mod:`uig_core.queries.features` (re-exported here).

Saved segments and cluster names are kept by :mod:`uig_core.queries.segment_store` (re-exported here).

A segment is a JSON-serialisable rule spec over the user features: a lazy
:class:`~uig_core.queries.feature_table.FeatureTable` (:func:`build_features`: a column is read only when a rule, a
summary, a comparison or an export needs it) or the same columns as one frame (:func:`user_features`)::

    {"combine": "and", "rules": [{"field": "interest: baking", "op": ">=", "value": 0.3},
                                  {"field": "Country", "op": "in", "value": ["DE", "FR"]}]}

An empty rule list selects every user. Exports refuse segments below a minimum size and never write a cell that
a spreadsheet would run as a formula.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError, ExportRefused
from uig_core.queries.feature_sources import build_features
from uig_core.queries.feature_table import FeatureTable, as_table
from uig_core.queries.features import INTEREST_PREFIX, extra_user_values, user_features
from uig_core.queries.lookalikes import lookalikes
from uig_core.queries.segment_store import SegmentStore

__all__ = [
    "FeatureTable",
    "Features",
    "build_features",
    "user_features",
    "extra_user_values",
    "field_kinds",
    "field_summary",
    "OPS",
    "validate_spec",
    "evaluate_rules",
    "segment_rows",
    "members_at",
    "segment_members",
    "compare_segments",
    "lookalikes",
    "SegmentStore",
    "export_csv",
    "refusal_message",
    "neutralize_cell",
    "min_export_size",
    "DEFAULT_MIN_EXPORT_SIZE",
    "INTEREST_PREFIX",
]

log = logging.getLogger(__name__)

DEFAULT_MIN_EXPORT_SIZE = 10
OPS: tuple[str, ...] = ("==", "!=", ">", ">=", "<", "<=", "between", "in", "not in", "contains")
_NUMERIC_OPS = {">", ">=", "<", "<=", "between"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What the segment functions take: the lazy table or the eager frame (the same columns).
Features = FeatureTable | pd.DataFrame


# ---------------------------------------------------------------------------------------------- features
def field_kinds(features: Features) -> dict[str, str]:
    """``number`` or ``category`` for every rule field (``cluster`` counts as a category); reads no column."""
    return as_table(features).kinds()


def field_summary(column: pd.Series, *, max_choices: int = 500) -> dict[str, Any]:
    """What a rule editor shows for one field.

    For a number: ``min``, ``max`` (above ``min``), ``median`` and ``whole`` (every value an integer); for a
    category: ``choices``, the first ``max_choices`` distinct values, sorted.
    """
    if pd.api.types.is_numeric_dtype(column) and column.name != "cluster":
        values = column.dropna()
        lo, hi = float(column.min(skipna=True) or 0.0), float(column.max(skipna=True) or 0.0)
        return {
            "min": lo,
            "max": max(hi, lo + 1e-9),
            "median": float(column.median(skipna=True) or 0.0),
            "whole": bool(values.eq(values.round()).all()),
            "choices": [],
        }
    return {"choices": sorted(column.dropna().astype(str).unique().tolist())[:max_choices]}


# ---------------------------------------------------------------------------------------------- rules
def validate_spec(spec: Mapping[str, Any], features: Features) -> dict[str, Any]:
    """Check a rule spec against the features and return it normalised (values coerced).

    Raises:
        ConfigError: Unknown field or operator, wrong value type, or a bad ``combine``.
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"a segment spec must be a mapping with 'combine' and 'rules'; got {type(spec).__name__}.")
    combine = str(spec.get("combine", "and")).lower()
    if combine not in ("and", "or"):
        raise ConfigError(f"'combine' must be 'and' or 'or'; got {spec.get('combine')!r}.")
    table = as_table(features)
    kinds = table.kinds()
    rules = []
    for n, rule in enumerate(spec.get("rules") or [], 1):
        fld, op, value = rule.get("field"), rule.get("op"), rule.get("value")
        if fld not in kinds:
            near = [k for k in kinds if str(fld).lower() in k.lower()][:5]
            raise ConfigError(
                f"rule {n}: field {fld!r} is not a user feature"
                + (f"; did you mean {', '.join(map(repr, near))}?" if near else ".")
            )
        if op not in OPS:
            raise ConfigError(f"rule {n}: operator {op!r} is not known; use one of {', '.join(OPS)}.")
        if kinds[fld] == "category" and op in _NUMERIC_OPS and fld != "cluster":
            raise ConfigError(f"rule {n}: {fld!r} holds text; use ==, !=, in, not in or contains, not {op!r}.")
        # A category of numbers (``cluster``) takes numbers too; a number field's column is not read to say so.
        numeric = kinds[fld] == "number" or pd.api.types.is_numeric_dtype(table[fld])
        rules.append({"field": fld, "op": op, "value": _coerce(n, fld, op, value, numeric)})
    return {"combine": combine, "rules": rules}


def _coerce(n: int, fld: str, op: str, value: Any, numeric: bool) -> Any:

    def one(v: Any) -> Any:
        if not numeric or op == "contains":
            return str(v)
        try:
            return float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"rule {n}: {fld!r} is numeric; {v!r} is not a number.") from None

    if op == "between":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ConfigError(f"rule {n}: 'between' takes two values [low, high]; got {value!r}.")
        lo, hi = one(value[0]), one(value[1])
        return [min(lo, hi), max(lo, hi)]
    if op in ("in", "not in"):
        values = value if isinstance(value, (list, tuple)) else [value]
        return [one(v) for v in values]
    if isinstance(value, (list, tuple)):
        raise ConfigError(f"rule {n}: {op!r} takes one value; got a list {value!r}.")
    return one(value)


def evaluate_rules(features: Features, spec: Mapping[str, Any]) -> np.ndarray:
    """``(n_users,)`` bool mask of the users matching the spec (missing values never match).

    Reads only the columns the rules name.
    """
    table = as_table(features)
    spec = validate_spec(spec, table)
    if not spec["rules"]:
        return np.ones(len(table), dtype=bool)
    masks = [_rule_mask(table[r["field"]], r["op"], r["value"]) for r in spec["rules"]]
    combined = np.logical_and.reduce(masks) if spec["combine"] == "and" else np.logical_or.reduce(masks)
    return np.asarray(combined, dtype=bool)


def _rule_mask(col: pd.Series, op: str, value: Any) -> np.ndarray:
    present = col.notna().to_numpy()
    if op == "contains":
        hit = col.astype("string").str.contains(str(value), case=False, regex=False).fillna(False)
        return hit.to_numpy(dtype=bool) & present
    if op in ("in", "not in"):
        keys = col if pd.api.types.is_numeric_dtype(col) else col.astype("string")
        hit = keys.isin(value).fillna(False).to_numpy(dtype=bool)
        return (hit if op == "in" else ~hit) & present
    keys = col.astype("float64") if pd.api.types.is_numeric_dtype(col) else col.astype("string")
    if op == "between":
        hit = (keys >= value[0]) & (keys <= value[1])
    else:
        hit = {
            "==": keys.__eq__,
            "!=": keys.__ne__,
            ">": keys.__gt__,
            ">=": keys.__ge__,
            "<": keys.__lt__,
            "<=": keys.__le__,
        }[op](value)
    return pd.Series(hit).fillna(False).to_numpy(dtype=bool) & present


def segment_rows(features: Features, spec: Mapping[str, Any]) -> np.ndarray:
    """Rows (sorted) of the users matching the spec: what :func:`lookalikes` takes without looking ids up."""
    return np.flatnonzero(evaluate_rules(features, spec))


def members_at(features: Features, rows: np.ndarray) -> pd.Index:
    """User ids at ``rows`` (as :func:`segment_rows` gives them)."""
    ids = as_table(features)["user_id"]  # taken as a Series: Arrow-backed ids stay so (no Python string per user)
    return pd.Index(ids.iloc[np.asarray(rows, dtype=np.int64)].reset_index(drop=True), name="user_id")


def segment_members(features: Features, spec: Mapping[str, Any]) -> pd.Index:
    """User ids of the segment."""
    table = as_table(features)
    return members_at(table, segment_rows(table, spec))


def compare_segments(
    features: Features,
    spec_a: Mapping[str, Any],
    spec_b: Mapping[str, Any],
    *,
    names: tuple[str, str] = ("A", "B"),
    top: int = 8,
) -> dict[str, Any]:
    """Side-by-side view of two segments.

    Returns:
        ``sizes`` (dict: each size, overlap, Jaccard), ``means`` (frame: numeric feature × A, B, all users) and
        ``interests`` (frame: the ``top`` interests by largest mean share in either segment).
    """
    features = as_table(features)
    a, b = evaluate_rules(features, spec_a), evaluate_rules(features, spec_b)
    both, either = int((a & b).sum()), int((a | b).sum())
    na, nb = names
    sizes = {
        na: int(a.sum()),
        nb: int(b.sum()),
        "both": both,
        f"only {na}": int((a & ~b).sum()),
        f"only {nb}": int((b & ~a).sum()),
        "jaccard": both / either if either else 0.0,
    }
    kinds = features.kinds()
    numeric = [c for c, k in kinds.items() if k == "number" and not c.startswith(INTEREST_PREFIX)]
    icols = [c for c in features.columns if c.startswith(INTEREST_PREFIX)]
    features.prefetch(numeric + icols)  # one pass over the users table and one over the profiles
    means = pd.DataFrame(
        {
            "feature": numeric,
            na: _means(features, a, numeric).to_numpy(),
            nb: _means(features, b, numeric).to_numpy(),
            "all users": _means(features, None, numeric).to_numpy(),
        }
    )
    ia, ib = _means(features, a, icols), _means(features, b, icols)
    order = pd.concat([ia, ib], axis=1).max(axis=1).sort_values(ascending=False).index[:top]
    interests = pd.DataFrame(
        {
            "interest": [c[len(INTEREST_PREFIX) :] for c in order],
            na: ia.reindex(order).fillna(0.0).to_numpy(),
            nb: ib.reindex(order).fillna(0.0).to_numpy(),
        }
    )
    return {"sizes": sizes, "means": means, "interests": interests}


def _means(features: FeatureTable, mask: np.ndarray | None, columns: list[str]) -> pd.Series:
    """Mean of each column over the masked rows (missing values skipped), a column at a time.

    Never a copy of the whole selection: on millions of users that is gigabytes.
    """
    rows = None if mask is None else np.flatnonzero(mask)  # a take of the members beats a mask per column
    means = []
    for c in columns:
        values = features[c].to_numpy(dtype=np.float64, na_value=np.nan)
        values = values if rows is None else values[rows]
        present = np.count_nonzero(~np.isnan(values))
        means.append(float(np.nansum(values)) / present if present else np.nan)
    return pd.Series(means, index=pd.Index(columns, dtype=object), dtype=float)


# ---------------------------------------------------------------------------------------------- export
def min_export_size(settings: Mapping[str, Any] | None = None) -> int:
    """The minimum exportable segment size: the workspace setting ``min_export_size``, default 10."""
    value = (settings or {}).get("min_export_size", DEFAULT_MIN_EXPORT_SIZE)
    if not isinstance(value, int) or value < 1:
        raise ConfigError(f"the workspace setting 'min_export_size' must be an int >= 1; got {value!r}.")
    return value


def refusal_message(size: int, min_size: int) -> str:
    """Why a segment of ``size`` users may not be exported."""
    return (
        f"the segment has {size:,} user(s); exports need at least {min_size:,} so that no small group of "
        "people can be singled out. Widen the rules (or change the workspace setting 'min_export_size')."
    )


def neutralize_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``= + - @``, tab, CR first) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(
    features: Features,
    members: Iterable[str],
    *,
    min_size: int = DEFAULT_MIN_EXPORT_SIZE,
    columns: Iterable[str] | None = None,
) -> bytes:
    """The segment's rows as UTF-8 CSV bytes, refusing small segments and neutralising formulas.

    Only the members' rows of each exported column are read (and ``user_id`` to find them).

    Args:
        features: :func:`build_features` or :func:`user_features`.
        members: User ids of the segment.
        min_size: Smallest segment that may leave the tool.
        columns: Columns to write after ``user_id`` (default: all).

    Raises:
        ExportRefused: Fewer than ``min_size`` users.
    """
    if not isinstance(min_size, (int, np.integer)) or min_size < 1:
        raise ConfigError(f"The 'min_size' parameter of export_csv must be an int >= 1. Got {min_size!r} instead.")
    table = as_table(features)
    wanted = set(map(str, members))
    rows = np.flatnonzero(table["user_id"].astype(str).isin(wanted).to_numpy(dtype=bool))
    if len(rows) < min_size:
        raise ExportRefused(refusal_message(len(rows), min_size))
    cols = ["user_id", *[c for c in (columns if columns is not None else table.columns) if c != "user_id"]]
    unknown = [c for c in cols if c not in table]
    if unknown:
        raise ConfigError(f"unknown export column(s) {unknown}.")
    out = pd.DataFrame({i: table.take(c, rows) for i, c in enumerate(cols)})
    for i in range(out.shape[1]):
        if not pd.api.types.is_numeric_dtype(out[i]):
            out[i] = out[i].astype(object).map(neutralize_cell)
    out.columns = [neutralize_cell(str(c)) for c in cols]
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")  # RFC 4180; a lone CR in a cell gets quoted too
    return buf.getvalue().encode("utf-8")
