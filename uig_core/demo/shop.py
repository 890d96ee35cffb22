"""Shop-shaped logs at platform scale: millions of views over a catalogue of 10^4–10^6 items, as Parquet.

The shapes follow what large shops log (issue 16): Zipf item popularity (exponent ~1.1), log-normal user activity,
85 % view / 8 % cart / 5 % purchase / 2 % click, 90 days, 3–8-word titles over 60 categories. Each user leans to
one to three categories (80 % of their events), so a model that learns who wants what has something to find, and
categories are themes of meaning (the demo vocabulary), so titles carry the structure too.

Generation is vectorised and written in row groups, so the L size (20 M events) needs well under 2 GB.

Example:
    >>> from uig_core.demo.shop import SIZES, write_shop_log
    >>> write_shop_log("/tmp/shop.parquet", n_events=2_000, n_users=200, n_items=300)["rows"]  # doctest: +SKIP
    2000
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uig_core.demo.vocabulary import THEMES
from uig_core.errors import ConfigError
from uig_core.progress import Progress, noop

__all__ = ["SIZES", "ShopShape", "shop_catalogue", "shop_batches", "write_shop_log"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopShape:
    """Sizes of one generated shop: events, users, items (and the categories, days and seed)."""

    n_events: int
    n_users: int
    n_items: int
    n_categories: int = 60
    days: int = 90
    seed: int = 16


#: The sizes of issue 16: S (1 M events), M (5 M), L (20 M).
SIZES: dict[str, ShopShape] = {
    "XS": ShopShape(100_000, 10_000, 4_000),
    "S": ShopShape(1_000_000, 100_000, 20_000),
    "M": ShopShape(5_000_000, 500_000, 97_000),
    "L": ShopShape(20_000_000, 2_000_000, 470_000),
}

EVENT_SHARES = {"view": 0.85, "cart": 0.08, "purchase": 0.05, "click": 0.02}
START = np.datetime64("2026-06-01T00:00:00", "s")
_COLOURS = ("Black", "White", "Red", "Navy", "Grey", "Green", "Pink", "Beige", "Blue", "Silver", "Gold", "Brown")
_MATERIALS = ("Cotton", "Steel", "Bamboo", "Leather", "Ceramic", "Wool", "Glass", "Oak", "Nylon", "Linen")
_ROW_GROUP = 2_000_000


def _categories(n: int) -> list[tuple[int, int]]:
    """``n`` (theme, product) pairs taken round-robin over the themes, so every theme has categories."""
    order = [(t, p) for p in range(max(len(t.products) for t in THEMES)) for t in range(len(THEMES))]
    pairs = [(t, p) for t, p in order if p < len(THEMES[t].products)]
    if n > len(pairs):
        raise ConfigError(f"The shop generator has {len(pairs)} categories at most. Got n_categories={n} instead.")
    return pairs[:n]


def shop_catalogue(shape: ShopShape) -> dict[str, np.ndarray]:
    """Item ids, titles, categories, prices and popularity weights (Zipf over a random popularity rank).

    Returns:
        ``item_id`` (int64), ``title`` and ``category`` (str), ``price`` (float64), ``category_code``
        (int64 into the categories) and ``weight`` (float64 popularity, unnormalised).
    """
    rng = np.random.default_rng(shape.seed)
    cats = _categories(shape.n_categories)
    share = 1.0 / np.arange(1, len(cats) + 1) ** 0.6  # some departments are larger than others
    code = rng.choice(len(cats), size=shape.n_items, p=share / share.sum())
    titles, names, prices = [], [], np.empty(shape.n_items)
    parts = rng.random((shape.n_items, 4))
    picks = rng.integers(0, 1 << 30, size=(shape.n_items, 5))
    for i, c in enumerate(code):
        theme = THEMES[cats[c][0]]
        product = theme.products[cats[c][1]]
        words = [theme.brands[picks[i, 0] % len(theme.brands)]]
        if parts[i, 0] < 0.7:
            words.append(product.adjectives[picks[i, 1] % len(product.adjectives)])
        if parts[i, 1] < 0.4:
            words.append(_COLOURS[picks[i, 2] % len(_COLOURS)])
        if parts[i, 2] < 0.3:
            words.append(_MATERIALS[picks[i, 3] % len(_MATERIALS)])
        words.append(product.noun)
        if parts[i, 3] < 0.6:
            words.append(product.variants[picks[i, 4] % len(product.variants)])
        titles.append(" ".join(words))
        names.append(product.subcategory)
        low, high = product.price
        prices[i] = round(low + (high - low) * ((picks[i, 4] % 1000) / 1000), 2)
    rank = rng.permutation(shape.n_items) + 1
    return {
        "item_id": np.arange(1, shape.n_items + 1, dtype=np.int64) * 7 + 100_000,
        "title": np.asarray(titles, dtype=object),
        "category": np.asarray(names, dtype=object),
        "price": prices,
        "category_code": code.astype(np.int64),
        "weight": 1.0 / rank**1.1,
    }


def _user_events(shape: ShopShape, rng: np.random.Generator) -> np.ndarray:
    """Events per user: log-normal activity scaled so the total is ``n_events`` (every user has one at least)."""
    raw = rng.lognormal(mean=0.0, sigma=1.2, size=shape.n_users)
    counts = np.maximum(1, np.floor(raw / raw.sum() * shape.n_events)).astype(np.int64)
    short = shape.n_events - int(counts.sum())
    if short > 0:
        counts += np.bincount(rng.integers(0, shape.n_users, size=short), minlength=shape.n_users)
    elif short < 0:  # trim the heaviest users, who can spare it
        heavy = np.argsort(-counts)[:-short]
        counts[heavy] -= 1
    return counts


class _Sampler:
    """Draws items by popularity, overall or within one category (cumulative weights + binary search)."""

    def __init__(self, catalogue: dict[str, np.ndarray], n_categories: int) -> None:
        weight, code = catalogue["weight"], catalogue["category_code"]
        self.all_cum = np.cumsum(weight) / weight.sum()
        self.members = [np.flatnonzero(code == c) for c in range(n_categories)]
        self.cums = [np.cumsum(weight[m]) / weight[m].sum() if len(m) else None for m in self.members]

    def overall(self, u: np.ndarray) -> np.ndarray:
        return np.minimum(np.searchsorted(self.all_cum, u), len(self.all_cum) - 1)

    def within(self, category: int, u: np.ndarray) -> np.ndarray:
        members, cum = self.members[category], self.cums[category]
        if cum is None:
            return self.overall(u)
        return members[np.minimum(np.searchsorted(cum, u), len(members) - 1)]


def shop_batches(shape: ShopShape, *, progress: Progress = noop) -> Iterator[pa.Table]:
    """The log as Arrow tables of up to 2 M rows: ``user_id, item_id, ts, event, item_title, category, price``."""
    rng = np.random.default_rng(shape.seed + 1)
    catalogue = shop_catalogue(shape)
    sampler = _Sampler(catalogue, shape.n_categories)
    counts = _user_events(shape, rng)
    cat_pop = np.bincount(catalogue["category_code"], minlength=shape.n_categories).astype(float)
    likes = rng.choice(shape.n_categories, size=(shape.n_users, 3), p=cat_pop / cat_pop.sum())
    n_likes = rng.integers(1, 4, size=shape.n_users)
    join = rng.random(shape.n_users) * 0.7 * shape.days * 86_400  # users arrive over the first 70 % of the period
    titles = pa.array(catalogue["title"], type=pa.string())
    category_names = pa.array(_category_names(catalogue), type=pa.string())
    events = pa.array(list(EVENT_SHARES), type=pa.string())
    shares = np.asarray(list(EVENT_SHARES.values()))
    starts = np.concatenate([[0], np.cumsum(counts)])
    first_user = 0
    while first_user < shape.n_users:
        last_user = int(np.searchsorted(starts, starts[first_user] + _ROW_GROUP, side="right")) - 1
        last_user = min(max(last_user, first_user + 1), shape.n_users)
        users = np.repeat(np.arange(first_user, last_user), counts[first_user:last_user])
        items = _draw_items(rng, sampler, users, likes, n_likes)
        seconds = _times(rng, shape, users, join)
        ev = rng.choice(len(shares), size=len(users), p=shares)
        yield pa.table(
            {
                "user_id": pa.array(users.astype(np.int64) + 1_000_000),
                "item_id": pa.array(catalogue["item_id"][items]),
                "ts": pa.array(START + seconds.astype("timedelta64[s]")),
                "event": pa.DictionaryArray.from_arrays(pa.array(ev.astype(np.int32)), events),
                "item_title": pa.DictionaryArray.from_arrays(pa.array(items.astype(np.int32)), titles),
                "category": pa.DictionaryArray.from_arrays(
                    pa.array(catalogue["category_code"][items].astype(np.int32)), category_names
                ),
                "price": pa.array(catalogue["price"][items]),
            }
        )
        progress(last_user / shape.n_users, f"generated {starts[last_user]:,} of {shape.n_events:,} events")
        first_user = last_user


def _category_names(catalogue: dict[str, np.ndarray]) -> list[str]:
    """The category name of each category code (codes index the generator's categories)."""
    names: dict[int, str] = {}
    for code, name in zip(catalogue["category_code"], catalogue["category"], strict=True):
        names.setdefault(int(code), str(name))
    return [names.get(c, f"category {c}") for c in range(max(names) + 1)]


def _draw_items(
    rng: np.random.Generator, sampler: _Sampler, users: np.ndarray, likes: np.ndarray, n_likes: np.ndarray
) -> np.ndarray:
    """80 % of a user's events fall in one of their liked categories, the rest anywhere, by popularity."""
    u = rng.random(len(users))
    own = rng.random(len(users)) < 0.8
    which = (rng.random(len(users)) * n_likes[users]).astype(np.int64)
    cat = likes[users, which]
    items = sampler.overall(u)
    for c in np.unique(cat[own]):
        rows = np.flatnonzero(own & (cat == c))
        items[rows] = sampler.within(int(c), u[rows])
    return items


def _times(rng: np.random.Generator, shape: ShopShape, users: np.ndarray, join: np.ndarray) -> np.ndarray:
    """Seconds since :data:`START`: each user is active from their join time on, events spread to the end."""
    span = shape.days * 86_400
    begin = join[users]
    return (begin + rng.random(len(users)) * (span - begin)).astype(np.int64)


def write_shop_log(
    path: str | Path,
    *,
    size: str | None = None,
    n_events: int | None = None,
    n_users: int | None = None,
    n_items: int | None = None,
    seed: int = 16,
    progress: Progress = noop,
) -> dict[str, Any]:
    """Write a generated shop log as Parquet (``size`` from :data:`SIZES`, or explicit counts); returns a summary.

    Raises:
        ConfigError: Unknown size, or counts that cannot make a log (fewer events than users, no items).
    """
    import pyarrow.parquet as pq

    shape = _shape(size, n_events, n_users, n_items, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, _SCHEMA) as writer:
        for table in shop_batches(shape, progress=progress):
            writer.write_table(table.cast(_SCHEMA), row_group_size=_ROW_GROUP)
            rows += table.num_rows
    tmp.replace(path)
    log.info("wrote %s: %d events, %d users, %d items", path, rows, shape.n_users, shape.n_items)
    return {"path": str(path), "rows": rows, "users": shape.n_users, "items": shape.n_items, "seed": shape.seed}


_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("item_id", pa.int64()),
        ("ts", pa.timestamp("s")),
        ("event", pa.dictionary(pa.int32(), pa.string())),
        ("item_title", pa.dictionary(pa.int32(), pa.string())),
        ("category", pa.dictionary(pa.int32(), pa.string())),
        ("price", pa.float64()),
    ]
)


def _shape(size: str | None, n_events: int | None, n_users: int | None, n_items: int | None, seed: int) -> ShopShape:
    if size is not None:
        if size.upper() not in SIZES:
            raise ConfigError(f"Unknown shop size {size!r}; choose one of {', '.join(SIZES)}.")
        base = SIZES[size.upper()]
        return ShopShape(base.n_events, base.n_users, base.n_items, seed=seed)
    if not n_events or not n_users or not n_items or n_events < n_users:
        raise ConfigError(
            "A shop log needs n_events >= n_users >= 1 and n_items >= 1 "
            f"(got n_events={n_events}, n_users={n_users}, n_items={n_items})."
        )
    return ShopShape(n_events, n_users, n_items, seed=seed)
