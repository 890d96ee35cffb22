"""The one torch device of a process: CUDA when present, else the CPU; ``UIG_DEVICE`` overrides the choice.

Embedding (a sentence-transformers model; the static models run in numpy and need none) and GCN training ask
:func:`torch_device` instead of choosing a device themselves, so one process never mixes devices and one
variable moves everything to the CPU (``UIG_DEVICE=cpu``) or to a given GPU (``UIG_DEVICE=cuda:1``).

The choice is made once per process and kept (torch's CUDA initialisation is not free); tests that change the
variable call ``torch_device.cache_clear()``.

Example:
    >>> import os
    >>> os.environ["UIG_DEVICE"] = "cpu"
    >>> torch_device.cache_clear()
    >>> torch_device()
    'cpu'
    >>> del os.environ["UIG_DEVICE"]; torch_device.cache_clear()
"""

from __future__ import annotations

import functools
import logging
import os
import re

from uig_core.errors import ConfigError

__all__ = ["DEVICE_ENV", "torch_device"]

log = logging.getLogger(__name__)

#: The environment variable that overrides the automatic choice (``cpu``, ``cuda``, ``cuda:N``, ``mps``).
DEVICE_ENV = "UIG_DEVICE"

_SPELLING = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


@functools.lru_cache(maxsize=1)
def torch_device() -> str:
    """The torch device name every model of this process uses: ``"cuda"`` when available, else ``"cpu"``.

    Returns:
        A device string for ``torch.device`` / sentence-transformers (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).

    Raises:
        ConfigError: ``UIG_DEVICE`` is not a device name, or names a GPU this machine does not have.
    """
    import torch  # noqa: PLC0415 - heavy import

    wanted = os.environ.get(DEVICE_ENV, "").strip().lower()
    if not wanted:
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
        log.debug("torch device: %s (automatic; set %s to override)", chosen, DEVICE_ENV)
        return chosen
    if not _SPELLING.match(wanted):
        raise ConfigError(
            f"{DEVICE_ENV} must be cpu, cuda, cuda:N or mps. Got {wanted!r} instead; unset it to choose automatically."
        )
    if wanted.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(wanted.partition(":")[2] or 0)
        if index >= count:
            raise ConfigError(
                f"{DEVICE_ENV}={wanted!r} names a CUDA device, but this machine has {count} usable. "
                f"Set {DEVICE_ENV}=cpu, or unset it to choose automatically."
            )
    if wanted == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"{DEVICE_ENV}='mps' but MPS is not available here. Set {DEVICE_ENV}=cpu or unset it.")
    log.debug("torch device: %s (from %s)", wanted, DEVICE_ENV)
    return wanted
