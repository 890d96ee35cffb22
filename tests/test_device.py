import numpy as np
import pytest
import torch

from uig_core.device import DEVICE_ENV, torch_device
from uig_core.errors import ConfigError


@pytest.fixture
def fresh(monkeypatch):
    torch_device.cache_clear()
    yield monkeypatch
    torch_device.cache_clear()


def test_automatic_choice_follows_cuda(fresh):
    fresh.delenv(DEVICE_ENV, raising=False)
    assert torch_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_env_overrides_and_the_choice_is_kept(fresh):
    fresh.setenv(DEVICE_ENV, " CPU ")
    assert torch_device() == "cpu"
    fresh.setenv(DEVICE_ENV, "nonsense")  # chosen once: a later change is not seen until the cache is cleared
    assert torch_device() == "cpu"
    torch_device.cache_clear()
    with pytest.raises(ConfigError, match="cpu, cuda, cuda:N or mps.*'nonsense'"):
        torch_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_names_the_fix(fresh):
    fresh.setenv(DEVICE_ENV, "cuda:0")
    with pytest.raises(ConfigError, match="UIG_DEVICE=cpu"):
        torch_device()


def test_a_transformer_embedder_runs_on_the_chosen_device(fresh):
    """The full MiniLM path (sentence-transformers, not the static model) loads on torch_device()."""
    from uig_core.semantics import embeddings

    fresh.setenv(DEVICE_ENV, "cpu")
    fresh.setenv("UIG_EMBED_RUNTIME", "sentence-transformers")  # not the numpy BERT
    emb = embeddings.Embedder(model="minilm")
    vectors = emb.embed(["red wool scarf", "blue wool scarf", "garden hose"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # planted: the scarves are nearer each other
    model = next(m for k, m in embeddings._MODELS.items() if k[0] == emb.model_id and k[1] == "cpu" and not k[2])
    assert str(model.device) == "cpu"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
