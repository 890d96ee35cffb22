"""Per-dataset default choice: every candidate on validation and on test, both tasks, the chosen default marked.

For each dataset the *test* split is the evaluation protocol's (the last 30 days; Gowalla: its own files) and the
*validation* split is carved from the test split's training data exactly as a build carves it from the whole log
(:mod:`uig_core.build.validation`: the last tenth of the period, with earlier tenths pooled while the windows hold
fewer than 1,000 validation users, at most five; Gowalla, which has no times: a seeded 10 % of each user's
training pairs). The chosen default is the best on (pooled) validation; the table shows its Recall@20 per window,
and whether it is also within 0.005 Recall@20 of the best on test.

    python bench/quality.py --selection [--datasets demo or30d zh gowalla] [--budget 20]

A dataset whose files are absent is skipped (exit 0). Run by ``bench/quality.py --selection``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo_data" / "events.csv.gz"
ZH = REPO / "demo_data" / "zh" / "events.csv.gz"


def demo_events(path: Path) -> pd.DataFrame:
    """Canonical events of a generated demo log, as ``uig ingest`` reads it."""
    from uig_core.ingest.clean import read_log

    return read_log(path).events


def _features(events: pd.DataFrame, item_ids: pd.Index) -> np.ndarray:
    from quality import item_features

    return item_features(events, item_ids)[0]


def _task_table(
    val_rows: list[dict[str, Any]], test_rows: list[dict[str, Any]], chosen: str
) -> tuple[str, dict[str, Any]]:
    test = {r["model"]: r for r in test_rows}
    lines = [
        "| model | status | est. s | validation R@20 | validation N@20 | R@20 per window | test R@20 | test N@20 "
        "| fit s (val) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in val_rows:
        t = test.get(r["model"], {})
        mark = " **(chosen)**" if r["model"] == chosen else ""
        cells = [
            f"{r['model']}{mark}",
            r["status"] if r["status"] == "fitted" else f"skipped: {r['reason']}",
            f"{r['estimated_s']:.1f}" if r.get("estimated_s") is not None else "–",
            *(f"{v:.4f}" if v is not None else "–" for v in (r["recall@20"], r["ndcg@20"])),
            " / ".join(f"{v:.4f}" if v is not None else "–" for v in r.get("windows") or []) or "–",
            *(f"{v:.4f}" if v is not None else "–" for v in (t.get("recall@20"), t.get("ndcg@20"))),
            f"{r['fit_seconds']:.1f}" if r.get("fit_seconds") is not None else "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    fitted = [r for r in test_rows if r.get("recall@20") is not None]
    best = max(fitted, key=lambda r: (r["recall@20"], r["ndcg@20"])) if fitted else None
    got = test.get(chosen, {}).get("recall@20")
    summary = {
        "chosen": chosen,
        "best_on_test": best["model"] if best else None,
        "chosen_test_recall@20": got,
        "best_test_recall@20": best["recall@20"] if best else None,
        "within_0.005": bool(best and got is not None and best["recall@20"] - got <= 0.005),
    }
    lines.append(
        f"\nChosen on validation: `{chosen}` (test Recall@20 {got if got is None else f'{got:.4f}'}); best on test: "
        f"`{summary['best_on_test']}` ({summary['best_test_recall@20']}); within 0.005: {summary['within_0.005']}."
    )
    return "\n".join(lines), summary


def _test_rows(split: Any, rows: list[dict[str, Any]], *, events: Any = None, mask: Any = None) -> list[dict]:
    from uig_core.build.selection import score_candidates

    names = [r["model"] for r in rows if r["status"] == "fitted" and r.get("estimated_s") is not None]
    names = list(dict.fromkeys(names))
    return score_candidates(split, names, float("inf"), 0, {}, lambda f, m: None, events=events, mask=mask)


def temporal_dataset(name: str, events: pd.DataFrame, budget: float) -> dict[str, Any]:
    """Validation (carved from the test split's training period) and test tables of both tasks."""
    from uig_core.build.selection import select_defaults
    from uig_core.config import BuildConfig
    from uig_core.evaluation.next_purchase import next_purchase_split
    from uig_core.evaluation.protocol import temporal_split
    from uig_core.store.frames import items_frame
    from uig_core.store.relation import EventRelation

    t0 = time.perf_counter()
    test = temporal_split(events)
    cut = pd.Timestamp(test.protocol["cutoff"])
    before = events[events["ts"] < cut]
    items = pd.Index(items_frame(EventRelation.of_frame(before))["item_id"].astype(str))
    emb = _features(before, items)
    selection = select_defaults(EventRelation.of_frame(before), BuildConfig(selection_budget_s=budget), items, emb)
    test.item_features = _features(events, test.item_ids)
    out: dict[str, Any] = {"dataset": name, "test_cutoff": str(cut.date()), "selection": selection}
    text, out["discover"] = _task_table(
        selection["candidates"], _test_rows(test, selection["candidates"]), selection["default"]
    )
    val = selection["validation"]
    windows = val.get("windows") or [val]
    out["text"] = [
        f"### {name}: discover (validation from {val['cutoff']}: {len(windows)} window(s) of "
        f"{' + '.join(str(w['users']) for w in windows)} users, {val['pairs']} pairs; test from {cut.date()})\n",
        text,
    ]
    nxt = selection.get("next_purchase")
    if nxt:
        split, side = next_purchase_split(events, cut)
        rows = [r for r in nxt["candidates"] if r.get("estimated_s")]  # the discover reference row is not refitted
        text, out["next_purchase"] = _task_table(
            nxt["candidates"], _test_rows(split, rows, events=side, mask=side.bought), nxt["default"]
        )
        out["text"] += [f"\n### {name}: next purchase\n", text]
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def gowalla_dataset(path: Path, budget: float, seed: int = 0) -> dict[str, Any]:
    """Gowalla has no times: validation = a seeded 10 % of each user's training pairs."""
    import scipy.sparse as sp

    from uig_core.build.selection import discover_candidates, score_candidates
    from uig_core.evaluation.protocol import Split, load_gowalla

    test = load_gowalla(path)
    x = test.train.tocoo()
    hold = np.random.default_rng(seed).random(x.nnz) < 0.1
    fit = sp.csr_matrix((x.data[~hold], (x.row[~hold], x.col[~hold])), shape=x.shape)
    val = sp.csr_matrix((x.data[hold], (x.row[hold], x.col[hold])), shape=x.shape)
    split = Split(
        train=fit, test=val, user_ids=test.user_ids, item_ids=test.item_ids, protocol={"cutoff": "10 % pairs"}
    )
    rows = score_candidates(
        split, discover_candidates(), budget, seed, {}, lambda f, m: print(f"  {m}", file=sys.stderr)
    )
    fitted = [r for r in rows if r["status"] == "fitted"]
    chosen = max(fitted, key=lambda r: (r["recall@20"], r["ndcg@20"]))["model"]
    text, summary = _task_table(rows, _test_rows(test, rows), chosen)
    return {
        "dataset": "gowalla",
        "discover": summary,
        "text": ["### gowalla: discover (validation: 10 % of train pairs)\n", text],
    }


def run_selection(datasets: list[str], budget: float) -> dict[str, Any]:
    """Print the tables of ``datasets`` (demo, or30d, zh, gowalla) and return them."""
    from quality import GOWALLA, OR_CSV, online_retail_events

    sources = {
        "demo": (DEMO, lambda: demo_events(DEMO)),
        "zh": (ZH, lambda: demo_events(ZH)),
        "or30d": (OR_CSV, online_retail_events),
    }
    results: dict[str, Any] = {}
    for name in datasets:
        if name == "gowalla":
            if not (GOWALLA / "train.txt").exists():
                print(f"gowalla skipped: {GOWALLA} is absent\n")
                continue
            res = gowalla_dataset(GOWALLA, budget)
        else:
            path, load = sources[name]
            if not path.exists():
                print(f"{name} skipped: {path} is absent\n")
                continue
            res = temporal_dataset(name, load(), budget)
        print("\n".join(res["text"]) + "\n", flush=True)
        results[name] = {k: v for k, v in res.items() if k != "text"}
    return results
