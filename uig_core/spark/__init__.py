"""The heavy, parallel half of a build on Apache Spark (``uig build --engine spark``).

Reading and cleaning a log, the item and user frames, the per-pair aggregates and the embedding of every title
run as Spark jobs over the same SQL the DuckDB path runs; model fitting stays on the driver. pyspark is imported
only inside functions, so nothing here costs a DuckDB build anything.
"""

from uig_core.spark.build import SparkAggregates, spark_aggregates
from uig_core.spark.session import DEFAULT_MASTER, java_problem, spark_session

__all__ = ["DEFAULT_MASTER", "SparkAggregates", "java_problem", "spark_aggregates", "spark_session"]
