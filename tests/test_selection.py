"""The per-dataset default, chosen at build time on validation (``uig_core.build.selection``).

Planted data: two blocks of shoppers whose later items stay in their block (item-kNN must beat popularity on
validation); the funnel log of ``test_next_purchase`` (carted items bought later: the next-purchase default
must beat the ``recent_unbought`` baseline). One tiny workspace build checks what is stored and shown.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_next_purchase import T0, funnel_log

from uig_core.build.selection import (
    estimate_seconds,
    score_candidates,
    select_defaults,
    validation_cutoff,
)
from uig_core.config import BuildConfig
from uig_core.errors import ConfigError
from uig_core.evaluation.protocol import temporal_split
from uig_core.store.relation import EventRelation


def block_log(n_users: int = 60, n_items: int = 40, seed: int = 1) -> pd.DataFrame:
    """Each shopper buys items of their block over 100 days; the popular items are spread over both blocks."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        block = np.arange(n_items // 2) if u % 2 == 0 else np.arange(n_items // 2, n_items)
        for j in rng.choice(block, size=8, replace=False):
            day = float(rng.uniform(0, 100))
            rows.append(
                {"user_id": f"u{u:02d}", "item_id": f"i{j:02d}", "event": "purchase", "ts": T0 + pd.Timedelta(days=day)}
            )
    return pd.DataFrame(rows)


def test_validation_cutoff_is_the_last_tenth_at_midnight_or_exact_on_short_logs() -> None:
    first, last = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-11 15:00")
    assert validation_cutoff(first, last) == pd.Timestamp("2026-04-01")  # 100.6 days: 10.06 back, floored
    week = pd.Timestamp("2026-01-08")
    assert validation_cutoff(first, week) == pd.Timestamp("2026-01-07 07:12")


def test_estimates_depend_on_sizes_only_and_order_the_models() -> None:
    small = {n: estimate_seconds(n, 4_000, 3_500, 230_000, 1_000) for n in ("itemknn", "ease", "lightgcn", "lm_gcn")}
    assert small == {n: estimate_seconds(n, 4_000, 3_500, 230_000, 1_000) for n in small}
    assert small["itemknn"] < small["ease"] < small["lightgcn"] < small["lm_gcn"]
    assert estimate_seconds("lightgcn", 40_000, 3_500, 2_300_000) > 5 * small["lightgcn"]


def test_the_planted_block_model_wins_validation_and_the_choice_repeats() -> None:
    rel = EventRelation.of_frame(block_log())
    config = BuildConfig(selection_budget_s=0.0)
    items = pd.Index(sorted(block_log()["item_id"].unique()))
    runs = [select_defaults(rel, config, items, None, candidates=["popularity", "itemknn"]) for _ in range(2)]
    first = runs[0]
    assert first["default"] == "itemknn" and first["chosen_by"] == "validation"
    recall = {r["model"]: r["recall@20"] for r in first["candidates"]}
    assert recall["itemknn"] > recall["popularity"]
    windows = first["validation"]["windows"]  # 60 shoppers: five tenths pooled (uig_core.build.validation)
    assert windows[0]["cutoff"] == "2026-03-31" and len(windows) == 5 and first["validation"]["users"] > 0
    assert first["validation"]["cutoff"] == windows[-1]["cutoff"]  # the pooled period starts at the earliest
    assert first["next_purchase"] is None  # purchases only: the next purchase is a discover question
    strip = lambda sel: [{k: v for k, v in r.items() if k != "fit_seconds"} for r in sel["candidates"]]  # noqa: E731
    assert strip(runs[0]) == strip(runs[1])


def test_a_budget_of_zero_skips_the_graph_networks_and_says_why() -> None:
    split = temporal_split(block_log(), "2026-03-31")
    rows = score_candidates(split, ["popularity", "lightgcn", "gfcf"], 0.0, 0, {}, lambda f, m: None)
    by = {r["model"]: r for r in rows}
    assert by["popularity"]["status"] == "fitted"
    for name in ("lightgcn", "gfcf"):
        assert by[name]["status"] == "skipped" and by[name]["recall@20"] is None
        assert "selection budget" in by[name]["reason"] and "--selection-budget" in by[name]["reason"]
        assert "(0.0 s)" not in by[name]["reason"]  # no "after the cheaper candidates" when none was admitted
        assert by[name]["estimated_s"] > 0


def test_the_budget_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="selection_budget_s"):
        BuildConfig(selection_budget_s=-1)


