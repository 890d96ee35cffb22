""" "Who should see item Z?": one item's scores for every user, by ``score_items`` vs a users × items pass.

A synthetic shop-shaped matrix (Zipf item popularity) is fitted once per model; each way of scoring one item for
every user is timed ``--runs`` times (median, wall and CPU seconds) and the two are checked to agree. Not run by CI
(``make bench`` runs it).

    python bench/audience.py [--users 100000] [--items 20000] [--pairs 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uig_core.models import make_model  # noqa: E402
from uig_core.models.ease import MAX_ITEMS as EASE_MAX_ITEMS  # noqa: E402

BATCH = 2048


def shop_matrix(n_users: int, n_items: int, n_pairs: int, seed: int = 0) -> sp.csr_matrix:
    """Binary users × items matrix with Zipf(1.1) item popularity."""
    rng = np.random.default_rng(seed)
    items = (rng.zipf(1.1, size=n_pairs) - 1) % n_items
    x = sp.csr_matrix((np.ones(n_pairs, np.float32), (rng.integers(0, n_users, n_pairs), items)), (n_users, n_items))
    x.sum_duplicates()
    x.data[:] = 1.0
    return x


def full_pass(model, col: int) -> np.ndarray:
    """What Bundle.audience did before score_items: score every item for every user, keep one column."""
    out = np.empty(model.n_users_, np.float32)
    for start in range(0, model.n_users_, BATCH):
        rows = np.arange(start, min(start + BATCH, model.n_users_))
        out[rows] = np.asarray(model.score(rows))[:, col]
    return out


def timed(fn, runs: int) -> tuple[float, float, np.ndarray]:
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        value = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=["itemknn", "popularity", "ease"])
    args = ap.parse_args(argv)
    x = shop_matrix(args.users, args.items, args.pairs)
    print("# Audience of one item\n")
    print(f"Command: `python bench/audience.py {' '.join(argv if argv is not None else sys.argv[1:])}`  ")
    print(f"{args.users:,} users × {args.items:,} items, {x.nnz:,} pairs; median of {args.runs} runs\n")
    print("| model | fit CPU s | users × items pass: wall ms | CPU ms | score_items: wall ms | CPU ms | ratio | same |")
    print("|---|---|---|---|---|---|---|---|")
    col = 7
    for name in args.models:
        if name == "ease" and args.items > EASE_MAX_ITEMS:
            print(f"| ease | – | skipped: {args.items:,} items is above EASE's dense limit | | | | | |")
            continue
        c0 = time.process_time()
        model = make_model(name).fit(x)
        fit_cpu = time.process_time() - c0
        old_w, old_c, old_v = timed(lambda m=model: full_pass(m, col), args.runs)
        new_w, new_c, new_v = timed(lambda m=model: m.score_items(col)[:, 0], args.runs)
        same = bool(np.allclose(old_v, new_v, rtol=1e-5, atol=1e-6))
        print(
            f"| {name} | {fit_cpu:.1f} | {old_w * 1e3:,.1f} | {old_c * 1e3:,.1f} | {new_w * 1e3:,.1f} | "
            f"{new_c * 1e3:,.1f} | {old_w / max(new_w, 1e-9):,.0f}× | {same} |"
        )


if __name__ == "__main__":
    main()
