"""Item texts embedded on Spark's executors: ``mapInPandas`` over batches, the model loaded once per process.

Each Python worker keeps one :class:`~uig_core.semantics.embeddings.Embedder` per model (Spark reuses its
workers, so the model loads once per executor process, not per batch) and encodes its partition's texts in
batches of ``batch_rows``. The vectors are the driver's own: the same model, the same text cleaning, unit norm,
all-zero rows for empty texts (the ID-only path).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["EMBED_SCHEMA", "embed_on_spark", "parallelism", "vectors_of"]

log = logging.getLogger(__name__)

#: The rows of the embedding job: the item's row in the items frame and its unit vector.
EMBED_SCHEMA = "row long, vector array<float>"

_EMBEDDERS: dict[str | None, Any] = {}  # per executor process: model name -> Embedder
_LOCK = threading.Lock()


def _embedder(model: str | None) -> Any:
    """The Embedder of ``model`` in this process (loaded on first use; no disk cache on an executor)."""
    from uig_core.semantics.embeddings import Embedder

    with _LOCK:
        if model not in _EMBEDDERS:
            _EMBEDDERS[model] = Embedder(model=model)
        return _EMBEDDERS[model]


def _encoder(model: str | None, batch_rows: int) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The ``mapInPandas`` function: ``(row, text)`` batches in, ``(row, vector)`` batches out."""

    def encode(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        embedder = _embedder(model)
        for batch in batches:
            for start in range(0, len(batch), batch_rows):
                part = batch.iloc[start : start + batch_rows]
                vectors = embedder.embed(part["text"].fillna("").tolist())
                yield pd.DataFrame({"row": part["row"].to_numpy(np.int64), "vector": list(vectors)})

    return encode


def embed_on_spark(
    spark: SparkSession, texts: list[str], model: str | None, *, partitions: int | None = None, batch_rows: int = 4096
) -> DataFrame:
    """A Spark DataFrame (:data:`EMBED_SCHEMA`) of every text's vector, computed on the executors.

    Args:
        spark: The session.
        texts: One text per item, in the items frame's order (``""`` for ID-only items).
        model: The text model (a bundled name or a folder every executor can read; None: the default).
        partitions: How many tasks share the texts (default: Spark's default parallelism).
        batch_rows: Texts per ``embed`` call inside a task.
    """
    frame = pd.DataFrame({"row": np.arange(len(texts), dtype=np.int64), "text": pd.Series(texts, dtype=object)})
    n = partitions or parallelism(spark)
    rows = spark.createDataFrame(frame, schema="row long, text string").repartition(n)
    return rows.mapInPandas(_encoder(model, batch_rows), schema=EMBED_SCHEMA)


def parallelism(spark: SparkSession) -> int:
    """How many tasks a job of this session runs at once (Spark Connect: its shuffle partitions)."""
    try:
        return max(int(spark.sparkContext.defaultParallelism), 1)
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext; its error class varies by version
        return max(int(spark.conf.get("spark.sql.shuffle.partitions") or 1), 1)


def vectors_of(frame: pd.DataFrame, n_rows: int) -> np.ndarray:
    """The ``(n_rows, dim)`` float32 matrix of the job's ``row, vector`` rows, in row order."""
    if len(frame) != n_rows:
        raise ValueError(f"the embedding job returned {len(frame)} rows for {n_rows} texts")
    order = np.argsort(frame["row"].to_numpy(np.int64), kind="stable")
    vectors = frame["vector"].to_numpy()[order]
    return np.stack([np.asarray(v, dtype=np.float32) for v in vectors]) if n_rows else np.zeros((0, 0), np.float32)
