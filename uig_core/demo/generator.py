"""Seeded demo-data generator: an online shop's event log with planted, known structure.

The generator writes two files into a folder:

* ``events.csv.gz`` — columns ``user_id,item_id,event_type,timestamp,title,category,price,quantity,order_id``.
  The names are deliberately not all canonical (``event_type``, ``timestamp``, ``title``) so that the ingest's
  column auto-mapping is exercised. ``quantity`` and ``order_id`` are filled on purchase rows only.
* ``ground_truth.json`` — what was planted: each item's theme, each user's true themes (bots: ``[]``;
  drifters: ``[before, after]``), the drifters with their change date, the bots and the cold items.

Planted structure: users follow one to three interest themes (a main one dominating) through sessions
shaped by a view → click → cart → purchase funnel; ~5% drifters switch their theme completely near the middle
of the period; ~1% bots flood views in short bursts and never buy; ~5% cold items appear only in the last
14 days.
The same seed gives byte-identical files (gzip is written with ``mtime=0`` and no file name).

Example:
    >>> from uig_core.demo.generator import DEMO_DIR, ensure_demo_data
    >>> folder = ensure_demo_data(DEMO_DIR)  # generates only when the files are absent
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import numpy as np

from uig_core import atomic
from uig_core.demo.vocabulary import THEMES, Product, Theme
from uig_core.errors import ConfigError
from uig_core.progress import Progress

__all__ = [
    "DEMO_DIR",
    "END_DATE",
    "EVENTS_FILE",
    "GROUND_TRUTH_FILE",
    "CSV_COLUMNS",
    "THEMES",
    "Theme",
    "Product",
    "generate",
    "ensure_demo_data",
    "load_ground_truth",
]

log = logging.getLogger(__name__)

DEMO_DIR: Path = Path(__file__).resolve().parents[2] / "demo_data"
"""The repository's committed demo folder."""
END_DATE: date = date(2026, 10, 31)
"""Last day of the generated log (fixed so that the output never depends on today's date)."""
EVENTS_FILE = "events.csv.gz"
GROUND_TRUTH_FILE = "ground_truth.json"
CSV_COLUMNS = (
    "user_id",
    "item_id",
    "event_type",
    "timestamp",
    "title",
    "category",
    "price",
    "quantity",
    "order_id",
)


