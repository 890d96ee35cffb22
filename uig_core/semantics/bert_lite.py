"""A lean runtime for sentence-transformers BERT models (mean pooling, optional normalisation).

Why: ``import sentence_transformers`` is slow (it pulls in most of ``transformers``) and dwarfs embedding the
few dozen new titles of an incremental update (figures in docs/ARCHITECTURE.md). This module runs the *same*
model folder — the same weights (``model.safetensors``), tokenizer (``tokenizer.json``) and pooling — with
numpy and the ``tokenizers`` library, so it starts in a fraction of a second. ``tests/test_bert_lite.py``
checks that its vectors match sentence-transformers' on real titles.

Only the shape it was written for is accepted (see :func:`supports`); anything else uses sentence-transformers.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LiteBert", "supports"]

log = logging.getLogger(__name__)

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def _read(path: Path) -> Any:
    """Parse one of the model folder's JSON files (``modules.json`` is a list, the configs are objects)."""
    return json.loads(path.read_text(encoding="utf-8"))


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function to within 1.5e-7 (Abramowitz & Stegun 7.1.26), float32 in, float32 out.

    Not ``scipy.special.erf``: importing scipy.special costs each process more than this whole runtime spends
    on GELUs for an update's titles (figures in docs/ARCHITECTURE.md); at float32 precision the two agree
    (tests/test_bert_lite.py).
    """
    a = np.abs(x)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))
        )
    )
    return np.copysign(np.float32(1.0) - poly * np.exp(-a * a), x)


def _map_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only memory maps (no copy; pages load as they are used).

    The format is an 8-byte little-endian header length, a JSON header ``{name: {dtype, shape, data_offsets}}``
    and the raw little-endian data. Mapping instead of ``safetensors.numpy.load_file`` (which copies the whole
    file) saves load time in every process, and the word-embedding table, the largest tensor, is only touched at
    the rows of the tokens used (figures in docs/ARCHITECTURE.md).
    Other dtypes (bfloat16, ...) go through ``load_file``.
    """
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(size))
    header.pop("__metadata__", None)
    if any(v["dtype"] not in _SAFETENSORS_DTYPES for v in header.values()):
        from safetensors.numpy import load_file

        return load_file(str(path))
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, v in header.items():
        begin, end = v["data_offsets"]
        dtype = np.dtype(_SAFETENSORS_DTYPES[v["dtype"]]).newbyteorder("<")
        out[name] = raw[8 + size + begin : 8 + size + end].view(dtype).reshape(v["shape"])
    return out


def supports(folder: str | Path) -> bool:
    """True when the folder is a BERT sentence-transformers model this runtime reproduces exactly."""
    folder = Path(folder)
    try:
        modules = _read(folder / "modules.json")
        config = _read(folder / "config.json")
        types = [m["type"] for m in modules]
        if types[:2] != [_TRANSFORMER, _POOLING] or any(t != _NORMALIZE for t in types[2:]):
            return False
        if modules[0].get("path", "") not in ("", "."):
            return False
        pooling = _read(folder / modules[1]["path"] / "config.json")
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
        )
        return bool(
            mean_only
            and config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (folder / "model.safetensors").is_file()
            and (folder / "tokenizer.json").is_file()
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False


class LiteBert:
    """Encode texts with a BERT sentence-transformers folder accepted by :func:`supports` (numpy only).

    Args:
        folder: The model folder.
    """

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        modules = _read(folder / "modules.json")
        self.config = _read(folder / "config.json")
        st_file = folder / "sentence_bert_config.json"
        st_config = _read(st_file) if st_file.exists() else {}
        self.normalize = any(m["type"] == _NORMALIZE for m in modules)
        self.max_length = min(int(st_config.get("max_seq_length") or 512), int(self.config["max_position_embeddings"]))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()
        weights = _map_safetensors(folder / "model.safetensors")
        prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""
        self.w = {k[len(prefix) :]: np.asarray(v, dtype=np.float32) for k, v in weights.items() if k.startswith(prefix)}
        self.layers = int(self.config["num_hidden_layers"])
        self.heads = int(self.config["num_attention_heads"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.pad_id = int(self.config.get("pad_token_id") or 0)

    def get_sentence_embedding_dimension(self) -> int:
        """Vector width."""
        return int(self.config["hidden_size"])

    def encode(
        self, texts: list[str], batch_size: int = 64, normalize_embeddings: bool = False, **_: object
    ) -> np.ndarray:
        """``(len(texts), hidden)`` float32 sentence vectors (unit norm when asked or when the folder normalises).

        Extra keyword arguments of ``SentenceTransformer.encode`` (``convert_to_numpy``, ...) are accepted and
        ignored, so callers need not know which runtime they hold.
        """
        out = np.zeros((len(texts), self.get_sentence_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch(list(texts[start : start + batch_size]))
            width = max(len(e.ids) for e in enc)
            ids = np.full((len(enc), width), self.pad_id, dtype=np.int64)
            types = np.zeros((len(enc), width), dtype=np.int64)
            mask = np.zeros((len(enc), width), dtype=bool)
            for r, e in enumerate(enc):
                n = len(e.ids)
                ids[r, :n] = e.ids
                types[r, :n] = e.type_ids
                mask[r, :n] = True
            hidden = self._forward(ids, types, mask)
            m = mask[..., None].astype(np.float32)
            vec = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            if self.normalize or normalize_embeddings:
                vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
            out[start : start + len(enc)] = vec
        return out

    def pooled(self, ids: np.ndarray) -> np.ndarray:
        """Mean-pooled output states of token-id rows that need no padding (``(b, t)`` int → ``(b, hidden)``).

        The teacher's view of whole, equal-length id sequences (special tokens included as given), unnormalised:
        what :mod:`uig_core.semantics.static` distils its token vectors from.
        """
        ids = np.asarray(ids, dtype=np.int64)
        hidden = self._forward(ids, np.zeros_like(ids), np.ones(ids.shape, dtype=bool))
        return hidden.mean(axis=1)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = np.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, t = ids.shape
        hidden = self.get_sentence_embedding_dimension()
        head = hidden // self.heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        bias = np.where(mask, 0.0, -np.inf).astype(np.float32)[:, None, None, :]  # padding gets no attention
        scale = np.float32(1.0 / math.sqrt(head))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # One 2-D GEMM over all tokens (a 3-D @ 2-D matmul would run one small GEMM per text). Weights are
                # stored (out, in): the transposed view goes to BLAS as is, no copy (transposing every matrix up
                # front would cost each process a measurable start-up delay; figures in docs/ARCHITECTURE.md).
                out = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out.reshape(*h.shape[:-1], -1)

            q, k, v = (
                lin(x, f"attention.self.{n}").reshape(b, t, self.heads, head).transpose(0, 2, 1, 3)
                for n in ("query", "key", "value")
            )
            att = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, t, hidden)
            x = self._norm(lin(ctx, "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = lin(x, "intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner / np.float32(math.sqrt(2.0))))  # BERT's exact "gelu"
            x = self._norm(lin(inner, "output.dense") + x, p + "output.LayerNorm")
        return x.astype(np.float32, copy=False)
