"""UIG at platform scale: ingest, build, recommend, evaluate and pages on a shop-shaped log, beside a peer.

The log comes from our own generator (:mod:`uig_core.demo.shop`: Zipf item popularity, log-normal activity,
85 % view / 8 % cart / 5 % purchase / 2 % click, 90 days, 60 categories). Every UIG step runs as the command a
user would type, under ``/usr/bin/time -v`` (wall, CPU seconds, peak RSS). The peer runs in the same bench, on
the same file: what a user would pick instead — DuckDB reading the log and computing each pair's strongest event
and count, then ``implicit``'s ALS (64 factors, 15 iterations) and BM25 item-item fitted, and 10,000 users
recommended. Quality: Recall@20 of the build's default and of the same ALS on the dataset's temporal split
(:func:`uig_core.evaluation.protocol.temporal_split`).

    python bench/scale.py --size M [--workdir /tmp/uig_scale] [--evaluate] [--pages] [--runs 3]

Sizes (``--size``): XS 100 k events, S 1 M, M 5 M, L 20 M (see :data:`uig_core.demo.shop.SIZES`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UIG = str(Path(sys.executable).with_name("uig"))
TIME = "/usr/bin/time"


def timed(cmd: list[str], *, env: dict | None = None) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall, CPU seconds and peak RSS (GB) with its output."""
    full = [TIME, "-v", *cmd] if Path(TIME).exists() else cmd
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    err = proc.stderr

    def grab(label: str) -> float:
        m = re.search(rf"{label}: ([\d.:]+)", err)
        return float(m.group(1)) if m and ":" not in m.group(1) else float("nan")

    cpu = grab(r"User time \(seconds\)") + grab(r"System time \(seconds\)")
    rss = grab(r"Maximum resident set size \(kbytes\)") / 1e6
    return {"wall": wall, "cpu": cpu, "rss": rss, "stdout": proc.stdout}


def generate(size: str, path: Path) -> None:
    if path.exists():
        return
    from uig_core.demo.shop import write_shop_log

    print(f"generating {size} log into {path} …", file=sys.stderr)
    write_shop_log(path, size=size)


