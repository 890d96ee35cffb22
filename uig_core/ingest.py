"""Read a CSV / CSV.GZ / Parquet behaviour log into the canonical events frame, with a cleaning report.

Nothing is dropped silently: every skipped or relabelled row is counted in :class:`IngestReport`, with a few
examples naming the row number (1-based data rows, header not counted) and the offending value.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uig_core.columns import map_values
from uig_core.errors import IngestError, SchemaError
from uig_core.schema import EVENTS, auto_map_columns, auto_map_event

__all__ = ["IngestReport", "IngestResult", "read_log", "read_table", "MAX_TITLE_CHARS", "DEFAULT_MAX_BYTES"]

MAX_TITLE_CHARS = 500
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
_EXAMPLES = 3
_DELIMITERS = (",", ";", "\t", "|")

Progress = Callable[[float, str], None]


@dataclass
class IngestReport:
    """What the ingest read, kept, relabelled and skipped (and why)."""

    file: str = ""
    rows_read: int = 0
    rows_accepted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    returns: int = 0
    nonpositive_price: int = 0
    duplicates: int = 0
    truncated_titles: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)
    encoding: str = ""
    delimiter: str = ""
    timestamp_format: str = ""
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int, examples: list[str] | None = None) -> None:
        """Count ``count`` rows skipped for ``reason`` and keep a few examples."""
        if count <= 0:
            return
        self.skipped[reason] = self.skipped.get(reason, 0) + int(count)
        kept = self.examples.setdefault(reason, [])
        kept.extend((examples or [])[: _EXAMPLES - len(kept)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: v for k, v in self.__dict__.items()}

    def lines(self) -> list[str]:
        """Human-readable summary, one finding per line."""
        out = [f"{self.rows_read:,} rows read, {self.rows_accepted:,} accepted"]
        if self.events:
            out.append("events: " + ", ".join(f"{k} {v:,}" for k, v in self.events.items()))
        for reason, n in self.skipped.items():
            ex = "; ".join(self.examples.get(reason, []))
            out.append(f"skipped {n:,} rows: {reason}" + (f" (e.g. {ex})" if ex else ""))
        if self.returns:
            out.append(f"{self.returns:,} rows with negative quantity kept as 'return' events (not positive edges)")
        if self.nonpositive_price:
            out.append(
                f"{self.nonpositive_price:,} purchase rows with price <= 0 kept as 'adjustment' (not purchases)"
            )
        if self.duplicates:
            out.append(f"{self.duplicates:,} exact duplicate rows removed")
        if self.truncated_titles:
            out.append(f"{self.truncated_titles:,} titles longer than {MAX_TITLE_CHARS} characters truncated")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


@dataclass
class IngestResult:
    """The canonical events frame and its report."""

    events: pd.DataFrame
    report: IngestReport


# ----------------------------------------------------------------------------------------------- reading


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for d in _DELIMITERS:
        counts = [next(csv.reader([ln], delimiter=d), []).__len__() - 1 for ln in lines[:20]]
        if not counts or counts[0] == 0:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = consistent * 1000 + counts[0]
        if score > best_score:
            best, best_score = d, score
    return best


def _decode_head(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start > len(raw) - 4:  # a multi-byte char cut by the sample's end
            return raw[: err.start].decode("utf-8")
        raise


def _drop_unclosed_quote(text: str, report: IngestReport) -> str:
    """Skip the row whose quote never closes (it would otherwise swallow the rest of the file)."""
    for _ in range(10):
        if text.count('"') % 2 == 0:
            return text
        lines = text.split("\n")
        open_at, inside = None, False
        for i, line in enumerate(lines):
            if line.count('"') % 2:
                inside = not inside
                open_at = i if inside else open_at
        if not inside or not open_at:
            return text
        report.skip("unclosed quote", 1, [f"row {open_at} {lines[open_at][:60]!r}"])
        del lines[open_at]
        text = "\n".join(lines)
    return text


def read_table(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[pd.DataFrame, IngestReport]:
    """Read a CSV, gzipped CSV or Parquet file into a frame of strings (Parquet keeps its types).

    Raises:
        IngestError: The file is missing, empty, too large, binary or has no data rows.
    """
    path = Path(path)
    report = IngestReport(file=path.name)
    if not path.exists():
        raise IngestError(f"{path}: no such file. Check the path.")
    if path.is_dir():
        raise IngestError(f"{path} is a folder; give a CSV, CSV.GZ or Parquet file.")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{path.name}: the file is empty (0 bytes). Export the log again with a header row.")
    if size > max_bytes:
        raise IngestError(
            f"{path.name}: {size / 1e6:,.0f} MB is above the upload limit of {max_bytes / 1e6:,.0f} MB. "
            "Split the log into batches and append them (uig ingest --append-to)."
        )
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        try:
            frame = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise IngestError(f"{path.name}: not a readable Parquet file ({err}).") from err
        report.encoding, report.delimiter = "parquet", ""
        report.rows_read = len(frame)
        if frame.empty:
            raise IngestError(f"{path.name}: the Parquet file has columns but no rows.")
        return frame, report
    opener = gzip.open if magic[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: damage deep inside the deflate stream
        raise IngestError(f"{path.name}: the gzip stream is damaged ({err}). Compress or export the log again."
                          ) from err
    return _read_csv_bytes(data, report)


def _read_csv_bytes(data: bytes, report: IngestReport) -> tuple[pd.DataFrame, IngestReport]:
    name = report.file
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise IngestError(f"{name}: the file holds only blank space. Export the log again with a header row.")
    head = data[:65536]
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) * 0.01:
        raise IngestError(
            f"{name}: this looks like a binary file, not a text CSV. Upload a CSV, CSV.GZ or Parquet log."
        )
    try:
        _decode_head(head)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    if encoding == "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "latin-1", data.decode("latin-1")
    else:
        text = data.decode("latin-1")
    if encoding != "utf-8":
        report.warnings.append(f"file is not valid UTF-8; read as {encoding}")
    report.encoding = encoding
    text = _drop_unclosed_quote(text, report)
    delim = _sniff_delimiter(text[:65536])
    report.delimiter = {"\t": "tab"}.get(delim, delim)

    bad_rows: list[str] = []

    def on_bad(fields: list[str]) -> None:
        bad_rows.append(delim.join(fields)[:80])
        return None

    common = dict(sep=delim, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    try:
        try:  # the fast C parser first; the Python one only to report ragged rows one by one
            frame = pd.read_csv(io.StringIO(text), engine="c", on_bad_lines="error", **common)
        except pd.errors.ParserError:
            frame = pd.read_csv(io.StringIO(text), engine="python", on_bad_lines=on_bad, **common)
    except pd.errors.EmptyDataError as err:
        raise IngestError(f"{name}: no columns found. The first line must be a header row.") from err
    except (pd.errors.ParserError, csv.Error) as err:
        raise IngestError(f"{name}: the CSV cannot be parsed ({err}). Check for an unclosed quote.") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    if bad_rows:
        report.skip("wrong number of fields (ragged row)", len(bad_rows), [f"'{r}'" for r in bad_rows])
    report.rows_read = len(frame) + len(bad_rows) + report.skipped.get("unclosed quote", 0)
    if frame.empty:
        raise IngestError(f"{name}: the file has a header ({', '.join(frame.columns[:8])}) but no data rows.")
    return frame, report


# ----------------------------------------------------------------------------------------------- cleaning


def _row_examples(frame: pd.DataFrame, mask: pd.Series | np.ndarray, column: str | None) -> list[str]:
    idx = np.flatnonzero(np.asarray(mask))[:_EXAMPLES]
    rows = frame["_row"].to_numpy()
    if column is None:
        return [f"row {rows[i]}" for i in idx]
    values = frame[column].to_numpy()
    return [f"row {rows[i]} {column}={str(values[i])[:40]!r}" for i in idx]


def _clean_id(values: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if len(whole) and np.all(np.mod(whole.to_numpy(), 1) == 0):
            values = values.astype("Int64")
    out = values.astype("string").str.strip()
    return out.mask(out == "")


def _parse_ts(raw: pd.Series, report: IngestReport, source: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts = raw
        report.timestamp_format = "datetime"
    else:
        text = raw.astype("string").str.strip()
        # Test the shape in Arrow first: to_numeric on 66k date strings takes 0.085 s just to fail on each.
        looks_numeric = text.str.fullmatch(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?").fillna(False)
        share_numeric = looks_numeric.sum() / max(text.notna().sum(), 1)
        if share_numeric > 0.9:
            numeric = pd.to_numeric(text, errors="coerce")
            mag = float(np.nanmedian(np.abs(numeric.to_numpy(dtype=float))))
            unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us" if mag < 1e17 else "ns"
            ts = pd.to_datetime(numeric, unit=unit, errors="coerce")
            report.timestamp_format = f"epoch {unit}"
        else:
            with warnings.catch_warnings():  # per-element fallback parsing is expected for odd logs
                warnings.simplefilter("ignore", UserWarning)
                ts = pd.to_datetime(text, errors="coerce")
                report.timestamp_format = "text"
                if ts.isna().sum() > 0.05 * text.notna().sum():
                    ts = pd.to_datetime(text, errors="coerce", format="mixed")
                    report.timestamp_format = "text (mixed formats)"
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.astype("datetime64[us]")


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
    frame, report = read_table(path, max_bytes=max_bytes)
    progress(0.4, "mapping columns")
    return clean_frame(frame, report, mapping=mapping, event_map=event_map, item_pattern=item_pattern,
                       pseudonymize_key=pseudonymize_key)


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
) -> IngestResult:
    """Map and clean an already-read frame (see :func:`read_log`)."""
    name = report.file or "log"
    col_map = auto_map_columns(frame.columns, mapping)
    report.mapping = dict(col_map)
    fields = set(col_map.values())
    for required in ("user_id", "item_id"):
        if required not in fields:
            raise SchemaError(
                f"{name}: no column maps to '{required}'. Columns found: {', '.join(map(str, frame.columns))}. "
                f"Name one with --map COLUMN={required}."
            )
    extras = [c for c in frame.columns if c not in col_map]
    report.extra_columns = [str(c) for c in extras]
    df = frame.rename(columns=col_map)
    for c in extras:
        if str(c) in EVENTS or str(c) in ("_row",):
            df = df.rename(columns={c: f"extra_{c}"})
    df["_row"] = np.arange(1, len(df) + 1)

    validators = re.compile(item_pattern) if item_pattern else None

    # ids
    for col in ("user_id", "item_id"):
        df[col] = _clean_id(df[col])
        missing = df[col].isna()
        report.skip(f"missing {col} (column '{_src(col_map, col)}')", int(missing.sum()),
                    _row_examples(df, missing, None))
        df = df[~missing]
    if validators is not None:
        keep = df["item_id"].str.contains(validators, regex=True).fillna(False).astype(bool)
        report.skip(f"item id does not match --item-pattern {item_pattern!r}", int((~keep).sum()),
                    _row_examples(df, ~keep, "item_id"))
        df = df[keep]

    # numbers
    for col in ("price", "quantity"):
        if col in df:
            raw = df[col]
            num = pd.to_numeric(raw.astype("string").str.replace(",", ".", regex=False).str.strip(),
                                errors="coerce") if not pd.api.types.is_numeric_dtype(raw) else raw
            bad = num.isna() & raw.notna()
            if bad.any():
                report.warnings.append(
                    f"{int(bad.sum()):,} values in '{_src(col_map, col)}' are not numbers and were left empty "
                    f"(e.g. {'; '.join(_row_examples(df, bad, col))})"
                )
            df[col] = num.astype("float64")

    # timestamps
    if "ts" in df:
        ts = _parse_ts(df["ts"], report, _src(col_map, "ts"))
        bad = ts.isna()
        report.skip(f"unparseable timestamp in '{_src(col_map, 'ts')}'", int(bad.sum()), _row_examples(df, bad, "ts"))
        df["ts"] = ts
        df = df[~bad]
    else:
        report.warnings.append("no timestamp column: rows are ordered as in the file, one second apart")
        df["ts"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(df["_row"].to_numpy(), unit="s")
        df["ts"] = df["ts"].astype("datetime64[us]")

    # events
    if "event" in df:
        raw = df["event"].astype("string").str.strip()
        lookup: dict[str, str] = {}
        for value in raw.dropna().unique():
            target = (event_map or {}).get(value)
            if target is not None and target not in EVENTS:
                raise SchemaError(f"--event-map {value}={target}: '{target}' is not an event; use one of "
                                  f"{', '.join(EVENTS)}.")
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
                _row_examples(df, unknown, "event"),
            )
        df["event"] = mapped
        df = df[~unknown]
    else:
        df["event"] = "purchase"
        report.warnings.append("no event column: every row is read as a purchase")

    if "quantity" in df:
        neg = df["quantity"] < 0
        report.returns = int(neg.sum())
        df.loc[neg, "event"] = "return"
    if "price" in df:
        free = (df["event"] == "purchase") & (df["price"] <= 0)
        report.nonpositive_price = int(free.sum())
        df.loc[free, "event"] = "adjustment"

    for col in ("item_title", "category", "order_id"):
        if col in df:
            df[col] = df[col].astype("string").str.strip()
    if "item_title" in df:
        long = df["item_title"].str.len() > MAX_TITLE_CHARS
        report.truncated_titles = int(long.fillna(False).sum())
        if report.truncated_titles:
            df.loc[long.fillna(False), "item_title"] = df.loc[long.fillna(False), "item_title"].str.slice(
                0, MAX_TITLE_CHARS)

    if pseudonymize_key is not None:
        df["user_id"] = pseudonymize(df["user_id"], pseudonymize_key)
        report.warnings.append("user ids were pseudonymised with the workspace key")

    data_cols = [c for c in df.columns if c != "_row"]
    dup = df.duplicated(subset=data_cols)
    report.duplicates = int(dup.sum())
    df = df[~dup]

    ordered = [c for c in ("user_id", "item_id", "event", "ts", "item_title", "category", "price", "quantity",
                           "order_id") if c in df]
    df = df[ordered + [c for c in df.columns if c not in ordered and c != "_row"]]
    df = df.sort_values("ts", kind="stable").reset_index(drop=True)
    df["event"] = df["event"].astype("string")
    report.rows_accepted = len(df)
    report.events = {k: int(v) for k, v in df["event"].value_counts().items()}
    report.returns = report.events.get("return", 0)  # counted after duplicates are gone
    report.nonpositive_price = report.events.get("adjustment", 0)
    if df.empty:
        reasons = "; ".join(f"{n:,} {r}" for r, n in report.skipped.items()) or "no rows"
        raise IngestError(f"{name}: no usable row remains ({reasons}).")
    return IngestResult(df, report)


def _src(col_map: Mapping[str, str], fieldname: str) -> str:
    return next((s for s, f in col_map.items() if f == fieldname), fieldname)
