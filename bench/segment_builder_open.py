"""Time the Segment builder tab's first open (cache cold) and a rerun (warm) on a build, without Streamlit.

The steps are what ``uig_app.segment_builder.builder_tab`` runs: the feature source (eager: the whole frame;
lazy: :class:`~uig_core.queries.feature_table.FeatureTable`), the field kinds, one summary of a users column and
one of an interest column, the members of a two-rule spec and their 50 lookalikes. The app's warm run gets the
summaries and lookalikes from ``st.cache_data``; here the warm run computes them again.

``--mode eager`` is the path the app took before the lazy source (issue 16): the whole users table loaded, the
whole frame built, the members' ids looked up for the lookalikes. The cluster column gets fixed labels
(``row % 8``): clustering is the page's cost, not the builder's. Run each mode in its own process under
``/usr/bin/time -v`` for CPU-s and peak RSS::

    nice -n 19 /usr/bin/time -v .venv/bin/python bench/segment_builder_open.py \
        --build /tmp/scale/ws_L/artifacts/builds/<dataset>/<build_id> --mode lazy
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _source(bundle, mode: str, labels: np.ndarray):
    from uig_core.queries import segments as seg

    if mode == "eager":
        bundle.users  # noqa: B018 (what user_features read first before the lazy table)
        return seg.user_features(bundle).assign(cluster=labels)
    from uig_core.queries.feature_sources import build_features

    return build_features(bundle).with_labels(labels)


def _open(bundle, source, interest: str) -> list[tuple[str, float]]:
    """One draw of the builder tab with two rules; ``source`` None builds it (the cold open)."""
    from uig_core.queries import segments as seg

    steps: list[tuple[str, float]] = []
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps.append((name, now - t))
        t = now

    kinds = seg.field_kinds(source)
    step("field kinds")
    spend = seg.field_summary(source["spend"])
    step("summary: spend")
    seg.field_summary(source[interest])
    step(f"summary: {interest[:24]}")
    spec = {
        "combine": "and",
        "rules": [
            {"field": "spend", "op": ">=", "value": spend["median"]},
            {"field": interest, "op": ">=", "value": 0.3},
        ],
    }
    rows = seg.segment_rows(source, spec)
    members = seg.members_at(source, rows)
    step(f"members ({len(members):,} of {len(source):,})")
    seg.lookalikes(bundle, members, n=50, rows=rows if hasattr(source, "take") else None)
    step("lookalikes (50)")
    assert kinds[interest] == "number"
    return steps


def main() -> None:
    """Print the table of steps, cold then warm, and the command that made it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, type=Path, help="a build folder (read only)")
    ap.add_argument("--mode", choices=["eager", "lazy"], default="lazy")
    args = ap.parse_args()
    from uig_core.build.bundle import Bundle
    from uig_core.queries.features import INTEREST_PREFIX

    start = time.perf_counter()
    bundle = Bundle(args.build)
    n = int(np.asarray(bundle.profiles).shape[0])
    labels = np.arange(n, dtype=np.int64) % 8
    t0 = time.perf_counter()
    source = _source(bundle, args.mode, labels)
    built = time.perf_counter() - t0
    interest = next(c for c in source.columns if str(c).startswith(INTEREST_PREFIX))
    cold = [("load bundle", t0 - start), ("feature source", built), *_open(bundle, source, interest)]
    warm = _open(bundle, source, interest)
    print(f"# {' '.join(sys.argv)}  (mode {args.mode}, {n:,} users)")
    print(f"{'step':<44} {'cold s':>8} {'warm s':>8}")
    warm_of = dict(warm)
    for name, sec in cold:
        key = next((w for w in warm_of if w.split(" (")[0] == name.split(" (")[0]), None)
        print(f"{name:<44} {sec:8.3f} {warm_of[key] if key else float('nan'):8.3f}")
    print(f"{'total':<44} {sum(s for _, s in cold):8.3f} {sum(s for _, s in warm):8.3f}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"process CPU {usage.ru_utime + usage.ru_stime:.2f} s, peak RSS {usage.ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
