"""Typed values out of a log's text: ids as canonical text, timestamps as naive UTC, events as canonical events.

Used by :mod:`uig_core.ingest.clean`; every conversion a reader should know about goes into the ingest report.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from uig_core.columns import map_values
from uig_core.errors import SchemaError
from uig_core.ingest.report import EXAMPLES_PER_REASON, IngestReport
from uig_core.schema import EVENTS, auto_map_event

__all__ = ["id_text", "parse_timestamps", "count_text", "map_events", "row_examples"]

log = logging.getLogger(__name__)


def id_text(values: pd.Series) -> pd.Series:
    """Ids as stripped strings (``12.0`` read back as ``12``); blanks become missing."""
    if pd.api.types.is_float_dtype(values):
        values = _float_ids_as_text(values)
    out = values.astype("string").str.strip()
    return out.mask(out == "")


def _float_ids_as_text(values: pd.Series) -> pd.Series:
    """Float ids as text: whole numbers in the int64 range as their integer (``12``), others as written (``1e+20``).

    Decided value by value, so one id reads the same whatever else its column holds; out-of-range whole numbers
    (a Parquet float64 of 1e20) cannot be stored as integers and keep their float text.
    """
    dtype = getattr(values.dtype, "numpy_dtype", values.dtype)
    nums = values.to_numpy(dtype=dtype, na_value=np.nan)
    wide = nums.astype("float64")
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(wide) & (np.mod(wide, 1) == 0) & (wide >= -(2.0**63)) & (wide < 2.0**63)
    if whole.sum() == (~np.isnan(wide)).sum():  # the usual case: integer ids read as floats, converted at once
        return values.astype("Int64").astype("string")
    out = np.full(len(nums), None, dtype=object)
    out[whole] = wide[whole].astype(np.int64).astype(str)
    rest = np.flatnonzero(~whole & ~np.isnan(wide))
    out[rest] = [str(v) for v in nums[rest]]  # numpy's shortest round-trip text of the value's own precision
    return pd.Series(out, index=values.index, dtype="string")


#: A UTC offset or zone written after a clock time: ``10:00+01:00``, ``10:00:00.5Z``, ``10:00 +0200``, ``10:00 UTC``.
_ZONE = (
    r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*"
    r"(?P<zone>(?:[Zz]|UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?)$"
)
_UTC_ZONE = re.compile(r"(?:[Zz]|UTC|GMT)?(?:[+-]0{1,2}(?::?00)?)?")


def parse_timestamps(raw: pd.Series, report: IngestReport, source: str) -> pd.Series:
    """Naive ``datetime64[us]`` timestamps (zoned ones in UTC) from datetimes, epoch numbers or text.

    The format found is written to ``report.timestamp_format``; offsets converted to UTC are reported as a warning.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts = raw
        report.timestamp_format = "datetime"
        if isinstance(ts.dtype, pd.DatetimeTZDtype) and str(ts.dtype.tz) != "UTC":
            report.warnings.append(
                f"timestamps in '{source}' are in time zone {ts.dtype.tz}; they were converted to UTC and are "
                "stored without a zone"
            )
    else:
        text = raw.astype("string").str.strip()
        # Test the shape in Arrow first: to_numeric is slow to fail on each of many date strings (figures in
        # docs/ARCHITECTURE.md).
        looks_numeric = text.str.fullmatch(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?").fillna(False)
        share_numeric = looks_numeric.sum() / max(text.notna().sum(), 1)
        if share_numeric > 0.9:
            numeric = pd.to_numeric(text, errors="coerce")
            mag = float(np.nanmedian(np.abs(numeric.to_numpy(dtype=float))))
            unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us" if mag < 1e17 else "ns"
            ts = pd.to_datetime(numeric, unit=unit, errors="coerce")
            report.timestamp_format = f"epoch {unit}"
        else:
            ts = _parse_text_ts(text, report, source)
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.astype("datetime64[us]")


def _parse_text_ts(text: pd.Series, report: IngestReport, source: str) -> pd.Series:
    """Parse timestamp text in UTC: offsets are applied, and times without one are read as UTC (reported).

    Always ``utc=True``: pandas refuses a column holding several offsets (a DST change) or offsets next to naive
    times, and for naive-only text it changes nothing.
    """
    zones = _zones(text)
    n_zoned, n_text = int(zones.notna().sum()), int(text.notna().sum())
    with warnings.catch_warnings():  # per-element fallback parsing is expected for odd logs
        warnings.simplefilter("ignore", UserWarning)
        ts = pd.to_datetime(text, errors="coerce", utc=True).astype("datetime64[us, UTC]")
        report.timestamp_format = "text"
        failed = ts.isna() & text.notna()
        if failed.sum() > 0.05 * n_text:
            ts = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
            report.timestamp_format = "text (mixed formats)"
        elif 0 < n_zoned < n_text and failed.any():  # the format inferred from the first row misses the other kind
            again = pd.to_datetime(text[failed], errors="coerce", utc=True, format="mixed")
            ts = ts.where(~failed, again.astype("datetime64[us, UTC]"))
            report.timestamp_format = "text (mixed formats)"
    if n_zoned:
        _report_zones(zones, int((zones.isna() & ts.notna()).sum()), report, source)
    return ts


def _zones(text: pd.Series) -> pd.Series:
    """The offset or zone written after each timestamp's clock time (missing where none), found in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.struct_field(pc.extract_regex(pa.array(text, type=pa.string(), from_pandas=True), _ZONE), [0])
    return pd.Series(found.to_pandas(), index=text.index, dtype="string")


def _report_zones(zones: pd.Series, naive: int, report: IngestReport, source: str) -> None:
    """Warn that offsets were converted to UTC and naive times read as UTC (silent when every zone is UTC)."""
    counts = zones.value_counts()
    if naive == 0 and all(_UTC_ZONE.fullmatch(str(z)) for z in counts.index):
        return
    shown = ", ".join(f"{z} x{n:,}" for z, n in counts.head(3).items()) + (", …" if len(counts) > 3 else "")
    msg = (
        f"{count_text(int(counts.sum()), 'timestamp')} in '{source}' carried a UTC offset ({shown}); converted to UTC "
        "and stored without an offset"
    )
    if naive:
        msg += (
            f"; {count_text(naive, 'timestamp')} without an offset read as UTC too (if they are local times, "
            "export every timestamp with its offset)"
        )
    report.warnings.append(msg)


def count_text(n: int, noun: str) -> str:
    """``1 timestamp``, ``2 timestamps``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def row_examples(frame: pd.DataFrame, mask: pd.Series | np.ndarray, column: str | None) -> list[str]:
    """A few ``row N column=value`` examples of the masked rows, for the report."""
    idx = np.flatnonzero(np.asarray(mask))[:EXAMPLES_PER_REASON]
    rows = frame["_row"].to_numpy()
    if column is None:
        return [f"row {rows[i]}" for i in idx]
    values = frame[column].to_numpy()
    return [f"row {rows[i]} {column}={str(values[i])[:40]!r}" for i in idx]


def map_events(df: pd.DataFrame, report: IngestReport, event_map: Mapping[str, str] | None) -> pd.DataFrame:
    """Map raw event values to canonical events; rows with an unknown value are skipped and reported.

    Raises:
        SchemaError: ``event_map`` names something that is not an event.
    """
    if "event" not in df:
        if "query" in df:  # a log of searches, or of purchases beside searches
            asked = df["query"].astype("string").str.strip().fillna("").str.len().to_numpy() > 0
            df["event"] = np.where(asked, "search", "purchase")
            report.warnings.append("no event column: rows with a query are read as searches, the rest as purchases")
            return df
        df["event"] = "purchase"
        report.warnings.append("no event column: every row is read as a purchase")
        return df
    raw = df["event"].astype("string").str.strip()
    lookup: dict[str, str] = {}
    for value in raw.dropna().unique():
        target = (event_map or {}).get(value)
        if target is not None and target not in EVENTS:
            raise SchemaError(
                f"--event-map {value}={target}: '{target}' is not an event; use one of {', '.join(EVENTS)}."
            )
        lookup[value] = target or auto_map_event(value) or ""
    # Not Series.map: on Arrow strings it fails when every mapped value is "" (found by the fuzz test).
    mapped = pd.Series(map_values(raw, lookup, "", dtype=object), index=raw.index, dtype="string")
    unknown = mapped == ""
    if unknown.any():
        values = raw[unknown].value_counts().head(5)
        report.skip(
            "unknown event value (map it with --event-map VALUE=EVENT): "
            + ", ".join(f"{v!r} x{n}" for v, n in values.items()),
            int(unknown.sum()),
            row_examples(df, unknown, "event"),
        )
    df["event"] = mapped
    return df[~unknown]
