"""Autoencoder builders shared by both estimators.

Every encoder maps flat rows ``[B, n_features]`` to ``[B, latent_dim]`` and every decoder maps
back to flat rows, whatever the architecture inside (image models reshape internally). The
estimators and the training loops therefore never care about the architecture.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

__all__ = [
    "Autoencoder",
    "InputScaling",
    "RandomFourierFeatures",
    "build_autoencoder",
    "copy_autoencoder",
    "is_custom_autoencoder",
    "mlp",
]


def mlp(sizes: Sequence[int], *, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Stack of linear layers with ``activation`` between them and a linear output."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class InputScaling(nn.Module):
    """``(x - shift) / scale`` with fixed statistics, or its inverse (``inverse=True``).

    The first layer of the MLP encoder and the last of its decoder: tabular inputs reach the
    network centred and at unit scale whatever their units, which decides whether a ReLU MLP
    can unfold them (two circles of radius 0.5 and 1 measured 0.51 ACC unscaled, 1.0 scaled).
    One scale for all features keeps the data's geometry and the k-NN graph unchanged.
    Buffers (saved in the ``state_dict``); identity until :meth:`set_statistics`.

    Parameters
    ----------
    n_features : int
    inverse : bool, default=False
    """

    def __init__(self, n_features: int, *, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(()))

    def set_statistics(self, shift, scale: float) -> None:
        """Set the centre (per feature) and the scale (one number, > 0)."""
        self.shift.copy_(torch.as_tensor(shift, dtype=self.shift.dtype))
        self.scale.fill_(float(scale))

    def forward(self, x):
        if self.inverse:
            return x * self.scale + self.shift
        return (x - self.shift) / self.scale


class RandomFourierFeatures:
    """Random Fourier features of the RBF kernel ``exp(-gamma |x - y|^2)`` (Rahimi & Recht).

    ``phi(x) = sqrt(2 / n_components) cos(x W + b)`` with ``W ~ N(0, 2 gamma)`` and
    ``b ~ U[0, 2 pi)``, so that ``phi(x) . phi(y)`` approximates the kernel. A fixed map (a
    regression target), not a module: it has nothing to train.

    Parameters
    ----------
    n_features, n_components : int
    gamma : float
    device : torch.device or str, default="cpu"
    """

    def __init__(self, n_features: int, n_components: int, gamma: float, device="cpu"):
        self.weight = (torch.randn(n_features, n_components) * (2 * gamma) ** 0.5).to(device)
        self.offset = (torch.rand(n_components) * 2 * math.pi).to(device)
        self.scale = (2.0 / n_components) ** 0.5

    def __call__(self, x):
        return self.scale * torch.cos(x @ self.weight + self.offset)


class Autoencoder(nn.Module):
    """An encoder and a decoder; ``forward(x)`` returns ``(z, reconstruction)``.

    Parameters
    ----------
    encoder, decoder : nn.Module
        Map flat ``[B, n_features]`` rows to ``[B, latent_dim]`` codes and back.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module | None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        z = self.encoder(x)
        return z, (None if self.decoder is None else self.decoder(z))


def is_custom_autoencoder(autoencoder) -> bool:
    """Whether an estimator's ``autoencoder`` parameter is a user's modules, not a name."""
    return isinstance(autoencoder, (Autoencoder, tuple))


def copy_autoencoder(
    autoencoder: Autoencoder | tuple[nn.Module, nn.Module], sample: torch.Tensor
) -> tuple[Autoencoder, int]:
    """A trainable copy of a user's autoencoder, checked on one batch.

    The estimators train the copy, so that fitting leaves the user's modules (an estimator
    parameter) untouched and every fit, clone or grid-search candidate starts from the same
    weights.

    Parameters
    ----------
    autoencoder : Autoencoder or tuple (encoder, decoder) of nn.Module
        The encoder must map flat float32 rows ``[B, n_features]`` to codes
        ``[B, latent_dim]`` and the decoder map codes back to ``[B, n_features]``.
    sample : Tensor of shape (B, n_features)
        A batch of the training data, on the device the copy is moved to.

    Returns
    -------
    autoencoder : Autoencoder
        A deep copy on ``sample.device``, in the training mode it was passed in.
    latent_dim : int
        The width of the encoder's codes.

    Raises
    ------
    ValueError
        If ``autoencoder`` is not a pair of modules, or if the encoder's output is not 2-D or
        the decoder's output does not have the shape of the input.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skdeepclust.nn.autoencoders import copy_autoencoder
    >>> pair = (nn.Linear(6, 2), nn.Linear(2, 6))
    >>> autoencoder, latent_dim = copy_autoencoder(pair, torch.zeros(4, 6))
    >>> latent_dim, autoencoder.encoder is pair[0]
    (2, False)
    """
    if isinstance(autoencoder, tuple):
        if len(autoencoder) != 2 or not all(isinstance(m, nn.Module) for m in autoencoder):
            raise ValueError(
                "A custom autoencoder must be an Autoencoder or a pair (encoder, decoder) of "
                f"torch.nn.Module, got a tuple of {[type(m).__name__ for m in autoencoder]}."
            )
        autoencoder = Autoencoder(*autoencoder)
    if autoencoder.decoder is None:
        raise ValueError("The autoencoder has no decoder; both estimators train one.")
    autoencoder = copy.deepcopy(autoencoder).to(sample.device)
    training = autoencoder.training
    autoencoder.eval()  # a probe, not a training step: batch statistics and dropout stay out
    with torch.no_grad():
        z = autoencoder.encoder(sample)
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or len(z) != len(sample):
            raise ValueError(
                f"The encoder must map a batch of shape {tuple(sample.shape)} to codes of shape "
                f"(batch, latent_dim), got {_shape(z)}."
            )
        reconstruction = autoencoder.decoder(z)
        if not isinstance(reconstruction, torch.Tensor) or reconstruction.shape != sample.shape:
            raise ValueError(
                f"The decoder must map codes of shape {tuple(z.shape)} back to the input's "
                f"shape {tuple(sample.shape)}, got {_shape(reconstruction)}."
            )
    return autoencoder.train(training), int(z.shape[1])


