"""Ingest + aggregation on Spark (``local[N]``) beside DuckDB, on the scale generator's shop log.

Both engines do the same work on the same file, each in its own process under ``/usr/bin/time -v``:

- **DuckDB** (what ``uig ingest`` + the build's first steps do): the log read and cleaned in parts
  (:mod:`uig_core.ingest.stream`) and stored (:mod:`uig_core.store.bulk`), then the item frame, the user frame
  (money included) and the pair matrices (:mod:`uig_core.graph.pairs`).
- **Spark**: the log read and cleaned by ``mapInPandas(clean_frame)`` with repeats removed, written as Parquet
  (:mod:`uig_core.spark.ingest`), then the same three aggregates as Spark SQL (:mod:`uig_core.spark.build`,
  embeddings left out: both engines embed with the same model). The local JVM's CPU seconds, which ``time`` does
  not see (the JVM is never waited for), are read from ``/proc`` and added.

Prints one table (wall, CPU seconds, peak RSS of the Python process) and the command that made it.

    python bench/spark.py --size M --master "local[2]"     # the log: /tmp/scale/M.parquet, made when missing
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scale import generate, timed  # noqa: E402


def _duckdb(log: str, root: str) -> dict:
    import pandas as pd

    from uig_core.graph.pairs import pair_matrices
    from uig_core.ingest.stream import read_log_parts
    from uig_core.store.bulk import add_dataset_parts
    from uig_core.store.frames import items_frame, users_frame
    from uig_core.store.relation import EventRelation
    from uig_core.store.workspace import Workspace

    ws = Workspace(root)
    start = time.perf_counter()
    parts, report = read_log_parts(log)
    info = add_dataset_parts(ws, "shop", parts, source=log, report=lambda removed: report.to_dict())
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    events = EventRelation.of_dataset(ws, info)
    items, users = items_frame(events), users_frame(events)
    pairs = pair_matrices(events, pd.Index(users["user_id"]), pd.Index(items["item_id"]))
    return {
        "ingest_s": ingest,
        "aggregate_s": time.perf_counter() - start,
        "rows": info.rows,
        "pairs": pairs.weight.nnz,
    }


def _spark(log: str, root: str, master: str) -> dict:
    from uig_core.graph.pairs import index_frames, pairs_sql
    from uig_core.spark.build import read_parquet_folder
    from uig_core.spark.ingest import clean_on_spark, read_raw_log
    from uig_core.spark.session import jvm_cpu_seconds, spark_session
    from uig_core.spark.sql import to_spark
    from uig_core.store.frames import items_sql, typed_items, typed_users, users_sql

    out = Path(root)
    start = time.perf_counter()
    spark = spark_session(master)
    out_start = time.perf_counter() - start
    start = time.perf_counter()
    cleaned, _ = clean_on_spark(read_raw_log(spark, log), Path(log).name)
    cleaned.write.mode("overwrite").parquet(str(out / "events"))
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    events = spark.read.parquet(str(out / "events"))
    events.createOrReplaceTempView("ev")
    cols = set(events.columns)
    spark.sql(to_spark(items_sql("ev", cols))).write.mode("overwrite").parquet(str(out / "items"))
    spark.sql(to_spark(users_sql("ev", cols))).write.mode("overwrite").parquet(str(out / "users"))
    items, users = typed_items(read_parquet_folder(out / "items")), typed_users(read_parquet_folder(out / "users"))
    u, i = index_frames(users["user_id"], items["item_id"])
    spark.createDataFrame(u, schema="user_id string, r long").createOrReplaceTempView("pu")
    spark.createDataFrame(i, schema="item_id string, c long").createOrReplaceTempView("pi")
    spark.sql(to_spark(pairs_sql("ev", "pu", "pi"))).write.mode("overwrite").parquet(str(out / "pairs"))
    n_pairs = len(read_parquet_folder(out / "pairs"))
    return {
        "start_s": out_start,
        "ingest_s": ingest,
        "aggregate_s": time.perf_counter() - start,
        "rows": int(events.count()),
        "pairs": n_pairs,
        "jvm_cpu_s": jvm_cpu_seconds(spark) or 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", help="XS, S, M or L (default M)")
    parser.add_argument("--log", help="the log (default /tmp/scale/<size>.parquet, generated when missing)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--engine", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        work = _duckdb(args.log, args.root) if args.engine == "duckdb" else _spark(args.log, args.root, args.master)
        print(json.dumps(work))
        return 0
    log = Path(args.log or f"/tmp/scale/{args.size}.parquet")
    generate(args.size, log)
    rows = {}
    for engine in ("duckdb", "spark"):
        with tempfile.TemporaryDirectory(prefix=f"uig_bench_{engine}_") as root:
            cmd = [sys.executable, __file__, "--engine", engine, "--log", str(log), "--root", root]
            run = timed([*cmd, "--master", args.master])
            rows[engine] = {**run, **json.loads(run["stdout"].strip().splitlines()[-1])}
    print(f"{'engine':<16} {'ingest s':>9} {'aggregate s':>12} {'wall s':>8} {'CPU s':>8} {'RSS GB':>7} {'pairs':>10}")
    for engine, r in rows.items():
        cpu = r["cpu"] + r.get("jvm_cpu_s", 0.0)
        label = engine if engine == "duckdb" else f"spark {args.master}"
        print(
            f"{label:<16} {r['ingest_s']:>9.1f} {r['aggregate_s']:>12.1f} {r['wall']:>8.1f} {cpu:>8.1f}"
            f" {r['rss']:>7.2f} {r['pairs']:>10,}"
        )
    d, s = rows["duckdb"], rows["spark"]
    ratio = (s["ingest_s"] + s["aggregate_s"]) / max(d["ingest_s"] + d["aggregate_s"], 1e-9)
    print(
        f"{d['rows']:,} events; Spark ingest + aggregation {ratio:.1f}x DuckDB's wall (Spark start {s['start_s']:.0f} s"
    )
    print("not counted); Spark CPU s include the JVM's from /proc")
    print(
        f"command: python bench/spark.py --size {args.size} --master '{args.master}'"
        + (f" --log {log}" * bool(args.log))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
