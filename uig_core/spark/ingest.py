"""A log read and cleaned on Spark (``uig build --log PATH_OR_URI --engine spark``), then stored as a dataset.

Spark reads the log where it lies (a CSV or CSV.GZ, a Parquet file, or a folder of part files; a path or any URI
Spark can read), every CSV column as text, as ``uig ingest`` reads it. The cleaning is the one definition,
:func:`~uig_core.ingest.clean.clean_frame`, run by ``mapInPandas`` on each partition: the column mapping is
learned once on the driver from the log's first rows and then fixed for every partition, so all partitions map
alike. Rows repeated across partitions are removed by Spark (``DISTINCT``), as :mod:`uig_core.store.bulk` does
for a file read in parts. The cleaned rows land as Parquet and are stored in the workspace in parts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from uig_core.errors import IngestError
from uig_core.ingest.clean import clean_frame
from uig_core.ingest.report import IngestReport
from uig_core.spark.paths import SparkPaths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["SAMPLE_ROWS", "read_raw_log", "clean_on_spark", "ingest_on_spark"]

log = logging.getLogger(__name__)

#: Rows of the log's head the driver cleans to learn the column mapping and the cleaned columns' types.
SAMPLE_ROWS = 20_000


def read_raw_log(spark: SparkSession, source: str) -> DataFrame:
    """The log at ``source`` as Spark reads it: Parquet as typed, CSV with a header and every column as text."""
    local = Path(source)
    if local.is_dir():
        parts = [p.name for p in local.iterdir() if not p.name.startswith(("_", "."))]
        parquet = bool(parts) and all(p.endswith(".parquet") for p in parts)
    else:
        parquet = source.endswith(".parquet") or (local.is_file() and local.open("rb").read(4) == b"PAR1")
    if parquet:
        return spark.read.parquet(source)
    return (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("sep", _delimiter(spark, source))
        .option("escape", '"')  # a quote inside a quoted field is doubled, as pandas and spreadsheets write it
        .option("multiLine", True)  # quoted titles may hold line breaks (one task per file: give a folder of parts)
        .option("ignoreLeadingWhiteSpace", True)  # as the local reader's skipinitialspace
        .option("mode", "PERMISSIVE")
        .csv(source)
    )


def _delimiter(spark: SparkSession, source: str) -> str:
    """The CSV's delimiter, sniffed from its first line as the local reader does."""
    from uig_core.ingest.reader import _sniff_delimiter

    head = spark.read.text(source).limit(20).collect()
    return _sniff_delimiter("\n".join(r[0] for r in head)) if head else ","


def _spark_type(dtype: Any) -> str:
    """The Spark SQL type of a cleaned column's pandas dtype."""
    kind = getattr(dtype, "kind", "O")
    # NTZ: the log's times carry no zone, as in DuckDB (a zoned type would land as TIMESTAMPTZ)
    return {"f": "double", "i": "bigint", "u": "bigint", "b": "boolean", "M": "timestamp_ntz"}.get(kind, "string")


def clean_on_spark(
    raw: DataFrame, name: str, options: Mapping[str, Any] | None = None
) -> tuple[DataFrame, IngestReport]:
    """The cleaned events of ``raw`` (a Spark DataFrame, not yet computed) and the report of its sample.

    Args:
        raw: The log as read (:func:`read_raw_log`).
        name: The log's name in messages.
        options: ``clean_frame``'s options (``mapping``, ``event_map``, ``item_pattern``, ``pseudonymize_key``).

    Raises:
        SchemaError: The columns cannot be mapped (told on the sample, before any Spark job).
        IngestError: The sample holds no usable row.
    """
    options = dict(options or {})
    sample = raw.limit(SAMPLE_ROWS).toPandas()
    report = IngestReport(file=name)
    report.rows_read = len(sample)
    probe = clean_frame(sample, report, **options).events
    options["mapping"] = dict(report.mapping)  # every partition maps its columns as the head did
    columns = [str(c) for c in probe.columns]
    schema = ", ".join(f"`{c}` {_spark_type(probe[c].dtype)}" for c in columns)
    cleaned = raw.mapInPandas(_cleaner(name, columns, options), schema=schema).distinct()
    return cleaned, report


def _cleaner(
    name: str, columns: list[str], options: dict[str, Any]
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The ``mapInPandas`` function: raw batches in, :func:`clean_frame`'s events out, in ``columns``."""

    def clean(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            try:
                events = clean_frame(batch, IngestReport(file=name), **options).events
            except IngestError:
                continue  # every row of this batch was skipped (the sample's report says why rows go)
            for col in columns:
                if col not in events:
                    events[col] = None
            yield events[columns]

    return clean


def ingest_on_spark(
    spark: SparkSession,
    ws: Workspace,
    name: str,
    source: str,
    options: Mapping[str, Any] | None = None,
) -> DatasetInfo:
    """Read and clean the log at ``source`` on Spark and store it as the new dataset ``name``.

    Raises:
        DatasetExists: The name is taken.
        SchemaError, IngestError: As ``uig ingest`` would for the same log.
    """
    import pyarrow.dataset as ds

    from uig_core.store.bulk import add_dataset_parts

    name = ws.check_new_name(name)
    shown = Path(source).name or source
    raw = read_raw_log(spark, source)
    cleaned, report = clean_on_spark(raw, shown, options)
    target = SparkPaths(ws.artifacts / "spark").cleaned_log(source)
    cleaned.orderBy("ts").write.mode("overwrite").parquet(str(target))
    n_read = raw.count()
    files = sorted(str(p) for p in target.glob("*.parquet"))
    data = ds.dataset(files, format="parquet")

    def parts() -> Iterator[pd.DataFrame]:
        for batch in data.to_batches(batch_size=1_000_000):
            frame = batch.to_pandas()
            for col in frame.columns:
                if frame[col].dtype == object:
                    frame[col] = frame[col].astype("string")
                elif isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            yield frame

    def final_report(removed: int) -> dict[str, Any]:
        out = report.to_dict()
        out.update(rows_read=int(n_read), rows_accepted=int(data.count_rows()), read_by="spark")
        out["warnings"] = [*report.warnings, f"skip counts and examples are those of the first {SAMPLE_ROWS:,} rows"]
        return out

    return add_dataset_parts(ws, name, parts(), source=source, options=dict(options or {}), report=final_report)
