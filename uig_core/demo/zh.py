"""Seeded Chinese demo shop (``uig demo --lang zh``): planted themes, searches, drifters and bots, with ground truth.

Writes ``events.csv.gz`` and ``ground_truth.json`` into a folder, as :mod:`uig_core.demo.generator` does for the
English shop. The log is shaped like a Chinese marketplace export: Chinese column names (用户ID, 商品ID, 行为, 时间,
商品名称, 类目, 价格, 数量, 订单号, 搜索词), Taobao's event values (pv / fav / cart / buy) and ``search`` rows whose
搜索词 holds what was typed; most searches name no item, some carry the item clicked from the results (no title).

Planted: six themes (:data:`~uig_core.demo.zh_vocabulary.ZH_THEMES`); users follow a main theme (30 % also a
second); ~8 % only search, then buy in the last week (``search_only``: their next purchase is what the search
bench predicts); ~5 % drift to another theme mid-period; ~1 % bots flood views. Titles carry brands, sizes,
counts and boilerplate. The same seed gives byte-identical files.

Example:
    >>> import tempfile
    >>> summary = generate(tempfile.mkdtemp(), n_users=60, n_items=60, days=30)
    >>> summary["themes"], summary["users"]
    (6, 60)
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from uig_core import atomic
from uig_core.demo.zh_vocabulary import BOILERPLATE, ZH_THEMES, ZhTheme
from uig_core.errors import ConfigError

__all__ = ["ZH_DIR", "COLUMNS", "END_DATE", "SEARCH_ONLY_DAYS", "generate", "ensure_zh_demo"]

log = logging.getLogger(__name__)

ZH_DIR: Path = Path(__file__).resolve().parents[2] / "demo_data" / "zh"
"""Where ``uig demo --lang zh`` keeps its generated files."""
END_DATE = date(2026, 10, 31)
#: Search-only users buy in this many last days (their searches all come before).
SEARCH_ONLY_DAYS = 7
COLUMNS = ("用户ID", "商品ID", "行为", "时间", "商品名称", "类目", "价格", "数量", "订单号", "搜索词")
_SEARCH_ONLY, _DRIFTER, _BOT = 0.08, 0.05, 0.01


class _Shop:
    """Items (theme, title, price, first day) and the rows written so far."""

    def __init__(self, rng: np.random.Generator, n_items: int, days: int) -> None:
        self.rng, self.days = rng, days
        self.theme: list[int] = []
        self.title: list[str] = []
        self.price: list[float] = []
        self.first_day: list[int] = []
        seen: set[str] = set()
        for i in range(n_items):
            t = i % len(ZH_THEMES)
            self.theme.append(t)
            self.title.append(_title(rng, ZH_THEMES[t], seen))
            low, high = ZH_THEMES[t].price
            self.price.append(round(float(rng.uniform(low, high)), 1))
            self.first_day.append(int(rng.integers(days - 14, days)) if rng.random() < 0.05 else 0)
        self.by_theme = [np.flatnonzero(np.array(self.theme) == t) for t in range(len(ZH_THEMES))]
        # each theme has its own best sellers: Zipf-like weights over a seeded order of its items
        self.weight = np.zeros(n_items)
        for members in self.by_theme:
            self.weight[members] = 1.0 / (1.0 + rng.permutation(len(members))) ** 0.7
        self.rows: list[tuple[Any, ...]] = []
        self.orders = 0

    def pick(self, theme: int, day: int, parts: tuple[str, ...] = ()) -> int:
        """A popular item of the theme on sale that day; with ``parts``, one whose title holds them all if any."""
        cand = self.by_theme[theme]
        cand = cand[np.array([self.first_day[i] <= day for i in cand])]
        if parts:
            match = cand[np.array([all(p in self.title[i] for p in parts) for i in cand])]
            cand = match if len(match) else cand
        w = self.weight[cand]
        return int(cand[self.rng.choice(len(cand), p=w / w.sum())])

    def add(self, user: str, item: int | None, event: str, ts: datetime, query: str = "", qty: int = 0) -> None:
        if item is None:
            self.rows.append((user, "", event, ts, "", "", "", "", "", query))
            return
        iid = f"Z{item:05d}"
        if event == "search":  # a result clicked from a search: the item id, no title
            self.rows.append((user, iid, event, ts, "", "", "", "", "", query))
            return
        order = ""
        if event == "buy":
            self.orders += 1
            order = f"O{self.orders:07d}"
        cat = ZH_THEMES[self.theme[item]].category
        quantity = str(qty) if event == "buy" else ""
        self.rows.append((user, iid, event, ts, self.title[item], cat, self.price[item], quantity, order, query))


def _title(rng: np.random.Generator, theme: ZhTheme, seen: set[str]) -> str:
    """``[boilerplate] brand qualifier+product size [boilerplate]``, unique within the shop."""
    for _ in range(200):
        product = str(rng.choice(theme.products))
        qual = str(rng.choice(theme.qualifiers)) if rng.random() < 0.7 else ""
        parts = [str(rng.choice(theme.brands)), qual + product if qual not in product else product]
        if rng.random() < 0.8:
            parts.append(str(rng.choice(theme.sizes)))
        extra = [str(b) for b in rng.choice(BOILERPLATE, size=int(rng.integers(0, 3)), replace=False)]
        if extra and rng.random() < 0.3:
            parts = [extra[0], *parts, *extra[1:]]
        else:
            parts += extra
        title = " ".join(parts)
        if title not in seen:
            seen.add(title)
            return title
    raise ConfigError(f"The Chinese demo ran out of distinct titles for '{theme.key}'. Lower n_items.")


def _query(rng: np.random.Generator, theme: ZhTheme) -> tuple[str, tuple[str, ...]]:
    """What a shopper of the theme types, and the words it holds: a product, qualifier + product, brand + product."""
    product = str(rng.choice(theme.products))
    r = rng.random()
    if r < 0.3:
        return product, (product,)
    if r < 0.65:
        qual = str(rng.choice(theme.qualifiers))
        return (product, (product,)) if qual in product else (qual + product, (qual, product))
    brand = str(rng.choice(theme.brands))
    return brand + product, (brand, product)


def _when(rng: np.random.Generator, start: date, day: int) -> datetime:
    return datetime(start.year, start.month, start.day) + timedelta(days=day, minutes=int(rng.integers(480, 1380)))


def _session(shop: _Shop, user: str, theme: int, day: int, start: date, *, search: bool) -> None:
    """A search (maybe), a few views of the theme, and the funnel pv → fav → cart → buy."""
    rng = shop.rng
    ts = _when(rng, start, day)
    parts: tuple[str, ...] = ()
    if search:
        query, parts = _query(rng, ZH_THEMES[theme])
        shop.add(user, None, "search", ts, query)
        if rng.random() < 0.25:
            ts += timedelta(seconds=int(rng.integers(5, 60)))
            shop.add(user, shop.pick(theme, day, parts), "search", ts, query)
    for _ in range(int(rng.integers(1, 7))):
        t = theme if rng.random() > 0.03 else int(rng.integers(len(ZH_THEMES)))
        item = shop.pick(t, day, parts if t == theme and rng.random() < 0.6 else ())
        ts += timedelta(seconds=int(rng.integers(20, 400)))
        shop.add(user, item, "pv", ts)
        for event, p in (("fav", 0.12), ("cart", 0.25), ("buy", 0.5)):
            if event == "fav":
                if rng.random() < p:
                    shop.add(user, item, "fav", ts + timedelta(seconds=10))
                continue
            if rng.random() >= p:
                break
            ts += timedelta(seconds=int(rng.integers(10, 120)))
            shop.add(user, item, event, ts, qty=int(rng.integers(1, 3)))


def _user(shop: _Shop, u: int, kind: str, themes: list[int], start: date) -> None:
    rng, days = shop.rng, shop.days
    user = f"ZU{u:05d}"
    if kind == "bot":
        for d in rng.choice(days, size=3, replace=False):
            ts = _when(rng, start, int(d))
            for k in range(60):
                shop.add(user, int(rng.integers(len(shop.theme))), "pv", ts + timedelta(seconds=2 * k))
        return
    if kind == "search_only":
        cutoff = days - SEARCH_ONLY_DAYS
        parts: tuple[str, ...] = ()
        for d in sorted(rng.choice(cutoff, size=int(rng.integers(1, 4)), replace=False)):
            ts = _when(rng, start, int(d))
            for _ in range(int(rng.integers(1, 3))):
                query, parts = _query(rng, ZH_THEMES[themes[0]])
                shop.add(user, None, "search", ts, query)
                ts += timedelta(seconds=int(rng.integers(20, 200)))
        day = int(rng.integers(cutoff, days))
        item = shop.pick(themes[0], day, parts if rng.random() < 0.6 else ())  # often what was searched last
        ts = _when(rng, start, day)
        shop.add(user, item, "pv", ts)
        shop.add(user, item, "buy", ts + timedelta(minutes=3), qty=1)
        return
    for d in sorted(rng.choice(days, size=min(days, int(rng.integers(2, 10))), replace=False)):
        theme = themes[1] if kind == "drifter" and d >= days // 2 else themes[0]
        if kind != "drifter" and len(themes) > 1 and rng.random() < 0.3:
            theme = themes[1]
        _session(shop, user, theme, int(d), start, search=rng.random() < 0.5)


def generate(out_dir: str | Path, *, seed: int = 11, n_users: int = 1500, n_items: int = 600, days: int = 90) -> dict:
    """Generate the Chinese demo log and its ground truth into ``out_dir`` (see the module notes).

    Raises:
        ConfigError: A size is out of range (at least 30 users, 6 items per theme, 30 days).
    """
    if n_users < 30 or n_items < 6 * len(ZH_THEMES) or days < 30:
        raise ConfigError("The Chinese demo needs at least 30 users, 36 items and 30 days.")
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shop = _Shop(rng, n_items, days)
    start = END_DATE - timedelta(days=days - 1)
    truth: dict[str, Any] = {"themes": [t.key for t in ZH_THEMES], "users": {}, "drifters": {}, "bots": []}
    truth["search_only"] = []
    for u in range(n_users):
        r = rng.random()
        kind = "bot" if r < _BOT else "drifter" if r < _BOT + _DRIFTER else "search_only"
        kind = kind if r < _BOT + _DRIFTER + _SEARCH_ONLY else "normal"
        themes = [int(t) for t in rng.choice(len(ZH_THEMES), size=2, replace=False)]
        themes = themes if kind == "drifter" or (kind == "normal" and rng.random() < 0.3) else themes[:1]
        _user(shop, u, kind, themes, start)
        uid = f"ZU{u:05d}"
        truth["users"][uid] = [] if kind == "bot" else [ZH_THEMES[t].key for t in themes]
        if kind == "bot":
            truth["bots"].append(uid)
        elif kind == "drifter":
            truth["drifters"][uid] = (start + timedelta(days=days // 2)).isoformat()
        elif kind == "search_only":
            truth["search_only"].append(uid)
    truth["items"] = {f"Z{i:05d}": ZH_THEMES[t].key for i, t in enumerate(shop.theme)}
    truth["cold_items"] = [f"Z{i:05d}" for i, d in enumerate(shop.first_day) if d > 0]
    rows = sorted(shop.rows, key=lambda r: (r[3], r[0]))
    atomic.write_bytes(out / "events.csv.gz", _csv_gz(rows))
    atomic.write_bytes(out / "ground_truth.json", (json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode())
    for name in ("events.csv.gz", "ground_truth.json"):
        (out / name).chmod(0o644)  # readable like the repository's other files (the atomic write made it 0600)
    events: dict[str, int] = {}
    for r in rows:
        events[r[2]] = events.get(r[2], 0) + 1
    return {"rows": len(rows), "users": n_users, "items": n_items, "themes": len(ZH_THEMES), "events": events}


def _csv_gz(rows: list[tuple[Any, ...]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([*r[:3], r[3].strftime("%Y-%m-%d %H:%M:%S"), *r[4:]])
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return buf.getvalue()


def ensure_zh_demo(out_dir: Path = ZH_DIR, regenerate: bool = False) -> Path:
    """The Chinese demo folder, generated (default seed and sizes) only when its files are absent."""
    if regenerate or not (out_dir / "events.csv.gz").exists() or not (out_dir / "ground_truth.json").exists():
        generate(out_dir)
    return out_dir
