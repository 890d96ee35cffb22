"""The workspace: one embedded DuckDB file for datasets and events, plus a folder of content-keyed artifacts.

Layout::

    <root>/uig.duckdb          datasets, builds, one events table per dataset
    <root>/artifacts/<kind>/   artifacts keyed by a hash of their inputs and config
    <root>/settings.json       workspace settings

Every write to DuckDB happens in one transaction, so a killed process never leaves a half-added dataset.
Connections are short-lived so that the dashboard and the CLI can take turns on the same file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from uig_core import atomic
from uig_core.errors import AmbiguousDataset, ConfigError, DatasetExists, DatasetNotFound, SchemaError, UIGError

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

__all__ = ["Workspace", "DatasetInfo", "default_root", "data_hash"]

log = logging.getLogger(__name__)

_CONNECT_LOCK = threading.RLock()
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,63}$")
_SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS dataset_ids START 1;
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    created TIMESTAMP NOT NULL,
    source TEXT,
    options TEXT,
    report TEXT,
    rows BIGINT,
    users BIGINT,
    items BIGINT,
    data_hash TEXT,
    current_build TEXT
);
CREATE TABLE IF NOT EXISTS builds (
    dataset_id INTEGER NOT NULL,
    build_id TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    data_hash TEXT,
    summary TEXT
);
"""


def default_root() -> Path:
    """``$UIG_WORKSPACE`` or ``./uig_workspace``."""
    return Path(os.environ.get("UIG_WORKSPACE") or "uig_workspace")


def data_hash(frame: pd.DataFrame) -> str:
    """A stable content hash of an events frame (row order matters)."""
    h = hashlib.sha256()
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:20]


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset's registry row."""

    id: int
    name: str
    created: datetime
    source: str
    options: dict[str, Any]
    report: dict[str, Any]
    rows: int
    users: int
    items: int
    data_hash: str
    current_build: str | None

    @property
    def table(self) -> str:
        """Name of the DuckDB table that holds the events."""
        return f"events_{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary used by ``uig datasets --json``."""
        return {
            "name": self.name,
            "rows": self.rows,
            "users": self.users,
            "items": self.items,
            "built": self.current_build is not None,
            "created": self.created.isoformat(),
            "source": self.source,
        }


