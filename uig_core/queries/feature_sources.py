"""What a build's segment fields are made of: the one definition of every column of the feature table.

:func:`build_features` names the fields and their kinds from the build's metadata alone — the users table's
schema (:func:`uig_core.build.layout.frame_dtypes`) and the profile columns — and says how each column is
produced: a users-table column as float64, ``recency_days`` / ``tenure_days`` from the first and last seen
times, an interest share as one column of the memory-mapped profiles rounded to 4 decimals, an extra column of the
log as each user's most frequent value. :func:`uig_core.queries.features.user_features` is the same table
materialised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uig_core.queries.feature_table import FeatureTable, Producer

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = ["build_features", "interest_columns", "INTEREST_PREFIX", "CANONICAL_COLUMNS"]

INTEREST_PREFIX = "interest: "
#: Columns of the event schema; every other column of a log is an extra a rule may use.
CANONICAL_COLUMNS = frozenset(
    {"user_id", "item_id", "event", "ts", "item_title", "category", "price", "quantity", "order_id", "query"}
)
#: Profile rows per block when many interest columns are produced in one pass.
_BLOCK_ROWS = 1 << 16


def build_features(
    bundle: Bundle,
    events: pd.DataFrame | None = None,
    labels: np.ndarray | None = None,
    *,
    extras: pd.DataFrame | None = None,
) -> FeatureTable:
    """The segment fields of a build, none read yet.

    Columns: ``user_id``; the numeric activity columns of the build's users table (event counts, net and
    gross orders and spend, anomaly and drift scores and the anomaly features…) as float64; ``recency_days`` and
    ``tenure_days`` (days, one decimal); ``interest: NAME`` profile shares (4 decimals); ``cluster`` when
    ``labels`` is given; and each extra column of the log (e.g. ``Country``) as the user's most frequent value.

    Args:
        bundle: The build (or any object with ``users``, ``profiles``, ``profile_columns`` and optionally
            ``interest_names``: the users columns of a build folder are read one at a time).
        events: Events holding extra columns (a small log or a test's frame); each user's most frequent value
            of each extra column is taken.
        labels: ``(n_users,)`` cluster labels.
        extras: One row per user, ``user_id`` plus extra columns, as
            :func:`~uig_core.queries.features.extra_user_values` returns them (no events are loaded).
    """
    users, profiles = _Users(bundle), _Profiles(bundle)
    fields: dict[str, tuple[str | None, Producer]] = {"user_id": ("id", _UserColumn(users, ("user_id",), _ids))}
    for col, dtype in users.dtypes.items():
        if col != "user_id" and (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            fields[col] = ("number", _UserColumn(users, (col,), _as_float))
    if "last_seen" in users.dtypes:
        fields["recency_days"] = ("number", _UserColumn(users, ("last_seen",), _recency))
        if "first_seen" in users.dtypes:
            fields["tenure_days"] = ("number", _UserColumn(users, ("last_seen", "first_seen"), _tenure))
    for j, name in enumerate(interest_columns(bundle)):
        fields[name] = ("number", _Share(profiles, j))
    if labels is not None:
        cluster = np.asarray(labels, dtype=np.int64)
        fields["cluster"] = ("category", lambda _t, rows: cluster if rows is None else cluster[rows])
    by_user = [_most_frequent(events, col) for col in _extra_columns(events)] if events is not None else []
    if extras is not None:
        frame = extras.assign(user_id=extras["user_id"].astype(str)).set_index("user_id")
        by_user += [frame[col] for col in frame.columns]
    for values in by_user:
        name = values.name if values.name not in fields else f"extra_{values.name}"
        fields[name] = (None, _PerUser(values))  # kind: the dtype once produced
    return FeatureTable(fields, users.n_rows)


def interest_columns(bundle: Bundle) -> list[str]:
    """``interest: NAME`` per profile column (a repeated name gets its interest id appended)."""
    names = bundle.interest_names if hasattr(bundle, "interest_names") else {}
    seen: set[str] = set()
    columns = []
    for t in np.asarray(bundle.profile_columns).astype(int):
        name = f"{INTEREST_PREFIX}{names.get(int(t), t)}"
        if name in seen:
            name = f"{name} ({t})"
        seen.add(name)
        columns.append(name)
    return columns


# ---------------------------------------------------------------------------------------------- the users table
def _ids(ids: pd.Series) -> pd.Series:
    return ids.astype(str).reset_index(drop=True)


def _as_float(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _recency(last_seen: pd.Series) -> np.ndarray:
    last = pd.to_datetime(last_seen)
    return ((last.max() - last).dt.total_seconds() / 86400.0).round(1).to_numpy()


def _tenure(last_seen: pd.Series, first_seen: pd.Series) -> np.ndarray:
    last, first = pd.to_datetime(last_seen), pd.to_datetime(first_seen)
    return ((last - first).dt.total_seconds() / 86400.0).round(1).to_numpy()


class _Users:
    """The build's users table, the columns asked for (the whole frame when the bundle has loaded it already)."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.folder = getattr(bundle, "path", None) if hasattr(bundle, "is_loaded") else None
        if self.folder is None:
            self.dtypes = bundle.users.dtypes
            self.n_rows = len(bundle.users)
        else:
            from uig_core.build import layout

            self.dtypes = layout.frame_dtypes(self.folder, "users")
            self.n_rows = int(np.shape(bundle.profiles)[0])

    def read(self, columns: list[str]) -> pd.DataFrame:
        """These columns of the users table, in one read."""
        if self.folder is None or self.bundle.is_loaded("users"):
            return self.bundle.users[columns]
        from uig_core.build import layout

        return layout.read_frame(self.folder, "users", columns=columns)

    def batch(self, _table: FeatureTable, producers: list[_UserColumn]) -> list[object]:
        """The full columns of several users fields from one read of the raw columns they need."""
        frame = self.read(list(dict.fromkeys(c for p in producers for c in p.raw)))
        return [p.convert(*(frame[c] for c in p.raw)) for p in producers]


class _UserColumn:
    """A field made from raw users-table columns by ``convert``."""

    def __init__(self, source: _Users, raw: tuple[str, ...], convert: Callable[..., object]) -> None:
        self.source, self.raw, self.convert = source, raw, convert

    def __call__(self, _table: FeatureTable, rows: np.ndarray | None) -> object:
        frame = self.source.read(list(self.raw))
        values = self.convert(*(frame[c] for c in self.raw))
        if rows is None:
            return values
        return values.iloc[rows] if isinstance(values, pd.Series) else values[rows]


# ---------------------------------------------------------------------------------------------- the profiles
def _round4(shares: np.ndarray) -> np.ndarray:
    """Float64 shares rounded to 4 decimals in place (np.round(x, 4) is exactly multiply, rint, divide)."""
    np.multiply(shares, 1e4, out=shares)
    np.rint(shares, out=shares)
    np.true_divide(shares, 1e4, out=shares)
    return shares


class _Profiles:
    """The memory-mapped ``(n_users, n_interests)`` profiles of a build."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    def batch(self, _table: FeatureTable, producers: list[_Share]) -> list[np.ndarray]:
        """Several interest columns from one sequential pass over the profiles, a block of rows at a time."""
        profiles = self.bundle.profiles
        cols = [p.j for p in producers]
        out = np.empty((len(cols), len(profiles)), dtype=np.float64)  # one row per column: each one contiguous
        for start in range(0, len(profiles), _BLOCK_ROWS):
            block = _round4(np.array(profiles[start : start + _BLOCK_ROWS][:, cols], dtype=np.float64))
            out[:, start : start + len(block)] = block.T
        return list(out)


class _Share:
    """Profile column ``j`` as float64 rounded to 4 decimals."""

    def __init__(self, source: _Profiles, j: int) -> None:
        self.source, self.j = source, j

    def __call__(self, _table: FeatureTable, rows: np.ndarray | None) -> np.ndarray:
        profiles = self.source.bundle.profiles
        return _round4(np.array(profiles[:, self.j] if rows is None else profiles[rows, self.j], dtype=np.float64))


# ---------------------------------------------------------------------------------------------- the log's extras
class _PerUser:
    """A per-user value (indexed by ``user_id``) in row order; users without one get a missing value."""

    def __init__(self, values: pd.Series) -> None:
        self.values = values

    def __call__(self, table: FeatureTable, rows: np.ndarray | None) -> np.ndarray:
        ids = table["user_id"] if rows is None else table.take("user_id", rows)
        return self.values.reindex(ids).to_numpy()


def _extra_columns(events: pd.DataFrame) -> list[str]:
    return [c for c in events.columns if c not in CANONICAL_COLUMNS and not str(c).startswith("_")]


def _most_frequent(events: pd.DataFrame, col: str) -> pd.Series:
    """Each user's most frequent non-null value of ``col`` (ties: the first in value order)."""
    vals = events[["user_id", col]].dropna()
    vals = vals.assign(user_id=vals["user_id"].astype(str))
    counts = vals.groupby(["user_id", col], observed=True, sort=True).size().reset_index(name="n")
    counts = counts.sort_values(["user_id", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("user_id").set_index("user_id")[col]
