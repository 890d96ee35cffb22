"""The cold-item slice on OR-30d, over several seeds: language-feature model vs ID-only LightGCN.

OR-30d's cold slice is small (about 130 test users have a test item with fewer than 5 train interactions), so one
training run says little: the same model moves by 2x between seeds. This bench trains each model with several
seeds and reports the mean and standard deviation of

* ``cold_only_recall@20`` — only cold train items are candidates (does the model order little-known items well?);
* ``cold_recall@20`` — cold test items found in the full ranking over all items;
* ``recall@20`` — the whole protocol, for context.

    python bench/cold.py [--seeds 5] [--models lightgcn lm_gcn] [--params '{"lm_gcn": {...}}'] [--json out.json]
                         [--validation] [--windows N]

``--windows N`` repeats the protocol on N consecutive 30-day windows (each one's cutoff is 30 days before the
previous one's, and the later events are dropped): about N times the cold pairs, so settings can be compared on
more than one noisy month. The table then pools every window and seed, and lists each window's ratio.
``--skip-windows M`` starts M windows further back: ``lm_gcn``'s defaults were chosen on ``--validation
--windows 3``, so ``--validation --skip-windows 3 --windows 3`` measures them on three months no choice saw.

``lm_gcn:shuffled-text`` is a control: ``lm_gcn`` trained on the same embeddings permuted across items, so every
item keeps a fixed vector but not its own title's meaning. If the language model's cold-item lead came from
the extra parameters rather than from what the titles say, the control would keep it.

The ratio line carries a 95 % bootstrap interval: test users are resampled within each window (paired across
models, each user's recall averaged over the seeds first), so it shows how much of the ratio is the luck of a
small slice.

Models without a seed (``popularity``) run once. ``--models lightgcn lm_gcn popularity --params
'{"popularity": {"use_weights": true}}'`` adds the recency-weighted popularity ranking as a reference: on OR-30d
the cold items are mostly new arrivals, and how recently an item sold is the strongest single cold-item signal.

Skips (exit 0) when ``../shared/data/online_retail`` is absent. Not run by CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METRICS = ("cold_only_recall@20", "cold_recall@20", "recall@20")


def main(argv: list[str] | None = None) -> int:
    from bench.quality import OR_CSV, item_features, online_retail_events

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument(
        "--models",
        nargs="+",
        default=["lightgcn", "lm_gcn"],
        help="model names; 'lm_gcn:shuffled-text' is lm_gcn on item embeddings permuted across items",
    )
    ap.add_argument("--params", default="{}", help='JSON {"model": {param: value}} overrides')
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--validation",
        action="store_true",
        help="choose settings here, not on the test set: drop OR-30d's test month and hold out the "
        "30 days before it (cutoff 2011-10-09) instead",
    )
    ap.add_argument(
        "--windows",
        type=int,
        default=1,
        help="evaluate on this many consecutive 30-day windows, latest first (default 1)",
    )
    ap.add_argument(
        "--skip-windows",
        type=int,
        default=0,
        help="start this many 30-day windows further back (e.g. --validation --skip-windows 3: windows "
        "no setting was chosen on)",
    )
    args = ap.parse_args(argv)
    if not OR_CSV.exists():
        print(f"skipped: {OR_CSV} not found (shared data absent)")
        return 0
    import numpy as np
    import pandas as pd
    import torch

    from uig_core.evaluation.metrics import cold_only_recalls
    from uig_core.evaluation.protocol import temporal_split
    from uig_core.evaluation.run import evaluate_model
    from uig_core.models import make_model, model_class

    torch.set_num_threads(2)
    params = json.loads(args.params)
    events = online_retail_events()
    if args.validation:
        events = events[events["ts"] < pd.Timestamp("2011-11-09")]  # the test month stays unseen
    splits = []
    for window in range(args.skip_windows + max(1, args.windows)):
        split = temporal_split(events)  # default cutoff: last event's midnight minus 30 days
        if window >= args.skip_windows:
            split.item_features, _ = item_features(events, split.item_ids)
            splits.append(split)
        events = events[events["ts"] < pd.Timestamp(split.protocol["cutoff"])]  # the next window ends here
    runs: dict[str, list[dict[str, Any]]] = {}
    for name in args.models:
        base, _, control = name.partition(":")
        if control not in ("", "shuffled-text"):
            ap.error(f"unknown control {control!r} in {name!r}; the one control is 'shuffled-text'")
        seeded = "random_state" in inspect.signature(model_class(base)).parameters
        for window, split in enumerate(splits):
            if control and split.item_features is not None:  # same vectors, each on another item
                order = np.random.default_rng(12345).permutation(len(split.item_features))
                split = dataclasses.replace(split, item_features=split.item_features[order])
            for seed in range(args.seeds if seeded else 1):  # a model without a seed is deterministic: one run
                t0 = time.perf_counter()
                extra = {"random_state": seed} if seeded else {}
                model = make_model(base, **{**params.get(name, params.get(base, {})), **extra})
                result = evaluate_model(model, split)
                result["seconds"] = time.perf_counter() - t0
                result["window"] = window
                counts = np.diff((split.train > 0).tocsc().indptr)
                result["cold_users"], result["cold_user_recalls"] = (
                    a.tolist() for a in cold_only_recalls(model, split, counts)
                )
                runs.setdefault(name, []).append(result)
                print(
                    f"{name} window {window} seed {seed}: " + ", ".join(f"{m} {result[m]:.4f}" for m in METRICS),
                    file=sys.stderr,
                    flush=True,
                )
    command = "python bench/cold.py " + " ".join(argv if argv is not None else sys.argv[1:])
    protocols = [split.protocol for split in splits]
    print(table(runs, protocols, command.strip()))
    if args.json:
        args.json.write_text(
            json.dumps({"protocol": protocols[0], "windows": protocols, "runs": runs}, indent=2, default=str)
        )
    return 0


def table(runs: dict[str, list[dict[str, Any]]], protocols: list[dict[str, Any]], command: str) -> str:
    def mean(name: str, metric: str, window: int | None = None) -> float:
        return statistics.mean(r[metric] for r in runs[name] if window is None or r.get("window", 0) == window)

    def cell(name: str, metric: str) -> str:
        values = [r[metric] for r in runs[name]]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.4f} ± {sd:.4f}"

    windows = ", ".join(f"{p['cutoff']} ({p['cold_test_pairs']} cold test pairs)" for p in protocols)
    lines = [
        f"## Cold-item slice, cutoff {windows}, {max(len(r) for r in runs.values()) // len(protocols)} seeds "
        f"per window (mean ± sd over all runs)",
        "",
        "| model | " + " | ".join(METRICS) + " | fit+score s |",
        "|---|" + "---|" * (len(METRICS) + 1),
    ]
    for name in runs:
        secs = statistics.median(r["seconds"] for r in runs[name])
        lines.append(
            f"| {name} ({len(runs[name])} run{'s' * (len(runs[name]) > 1)}) | "
            + " | ".join(cell(name, m) for m in METRICS)
            + f" | {secs:.0f} |"
        )
    if "lightgcn" in runs and len(runs) > 1:
        metric = "cold_only_recall@20"
        for name in runs:
            if name == "lightgcn" or mean("lightgcn", metric) <= 0:
                continue
            line = f"\n{name} / lightgcn, mean {metric}: {mean(name, metric) / mean('lightgcn', metric):.2f}x"
            low, high = bootstrap_ratio(runs[name], runs["lightgcn"])
            line += f" (95 % bootstrap over test users: {low:.2f}x to {high:.2f}x)"
            if len(protocols) > 1:
                per = []
                for w in range(len(protocols)):
                    base = mean("lightgcn", metric, w)
                    per.append(f"{mean(name, metric, w) / base:.2f}x" if base > 0 else "n/a")
                line += "; per window, latest first: " + ", ".join(per)
            lines.append(line)
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines)


def bootstrap_ratio(
    runs: list[dict[str, Any]], base: list[dict[str, Any]], *, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of the mean cold-only recall ratio ``runs / base``, resampling test users.

    Each user's recall is first averaged over that model's seeds; both models see the same resampled users. Users
    are resampled within each window and the windows weigh equally, as in the table's ratio of means.
    """
    import numpy as np

    def per_user(rs: list[dict[str, Any]]) -> dict[tuple[int, int], float]:
        sums: dict[tuple[int, int], list[float]] = {}
        for r in rs:
            for u, rec in zip(r["cold_users"], r["cold_user_recalls"], strict=True):
                sums.setdefault((r["window"], u), []).append(rec)
        return {key: float(np.mean(v)) for key, v in sums.items()}

    a, b = per_user(runs), per_user(base)
    keys = sorted(set(a) & set(b))
    if not keys:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    num = np.zeros(draws)
    den = np.zeros(draws)
    windows = sorted({w for w, _ in keys})
    for window in windows:
        x = np.array([a[k] for k in keys if k[0] == window])
        y = np.array([b[k] for k in keys if k[0] == window])
        idx = rng.integers(0, len(x), size=(draws, len(x)))
        num += x[idx].mean(axis=1) / len(windows)
        den += y[idx].mean(axis=1) / len(windows)
    ratios = num[den > 0] / den[den > 0]
    return float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


if __name__ == "__main__":
    raise SystemExit(main())
