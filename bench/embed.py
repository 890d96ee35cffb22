"""Item-text embedding paths: titles per CPU-second at catalogue scale, and the demo's interest quality.

Each path (a bundled model name) runs in its own fresh process, which

1. loads the model (``Embedder(model=NAME).embed`` of one text; the CPU time is the "load" column),
2. embeds ``--n`` distinct titles with no cache (Online Retail titles when ``../shared/data`` has them, topped up
   with synthetic variants of them, or of the demo's texts, to ``--n``),
3. embeds the demo catalogue's item texts with the *same* model and runs
   :func:`~uig_core.semantics.interests.find_interests`; the ARI is against the demo's planted themes;
4. does the same for Chinese: ``--n`` Chinese titles (the Chinese demo's, ``uig demo --lang zh``, with variants)
   and the Chinese demo's ARI (titles only, as ``--no-category``). A multilingual static model learns the words
   its table lacks on first sight: the Chinese run starts from the distilled table alone (a copy without learned
   words), so "zh titles/CPU-s" includes learning them, and "zh steady" is a second pass once they are known.

CPU time is ``getrusage(RUSAGE_SELF)`` user + sys of that process: every thread (BLAS, the tokenizer's pool)
counts. "titles/CPU-s" includes the model load; "steady" leaves it out. The full transformer is slow on a small
CPU, so ``--full-n`` caps its titles (an even spread over the same list, shown in the table).

    python bench/embed.py [--n 20000] [--full-n 2000] [--paths minilm-static minilm-static-mean minilm e5-static e5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OR_CSV = REPO.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
DEMO = REPO / "demo_data"
_COLOURS = ("Red", "Blue", "Green", "Pink", "Ivory", "Black", "Gold", "Silver", "Natural", "Grey")
_SIZES = ("Small", "Large", "Set of 2", "Set of 4", "Pack of 6", "Jumbo", "Mini")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def or_titles() -> list[str]:
    import pandas as pd

    if not OR_CSV.exists():
        return []
    raw = pd.read_csv(OR_CSV, usecols=["StockCode", "Description"], dtype="string")
    raw = raw[raw["StockCode"].str.match(r"^\d{5}[A-Za-z]{0,2}$") & raw["Description"].notna()]
    return sorted(set(raw["Description"].str.strip()))


def demo_items():
    """The demo catalogue (``demo_data/``, generated into a temporary folder when absent): items frame, truth."""
    import pandas as pd

    from uig_core.demo.generator import generate

    folder = DEMO
    if not (folder / "events.csv.gz").exists():
        folder = Path(tempfile.mkdtemp(prefix="uig-demo-"))
        generate(folder)
    ev = pd.read_csv(folder / "events.csv.gz", dtype={"item_id": "string"}, usecols=["item_id", "title", "category"])
    items = ev.groupby("item_id", sort=True).agg(title=("title", "first"), category=("category", "first")).reset_index()
    truth = json.loads((folder / "ground_truth.json").read_text())
    return items, truth


_ZH_VARIANTS = ("红色", "蓝色", "大号", "小号", "套装", "礼盒装", "加厚", "升级版", "二代", "经典款", "白色", "黑色")


def zh_items():
    """The Chinese demo catalogue (``demo_data/zh/``, generated when absent): items frame (titles only), truth."""
    import pandas as pd

    from uig_core.demo.zh import ZH_DIR, ensure_zh_demo

    folder = ensure_zh_demo(ZH_DIR)
    ev = pd.read_csv(folder / "events.csv.gz", dtype="string", usecols=["商品ID", "商品名称"]).dropna()
    items = ev.groupby("商品ID", sort=True).agg(title=("商品名称", "first")).reset_index()
    items = items.rename(columns={"商品ID": "item_id"})
    return items, json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))


def zh_title_set(n: int, base: list[str]) -> list[str]:
    """``n`` distinct Chinese titles: the demo's, then variants with colour, size and edition words."""
    out, seen = list(base[:n]), set(base[:n])
    for a in _ZH_VARIANTS:
        for b in ("",) + _ZH_VARIANTS:
            for t in base:
                if len(out) >= n:
                    return out
                v = f"{t} {a}{b}"
                if v not in seen:
                    seen.add(v)
                    out.append(v)
    return out


def _fresh_models() -> None:
    """Point this process at a copy of the produced models without learned words (see the module notes)."""
    import shutil

    from uig_core.semantics import static

    src = static.models_root()
    dst = Path(tempfile.mkdtemp(prefix="uig-models-"))
    for sub in src.iterdir():
        if sub.is_dir():
            shutil.copytree(sub, dst / sub.name, ignore=shutil.ignore_patterns("learned.npz"))
    os.environ["UIG_MODEL_DIR"] = str(dst)


def _zh_part(name: str, n: int, take: int) -> dict:
    """Chinese titles per CPU-second (cold, then steady) and the Chinese demo's ARI for one path."""
    from sklearn.metrics import adjusted_rand_score

    from uig_core.semantics.embeddings import Embedder, item_texts
    from uig_core.semantics.interests import find_interests

    items, truth = zh_items()
    texts, has = item_texts(items)
    titles = zh_title_set(n, texts)
    if take < len(titles):
        titles = [titles[round(i * (len(titles) - 1) / (take - 1))] for i in range(take)]
    c0 = _cpu()
    Embedder(model=name).embed(titles)
    c1 = _cpu()
    Embedder(model=name).embed(titles)
    c2 = _cpu()
    x = Embedder(model=name).embed(texts)
    res = find_interests(items["item_id"].to_numpy(), texts, x, has_text=has)
    planted = items["item_id"].map(truth["items"])
    return {
        "zh_n": len(titles),
        "zh_cpu": c1 - c0,
        "zh_steady_cpu": c2 - c1,
        "zh_ari": float(adjusted_rand_score(planted, res.labels)),
        "zh_k": int(res.k),
    }


