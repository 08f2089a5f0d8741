"""Image descriptors for the neighbour graph: histograms of oriented gradients, in plain torch.

The default profile's encoders learn to keep the k-nearest-neighbour graph of their inputs, so
the graph decides much of what they learn. On images, neighbours found by comparing pixels
confuse garments whose silhouettes overlap (Fashion-MNIST's pullovers, coats and shirts);
comparing their local edge orientations as well finds more neighbours of the same class (15-NN
class purity on 20,000 Fashion-MNIST images: 0.770 on the pixels, 0.814 on gradient histograms
next to the pixels). The encoders still train on the pixels: the descriptors only choose the
edges.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

__all__ = ["MIN_IMAGE_SIDE", "graph_features", "oriented_gradients"]

_CELL_SIZE = 4
MIN_IMAGE_SIDE = 2 * _CELL_SIZE
"""The smallest image side :func:`graph_features` accepts: two cells, one block."""

_CHUNK = 4096


def oriented_gradients(
    images: torch.Tensor, *, cell_size: int = _CELL_SIZE, n_bins: int = 9, eps: float = 1e-6
) -> torch.Tensor:
    """Histograms of oriented gradients (HOG) of a batch of images.

    Central-difference gradients (zero outside the image) vote with their magnitude for one of
    ``n_bins`` unsigned orientations in [0, 180) degrees; votes are averaged over cells of
    ``cell_size`` x ``cell_size`` pixels; each block of 2 x 2 neighbouring cells (stride one
    cell) is normalised to unit length, which makes the descriptor insensitive to local
    contrast. Multi-channel images use, at each pixel, the channel with the largest gradient.

    Parameters
    ----------
    images : Tensor of shape (B, C, H, W)
        Floating-point images.
    cell_size : int, default=4
        Side of a cell in pixels; ``H`` and ``W`` must hold at least two cells.
    n_bins : int, default=9
        Orientation bins.
    eps : float, default=1e-6
        Added to each block's norm, so that blank blocks stay zero.

    Returns
    -------
    Tensor of shape (B, (H // cell_size - 1) * (W // cell_size - 1) * 4 * n_bins)
        The normalised blocks, flattened.

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.features import oriented_gradients
    >>> oriented_gradients(torch.rand(2, 1, 28, 28)).shape
    torch.Size([2, 1296])
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(
            f"images must be a floating-point tensor of shape (B, C, H, W), got "
            f"{tuple(images.shape)} of dtype {images.dtype}."
        )
    height, width = images.shape[-2:]
    if min(height, width) < 2 * cell_size:
        raise ValueError(
            f"Images of {height} x {width} pixels hold fewer than 2 x 2 cells of "
            f"cell_size={cell_size}."
        )
    channels = images.shape[1]
    kx = images.new_tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3).expand(channels, 1, 1, 3)
    ky = images.new_tensor([-1.0, 0.0, 1.0]).view(1, 1, 3, 1).expand(channels, 1, 3, 1)
    gx = F.conv2d(images, kx, padding=(0, 1), groups=channels)
    gy = F.conv2d(images, ky, padding=(1, 0), groups=channels)
    magnitude = torch.hypot(gx, gy)
    strongest = magnitude.argmax(1, keepdim=True)
    magnitude = magnitude.gather(1, strongest)
    angle = torch.atan2(gy.gather(1, strongest), gx.gather(1, strongest)) % math.pi
    bins = (angle * (n_bins / math.pi)).long().clamp_max(n_bins - 1)
    votes = torch.zeros(
        images.shape[0], n_bins, height, width, dtype=images.dtype, device=images.device
    )
    votes.scatter_(1, bins, magnitude)
    cells = F.avg_pool2d(votes, cell_size)
    blocks = F.unfold(cells, 2).transpose(1, 2)
    blocks = blocks / (blocks.norm(dim=2, keepdim=True) + eps)
    return blocks.flatten(1)


def graph_features(
    X, image_shape: tuple[int, int, int], *, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Gradient histograms next to the pixels: the features the neighbour graph is built on.

    Each part is divided by the mean length of its rows, so that both weigh alike in euclidean
    distances whatever the number of features.

    Parameters
    ----------
    X : array-like or scipy sparse matrix of shape (n_samples, channels * height * width)
        Flat images (rows in C order of ``image_shape``); sparse rows are densified one chunk
        at a time.
    image_shape : tuple of int
        ``(channels, height, width)``.
    device : str or torch.device, default="cpu"
        Where the histograms are computed, in chunks of rows.

    Returns
    -------
    ndarray of shape (n_samples, n_histogram_features + n_features), dtype float32

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.features import graph_features
    >>> X = np.random.default_rng(0).random((5, 784))
    >>> graph_features(X, (1, 28, 28)).shape
    (5, 2080)
    """
    n_samples = X.shape[0]
    parts = []
    for start in range(0, n_samples, _CHUNK):
        rows = X[start : start + _CHUNK]
        rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows)
        pixels = torch.as_tensor(rows, dtype=torch.float32)
        histograms = oriented_gradients(pixels.to(device).view(-1, *image_shape)).cpu()
        parts.append(torch.cat([histograms, pixels], 1))
    features = torch.cat(parts)
    split = features.shape[1] - X.shape[1]
    for part in (features[:, :split], features[:, split:]):
        part /= part.norm(dim=1).mean().clamp_min(1e-12)
    return features.numpy()
