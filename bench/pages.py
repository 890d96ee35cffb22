"""Warm page rerun times of the dashboard on the demo workspace (Streamlit AppTest, in-process).

For each page, behind the app's router: one cold run (caches and models load; the first page also pays for the
imports), then ``--runs`` reruns with the same widget state; the
median of those is the figure the dashboard issue asks for (≤ 300 ms). Portraits and Recommendations also
time reruns that each switch to a user not shown before (no per-user result is cached yet).

    python bench/pages.py [--workspace DIR] [--runs 7]

The workspace must hold the built ``demo`` dataset; it is built there (``uig demo``) when absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def bench_page(name: str, runs: int) -> dict[str, float | str]:
    from conftest import PAGES_DIR, page_app  # the app's router around one page (tests/conftest.py)

    if not (PAGES_DIR / f"{name}.py").exists():
        return {"page": name, "note": "page missing"}
    at = page_app(name, timeout=600)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
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
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=os.environ.get("UIG_WORKSPACE") or "uig_workspace")
    parser.add_argument("--runs", type=int, default=7, help="warm reruns per page (default 7, at least 5)")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args()
    runs = max(5, args.runs)
    root = Path(args.workspace).resolve()
    os.environ["UIG_WORKSPACE"] = str(root)
    os.environ.pop("UIG_PASSWORD", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    ensure_demo(root)

    rows = [bench_page(p, runs) for p in args.pages]
    ms = lambda v: f"{v * 1000:,.0f}" if isinstance(v, float) else "—"  # noqa: E731
    print(f"Warm page reruns, demo workspace, Streamlit AppTest, median of {runs} reruns (ms)\n")
    print("| page | cold first run | warm rerun median | min | max | rerun to a new user (median) | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['page']} | {ms(r.get('cold'))} | {ms(r.get('median'))} | {ms(r.get('min'))} | "
            f"{ms(r.get('max'))} | {ms(r.get('switch'))} | {r.get('note', '')} |"
        )
    print(f"\ncommand: python bench/pages.py --workspace {args.workspace} --runs {runs}")


if __name__ == "__main__":
    main()
