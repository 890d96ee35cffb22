"""Are the reasons the model's own? The deletion test, per model, on the demo and OR-30d.

For sampled test users of a temporal split, each model fitted on the training side recommends 10 items with its
``because`` (the history items behind each score, :meth:`Recommender.contributions`). For every recommended item
the top ``because`` item is removed from the user's history and the model scores the item again
(:meth:`Recommender.score_history`): the table gives how often the score fell and by what share, beside the same
for a random other history item (the control). A reason that is the model's own should win clearly: issue 19 asks
≥ 90 % and more often than the control. The graph networks cannot score an edited history; their ``because`` is
the drop measured by re-running the trained encoder on the graph without each edge, and that drop is the re-score.
Models with no ``because`` (popularity; lm_gcn, whose encoder needs the item embeddings) are listed as such.

    python bench/explain.py [--datasets demo or30] [--users 200] [--models ease_recency,itemknn,...]

OR-30d skips (with a note) when ``../shared/data/online_retail`` is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

MODELS = "ease_recency,ease,itemknn,p3alpha,rp3beta,gfcf,bspm,ials,popularity,lightgcn,residual_gcn,lm_gcn"


def demo_events() -> pd.DataFrame:
    from uig_core.ingest.clean import read_log

    return read_log(REPO / "demo_data" / "events.csv.gz").events


def split_of(name: str):
    """The dataset's temporal split, with item embeddings for the models that read item text (None: no data)."""
    from quality import OR_CSV, item_features, online_retail_events

    from uig_core.evaluation.protocol import temporal_split

    if name == "demo":
        events, cutoff = demo_events(), None
    elif OR_CSV.exists():
        events, cutoff = online_retail_events(), "2011-11-09"
    else:
        return None
    split = temporal_split(events, cutoff)
    split.item_features = item_features(events, split.item_ids)[0]
    return split


def deletion_rates(model, train: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Share of recommended items whose score falls when the top reason / a random history item is removed."""
    top_fell, rand_fell, top_drop, n, bare = 0, 0, [], 0, 0
    for u in users:
        recs, _ = model.recommend(int(u), k=10)
        recs = np.asarray(recs).ravel()
        split = model.contributions(int(u), recs)
        history, parts = split
        if len(history) < 2:
            continue
        base = model.score_history(train[int(u)], recs)
        refold = base is not None  # else: a graph network, whose parts are its re-propagated drops already
        base = base[0] if refold else model.score(int(u))[0, recs]
        for r, item in enumerate(recs):
            bare += bool(parts[r].max() <= 0)  # nothing in the history adds to it: no because
            j = int(np.argmax(parts[r]))
            other = int(rng.choice([h for h in range(len(history)) if h != j]))
            for col, fell in ((j, "top"), (other, "random")):
                if refold:
                    row = train[int(u)].tolil()
                    row[0, history[col]] = 0
                    after = float(model.score_history(sp.csr_matrix(row), np.asarray([item]))[0, 0])
                else:
                    after = float(base[r] - parts[r, col])
                if after < base[r] - 1e-7 * max(1.0, abs(base[r])):
                    top_fell += fell == "top"
                    rand_fell += fell == "random"
                if fell == "top" and base[r] > 0:
                    top_drop.append((base[r] - after) / base[r])
            n += 1
    return {
        "cases": n,
        "top": top_fell / max(n, 1),
        "random": rand_fell / max(n, 1),
        "top_drop": float(np.median(top_drop)) if top_drop else float("nan"),
        "bare": bare,
    }


def run(name: str, models: list[str], n_users: int, seed: int) -> list[tuple]:
    from uig_core.models import make_model

    split = split_of(name)
    if split is None:
        print(f"{name}: skipped (../shared/data/online_retail is absent)")
        return []
    rng = np.random.default_rng(seed)
    users = split.test_users
    users = users[np.diff(split.train.indptr)[users] >= 2]
    users = rng.choice(users, size=min(n_users, len(users)), replace=False)
    rows = []
    for m in models:
        params = {"random_state": seed} if m in ("ials", "lightgcn", "gfcf", "bspm") else {}
        t0 = time.process_time()
        model = make_model(m, **params)
        model.fit(split.train, item_features=split.item_features if model.uses_item_features else None)
        if model.contributions(int(users[0]), np.arange(3)) is None:
            rows.append((name, m, "no because", 0, float("nan"), float("nan"), float("nan"), time.process_time() - t0))
            continue
        r = deletion_rates(model, split.train, users, rng)
        kind = f"because ({r['bare']} bare)" if r["bare"] else "because"
        rows.append((name, m, kind, r["cases"], r["top"], r["random"], r["top_drop"], time.process_time() - t0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["demo", "or30"], choices=["demo", "or30"])
    parser.add_argument("--users", type=int, default=200, help="test users sampled per dataset (default 200)")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    rows = [row for d in args.datasets for row in run(d, models, args.users, args.seed)]
    print(f"\n{'dataset':<8} {'model':<14} {'reasons':<18} {'cases':>6} {'top fell':>9} {'random fell':>12} "
          f"{'median drop':>12} {'CPU s':>7}")  # fmt: skip
    for d, m, kind, n, top, rand, drop, cpu in rows:
        print(f"{d:<8} {m:<14} {kind:<18} {n:>6} {top:>9.1%} {rand:>12.1%} {drop:>12.1%} {cpu:>7.1f}")
    print(f"\ncommand: python bench/explain.py --datasets {' '.join(args.datasets)} --users {args.users} "
          f"--models {args.models} --seed {args.seed}")  # fmt: skip


if __name__ == "__main__":
    main()
