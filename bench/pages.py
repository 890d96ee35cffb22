"""Cold and warm page times of the dashboard on a workspace, with peak RSS (Streamlit AppTest, in-process).

For each page, behind the app's router: one cold run (imports, the bundle, models and the page's caches load),
then ``--runs`` reruns with the same widget state; the median of those is the warm figure (issue 16: warm ≤ 500 ms,
cold ≤ 5 s). Portraits and Recommendations also time reruns that each switch to a user not shown before (no
per-user result is cached yet).

By default every page runs in a fresh process, so its cold figure and peak RSS are its own; ``--shared`` runs
all pages one after the other in one process instead, as one dashboard process serves them (its peak RSS is the
figure for "the app process holds at most 4 GB").

    python bench/pages.py [--workspace DIR] [--dataset NAME] [--runs 7] [--pages home portraits] [--shared]

With the default dataset ``demo``, the workspace is built there (``uig demo``) when it lacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ["home", "upload", "graph", "portraits", "segments", "recommendations", "model_quality"]
SWITCH_USER = {"portraits": "portrait_user", "recommendations": "rec_user"}


def ensure_demo(root: Path) -> None:
    from uig_core.cli.main import main
    from uig_core.store.workspace import Workspace

    if (root / "uig.duckdb").exists() and any(d.name == "demo" and d.current_build for d in Workspace(root).datasets()):
        return
    print(f"building the demo workspace in {root} …", file=sys.stderr)
    if main(["demo", "--workspace", str(root)]) != 0:
        raise SystemExit("uig demo failed")


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def bench_page(name: str, runs: int, dataset: str) -> dict[str, float | str]:
    from conftest import PAGES_DIR, page_app  # the app's router around one page (tests/conftest.py)

    if not (PAGES_DIR / f"{name}.py").exists():
        return {"page": name, "note": "page missing"}
    at = page_app(name, timeout=600)
    at.session_state["uig_dataset"] = dataset
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    if at.exception:
        return {"page": name, "note": f"exception: {at.exception[0].value[:80]}"}
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    out: dict[str, float | str] = {
        "page": name,
        "cold": cold,
        "cold_cpu": cold_cpu,
        "median": statistics.median(warm),
        "min": min(warm),
        "max": max(warm),
    }
    key = SWITCH_USER.get(name)
    if key:
        users = at.selectbox(key=key).options[1 : runs + 1]  # a user not seen before on every rerun
        switch = []
        for user in users:
            at.selectbox(key=key).set_value(user)
            t0 = time.perf_counter()
            at.run()
            switch.append(time.perf_counter() - t0)
        out["switch"] = statistics.median(switch)
    out["rss"] = rss_gb()
    return out


def worker(pages: list[str], runs: int, dataset: str) -> None:
    """Run the pages in this process, one JSON line per page on stdout."""
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    for page in pages:
        print(json.dumps(bench_page(page, runs, dataset)), flush=True)


def run_worker(pages: list[str], args: argparse.Namespace, env: dict[str, str]) -> list[dict]:
    cmd = [sys.executable, __file__, "--worker", "--runs", str(args.runs), "--dataset", args.dataset, "--pages", *pages]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(rows) < len(pages):
        note = (proc.stderr.strip().splitlines() or ["failed"])[-1][:80]
        rows += [{"page": p, "note": note} for p in pages[len(rows) :]]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=os.environ.get("UIG_WORKSPACE") or "uig_workspace")
    parser.add_argument("--dataset", default="demo", help="dataset to open on every page (default demo)")
    parser.add_argument("--runs", type=int, default=7, help="warm reruns per page (default 7, at least 5)")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--shared", action="store_true", help="all pages in one process (the app's peak RSS)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    runs = max(5, args.runs)
    if args.worker:
        worker(args.pages, runs, args.dataset)
        return
    root = Path(args.workspace).resolve()
    env = {**os.environ, "UIG_WORKSPACE": str(root), "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    env.pop("UIG_PASSWORD", None)
    if args.dataset == "demo":
        ensure_demo(root)

    rows = (
        run_worker(args.pages, args, env)
        if args.shared
        else [r for p in args.pages for r in run_worker([p], args, env)]
    )
    ms = lambda v: f"{v * 1000:,.0f}" if isinstance(v, float) else "—"  # noqa: E731
    gb = lambda v: f"{v:.2f}" if isinstance(v, float) else "—"  # noqa: E731
    how = "all pages in one process" if args.shared else "each page in a fresh process"
    print(f"Page runs, dataset {args.dataset} in {root}, Streamlit AppTest, {how}, median of {runs} reruns (ms)\n")
    print("| page | cold first run | cold CPU-s | warm median | min | max | rerun to a new user | peak RSS GB | note |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        cpu = r.get("cold_cpu")
        print(
            f"| {r['page']} | {ms(r.get('cold'))} | {f'{cpu:.1f}' if isinstance(cpu, float) else '—'} | "
            f"{ms(r.get('median'))} | {ms(r.get('min'))} | {ms(r.get('max'))} | {ms(r.get('switch'))} | "
            f"{gb(r.get('rss'))} | {r.get('note', '')} |"
        )
    shared = " --shared" if args.shared else ""
    print(
        f"\ncommand: python bench/pages.py --workspace {args.workspace} --dataset {args.dataset} --runs {runs}{shared}"
    )


if __name__ == "__main__":
    main()
