"""Plumbing shared by the estimators: validation, devices, seeding, skorch settings, encoding."""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import warnings
from functools import partial
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, metadata_routing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .augmentation import infer_image_shape
from .features import MIN_IMAGE_SIDE, graph_features
from .neighbors import neighbor_graph, with_copies
from .nn.autoencoders import Autoencoder, copy_autoencoder
from .nn.heads import ConsensusHead, ConsistencyHead, merge_clusters
from .training.checkpoint import CheckpointStore, read_manifest
from .training.data import EdgeDataset, edge_batches_per_epoch, edge_loader, take_rows
from .training.losses import consistency_objective
from .training.nets import ConsistencyNet
from .training.progress import PhaseProgressBar

__all__ = ["BaseDeepClustering", "has_fast_bfloat16"]

# Rows a user's autoencoder is checked on: enough to catch outputs that lose the batch axis.
_PROBE_ROWS = 16

# The consistency head's training (SCAN's loss, see ConsistencyNet), as probed on Fashion-MNIST:
# Adam 1e-3, batches of 1,024 edges, 3 epochs of the 15-NN graph (about 5,000 steps; see
# docs/benchmarks.md). Small graphs get at least 500 steps (3 epochs of digits' graph are about
# 110). The balance weight is the estimators' ``head_balance``.
_HEAD_EPOCHS = 3
_HEAD_MIN_STEPS = 500
_HEAD_BATCH_SIZE = 1024
_HEAD_LR = 1e-3

# With the consistency heads, a graph pretraining and the automatic budget, the estimators train
# at least this many epochs; when the budget is shorter they keep the state of its last epoch
# too and the heads choose between the two (_most_consistent_heads). Fashion-MNIST (5 automatic
# epochs): DMAE's heads on the codes of 10 epochs beat those of 5 on four seeds of five (NMI
# +0.002 to +0.029) and collapsed on one, where the median restart objective kept the 5 epochs'
# heads; MCDC's beat them on five seeds of five (NMI +0.001 to +0.050), and the objective
# chose them each time. 15 and 20 epochs gave DMAE no more (docs/benchmarks.md, session 23).
_HEADS_MIN_EPOCHS = 10

# The "auto" choices for images start at this side (4 cells of the histograms). graph_features
# searches neighbours among gradient histograms: measured better on Fashion-MNIST at 28, 16 and
# 12 pixels a side (the gain shrinking with the size), worse on the digits' 8 x 8. head trains
# the consistency heads: on Fashion-MNIST (28 px) they split classes the mixture merges (+0.06
# to +0.11 median ACC); on the digits (8 px) they changed ACC / NMI by at most 0.005 while taking
# 40-45% of the fit (docs/benchmarks.md, session 21).
_AUTO_IMAGE_MIN_SIDE = 16


def has_fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices natively (faster than float32).

    True on CUDA GPUs with bfloat16 support and on CPUs with AVX512-BF16 or AMX instructions
    (torch has no public probe for the latter; without its private ones the answer is False).
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def _probabilities(head: torch.nn.Module, h: torch.Tensor) -> torch.Tensor:
    return torch.softmax(head(h), 1)


class BaseDeepClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared machinery of the deep clustering estimators (not a public class).

    Subclasses set ``encoder_`` (a module mapping flat float32 rows to codes) in ``fit`` and
    implement the method-specific training.
    """

    # ``resume_from`` is a fit option, not metadata to route from a Pipeline or a search.
    __metadata_request__fit = {"resume_from": metadata_routing.UNUSED}

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
    }

    # ---- input -------------------------------------------------------------------------------
    def _validate_X(self, X, *, reset: bool):
        """Check X and return a float32 array (or CSR matrix) without copying memmaps.

        A float64 memmap stays float64 (on disk): batches are converted to float32 as they are
        read (:func:`~skdeepclust.training.data.take_rows`).
        """
        on_disk = isinstance(X, np.memmap) and X.dtype == np.float64
        dtype = (np.float32, np.float64) if on_disk else np.float32
        X = validate_data(self, X, accept_sparse="csr", dtype=dtype, reset=reset)
        if reset and self.n_clusters > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        return X

    def _resolve_image_shape(self, X, input_shape=None) -> tuple[int, int, int] | None:
        """The ``(channels, height, width)`` layout of the rows of ``X``, or None if tabular.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Validated (flat) data.
        input_shape : tuple of int, optional
            The shape of one sample of image input, which ``image_shape="auto"`` takes first.

        Returns
        -------
        tuple of int or None
            ``image_shape`` when given, else ``input_shape``, else ``(1, s, s)`` inferred from
            dense non-negative data with ``s * s`` features (``s >= 8``).
        """
        n_features = X.shape[1]
        if self.image_shape is None:
            return None
        if self.image_shape != "auto":
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) != 3 or math.prod(shape) != n_features:
                raise ValueError(
                    f"image_shape={tuple(self.image_shape)} does not fit the data: it must be "
                    f"(channels, height, width) with channels * height * width equal to the "
                    f"number of features, {n_features}."
                )
            return shape
        if input_shape is not None:
            return tuple(int(s) for s in input_shape)
        if sp.issparse(X) or X.min() < 0:
            return None
        return infer_image_shape(n_features)

    def _copy_user_autoencoder(self, X) -> tuple[Autoencoder, int]:
        """A copy of the user's ``autoencoder`` modules, checked on the first rows of ``X``."""
        sample = take_rows(X, slice(0, _PROBE_ROWS)).to(self._torch_device())
        return copy_autoencoder(self.autoencoder, sample)

    @contextlib.contextmanager
    def _unfitted_on_error(self):
        """Leave no half-fitted state behind when ``fit`` fails (e.g. on a NaN loss)."""
        try:
            yield
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            raise
        finally:
            vars(self).pop("_checkpoints", None)

    # ---- devices and randomness --------------------------------------------------------------
    def _torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} was requested but CUDA is not available.")
        return device

    def _precision(self) -> str:
        """The training arithmetic: ``precision``, with "auto" resolved for the device."""
        if self.precision != "auto":
            return self.precision
        return "bfloat16" if has_fast_bfloat16(self._torch_device()) else "float32"

    @contextlib.contextmanager
    def _seeded(self, seed: int):
        """Run a block with torch's RNGs seeded; the caller's global RNG state is restored."""
        device = self._torch_device()
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _draw_seed(self) -> int:
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # ---- checkpoints -------------------------------------------------------------------------
    # Parameters that may differ between an interrupted fit and its resumption: they change
    # neither the training nor its random numbers (the interrupted fit's seed is reused).
    _RESUMABLE_CHANGES = frozenset(
        {"device", "verbose", "callbacks", "checkpoint_dir", "checkpoint_every", "random_state"}
    )

    def _checkpoint_manifest(self, X) -> dict:
        """What a checkpoint directory must match to be resumed by this fit on ``X``."""

        def fingerprint(value) -> str:
            if isinstance(value, np.ndarray):
                digest = hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest()
                return f"ndarray{value.shape}:{value.dtype}:{digest}"
            name = getattr(value, "__qualname__", None)
            if name is not None:  # classes and functions: their repr holds an address
                return f"{value.__module__}.{name}"
            return repr(value)

        params = {
            name: fingerprint(value)
            for name, value in self.get_params(deep=False).items()
            if name not in self._RESUMABLE_CHANGES
        }
        # A few evenly spaced rows identify the data without reading all of it.
        rows = np.unique(np.linspace(0, X.shape[0] - 1, num=min(X.shape[0], 64)).astype(int))
        sample = take_rows(X, rows).numpy()
        return {
            "format": "skdeepclust-checkpoint",
            "estimator": type(self).__name__,
            "params": params,
            "data": {"shape": list(X.shape), "sample": hashlib.sha1(sample.tobytes()).hexdigest()},
        }

    def _start_checkpoints(self, X, resume_from) -> int:
        """Set up this fit's checkpoints; return its seed (the interrupted fit's when resuming)."""
        self._checkpoints = None
        manifest = self._checkpoint_manifest(X)
        if resume_from is None:
            seed = self._draw_seed()
            if self.checkpoint_dir is not None:
                self._checkpoints = CheckpointStore.start(
                    self.checkpoint_dir, self.checkpoint_every, {**manifest, "seed": seed}
                )
            return seed
        stored = read_manifest(resume_from)
        if stored.get("estimator") != manifest["estimator"]:
            raise ValueError(
                f"resume_from={str(resume_from)!r} holds a checkpoint of "
                f"{stored.get('estimator')}, not of {manifest['estimator']}."
            )
        changed = sorted(
            name
            for name in manifest["params"].keys() | stored["params"].keys()
            if manifest["params"].get(name) != stored["params"].get(name)
        )
        if changed:
            raise ValueError(
                f"Cannot resume from {str(resume_from)!r}: these parameters differ from the "
                f"interrupted fit's: {', '.join(changed)}."
            )
        if stored["data"] != manifest["data"]:
            raise ValueError(
                f"Cannot resume from {str(resume_from)!r}: X is not the data of the interrupted "
                f"fit (shape {tuple(stored['data']['shape'])}, or other rows)."
            )
        self._checkpoints = CheckpointStore.resume(
            resume_from, self.checkpoint_dir, self.checkpoint_every
        )
        return int(stored["seed"])

    def _train_phase(self, net, X, *, seed: int) -> None:
        """``net.partial_fit(X)``: resumed from its checkpoint and checkpointed when asked."""
        if not net.initialized_:
            net.initialize()
        # Each phase draws from a stream of its own: a phase that follows one restored from a
        # checkpoint then sees the random numbers it sees in an uninterrupted fit.
        torch.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        checkpoints = getattr(self, "_checkpoints", None)
        if checkpoints is None:
            net.partial_fit(X)
        else:
            checkpoints.train(net, X)

    # ---- skorch ------------------------------------------------------------------------------
    def _net_kwargs(self, *, phase: str, seed: int, max_epochs: int, lr: float, batch_size: int):
        """Settings common to every phase's skorch net."""
        callbacks = [(f"user_{i}", cb) for i, cb in enumerate(self.callbacks or ())]
        if self.verbose:
            callbacks.append(("progress", PhaseProgressBar(phase)))
        return dict(
            criterion=torch.nn.MSELoss,  # required by skorch; the nets compute their own losses
            optimizer=torch.optim.Adam,
            # One kernel per step for all parameters instead of several per tensor: less per-step
            # overhead for small networks (within noise on the 784-500-500-2000-10 autoencoder,
            # where the matrix products dominate).
            optimizer__fused=True,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            callbacks=callbacks or None,
            device=self._torch_device(),
            verbose=int(self.verbose > 1),
            phase=phase,
            precision=self._precision(),
        )

    def _auto_heads(self, image_shape) -> bool:
        """Whether ``head="auto"`` trains the consistency heads: on images of 16 pixels a side
        or more in the default profile.

        Their balance term assumes clusters of similar sizes, as image benchmarks have; on
        tabular data such as breast cancer (212 / 357 samples) it cost 0.08-0.09 ACC, and on the
        8 x 8 digits the heads took 40-45% of the fit for no gain (see the user guide).
        """
        return self.profile == "default" and self._large_images(image_shape)

    @staticmethod
    def _large_images(image_shape) -> bool:
        return image_shape is not None and min(image_shape[1:]) >= _AUTO_IMAGE_MIN_SIDE

    def _graph_features(self, image_shape) -> str:
        """Resolve ``graph_features`` for images of ``image_shape`` (None: tabular).

        "auto" is "hog" for images whose sides hold at least 4 cells of the histograms (16
        pixels; on the 8 x 8 digits the histograms found fewer neighbours of the same class than
        the pixels), else "input". "hog" asked for where it cannot apply raises a ValueError.
        """
        if self.graph_features == "auto":
            return "hog" if self._large_images(image_shape) else "input"
        if self.graph_features == "hog" and image_shape is None:
            raise ValueError(
                "graph_features='hog' needs image inputs: pass image_shape=(channels, height, "
                "width), or use graph_features='input' for tabular data."
            )
        if self.graph_features == "hog" and min(image_shape[1:]) < MIN_IMAGE_SIDE:
            raise ValueError(
                f"graph_features='hog' needs images of at least {MIN_IMAGE_SIDE} x "
                f"{MIN_IMAGE_SIDE} pixels, got image_shape={tuple(image_shape)}; use "
                f"graph_features='input'."
            )
        return self.graph_features

    def _neighbor_graph(self, X, image_shape) -> sp.csr_matrix:
        """The ``n_neighbors`` graph of the rows of ``X`` (announced when verbose).

        With ``graph_features`` resolved to "hog" the neighbours are searched among the images'
        gradient histograms next to their pixels (:func:`~skdeepclust.features.graph_features`).
        """
        device = self._torch_device()
        on = "the rows"
        if self._graph_features(image_shape) == "hog":
            X, on = graph_features(X, image_shape, device=device), "gradient histograms"
        self._progress(f"building the {self.n_neighbors}-NN graph of {X.shape[0]} samples on {on}")
        return neighbor_graph(X, self.n_neighbors, device=device)

    def _fit_consistency_head(
        self,
        H: np.ndarray,
        graph,
        *,
        seed: int,
        phase_suffix: str = "",
        copies: np.ndarray | None = None,
    ) -> ConsensusHead:
        """Train ``head_restarts`` consistency heads on the codes ``H``; return their consensus.

        Every restart starts from other random weights. The restarts' objectives
        (:func:`~skdeepclust.training.losses.consistency_objective` on the whole graph, no labels
        involved) are stored in ``head_objectives_``; the restart with the lowest one comes
        first in the :class:`~skdeepclust.nn.heads.ConsensusHead`, and the others' clusters are
        matched to its clusters before their probabilities are averaged. With
        ``head_overclustering`` m > 1 each head has ``m * n_clusters`` clusters, and the
        consensus's are merged into ``n_clusters`` groups of about m along ``graph``
        (:func:`~skdeepclust.nn.heads.merge_clusters`). ``phase_suffix`` tells the progress
        output and the checkpoints apart when a fit trains several sets of heads.

        ``copies`` (codes of one augmented copy of each sample, in the order of ``H``) join the
        training as extra samples along :func:`~skdeepclust.neighbors.with_copies`; the
        training keeps the number of batches it has without them, and the objectives are taken
        on the extended graph.
        """
        n_head_clusters = self.head_overclustering * self.n_clusters
        batch_size = min(_HEAD_BATCH_SIZE, graph.nnz)
        steps = edge_batches_per_epoch(graph, batch_size)
        epochs = max(_HEAD_EPOCHS, math.ceil(_HEAD_MIN_STEPS / steps))
        if copies is not None:
            # The copies triple the edges; a budget in batches keeps the heads' cost.
            H, graph = np.concatenate([H, copies]), with_copies(graph)
            epochs = max(1, round(epochs * steps / edge_batches_per_epoch(graph, batch_size)))
        dataset = EdgeDataset(H, graph=graph)
        device = self._torch_device()
        codes = torch.as_tensor(H, device=device)
        heads, labels, objectives = [], [], []
        with_copies_note = "" if copies is None else " with the augmented copies"
        for restart in range(self.head_restarts):
            self._progress(
                f"training consistency head {restart + 1}/{self.head_restarts}{phase_suffix} "
                f"for {epochs} epochs{with_copies_note}"
            )
            restart_seed = seed + restart
            with self._seeded(restart_seed):
                head = ConsistencyHead(H.shape[1], n_head_clusters).to(device)
            head.standardize_(codes)
            net = ConsistencyNet(
                head,
                **self._net_kwargs(
                    phase=f"consistency head {restart + 1}{phase_suffix}",
                    seed=restart_seed,
                    max_epochs=epochs,
                    lr=_HEAD_LR,
                    batch_size=batch_size,
                ),
                iterator_train=edge_loader,
                balance_weight=self.head_balance,
            )
            self._train_phase(net, dataset, seed=restart_seed)
            heads.append(head.eval())
            P = torch.as_tensor(self._map_batches(partial(_probabilities, head), H))
            labels.append(P.argmax(1).numpy())
            objectives.append(consistency_objective(P, graph, balance_weight=self.head_balance))
        self.head_objectives_ = np.asarray(objectives)
        # The most consistent restart first: its clusters, in its order, are the consensus's.
        order = np.argsort(self.head_objectives_, kind="stable")
        consensus = ConsensusHead([heads[r] for r in order]).to(device).eval()
        consensus.match_([labels[r] for r in order])
        if n_head_clusters > self.n_clusters:
            P = np.exp(self._map_batches(consensus, H))
            consensus.group_(merge_clusters(P, graph, self.n_clusters))
        return consensus

    @staticmethod
    def _heads_epochs(epochs: int, choose: bool) -> tuple[tuple[int, ...], int]:
        """The epochs to keep a snapshot of, and the epochs to train, for a budget of ``epochs``.

        When the heads may ``choose`` and the budget is under ``_HEADS_MIN_EPOCHS``, the training
        runs that many epochs and keeps the state of the budget's last epoch.
        """
        if choose and epochs < _HEADS_MIN_EPOCHS:
            return (epochs,), _HEADS_MIN_EPOCHS
        return (), epochs

    def _most_consistent_heads(self, candidates: dict, graph, *, seed: int):
        """Train the heads on each candidate's codes; return the most consistent heads.

        ``candidates`` maps training epochs to the codes of that epoch, or to a function that
        returns them (called once, in the order of the dict); codes may come as a pair
        ``(codes, copies)``, for heads trained with augmented copies (the ``copies`` of
        :meth:`_fit_consistency_head`). The heads of the candidate with
        the lowest median restart objective win (the objective needs no labels; the median,
        unlike the minimum, is not swayed by one lucky restart): their objectives go to
        ``head_objectives_`` and the epoch to ``head_pretrain_epoch_``.

        Returns
        -------
        heads : ConsensusHead
        codes : ndarray
            The codes the winning heads learned from.
        """
        best = None
        last = max(candidates)
        for epoch, codes in candidates.items():
            H = codes() if callable(codes) else codes
            H, copies = H if isinstance(H, tuple) else (H, None)
            at = "" if epoch == last else f" at pretraining epoch {epoch}"
            heads = self._fit_consistency_head(H, graph, seed=seed, phase_suffix=at, copies=copies)
            score = float(np.median(self.head_objectives_))
            if best is None or score < best[0]:
                best = (score, epoch, self.head_objectives_, heads, H)
        score, self.head_pretrain_epoch_, self.head_objectives_, heads, H = best
        if len(candidates) > 1:
            self._progress(
                f"keeping the heads of pretraining epoch {self.head_pretrain_epoch_} "
                f"(lowest median objective, {score:.4f})"
            )
        return heads, H

    def _heads_leave_clusters_empty(self, labels: np.ndarray, *, fallback: str = "") -> bool:
        """Warn and return True when the consistency heads' ``labels`` leave a cluster empty.

        ``fallback`` names the assignments that the estimator then keeps instead of the heads'
        (empty: it keeps the heads').
        """
        used = np.unique(labels).size
        if used == self.n_clusters:
            return False
        then = f" Falling back to {fallback}." if fallback else ""
        warnings.warn(
            f"The consistency heads assign the samples to {used} of n_clusters="
            f"{self.n_clusters} clusters: their balance term (head_balance="
            f"{self.head_balance}) is too weak to keep every cluster in use. Raise "
            f"head_balance, or use the estimator's own assignments.{then}",
            ConvergenceWarning,
            stacklevel=3,
        )
        return True

    # ---- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def _map_batches(self, fn, X, batch_size: int | None = None) -> np.ndarray:
        """Apply ``fn`` (tensor -> tensor) to ``X`` in batches on the device, in eval mode."""
        device = self._torch_device()
        batch_size = batch_size or max(self.batch_size, 1024)
        result = None
        for start in range(0, X.shape[0], batch_size):
            xb = take_rows(X, slice(start, start + batch_size)).to(device)
            out = fn(xb).float().cpu().numpy()
            if result is None:
                # One output array filled in place: keeping one small array per batch between
                # the batches' large temporaries fragmented the heap (measured: +870 MB of
                # anonymous memory while encoding a 1 GB memmap, against +10 MB without).
                result = np.empty((X.shape[0], *out.shape[1:]), dtype=out.dtype)
            result[start : start + len(out)] = out
        return result

    def _encode(self, X) -> np.ndarray:
        self.encoder_.eval()
        return self._map_batches(self.encoder_, X)

    def transform(self, X) -> np.ndarray:
        """Encode ``X`` into the learned latent space.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_latent), float32
        """
        check_is_fitted(self)
        return self._encode(self._validate_X(X, reset=False))

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        """Fit, then return the latent codes of ``X``."""
        return self.fit(X, y, **fit_params).transform(X)

    # ---- persistence -------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save the fitted estimator: weights with ``torch.save``, parameters as JSON.

        Unlike a pickle, the file executes no code when loaded (see :func:`load`).

        Parameters
        ----------
        path : str or path-like
        """
        from .persistence import save

        save(self, path)

    @classmethod
    def load(cls, path, *, device: str = "cpu"):
        """Load an estimator written by :meth:`save` (weights read with ``weights_only=True``).

        Parameters
        ----------
        path : str or path-like
        device : str, default="cpu"
            Where to put the weights (a GPU-trained model loads on a CPU-only machine).

        Returns
        -------
        estimator
        """
        from .persistence import load

        est = load(path, device=device)
        if not isinstance(est, cls):
            raise TypeError(f"{path} holds a {type(est).__name__}, not a {cls.__name__}.")
        return est

    # Pickles hold the state as one torch.save blob, so that unpickling can map the tensors of a
    # GPU-trained estimator (its modules, and those its skorch nets hold as parameters) to the
    # CPU: plain pickle restores tensors on the device they were saved from, or fails.
    def __getstate__(self):
        buffer = io.BytesIO()
        torch.save(super().__getstate__(), buffer)
        return {"torch_state": buffer.getvalue()}

    def __setstate__(self, state):
        cuda = torch.cuda.is_available()
        state = torch.load(
            io.BytesIO(state["torch_state"]),
            map_location=None if cuda else "cpu",
            weights_only=False,  # unpickling runs code anyway: pickles must be trusted
        )
        if not cuda and str(state.get("device", "cpu")).startswith("cuda"):
            warnings.warn(
                f"This estimator was trained with device={state['device']!r} but CUDA is not "
                "available: its tensors were loaded on the CPU and device is set to 'cpu'.",
                UserWarning,
                stacklevel=2,
            )
            state["device"] = "cpu"
        super().__setstate__(state)

    # ---- helpers -----------------------------------------------------------------------------
    def _progress(self, message: str) -> None:
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)

    @staticmethod
    def _kmeans(Z: np.ndarray, n_clusters: int, *, n_init: int, seed: int) -> KMeans:
        return KMeans(n_clusters, n_init=n_init, random_state=seed).fit(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self._device_is_cuda()
        return tags

    def _device_is_cuda(self) -> bool:
        return str(self.device).startswith("cuda")
