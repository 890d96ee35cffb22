"""Portraits that tell a story: the interest timeline over a user's whole history (weekly or monthly by span, real
dates), the drift on it, and the summary line — on Online Retail (customer 17850, whose chart was an empty one
with an axis in fractions of a second) and on the demo's planted drifters and bots.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from uig_core.demo.generator import DEMO_DIR, load_ground_truth
from uig_core.queries.portrait import portrait
from uig_core.queries.story import ago, spend_tier, timeline_freq

# ``or_workspace`` (Online Retail, built with the popularity model) is a session fixture of conftest.py.


def test_customer_17850_timeline_has_weeks_with_dates(or_workspace):
    """17850 bought 297 lines on 1–2 Dec 2010 and returned 12 on 10 Feb 2011 (the raw log has nothing else): the
    timeline must span those eleven weeks, not collapse into the one week of purchases."""
    from uig_app.portrait_charts import timeline_figure

    data = portrait(or_workspace, "online_retail", "17850", recent=5, similar=0)
    tl = data["timeline"]
    assert tl["freq"] == "week"
    weeks = pd.to_datetime(tl["periods"])
    assert len(weeks) >= 10
    assert weeks[0] == pd.Timestamp("2010-11-29") and weeks[-1] == pd.Timestamp("2011-02-07")
    assert (weeks.day_of_week == 0).all() and (weeks.to_series().diff().dropna() == pd.Timedelta(days=7)).all()
    rows = pd.DataFrame(tl["rows"])
    per_week = rows.groupby("period")["share"].agg(["size", "sum"])
    assert len(per_week) >= 10  # every week of the span holds a value for each interest (0 when silent)
    assert per_week["size"].nunique() == 1
    assert per_week.loc["2010-11-29", "sum"] == pytest.approx(1.0, abs=1e-3)
    activity = {a["period"]: a for a in tl["activity"]}
    assert activity["2010-11-29"]["weighted"] == 297 and activity["2011-02-07"]["returns"] == 12
    assert sum(a["events"] > 0 for a in activity.values()) == 2  # what the log holds: two active weeks
    fig = timeline_figure(tl, data["change_date"])
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert fig.layout.xaxis.type == "date" and (hi - lo).days >= 70  # an axis of weeks, not of milliseconds
    assert "12 returns" in data["story"] and "last seen 10 months ago" in data["story"]


def test_a_long_history_reads_month_by_month(or_workspace):
    data = portrait(or_workspace, "online_retail", "12748", recent=1, similar=0)
    tl = data["timeline"]
    assert tl["freq"] == "month"
    assert tl["periods"][0] == "2010-12-01" and tl["periods"][-1] == "2011-12-01" and len(tl["periods"]) == 13
    assert "active on the log's last day" in data["story"]


def _interest_themes(demo_ws) -> dict[int, str]:
    """The planted theme most of each interest's items carry."""
    from uig_core.build.bundle import Bundle

    truth = load_ground_truth(DEMO_DIR)
    items = Bundle.load(demo_ws, "demo").items
    votes: dict[int, Counter] = {}
    for item, interest in zip(items["item_id"].astype(str), items["interest_id"], strict=True):
        if item in truth["items"]:
            votes.setdefault(int(interest), Counter())[truth["items"][item]["theme"]] += 1
    return {i: c.most_common(1)[0][0] for i, c in votes.items()}


def test_drifters_story_names_the_planted_move(demo_ws):
    truth = load_ground_truth(DEMO_DIR)
    themes = _interest_themes(demo_ws)
    from uig_core.build.bundle import Bundle

    names = Bundle.load(demo_ws, "demo").interest_names
    by_name = {str(n): themes.get(int(i)) for i, n in names.items()}
    right = total = 0
    for drifter in truth["drifters"][:25]:
        data = portrait(demo_ws, "demo", drifter["user_id"], recent=1, similar=0)
        if not data["change_date"]:
            continue
        total += 1
        before, after = truth["users"][drifter["user_id"]]["themes"][:2]
        month = pd.Timestamp(data["change_date"]).strftime("%B %Y")
        story = data["story"]
        assert f"since {month}" in story, story
        quoted = [part.split("”")[0] for part in story.split("“")[1:]]
        right += by_name.get(quoted[0]) == after and by_name.get(quoted[1]) == before
        periods = data["timeline"]["periods"]
        assert periods[0] <= data["change_date"] <= periods[-1]  # the drift line falls on the chart
    assert total >= 20 and right >= 0.8 * total, (right, total)


def test_bots_and_searchers_say_so(demo_ws):
    truth = load_ground_truth(DEMO_DIR)
    flagged = [portrait(demo_ws, "demo", b, recent=1, similar=0) for b in truth["bots"][:5]]
    assert sum("flagged as bot-like" in p["story"] for p in flagged) >= 4
    with demo_ws.connect() as con:
        table = demo_ws.dataset("demo").table
        row = con.execute(
            f"SELECT user_id, count(*) FROM {table} WHERE event = 'search' GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    if row is None:
        pytest.skip("this demo log has no search events")
    data = portrait(demo_ws, "demo", str(row[0]), recent=1, similar=0)
    assert sum(a["searches"] for a in data["timeline"]["activity"]) == row[1]
    assert f"{row[1]:,} search" in data["story"]


def test_spend_tier_recency_and_span_words():
    users = pd.DataFrame({"spend": [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]})
    assert [spend_tier(users, s) for s in (0.0, 10.0, 30.0, 60.0)] == ["none", "low", "medium", "high"]
    end = pd.Timestamp("2011-12-09")
    assert ago(pd.Timestamp("2011-12-09 08:00"), end) == "active on the log's last day"
    assert ago(pd.Timestamp("2011-12-06"), end) == "last seen 3 days ago"
    assert ago(pd.Timestamp("2011-11-18"), end) == "last seen 3 weeks ago"
    assert ago(pd.Timestamp("2011-02-10"), end) == "last seen 10 months ago"
    assert timeline_freq(pd.Timestamp("2011-01-01"), pd.Timestamp("2011-06-30")) == "W"
    assert timeline_freq(pd.Timestamp("2011-01-01"), pd.Timestamp("2011-07-31")) == "M"
