"""Drift (change-point Jensen–Shannon, change date, weekly timeline) and anomaly (bot) scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uig_core.errors import ConfigError, UnknownId
from uig_core.signals.dating import change_days
from uig_core.signals.drift import DRIFT_THRESHOLD, drift_scores, js_divergence
from uig_core.signals.risk import ANOMALY_THRESHOLD, FEATURES, anomaly_score_of, anomaly_scores
from uig_core.signals.timeline import interest_timeline, window_profiles

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo_data"


# ------------------------------------------------------------------------------------------------ helpers
def js_ok():
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    q = np.array([[0.0, 1.0], [0.5, 0.5], [0.8, 0.2]])
    return js_divergence(p, q)


def test_js_divergence_bounds():
    out = js_ok()
    assert out[0] == pytest.approx(1.0)
    assert out[1] == pytest.approx(0.0)
    assert 0.0 < out[2] < 1.0


def planted_drift(seed: int = 0) -> tuple[pd.DataFrame, pd.Series, dict[str, pd.Timestamp]]:
    """30 steady users over 2 interests mixed, 3 drifters switching from interest 0 to 1 on a known day."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    changes = {}
    items = {f"i{k}{j}": k for k in range(3) for j in range(5)}
    by_interest = {k: [i for i, v in items.items() if v == k] for k in range(3)}
    for u in range(33):
        uid = f"u{u:02d}"
        days = np.sort(rng.choice(90, size=24, replace=False))
        change = 40 + u % 10 if u >= 30 else None
        if change is not None:
            changes[uid] = start + pd.Timedelta(days=change)
            days = np.r_[np.arange(change - 24, change, 2), np.arange(change, change + 24, 2)]
        for d in days:
            if change is not None:
                k = 0 if d < change else 1
            else:
                k = int(rng.choice(3, p=[0.5, 0.3, 0.2]))
            for _ in range(3):
                ts = start + pd.Timedelta(days=int(d), minutes=int(rng.integers(600, 1200)))
                rows.append((uid, rng.choice(by_interest[k]), rng.choice(["view", "click", "purchase"]), ts))
    ev = pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts"])
    return ev, pd.Series(items), changes


# ------------------------------------------------------------------------------------------------ drift
def test_planted_drifters_rank_first_with_their_change_date():
    ev, ii, changes = planted_drift()
    d = drift_scores(ev, ii)
    assert list(d.columns) == ["user_id", "drift_score", "change_date", "change_earliest", "change_latest", "n_days"]
    assert set(d["user_id"].head(3)) == set(changes)
    assert d["drift_score"].between(0, 1).all()
    for uid, when in changes.items():
        row = d.set_index("user_id").loc[uid]
        assert row.change_earliest <= when <= row.change_latest
        assert abs((row.change_date - when).days) <= 1
    assert d["drift_score"].iloc[3] < 0.75 * d["drift_score"].iloc[2]  # steady users: max-split noise only


def test_drift_needs_evidence_on_both_sides():
    ev = pd.DataFrame(
        {
            "user_id": ["a"] * 6,
            "item_id": ["x", "x", "x", "x", "x", "y"],
            "event": ["view"] * 6,
            "ts": pd.to_datetime(["2024-01-01"] * 5 + ["2024-03-01"]),
        }
    )
    d = drift_scores(ev, pd.Series({"x": 0, "y": 1}))
    assert d.loc[0, "drift_score"] == 0.0 and pd.isna(d.loc[0, "change_date"])
    with pytest.raises(ConfigError, match="min_days"):
        drift_scores(ev, pd.Series({"x": 0}), min_days=0)
    with pytest.raises(ConfigError, match="threshold"):
        drift_scores(ev, pd.Series({"x": 0}), threshold=0)


def assert_dated_exactly_when_significant(d: pd.DataFrame, threshold: float = DRIFT_THRESHOLD) -> None:
    significant = d["drift_score"] >= threshold
    for col in ("change_date", "change_earliest", "change_latest"):
        assert (d[col].notna() == significant).all(), col