# ---------------------------------------------------------------------------------------------- a build
def uig(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "uig_core.cli.main", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def funnel_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("funnel_ws")
    log = root / "funnel.csv"
    funnel_log(n_users=60, new_items=True).to_csv(log, index=False)
    ws = str(root / "ws")
    done = uig("ingest", str(log), "--workspace", ws, "--name", "shop")
    assert done.returncode == 0, done.stderr
    built = uig("build", "--workspace", ws, "--dataset", "shop", "--selection-budget", "0", "--json")
    assert built.returncode == 0, built.stderr
    return Path(ws), json.loads(built.stdout)


def test_the_build_stores_both_tables_and_trains_both_defaults(funnel_ws) -> None:
    _, meta = funnel_ws
    sel = meta["selection"]
    assert set(sel) >= {"task", "budget_s", "default", "validation", "candidates", "next_purchase"}
    assert sel["task"] == "discover" and sel["budget_s"] == 0.0
    assert meta["default_model"] == sel["default"] == meta["default_models"]["discover"]
    row = sel["candidates"][0]
    assert set(row) >= {"model", "status", "reason", "estimated_s", "recall@20", "ndcg@20", "coverage", "gini"}
    skipped = [r for r in sel["candidates"] if r["model"] in ("lightgcn", "lm_gcn")]
    assert skipped and all(r["status"] == "skipped" for r in skipped)
    nxt = sel["next_purchase"]
    assert nxt["task"] == "next_purchase" and nxt["default"] == meta["default_models"]["next_purchase"]
    recall = {r["model"]: r["recall@20"] for r in nxt["candidates"]}
    assert nxt["default"] != "recent_unbought" and recall[nxt["default"]] > recall["recent_unbought"]
    assert nxt["default"] in meta["models"]


def test_build_output_prints_the_candidate_table(funnel_ws) -> None:
    ws, _ = funnel_ws
    out = uig("build", "--workspace", str(ws), "--dataset", "shop", "--selection-budget", "0")
    assert out.returncode == 0, out.stderr
    assert "discover default: " in out.stdout and "next_purchase default: " in out.stdout
    assert "recent_unbought" in out.stdout and "skipped: estimated" in out.stdout


def test_evaluate_next_purchase_json_and_recommend(funnel_ws) -> None:
    ws, meta = funnel_ws
    out = uig(
        "evaluate",
        "--workspace",
        str(ws),
        "--dataset",
        "shop",
        "--task",
        "next_purchase",
        "--json",
        "--cutoff",
        str((T0 + pd.Timedelta(days=20)).date()),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) >= {"protocol", "models", "default"}
    assert result["protocol"]["task"] == "next_purchase" and result["protocol"]["dataset"] == "shop"
    assert result["default"] == meta["default_models"]["next_purchase"]
    models = result["models"]
    assert models["recent_funnel"]["recall@20"] > models["recent_unbought"]["recall@20"]
    rec = uig("recommend", "u00", "--workspace", str(ws), "--dataset", "shop", "--task", "next_purchase", "--json")
    assert rec.returncode == 0, rec.stderr
    payload = json.loads(rec.stdout)
    assert payload["model"] == meta["default_models"]["next_purchase"] and payload["task"] == "next_purchase"
    discover = json.loads(uig("recommend", "u00", "--workspace", str(ws), "--dataset", "shop", "--json").stdout)
    assert discover["model"] == meta["default_model"]


def test_model_quality_shows_the_stored_tables(funnel_ws, monkeypatch) -> None:
    from conftest import page_app

    ws, meta = funnel_ws
    monkeypatch.setenv("UIG_WORKSPACE", str(ws))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    at = page_app("model_quality").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [d.value for d in at.dataframe if {"model", "status", "reason"} <= set(map(str, d.value.columns))]
    assert len(shown) == 2
    assert shown[0].loc[shown[0]["default"], "model"].tolist() == [meta["default_models"]["discover"]]
    assert "recent_unbought" in set(shown[1]["model"])
    assert at.button(key="quality_run").label == "Run the evaluation"


@pytest.mark.slow
def test_the_demo_next_purchase_default_beats_the_baseline_on_test(demo_ws) -> None:
    """On the demo shop (view → click → cart → purchase sessions) the chosen next-purchase model beats the
    "viewed, not bought" baseline on the 30-day test split, not only on the build's validation split."""
    from uig_core.build.layout import read_meta
    from uig_core.evaluation.run import evaluate_dataset

    meta = read_meta(demo_ws.build_dir("demo"))
    chosen = meta["default_models"]["next_purchase"]
    assert chosen and chosen != "recent_unbought" and chosen in meta["models"]
    result = evaluate_dataset(demo_ws, "demo", task="next_purchase", names=["recent_unbought", chosen])
    assert result["protocol"]["task"] == "next_purchase" and result["default"] == chosen
    models = result["models"]
    assert models[chosen]["recall@20"] > models["recent_unbought"]["recall@20"] + 0.05


def test_recommendations_page_binds_the_user_to_the_url_and_serves_next_purchase(funnel_ws, monkeypatch) -> None:
    from conftest import page_app, table

    ws, meta = funnel_ws
    monkeypatch.setenv("UIG_WORKSPACE", str(ws))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    at = page_app("recommendations")
    at.query_params["user"] = "u05"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="rec_user").value == "u05"
    assert any("default for next purchase" in c.value for c in at.caption)
    nxt = meta["default_models"]["next_purchase"]
    at.selectbox(key="rec_model").set_value(nxt)
    at.selectbox(key="rec_hide").set_value("purchased").run()
    assert not at.exception, [e.value for e in at.exception]
    log = funnel_log(n_users=60, new_items=True)
    mine = log[log["user_id"] == "u05"]
    bought = set(mine.loc[mine["event"] == "purchase", "item_id"])
    viewed_only = set(mine["item_id"]) - bought
    shown = set(table(at, "reason")["item_id"])
    assert len(shown & viewed_only) >= 5  # viewed, not bought: the next-purchase candidates come back
    assert not shown & bought  # only what was bought is left out
