"""Tests of the seeded demo generator: determinism, funnel shape, and the planted structure it promises."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

import uig_core.demo.generator as demo
from uig_core.demo.generator import (
    CSV_COLUMNS,
    DEMO_DIR,
    END_DATE,
    EVENTS_FILE,
    GROUND_TRUTH_FILE,
    THEMES,
    ensure_demo_data,
    generate,
    load_ground_truth,
)
from uig_core.errors import ConfigError

SMALL = {"seed": 3, "n_users": 200, "n_items": 144, "days": 60}
FUNNEL = ("view", "click", "cart", "purchase")


def read_rows(folder: Path) -> list[dict[str, str]]:
    with gzip.open(folder / EVENTS_FILE, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[dict[str, str]], dict]:
    folder = tmp_path_factory.mktemp("demo_small")
    summary = generate(folder, **SMALL)
    return folder, summary, read_rows(folder), load_ground_truth(folder)


def ts(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S")


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", **SMALL)
    generate(tmp_path / "b", **SMALL)
    generate(tmp_path / "c", **{**SMALL, "seed": 4})
    for name in (EVENTS_FILE, GROUND_TRUTH_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / EVENTS_FILE).read_bytes() != (tmp_path / "c" / EVENTS_FILE).read_bytes()
    assert not [p for p in (tmp_path / "a").iterdir() if p.name not in (EVENTS_FILE, GROUND_TRUTH_FILE)]
    # committed, shared data files: readable by everyone, not mkstemp's private 0600
    assert {(tmp_path / "a" / name).stat().st_mode & 0o777 for name in (EVENTS_FILE, GROUND_TRUTH_FILE)} == {0o644}


def test_summary_and_columns(small) -> None:
    folder, summary, rows, truth = small
    with gzip.open(folder / EVENTS_FILE, "rt", encoding="utf-8") as f:
        assert f.readline().strip() == ",".join(CSV_COLUMNS)
    assert summary["rows"] == len(rows)
    assert summary["events"] == {e: sum(r["event_type"] == e for r in rows) for e in FUNNEL}
    assert (summary["bots"], summary["drifters"], summary["cold_items"]) == (2, 10, 7)
    assert summary["end"] == END_DATE.isoformat()
    assert list(truth) == ["items", "users", "drifters", "bots", "cold_items"]


def test_row_formats(small) -> None:
    _, summary, rows, _ = small
    start = datetime.fromisoformat(summary["start"])
    end = datetime.combine(END_DATE, datetime.max.time())
    for row in rows:
        assert re.fullmatch(r"U\d{5}", row["user_id"]) and re.fullmatch(r"P\d{5}", row["item_id"])
        assert row["event_type"] in FUNNEL
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:00", row["timestamp"])
        assert start <= ts(row) <= end
        assert row["title"] and " > " in row["category"] and float(row["price"]) > 0
        if row["event_type"] == "purchase":
            assert int(row["quantity"]) >= 1 and re.fullmatch(r"O\d+", row["order_id"])
        else:
            assert row["quantity"] == "" and row["order_id"] == ""
    assert [ts(r) for r in rows] == sorted(ts(r) for r in rows)


def test_funnel_is_consistent(small) -> None:
    _, _, rows, _ = small
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    first: dict[tuple[str, str, str], datetime] = {}
    for row in rows:
        key = (row["user_id"], row["item_id"])
        counts[key][row["event_type"]] += 1
        first.setdefault((*key, row["event_type"]), ts(row))
    for key, c in counts.items():
        assert c["view"] >= c["click"] >= c["cart"] >= c["purchase"], key
        for earlier, later in zip(FUNNEL, FUNNEL[1:], strict=False):
            if (*key, later) in first:
                assert first[(*key, earlier)] <= first[(*key, later)], (key, earlier, later)
    totals = Counter(r["event_type"] for r in rows)
    assert totals["view"] > totals["click"] > totals["cart"] > totals["purchase"] > 0
    # One order = one user at one minute.
    orders: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in rows:
        if row["order_id"]:
            orders[row["order_id"]].add((row["user_id"], row["timestamp"]))
    assert all(len(v) == 1 for v in orders.values())


def test_ground_truth_ids_match_the_log(small) -> None:
    _, _, rows, truth = small
    users = {r["user_id"] for r in rows}
    items = {r["item_id"] for r in rows}
    assert set(truth["users"]) == users and len(users) == SMALL["n_users"]
    assert set(truth["items"]) == items and len(items) == SMALL["n_items"]
    keys = {t.key for t in THEMES}
    assert {v["theme"] for v in truth["items"].values()} == keys
    assert {d["user_id"] for d in truth["drifters"]} <= users
    assert set(truth["bots"]) <= users and set(truth["cold_items"]) <= items
    for user, value in truth["users"].items():
        themes = value["themes"]
        assert set(themes) <= keys and len(set(themes)) == len(themes)
        assert (themes == []) == (user in truth["bots"])


def test_users_stay_in_their_themes(small) -> None:
    _, _, rows, truth = small
    drifters = {d["user_id"] for d in truth["drifters"]}
    inside = [
        truth["items"][r["item_id"]]["theme"] in truth["users"][r["user_id"]]["themes"]
        for r in rows
        if r["user_id"] not in drifters and r["user_id"] not in truth["bots"]
    ]
    assert sum(inside) / len(inside) > 0.9


def test_drifters_switch_theme_at_the_change_date(small) -> None:
    _, summary, rows, truth = small
    start = date.fromisoformat(summary["start"])
    by_user: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_user[row["user_id"]].append(row)
    for drifter in truth["drifters"]:
        change = date.fromisoformat(drifter["change_date"])
        assert start + timedelta(days=0.35 * SMALL["days"]) <= change <= start + timedelta(days=0.65 * SMALL["days"])
        before, after = truth["users"][drifter["user_id"]]["themes"]
        assert before != after
        themes = [(ts(r).date() < change, truth["items"][r["item_id"]]["theme"]) for r in by_user[drifter["user_id"]]]
        pre = [t for is_pre, t in themes if is_pre]
        post = [t for is_pre, t in themes if not is_pre]
        assert len(pre) >= 6 and len(post) >= 6
        assert set(pre) == {before} and set(post) == {after}


def test_bots_flood_views_and_do_not_buy(small) -> None:
    _, _, rows, truth = small
    views = Counter(r["user_id"] for r in rows if r["event_type"] == "view")
    humans = sorted(v for u, v in views.items() if u not in truth["bots"])
    median = humans[len(humans) // 2]
    for bot in truth["bots"]:
        assert views[bot] >= 200 and views[bot] > 5 * median
    assert not [r for r in rows if r["user_id"] in truth["bots"] and r["event_type"] in ("cart", "purchase")]


def test_cold_items_appear_only_in_the_last_14_days(small) -> None:
    _, _, rows, truth = small
    first: dict[str, datetime] = {}
    for row in rows:
        first.setdefault(row["item_id"], ts(row))
    window = datetime.combine(END_DATE - timedelta(days=13), datetime.min.time())
    cold = set(truth["cold_items"])
    assert cold and all(first[i] >= window for i in cold)
    assert all(first[i] < window for i in first if i not in cold)


def test_bad_sizes_raise_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="n_users"):
        generate(tmp_path, n_users=5)
    with pytest.raises(ConfigError, match="n_items"):
        generate(tmp_path, n_items=10)
    with pytest.raises(ConfigError, match="days"):
        generate(tmp_path, days=7)


def test_ensure_demo_data_generates_only_when_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def fake_generate(out_dir: Path, **_: object) -> dict:
        calls.append(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in (EVENTS_FILE, GROUND_TRUTH_FILE):
            (out_dir / name).write_bytes(b"x")
        return {}

    monkeypatch.setattr(demo, "generate", fake_generate)
    assert ensure_demo_data(tmp_path / "d") == tmp_path / "d"
    assert ensure_demo_data(tmp_path / "d") == tmp_path / "d"
    assert len(calls) == 1
    ensure_demo_data(tmp_path / "d", regenerate=True)
    assert len(calls) == 2


def test_committed_demo_data_has_the_promised_shape() -> None:
    events = DEMO_DIR / EVENTS_FILE
    assert events.stat().st_size <= 10 * 1024 * 1024
    with gzip.open(events, "rt", encoding="utf-8") as f:
        n_rows = sum(1 for _ in f) - 1
    assert 150_000 <= n_rows <= 250_000
    truth = load_ground_truth()
    assert len(truth["items"]) == 1500 and len(truth["users"]) == 3000
    assert (len(truth["bots"]), len(truth["drifters"]), len(truth["cold_items"])) == (30, 150, 75)


@pytest.mark.slow
def test_committed_demo_data_matches_the_generator(tmp_path: Path) -> None:
    generate(tmp_path)
    # Compare the CSV text, not the gzip bytes: another zlib build may deflate the same text differently.
    for name in (EVENTS_FILE, GROUND_TRUTH_FILE):
        fresh, committed = (tmp_path / name).read_bytes(), (DEMO_DIR / name).read_bytes()
        if name.endswith(".gz"):
            fresh, committed = gzip.decompress(fresh), gzip.decompress(committed)
        assert fresh == committed, (
            f"demo_data/{name} is stale: regenerate it with uig_core.demo.generator.ensure_demo_data(regenerate=True)"
        )


# ------------------------------------------------------------------------------------------ the Chinese demo
def _zh(tmp_path: Path, seed: int = 3):
    import json

    import pandas as pd

    from uig_core.demo.zh import generate

    summary = generate(tmp_path, seed=seed, n_users=150, n_items=120, days=40)
    events = pd.read_csv(tmp_path / "events.csv.gz", dtype=str)
    return summary, events, json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))


def test_zh_demo_same_seed_same_bytes(tmp_path: Path) -> None:
    _zh(tmp_path / "a")
    _zh(tmp_path / "b")
    assert (tmp_path / "a" / "events.csv.gz").read_bytes() == (tmp_path / "b" / "events.csv.gz").read_bytes()


def test_zh_demo_shape_searches_and_planted_users(tmp_path: Path) -> None:
    import pandas as pd

    from uig_core.demo.zh import COLUMNS, SEARCH_ONLY_DAYS
    from uig_core.semantics.words import SHOP_BOILERPLATE

    summary, ev, truth = _zh(tmp_path)
    assert tuple(ev.columns) == COLUMNS and summary["themes"] == 6
    assert set(ev["行为"]) == {"pv", "fav", "cart", "buy", "search"}
    searches = ev[ev["行为"] == "search"]
    assert searches["搜索词"].notna().all() and searches["商品名称"].isna().all()
    assert searches["商品ID"].isna().mean() > 0.5 and searches["商品ID"].notna().any()  # some carry a clicked item
    titles = ev["商品名称"].dropna()
    assert titles.str.contains("|".join(SHOP_BOILERPLATE)).mean() > 0.3  # boilerplate, as real shops write
    assert titles.str.contains(r"\d").mean() > 0.5  # sizes and counts
    ts = pd.to_datetime(ev["时间"])
    cutoff = ts.max().normalize() - pd.Timedelta(days=SEARCH_ONLY_DAYS - 1)
    for user in truth["search_only"]:
        mine = ev[ev["用户ID"] == user]
        before = mine[pd.to_datetime(mine["时间"]) < cutoff]
        assert len(before) and (before["行为"] == "search").all()
        assert (mine["行为"] == "buy").sum() == 1
        bought = mine.loc[mine["行为"] == "buy", "商品ID"].iat[0]
        assert truth["items"][bought] == truth["users"][user][0]
    for bot in truth["bots"]:
        assert set(ev.loc[ev["用户ID"] == bot, "行为"]) == {"pv"}
