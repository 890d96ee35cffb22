"""The upload flow behind the dashboard's *Upload logs* page: stage → inspect → map → validate → add → build.

Each step is a plain function so the page stays thin and tests can drive the flow without a browser:

1. :func:`stage_upload` writes the uploaded bytes into ``<workspace>/uploads/`` (size-checked, content-named);
   :func:`resolve_path` checks a server path instead.
2. :func:`inspect_log` reads the file once (cached by path, size and mtime) and suggests a column mapping.
3. :func:`event_values` lists the raw values of the event column, with the auto-mapped event of each.
4. :func:`validate` maps and cleans with the user's choices (cached per choice) and returns the ingest report.
5. The page stores the validated events with ``Workspace.add_dataset`` / ``append_events`` and builds with
   :func:`uig_core.build.pipeline.build`, shown step by step through :class:`uig_core.progress.StepTracker`;
   :mod:`uig_core.build.history` shows the history and rolls back.

Reads are cached in-process (a small LRU) because the page reruns on every widget change; the cached objects
are shared and must be treated as read-only.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import logging
import os
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from uig_core import atomic
from uig_core.errors import ConfigError, IngestError, SchemaError, UIGError
from uig_core.ingest.clean import clean_frame
from uig_core.ingest.reader import path_problem, read_table, shown_path
from uig_core.ingest.report import IngestReport, IngestResult, page_wording
from uig_core.ingest.values import count_text
from uig_core.schema import CANONICAL_FIELDS, EVENTS, REQUIRED_FIELDS, auto_map_columns, auto_map_event
from uig_core.store.workspace import Workspace

__all__ = [
    "DEFAULT_MAX_UPLOAD_MB",
    "LogPreview",
    "max_upload_bytes",
    "check_size",
    "stage_upload",
    "resolve_path",
    "inspect_log",
    "event_values",
    "validate",
    "suggest_name",
    "shown_name",
    "datasets_table",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_MB = 200.0
UPLOAD_TYPES = ("csv", "gz", "parquet", "pq", "tsv", "txt")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STAGED = re.compile(r"^[0-9a-f]{12}-")  # the content-hash prefix of a staged upload's name


def shown_name(path: str | Path) -> str:
    """A file's name as the person chose it: a staged upload loses its content-hash prefix."""
    name = Path(str(path)).name
    return _STAGED.sub("", name) if Path(str(path)).parent.name == "uploads" else name


def datasets_table(infos: list) -> pd.DataFrame:
    """The Upload page's table of datasets (:func:`uig_core.build.history.datasets_table`), sources by shown name."""
    from uig_core.build.history import datasets_table as table

    frame = table(infos)
    frame["source"] = [shown_name(d.source) if d.source else "" for d in infos]
    return frame


# ----------------------------------------------------------------------------------------------- size


def max_upload_bytes() -> int:
    """The upload limit in bytes: ``$UIG_MAX_UPLOAD_MB`` megabytes (default 200).

    Raises:
        ConfigError: The variable is not a positive number.
    """
    raw = os.environ.get("UIG_MAX_UPLOAD_MB", "").strip()
    if not raw:
        return int(DEFAULT_MAX_UPLOAD_MB * 1e6)
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb > 0:
        raise ConfigError(f"UIG_MAX_UPLOAD_MB must be a positive number of megabytes. Got {raw!r} instead.")
    return int(mb * 1e6)


def check_size(n_bytes: int, name: str, limit: int | None = None) -> None:
    """Refuse a file above the upload limit, politely.

    Raises:
        IngestError: ``n_bytes`` is above ``limit`` (default :func:`max_upload_bytes`).
    """
    limit = max_upload_bytes() if limit is None else int(limit)
    if n_bytes > limit:
        raise IngestError(
            f"{name}: {n_bytes / 1e6:,.1f} MB is above this app's upload limit of {limit / 1e6:,.0f} MB. "
            "Split the log into smaller files and append them to one dataset, or ask whoever runs the app "
            "to raise UIG_MAX_UPLOAD_MB."
        )


