"""Shared machinery of the graph models: the precomputed adjacency, fast propagation and the training loop.

Why it is fast on a CPU (PyG's ``examples/lightgcn.py`` recomputes the normalisation on an ``edge_index`` in every
forward pass and samples one negative per positive):

* The symmetric-normalised bipartite adjacency ``D^-1/2 A D^-1/2`` is built once as a torch CSR tensor.
* Propagation runs through PyG's message-passing layers (``LGConv``, ``GCNConv``) whose sparse aggregation is
  replaced by :class:`SymSpMM`: the adjacency is symmetric, so the backward pass is the same CSR product and no
  transposed copy is built (much faster than autograd through ``torch.sparse.mm``).
* Full-graph propagation once per step, then a sampled-softmax loss against many shared negatives (SimpleX-style
  cosine with a temperature) that reaches LightGCN-BPR quality in a few epochs.
* Early stopping on Recall@20 of a validation split carved from the training matrix; the final factors are
  propagated over the full graph (validation edges included).
* Training runs on :func:`uig_core.device.torch_device` (a GPU when present, ``UIG_DEVICE`` overrides); random
  draws stay on the CPU generator, so a seed gives the same batches on every device, and the learned state is
  kept as CPU numpy arrays.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.models._params import Boolean, Interval, Options
from uig_core.models._validation import holdout, recall_at_k
from uig_core.models.base import Recommender
from uig_core.progress import Progress

if TYPE_CHECKING:  # torch and PyG are imported where they run, so importing this module stays cheap
    import torch
    from torch_geometric.nn.conv import MessagePassing

__all__ = ["GraphRecommender", "torch_adjacency", "sym_spmm", "positive_order"]

log = logging.getLogger(__name__)


def normalized_adjacency(x: sp.csr_matrix, item_item: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """``D^-1/2 A D^-1/2`` of ``A = [[0, X], [Xᵀ, S]]`` (users first, then items; ``S`` optional item–item edges)."""
    adj = sp.bmat([[None, x], [x.T, item_item]], format="csr").astype(np.float32)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.zeros_like(deg)
    inv[deg > 0] = deg[deg > 0] ** -0.5
    d = sp.diags(inv.astype(np.float32))
    out = (d @ adj @ d).tocsr().astype(np.float32)
    out.sort_indices()
    return out


def torch_adjacency(x: sp.csr_matrix, item_item: sp.csr_matrix | None = None) -> torch.Tensor:
    """The normalised adjacency as a torch sparse CSR tensor."""
    import warnings

    import torch

    a = normalized_adjacency(x, item_item)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only the stable spmm
        warnings.simplefilter("ignore")
        return torch.sparse_csr_tensor(
            torch.from_numpy(a.indptr.astype(np.int64)),
            torch.from_numpy(a.indices.astype(np.int64)),
            torch.from_numpy(a.data),
            size=a.shape,
            check_invariants=False,
        )


def sym_spmm(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` for a symmetric sparse ``adj`` whose backward reuses ``adj`` (no transpose)."""
    return _SymSpMM.apply(adj, x)