class Workspace:
    """A folder holding the DuckDB file and the artifacts.

    Args:
        root: Folder; created on first use. Default: ``$UIG_WORKSPACE`` or ``./uig_workspace``.
        snapshot: Read the dataset registry once and reuse it until this object writes (each read otherwise
            opens DuckDB). For one short-lived command (the CLI), not for a long-lived app process,
            which must see other processes' changes.
    """

    def __init__(self, root: str | Path | None = None, *, snapshot: bool = False) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.db_path = self.root / "uig.duckdb"
        self.artifacts = self.root / "artifacts"
        self.snapshot = snapshot
        self._ready = False
        self._registry: list[DatasetInfo] | None = None

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # ------------------------------------------------------------------ connections
    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[DuckDBPyConnection]:
        """Yield a DuckDB connection; retries while another process holds the file lock."""
        import duckdb

        self.root.mkdir(parents=True, exist_ok=True)
        if write:
            self._registry = None
        try:
            with _CONNECT_LOCK:  # DuckDB's pandas scans race when threads (Streamlit sessions) connect at once
                with self._open(duckdb) as con:
                    yield con
        finally:
            if write:
                self._registry = None

    @contextmanager
    def _open(self, duckdb: ModuleType) -> Iterator[DuckDBPyConnection]:
        deadline = time.monotonic() + 30.0
        while True:
            try:
                con = duckdb.connect(str(self.db_path))
                break
            except duckdb.IOException as err:
                if "lock" not in str(err).lower() or time.monotonic() > deadline:
                    raise UIGError(f"workspace {self.root} is busy (another uig process holds it): {err}") from err
                time.sleep(0.2)
        try:
            if not self._ready:
                con.execute(_SCHEMA)
                self._ready = True
            yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ registry
    def datasets(self) -> list[DatasetInfo]:
        """All datasets, oldest first."""
        if self.snapshot and self._registry is not None:
            return list(self._registry)
        with self.connect() as con:
            rows = con.execute("SELECT * FROM datasets ORDER BY id").fetchall()
            cols = [d[0] for d in con.description]
        infos = [self._info(dict(zip(cols, r, strict=True))) for r in rows]
        if self.snapshot:
            self._registry = infos
        return list(infos)

    @staticmethod
    def _info(row: dict[str, Any]) -> DatasetInfo:
        return DatasetInfo(
            id=int(row["id"]),
            name=row["name"],
            created=row["created"],
            source=row["source"] or "",
            options=json.loads(row["options"] or "{}"),
            report=json.loads(row["report"] or "{}"),
            rows=int(row["rows"] or 0),
            users=int(row["users"] or 0),
            items=int(row["items"] or 0),
            data_hash=row["data_hash"] or "",
            current_build=row["current_build"],
        )

    def dataset(self, name: str | None = None) -> DatasetInfo:
        """Look a dataset up by name; with no name, the only dataset.

        Raises:
            DatasetNotFound: No such dataset (the message lists the names that exist).
            AmbiguousDataset: No name given and several datasets exist.
        """
        infos = self.datasets()
        names = [d.name for d in infos]
        if name is None:
            if not infos:
                raise DatasetNotFound(
                    f"workspace {self.root} has no dataset yet. Add one with `uig ingest LOG` or `uig demo`."
                )
            if len(infos) > 1:
                raise AmbiguousDataset(
                    f"workspace {self.root} has {len(infos)} datasets; choose one with --dataset NAME "
                    f"({', '.join(names)})."
                )
            return infos[0]
        for d in infos:
            if d.name == name:
                return d
        known = ", ".join(names) or "none"
        raise DatasetNotFound(f"no dataset named {name!r} in {self.root} (datasets: {known}).")

    def has_dataset(self, name: str) -> bool:
        """Whether a dataset of that name exists."""
        return any(d.name == name for d in self.datasets())

    @staticmethod
    def check_name(name: str) -> str:
        """Validate a dataset name and return it stripped."""
        name = str(name).strip()
        if not _NAME_RE.match(name):
            raise ConfigError(
                f"dataset name {name!r} is not allowed: use 1-64 letters, digits, spaces, '_', '-' or '.', "
                "starting with a letter or digit."
            )
        return name

    def check_new_name(self, name: str) -> str:
        """A valid dataset name that is not taken yet, stripped.

        Raises:
            DatasetExists: The name is taken.
        """
        name = self.check_name(name)
        if self.has_dataset(name):
            raise DatasetExists(f"a dataset named {name!r} already exists; choose another --name or delete it first.")
        return name

    def add_dataset(
        self,
        name: str,
        events: pd.DataFrame,
        *,
        source: str = "",
        options: dict | None = None,
        report: dict | None = None,
    ) -> DatasetInfo:
        """Store a new dataset's events in one transaction.

        Raises:
            DatasetExists: The name is taken.
        """
        name = self.check_new_name(name)
        with self.connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                ds_id = con.execute("SELECT nextval('dataset_ids')").fetchall()[0][0]
                con.register("incoming", events)
                con.execute(f"CREATE TABLE events_{ds_id} AS SELECT * FROM incoming")
                con.unregister("incoming")
                counts = (len(events), int(events["user_id"].nunique()), int(events["item_id"].nunique()))
                register_dataset(con, ds_id, name, source, options, report, counts, data_hash(events))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return self.dataset(name)

    def append_events(self, name: str, events: pd.DataFrame) -> DatasetInfo:
        """Append a batch to an existing dataset (one transaction; columns aligned by name).

        Raises:
            SchemaError: A column of the batch holds values the dataset's column cannot (text where it has
                numbers); nothing is appended and the dataset's columns are unchanged.
        """
        import duckdb

        info = self.dataset(name)
        with self.connect(write=True) as con:
            types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {info.table})").fetchall())
            batch = events.copy()
            _check_batch_types(info.name, batch, types)
            cols = list(types)
            for c in cols:
                if c not in batch:
                    batch[c] = None
            con.execute("BEGIN TRANSACTION")  # new columns too: a failed append leaves the table as it was
            try:
                for c in batch.columns:
                    if c not in cols:
                        kind = "DOUBLE" if pd.api.types.is_numeric_dtype(batch[c]) else "TEXT"
                        con.execute(f"ALTER TABLE {info.table} ADD COLUMN {_quote_identifier(c)} {kind}")
                        cols.append(c)
                batch = batch[cols]
                con.register("incoming", batch)
                con.execute(f"INSERT INTO {info.table} SELECT * FROM incoming")
                con.unregister("incoming")
                rows, users, items = con.execute(
                    f"SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id) FROM {info.table}"
                ).fetchone()
                # The content hash of an appended dataset chains the batches (previous hash + batch hash):
                # equal histories hash equal, and the full table need not be read back and hashed.
                chained = hashlib.sha256(f"{info.data_hash}+{data_hash(batch)}".encode()).hexdigest()[:20]
                con.execute(
                    "UPDATE datasets SET rows = ?, users = ?, items = ?, data_hash = ? WHERE id = ?",
                    [int(rows), int(users), int(items), chained, info.id],
                )
                con.execute("COMMIT")
            except duckdb.ConversionException as err:
                con.execute("ROLLBACK")
                raise SchemaError(
                    f"the batch does not fit dataset {info.name!r}: {err}. Give each column the same kind of values "
                    "as the dataset's, or rename the column that differs."
                ) from err
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return self.dataset(name)

    def load_events(self, name: str | None = None) -> pd.DataFrame:
        """All events of a dataset, in time order."""
        info = self.dataset(name)
        with self.connect() as con:
            # Through Arrow: several times faster than .df() here, same dtypes (figures: docs/ARCHITECTURE.md).
            frame = con.sql(f"SELECT * FROM {info.table}").to_arrow_table().to_pandas()
        frame = frame.sort_values("ts", kind="stable").reset_index(drop=True)
        for col in ("user_id", "item_id", "event"):
            frame[col] = frame[col].astype("string")
        return frame

    def overview(self, name: str | None = None) -> dict[str, Any]:
        """Headline figures of a dataset straight from DuckDB: events by type, users, items, time range."""
        info = self.dataset(name)
        with self.connect() as con:
            by_event = con.execute(
                f"SELECT event, count(*) FROM {info.table} GROUP BY event ORDER BY count(*) DESC"
            ).fetchall()
            first, last = con.execute(f"SELECT min(ts), max(ts) FROM {info.table}").fetchall()[0]
        return {
            "name": info.name,
            "events": info.rows,
            "users": info.users,
            "items": info.items,
            "events_by_type": {str(e): int(n) for e, n in by_event},
            "first": first,
            "last": last,
            "built": info.current_build is not None,
        }

    def rename_dataset(self, old: str, new: str) -> DatasetInfo:
        """Rename a dataset (its events and builds follow)."""
        info = self.dataset(old)
        new = self.check_name(new)
        if new != old and self.has_dataset(new):
            raise DatasetExists(f"cannot rename {old!r} to {new!r}: that name is taken.")
        with self.connect(write=True) as con:
            con.execute("UPDATE datasets SET name = ? WHERE id = ?", [new, info.id])
        saved = self.root / "segments" / f"{old}.json"  # saved segments follow the dataset
        if saved.exists():
            os.replace(saved, self.root / "segments" / f"{new}.json")
        return self.dataset(new)

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset, its events and its build records (one transaction)."""
        info = self.dataset(name)
        with self.connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"DROP TABLE IF EXISTS {info.table}")
                con.execute("DELETE FROM builds WHERE dataset_id = ?", [info.id])
                con.execute("DELETE FROM datasets WHERE id = ?", [info.id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        shutil.rmtree(self.build_root(info), ignore_errors=True)
        (self.root / "segments" / f"{info.name}.json").unlink(missing_ok=True)

    # ------------------------------------------------------------------ builds
    def build_root(self, info: DatasetInfo) -> Path:
        """Folder holding the builds of one dataset."""
        return self.artifacts / "builds" / f"dataset_{info.id}"

    def build_dir(self, name: str | None = None, build_id: str | None = None) -> Path:
        """Folder of a build (default: the dataset's current build)."""
        info = self.dataset(name)
        build_id = build_id or info.current_build
        if build_id is None:
            from uig_core.errors import NotBuilt

            raise NotBuilt(f"dataset {info.name!r} has not been built yet; run `uig build --dataset {info.name!r}`.")
        return self.build_root(info) / build_id

    def record_build(self, name: str, build_id: str, summary: dict[str, Any]) -> None:
        """Make ``build_id`` the dataset's current build and add it to the history (one transaction)."""
        info = self.dataset(name)
        with self.connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "INSERT INTO builds VALUES (?, ?, ?, ?, ?)",
                    [info.id, build_id, datetime.now(), info.data_hash, json.dumps(summary, default=str)],
                )
                con.execute("UPDATE datasets SET current_build = ? WHERE id = ?", [build_id, info.id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def set_current_build(self, name: str, build_id: str) -> None:
        """Point the dataset at an earlier build (rollback)."""
        info = self.dataset(name)
        from uig_core.build.layout import is_complete

        if not is_complete(self.build_root(info) / build_id):
            raise ConfigError(f"build {build_id!r} of {name!r} is not on disk; see `uig builds`.")
        with self.connect(write=True) as con:
            con.execute("UPDATE datasets SET current_build = ? WHERE id = ?", [build_id, info.id])

    def builds(self, name: str | None = None) -> list[dict[str, Any]]:
        """Build history of a dataset, oldest first."""
        info = self.dataset(name)
        with self.connect() as con:
            rows = con.execute(
                "SELECT build_id, created, data_hash, summary FROM builds WHERE dataset_id = ? ORDER BY created",
                [info.id],
            ).fetchall()
        return [
            {
                "build_id": b,
                "created": c.isoformat(),
                "data_hash": h,
                "current": b == info.current_build,
                **json.loads(s or "{}"),
            }
            for b, c, h, s in rows
        ]

    def pseudonymize_key(self) -> bytes:
        """The workspace's secret key for pseudonymising user ids (created on first use, never exported)."""
        path = self.root / "secret.key"
        if not path.exists():
            atomic.write_bytes(path, os.urandom(32).hex().encode())
            os.chmod(path, 0o600)
        return bytes.fromhex(path.read_text().strip())

    @contextmanager
    def build_lock(self, info: DatasetInfo) -> Iterator[int]:
        """Hold the dataset's build lock; on entry, remove what killed builds left behind.

        Yields:
            How many stale temporary folders were removed.

        Raises:
            UIGError: Another process is building this dataset.
        """
        import fcntl

        root = self.build_root(info)
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as err:
                raise UIGError(
                    f"dataset {info.name!r} is being built by another process; wait for it to finish."
                ) from err
            removed = 0
            for stale in [*root.glob(".*.tmp"), *root.glob(".*.old-*")]:
                shutil.rmtree(stale, ignore_errors=True)
                removed += 1
            try:
                yield removed
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ artifacts & settings
    def artifact_dir(self, kind: str, key: str) -> Path:
        """Folder for an artifact of ``kind`` keyed by ``key`` (a content hash)."""
        return self.artifacts / kind / key

    @property
    def settings_path(self) -> Path:
        """Path of the workspace settings file."""
        return self.root / "settings.json"

    def settings(self) -> dict[str, Any]:
        """Workspace settings (empty when none were saved)."""
        if self.settings_path.exists():
            return atomic.read_json(self.settings_path)
        return {}

    def update_settings(self, **values: Any) -> dict[str, Any]:
        """Merge values into the settings file (atomic write)."""
        current = self.settings()
        current.update(values)
        atomic.write_json(self.settings_path, current)
        return current


_NUMERIC_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL")


def register_dataset(
    con: DuckDBPyConnection,
    ds_id: int,
    name: str,
    source: str,
    options: dict | None,
    report: dict | None,
    counts: tuple[int, int, int],
    content_hash: str,
) -> None:
    """Add a dataset's registry row (inside the caller's transaction); ``counts`` is ``(rows, users, items)``."""
    rows, users, items = (int(c) for c in counts)
    con.execute(
        "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [ds_id, name, datetime.now(), source, json.dumps(options or {}), json.dumps(report or {}, default=str)]
        + [rows, users, items, content_hash],
    )


def _quote_identifier(name: str) -> str:
    """A column name as a DuckDB identifier, whatever characters a log gave it."""
    return '"' + str(name).replace('"', '""') + '"'


def _check_batch_types(dataset: str, batch: pd.DataFrame, types: dict[str, str]) -> None:
    """Refuse, naming the column and a value, a batch whose text lands in one of the dataset's numeric columns."""
    for col, kind in types.items():
        if col not in batch or not str(kind).upper().startswith(_NUMERIC_TYPES):
            continue
        values = batch[col]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        present = values.dropna()
        bad = present[pd.to_numeric(present, errors="coerce").isna()]
        if len(bad):
            raise SchemaError(
                f"column {col!r} of dataset {dataset!r} holds numbers, but the new batch has {bad.iloc[0]!r} there "
                f"({len(bad):,} such rows); fix those values, or rename the batch's column so it is kept apart."
            )
