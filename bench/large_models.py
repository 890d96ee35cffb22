"""Models that scale with the catalogue (issue 16, part 3): Recall@20 on a temporal split, fit CPU-s and peak RSS.

The synthetic shop logs of ``uig_core.demo.shop`` (S: 1 M events / 20k items, M: 5 M / 97k, L: 20 M / 470k) are
split in time: training = events before the cutoff (the last ``--test-share`` of the time span is held out), and
each user's test items are the items they first interacted with after the cutoff (pairs never seen in training,
items and users known to training). The interaction matrix is the build's: per (user, item) the strongest
``EVENT_WEIGHTS[event] * 0.5 ** (age_days / 60)``, age taken from the last training event; it is built by DuckDB
straight from the Parquet and cached as ``.npz`` beside it.

Each (size, model) runs in its own process, so peak RSS is that model's (the loaded matrix included; the RSS
after loading is printed as ``base MB``). CPU-s = user + system time of the fit, every thread counted.

    python bench/large_models.py [--sizes S M] [--models popularity itemknn bm25 rp3beta p3alpha ials]
                                 [--eval-users 10000] [--json out.json]

BSPM is left out by default: at M its fit takes ~180 CPU-s / 4.7 GB and its scoring ~80 CPU-s per 1,000 users
(``--models bspm --eval-users 2000``). The figures behind ``uig_core.models.LARGE_CATALOG_MODEL`` came from
``--sizes S M --eval-users 10000`` (and ``--sizes L --models itemknn p3alpha --eval-users 2000``).

Skips (exit 0) when a size's Parquet file is absent; make one with
``python -c "from uig_core.demo.shop import write_shop_log; write_shop_log(PATH, size='M')"``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("UIG_SCALE_DATA", "/tmp/scale"))

#: Model name → constructor parameters (registry names of uig_core.models, plus bench-only variants).
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "popularity": ("popularity", {}),
    "itemknn": ("itemknn", {}),
    "bm25": ("itemknn", {"weighting": "bm25"}),
    "rp3beta": ("rp3beta", {}),
    "p3alpha": ("p3alpha", {}),
    "ials": ("ials", {}),
    "bspm": ("bspm", {}),
    "gfcf": ("gfcf", {}),
    "ease_recency": ("ease_recency", {}),
}

_SQL = """
WITH ev AS (
    SELECT user_id, item_id, epoch(ts) AS t, event FROM read_parquet($path)
    WHERE event IN ('view', 'click', 'cart', 'purchase')
),
span AS (SELECT min(t) + (max(t) - min(t)) * (1 - $test_share) AS cutoff FROM ev),
train AS (SELECT ev.* FROM ev, span WHERE t < cutoff),
ref AS (SELECT max(t) AS now FROM train),
users AS (SELECT user_id, (row_number() OVER (ORDER BY user_id) - 1)::INTEGER AS u
          FROM (SELECT DISTINCT user_id FROM train)),
items AS (SELECT item_id, (row_number() OVER (ORDER BY item_id) - 1)::INTEGER AS i
          FROM (SELECT DISTINCT item_id FROM train))
"""

_TRAIN = """
SELECT u, i, max(CASE event WHEN 'view' THEN $view WHEN 'click' THEN $click WHEN 'cart' THEN $cart ELSE $purchase END
                * pow(0.5, (now - t) / 86400.0 / $half_life))::FLOAT AS w
FROM train JOIN users USING (user_id) JOIN items USING (item_id), ref GROUP BY u, i
"""

_TEST = """
SELECT DISTINCT u, i FROM (SELECT ev.user_id, ev.item_id FROM ev, span WHERE t >= cutoff) AS late
ANTI JOIN (SELECT DISTINCT user_id, item_id FROM train) AS seen USING (user_id, item_id)
JOIN users USING (user_id) JOIN items USING (item_id)
"""


def temporal_split(path: Path, test_share: float = 0.1, half_life: float = 60.0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(train, test)`` CSR matrices (users × items known to training) of a shop log, cached beside it."""
    cache = path.with_suffix(f".split{test_share:g}.npz")
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        shape = tuple(z["shape"])
        train = sp.csr_matrix((z["w"], (z["tu"], z["ti"])), shape=shape, dtype=np.float32)
        test = sp.csr_matrix((np.ones(len(z["su"]), np.float32), (z["su"], z["si"])), shape=shape)
        return train, test
    import duckdb

    from uig_core.schema import EVENT_WEIGHTS

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    params = {"path": str(path), "test_share": test_share}
    weights = {**params, **EVENT_WEIGHTS, "half_life": half_life}
    tr = con.execute(_SQL + _TRAIN, weights).fetchnumpy()
    te = con.execute(_SQL + _TEST, params).fetchnumpy()
    shape = (int(tr["u"].max()) + 1, int(tr["i"].max()) + 1)
    tu, ti, w = tr["u"].astype(np.int32), tr["i"].astype(np.int32), tr["w"].astype(np.float32)
    su, si = te["u"].astype(np.int32), te["i"].astype(np.int32)
    np.savez(cache, tu=tu, ti=ti, w=w, su=su, si=si, shape=np.asarray(shape))
    return temporal_split(path, test_share, half_life)


