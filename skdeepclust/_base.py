"""Plumbing shared by the estimators: validation, devices, seeding, skorch settings, encoding."""

from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import ProgressBar

from .training.data import take_rows

__all__ = ["BaseDeepClustering"]


class BaseDeepClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Shared machinery of the deep clustering estimators (not a public class).

    Subclasses set ``encoder_`` (a module mapping flat float32 rows to codes) in ``fit`` and
    implement the method-specific training.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    # ---- input -------------------------------------------------------------------------------
    def _validate_X(self, X, *, reset: bool):
        """Check X and return a float32 array (or CSR matrix) without copying memmaps."""
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=reset)
        if reset and self.n_clusters > X.shape[0]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        return X

    @contextlib.contextmanager
    def _unfitted_on_error(self):
        """Leave no half-fitted state behind when ``fit`` fails (e.g. on a NaN loss)."""
        try:
            yield
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            raise

    # ---- devices and randomness --------------------------------------------------------------
    def _torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} was requested but CUDA is not available.")
        return device

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

    # ---- skorch ------------------------------------------------------------------------------
    def _net_kwargs(self, *, phase: str, seed: int, max_epochs: int, lr: float, batch_size: int):
        """Settings common to every phase's skorch net."""
        callbacks = [(f"user_{i}", cb) for i, cb in enumerate(self.callbacks or ())]
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        return dict(
            criterion=torch.nn.MSELoss,  # required by skorch; the nets compute their own losses
            optimizer=torch.optim.Adam,
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
        )

    # ---- inference ---------------------------------------------------------------------------
    @torch.no_grad()
    def _map_batches(self, fn, X, batch_size: int | None = None) -> np.ndarray:
        """Apply ``fn`` (tensor -> tensor) to ``X`` in batches on the device, in eval mode."""
        device = self._torch_device()
        batch_size = batch_size or max(self.batch_size, 1024)
        outputs = []
        for start in range(0, X.shape[0], batch_size):
            xb = take_rows(X, slice(start, start + batch_size)).to(device)
            outputs.append(fn(xb).float().cpu())
        return torch.cat(outputs).numpy()

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
