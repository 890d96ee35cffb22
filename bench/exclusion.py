"""Risk-aware training on the demo: which users the anomaly flag leaves out, and what it costs in Recall@20.

Builds the demo (or reuses ``--workspace``), then:

* the build with ``exclude_anomalous``: how many of the generator's planted bots are left out of training, and
  how many other users (issue 19: ≥ 90 % of the bots, ≤ 2 % of the others);
* ``uig evaluate``'s temporal protocol with and without the setting (flags scored on the training period only),
  Recall@20 and NDCG@20 of the build's default model and the baselines (issue 19: Recall@20 falls by ≤ 0.005).

    python bench/exclusion.py [--workspace DIR] [--threshold T] [--models ease_recency,itemknn,popularity]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _workspace(path: str | None):
    from uig_core.cli.main import main
    from uig_core.store.workspace import Workspace

    root = Path(path) if path else Path(tempfile.mkdtemp(prefix="uig_exclusion_"))
    ws = Workspace(root)
    if not any(d.name == "demo" and d.current_build for d in ws.datasets()):
        if main(["demo", "--workspace", str(root)]) != 0:
            raise SystemExit("uig demo failed")
    return ws


def _flag_table(ws, threshold: float | None) -> dict[str, float]:
    import numpy as np

    from uig_core.build.bundle import Bundle
    from uig_core.build.pipeline import build
    from uig_core.config import BuildConfig

    t0 = time.perf_counter()
    meta = build(ws, "demo", BuildConfig(exclude_anomalous=True, anomaly_threshold=threshold))
    took = time.perf_counter() - t0
    bundle = Bundle.load(ws, "demo", meta["build_id"])
    users = bundle.users["user_id"].astype(str)
    empty = np.diff(bundle.model().interactions_.indptr) == 0
    had = np.diff(bundle.interactions.indptr) > 0
    left_out = set(users[empty & had])
    bots = set(json.loads((REPO / "demo_data" / "ground_truth.json").read_text())["bots"])
    others = len(users) - len(bots)
    return {
        "excluded": meta["excluded_users"],
        "bots_left_out": len(left_out & bots) / max(1, len(bots)),
        "others_left_out": len(left_out - bots) / max(1, others),
        "n_bots": len(bots),
        "build_s": took,
    }


def _evaluate(ws, exclude: bool, threshold: float | None, models: list[str]) -> dict:
    from uig_core.evaluation.run import evaluate_dataset

    settings = ws.settings()
    build = {**settings.get("build", {}), "exclude_anomalous": exclude, "anomaly_threshold": threshold}
    ws.update_settings(build=build)
    try:
        return evaluate_dataset(ws, "demo", names=models)
    finally:
        ws.update_settings(build=settings.get("build", {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", help="a workspace holding the built demo (default: a new one)")
    parser.add_argument("--threshold", type=float, default=None, help="anomaly threshold (default: the flag's)")
    parser.add_argument("--models", default="ease_recency,itemknn,popularity")
    args = parser.parse_args()
    ws = _workspace(args.workspace)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    flags = _flag_table(ws, args.threshold)
    print(f"planted bots: {flags['n_bots']}; users left out of training: {flags['excluded']}")
    print(f"bots left out: {flags['bots_left_out']:.1%}  (target >= 90 %)")
    print(f"others left out: {flags['others_left_out']:.2%}  (target <= 2 %)")
    print(f"build with the setting: {flags['build_s']:.1f} s wall")
    plain = _evaluate(ws, False, args.threshold, models)
    kept = _evaluate(ws, True, args.threshold, models)
    print(
        f"\ntemporal split, cutoff {plain['protocol'].get('cutoff')}, "
        f"{kept['protocol'].get('excluded_from_training', 0)} users left out of training"
    )
    print(f"{'model':<16} {'R@20 all':>9} {'R@20 excl':>10} {'change':>8} {'NDCG all':>9} {'NDCG excl':>10}")
    for name in models:
        a, b = plain["models"].get(name, {}), kept["models"].get(name, {})
        if "recall@20" not in a or "recall@20" not in b:
            print(f"{name:<16} skipped")
            continue
        print(
            f"{name:<16} {a['recall@20']:>9.4f} {b['recall@20']:>10.4f} {b['recall@20'] - a['recall@20']:>+8.4f} "
            f"{a['ndcg@20']:>9.4f} {b['ndcg@20']:>10.4f}"
        )
    print(
        f"\ncommand: python bench/exclusion.py --models {args.models}"
        + (f" --threshold {args.threshold}" if args.threshold is not None else "")
    )


if __name__ == "__main__":
    main()