_EVENTS = ("view", "click", "cart", "purchase")
_VIEW, _CLICK, _CART, _PURCHASE = range(4)
_BOT_SHARE, _DRIFTER_SHARE, _COLD_SHARE = 0.01, 0.05, 0.05
_COLD_DAYS = 14
_P_CLICK, _P_CART, _P_PURCHASE = 0.35, 0.30, 0.50  # per view, per click, per cart
_P_OFF_THEME = 0.02  # chance that one view of a session wanders to another theme
_MAX_VIEWS = 12  # per session; with the gaps below a session lasts under 2 hours
# Relative traffic per session start hour (0-21, so that every session ends before midnight): quiet nights,
# a lunch bump and an evening peak.
_HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4, 5, 6, 6, 5, 5, 5, 6, 7, 9, 10, 9], dtype=float)


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    n_users: int = 3000,
    n_items: int = 1500,
    days: int = 120,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate the demo event log and its ground truth into ``out_dir``.

    Args:
        out_dir: Folder to write ``events.csv.gz`` and ``ground_truth.json`` into (created if missing).
            Both files are written to a temporary file first and renamed into place.
        seed: Seed of the ``numpy.random.Generator``; the same seed and sizes give byte-identical files.
        n_users: Number of users, bots and drifters included (at least 20).
        n_items: Number of items, spread evenly over the themes (at least 5 per theme).
        days: Length of the period in days, ending on :data:`END_DATE` (at least 30).
        progress: Optional callback ``(fraction in [0, 1], message)``.

    Returns:
        A summary: ``rows``, ``users``, ``items``, ``themes``, ``bots``, ``drifters``, ``cold_items``,
        ``events`` (rows per event type), ``start`` and ``end`` (ISO dates), ``seed`` and the two file paths.

    Raises:
        ConfigError: If a size is out of range.
    """
    _check_sizes(n_users=n_users, n_items=n_items, days=days)
    report = progress or (lambda _f, _m: None)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    report(0.0, "Creating items")
    items = _make_items(rng, n_items=n_items, days=days)
    report(0.1, "Creating users")
    users = _make_users(rng, n_users=n_users, days=days)
    report(0.15, "Simulating sessions")
    log = _EventLog()
    _simulate(rng, items, users, log, days=days, report=lambda f: report(0.15 + 0.55 * f, "Simulating sessions"))
    _backfill(rng, items, users, log, days=days)
    report(0.7, "Writing events")
    table = log.sorted()
    start = END_DATE - timedelta(days=days - 1)
    _atomic_write(out_dir / EVENTS_FILE, lambda f: _write_csv(f, table, items, users, start))
    report(0.95, "Writing ground truth")
    truth = _ground_truth(items, users, start)
    _atomic_write(out_dir / GROUND_TRUTH_FILE, lambda f: f.write((json.dumps(truth, indent=1) + "\n").encode("utf-8")))
    report(1.0, "Done")
    counts = np.bincount(table["event"], minlength=4)
    return {
        "rows": int(len(table["event"])),
        "users": n_users,
        "items": n_items,
        "themes": len(THEMES),
        "bots": len(truth["bots"]),
        "drifters": len(truth["drifters"]),
        "cold_items": len(truth["cold_items"]),
        "events": {name: int(c) for name, c in zip(_EVENTS, counts, strict=True)},
        "start": start.isoformat(),
        "end": END_DATE.isoformat(),
        "seed": seed,
        "events_path": str(out_dir / EVENTS_FILE),
        "ground_truth_path": str(out_dir / GROUND_TRUTH_FILE),
    }


def ensure_demo_data(out_dir: Path = DEMO_DIR, regenerate: bool = False) -> Path:
    """Return the demo folder, generating its files (default seed and sizes) only when absent.

    Args:
        out_dir: The demo folder; by default the repository's committed ``demo_data/``.
        regenerate: Generate even when both files exist.

    Returns:
        ``out_dir``, holding ``events.csv.gz`` and ``ground_truth.json``.
    """
    out_dir = Path(out_dir)
    if regenerate or not (out_dir / EVENTS_FILE).is_file() or not (out_dir / GROUND_TRUTH_FILE).is_file():
        generate(out_dir)
    return out_dir


def load_ground_truth(out_dir: Path = DEMO_DIR) -> dict[str, Any]:
    """Read ``ground_truth.json`` from a demo folder.

    Args:
        out_dir: The demo folder.

    Returns:
        The parsed ground truth (layout described in the module docstring).
    """
    return json.loads((Path(out_dir) / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))


# ---- items ----
class _Items:
    """Item table: ids, texts, theme, price, popularity weight and release minute (columns as arrays)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.titles: list[str] = []
        self.categories: list[str] = []
        self.prices: list[str] = []
        self.consumable: list[bool] = []
        self.theme = np.zeros(0, dtype=np.int64)
        self.weight = np.zeros(0)
        self.release = np.zeros(0, dtype=np.int64)  # first minute the item may be seen
        self.cold = np.zeros(0, dtype=bool)
        self.by_theme: list[np.ndarray] = []