def test_a_change_date_only_where_drift_is_significant():
    ev, ii, changes = planted_drift()
    d = drift_scores(ev, ii)
    assert_dated_exactly_when_significant(d)
    dated = set(d.loc[d["change_date"].notna(), "user_id"])
    # the planted drifters, and at most one of the 30 steady users (the best of 23 noisy splits can reach 0.35)
    assert dated >= set(changes) and len(dated - set(changes)) <= 1
    # a split that qualifies but moves nothing: the same mix on both sides scores ~0 and carries no date
    steady = planted_drift()[0]
    steady = steady[steady["user_id"] == "u00"].assign(item_id="i00")
    one = drift_scores(steady, ii)
    assert one.loc[0, "drift_score"] < 1e-9 and pd.isna(one.loc[0, "change_date"])
    lower = drift_scores(ev, ii, threshold=0.01)
    assert_dated_exactly_when_significant(lower, 0.01)
    assert lower["change_date"].notna().sum() > len(changes)


def test_a_wide_bracket_is_dated_where_the_narrow_ones_agree():
    lo, hi = np.array([40, 41, 39, 0, 10]), np.array([41, 41, 40, 90, 90])
    days = change_days(lo, hi, np.ones(5), date_prior=True)
    assert days[:3].tolist() == [41, 41, 40] and days[3] in (40, 41) and days[4] in (40, 41)
    assert change_days(lo, hi, np.ones(5), date_prior=False).tolist() == [40, 41, 39, 45, 50]


def test_midpoint_dating_without_prior():
    ev, ii, changes = planted_drift()
    d = drift_scores(ev, ii, date_prior=False).set_index("user_id")
    for uid in changes:
        row = d.loc[uid]
        mid = row.change_earliest + (row.change_latest - row.change_earliest) / 2
        assert abs((row.change_date - mid).days) <= 1


def test_timeline_weekly_shares_and_unknown_user():
    ev, ii, changes = planted_drift()
    uid = next(iter(changes))
    tl = interest_timeline(ev, ii, uid)
    assert tl.index.name == "window_start" and (tl.index.day_of_week == 0).all()  # weeks start Monday
    assert (np.diff(tl.index.values).astype("timedelta64[D]").astype(int) == 7).all()  # no week missing
    sums = tl.sum(axis=1)
    assert np.allclose(sums[sums > 0], 1.0)
    when = changes[uid]
    before = tl[tl.index < when - pd.Timedelta(days=7)]
    after = tl[tl.index > when]
    assert (before.get(1, 0) == 0).all() and (after.get(0, 0) == 0).all()
    weights = interest_timeline(ev, ii, uid, normalize=False)
    assert weights.to_numpy().sum() > tl.to_numpy().sum()
    with pytest.raises(UnknownId, match="nobody"):
        interest_timeline(ev, ii, "nobody")
    long = window_profiles(ev, ii, freq="D")
    assert np.allclose(long.groupby(["user_id", "window_start"])["share"].sum(), 1.0)
    with pytest.raises(ConfigError, match="period alias"):
        window_profiles(ev, ii, freq="fortnight")


