"""Serving a build: what a query costs in a fresh process and once warm, and what the process holds.

In-process (one bundle, as the dashboard holds it): opening the bundle, top-20 with reasons, "who should see item
Z", similar users, similar items, lookalikes of a segment, the user picker search and a portrait, each the median
over ``--runs`` distinct users or items after one cold call. As a command: ``uig recommend USER --explain`` under
``/usr/bin/time -v`` (wall, CPU seconds, peak RSS).

    python bench/serving.py --workspace DIR --dataset NAME [--runs 20]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

UIG = str(Path(sys.executable).with_name("uig"))


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def cold_warm(fn: Callable[[object], object], args: list) -> tuple[float, float]:
    """Seconds of the first call, and the median of the calls on the other arguments."""
    cold = timed(lambda: fn(args[0]))
    return cold, statistics.median(timed(lambda a=a: fn(a)) for a in args[1:])


def command(args: list[str]) -> dict[str, float]:
    """Wall, CPU seconds and peak RSS (GB) of one command under /usr/bin/time -v."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr[-3000:]}")

    def grab(label: str) -> float:
        m = re.search(rf"{label}: ([\d.]+)", proc.stderr)
        return float(m.group(1)) if m else float("nan")

    cpu = grab(r"User time \(seconds\)") + grab(r"System time \(seconds\)")
    return {"wall": wall, "cpu": cpu, "rss": grab(r"Maximum resident set size \(kbytes\)") / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from uig_core.build.bundle import Bundle
    from uig_core.queries import segments
    from uig_core.queries.pickers import find_users
    from uig_core.queries.portrait import portrait
    from uig_core.store.workspace import Workspace

    ws = Workspace(args.workspace)
    t0, c0 = time.perf_counter(), time.process_time()
    bundle = Bundle.load(ws, args.dataset)
    rows = [("open the bundle", time.perf_counter() - t0, None)]
    n_users = bundle.meta["counts"]["users"]
    ids = bundle.user_index
    step = max(1, n_users // (args.runs + 1))
    users = [str(ids[i]) for i in range(0, n_users, step)][: args.runs + 1]
    items = [str(i) for i in bundle.items.sort_values("n_users", ascending=False)["item_id"].iloc[: args.runs + 1]]
    rows.append(("top-20 with reasons", *cold_warm(lambda u: bundle.recommend(u, k=20, explain=True), users)))
    rows.append(("who should see item Z (50 users)", *cold_warm(lambda i: bundle.audience(i, k=50), items)))
    rows.append(("similar users (10)", *cold_warm(lambda u: bundle.similar_users(u, k=10), users)))
    rows.append(("similar items (10)", *cold_warm(lambda i: bundle.similar_items(i, k=10), items)))
    segment = [str(u) for u in bundle.users.nlargest(1000, "n_purchase")["user_id"]]
    rows.append(
        ("lookalikes of 1,000 users (50)", *cold_warm(lambda s: segments.lookalikes(bundle, s, n=50), [segment] * 3))
    )
    prefixes = [u[: max(1, len(u) - 2)] for u in users]
    rows.append(
        ("user picker search (prefix)", *cold_warm(lambda q: find_users(bundle, q, order="activity"), prefixes))
    )
    rows.append(
        ("portrait", *cold_warm(lambda u: portrait(ws, args.dataset, u, bundle=bundle, recent=15, similar=10), users))
    )
    in_process = {"cpu": time.process_time() - c0, "rss": rss_gb()}
    cmd = command([UIG, "recommend", users[-1], "--explain", "-k", "20", "--workspace", args.workspace])

    print(f"Serving {args.dataset}: {n_users:,} users, {len(bundle.items):,} items, build {bundle.build_id}\n")
    print("| query | cold (first call) ms | warm median ms |")
    print("|---|---:|---:|")
    for name, cold, warm in rows:
        print(f"| {name} | {cold * 1000:,.1f} | {'—' if warm is None else f'{warm * 1000:,.1f}'} |")
    print(
        f"\nin-process: {in_process['cpu']:.1f} CPU-s, peak RSS {in_process['rss']:.2f} GB; "
        f"`uig recommend USER --explain -k 20`: {cmd['wall']:.2f} s wall, {cmd['cpu']:.2f} CPU-s, "
        f"peak RSS {cmd['rss']:.2f} GB"
    )
    print(f"command: python bench/serving.py --workspace {args.workspace} --dataset {args.dataset} --runs {args.runs}")


if __name__ == "__main__":
    main()
