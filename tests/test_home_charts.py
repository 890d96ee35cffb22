"""Home answers "what is going on in this shop": events over time by type, the interest landscape with its trend
(new, rising, falling interests found on a log with planted ones), the default model's validation Recall@20, the
upload's data quality, and a subtitle that names what really runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import page_app

from uig_core.queries.trends import bucket_unit, interest_trends
from uig_core.store.relation import EventRelation


def _planted_log() -> tuple[pd.DataFrame, pd.DataFrame]:
    """200 days; interest 0 steady all along, 1 only in the last 40 days (new), 2 stops at day 130, 3 triples late."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for day in range(200):
        ts = start + pd.Timedelta(days=day, hours=12)
        late = day >= 160
        counts = {0: 20, 1: 10 if late else 0, 2: 0 if day >= 130 else 15, 3: 12 if late else 4}
        for interest, n in counts.items():
            for _ in range(n):
                rows.append((f"u{rng.integers(50)}", f"i{interest}_{rng.integers(5)}", "view", ts))
    rows.append(("u0", "i0_0", "return", start + pd.Timedelta(days=199)))  # a return weighs nothing
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts"])
    items = pd.DataFrame({"item_id": [f"i{i}_{k}" for i in range(4) for k in range(5)]})
    items["interest_id"] = items["item_id"].str[1].astype(int)
    return events, items


def test_interest_trends_find_the_planted_new_rising_and_falling():
    events, items = _planted_log()
    first, last = events["ts"].min(), events["ts"].max()
    unit = bucket_unit(first, last)
    assert unit == "week"
    names = {0: "steady", 1: "newcomer", 2: "fading", 3: "grower"}
    out = interest_trends(EventRelation.of_frame(events), items, names, unit=unit, first=first, last=last)
    assert out["recent_days"] == 50  # a quarter of the 199-day span
    table = out["table"].set_index("name")
    assert abs(table["share"].sum() - 1) < 1e-9
    assert table.loc["newcomer", "status"] == "new"
    assert table.loc["grower", "status"] == "rising"
    assert table.loc["fading", "status"] == "falling" and table.loc["fading", "recent_share"] == 0
    assert table.loc["steady", "status"] in {"steady", "falling"}  # its share shrinks as others grow
    assert [s["name"] for s in out["rising_series"]] == ["newcomer", "grower"]  # largest gain first
    series = out["series"]
    assert np.allclose(series.groupby("bucket")["share"].sum(), 1.0)


def test_bucket_follows_the_span():
    t = pd.Timestamp("2024-01-01")
    assert bucket_unit(t, t + pd.Timedelta(days=90)) == "day"
    assert bucket_unit(t, t + pd.Timedelta(days=400)) == "week"
    assert bucket_unit(t, t + pd.Timedelta(days=2000)) == "month"


def test_home_view_on_the_demo(demo_ws):
    from uig_core.build import layout
    from uig_core.queries.home import home_view

    info = demo_ws.dataset("demo")
    view = home_view(demo_ws, info)
    events = view["trends"]["events"]
    ov = demo_ws.overview("demo")
    assert events.sum().to_dict() == ov["events_by_type"]  # every event counted once, by its type
    assert view["trends"]["unit"] == "day"
    meta = layout.read_meta(demo_ws.build_dir("demo"))
    model = view["model"]
    assert model["name"] == meta["default_model"] and model["recall"] is not None
    assert model["name"] in view["subtitle"] and "GNN" not in view["subtitle"]
    landscape = view["trends"]["interests"]
    assert len(landscape["table"]) == view["interests"]
    assert abs(landscape["table"]["share"].sum() - 1) < 1e-9
    upload = view["upload"]
    assert upload["rows_read"] >= upload["rows_accepted"] == ov["events"]


def test_home_page_draws_its_charts_and_the_model(demo_workspace, monkeypatch):
    monkeypatch.setenv("UIG_WORKSPACE", str(demo_workspace))
    monkeypatch.delenv("UIG_PASSWORD", raising=False)
    at = page_app("home")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) >= 2
    metrics = {m.label: m.value for m in at.metric}
    recall = next(v for k, v in metrics.items() if k.startswith("Recall@20"))
    assert recall not in {"—", "not measured"} and 0 < float(recall) <= 1
    assert any("recommendations by" in c.value and "GNN" not in c.value for c in at.caption)