def recall_at(model: Any, train: sp.csr_matrix, test: sp.csr_matrix, users: np.ndarray, k: int = 20) -> float:
    """Mean Recall@k (hits / test items) over ``users``, every training item masked."""
    total = 0.0
    for start in range(0, len(users), 1024):
        b = users[start : start + 1024]
        idx, _ = model.recommend(b, k=k)
        t = test[b]
        hit = np.zeros((len(b), train.shape[1] + 1), dtype=bool)
        hit[np.repeat(np.arange(len(b)), np.diff(t.indptr)), t.indices] = True
        hits = np.take_along_axis(hit, np.where(idx < 0, train.shape[1], idx), axis=1).sum(axis=1)
        total += float((hits / np.diff(t.indptr)).sum())
    return total / max(len(users), 1)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(size: str, name: str, eval_users: int, test_share: float) -> dict[str, Any]:
    """Fit one candidate on one size and evaluate it (meant for a child process: RSS is the process's)."""
    from uig_core.models import make_model

    train, test = temporal_split(DATA / f"{size}.parquet", test_share)
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    registry, params = CANDIDATES[name]
    model = make_model(registry, **params)
    c0, t0 = _cpu(), time.perf_counter()
    model.fit(train)
    fit_wall, fit_cpu = time.perf_counter() - t0, _cpu() - c0
    fit_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    users = np.flatnonzero(np.diff(test.indptr))
    users = np.sort(np.random.default_rng(0).choice(users, size=min(eval_users, len(users)), replace=False))
    c1, t1 = _cpu(), time.perf_counter()
    recall = recall_at(model, train, test, users)
    return {
        "size": size,
        "model": name,
        "n_users": train.shape[0],
        "n_items": train.shape[1],
        "train_pairs": train.nnz,
        "test_users": len(users),
        "recall@20": round(recall, 4),
        "fit_wall_s": round(fit_wall, 2),
        "fit_cpu_s": round(fit_cpu, 2),
        "eval_wall_s": round(time.perf_counter() - t1, 2),
        "eval_cpu_s": round(_cpu() - c1, 2),
        "base_mb": round(base_mb),
        "fit_peak_mb": round(fit_mb),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "extra": {k: v for k, v in vars(model).items() if k.endswith("_") and isinstance(v, (int, float, dict))},
    }


def _child(size: str, name: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", size, name, "--eval-users", str(args.eval_users)]
    cmd += ["--test-share", str(args.test_share)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"size": size, "model": name, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a markdown table."""
    head = (
        "| size | model | Recall@20 | fit CPU-s | fit wall s | fit peak RSS MB (base) | eval CPU-s / 1k users "
        "| eval users | items |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['model']} | error: {' '.join(r['error'])} | | | | | | |")
            continue
        lines.append(
            f"| {r['size']} | {r['model']} | {r['recall@20']:.4f} | {r['fit_cpu_s']:.1f} | {r['fit_wall_s']:.1f} | "
            f"{r['fit_peak_mb']} ({r['base_mb']}) | {1000 * r['eval_cpu_s'] / max(r['test_users'], 1):.1f} | "
            f"{r['test_users']:,} | {r['n_items']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["S", "M"])
    ap.add_argument("--models", nargs="+", default=["popularity", "itemknn", "bm25", "rp3beta", "p3alpha", "ials"])
    ap.add_argument("--eval-users", type=int, default=10_000)
    ap.add_argument("--test-share", type=float, default=0.1)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", nargs=2, metavar=("SIZE", "MODEL"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child[0], args.child[1], args.eval_users, args.test_share)))
        return 0
    rows = []
    for size in args.sizes:
        path = DATA / f"{size}.parquet"
        if not path.exists():
            print(
                f'skipping {size}: {path} is absent; make it with python -c "from uig_core.demo.shop import '
                f"write_shop_log; write_shop_log('{path}', size='{size}')\""
            )
            continue
        temporal_split(path, args.test_share)  # build the cache once, outside the timed children
        for name in args.models:
            rows.append(_child(size, name, args))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if rows:
        print(table(rows))
        print(f"\n`python bench/large_models.py {' '.join(argv if argv is not None else sys.argv[1:])}`")
    if args.json and rows:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
