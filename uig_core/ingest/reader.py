"""Read a log file into a raw table: CSV (``,`` ``;`` tab ``|`` sniffed), gzip, Parquet; UTF-8 or Latin-1.

A file over the size limit, or one whose last quote never closes, is reported rather than read blindly; the
findings go into the :class:`~uig_core.ingest.report.IngestReport` that :mod:`uig_core.ingest.clean` completes.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import zlib
from pathlib import Path

import pandas as pd

from uig_core.errors import IngestError
from uig_core.ingest.report import IngestReport

__all__ = ["read_table", "DEFAULT_MAX_BYTES"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB
_DELIMITERS = (",", ";", "\t", "|")


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
        raise IngestError(
            f"{path.name}: the gzip stream is damaged ({err}). Compress or export the log again."
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
