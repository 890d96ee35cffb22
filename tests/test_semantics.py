"""Item texts, the embedding disk cache (fake and real model), the ID-only path."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from uig_core.errors import ConfigError
from uig_core.semantics import embeddings as semantics
from uig_core.semantics.embeddings import Embedder, item_texts, text_hash


def fake_encoder(calls: list[list[str]]):
    """A deterministic stand-in for the model: unit vectors seeded by the text hash; records each call."""

    def encode(self, texts, progress):  # noqa: ANN001, ANN202 - signature of Embedder._encode
        calls.append(list(texts))
        out = np.stack(
            [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)).normal(size=8) for t in texts]
        ).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return encode


@pytest.fixture
def fake(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(Embedder, "_encode", fake_encoder(calls))
    return calls


def test_item_texts_title_category_and_id_only():
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "title": ["Lunch Bag Red", None, "c", "  Tea   Mug ", "Skin Serum"],
            "category": ["Bags", "Kitchen", None, None, "skin"],
        }
    )
    texts, has = item_texts(items)
    assert texts == ["Lunch Bag Red (Bags)", "Kitchen", "", "Tea Mug", "Skin Serum"]
    # "c": its title is its own id (the items frame's fallback) and it has no category -> ID-only
    assert has.tolist() == [True, True, False, True, True]


def test_item_texts_accepts_item_title_column():
    texts, has = item_texts(pd.DataFrame({"item_id": ["x"], "item_title": ["Garden Hose"]}))
    assert texts == ["Garden Hose"] and has.all()


def test_cache_embeds_only_new_texts(tmp_path, fake):
    texts = [f"product number {i}" for i in range(20)]
    emb = Embedder(cache_dir=tmp_path)
    first = emb.embed(texts)
    assert emb.n_new_ == 20 and emb.n_cached_ == 0
    more = emb.embed(texts + [f"new product {i}" for i in range(10)])
    assert emb.n_new_ == 10 and emb.n_cached_ == 20
    np.testing.assert_array_equal(more[:20], first)
    # a fresh object (a rebuild in another process) reads the cache from disk
    again = Embedder(cache_dir=tmp_path)
    out = again.embed(texts[::-1])
    assert again.n_new_ == 0
    np.testing.assert_array_equal(out, first[::-1])
    assert [len(c) for c in fake] == [20, 10]


def test_cache_file_has_no_pickle_and_is_keyed_by_model(tmp_path, fake):
    emb = Embedder(cache_dir=tmp_path)
    emb.embed(["a tea mug", "a lunch bag"])
    files = list(tmp_path.glob("*.npz"))
    assert files == [emb.cache_path]
    with np.load(files[0], allow_pickle=False) as z:
        assert set(z["keys"].tolist()) == {text_hash("a tea mug"), text_hash("a lunch bag")}
        assert z["vectors"].dtype == np.float32 and z["vectors"].shape == (2, 8)
        assert str(z["model_id"]) == emb.model_id
    assert not list(tmp_path.glob("*.tmp*"))  # atomic write left no temporary file


def test_duplicates_and_whitespace_embed_once(tmp_path, fake):
    emb = Embedder(cache_dir=tmp_path)
    out = emb.embed(["Tea Mug", "Tea  Mug ", "Tea Mug"])
    assert emb.n_new_ == 1
    np.testing.assert_array_equal(out[0], out[1])


def test_empty_texts_take_the_id_only_path(tmp_path, fake):
    emb = Embedder(cache_dir=tmp_path)
    out = emb.embed(["tea mug", "", "lunch bag"])
    assert emb.n_empty_ == 1 and emb.n_new_ == 2
    assert np.all(out[1] == 0)
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert all("" not in c for c in fake)


def test_damaged_cache_is_rebuilt(tmp_path, fake):
    emb = Embedder(cache_dir=tmp_path)
    emb.embed(["x1", "x2"])
    emb.cache_path.write_bytes(b"not an npz")
    again = Embedder(cache_dir=tmp_path)
    again.embed(["x1", "x2"])
    assert again.n_new_ == 2


def test_progress_is_reported(tmp_path, fake):
    seen: list[tuple[float, str]] = []
    Embedder(cache_dir=tmp_path).embed(["a", "b"], progress=lambda f, m: seen.append((f, m)))
    assert seen[-1][0] == 1.0 and "2 texts embedded" in seen[-1][1]
    seen.clear()
    Embedder(cache_dir=tmp_path).embed(["a", "b"], progress=lambda f, m: seen.append((f, m)))
    assert seen[-1][0] == 1.0


def test_bad_parameters_raise():
    with pytest.raises(ConfigError, match="batch_size"):
        Embedder(batch_size=0)
    with pytest.raises(ConfigError, match="not a model folder"):
        Embedder(model=__file__)


def test_local_model_folder_id_follows_content(tmp_path):
    a = tmp_path / "m1"
    a.mkdir()
    (a / "config.json").write_text('{"dim": 8}')
    (a / "model.safetensors").write_bytes(b"\0" * 100)
    b = tmp_path / "m2"
    b.mkdir()
    (b / "config.json").write_text('{"dim": 8}')
    (b / "model.safetensors").write_bytes(b"\0" * 100)
    id_a = Embedder(model=a).model_id
    assert id_a.split("@")[1] == Embedder(model=b).model_id.split("@")[1]  # same content, same key
    (b / "config.json").write_text('{"dim": 16}')
    assert Embedder(model=b).model_id.split("@")[1] != id_a.split("@")[1]


@pytest.mark.slow
def test_real_model_cache_embeds_exactly_the_new_texts(tmp_path):
    titles = [
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "LUNCH BAG RED RETROSPOT",
        "JUMBO BAG PINK POLKADOT",
        "SET OF 3 CAKE TINS PANTRY DESIGN",
        "PAPER CHAIN KIT 50'S CHRISTMAS",
    ]
    extra = [f"CHRISTMAS DECORATION NUMBER {i}" for i in range(10)]
    emb = Embedder(cache_dir=tmp_path, batch_size=8)
    first = emb.embed(titles)
    assert emb.n_new_ == len(titles)
    assert first.shape == (5, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-4)
    rebuilt = Embedder(cache_dir=tmp_path, batch_size=8)
    second = rebuilt.embed(titles + extra)
    assert rebuilt.n_new_ == 10 and rebuilt.n_cached_ == 5
    np.testing.assert_allclose(second[:5], first, atol=1e-6)
    # meaning: the two bags are closer to each other than to the T-light holder
    sim = first @ first.T
    assert sim[1, 2] > sim[0, 1]
    assert semantics.DEFAULT_MODEL in rebuilt.model_id


def test_item_texts_collapse_every_unicode_space_like_str_split() -> None:
    """The column-wise cleaning must give the texts (and so the cache keys) the per-value definition gives."""
    from uig_core.semantics.embeddings import _clean

    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
    items = pd.DataFrame(
        {
            "item_id": ["1", "2", "3", "4", None],
            "title": [f"{spaces}Red{spaces}Mug{spaces}", "2", None, "Lamp", "<b>x</b>\u00a0 y"],
            "category": ["Kitchen", None, f"Garden{spaces}Tools", "lamp", "Décor 🎉"],
        }
    )
    texts, has = item_texts(items)
    assert texts == ["Red Mug (Kitchen)", "", "Garden Tools", "Lamp", "<b>x</b> y (Décor 🎉)"]
    assert has.tolist() == [True, False, True, True, True]
    assert texts[0] == f"{_clean(items.title[0])} ({_clean(items.category[0])})"
