"""Does reading item meaning earn its place? ``lm_blend`` beside the text-blind default, and the evidence behind it.

For each dataset (OR-30d from ``../shared/data/online_retail``, the demo from ``demo_data/``) prints:

1. the models' test Recall@20 / NDCG@20 with fit wall and CPU seconds (``bench/quality.py``'s loaders and
   ``uig_core.evaluation``'s temporal split and metrics), and what ``lm_blend`` chose on validation;
2. with ``--grid``: the test figures of ``lm_blend`` at fixed (λ, α) over a grid (α = 0 is recency EASE at that λ),
   beside the validation Recall@20 the model's own search saw — what the search chose, and what it left.

    python bench/meaning.py [--datasets or30d demo] [--models ease_recency lm_gcn lm_blend ...] [--grid]

A model name may carry a control: ``lm_blend:shuffled`` fits on the item vectors permuted across items (the same
vectors, the wrong items: any lift that survives is not the items' meaning), ``lm_blend:no-text`` without them.

Skips a dataset (exit 0) whose data is absent. Fit CPU seconds are process CPU time (all threads) of ``fit``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
DEMO_EVENTS = REPO / "demo_data" / "events.csv.gz"
GRID_L2 = (250.0, 500.0, 1000.0, 2000.0)
GRID_TEXT = (0.0, 0.08)


def or30d() -> Any | None:
    """The OR-30d split with the default text path's item vectors, or None when the data is absent."""
    import quality

    from uig_core.evaluation.protocol import temporal_split

    if not quality.OR_CSV.exists():
        print(f"OR-30d skipped: {quality.OR_CSV} is absent\n")
        return None
    events = quality.online_retail_events()
    split = temporal_split(events)
    split.item_features, _ = quality.item_features(events, split.item_ids)
    return split


def demo() -> Any | None:
    """The demo log's temporal split (last 30 days held out) with its item vectors, or None when absent."""
    import quality

    from uig_core.evaluation.protocol import temporal_split
    from uig_core.ingest.clean import read_log

    if not DEMO_EVENTS.exists():
        print(f"demo skipped: {DEMO_EVENTS} is absent\n")
        return None
    events = read_log(DEMO_EVENTS).events
    split = temporal_split(events)
    split.item_features, _ = quality.item_features(events, split.item_ids)
    return split


def evaluate(name: str, split: Any, **params: Any) -> dict[str, Any]:
    """Fit one model (``name[:control]``) on the split's train matrix and score its test users."""
    from uig_core.evaluation.run import evaluate_model
    from uig_core.models import make_model

    base, _, control = name.partition(":")
    features = split.item_features
    if control == "shuffled":
        features = features[np.random.default_rng(0).permutation(len(features))]
    elif control == "no-text":
        features = None
    elif control:
        raise SystemExit(f"unknown control {control!r} in {name!r}; use :shuffled or :no-text")
    model = make_model(base, **params)
    c0, t0 = time.process_time(), time.perf_counter()
    model.fit(split.train, item_features=features)
    fit_wall, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    res = evaluate_model(model, split, fit=False)
    return {
        "model": name,
        "recall": res["recall@20"],
        "ndcg": res["ndcg@20"],
        "fit_s": fit_wall,
        "fit_cpu_s": fit_cpu,
        "l2": getattr(model, "l2_", None),
        "text_weight": getattr(model, "text_weight_", None),
        "split": getattr(model, "split_", None),
        "validation": getattr(model, "validation_", None),
    }


def models_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model | Recall@20 | NDCG@20 | fit s | fit CPU-s | chosen |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        chosen = []
        if r["l2"] is not None:
            chosen.append(f"λ={r['l2']:g}")
        if r["text_weight"] is not None:
            chosen.append(f"α={r['text_weight']:g}")
        if r["split"]:
            chosen.append(f"{r['split']} split")
        lines.append(
            f"| {r['model']} | {r['recall']:.4f} | {r['ndcg']:.4f} | {r['fit_s']:.1f} | {r['fit_cpu_s']:.1f} "
            f"| {', '.join(chosen) or '–'} |"
        )
    return "\n".join(lines)


def grid_table(split: Any, validation: dict[str, float]) -> str:
    """Test figures of lm_blend at fixed (λ, α), with the validation Recall@20 its search saw (– = not tried)."""
    lines = ["| λ \\ α | " + " | ".join(f"{a:g}" for a in GRID_TEXT) + " |", "|---|" + "---|" * len(GRID_TEXT)]
    for lam in GRID_L2:
        cells = []
        for a in GRID_TEXT:
            r = evaluate("lm_blend", split, l2=lam, text_weight=a)
            seen = validation.get(f"{lam:g}/{a:g}")
            cells.append(f"{r['recall']:.4f} / {r['ndcg']:.4f} (val {'–' if seen is None else f'{seen:.4f}'})")
            print(f"  grid λ={lam:g} α={a:g}: {cells[-1]}", file=sys.stderr, flush=True)
        lines.append(f"| {lam:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["or30d", "demo"], choices=["or30d", "demo"])
    parser.add_argument("--models", nargs="+", default=["ease_recency", "lm_gcn", "lm_blend"])
    parser.add_argument("--grid", action="store_true", help="also print lm_blend's test figures over a (λ, α) grid")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    command = "python bench/meaning.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# Reading item meaning\n\nCommand: `{command}`  \nMachine: {os.cpu_count()} CPUs\n")
    for dataset in args.datasets:
        split = or30d() if dataset == "or30d" else demo()
        if split is None:
            continue
        p = split.protocol
        print(
            f"## {dataset} (cutoff {p['cutoff']}, K=20)\n\n{p['train_users']:,} users × {p['train_items']:,} items, "
            f"{p['train_pairs']:,} train pairs; {p['test_pairs']:,} test pairs of {p['test_users']:,} users.\n"
        )
        rows = []
        for name in args.models:
            rows.append(evaluate(name, split, random_state=0))
            r = rows[-1]
            print(
                f"  {name}: R@20 {r['recall']:.4f} N@20 {r['ndcg']:.4f} fit {r['fit_cpu_s']:.1f} CPU-s", file=sys.stderr
            )
        print(models_table(rows) + "\n")
        blend = next((r for r in rows if r["model"] == "lm_blend"), None)
        if blend and blend["validation"]:
            vals = sorted(blend["validation"].items(), key=lambda kv: -kv[1])
            print("lm_blend validation Recall@20 (λ/α, best first): " + ", ".join(f"{k} {v:.4f}" for k, v in vals[:8]))
            print()
        if args.grid:
            print("lm_blend at fixed λ (rows) and α (columns): test Recall@20 / NDCG@20 (validation Recall@20)\n")
            print(grid_table(split, blend["validation"] if blend else {}) + "\n")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
