"""Cluster-assignment heads trained on top of a fitted encoder's codes."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ConsistencyHead"]


class ConsistencyHead(nn.Module):
    """An MLP from codes to cluster logits, on codes standardised with fixed statistics.

    Unlike the mixture's nearest-centre rule, an MLP can carve clusters that are not convex in
    the latent space; trained with :class:`~skdeepclust.training.nets.ConsistencyNet` it splits
    groups that the mixture merges (Fashion-MNIST's pullovers, coats and shirts).

    Parameters
    ----------
    n_features : int
        Dimension of the codes.
    n_clusters : int
        Number of clusters (outputs).
    hidden_dims : tuple of int, default=(256, 256)
        Widths of the hidden ReLU layers.

    Attributes
    ----------
    mean, scale : Tensor of shape (n_features,)
        Buffers of the standardisation (zeros and ones until :meth:`standardize_` is called).

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.nn.heads import ConsistencyHead
    >>> head = ConsistencyHead(10, 3)
    >>> head.standardize_(torch.randn(100, 10))
    >>> head(torch.randn(4, 10)).shape
    torch.Size([4, 3])
    """

    def __init__(
        self, n_features: int, n_clusters: int, hidden_dims: tuple[int, ...] = (256, 256)
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, n_clusters))
        self.net = nn.Sequential(*layers)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    @torch.no_grad()
    def standardize_(self, H: Tensor) -> None:
        """Set the standardisation to the mean and standard deviation of the codes ``H``."""
        self.mean.copy_(H.mean(0))
        self.scale.copy_(H.std(0).clamp_min(1e-12))

    def forward(self, h: Tensor) -> Tensor:
        return self.net((h - self.mean) / self.scale)