def title_set(n: int, demo_texts: list[str]) -> tuple[list[str], int]:
    """``n`` distinct titles: Online Retail's (if present) first, then synthetic colour/size variants."""
    real = or_titles()
    base = real or demo_texts
    out, seen = list(real[:n]), set(real[:n])
    for c in _COLOURS:
        for s in _SIZES:
            for t in base:
                if len(out) >= n:
                    return out, min(len(real), n)
                v = f"{t} - {c} {s}"
                if v not in seen:
                    seen.add(v)
                    out.append(v)
    return out, min(len(real), n)


def child(name: str, n: int, take: int) -> dict:
    """One path in this process: load, embed ``take`` of the ``n`` titles (evenly spread), demo ARI."""
    from sklearn.metrics import adjusted_rand_score

    from uig_core.semantics.embeddings import Embedder, item_texts
    from uig_core.semantics.interests import find_interests

    _fresh_models()
    items, truth = demo_items()
    demo_texts, has = item_texts(items)
    titles, _ = title_set(n, demo_texts)
    if take < len(titles):  # an even spread keeps the mix of real and synthetic (short and long) titles
        titles = [titles[round(i * (len(titles) - 1) / (take - 1))] for i in range(take)]
    c0, w0 = _cpu(), time.perf_counter()
    emb = Embedder(model=name)
    emb.embed(["warm-up title"])  # loads the model once per process
    c1, w1 = _cpu(), time.perf_counter()
    emb = Embedder(model=name)  # no cache: every title is new
    emb.embed(titles)
    c2, w2 = _cpu(), time.perf_counter()
    x = Embedder(model=name).embed(demo_texts)
    res = find_interests(items["item_id"].to_numpy(), demo_texts, x, has_text=has)
    planted = items["item_id"].map(lambda i: truth["items"][i]["theme"])
    return {
        "name": name,
        "model_id": emb.model_id,
        "n": len(titles),
        "chars": sum(map(len, titles)) / len(titles),
        "load_cpu": c1 - c0,
        "load_wall": w1 - w0,
        "cpu": c2 - c1,
        "wall": w2 - w1,
        "ari": float(adjusted_rand_score(planted, res.labels)),
        "k": int(res.k),
        **_zh_part(name, n, take),
    }


def run_path(name: str, n: int, take: int) -> dict:
    # a bulk build runs a transformer in sentence-transformers; keep the warm-up from loading the numpy runtime
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "UIG_EMBED_RUNTIME": "sentence-transformers"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--n", str(n), "--take", str(take)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"path {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="distinct titles per path (default 20000)")
    parser.add_argument("--full-n", type=int, default=2000, help="titles for the full transformer (default 2000)")
    parser.add_argument(
        "--paths", nargs="+", default=["minilm-static", "minilm-static-mean", "minilm", "e5-static", "e5"]
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--take", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        print(json.dumps(child(args.child, args.n, args.take or args.n)))
        return 0
    from uig_core.semantics.embeddings import DEFAULT_MODEL
    from uig_core.semantics.registry import BUNDLED

    n_real = len(or_titles())
    full = {p for p in args.paths if p in BUNDLED and BUNDLED[p].kind in ("transformer", "e5")}
    rows = [run_path(p, args.n, min(args.full_n, args.n) if p in full else args.n) for p in args.paths]
    cmd = "python bench/embed.py " + " ".join(sys.argv[1:]) if argv is None else "bench.embed.main(...)"
    print(f"### Item-text embedding paths (default: `{DEFAULT_MODEL}`)\n")
    print(f"Command: `{cmd.strip()}`  ")
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs. Titles: "
        + (
            f"{min(n_real, args.n):,} Online Retail titles + synthetic variants"
            if n_real
            else "synthetic variants of the demo's texts (Online Retail absent)"
        )
        + "; demo: the planted-theme catalogue (`demo_data/`); zh: the Chinese demo's titles and variants "
        + "(`demo_data/zh/`).\n"
    )
    print(
        "| path | model id | titles | chars/title | titles/CPU-s | steady titles/CPU-s | titles/s (wall) "
        "| load CPU-s | demo ARI | demo k | zh titles | zh titles/CPU-s | zh steady | zh demo ARI | zh k |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_ari = next((r["ari"] for r in rows if r["name"] == "minilm"), None)
    for r in rows:
        rate = r["n"] / (r["cpu"] + r["load_cpu"])
        steady = r["n"] / r["cpu"]
        wall = r["n"] / (r["wall"] + r["load_wall"])
        label = r["name"] + (" (default)" if r["name"] == DEFAULT_MODEL else "")
        print(
            f"| {label} | `{r['model_id']}` | {r['n']:,} | {r['chars']:.0f} | {rate:,.0f} | {steady:,.0f} "
            f"| {wall:,.0f} | {r['load_cpu']:.2f} | {r['ari']:.3f} | {r['k']} | {r['zh_n']:,} "
            f"| {r['zh_n'] / r['zh_cpu']:,.0f} | {r['zh_n'] / r['zh_steady_cpu']:,.0f} | {r['zh_ari']:.3f} "
            f"| {r['zh_k']} |"
        )
    if base_ari is not None:
        gaps = ", ".join(f"{r['name']} {r['ari'] - base_ari:+.3f}" for r in rows if r["name"] != "minilm")
        print(f"\nARI against the full model: {gaps} (bound: within 0.05).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
