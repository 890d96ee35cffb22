"""Embedding throughput of the default model on Online Retail product titles (items per second).

For each batch size: ``--runs`` timed runs of a fresh, cache-less :class:`~uig_core.semantics.embeddings.Embedder`
over the same ``--n`` distinct titles (the model itself is loaded once and warmed up first); the table reports the
median.

    python bench/embed.py [--n 2000] [--batch-sizes 32 64 128] [--runs 3] [--device cpu]

Skips (exit 0) when ``../shared/data/online_retail/online_retail.csv.gz`` is absent.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OR_CSV = REPO.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def load_titles(n: int) -> list[str]:
    import pandas as pd

    raw = pd.read_csv(OR_CSV, usecols=["StockCode", "Description"], dtype="string")
    raw = raw[raw["StockCode"].str.match(r"^\d{5}[A-Za-z]{0,2}$") & raw["Description"].notna()]
    titles = sorted(set(raw["Description"].str.strip()))
    return titles[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="distinct titles to embed (default 2000)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default=None, help="torch device (default: sentence-transformers' choice)")
    parser.add_argument("--model", default=None, help="local sentence-transformers model (default: bundled)")
    args = parser.parse_args(argv)
    if not OR_CSV.exists():
        print(f"skipped: {OR_CSV} is absent (Online Retail is needed for this benchmark)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from uig_core.semantics.embeddings import Embedder

    titles = load_titles(args.n)
    warm = Embedder(model=args.model, device=args.device)
    warm.embed(titles[:64])  # loads the model once per process
    rows = []
    for bs in args.batch_sizes:
        rates = []
        for _ in range(args.runs):
            emb = Embedder(model=args.model, batch_size=bs, device=args.device)  # no cache: every text is new
            t0 = time.perf_counter()
            emb.embed(titles)
            rates.append(len(titles) / (time.perf_counter() - t0))
        rows.append((bs, statistics.median(rates), rates))
    cmd = "python bench/embed.py " + " ".join(sys.argv[1:]) if argv is None else "bench.embed.main(...)"
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"### Embedding throughput: {warm.model_id}, {len(titles):,} Online Retail titles\n")
    print(f"Command: `{cmd.strip()}`  ")
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {device}\n"
    )
    print("| batch size | items/s (median) | runs (items/s) | seconds per 1,000 items |")
    print("|---:|---:|---|---:|")
    for bs, med, rates in rows:
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"| {bs} | {med:,.0f} | {runs} | {1000 / med:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