# ------------------------------------------------------------------------------------------------ risk
def planted_bot() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for u in range(40):
        for _session in range(6):
            t = start + pd.Timedelta(days=int(rng.integers(0, 60)), hours=int(rng.integers(8, 22)))
            for j in range(4):
                t += pd.Timedelta(minutes=int(rng.integers(1, 5)))
                rows.append((f"h{u:02d}", f"i{rng.integers(50)}", "view", t))
                if j == 0:
                    rows.append((f"h{u:02d}", f"i{rng.integers(50)}", "cart", t + pd.Timedelta(minutes=1)))
    t = start + pd.Timedelta(days=10, hours=3)
    for j in range(400):  # a view flood at 3 a.m., several views a second, no cart
        rows.append(("bot", f"i{rng.integers(50)}", "view", t + pd.Timedelta(seconds=j // 3)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event", "ts"])


def assert_reason_exactly_when_flagged(r: pd.DataFrame) -> None:
    flagged = r["anomaly_score"] >= ANOMALY_THRESHOLD
    assert ((r["anomaly_reason"].fillna("") != "") == flagged).all()


def test_planted_bot_scores_top_with_a_reason():
    r = anomaly_scores(planted_bot())
    assert list(r.columns) == ["user_id", "anomaly_score", "anomaly_z", "anomaly_reason", "n_events", *FEATURES]
    assert r.loc[0, "user_id"] == "bot"
    assert r.loc[0, "anomaly_score"] > 0.7 > r.loc[1, "anomaly_score"]
    assert r["anomaly_score"].between(0, 1).all()
    assert_reason_exactly_when_flagged(r)
    assert (r["anomaly_score"].iloc[1:] < ANOMALY_THRESHOLD).all()  # ordinary users: no flag, no reason
    # the reason names the two features the score is made of, strongest first: 3 views a second, no cart
    assert r.loc[0, "anomaly_reason"] == (
        "100% of actions seconds apart (typical: 7%); 400 views per cart or purchase (typical: 3.4)"
    )
    assert (r["anomaly_score"].median(), anomaly_score_of(np.array([3.0]))[0]) == (0.0, ANOMALY_THRESHOLD)


def wholesale_and_returns() -> pd.DataFrame:
    """40 retail buyers; a wholesaler of big repeat invoices; one who buys and returns everything."""
    rng = np.random.default_rng(1)
    rows = []
    start = pd.Timestamp("2024-01-01 09:00")
    for u in range(40):
        for o in range(int(rng.integers(2, 8))):
            t = start + pd.Timedelta(days=int(rng.integers(0, 300)), hours=int(rng.integers(0, 8)))
            for _ in range(int(rng.integers(1, 12))):
                rows.append((f"r{u:02d}", f"i{rng.integers(300)}", "purchase", t, f"r{u}-{o}", 2.0))
        if u % 4 == 0:  # a quarter return a line now and then
            rows.append((f"r{u:02d}", rows[-1][1], "return", rows[-1][3] + pd.Timedelta(days=3), f"c{u}", -1.0))
    for o in range(40):  # the wholesaler: the same 300 lines, one invoice a week, the best seller in every one
        t = start + pd.Timedelta(days=7 * o)
        for j in range(300):
            rows.append(("wholesale", f"i{j}", "purchase", t, f"w{o}", 48.0))
    t = start + pd.Timedelta(days=100)
    rows += [("returner", "i7", "purchase", t, "x1", 500.0), ("returner", "i7", "return", t, "x2", -500.0)]
    cols = ["user_id", "item_id", "event", "ts", "order_id", "quantity"]
    return pd.DataFrame(rows, columns=cols).assign(price=1.5)


def test_wholesale_is_a_norm_and_returning_everything_a_flag():
    r = anomaly_scores(wholesale_and_returns()).set_index("user_id")
    assert_reason_exactly_when_flagged(r.reset_index())
    assert r.loc["wholesale", "anomaly_score"] < ANOMALY_THRESHOLD  # 300-line invoices are one action each
    assert r.loc["wholesale", "peak_hour_actions"] == 1 and r.loc["wholesale", "max_item_views"] == 0
    assert r.loc["returner", "returned_share"] == 1.0
    assert r.loc["returner", "anomaly_score"] >= ANOMALY_THRESHOLD
    assert r.loc["returner", "anomaly_reason"].startswith("returned 100% of the units bought")
    assert set(r.index[r["anomaly_score"] >= ANOMALY_THRESHOLD]) == {"returner"}


def test_risk_without_event_or_ts_columns():
    ev = planted_bot()[["user_id", "item_id"]]
    r = anomaly_scores(ev)
    assert r.loc[0, "user_id"] == "bot"  # volume on one user still stands out via repetition
    assert (r["peak_hour_actions"] == 0).all() and (r["returned_share"] == 0).all()
    assert anomaly_scores(ev.iloc[:0]).empty
    with pytest.raises(ConfigError, match="rapid_seconds"):
        anomaly_scores(ev, rapid_seconds=0)


# ------------------------------------------------------------------------------------------------ demo data
@pytest.fixture(scope="module")
def demo():
    if not (DEMO / "events.csv.gz").exists():
        pytest.skip("demo_data/ absent (run `uig demo`)")
    raw = pd.read_csv(DEMO / "events.csv.gz", dtype={"user_id": "string", "item_id": "string", "order_id": "string"})
    ev = raw.rename(columns={"event_type": "event", "timestamp": "ts", "title": "item_title"})
    ev["ts"] = pd.to_datetime(ev["ts"])
    truth = json.loads((DEMO / "ground_truth.json").read_text())
    return ev, truth


def check_drifters(d: pd.DataFrame, truth: dict) -> tuple[float, float]:
    top = set(d["user_id"].head(int(0.10 * len(d))))
    planted = pd.DataFrame(truth["drifters"])
    planted["change_date"] = pd.to_datetime(planted["change_date"])
    m = planted.merge(d, on="user_id", suffixes=("_true", ""))
    assert len(m) == len(planted)
    ranked = m["user_id"].isin(top)
    dated = (m["change_date"] - m["change_date_true"]).dt.days.abs() <= 7
    return float(ranked.mean()), float((ranked & dated).mean())


def test_demo_drifters_with_planted_themes(demo):
    ev, truth = demo
    themes = pd.Series({i: v["theme"] for i, v in truth["items"].items()}).astype("category").cat.codes
    d = drift_scores(ev, themes)
    ranked, both = check_drifters(d, truth)
    assert ranked >= 0.9 and both >= 0.9, (ranked, both)
    assert_dated_exactly_when_significant(d)
    dated = set(d.loc[d["change_date"].notna(), "user_id"])
    planted = {p["user_id"] for p in truth["drifters"]}
    assert len(planted & dated) >= 0.9 * len(planted) and len(dated - planted) <= 0.05 * len(d)


@pytest.mark.slow
def test_demo_drifters_with_found_interests(demo, tmp_path_factory):
    from uig_core.semantics.embeddings import Embedder, item_texts
    from uig_core.semantics.interests import find_interests

    ev, truth = demo
    items = (
        ev.groupby("item_id", sort=True)
        .agg(title=("item_title", "first"), category=("category", "first"))
        .reset_index()
    )
    texts, has = item_texts(items)
    x = Embedder(cache_dir=tmp_path_factory.getbasetemp() / "uig-embedding-cache").embed(texts)
    found = find_interests(items["item_id"].to_numpy(), texts, x, has_text=has)
    ranked, both = check_drifters(drift_scores(ev, found.item_interest()), truth)
    assert ranked >= 0.9 and both >= 0.9, (ranked, both)


def test_demo_bots_in_top_two_percent(demo):
    ev, truth = demo
    r = anomaly_scores(ev)
    top = set(r["user_id"].head(int(np.ceil(0.02 * len(r)))))
    bots = set(truth["bots"])
    assert len(bots & top) >= 0.9 * len(bots), len(bots & top)
    assert (r.loc[r["user_id"].isin(bots), "anomaly_reason"] != "").all()
    assert_reason_exactly_when_flagged(r)
    flagged = set(r.loc[r["anomaly_score"] >= ANOMALY_THRESHOLD, "user_id"])
    assert len(flagged - bots) <= 0.01 * len(r)  # shoppers browsing and buying are not flagged


def test_every_demo_user_of_the_build_agrees(demo_ws):
    """The stored users table: a reason exactly when flagged, a change date exactly when drift is significant."""
    from uig_core.build.bundle import Bundle

    users = Bundle.load(demo_ws, "demo").users
    assert_reason_exactly_when_flagged(users)
    assert_dated_exactly_when_significant(users)
    assert users["change_date"].notna().any() and (users["anomaly_score"] >= ANOMALY_THRESHOLD).any()
