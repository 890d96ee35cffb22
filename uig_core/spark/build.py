"""The heavy half of a build on Spark: events → item and user frames, pair aggregates and item embeddings.

:func:`spark_aggregates` runs, as Spark jobs, exactly the SQL the DuckDB path runs (:mod:`uig_core.spark.sql`)
and the embedding as ``mapInPandas`` (:mod:`uig_core.spark.embed`); each result lands as Parquet under the
workspace (:mod:`uig_core.spark.paths`) and is read back on the driver, where
:func:`uig_core.build.steps.load_frames` hands it to the usual steps (interests, signals, graph, model fitting).
The answers equal DuckDB's: the same frames, the same interaction matrix (``interactions_sha256``) and, to float
tolerance, the same embeddings (tests/test_spark.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.graph.pairs import PairMatrices, index_frames, matrices_of, pairs_sql
from uig_core.spark.paths import SparkPaths
from uig_core.spark.sql import to_spark
from uig_core.store.frames import items_sql, time_range_sql, typed_items, typed_users, users_sql
from uig_core.store.relation import sql_text

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from uig_core.store.workspace import DatasetInfo, Workspace

__all__ = ["SparkAggregates", "spark_aggregates", "export_events", "read_parquet_folder"]

log = logging.getLogger(__name__)


@dataclass
class SparkAggregates:
    """What Spark computed for a build: frames by id, the time range, the pair matrices and the embeddings."""

    items: pd.DataFrame
    users: pd.DataFrame
    first_ts: pd.Timestamp
    last_ts: pd.Timestamp
    n_events: int
    pairs: PairMatrices
    embeddings: np.ndarray  # (n_items, dim) float32, rows in ``items`` order
    timings: dict[str, float]


def export_events(ws: Workspace, info: DatasetInfo) -> Path:
    """The dataset's events as Parquet for Spark (written from DuckDB once per content hash)."""
    target = SparkPaths(ws.artifacts / "spark").events(info.data_hash)
    if (target / "_SUCCESS").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with ws.connect() as con:
        con.execute(f"COPY (SELECT * FROM {info.table}) TO {sql_text(str(target / 'part-0.parquet'))} (FORMAT parquet)")
    (target / "_SUCCESS").touch()
    log.debug("exported %s to %s", info.table, target)
    return target


def spark_aggregates(
    spark: SparkSession,
    ws: Workspace,
    events_path: str | Path,
    *,
    data_hash: str,
    event_weights: Mapping[str, float],
    half_life_days: float | None,
    embed_model: str | None,
) -> SparkAggregates:
    """Run the frames, pairs and embedding jobs over the events Parquet at ``events_path`` (a path or URI).

    Args:
        spark: The session (:func:`uig_core.spark.session.spark_session`).
        ws: The workspace whose ``artifacts/spark`` receives the outputs.
        events_path: Cleaned canonical events as Parquet (a file or a folder of parts).
        data_hash: The events' content hash (part of the outputs' key).
        event_weights: The build's weight per event type.
        half_life_days: The build's recency half-life.
        embed_model: The build's text model.
    """
    from uig_core.semantics.embeddings import item_texts
    from uig_core.spark.embed import embed_on_spark, vectors_of

    timings: dict[str, float] = {}
    settings = json.dumps([data_hash, dict(event_weights), half_life_days, embed_model], sort_keys=True, default=str)
    key = hashlib.sha256(settings.encode()).hexdigest()[:16]
    paths = SparkPaths(ws.artifacts / "spark")
    events = spark.read.parquet(str(events_path))
    events.createOrReplaceTempView("uig_events")
    columns = set(events.columns)
    start = time.perf_counter()
    items = typed_items(_land(spark.sql(to_spark(items_sql("uig_events", columns))), paths.output(key, "item_frame")))
    users = typed_users(_land(spark.sql(to_spark(users_sql("uig_events", columns))), paths.output(key, "user_frame")))
    first, last, n = spark.sql(to_spark(time_range_sql("uig_events"))).collect()[0]
    timings["spark_frames"] = time.perf_counter() - start
    start = time.perf_counter()
    pairs = _pairs(spark, items, users, paths.output(key, "pairs"), event_weights, half_life_days)
    timings["spark_pairs"] = time.perf_counter() - start
    start = time.perf_counter()
    texts, _ = item_texts(items)
    vectors = _land(embed_on_spark(spark, texts, embed_model), paths.output(key, "embeddings"))
    embeddings = vectors_of(vectors, len(texts))
    timings["spark_embeddings"] = time.perf_counter() - start
    log.info(
        "Spark aggregated %d events: %d users, %d items, %d pairs (%s)",
        n,
        len(users),
        len(items),
        pairs.evidence.nnz,
        ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
    )
    return SparkAggregates(items, users, pd.Timestamp(first), pd.Timestamp(last), int(n), pairs, embeddings, timings)


def _pairs(
    spark: SparkSession,
    items: pd.DataFrame,
    users: pd.DataFrame,
    target: Path,
    event_weights: Mapping[str, float],
    half_life_days: float | None,
) -> PairMatrices:
    """The pair job: the driver's row and column numbers shipped to Spark, :func:`pairs_sql` run there."""
    user_index, item_index = pd.Index(users["user_id"]), pd.Index(items["item_id"])
    user_rows, item_cols = index_frames(user_index, item_index)
    spark.createDataFrame(user_rows, schema="user_id string, r long").createOrReplaceTempView("uig_pair_users")
    spark.createDataFrame(item_cols, schema="item_id string, c long").createOrReplaceTempView("uig_pair_items")
    sql = pairs_sql(
        "uig_events", "uig_pair_users", "uig_pair_items", event_weights=event_weights, half_life_days=half_life_days
    )
    out = _land(spark.sql(to_spark(sql)), target)
    return matrices_of({c: out[c].to_numpy() for c in out.columns}, (len(user_index), len(item_index)))


def _land(frame: DataFrame, target: Path) -> pd.DataFrame:
    """Write a Spark result as Parquet at ``target`` (replacing an earlier run) and read it back on the driver."""
    frame.write.mode("overwrite").parquet(str(target))
    return read_parquet_folder(target)


def read_parquet_folder(folder: str | Path) -> pd.DataFrame:
    """The rows of a folder of Parquet part files (Spark's output) as one frame; Spark's markers are skipped."""
    import pyarrow.dataset as ds

    files = sorted(str(p) for p in Path(folder).glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return ds.dataset(files, format="parquet").to_table().to_pandas()
