"""Read a CSV / CSV.GZ / Parquet behaviour log into the canonical events frame, with a cleaning report.

Nothing is dropped silently: every skipped or relabelled row is counted in the
:class:`~uig_core.ingest.report.IngestReport`, with a few examples naming the row number (1-based data rows,
header not counted) and the offending value. Reading the file itself (delimiter, encoding, gzip, Parquet) is
:mod:`uig_core.ingest.reader`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from uig_core.errors import IngestError, SchemaError
from uig_core.ingest.reader import DEFAULT_MAX_BYTES, json_text, read_table
from uig_core.ingest.report import MAX_TITLE_CHARS, IngestReport, IngestResult
from uig_core.ingest.values import count_text, id_text, map_events, parse_timestamps, row_examples
from uig_core.progress import Progress
from uig_core.schema import CANONICAL_FIELDS, EVENTS, ITEMLESS_EVENTS, auto_map_columns

__all__ = ["read_log", "clean_frame", "pseudonymize"]

log = logging.getLogger(__name__)


def read_log(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    event_map: Mapping[str, str] | None = None,
    item_pattern: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pseudonymize_key: bytes | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Read, map, validate and clean a log file.

    Args:
        path: CSV, CSV.GZ or Parquet file.
        mapping: ``{source_column: canonical_field}`` overriding the auto-mapping.
        event_map: ``{source_value: canonical_event}`` for event values the auto-mapping does not know.
        item_pattern: Regular expression; only items whose id matches are kept (the rest are reported).
        max_bytes: Files above this size are refused.
        pseudonymize_key: When given, user ids are replaced by a keyed hash (see :func:`pseudonymize`).
        progress: ``progress(fraction, message)`` callback.

    Returns:
        The canonical events frame (see docs/ARCHITECTURE.md) and the report.

    Raises:
        IngestError: Nothing usable could be read.
        SchemaError: The columns cannot be mapped (no user or item column).
    """
    progress = progress or (lambda f, m: None)
    progress(0.0, f"reading {Path(path).name}")
    start = time.perf_counter()
    frame, report = read_table(path, max_bytes=max_bytes)
    log.debug("read %s: %d rows in %.2f s", Path(path).name, len(frame), time.perf_counter() - start)
    progress(0.4, "mapping columns")
    result = clean_frame(
        frame,
        report,
        mapping=mapping,
        event_map=event_map,
        item_pattern=item_pattern,
        pseudonymize_key=pseudonymize_key,
    )
    log.info(
        "ingested %s: %d of %d rows kept in %.2f s",
        Path(path).name,
        len(result.events),
        len(frame),
        time.perf_counter() - start,
    )
    return result


def pseudonymize(values: pd.Series, key: bytes) -> pd.Series:
    """Replace ids by a keyed hash (HMAC-SHA256, first 16 hex digits): stable per key, not reversible without it."""
    import hashlib
    import hmac

    uniq = values.dropna().unique()
    table = {v: "p" + hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16] for v in uniq}
    return values.map(table).astype("string")


def clean_frame(
    frame: pd.DataFrame,
    report: IngestReport,
    *,
    mapping: Mapping[str, str] | None = None,
    event_map: Mapping[str, str] | None = None,
    item_pattern: str | None = None,
    pseudonymize_key: bytes | None = None,
    first_row: int = 1,
) -> IngestResult:
    """Map and clean an already-read frame (see :func:`read_log`); ``first_row`` numbers its rows in reports."""
    name = report.file or "log"
    start = time.perf_counter()
    df, col_map = _map_columns(frame, report, mapping, name, first_row)
    df = _nested_as_text(df, report)
    df = map_events(df, report, event_map)
    df = _clean_ids(df, report, col_map, item_pattern)
    df = _clean_numbers(df, report, col_map)
    took_ids = time.perf_counter() - start
    df = _clean_timestamps(df, report, col_map)
    took_ts = time.perf_counter() - start - took_ids
    df = _relabel_returns_and_adjustments(df, report)
    df = _clean_texts(df, report)
    if pseudonymize_key is not None:
        df["user_id"] = pseudonymize(df["user_id"], pseudonymize_key)
        report.warnings.append("user ids were pseudonymised with the workspace key")
    df = _drop_duplicates(df, report)
    df = _finish(df, report)
    log.debug(
        "cleaned %s: %d of %d rows kept in %.2f s (ids and numbers %.2f s, timestamps %.2f s as %s)",
        name,
        len(df),
        len(frame),
        time.perf_counter() - start,
        took_ids,
        took_ts,
        report.timestamp_format or "none in the file",
    )
    if df.empty:
        reasons = "; ".join(f"{n:,} {r}" for r, n in report.skipped.items()) or "no rows"
        raise IngestError(f"{name}: no usable row remains ({reasons}).")
    return IngestResult(df, report)


