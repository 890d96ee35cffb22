"""Reading a large log in parts, a million rows at a time, so memory is bounded by one part.

The mapping and cleaning are those of :func:`~uig_core.ingest.clean.read_log`, applied to each part.

Files above :func:`stream_bytes` on disk take this path (``uig ingest`` of a new dataset); smaller ones are read
whole, which also lets the reader repair an unclosed last quote and report each ragged row. Parquet is read one
batch of row groups at a time; CSV and CSV.GZ through pandas' C parser in chunks (ragged rows are skipped and
counted from the parser's own warnings). Each part is cleaned by :func:`~uig_core.ingest.clean.clean_frame`
with its rows numbered as in the file, and the parts' reports are merged into one.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from uig_core.errors import IngestError
from uig_core.ingest.clean import clean_frame
from uig_core.ingest.reader import _decode_head, _sniff_delimiter, shown_path
from uig_core.ingest.report import IngestReport
from uig_core.progress import Progress, noop

__all__ = ["stream_bytes", "should_stream", "read_log_parts", "CHUNK_ROWS"]

log = logging.getLogger(__name__)

CHUNK_ROWS = 1_000_000


def stream_bytes() -> int:
    """Files above this many bytes are read in parts (``$UIG_STREAM_BYTES``, default 64 MiB)."""
    return int(os.environ.get("UIG_STREAM_BYTES") or 64 << 20)


def should_stream(path: str | Path) -> bool:
    """Whether ``path`` is large enough to be read in parts."""
    try:
        return Path(path).stat().st_size > stream_bytes()
    except OSError:
        return False  # the whole-file reader reports the problem with the path


def read_log_parts(
    path: str | Path,
    *,
    mapping: dict[str, str] | None = None,
    event_map: dict[str, str] | None = None,
    item_pattern: str | None = None,
    pseudonymize_key: bytes | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress = noop,
) -> tuple[Iterator[pd.DataFrame], IngestReport]:
    """The cleaned parts of a log (a generator) and the report they fill in as they are read.

    The report is complete once the generator is exhausted. A part whose rows are all skipped yields nothing;
    when no row of the whole file is usable, the generator raises :class:`~uig_core.errors.IngestError`.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{shown_path(path)}: no such file. Check the path.")
    report = IngestReport(file=path.name)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    raw = _parquet_parts(path, chunk_rows, report) if magic == b"PAR1" else _csv_parts(path, chunk_rows, report)
    options = dict(mapping=mapping, event_map=event_map, item_pattern=item_pattern, pseudonymize_key=pseudonymize_key)
    return _cleaned(raw, report, options, progress), report


def _cleaned(
    raw: Iterator[tuple[pd.DataFrame, float]], report: IngestReport, options: dict[str, Any], progress: Progress
) -> Iterator[pd.DataFrame]:
    first_row = 1
    for frame, done in raw:
        part = IngestReport(file=report.file, encoding=report.encoding, delimiter=report.delimiter)
        part.rows_read = len(frame)
        try:
            yield clean_frame(frame, part, first_row=first_row, **options).events
        except IngestError:
            if part.rows_accepted or not (part.skipped or part.rows_read):
                raise  # not "every row of this part was skipped": a real problem
        report.merge(part)
        first_row += len(frame)
        progress(done, f"read {report.rows_read:,} rows, {report.rows_accepted:,} accepted")
    if report.rows_accepted == 0:
        reasons = "; ".join(f"{n:,} {r}" for r, n in report.skipped.items()) or "no rows"
        raise IngestError(f"{report.file}: no usable row remains ({reasons}).")


def _parquet_parts(path: Path, chunk_rows: int, report: IngestReport) -> Iterator[tuple[pd.DataFrame, float]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    report.encoding, report.delimiter = "parquet", ""
    try:
        file = pq.ParquetFile(path)
        total = max(file.metadata.num_rows, 1)
        done = 0
        for batch in file.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch])
            nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
            if nested:
                raise IngestError(
                    f"{path.name}: columns {', '.join(nested)} hold Parquet lists or records; a file this large is "
                    "read in parts, which keeps only flat columns. Flatten them in the export (or drop them)."
                )
            done += table.num_rows
            yield table.to_pandas(), done / total
    except (OSError, pa.ArrowException) as err:
        raise IngestError(f"{path.name}: not a readable Parquet file ({err}).") from err


def _csv_parts(path: Path, chunk_rows: int, report: IngestReport) -> Iterator[tuple[pd.DataFrame, float]]:
    size = max(path.stat().st_size, 1)
    raw = open(path, "rb")  # noqa: SIM115 - closed below; its position measures progress through the file
    try:
        fh = gzip.GzipFile(fileobj=raw) if raw.read(2) == b"\x1f\x8b" else raw
        raw.seek(0)
        head = fh.read(65536)
        fh.seek(0)
        report.encoding = _encoding(head)
        delim = _sniff_delimiter(head.decode(report.encoding, errors="replace"))
        if report.encoding == "latin-1":
            report.warnings.append("file is not valid UTF-8; read as latin-1")
        report.delimiter = {"\t": "tab"}.get(delim, delim)
        reader = pd.read_csv(
            fh,
            sep=delim,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            engine="c",
            on_bad_lines="warn",
            encoding=report.encoding,
            encoding_errors="replace",
            chunksize=chunk_rows,
        )
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    frame = next(reader)
                except StopIteration:
                    break
                except pd.errors.ParserError as err:
                    raise IngestError(
                        f"{path.name}: the CSV cannot be parsed ({err}). Check for an unclosed quote."
                    ) from err
            frame.columns = [str(c).strip() for c in frame.columns]
            ragged = _ragged_lines(caught)
            report.skip("wrong number of fields (ragged row)", len(ragged), [f"line {n}" for n in ragged])
            report.rows_read += len(ragged)
            yield frame, raw.tell() / size
    finally:
        raw.close()


def _encoding(head: bytes) -> str:
    try:
        _decode_head(head)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"  # drops a byte-order mark, reads plain UTF-8 as it is


_SKIPPING = re.compile(r"Skipping line (\d+)")


def _ragged_lines(caught: list[warnings.WarningMessage]) -> list[int]:
    """Line numbers of the rows the C parser skipped for a wrong number of fields."""
    return [int(m) for w in caught for m in _SKIPPING.findall(str(w.message))]