# ----------------------------------------------------------------------------------------------- staging


def stage_upload(ws: Workspace, filename: str, data: bytes, *, max_bytes: int | None = None) -> Path:
    """Keep an uploaded file under ``<workspace>/uploads/`` and return its path.

    The stored name starts with a hash of the content, so uploading the same file twice reuses it.

    Raises:
        IngestError: The file is empty, above the upload limit, or cannot be stored (disk full, no permission).
    """
    shown = Path(str(filename)).name or "upload"
    check_size(len(data), shown, max_bytes)
    if not data:
        raise IngestError(f"{shown}: the file is empty (0 bytes). Export the log again with a header row.")
    safe = _SAFE.sub("_", shown).strip("._")[-80:] or "upload.csv"
    digest = hashlib.sha256(data).hexdigest()[:12]
    dest = ws.root / "uploads" / f"{digest}-{safe}"
    if not dest.exists():
        try:
            atomic.write_bytes(dest, data)
        except OSError as err:
            raise IngestError(
                f"{shown}: could not keep the upload in {dest.parent} ({err.strerror or err}); free disk space or "
                "give the app write access to its workspace, then upload again."
            ) from err
    return dest


def resolve_path(text: str, *, max_bytes: int | None = None) -> Path:
    """Check a file path typed on the server side and return it.

    Raises:
        IngestError: Empty, missing, a folder, unreadable (permission, a name too long, an unknown ``~user``) or
            above the upload limit.
    """
    text = str(text or "").strip().strip('"').strip("'")
    if not text:
        raise IngestError("Type the path of a CSV, CSV.GZ or Parquet file on the server.")
    if "\x00" in text:  # exists() would only say False; the path was mistyped or pasted with binary junk
        raise IngestError(path_problem(text, ValueError("embedded null byte")))
    try:
        path = Path(text).expanduser()
    except RuntimeError as err:  # '~name' for a user the server does not know, or no home folder at all
        home = text.split("/", 1)[0]
        raise IngestError(
            f"{shown_path(text)}: {home!r} cannot be expanded on the server (no such user, or no home folder). "
            "Type the full path, starting with '/'."
        ) from err
    try:
        if not path.exists():
            raise IngestError(
                f"{shown_path(path)}: no such file on the server. Check the path (it is read by the app's process)."
            )
        if path.is_dir():
            raise IngestError(f"{shown_path(path)} is a folder; give a CSV, CSV.GZ or Parquet file.")
        size = path.stat().st_size
        readable = os.access(path, os.R_OK)
    except (OSError, ValueError) as err:  # a name too long, a folder it may not search, a NUL character
        raise IngestError(path_problem(path, err)) from err
    if not readable:
        raise IngestError(path_problem(path, PermissionError(errno.EACCES, "Permission denied", str(path))))
    check_size(size, path.name, max_bytes)
    return path


# ----------------------------------------------------------------------------------------------- inspect


@dataclass(frozen=True)
class LogPreview:
    """A log file as read, before mapping.

    Attributes:
        path: The file.
        frame: The whole table as read (strings for CSV; Parquet keeps its types). Read-only: shared.
        report: The read report (encoding, delimiter, ragged rows). Copied before cleaning.
        suggested: ``{field: column}`` from the auto-mapping (fields with no match are absent).
        token: Identifies this read of the file (path, size, modification time).
    """

    path: Path
    frame: pd.DataFrame
    report: IngestReport
    suggested: dict[str, str] = field(default_factory=dict)
    token: str = ""

    @property
    def columns(self) -> list[str]:
        """Column names as read."""
        return [str(c) for c in self.frame.columns]

    @property
    def rows(self) -> int:
        """Data rows read."""
        return len(self.frame)

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.frame.head(n)

    def facts(self) -> list[str]:
        """One line per thing worth knowing about how the file was read."""
        r = self.report
        out = [f"{count_text(self.rows, 'data row')}, {count_text(len(self.columns), 'column')}"]
        if r.encoding and r.encoding != "parquet":
            out.append(f"encoding {r.encoding}, delimiter {r.delimiter!r}")
        for reason, n in r.skipped.items():
            out.append(f"skipped {count_text(n, 'row')}: {page_wording(reason)}")
        out.extend(f"warning: {page_wording(w)}" for w in r.warnings)
        return out