def _make_sym_spmm() -> type[torch.autograd.Function]:
    import torch

    class SymSpMM(torch.autograd.Function):
        # ``ctx`` is Any: the adjacency rides on it as an ad-hoc attribute, which ``FunctionCtx`` does not declare.
        @staticmethod
        def forward(ctx: Any, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            ctx.adj = adj
            return torch.sparse.mm(adj, x)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
            return None, torch.sparse.mm(ctx.adj, grad)

    return SymSpMM


class _Lazy:
    def __init__(self) -> None:
        self._fn: type[torch.autograd.Function] | None = None

    def apply(self, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self._fn is None:
            self._fn = _make_sym_spmm()
        return self._fn.apply(adj, x)


_SymSpMM = _Lazy()


def fast_conv(base: type[MessagePassing]) -> type[MessagePassing]:
    """Subclass a PyG conv so that sparse aggregation uses :func:`sym_spmm` on the precomputed adjacency."""

    class Fast(base):  # type: ignore[misc, valid-type]
        # Any, not torch.Tensor: PyG evaluates these hints as strings in this module's globals when a layer is
        # built, and torch is not imported here at run time.
        def message_and_aggregate(self, adj_t: Any, x: Any) -> Any:
            return sym_spmm(adj_t, x)

    Fast.__name__ = f"Sym{base.__name__}"
    return Fast


def neighbour_fill(emb: np.ndarray, known: np.ndarray, x: sp.csr_matrix, *, seed: int = 0) -> np.ndarray:
    """Fill the rows of new nodes with the mean of their known neighbours (small noise where there are none).

    Args:
        emb: ``(n_users + n_items, d)`` carried embeddings; rows where ``known`` is False are ignored.
        known: ``(n_users + n_items,)`` bool.
        x: ``(n_users, n_items)`` interactions of the new graph.
        seed: Seed of the noise that breaks ties between new nodes with the same neighbours.
    """
    out = np.array(emb, dtype=np.float32, copy=True)
    n_users = x.shape[0]
    pattern = (x > 0).astype(np.float32)
    rng = np.random.default_rng(seed)
    scale = float(np.std(out[known])) if known.any() else 0.1
    for rows, adj, offset in (
        (np.flatnonzero(~known[:n_users]), pattern, n_users),
        (np.flatnonzero(~known[n_users:]), pattern.T.tocsr(), 0),
    ):
        if not len(rows):
            continue
        other_known = known[offset : offset + adj.shape[1]].astype(np.float32)
        block = adj[rows] @ sp.diags(other_known)
        counts = np.asarray(block.sum(axis=1)).ravel()
        mean = np.asarray(block @ out[offset : offset + adj.shape[1]]) / np.maximum(counts, 1.0)[:, None]
        noise = rng.normal(scale=0.1 * scale, size=mean.shape).astype(np.float32)
        target = rows if offset else rows + n_users
        out[target] = np.where(counts[:, None] > 0, mean, 0.0) + noise
    return out


def positive_order(n_pairs: int, weights: np.ndarray | None, gen: torch.Generator) -> torch.Tensor:
    """One epoch's order of positive pairs.

    A permutation of all pairs, or with ``weights`` ``n_pairs`` draws with replacement, each pair in proportion to
    its weight (pairs of weight <= 0 are never drawn; all-zero weights fall back to the permutation).
    """
    import torch

    if weights is not None and n_pairs:
        w = torch.from_numpy(np.clip(np.asarray(weights, dtype=np.float64), 0, None))
        if float(w.sum()) > 0:
            return torch.multinomial(w, n_pairs, replacement=True, generator=gen)
    return torch.randperm(n_pairs, generator=gen)


#: The heaviest history items a graph network's reasons try leaving out (one propagation each).
LOO_HISTORY = 20
#: Above this many training pairs a graph network gives no leave-one-out reasons (each propagation takes seconds).
LOO_MAX_PAIRS = 2_000_000


class GraphRecommender(Recommender):
    """Base of the torch graph models: subclasses provide ``_encoder`` (a ``torch.nn.Module``).

    The encoder's ``forward(adj)`` returns ``(user_emb, item_emb)``. Scores are dot products of the final
    factors (cosine when ``loss="softmax"`` and ``similarity="cosine"``).

    ``positive_sampling="weight"`` (the default) draws each epoch's positive pairs in proportion to their
    interaction weight (the build's recency-decayed weights) instead of one pass over every pair: recent purchases
    are trained on more often, so what sells now shapes the factors. Chosen by measurement on the validation
    windows before OR-30d's test month, where it raised Recall@20 for every graph model and above all their
    cold-only Recall@20 (figures in docs/ARCHITECTURE.md): a new arrival's few sales are recent, so its ID is
    trained often. ``"uniform"`` is one pass over every pair per epoch.

    Attributes:
        user_factors_: ``(n_users, factors)`` float32.
        item_factors_: ``(n_items, factors)`` float32.
        epochs_: Epochs run; ``best_epoch_``: epoch whose weights were kept.
        history_: Per evaluated epoch: ``{"epoch", "loss", "recall@20", "seconds"}``.
        epoch_seconds_: Mean wall time of one training epoch.
    """

    _warm_start_uses_state = True
    _constraints = {
        "factors": Interval(int, 1, None),
        "layers": Interval(int, 0, None),
        "epochs": Interval(int, 1, None),
        "batch_size": Interval(int, 1, None),
        "learning_rate": Interval(float, 0, None, closed="neither"),
        "l2": Interval(float, 0, None),
        "loss": Options(("softmax", "bpr")),
        "negatives": Interval(int, 1, None),
        "temperature": Interval(float, 0, None, closed="neither"),
        "similarity": Options(("cosine", "dot")),
        "use_weights": Boolean(),
        "validation": Interval(float, 0, 1, closed="left"),
        "patience": Interval(int, 1, None),
        "init": Options(("svd", "normal")),
        "random_state": Interval(int, 0, None),
        "fine_tune_epochs": Interval(int, 1, None),
        "positive_sampling": Options(("uniform", "weight")),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        layers: int = 2,
        epochs: int = 30,
        batch_size: int = 16384,
        learning_rate: float = 0.01,
        l2: float = 1e-4,
        loss: str = "softmax",
        negatives: int = 256,
        temperature: float = 0.1,
        similarity: str = "cosine",
        use_weights: bool = False,
        validation: float = 0.1,
        patience: int = 4,
        init: str = "svd",
        random_state: int = 0,
        fine_tune_epochs: int = 3,
        positive_sampling: str = "weight",
    ) -> None:
        self.factors = factors
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.loss = loss
        self.negatives = negatives
        self.temperature = temperature
        self.similarity = similarity
        self.use_weights = use_weights
        self.validation = validation
        self.patience = patience
        self.init = init
        self.random_state = random_state
        self.fine_tune_epochs = fine_tune_epochs
        self.positive_sampling = positive_sampling

    # ---------------------------------------------------------------- subclass hooks
    @abstractmethod
    def _encoder(
        self, n_users: int, n_items: int, item_features: np.ndarray | None, init: torch.Tensor | None
    ) -> torch.nn.Module:
        """A torch module whose ``forward(adj)`` returns ``(user_emb, item_emb)``.

        ``init`` is None (random normal start) or an ``(n_users + n_items, factors)`` tensor to start from.
        """

    def _spectral_init(self, x: sp.csr_matrix) -> torch.Tensor:
        """Start from the top singular vectors of ``D^-1/2 R D^-1/2`` (scaled by √σ).

        These are eigenvectors of the propagation operator, so the untrained model already scores like a
        low-pass graph filter and training only has to refine it: far fewer epochs than a random start.
        """
        import torch
        from sklearn.utils.extmath import randomized_svd

        a = normalized_adjacency(x)
        n_users = x.shape[0]
        r = a[:n_users, n_users:]
        k = min(self.factors, min(r.shape) - 1)
        out = np.zeros((sum(x.shape), self.factors), dtype=np.float32)
        if k >= 1:
            u, s, vt = randomized_svd(r, k, n_iter=4, random_state=self.random_state)
            scale = np.sqrt(s)[None, :]
            out[:n_users, :k] = u * scale
            out[n_users:, :k] = vt.T * scale
        rng = np.random.default_rng(self.random_state)
        out += rng.normal(scale=0.01, size=out.shape).astype(np.float32)  # break ties; fill unused columns
        return torch.from_numpy(out)

    def _check_features(self, item_features: np.ndarray | None) -> None:
        """Raise before any work when the model needs inputs it did not get."""

    def _adjacency(self, x: sp.csr_matrix, item_features: np.ndarray | None) -> torch.Tensor:
        """The propagation operator for the interactions ``x`` (subclasses may add edges)."""
        return torch_adjacency(self._graph_matrix(x))

    def _graph_matrix(self, x: sp.csr_matrix) -> sp.csr_matrix:
        if self.use_weights:
            return x
        return (x > 0).astype(np.float32)

    # ---------------------------------------------------------------- training
    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        import torch

        self._check_features(item_features)
        torch.manual_seed(self.random_state)
        if self.validation > 0:
            tr, va = holdout(x, self.validation, seed=self.random_state, max_users=2000)
        else:
            tr, va = x, None
        init = self._spectral_init(self._graph_matrix(tr)) if self.init == "svd" else None
        enc = self._encoder(x.shape[0], x.shape[1], item_features, init)
        self._train(enc, x, tr, va, item_features, self.epochs, progress)

    def _reindex(self, user_map: np.ndarray, item_map: np.ndarray) -> None:
        """Map the ID embeddings onto the new users and items; new rows are filled in :meth:`_fine_tune`."""
        emb = self.params_["embedding.weight"]
        rows = np.concatenate([user_map, np.where(item_map >= 0, self.n_users_ + item_map, -1)])
        carried = np.zeros((len(rows), emb.shape[1]), dtype=np.float32)
        known = rows >= 0
        carried[known] = emb[rows[known]]
        params = {k: v for k, v in self.params_.items() if k not in ("embedding.weight", "features")}
        self._warm_state = {"embedding": carried, "known": known, "params": params}
        del self.user_factors_, self.item_factors_

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """A few epochs from the previous weights; new users/items start at the mean of their neighbours."""
        import torch

        warm = getattr(self, "_warm_state", None)
        if warm is None:  # fine-tuning in place on the same users and items
            if x.shape != (self.n_users_, self.n_items_):
                raise ConfigError(
                    f"fine_tune got shape {x.shape}; the model has {(self.n_users_, self.n_items_)}. "
                    "Call reindex(user_map, item_map) first."
                )
            warm = {
                "embedding": self.params_["embedding.weight"],
                "known": np.ones(sum(x.shape), dtype=bool),
                "params": {k: v for k, v in self.params_.items() if k not in ("embedding.weight", "features")},
            }
        if len(warm["embedding"]) != sum(x.shape):
            raise ConfigError(
                f"fine_tune got {x.shape[0]} users and {x.shape[1]} items; reindex() prepared "
                f"{len(warm['embedding'])} rows. Pass the matrix the maps were made for."
            )
        self._check_features(item_features)
        torch.manual_seed(self.random_state)
        emb = neighbour_fill(warm["embedding"], warm["known"], self._graph_matrix(x), seed=self.random_state)
        enc = self._encoder(x.shape[0], x.shape[1], item_features, None)
        state = enc.state_dict()
        state.update({k: torch.from_numpy(np.asarray(v)) for k, v in warm["params"].items() if k in state})
        state["embedding.weight"] = torch.from_numpy(emb)
        enc.load_state_dict(state)
        previous_recall = getattr(self, "validation_recall_", None)
        self._train(enc, x, x, None, item_features, self.fine_tune_epochs, progress)
        self.validation_recall_ = previous_recall  # fine-tuning holds out nothing; keep the last measured figure
        self._warm_state = None

    def _train(
        self,
        enc: torch.nn.Module,
        x: sp.csr_matrix,
        tr: sp.csr_matrix,
        va: sp.csr_matrix | None,
        item_features: np.ndarray | None,
        epochs: int,
        progress: Progress,
    ) -> None:
        """Train ``enc`` on ``tr`` for up to ``epochs`` (early stopping on ``va``), then set the final factors."""
        import torch

        from uig_core.device import torch_device

        device = torch.device(torch_device())
        gen = torch.Generator().manual_seed(self.random_state)
        n_items = x.shape[1]
        enc.to(device)
        adj_train = self._adjacency(tr, item_features).to(device)
        opt = torch.optim.Adam(enc.parameters(), lr=self.learning_rate)
        coo = tr.tocoo()
        pu = torch.from_numpy(coo.row.astype(np.int64)).to(device)
        pi = torch.from_numpy(coo.col.astype(np.int64)).to(device)
        n_pairs = len(pu)
        weights = coo.data if self.positive_sampling == "weight" else None
        self.history_: list[dict[str, float]] = []
        best, best_state, best_epoch, bad = -1.0, None, 0, 0
        times = []
        epoch = 0
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            enc.train()
            perm = positive_order(n_pairs, weights, gen).to(device)
            total = 0.0
            for start in range(0, n_pairs, self.batch_size):
                idx = perm[start : start + self.batch_size]
                u, i = pu[idx], pi[idx]
                users, items = enc(adj_train)
                loss = self._loss(enc, users, items, u, i, n_items, gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            times.append(time.perf_counter() - t0)
            msg = f"epoch {epoch}/{epochs}: loss {total / n_pairs:.4f}"
            if va is not None:
                enc.eval()
                with torch.no_grad():
                    uf, itf = self._final(enc, adj_train)
                rec = recall_at_k(lambda b, uf=uf, itf=itf: uf[b] @ itf.T, tr, va)
                self.history_.append({"epoch": epoch, "loss": total / n_pairs, "recall@20": rec, "seconds": times[-1]})
                msg += f", validation Recall@20 {rec:.4f}"
                if rec > best:
                    best, best_epoch, bad = rec, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in enc.state_dict().items()}
                else:
                    bad += 1
            else:
                self.history_.append({"epoch": epoch, "loss": total / n_pairs, "seconds": times[-1]})
                best_epoch = epoch
            log.debug("%s %s (%.2f s)", self.name, msg, times[-1])
            progress(0.95 * epoch / epochs, msg)
            if va is not None and bad >= self.patience:
                break
        log.debug("%s ran %d of %d epochs; kept epoch %d", self.name, epoch, epochs, best_epoch)
        if best_state is not None:
            enc.load_state_dict(best_state)
        self.epochs_ = epoch
        self.best_epoch_ = best_epoch
        self.epoch_seconds_ = float(np.mean(times)) if times else 0.0
        self.validation_recall_ = float(best) if va is not None else None
        adj_full = self._adjacency(x, item_features).to(device) if tr is not x else adj_train
        enc.eval()
        with torch.no_grad():
            self.user_factors_, self.item_factors_ = self._final(enc, adj_full)
        self.params_ = {k: v.detach().cpu().numpy() for k, v in enc.state_dict().items()}
        enc.to("cpu")  # callers that keep the encoder (lm_gcn's reasons) run it on the CPU

    def _final(self, enc: torch.nn.Module, adj: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        import torch

        users, items = enc(adj)
        if self.loss == "softmax" and self.similarity == "cosine":
            users = torch.nn.functional.normalize(users, dim=-1)
            items = torch.nn.functional.normalize(items, dim=-1)
        return users.cpu().numpy().astype(np.float32), items.cpu().numpy().astype(np.float32)

    def _loss(
        self,
        enc: torch.nn.Module,
        users: torch.Tensor,
        items: torch.Tensor,
        u: torch.Tensor,
        i: torch.Tensor,
        n_items: int,
        gen: torch.Generator,
    ) -> torch.Tensor:
        import torch
        import torch.nn.functional as F  # noqa: N812

        eu, ei = users[u], items[i]
        if self.loss == "bpr":
            j = torch.randint(0, n_items, (len(u),), generator=gen).to(items.device)
            ej = items[j]
            loss = F.softplus((eu * ej).sum(-1) - (eu * ei).sum(-1)).mean()
            reg = self._reg(enc, u, torch.cat([i, j]))
        else:
            j = torch.randint(0, n_items, (self.negatives,), generator=gen).to(items.device)
            ej = items[j]
            if self.similarity == "cosine":
                eu, ei, ej = F.normalize(eu, dim=-1), F.normalize(ei, dim=-1), F.normalize(ej, dim=-1)
            pos = (eu * ei).sum(-1, keepdim=True)
            neg = eu @ ej.T
            neg = neg.masked_fill(j[None, :] == i[:, None], float("-inf"))  # an accidental hit is no negative
            logits = torch.cat([pos, neg], dim=1) / self.temperature
            loss = F.cross_entropy(logits, torch.zeros(len(u), dtype=torch.long, device=logits.device))
            reg = self._reg(enc, u, i)
        return loss + self.l2 * reg / len(u)

    def _reg(self, enc: torch.nn.Module, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        """L2 of the layer-0 embeddings of the batch (LightGCN's regulariser)."""
        return enc.ego_norm(u, i)

    # ---------------------------------------------------------------- scoring / persistence
    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._user_rows(self.user_factors_, users) @ self.item_factors_[items].T

    def contributions(self, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Leave-one-out drops, exactly: the graph re-propagated without each of the user's heaviest edges.

        Part ``j`` is how much each item's score falls when the edge to history item ``j`` is removed and the
        trained encoder runs again on the changed graph (every degree and message updated). One propagation per
        history item, so only the :data:`LOO_HISTORY` heaviest are tried, and only on graphs up to
        :data:`LOO_MAX_PAIRS` pairs; None for a model saved without its encoder weights (or, for a model that
        reads item text, without the item vectors).
        """
        import torch

        from uig_core.models.attribution import single_item_rows

        self._check_fitted("contributions")
        features = self._explain_features()
        if self.interactions_.nnz > LOO_MAX_PAIRS or not getattr(self, "params_", None) or features is False:
            return None
        user, items = int(user), np.asarray(items, dtype=np.int64)
        history, _ = single_item_rows(self.interactions_[user], self.n_items_, limit=LOO_HISTORY)
        enc = self._encoder(self.n_users_, self.n_items_, features, None)
        enc.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.params_.items()})
        enc.eval()
        base = self.score(user)[0, items]
        parts = np.zeros((len(items), len(history)), dtype=np.float32)
        x = sp.csr_matrix(self.interactions_, copy=True)
        lo, hi = int(x.indptr[user]), int(x.indptr[user + 1])
        for c, j in enumerate(history):
            pos = lo + int(np.flatnonzero(x.indices[lo:hi] == j)[0])
            kept, x.data[pos] = x.data[pos], 0.0
            without = x.copy()
            without.eliminate_zeros()
            x.data[pos] = kept
            with torch.no_grad():
                users_emb, items_emb = self._final_without(enc, without, features)
            after = users_emb[user] @ items_emb[items].T + self._history_term(without, user, items)
            parts[:, c] = base - after
        return history, parts

    def _explain_features(self) -> np.ndarray | None | bool:
        """Item vectors the encoder needs to run again (None: none needed; False: needed but not kept)."""
        return False if self.uses_item_features else None

    def _final_without(
        self, enc: torch.nn.Module, x: sp.csr_matrix, features: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Final factors of the trained encoder on the graph ``x`` (a user's edge removed)."""
        return self._final(enc, self._adjacency(x, features))

    def _history_term(self, x: sp.csr_matrix, user: int, items: np.ndarray) -> np.ndarray | float:
        """A score term computed from the user's history beside the factors (lm_gcn's title memory), else 0."""
        return 0.0

    def _state(self) -> dict[str, np.ndarray]:
        out = {"user_factors": self.user_factors_, "item_factors": self.item_factors_}
        out.update({f"param.{k}": v for k, v in self.params_.items()})
        return out

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = state["user_factors"]
        self.item_factors_ = state["item_factors"]
        self.params_ = {k[len("param.") :]: v for k, v in state.items() if k.startswith("param.")}

    def _extra(self) -> dict[str, Any]:
        return {
            "epochs_": self.epochs_,
            "best_epoch_": self.best_epoch_,
            "epoch_seconds_": self.epoch_seconds_,
            "validation_recall_": self.validation_recall_,
            "history_": self.history_,
        }
