"""Incremental update vs full rebuild on Online Retail (issue 6's living-graph benchmark).

OR-30d's training period (before 2011-11-09) is split by time into a base (before 2011-07-09) and four monthly
batches. One workspace ingests and builds the base, then takes each batch with

    uig ingest batch_k.csv --append-to or          # append + incremental build, one command

and after each batch a *fresh* workspace rebuilds the same cumulative data from scratch with

    uig ingest upto_k.csv --name or ... && uig build --dataset or

Both are timed as whole commands (process start included). A third column re-runs the full build in that
workspace with ``--force`` (embeddings then come from the cache: the best a full rebuild can do). After every
step the build's default model is scored on the OR-30d test set (:func:`uig_core.evaluation.on_build.evaluate_build`).

    python bench/incremental.py [--batches 4] [--repeat 3] [--json out.json] [--keep DIR]

Skips (exit 0) when ``../shared/data/online_retail`` is absent. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OR_CSV = REPO.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
PATTERN = r"^\d{5}[A-Za-z]{0,2}$"
CUTOFF = pd.Timestamp("2011-11-09")
BASE_END = pd.Timestamp("2011-07-09")


def uig(*args: str, workspace: Path) -> float:
    """Run one ``uig`` command in a new process; return its wall seconds (raises on a non-zero exit)."""
    exe = Path(sys.executable).with_name("uig")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(exe), *args, "--workspace", str(workspace), "--json"], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"`uig {' '.join(args)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def slices(raw: pd.DataFrame, n_batches: int) -> list[pd.DataFrame]:
    """Base + monthly batches of the training period (raw Online Retail rows)."""
    ts = pd.to_datetime(raw["InvoiceDate"])
    bounds = [BASE_END + pd.DateOffset(months=m) for m in range(n_batches)] + [CUTOFF]
    out = [raw[ts < bounds[0]]]
    out += [raw[(ts >= lo) & (ts < hi)] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    return out


def score(workspace: Path, split: Any) -> dict[str, float]:
    from uig_core.build.bundle import Bundle
    from uig_core.evaluation.on_build import evaluate_build
    from uig_core.store.workspace import Workspace

    bundle = Bundle.load(Workspace(workspace), "or")
    model = bundle.model()
    return evaluate_build(model, bundle.user_index, bundle.item_index, split)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing; the table shows medians (default 3)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    args = ap.parse_args(argv)
    if not OR_CSV.exists():
        print(f"skipped: {OR_CSV} not found (shared data absent)")
        return 0
    from bench.quality import online_retail_events
    from uig_core.evaluation.protocol import temporal_split

    # An installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE=1 would
    # otherwise recompile uig_core in every timed process (~0.1 s each).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "uig_core")], check=False)
    root = Path(args.keep or tempfile.mkdtemp(prefix="uig-incr-"))
    root.mkdir(parents=True, exist_ok=True)
    raw = pd.read_csv(OR_CSV, dtype=str, keep_default_na=False)
    parts = slices(raw, args.batches)
    files = []
    for i, part in enumerate(parts):
        path = root / ("base.csv" if i == 0 else f"batch{i}.csv")
        part.to_csv(path, index=False)
        files.append(path)
    split = temporal_split(online_retail_events(), CUTOFF)  # the OR-30d test set every build is scored on

    inc_ws = root / "ws_incremental"
    shutil.rmtree(inc_ws, ignore_errors=True)
    t_base = uig("ingest", str(files[0]), "--name", "or", "--item-pattern", PATTERN, workspace=inc_ws)
    t_base += uig("build", "--dataset", "or", workspace=inc_ws)
    rows: list[dict[str, Any]] = [
        {"step": "base", "rows": len(parts[0]), "incremental_s": round(t_base, 1), "incremental": score(inc_ws, split)}
    ]
    print(f"base: {len(parts[0]):,} rows, ingest+build {t_base:.1f}s", file=sys.stderr, flush=True)
    for i in range(1, len(parts)):
        # Each timing is the median of --repeat runs. The runs are interleaved (incremental, full, cached; then
        # again) so that both sides see the same machine: this machine's speed drifts by 10-15% over minutes.
        # An incremental run starts from a copy of the workspace as it stood before the batch, so every run
        # does the same work.
        upto = root / f"upto{i}.csv"
        pd.concat(parts[: i + 1]).to_csv(upto, index=False)
        inc_times, full_times, cached_times = [], [], []
        for _ in range(args.repeat):
            trial = root / "ws_trial"
            shutil.rmtree(trial, ignore_errors=True)
            shutil.copytree(inc_ws, trial)
            inc_times.append(uig("ingest", str(files[i]), "--append-to", "or", workspace=trial))
            full_ws = root / f"ws_full{i}"
            shutil.rmtree(full_ws, ignore_errors=True)
            t_full = uig("ingest", str(upto), "--name", "or", "--item-pattern", PATTERN, workspace=full_ws)
            full_times.append(t_full + uig("build", "--dataset", "or", workspace=full_ws))
            cached_times.append(uig("build", "--dataset", "or", "--force", workspace=full_ws))
        shutil.rmtree(inc_ws)
        trial.rename(inc_ws)
        inc = score(inc_ws, split)
        full = score(full_ws, split)
        t_inc, t_full, t_cached = (statistics.median(t) for t in (inc_times, full_times, cached_times))
        pair_ratio = statistics.median(a / b for a, b in zip(inc_times, full_times, strict=True))
        rows.append(
            {
                "step": f"batch {i}",
                "rows": len(parts[i]),
                "incremental_s": round(t_inc, 2),
                "paired_ratio": round(pair_ratio, 4),
                "full_s": round(t_full, 2),
                "full_cached_s": round(t_cached, 2),
                "runs": {"incremental": inc_times, "full": full_times, "full_cached": cached_times},
                "incremental": inc,
                "full": full,
            }
        )
        print(
            f"batch {i}: incremental {t_inc:.1f}s R@20 {inc['recall@20']:.4f} | full {t_full:.1f}s "
            f"(cached {t_cached:.1f}s) R@20 {full['recall@20']:.4f}",
            file=sys.stderr,
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(full_ws, ignore_errors=True)
    command = "python bench/incremental.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report(rows, split, command.strip()))
    if args.json:
        args.json.write_text(json.dumps({"steps": rows, "protocol": split.protocol}, indent=2, default=str))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def report(rows: list[dict[str, Any]], split: Any, command: str = "python bench/incremental.py") -> str:
    lines = [
        f"## Incremental update vs full rebuild — OR-30d training period, {platform.processor() or platform.machine()}"
        f", {os.cpu_count()} cores",
        "",
        "| step | rows added | incremental s | full rebuild s | ratio | paired ratio | full, cached embeddings s "
        "| ratio | R@20 incremental | R@20 full | relative gap |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        inc = r["incremental"]["recall@20"]
        if "full" not in r:
            lines.append(
                f"| {r['step']} | {r['rows']:,} | {r['incremental_s']:.1f} (ingest + build) | – | – | – | – "
                f"| – | {inc:.4f} | – | – |"
            )
            continue
        full = r["full"]["recall@20"]
        lines.append(
            f"| {r['step']} | {r['rows']:,} | {r['incremental_s']:.1f} | {r['full_s']:.1f} "
            f"| {r['incremental_s'] / r['full_s']:.1%} | {r.get('paired_ratio', float('nan')):.1%} "
            f"| {r['full_cached_s']:.1f} "
            f"| {r['incremental_s'] / r['full_cached_s']:.0%} | {inc:.4f} | {full:.4f} "
            f"| {(inc - full) / full:+.1%} |"
        )
    lines += [
        "",
        f"Test set: {split.protocol['test_pairs']:,} pairs of {split.protocol['test_users']:,} users "
        f"(cutoff {split.protocol['cutoff']}). Times are medians of whole commands, process start included; "
        "runs are interleaved, and the paired ratio is the median of each run's incremental / full.",
        "",
        f"Command: `{command}`",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
