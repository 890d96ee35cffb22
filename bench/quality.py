"""Recommendation quality of every model on OR-30d (Online Retail) and the LightGCN Gowalla split.

Prints one markdown table per dataset (metrics, wall and CPU seconds of fit and scoring, seconds per training
epoch) and the command that produced it. Not run by CI (``make bench`` runs it).

    python bench/quality.py [--datasets or30d gowalla] [--models ease ease_recency ...] [--json out.json]
                            [--pyg-reference]

``--pyg-reference`` also times PyG's ``examples/lightgcn.py`` recipe (``torch_geometric.nn.models.LightGCN`` on an
``edge_index``, normalisation recomputed in every forward, BPR with one negative, batch 8192, dim 64, 2 layers) on
OR-30d for a few steps and reports its seconds per epoch next to ours.

Skips a dataset (exit 0) when ``../shared/data`` lacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
OR_CSV = DATA / "online_retail" / "online_retail.csv.gz"
GOWALLA = DATA / "lightgcn_gowalla"
CACHE = Path(os.environ.get("UIG_BENCH_CACHE", Path.home() / ".cache" / "uig" / "bench"))

COLUMNS = [
    ("recall@20", "Recall@20"),
    ("ndcg@20", "NDCG@20"),
    ("hitrate@20", "HitRate@20"),
    ("coverage", "coverage"),
    ("gini", "Gini"),
    ("long_tail_share", "long-tail"),
    ("cold_recall@20", "cold Recall@20"),
    ("cold_only_recall@20", "cold-only Recall@20"),
    ("fit_seconds", "fit s"),
    ("cpu_seconds", "CPU s (fit+score)"),
    ("score_seconds", "score s"),
    ("epoch_seconds", "s/epoch"),
]


def online_retail_events() -> pd.DataFrame:
    """Canonical events of Online Retail, as ``uig ingest`` maps it (issue 4's OR-30d input)."""
    raw = pd.read_csv(OR_CSV, dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str})
    raw = raw[raw["StockCode"].str.match(r"^\d{5}[A-Za-z]{0,2}$") & raw["CustomerID"].notna()]
    return pd.DataFrame(
        {
            "user_id": raw["CustomerID"].astype("int64").astype(str),
            "item_id": raw["StockCode"],
            "event": np.where(raw["Quantity"] < 0, "return", "purchase"),
            "ts": pd.to_datetime(raw["InvoiceDate"]),
            "item_title": raw["Description"],
            "price": raw["UnitPrice"].astype(float),
            "quantity": raw["Quantity"].astype(float),
            "order_id": raw["InvoiceNo"],
            "Country": raw["Country"],
        }
    )


def item_features(events: pd.DataFrame, item_ids: pd.Index) -> tuple[np.ndarray, float]:
    """Sentence-transformers embeddings of the items' texts (cached on disk by text); returns seconds spent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from uig_core.semantics import embeddings as semantics
    from uig_core.store.frames import items_frame

    t0 = time.perf_counter()
    items = items_frame(events)
    texts, _ = semantics.item_texts(items)
    emb = semantics.Embedder(cache_dir=CACHE / "embeddings").embed(texts)
    rows = pd.Index(items["item_id"].astype(str)).get_indexer(item_ids)
    return np.asarray(emb, dtype=np.float32)[rows], time.perf_counter() - t0


def run(split: Any, names: list[str], params: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from uig_core.evaluation.run import evaluate_models
    from uig_core.models import make_model

    out: dict[str, Any] = {}
    for name in names:
        p = dict(params.get(name, {}))
        try:
            model = make_model(name, **{"random_state": 0, **p})
        except TypeError:
            model = make_model(name, **p)
        c0 = time.process_time()
        t0 = time.perf_counter()
        res = evaluate_models({name: model}, split)
        entry = res["models"][name]
        if "skipped" not in entry:
            entry["cpu_seconds"] = round(time.process_time() - c0, 1)  # fit + scoring, all threads
            entry["epoch_seconds"] = getattr(model, "epoch_seconds_", None)
            entry["epochs"] = getattr(model, "epochs_", None)
            entry["chosen_l2"] = getattr(model, "l2_", None)
        entry["wall_seconds"] = round(time.perf_counter() - t0, 1)
        out[name] = entry
        print(f"  {name}: {_short(entry)}", file=sys.stderr, flush=True)
    return {"protocol": res["protocol"], "models": out}


def _short(entry: dict[str, Any]) -> str:
    if "skipped" in entry:
        return f"skipped ({entry['skipped']})"
    return (
        f"R@20 {entry['recall@20']:.4f} N@20 {entry['ndcg@20']:.4f} fit {entry['fit_seconds']:.1f}s "
        f"score {entry['score_seconds']:.1f}s"
    )


def table(result: dict[str, Any]) -> str:
    head = "| model | " + " | ".join(label for _, label in COLUMNS) + " |"
    rule = "|---|" + "---|" * len(COLUMNS)
    lines = [head, rule]
    for name, entry in result["models"].items():
        if "skipped" in entry:
            lines.append(f"| {name} | skipped: {entry['skipped']} |" + " |" * (len(COLUMNS) - 1))
            continue
        cells = []
        for key, _ in COLUMNS:
            v = entry.get(key)
            cells.append(
                "–"
                if v is None
                else (
                    f"{v:.4f}"
                    if key not in ("fit_seconds", "score_seconds", "cpu_seconds", "epoch_seconds")
                    else f"{v:.1f}"
                )
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pyg_reference_epoch_seconds(split: Any, steps: int = 3) -> float:
    """Seconds per epoch of PyG's ``examples/lightgcn.py`` recipe, timed over ``steps`` batches."""
    import torch
    from torch_geometric.nn.models import LightGCN

    x = split.train.tocoo()
    n_users, n_items = split.train.shape
    src = torch.from_numpy(x.row.astype(np.int64))
    dst = torch.from_numpy(x.col.astype(np.int64)) + n_users
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    model = LightGCN(n_users + n_items, embedding_dim=64, num_layers=2)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    batch = 8192
    n_batches = int(np.ceil(x.nnz / batch))
    times = []
    for _ in range(steps):
        idx = torch.randint(0, x.nnz, (batch,))
        pos = torch.stack([src[idx], dst[idx]])
        neg = torch.stack([src[idx], torch.randint(n_users, n_users + n_items, (batch,))])
        t0 = time.perf_counter()
        pos_rank = model(edge_index, pos)
        neg_rank = model(edge_index, neg)
        loss = model.recommendation_loss(pos_rank, neg_rank, node_id=torch.cat([pos, neg]).unique())
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * n_batches)


