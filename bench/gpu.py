"""Embedding and GCN training on the CPU vs CUDA: a short, prepared script for a machine with a GPU.

Each device runs in its own process (``UIG_DEVICE`` is read once per process, uig_core/device.py), doing the same
work: embed N synthetic titles with the full MiniLM transformer (sentence-transformers; the static default model
runs in numpy and needs no GPU), then fit LightGCN for a fixed number of epochs on a seeded random matrix. It
prints one table, wall seconds per step, and the command that made it. Without CUDA it says so and exits 0.

    .venv/bin/python bench/gpu.py                     # defaults: 20 000 titles, 5 000 x 3 000 matrix, 5 epochs
    .venv/bin/python bench/gpu.py --texts 50000 --users 20000 --items 10000 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _work(args: argparse.Namespace) -> dict:
    """One device's run (inside the child process): wall seconds of each step and where the model ran."""
    import numpy as np
    import scipy.sparse as sp

    from uig_core.device import torch_device
    from uig_core.models.lightgcn import LightGCN
    from uig_core.semantics.embeddings import Embedder

    os.environ["UIG_EMBED_RUNTIME"] = "sentence-transformers"  # the transformer, not the numpy BERT
    rng = np.random.default_rng(0)
    words = ["red", "wool", "scarf", "tea", "green", "bike", "helmet", "garden", "hose", "lamp", "oak", "desk"]
    texts = [" ".join(rng.choice(words, size=6)) + f" {i}" for i in range(args.texts)]
    out = {"device": torch_device()}
    embedder = Embedder(model="minilm", batch_size=256)
    embedder.embed(texts[:256])  # load the model and warm the device up outside the timing
    start = time.perf_counter()
    embedder.embed(texts[256:])
    out["embed_s"] = time.perf_counter() - start
    nnz = args.users * 20
    rows, cols = rng.integers(0, args.users, nnz), rng.integers(0, args.items, nnz)
    matrix = sp.csr_matrix((np.ones(nnz, np.float32), (rows, cols)), shape=(args.users, args.items))
    matrix.data[:] = 1.0
    model = LightGCN(epochs=args.epochs, patience=args.epochs, validation=0.0)
    start = time.perf_counter()
    model.fit(matrix)
    out["gcn_fit_s"] = time.perf_counter() - start
    out["gcn_epochs"] = int(getattr(model, "epochs_", args.epochs))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--items", type=int, default=3_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_work(args)))
        return 0
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: bench/gpu.py times CPU against CUDA and has nothing to compare; exiting")
        return 0
    rows = []
    for device in ("cpu", "cuda"):
        env = {**os.environ, "UIG_DEVICE": device}
        argv = [sys.executable, __file__, "--child", *sys.argv[1:]]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'asked':<6} {'ran on':<8} {'embed s':>9} {'GCN fit s':>10} {'epochs':>7}")
    for asked, row in zip(("cpu", "cuda"), rows, strict=True):
        print(f"{asked:<6} {row['device']:<8} {row['embed_s']:>9.2f} {row['gcn_fit_s']:>10.2f} {row['gcn_epochs']:>7}")
    print(f"{args.texts:,} titles (MiniLM), {args.users:,} x {args.items:,} matrix, {args.epochs} epochs")
    print("command: " + " ".join([Path(sys.executable).name, "bench/gpu.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
