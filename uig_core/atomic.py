"""Atomic file writes: write to a temporary sibling, fsync, then rename into place.

A reader (or a build killed with ``kill -9``) therefore sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "open_atomic",
    "write_bytes",
    "write_json",
    "read_json",
    "save_npz",
    "load_npz",
    "map_npz",
    "write_parquet",
    "atomic_dir",
]

log = logging.getLogger(__name__)


@contextmanager
def open_atomic(path: str | Path, *, mode: int | None = None) -> Iterator[Any]:
    """Yield a binary file handle whose content replaces ``path`` atomically when the block ends cleanly.

    ``mode`` sets the file's permissions (``mkstemp`` creates 0600), e.g. 0o644 for files meant to be shared.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with open_atomic(path) as fh:
        fh.write(data)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON atomically."""
    write_bytes(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default).encode("utf-8"))


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Save arrays to an ``.npz`` atomically (no pickled objects)."""
    with open_atomic(path) as fh:  # streamed: no in-memory copy of large arrays
        np.savez(fh, **arrays)


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Load an ``.npz`` written by :func:`save_npz`, refusing pickled objects."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def map_npz(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` (as :func:`save_npz` writes) as copy-on-write memory maps.

    Opening costs a read of the zip directory, not of the arrays: a query touches only the pages it uses, and
    processes serving the same file share them through the page cache. Writes to a mapped array stay private to the
    process (``mmap_mode="c"``). Compressed members, which cannot be mapped, are read whole.
    """
    import zipfile

    path = Path(path)
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            name = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename
            if info.compress_type != zipfile.ZIP_STORED:
                with zf.open(info) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)  # the local file header: its name and extra lengths sit at bytes 26..29
            start = (
                info.header_offset
                + 30
                + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little")
            )
            fh.seek(start)
            version = np.lib.format.read_magic(fh)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(fh)
            if dtype.hasobject:
                raise ValueError(f"{path}: member {name!r} holds Python objects; refusing to load it.")
            offset = fh.tell()
            if int(np.prod(shape)) == 0:
                out[name] = np.zeros(shape, dtype=dtype)
                continue
            mapped = np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape, order="F" if fortran else "C")
            out[name] = mapped.view(np.ndarray)  # a plain array over the map (memmap's subclass leaks into results)
    return out


def write_parquet(path: str | Path, frame: pd.DataFrame) -> None:
    """Write a frame as Parquet atomically."""
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    write_bytes(path, buf.getvalue())


@contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``final`` only when the block finishes without error."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