def _map_columns(
    frame: pd.DataFrame, report: IngestReport, mapping: Mapping[str, str] | None, name: str, first_row: int = 1
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename source columns to canonical fields (extras that would clash get ``extra_``) and number the rows.

    A log of searches (a ``query`` column) needs no item column: its rows are searches without an item.

    Raises:
        SchemaError: No column maps to ``user_id``, or none to ``item_id`` (nor to ``query``).
    """
    col_map = auto_map_columns(frame.columns, mapping)
    report.mapping = dict(col_map)
    fields = set(col_map.values())
    for required in ("user_id", "item_id"):
        if required == "item_id" and "query" in fields:
            continue
        if required not in fields:
            raise SchemaError(
                f"{name}: no column maps to '{required}'. Columns found: {', '.join(map(str, frame.columns))}. "
                f"Name one with --map COLUMN={required}."
            )
    extras = [c for c in frame.columns if c not in col_map]
    report.extra_columns = [str(c) for c in extras]
    df = frame.rename(columns=col_map)
    if "item_id" not in df:
        df["item_id"] = pd.Series(pd.NA, index=df.index, dtype="string")
    for c in extras:
        if str(c) in EVENTS or str(c) in ("_row",):
            df = df.rename(columns={c: f"extra_{c}"})
    df["_row"] = np.arange(first_row, first_row + len(df))
    return df, col_map


_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)  # values a duplicate check cannot hash


def _nested_as_text(df: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Turn columns holding lists or records into JSON text, with a warning (Parquet's are turned on reading).

    Such values cannot be compared for the duplicate check nor hashed for the dataset's content hash, and DuckDB
    would reshape them (struct integers read back as doubles); as text they are kept whole and compare exactly.
    """
    for col in df.columns:
        values = df[col]
        if values.dtype != object:
            continue
        nested = values.map(lambda v: isinstance(v, _NESTED)).to_numpy(dtype=bool)
        if not nested.any():
            continue
        text = [json_text(v) if is_nested else v for v, is_nested in zip(values.to_numpy(), nested, strict=True)]
        df[col] = pd.Series(text, index=df.index, dtype=object).astype("string")
        report.warnings.append(
            f"column '{col}' holds lists or records ({count_text(int(nested.sum()), 'row')}, e.g. "
            f"{'; '.join(row_examples(df, nested, col))}); they are kept as JSON text so they can be compared and "
            "stored (flatten them into columns in the export to use their parts)"
        )
    return df


def _clean_ids(
    df: pd.DataFrame, report: IngestReport, col_map: Mapping[str, str], item_pattern: str | None
) -> pd.DataFrame:
    """Skip rows without a user or item id, and items the ``item_pattern`` does not match (all reported).

    A search needs no item (:data:`~uig_core.schema.ITEMLESS_EVENTS`), but one without an item needs a query.
    """
    validators = re.compile(item_pattern) if item_pattern else None
    itemless = df["event"].isin(ITEMLESS_EVENTS).to_numpy(dtype=bool)
    for col in ("user_id", "item_id"):
        df[col] = id_text(df[col])
        missing = df[col].isna().to_numpy(dtype=bool).copy()
        if col == "item_id":
            missing &= ~itemless
        report.skip(
            f"missing {col} (column '{_src(col_map, col)}')", int(missing.sum()), row_examples(df, missing, None)
        )
        df, itemless = df[~missing], itemless[~missing]
    if "query" in df:
        df["query"] = df["query"].astype("string").str.strip().replace("", pd.NA)
    if itemless.any():
        blank = itemless & df["item_id"].isna().to_numpy(dtype=bool).copy()
        if "query" in df:
            blank &= df["query"].isna().to_numpy(dtype=bool)
        report.skip("search without a query or an item", int(blank.sum()), row_examples(df, blank, None))
        df = df[~blank]
    if validators is not None:
        keep = df["item_id"].str.contains(validators, regex=True).fillna(False).astype(bool)
        keep |= df["item_id"].isna() & df["event"].isin(ITEMLESS_EVENTS)
        report.skip(
            f"item id does not match --item-pattern {item_pattern!r}",
            int((~keep).sum()),
            row_examples(df, ~keep, "item_id"),
        )
        df = df[keep]
    return df


def _clean_numbers(df: pd.DataFrame, report: IngestReport, col_map: Mapping[str, str]) -> pd.DataFrame:
    """Read price and quantity as floats (decimal commas too); values that are not numbers are left empty."""
    for col in ("price", "quantity"):
        if col in df:
            raw = df[col]
            num = (
                pd.to_numeric(raw.astype("string").str.replace(",", ".", regex=False).str.strip(), errors="coerce")
                if not pd.api.types.is_numeric_dtype(raw)
                else raw
            )
            bad = num.isna() & raw.notna()
            if bad.any():
                report.warnings.append(
                    f"{int(bad.sum()):,} values in '{_src(col_map, col)}' are not numbers and were left empty "
                    f"(e.g. {'; '.join(row_examples(df, bad, col))})"
                )
            df[col] = num.astype("float64")
    return df


def _clean_timestamps(df: pd.DataFrame, report: IngestReport, col_map: Mapping[str, str]) -> pd.DataFrame:
    """Parse ``ts`` and skip rows it cannot read; without a ``ts`` column, rows get file order, a second apart."""
    if "ts" in df:
        ts = parse_timestamps(df["ts"], report, _src(col_map, "ts"))
        bad = ts.isna()
        report.skip(f"unparseable timestamp in '{_src(col_map, 'ts')}'", int(bad.sum()), row_examples(df, bad, "ts"))
        df["ts"] = ts
        df = df[~bad]
    else:
        report.warnings.append("no timestamp column: rows are ordered as in the file, one second apart")
        df["ts"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(df["_row"].to_numpy(), unit="s")
        df["ts"] = df["ts"].astype("datetime64[us]")
    return df


def _relabel_returns_and_adjustments(df: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Keep negative quantities as ``return`` and purchases at price <= 0 as ``adjustment``: not positive edges."""
    if "quantity" in df:
        neg = df["quantity"] < 0
        report.returns = int(neg.sum())
        df.loc[neg, "event"] = "return"
    if "price" in df:
        free = (df["event"] == "purchase") & (df["price"] <= 0)
        report.nonpositive_price = int(free.sum())
        df.loc[free, "event"] = "adjustment"
    return df


def _clean_texts(df: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Strip the text columns and cut titles at ``MAX_TITLE_CHARS`` (counted in the report)."""
    for col in ("item_title", "category", "order_id", "query"):
        if col in df:
            df[col] = df[col].astype("string").str.strip()
    if "item_title" in df:
        long = df["item_title"].str.len() > MAX_TITLE_CHARS
        report.truncated_titles = int(long.fillna(False).sum())
        if report.truncated_titles:
            df.loc[long.fillna(False), "item_title"] = df.loc[long.fillna(False), "item_title"].str.slice(
                0, MAX_TITLE_CHARS
            )
    return df


def _drop_duplicates(df: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Remove exact duplicate rows (the row number aside), counted in the report."""
    data_cols = [c for c in df.columns if c != "_row"]
    dup = df.duplicated(subset=data_cols)
    report.duplicates = int(dup.sum())
    return df[~dup]


def _finish(df: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Canonical columns first, rows in time order, and the report's final counts."""
    ordered = [c for c in CANONICAL_FIELDS if c in df]
    df = df[ordered + [c for c in df.columns if c not in ordered and c != "_row"]]
    df = df.sort_values("ts", kind="stable").reset_index(drop=True)
    df["event"] = df["event"].astype("string")
    report.rows_accepted = len(df)
    report.events = {k: int(v) for k, v in df["event"].value_counts().items()}
    report.returns = report.events.get("return", 0)  # counted after duplicates are gone
    report.nonpositive_price = report.events.get("adjustment", 0)
    return df


def _src(col_map: Mapping[str, str], fieldname: str) -> str:
    """The source column mapped to ``fieldname``, for messages that name what the user's file calls it."""
    return next((s for s, f in col_map.items() if f == fieldname), fieldname)
