"""Newcomers whose items are all new: recommendations by meaning, never an arbitrary (id) order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_workspace

from uig_core.queries.cold_start import needs_meaning

REPO = Path(__file__).resolve().parents[1]


def test_a_tied_or_empty_ranking_needs_meaning():
    assert needs_meaning(np.zeros(10))
    assert needs_meaning(np.full(5, 0.3))  # every item tied
    assert needs_meaning(np.array([-1.0, -2.0]))
    assert not needs_meaning(np.array([0.9, 0.5, 0.0]))
    assert not needs_meaning(np.array([]))


def newcomer_batch(n_users: int = 40, seed: int = 3) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """New users who each touch 3–4 brand-new items of one planted theme (titles borrowed from that theme)."""
    truth = json.loads((REPO / "demo_data" / "ground_truth.json").read_text())
    log = pd.read_csv(REPO / "demo_data" / "events.csv.gz")
    titles = log.drop_duplicates("item_id").set_index("item_id")["title"]
    by_theme: dict[str, list[str]] = {}
    for item, info in truth["items"].items():
        if item in titles.index:
            by_theme.setdefault(info["theme"], []).append(item)
    rng = np.random.default_rng(seed)
    themes = sorted(by_theme)
    rows, user_theme, item_theme = [], {}, {}
    when = pd.Timestamp(log["timestamp"].max()) + pd.Timedelta(hours=1)
    for u in range(n_users):
        theme = themes[u % len(themes)]
        user = f"NEWU{u:03d}"
        user_theme[user] = theme
        for j, src in enumerate(rng.choice(by_theme[theme], size=int(rng.integers(3, 5)), replace=False)):
            item = f"NEW{u:03d}{j}"
            item_theme[item] = theme
            for event in ("view", "purchase") if j == 0 else ("view",):
                rows.append((user, item, event, when + pd.Timedelta(minutes=len(rows)), f"{titles[src]} (new)"))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp", "title"])
    return frame, user_theme, {**{i: v["theme"] for i, v in truth["items"].items()}, **item_theme}


@pytest.mark.slow
def test_newcomers_get_their_themes_after_an_append(demo_workspace, tmp_path):
    from uig_core.build.bundle import Bundle
    from uig_core.cli.main import main
    from uig_core.store.workspace import Workspace

    root = copy_workspace(demo_workspace, tmp_path / "ws")
    batch, user_theme, item_theme = newcomer_batch()
    path = tmp_path / "newcomers.csv"
    batch.to_csv(path, index=False)
    assert main(["ingest", str(path), "--append-to", "demo", "--workspace", str(root)]) == 0
    bundle = Bundle.load(Workspace(root), "demo")
    good = 0
    for user, theme in user_theme.items():
        recs = bundle.recommend(user, k=10)
        ids = [r["item_id"] for r in recs]
        assert len(ids) == 10 and ids != sorted(ids)  # never an id-ordered list
        assert all(r["reason"] for r in recs)
        good += sum(item_theme.get(i) == theme for i in ids) >= 5
    assert good >= 0.8 * len(user_theme)
