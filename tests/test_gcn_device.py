"""The graph networks train on :func:`uig_core.device.torch_device` and keep their state as CPU numpy arrays."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from uig_core.device import DEVICE_ENV, torch_device
from uig_core.errors import ConfigError
from uig_core.models import make_model

FAST = {"epochs": 40, "factors": 16, "validation": 0.0, "random_state": 0}


def blocks(n_users: int = 40, n_items: int = 16, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """Two taste blocks (users of each half buy only that half's items) and item vectors that say the block."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_users, n_items), dtype=np.float32)
    for u in range(n_users):
        half = np.arange(n_items // 2) + (n_items // 2 if u >= n_users // 2 else 0)
        dense[u, rng.choice(half, size=4, replace=False)] = rng.uniform(0.5, 2.0, size=4)
    feats = np.zeros((n_items, 4), dtype=np.float32)
    feats[: n_items // 2, 0] = feats[n_items // 2 :, 1] = 1.0
    return sp.csr_matrix(dense), feats + rng.normal(scale=0.05, size=feats.shape).astype(np.float32)


@pytest.fixture
def device_env(monkeypatch: pytest.MonkeyPatch):
    """Set ``UIG_DEVICE`` for one test; the cached choice is cleared before and after."""

    def use(value: str) -> None:
        monkeypatch.setenv(DEVICE_ENV, value)
        torch_device.cache_clear()

    torch_device.cache_clear()
    yield use
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    torch_device.cache_clear()


def test_training_asks_the_process_device(device_env) -> None:
    x, _ = blocks()
    device_env("cuda:7")  # no machine here has eight GPUs: the fit must fail on the device choice, naming it
    with pytest.raises(ConfigError, match="UIG_DEVICE"):
        make_model("lightgcn", **FAST).fit(x)


def _in_block(model, n_users: int = 40, n_items: int = 16) -> float:
    idx, _ = model.recommend(np.arange(n_users), k=3)
    return float(((idx >= n_items // 2) == (np.arange(n_users) >= n_users // 2)[:, None]).mean())


@pytest.mark.parametrize("name", ["lightgcn", "residual_gcn", "lm_gcn"])
def test_cpu_fit_keeps_numpy_state(name: str, device_env) -> None:
    x, feats = blocks()
    device_env("cpu")
    model = make_model(name, **FAST).fit(x, item_features=feats)
    assert isinstance(model.user_factors_, np.ndarray) and isinstance(model.item_factors_, np.ndarray)
    assert all(isinstance(v, np.ndarray) for v in model.params_.values())
    assert _in_block(model) >= 0.9


@pytest.mark.parametrize("name", ["lightgcn", "lm_gcn"])
def test_cuda_fit_matches_the_cpu_one(name: str, device_env) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    x, feats = blocks()
    params = {**FAST, **({"cold_threshold": 2} if name == "lm_gcn" else {})}
    device_env("cuda")
    gpu = make_model(name, **params).fit(x, item_features=feats)
    device_env("cpu")
    cpu = make_model(name, **params).fit(x, item_features=feats)
    assert all(isinstance(v, np.ndarray) for v in gpu.params_.values())
    assert _in_block(gpu) >= 0.9
    gpu_scores, cpu_scores = gpu.score(np.arange(40)), cpu.score(np.arange(40))
    assert np.corrcoef(gpu_scores.ravel(), cpu_scores.ravel())[0, 1] > 0.95  # same batches; float sums differ
    assert gpu.contributions(0, np.arange(4)) is not None  # the reasons re-run the encoder on the CPU
    if name == "lm_gcn":  # dropped item IDs are drawn on the device
        device_env("cuda")
        assert _in_block(make_model(name, id_dropout=0.2, **FAST).fit(x, item_features=feats)) >= 0.9