def main(argv: list[str] | None = None) -> int:
    from uig_core.evaluation.protocol import load_gowalla, temporal_split
    from uig_core.models import DEFAULT_MODEL, MODEL_NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        choices=["or30d", "gowalla", "demo", "zh"],
        help="(default or30d gowalla)",
    )
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), help="registry names (default: all)")
    parser.add_argument("--gowalla-models", nargs="+", default=None, help="models for Gowalla (default: --models)")
    parser.add_argument("--params", default="{}", help='JSON {"model": {param: value}} overrides')
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--pyg-reference", action="store_true", help="time PyG's lightgcn.py recipe on OR-30d")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument(
        "--selection",
        action="store_true",
        help="instead: the per-dataset default choice, every candidate on validation and test, both tasks "
        "(datasets demo, or30d, zh, gowalla; bench/quality_selection.py)",
    )
    parser.add_argument("--budget", type=float, default=20.0, help="with --selection: selection_budget_s")
    args, rest = parser.parse_known_args(argv)
    if args.selection:
        return _selection_main(rest, args)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    import torch

    torch.set_num_threads(args.threads)
    params = json.loads(args.params)
    args.datasets = args.datasets or ["or30d", "gowalla"]
    command = "python bench/quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results: dict[str, Any] = {
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "default_model": DEFAULT_MODEL,
    }
    print(
        f"# Model quality\n\nCommand: `{command}`  \nMachine: {results['machine']}  \n"
        f"Default model: `{DEFAULT_MODEL}`\n"
    )
    if "or30d" in args.datasets:
        if not OR_CSV.exists():
            print(f"OR-30d skipped: {OR_CSV} is absent\n")
        else:
            t0 = time.perf_counter()
            events = online_retail_events()
            split = temporal_split(events)
            prep = time.perf_counter() - t0
            split.item_features, emb_s = item_features(events, split.item_ids)
            print(f"OR-30d: events + split {prep:.1f}s, item embeddings {emb_s:.1f}s", file=sys.stderr, flush=True)
            res = run(split, args.models, params)
            if args.pyg_reference:
                res["pyg_reference_epoch_seconds"] = pyg_reference_epoch_seconds(split)
            results["or30d"] = res
            p = res["protocol"]
            print(
                f"## OR-30d (Online Retail, cutoff {p['cutoff']}, K=20)\n\n"
                f"{p['train_users']:,} users × {p['train_items']:,} items, {p['train_pairs']:,} train pairs; "
                f"{p['test_pairs']:,} test pairs of {p['test_users']:,} test users "
                f"({p['cold_test_pairs']} on cold items).\n"
            )
            print(table(res))
            print(
                f"\nThe cold columns rest on {p['cold_test_pairs']} test pairs and one seed per model: the GCNs' "
                "cold-only figures move by about ±0.03 between seeds. `python bench/cold.py --seeds 8 --models "
                "lightgcn lm_gcn lm_gcn:shuffled-text` gives means, a shuffled-text control and bootstrap intervals."
            )
            if "pyg_reference_epoch_seconds" in res:
                print(
                    f"\nPyG examples/lightgcn.py recipe: {res['pyg_reference_epoch_seconds']:.1f} s/epoch "
                    "on the same split and machine."
                )
            print()
    if "gowalla" in args.datasets:
        if not (GOWALLA / "train.txt").exists():
            print(f"Gowalla skipped: {GOWALLA} is absent\n")
        else:
            split = load_gowalla(GOWALLA)
            res = run(split, args.gowalla_models or args.models, params)
            results["gowalla"] = res
            p = res["protocol"]
            print(
                f"## Gowalla (LightGCN split, K=20)\n\n{p['train_users']:,} users × {p['train_items']:,} items, "
                f"{p['train_pairs']:,} train pairs, {p['test_pairs']:,} test pairs.\n"
            )
            print(table(res))
            print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


def _selection_main(rest: list[str], args: argparse.Namespace) -> int:
    """``--selection``: bench/quality_selection.py's per-dataset tables."""
    import torch
    from quality_selection import run_selection

    torch.set_num_threads(args.threads)
    command = "python bench/quality.py " + " ".join(sys.argv[1:])
    print(f"# Per-dataset default choice\n\nCommand: `{command}`  \nBudget: {args.budget:.0f} s\n")
    results = run_selection(args.datasets or ["demo", "or30d", "zh", "gowalla"], args.budget)
    if args.json:
        Path(args.json).write_text(json.dumps({"command": command, **results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