def _shape(output) -> str:
    if isinstance(output, torch.Tensor):
        return f"shape {tuple(output.shape)}"
    return f"a {type(output).__name__}"


def set_input_statistics(autoencoder: Autoencoder, X, *, max_rows: int = 10_000) -> None:
    """Centre and scale the MLP's inputs with the statistics of ``X``.

    The centre is the mean of each feature, the scale the root mean square of the centred
    entries, both estimated on at most ``max_rows`` evenly spaced rows (a memmap or a sparse
    matrix is never read whole). Autoencoders without :class:`InputScaling` are left as is.

    Parameters
    ----------
    autoencoder : Autoencoder
    X : ndarray, memmap or sparse matrix of shape (n_samples, n_features)
    max_rows : int, default=10_000
    """
    layers = [m for m in autoencoder.modules() if isinstance(m, InputScaling)]
    if not layers:
        return
    rows = np.unique(np.linspace(0, X.shape[0] - 1, min(max_rows, X.shape[0])).astype(np.int64))
    sample = X[rows]
    sample = np.asarray(sample.toarray() if sp.issparse(sample) else sample, dtype=np.float64)
    shift = sample.mean(0)
    scale = float(np.sqrt(np.mean((sample - shift) ** 2)))
    if not np.isfinite(scale) or scale == 0:
        shift, scale = np.zeros_like(shift), 1.0
    for layer in layers:
        layer.set_statistics(shift, scale)


def build_autoencoder(
    kind: str | None,
    n_features: int,
    *,
    hidden_dims: Sequence[int] = (256, 256),
    latent_dim: int = 10,
    image_shape: tuple[int, int, int] | None = None,
    depth: int = 16,
) -> Autoencoder:
    """Build the autoencoder named ``kind``.

    Parameters
    ----------
    kind : {"mlp", "conv"} or None
        ``"mlp"``: fully connected ``n_features - hidden_dims - latent_dim`` and its mirror (the
        DEC architecture is ``hidden_dims=(500, 500, 2000)``), between an
        :class:`InputScaling` and its inverse (see :func:`set_input_statistics`). ``"conv"``:
        the ACAI convolutional autoencoder (needs ``image_shape``). ``None``: identity encoder
        and no decoder (the shallow DMAE works on the raw features).
    n_features : int
        Number of input features.
    hidden_dims : sequence of int, default=(256, 256)
        Widths of the hidden layers of the MLP encoder (the decoder mirrors them).
    latent_dim : int, default=10
        Size of the latent code (for ``"conv"``: number of latent channels is derived from it).
    image_shape : tuple (channels, height, width), optional
        Required by ``"conv"``.
    depth : int, default=16
        Width of the first convolutional block of ``"conv"``.

    Returns
    -------
    Autoencoder
    """
    if kind is None:
        return Autoencoder(nn.Identity(), None)
    if kind == "mlp":
        sizes = [n_features, *hidden_dims, latent_dim]
        encoder = nn.Sequential(InputScaling(n_features), *mlp(sizes))
        decoder = nn.Sequential(*mlp(sizes[::-1]), InputScaling(n_features, inverse=True))
        return Autoencoder(encoder, decoder)
    if kind == "conv":
        from .conv import build_conv_autoencoder

        if image_shape is None:
            raise ValueError("autoencoder='conv' needs an image_shape (channels, height, width).")
        return build_conv_autoencoder(image_shape, latent_dim=latent_dim, depth=depth)
    raise ValueError(f"Unknown autoencoder {kind!r}; expected 'mlp', 'conv' or None.")