def _make_items(rng: np.random.Generator, *, n_items: int, days: int) -> _Items:
    items = _Items()
    n_themes = len(THEMES)
    counts = np.full(n_themes, n_items // n_themes)
    counts[: n_items % n_themes] += 1
    numbers = rng.permutation(n_items) + 10000  # ids do not reveal the theme
    themes: list[int] = []
    weights: list[float] = []
    for t, (theme, count) in enumerate(zip(THEMES, counts, strict=True)):
        seen: set[str] = set()
        ranks = rng.permutation(count)  # popularity rank within the theme
        for j in range(count):
            product, title = _make_title(rng, theme, seen)
            items.titles.append(title)
            items.categories.append(f"{theme.department} > {product.subcategory}")
            low, high = product.price
            items.prices.append(f"{max(0.99, round(float(rng.uniform(low, high))) - 0.01):.2f}")
            items.consumable.append(product.consumable)
            themes.append(t)
            weights.append(1.0 / (ranks[j] + 3.0) ** 0.9)
    items.ids = [f"P{n}" for n in numbers]
    items.theme = np.array(themes, dtype=np.int64)
    items.weight = np.array(weights)
    items.by_theme = [np.flatnonzero(items.theme == t) for t in range(n_themes)]
    n_cold = max(1, round(_COLD_SHARE * n_items))
    items.cold = np.zeros(n_items, dtype=bool)
    items.cold[rng.choice(n_items, size=n_cold, replace=False)] = True
    items.release = np.zeros(n_items, dtype=np.int64)
    # Cold items are released between 14 and 5 days before the end, so each still collects a few events.
    cold_days = rng.integers(days - _COLD_DAYS, days - 4, size=n_cold)
    items.release[items.cold] = cold_days * 1440 + rng.integers(0, 1440, size=n_cold)
    return items


def _make_title(rng: np.random.Generator, theme: Theme, seen: set[str]) -> tuple[Product, str]:
    """Compose a unique title ``[Brand] [Adjective] Noun [- Variant]`` from the theme's vocabulary."""
    for attempt in range(200):
        product = theme.products[rng.integers(len(theme.products))]
        parts = []
        if rng.random() < 0.8:
            parts.append(theme.brands[rng.integers(len(theme.brands))])
        adjective = product.adjectives[rng.integers(len(product.adjectives))]
        if (rng.random() < 0.85 or attempt > 20) and adjective.lower() not in product.noun.lower():
            parts.append(adjective)
        parts.append(product.noun)
        title = " ".join(parts)
        if rng.random() < 0.6 or attempt > 40:
            title += " - " + product.variants[rng.integers(len(product.variants))]
        if title not in seen:
            seen.add(title)
            return product, title
    raise ConfigError(
        f"The theme '{theme.key}' ran out of distinct titles. Lower n_items or widen the theme's vocabulary."
    )


# ---- users ----
class _Users:
    """User table: ids, planted themes with weights, role, drifter change minute and conversion propensity."""

    def __init__(self, n: int) -> None:
        self.ids: list[str] = []
        self.themes: list[list[int]] = [[] for _ in range(n)]
        self.theme_weights: list[np.ndarray] = [np.zeros(0) for _ in range(n)]
        self.is_bot = np.zeros(n, dtype=bool)
        self.is_drifter = np.zeros(n, dtype=bool)
        self.change_day = np.full(n, -1, dtype=np.int64)
        self.propensity = np.ones(n)


def _make_users(rng: np.random.Generator, *, n_users: int, days: int) -> _Users:
    users = _Users(n_users)
    n_themes = len(THEMES)
    users.ids = [f"U{n:05d}" for n in rng.permutation(n_users) + 1]
    theme_share = rng.dirichlet(np.full(n_themes, 6.0))  # some themes are more popular than others
    roles = rng.permutation(n_users)
    n_bots = max(1, round(_BOT_SHARE * n_users))
    n_drifters = max(1, round(_DRIFTER_SHARE * n_users))
    users.is_bot[roles[:n_bots]] = True
    users.is_drifter[roles[n_bots : n_bots + n_drifters]] = True
    users.propensity = np.exp(rng.normal(0.0, 0.3, size=n_users))
    for u in range(n_users):
        if users.is_bot[u]:
            continue
        n_own = 2 if users.is_drifter[u] else int(rng.choice([1, 2, 3], p=[0.35, 0.4, 0.25]))
        own = rng.choice(n_themes, size=n_own, replace=False, p=theme_share)
        users.themes[u] = [int(t) for t in own]
        main = rng.uniform(0.6, 0.8)
        rest = 1.0 - main
        users.theme_weights[u] = np.array([[1.0], [main, rest], [main, rest * 0.6, rest * 0.4]][n_own - 1])
        if users.is_drifter[u]:
            users.change_day[u] = int(rng.integers(round(days * 0.4), round(days * 0.6) + 1))
    return users


# ---- sessions ----
class _EventLog:
    """Append-only event rows as parallel integer lists; ``order`` is a checkout number or -1."""

    def __init__(self) -> None:
        self.cols: dict[str, list[int]] = {k: [] for k in ("minute", "user", "item", "event", "qty", "order")}
        self.n_orders = 0

    def add(self, minute: int, user: int, item: int, event: int, qty: int = 0, order: int = -1) -> None:
        for key, value in zip(self.cols, (minute, user, item, event, qty, order), strict=True):
            self.cols[key].append(value)

    def sorted(self) -> dict[str, np.ndarray]:
        """Columns as arrays sorted by time, then user, then insertion order (stable, hence deterministic)."""
        arrays = {k: np.array(v, dtype=np.int64) for k, v in self.cols.items()}
        order = np.lexsort((np.arange(len(arrays["minute"])), arrays["user"], arrays["minute"]))
        return {k: v[order] for k, v in arrays.items()}


def _simulate(
    rng: np.random.Generator,
    items: _Items,
    users: _Users,
    log: _EventLog,
    *,
    days: int,
    report: Callable[[float], None],
) -> None:
    n_users = len(users.ids)
    for u in range(n_users):
        if u % 250 == 0:
            report(u / n_users)
        if users.is_bot[u]:
            _bot_bursts(rng, items, u, log, days=days)
            continue
        n_sessions = int(np.clip(round(rng.lognormal(np.log(8.0), 0.6)), 2, 60))
        if users.is_drifter[u]:
            # Enough sessions on both sides of the change for the switch to show in behaviour.
            change = int(users.change_day[u])
            before = rng.integers(0, change, size=max(6, n_sessions // 2))
            after = rng.integers(change, days, size=max(6, n_sessions - n_sessions // 2))
            session_days = np.sort(np.concatenate([before, after]))
        else:
            session_days = np.sort(rng.integers(0, days, size=n_sessions))
        for day in session_days:
            start = int(day) * 1440 + _start_minute(rng)
            if users.is_drifter[u]:
                theme = users.themes[u][0 if day < users.change_day[u] else 1]
            else:
                theme = users.themes[u][rng.choice(len(users.themes[u]), p=users.theme_weights[u])]
            _session(rng, items, users, u, theme, start, log)


def _start_minute(rng: np.random.Generator) -> int:
    hour = int(rng.choice(len(_HOUR_WEIGHTS), p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()))
    return hour * 60 + int(rng.integers(0, 60))


def _pick(rng: np.random.Generator, items: _Items, theme: int, minute: int, size: int) -> np.ndarray:
    """Draw ``size`` distinct released items of a theme, popular and newly released ones more often."""
    pool = items.by_theme[theme]
    pool = pool[items.release[pool] <= minute]
    if len(pool) == 0:  # only possible with tiny n_items, when a theme's every item is still unreleased
        return pool
    weight = items.weight[pool] * np.where(items.cold[pool], 3.0, 1.0)  # "new arrivals" get promoted
    size = min(size, len(pool))
    return rng.choice(pool, size=size, replace=False, p=weight / weight.sum())


def _session(
    rng: np.random.Generator, items: _Items, users: _Users, u: int, theme: int, start: int, log: _EventLog
) -> None:
    n_views = min(1 + int(rng.poisson(2.8)), _MAX_VIEWS)
    viewed = [int(i) for i in _pick(rng, items, theme, start, n_views)]
    if viewed and not users.is_drifter[u] and rng.random() < _P_OFF_THEME * len(viewed):
        wander = _pick(rng, items, int(rng.integers(len(THEMES))), start, 1)
        if len(wander):
            viewed[int(rng.integers(len(viewed)))] = int(wander[0])
            viewed = list(dict.fromkeys(viewed))
    lift = users.propensity[u]
    minute = start
    carted: list[int] = []
    for item in viewed:
        minute += int(rng.integers(1, 4))
        log.add(minute, u, item, _VIEW)
        if rng.random() < min(0.9, _P_CLICK * lift):
            minute += int(rng.integers(1, 3))
            log.add(minute, u, item, _CLICK)
            if rng.random() < min(0.9, _P_CART * lift):
                minute += int(rng.integers(1, 4))
                log.add(minute, u, item, _CART)
                carted.append(item)
    bought = [i for i in carted if rng.random() < _P_PURCHASE]
    if bought:
        minute += int(rng.integers(2, 7))
        for item in bought:  # one checkout: all lines share the minute and the order
            qty = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])) if items.consumable[item] else 1
            log.add(minute, u, item, _PURCHASE, qty, log.n_orders)
        log.n_orders += 1


def _bot_bursts(rng: np.random.Generator, items: _Items, u: int, log: _EventLog, *, days: int) -> None:
    """View floods: a few bursts of hundreds of views of random items, several per minute, day or night."""
    for _ in range(int(rng.integers(3, 7))):
        minute = int(rng.integers(0, days)) * 1440 + int(rng.integers(0, 1440 - 120))
        pool = np.flatnonzero(items.release <= minute)
        for item in rng.choice(pool, size=int(rng.integers(80, 250))):
            minute += int(rng.random() < 0.3)
            log.add(minute, u, int(item), _VIEW)
            if rng.random() < 0.003:
                log.add(minute, u, int(item), _CLICK)


def _backfill(rng: np.random.Generator, items: _Items, users: _Users, log: _EventLog, *, days: int) -> None:
    """Give every item a short browse by a user of its theme, so that the planted item set matches the log.

    Items that no simulated session reached get one; so do regular items first seen only in the cold window
    (else they would look cold without being planted as such).
    """
    minutes = np.array(log.cols["minute"], dtype=np.int64)
    seen_items = np.array(log.cols["item"], dtype=np.int64)
    first = np.full(len(items.ids), np.iinfo(np.int64).max)
    np.minimum.at(first, seen_items, minutes)
    cold_start = (days - _COLD_DAYS) * 1440
    lacking = np.flatnonzero(np.where(items.cold, first == np.iinfo(np.int64).max, first >= cold_start))
    plain = np.flatnonzero(~users.is_bot & ~users.is_drifter)
    for item in lacking:
        theme = int(items.theme[item])
        fans = [u for u in plain if users.themes[u][0] == theme] or [int(u) for u in plain]
        u = int(fans[rng.integers(len(fans))])
        low = int(items.release[item]) if items.cold[item] else 0
        high = days * 1440 - 120 if items.cold[item] else cold_start - 120
        minute = int(rng.integers(low, max(low + 1, high)))
        log.add(minute, u, int(item), _VIEW)
        if rng.random() < _P_CLICK:
            log.add(minute + 1, u, int(item), _CLICK)


# ---- output ----
def _write_csv(f: IO[bytes], table: dict[str, np.ndarray], items: _Items, users: _Users, start: date) -> None:
    day_text = [(start + timedelta(days=d)).isoformat() for d in range(int(table["minute"].max()) // 1440 + 1)]
    order_ids: dict[int, str] = {}
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for minute, user, item, event, qty, order in zip(
            *(table[k].tolist() for k in ("minute", "user", "item", "event", "qty", "order")), strict=True
        ):
            day, rest = divmod(minute, 1440)
            stamp = f"{day_text[day]} {rest // 60:02d}:{rest % 60:02d}:00"
            order_id = ""
            if event == _PURCHASE:
                order_id = order_ids.setdefault(order, f"O{100001 + len(order_ids)}")
            writer.writerow(
                (
                    users.ids[user],
                    items.ids[item],
                    _EVENTS[event],
                    stamp,
                    items.titles[item],
                    items.categories[item],
                    items.prices[item],
                    qty if event == _PURCHASE else "",
                    order_id,
                )
            )
        text.flush()
        text.detach()


def _ground_truth(items: _Items, users: _Users, start: date) -> dict[str, Any]:
    keys = [t.key for t in THEMES]
    item_order = sorted(range(len(items.ids)), key=items.ids.__getitem__)
    user_order = sorted(range(len(users.ids)), key=users.ids.__getitem__)
    return {
        "items": {items.ids[i]: {"theme": keys[items.theme[i]]} for i in item_order},
        "users": {users.ids[u]: {"themes": [keys[t] for t in users.themes[u]]} for u in user_order},
        "drifters": [
            {
                "user_id": users.ids[u],
                "change_date": (start + timedelta(days=int(users.change_day[u]))).isoformat(),
            }
            for u in user_order
            if users.is_drifter[u]
        ],
        "bots": [users.ids[u] for u in user_order if users.is_bot[u]],
        "cold_items": [items.ids[i] for i in item_order if items.cold[i]],
    }


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write through ``write`` into a temporary file beside ``path``, then rename it into place (mode 0644)."""
    with atomic.open_atomic(path, mode=0o644) as f:  # shared, committed data files, not private temp files
        write(f)


def _check_sizes(*, n_users: int, n_items: int, days: int) -> None:
    if not isinstance(n_users, int) or n_users < 20:
        raise ConfigError(f"The 'n_users' parameter of generate must be an int >= 20. Got {n_users!r} instead.")
    if not isinstance(n_items, int) or n_items < 5 * len(THEMES) or n_items > 89999:
        raise ConfigError(
            f"The 'n_items' parameter of generate must be an int in [{5 * len(THEMES)}, 89999]. "
            f"Got {n_items!r} instead."
        )
    if not isinstance(days, int) or days < 30:
        raise ConfigError(f"The 'days' parameter of generate must be an int >= 30. Got {days!r} instead.")