def peer(path: str) -> int:
    """The peer, in this process (run under /usr/bin/time by :func:`main`): DuckDB aggregate + implicit."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import duckdb
    import numpy as np
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import BM25Recommender

    t0 = time.perf_counter()
    con = duckdb.connect()
    pairs = con.execute(
        "SELECT dense_rank() OVER (ORDER BY user_id) - 1 AS u, dense_rank() OVER (ORDER BY item_id) - 1 AS i, "
        "max(CASE event WHEN 'purchase' THEN 4 WHEN 'cart' THEN 3 WHEN 'click' THEN 2 ELSE 1 END) AS strongest, "
        f"count(*) AS n FROM read_parquet('{path}') GROUP BY user_id, item_id"
    ).fetchnumpy()
    t1 = time.perf_counter()
    shape = (int(pairs["u"].max()) + 1, int(pairs["i"].max()) + 1)
    x = sp.csr_matrix((np.asarray(pairs["strongest"], np.float32), (pairs["u"], pairs["i"])), shape=shape)
    als = AlternatingLeastSquares(factors=64, iterations=15, random_state=0)
    als.fit(x, show_progress=False)
    t2 = time.perf_counter()
    bm25 = BM25Recommender(K=100)
    bm25.fit(x, show_progress=False)
    t3 = time.perf_counter()
    users = np.arange(min(10_000, shape[0]))
    als.recommend(users, x[users], N=20)
    t4 = time.perf_counter()
    print(json.dumps({"aggregate": t1 - t0, "als_fit": t2 - t1, "bm25_fit": t3 - t2, "recommend_10k": t4 - t3}))
    return 0


def quality(workspace: str, dataset: str) -> int:
    """Recall@20 on the temporal split: the build's default model (refitted on the split) vs implicit's ALS."""
    import numpy as np
    from implicit.cpu.als import AlternatingLeastSquares

    from uig_core.build.bundle import Bundle
    from uig_core.evaluation.metrics import ranking_metrics
    from uig_core.evaluation.protocol import temporal_split
    from uig_core.evaluation.run import evaluate_model
    from uig_core.models import make_model
    from uig_core.store.relation import EventRelation
    from uig_core.store.workspace import Workspace

    ws = Workspace(workspace)
    info = ws.dataset(dataset)
    default = Bundle.load(ws, dataset).meta["default_model"]
    split = temporal_split(EventRelation.of_dataset(ws, info)).sample_users(20_000)  # as uig evaluate does
    out = {"protocol": split.protocol, "default": default}
    t0 = time.perf_counter()
    try:
        model = make_model(default, random_state=0)
    except TypeError:
        model = make_model(default)
    out[default] = {"recall@20": evaluate_model(model, split, k=20)["recall@20"], "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    als = AlternatingLeastSquares(factors=64, iterations=15, random_state=0)
    als.fit(split.train, show_progress=False)
    users = split.test_users
    idx, _ = als.recommend(users, split.train[users], N=20, filter_already_liked_items=True)
    counts = np.diff((split.train > 0).tocsc().indptr)
    peer_recall = ranking_metrics(np.asarray(idx, dtype=np.int64), split.test[users], counts, k=20)["recall@20"]
    out["implicit ALS"] = {"recall@20": peer_recall, "seconds": time.perf_counter() - t0}
    print(json.dumps(out, default=str))
    return 0


def in_process(workspace: str, dataset: str, runs: int) -> int:
    """Median ms of in-process queries on the loaded build: top-20 with reasons, who-should-see, similar users."""
    import numpy as np

    from uig_core.build.bundle import Bundle
    from uig_core.store.workspace import Workspace

    t0 = time.perf_counter()
    bundle = Bundle.load(Workspace(workspace), dataset)
    load = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    active = np.flatnonzero(bundle.users["n_events"].to_numpy() >= 5)
    users = bundle.user_index[rng.choice(active, size=min(runs * 10, len(active)), replace=False)]
    items = bundle.item_index[rng.choice(len(bundle.item_index), size=runs * 3, replace=False)]

    def median_ms(fn, args) -> float:
        fn(args[0])  # warm: the model loads once
        times = []
        for a in args:
            s = time.perf_counter()
            fn(a)
            times.append((time.perf_counter() - s) * 1000)
        return statistics.median(times)

    out = {
        "load_s": load,
        "recommend_ms": median_ms(lambda u: bundle.recommend(u, 20, explain=True), list(users)),
        "audience_ms": median_ms(lambda i: bundle.audience(i, k=50), list(items)),
        "similar_users_ms": median_ms(lambda u: bundle.similar_users(u, k=10), list(users[:runs])),
        "user": str(users[0]),
    }
    print(json.dumps(out))
    return 0


def _json(result: dict) -> dict:
    return json.loads(result["stdout"].strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", help="XS, S, M or L (default S)")
    parser.add_argument("--workdir", default="/tmp/uig_scale", help="where the log and workspace go")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the timed queries (medians)")
    parser.add_argument("--evaluate", action="store_true", help="also time `uig evaluate`")
    parser.add_argument("--pages", action="store_true", help="also run bench/pages.py on the workspace")
    parser.add_argument("--reuse", action="store_true", help="keep an existing workspace (skip ingest and build)")
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--quality", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--in-process", nargs=2, dest="in_process", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        return peer(args.peer)
    if args.quality:
        return quality(*args.quality)
    if args.in_process:
        return in_process(*args.in_process, args.runs)
    return run(args)


def run(args: argparse.Namespace) -> int:
    size = args.size.upper()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / f"{size}.parquet"
    generate(size, log_path)
    ws = work / f"ws_{size}"
    rows: list[tuple[str, dict]] = []
    me = [sys.executable, str(Path(__file__).resolve())]
    if not (args.reuse and ws.exists()):
        shutil.rmtree(ws, ignore_errors=True)
        rows.append(("uig ingest", timed([UIG, "ingest", str(log_path), "--workspace", str(ws), "--name", "shop"])))
        rows.append(("uig build", timed([UIG, "build", "--workspace", str(ws), "--dataset", "shop", "-v"])))
    peer_run = timed([*me, "--peer", str(log_path)])
    rows.append(("peer: DuckDB aggregate + implicit ALS, BM25 fit, 10 k recommend", peer_run))
    inproc = timed([*me, "--in-process", str(ws), "shop", "--runs", str(args.runs)])
    facts = _json(inproc)
    rec = [timed([UIG, "recommend", facts["user"], "--explain", "--workspace", str(ws), "--dataset", "shop"])]
    rec += [timed([UIG, "recommend", facts["user"], "--explain", "--workspace", str(ws)]) for _ in range(args.runs - 1)]
    rows.append((f"uig recommend USER --explain (median of {len(rec)})", _median(rec)))
    if args.evaluate:
        rows.append(("uig evaluate", timed([UIG, "evaluate", "--workspace", str(ws), "--dataset", "shop"])))
    qual = _json(timed([*me, "--quality", str(ws), "shop"]))
    _print(args, size, rows, peer_run, facts, qual)
    if args.pages:
        pages = timed([sys.executable, str(REPO / "bench" / "pages.py"), "--workspace", str(ws), "--dataset", "shop"])
        print(pages["stdout"])
    return 0


def _median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "rss")}


def _print(args, size, rows, peer_run, facts, qual) -> None:
    from uig_core.demo.shop import SIZES

    shape = SIZES[size]
    print(
        f"### UIG at scale: size {size} ({shape.n_events:,} events, {shape.n_users:,} users, {shape.n_items:,} items)\n"
    )
    print(f"Command: `python bench/scale.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {os.cpu_count()} CPUs; CPU seconds are user + system of the whole process tree.\n")
    print("| step | wall s | CPU s | peak RSS GB |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['rss']:.2f} |")
    ours = [r for n, r in rows if n in ("uig ingest", "uig build")]
    if len(ours) == 2:
        cpu = sum(r["cpu"] for r in ours)
        wall = sum(r["wall"] for r in ours)
        print(f"| **ingest + build** | **{wall:.1f}** | **{cpu:.1f}** | |")
        print(f"\nUIG ingest + build CPU-s / peer CPU-s: **{cpu / peer_run['cpu']:.2f}×**")
    parts = _json(peer_run)
    print("Peer parts (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    print(
        f"\nIn-process on the loaded build (median): top-20 with reasons {facts['recommend_ms']:.1f} ms, "
        f"who should see item Z {facts['audience_ms']:.1f} ms, similar users {facts['similar_users_ms']:.1f} ms; "
        f"build load {facts['load_s']:.2f} s"
    )
    p = qual["protocol"]
    scored = p.get("test_users_evaluated", p["test_users"])
    print(
        f"\nTemporal split (cutoff {p['cutoff']}, {p['test_pairs']:,} test pairs of {p['test_users']:,} users; "
        f"{scored:,} users scored, a seeded sample):\n"
    )
    print("| model | Recall@20 | fit + score s |")
    print("|---|---:|---:|")
    for name in (qual["default"], "implicit ALS"):
        label = f"{name} (UIG default)" if name == qual["default"] else "implicit ALS, 64 factors, 15 iterations (peer)"
        print(f"| {label} | {qual[name]['recall@20']:.4f} | {qual[name]['seconds']:.1f} |")


if __name__ == "__main__":
    raise SystemExit(main())
