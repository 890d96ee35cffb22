"""Read a log file into a raw table: CSV (``,`` ``;`` tab ``|`` sniffed), gzip, Parquet; UTF-8 or Latin-1.

A file over the size limit, or one whose last quote never closes, is reported rather than read blindly; Parquet
list, struct and map columns become JSON text; a path the file system refuses (too long, no permission) is an
:class:`~uig_core.errors.IngestError` naming it. The findings go into the
:class:`~uig_core.ingest.report.IngestReport` that :mod:`uig_core.ingest.clean` completes.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from uig_core.errors import IngestError
from uig_core.ingest.report import IngestReport

__all__ = ["read_table", "DEFAULT_MAX_BYTES", "json_text", "path_problem", "shown_path"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
_DELIMITERS = (",", ";", "\t", "|")


def shown_path(path: str | Path, limit: int = 120) -> str:
    """A path for a message: whole when short, else its start and end around an ellipsis."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-(limit // 2 - 1) :]}"


def path_problem(path: str | Path, err: OSError | ValueError) -> str:
    """A message naming ``path``, what the file system said and the fix, for an error raised while checking it."""
    shown = shown_path(path)
    if isinstance(err, ValueError):  # os functions refuse a NUL character with a ValueError
        return f"{shown!r}: the path contains a NUL character or other unusable text ({err}). Type the path again."
    if err.errno == errno.ENAMETOOLONG:
        return (
            f"{shown}: the path is too long for the server's file system ({len(str(path)):,} characters; a file or "
            "folder name may have at most 255 bytes). Check the path, or rename the file to a shorter name."
        )
    if isinstance(err, PermissionError):
        return (
            f"{shown}: permission denied; the app's process may not read this file or one of its folders. Give it "
            "read access, or copy the file into a folder it can read."
        )
    return f"{shown}: cannot read this path on the server ({err.strerror or err}). Check the path."


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
    try:
        if not path.exists():
            raise IngestError(f"{shown_path(path)}: no such file. Check the path.")
        if path.is_dir():
            raise IngestError(f"{shown_path(path)} is a folder; give a CSV, CSV.GZ or Parquet file.")
        size = path.stat().st_size
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except (OSError, ValueError) as err:  # too long a name, no permission, a NUL in the path
        raise IngestError(path_problem(path, err)) from err
    if size == 0:
        raise IngestError(f"{path.name}: the file is empty (0 bytes). Export the log again with a header row.")
    if size > max_bytes:
        raise IngestError(
            f"{path.name}: {size / 1e6:,.0f} MB is above the upload limit of {max_bytes / 1e6:,.0f} MB. "
            "Split the log into batches and append them (uig ingest --append-to)."
        )
    if magic == b"PAR1":
        try:
            frame = pd.read_parquet(path)
            frame = _nested_as_json(path, frame, report)
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
        raise IngestError(
            f"{path.name}: the gzip stream is damaged ({err}). Compress or export the log again."
        ) from err
    return _read_csv_bytes(data, report)


def _nested_as_json(path: Path, frame: pd.DataFrame, report: IngestReport) -> pd.DataFrame:
    """Parquet list, struct and map columns as JSON text, read from Arrow so ints and nulls stay as written.

    Such values cannot be compared for the duplicate check nor hashed for the dataset's content hash, and pandas
    would turn ``[1, null]`` into ``[1.0, nan]``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    nested = [f for f in schema if pa.types.is_nested(f.type) and f.name in frame.columns]
    if not nested:
        return frame
    table = pq.read_table(path, columns=[f.name for f in nested])
    for f in nested:
        text = [None if v is None else json_text(v) for v in table.column(f.name).to_pylist()]
        frame[f.name] = pd.Series(text, index=frame.index, dtype="string")
        example = next((t for t in text if t is not None), "")
        kind = "records" if pa.types.is_struct(f.type) else "maps" if pa.types.is_map(f.type) else "lists"
        report.warnings.append(
            f"column '{f.name}' holds Parquet {kind} (e.g. {example[:60]!r}); they are kept as JSON text so they can "
            "be compared and stored (flatten them into columns in the export to use their parts)"
        )
    return frame


def json_text(value: object) -> str:
    """A nested value (lists, dicts, numpy arrays) as JSON text: keys in their own order, NaN as null."""
    return json.dumps(_plain(value), ensure_ascii=False, default=_json_default)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):  # no order of its own: sorted, so the text is deterministic
        return [_plain(v) for v in sorted(value, key=repr)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)  # dates, decimals and the like: their usual text


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