def inspect_log(path: str | Path, *, max_bytes: int | None = None) -> LogPreview:
    """Read a log once and suggest its column mapping (cached by path, size and modification time).

    Raises:
        IngestError: The file cannot be read (empty, binary, damaged, above the limit, no data rows).
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as err:
        raise IngestError(f"{path}: cannot read the file ({err.strerror or err}).") from err
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    check_size(st.st_size, path.name, limit)
    return _inspect(str(path.resolve()), st.st_size, st.st_mtime_ns, limit)


@lru_cache(maxsize=2)
def _inspect(path: str, size: int, mtime_ns: int, limit: int) -> LogPreview:
    name, shown = Path(path).name, shown_name(path)
    try:
        frame, report = read_table(path, max_bytes=limit)
    except UIGError as err:
        if shown == name:
            raise
        raise type(err)(str(err).replace(name, shown)) from err  # the staged name means nothing to the person
    except zlib.error as err:  # a damaged gzip stream can fail inside zlib rather than gzip
        raise IngestError(f"{shown}: the gzip stream is damaged ({err}). Compress or export the log again.") from err
    except Exception as err:  # noqa: BLE001 - any other reader failure is still a message about this file
        raise IngestError(
            f"{shown}: the file cannot be read as CSV, CSV.GZ or Parquet ({type(err).__name__}: {err})."
        ) from err
    suggested = {f: c for c, f in auto_map_columns(frame.columns).items()}
    return LogPreview(Path(path), frame, report, suggested, f"{path}:{size}:{mtime_ns}")


def event_values(preview: LogPreview, column: str | None, *, limit: int = 40) -> pd.DataFrame:
    """Distinct values of the event column, most frequent first.

    Returns:
        ``value, rows, suggested`` where ``suggested`` is the auto-mapped event or None; at most ``limit`` rows.
    """
    if not column or column not in preview.frame:
        return pd.DataFrame(
            {
                "value": pd.Series(dtype="string"),
                "rows": pd.Series(dtype="int64"),
                "suggested": pd.Series(dtype="object"),
            }
        )
    counts = preview.frame[column].astype("string").str.strip().value_counts().head(limit)
    out = pd.DataFrame({"value": counts.index.astype("string"), "rows": counts.to_numpy(dtype="int64")})
    out["suggested"] = [auto_map_event(str(v)) for v in out["value"]]
    return out


# ----------------------------------------------------------------------------------------------- validate


def column_mapping(chosen: Mapping[str, str | None], columns: list[str]) -> dict[str, str]:
    """Turn ``{field: column or None}`` from the page's selects into ``{column: field}``.

    Raises:
        SchemaError: A required field has no column, a field names a missing column, or one column is chosen
            for two fields.
    """
    out: dict[str, str] = {}
    for fld, col in chosen.items():
        if fld not in CANONICAL_FIELDS:
            raise SchemaError(f"'{fld}' is not a canonical field; use one of {', '.join(CANONICAL_FIELDS)}.")
        if col is None or col == "":
            continue
        if col not in columns:
            raise SchemaError(
                f"'{fld}' is mapped to column {col!r}, which the file does not have. "
                f"Columns found: {', '.join(columns)}."
            )
        if col in out:
            raise SchemaError(f"Column {col!r} is chosen for both '{out[col]}' and '{fld}'; pick it for one only.")
        out[col] = fld
    for req in REQUIRED_FIELDS:
        if req not in out.values():
            raise SchemaError(f"Choose the column that holds '{req}' (columns found: {', '.join(columns)}).")
    return out


#: What a validation depends on besides the file: column map, event map (both sorted), item pattern, pseudonym key.
_Choices = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], str | None, bytes | None]


def validate(
    preview: LogPreview,
    chosen: Mapping[str, str | None],
    *,
    event_map: Mapping[str, str] | None = None,
    item_pattern: str | None = None,
    pseudonymize_key: bytes | None = None,
) -> IngestResult:
    """Map and clean the previewed log with the user's choices.

    Args:
        preview: From :func:`inspect_log`.
        chosen: ``{field: column or None}``; a field set to None stays unmapped even when a column's name would
            auto-map onto it (that column is kept as an extra column named ``extra_<column>``).
        event_map: ``{raw value: event}``; values left out and not recognised are skipped and reported.
        item_pattern: Keep only items whose id matches this regular expression.
        pseudonymize_key: Replace user ids with a keyed hash.

    Returns:
        The cleaned events and the validation/cleaning report.

    Raises:
        SchemaError, IngestError: With a message naming the column, value and fix.
    """
    mapping = column_mapping(chosen, preview.columns)
    for value, event in (event_map or {}).items():
        if event not in EVENTS:
            raise SchemaError(f"event value {value!r} is mapped to {event!r}; use one of {', '.join(EVENTS)}.")
    if item_pattern:
        try:
            re.compile(item_pattern)
        except re.error as err:
            raise SchemaError(f"item pattern {item_pattern!r} is not a valid regular expression ({err}).") from err
    key: _Choices = (
        tuple(sorted(mapping.items())),
        tuple(sorted((event_map or {}).items())),
        item_pattern or None,
        pseudonymize_key,
    )
    return _validate(preview, key)


_VALIDATED: dict[tuple[str, _Choices], IngestResult] = {}  # (preview token, choices) -> result
_VALIDATED_LOCK = threading.Lock()


def _validate(preview: LogPreview, key: _Choices) -> IngestResult:
    """Clean the preview with ``key``'s choices, served from a small cache (the page reruns on every change)."""
    cache_key = (preview.token, key)
    with _VALIDATED_LOCK:
        hit = _VALIDATED.get(cache_key)
    if hit is not None:
        return hit
    mapping = dict(key[0])
    frame = _block_unchosen(preview.frame, mapping)
    try:
        result = clean_frame(
            frame,
            copy.deepcopy(preview.report),
            mapping=mapping,
            event_map=dict(key[1]),
            item_pattern=key[2],
            pseudonymize_key=key[3],
        ).for_page()
    except UIGError as err:
        raise type(err)(page_wording(str(err)).replace(preview.path.name, shown_name(preview.path))) from err
    with _VALIDATED_LOCK:
        while len(_VALIDATED) >= 3:
            _VALIDATED.pop(next(iter(_VALIDATED)))
        _VALIDATED[cache_key] = result
    return result


def _block_unchosen(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Rename columns the auto-mapping would put on a field the user left empty, so they stay extras."""
    renames: dict[str, str] = {}
    columns = [str(c) for c in frame.columns]
    for _ in range(len(columns)):
        auto = auto_map_columns(columns, mapping)
        unwanted = [c for c in auto if c not in mapping]
        if not unwanted:
            break
        for c in unwanted:
            new = f"extra_{c}"
            while new in columns:
                new = f"extra_{new}"
            renames[c] = new
            columns[columns.index(c)] = new
    return frame.rename(columns=renames) if renames else frame


def suggest_name(ws: Workspace, filename: str) -> str:
    """A free dataset name derived from a file name (``events.csv.gz`` → ``events``, then ``events_2``…)."""
    stem = Path(str(filename)).name.split(".")[0]
    stem = re.sub(r"^[0-9a-f]{12}-", "", stem)  # staged uploads carry a content hash prefix
    base = re.sub(r"[^A-Za-z0-9_.\- ]+", "_", stem).strip("_ .-")[:56] or "dataset"
    if not base[0].isalnum():
        base = f"d{base}"
    taken = {d.name for d in ws.datasets()}
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name
