"""Where a Spark build's Parquet lives in the workspace: the one owner of those folder names.

Spark writes a folder of part files per output; the driver reads each back with pyarrow. Everything sits under
``<workspace>/artifacts/spark/`` so a cluster and the driver see it where the workspace is on shared storage
(README, "Running on a Spark cluster"):

===========================  ==========================================================================
``events-<data hash>/``      a stored dataset's events, exported from DuckDB once per content
``log-<source hash>/``       a log cleaned by Spark (``--log``), before it is stored as a dataset
``run-<key>/item_frame/``    one row per item (:func:`~uig_core.store.frames.items_sql`)
``run-<key>/user_frame/``    one row per user (:func:`~uig_core.store.frames.users_sql`)
``run-<key>/pairs/``         the pair aggregates (:func:`~uig_core.graph.pairs.pairs_sql`)
``run-<key>/embeddings/``    ``row, vector`` per item text (:mod:`uig_core.spark.embed`)
===========================  ==========================================================================
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SparkPaths"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SparkPaths:
    """The Spark folders of one workspace (``root`` is ``<workspace>/artifacts/spark``)."""

    root: Path

    def events(self, data_hash: str) -> Path:
        """The exported events of the dataset with ``data_hash``."""
        return self.root / f"events-{data_hash}"

    def cleaned_log(self, source: str) -> Path:
        """A log cleaned by Spark, keyed by its path or URI."""
        return self.root / f"log-{hashlib.sha256(source.encode()).hexdigest()[:16]}"

    def run(self, key: str) -> Path:
        """The outputs of one aggregation run (``key``: a hash of the data and the settings that shape them)."""
        return self.root / f"run-{key}"

    def output(self, key: str, name: str) -> Path:
        """One output folder of a run: ``item_frame``, ``user_frame``, ``pairs`` or ``embeddings``."""
        if name not in ("item_frame", "user_frame", "pairs", "embeddings"):
            raise ValueError(f"unknown Spark output {name!r}")
        return self.run(key) / name
