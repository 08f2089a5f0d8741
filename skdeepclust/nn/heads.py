"""Cluster-assignment heads trained on top of a fitted encoder's codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

__all__ = ["ConsensusHead", "ConsistencyHead", "match_clusters"]


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
        self.n_clusters = n_clusters
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


def match_clusters(labels: np.ndarray, reference: np.ndarray, n_clusters: int) -> np.ndarray:
    """Match the clusters of ``labels`` one to one to those of ``reference``.

    The matching maximises the number of samples on which both partitions agree (the Hungarian
    algorithm on their contingency table).

    Parameters
    ----------
    labels, reference : ndarray of shape (n_samples,)
        Two partitions of the same samples into clusters ``0 .. n_clusters - 1``.
    n_clusters : int

    Returns
    -------
    index : ndarray of shape (n_clusters,), int64
        ``index[j]`` is the cluster of ``labels`` matched to cluster ``j`` of ``reference``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.nn.heads import match_clusters
    >>> match_clusters(np.array([2, 2, 0, 1]), np.array([0, 0, 1, 2]), 3)
    array([2, 0, 1])
    """
    pairs = np.asarray(reference, np.int64) * n_clusters + np.asarray(labels, np.int64)
    agreement = np.bincount(pairs, minlength=n_clusters**2).reshape(n_clusters, n_clusters)
    rows, cols = linear_sum_assignment(agreement, maximize=True)
    index = np.empty(n_clusters, dtype=np.int64)
    index[rows] = cols
    return index


class ConsensusHead(nn.Module):
    """The mean cluster probabilities of several heads, their clusters matched to the first's.

    Heads trained from different random weights find similar partitions with their clusters in
    another order; :meth:`match_` reorders each head's clusters to agree most with the first
    head's, and the forward pass averages the reordered softmax outputs.

    Parameters
    ----------
    heads : sequence of ConsistencyHead
        The heads; the first one's cluster order is kept.

    Attributes
    ----------
    index : Tensor of shape (n_heads, n_clusters), int64
        Buffer: ``index[r, j]`` is the cluster of head ``r`` matched to cluster ``j`` of the
        first head (the identity until :meth:`match_` is called).

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.nn.heads import ConsensusHead, ConsistencyHead
    >>> heads = ConsensusHead([ConsistencyHead(10, 3), ConsistencyHead(10, 3)])
    >>> H = torch.randn(100, 10)
    >>> heads.match_([head(H).argmax(1).numpy() for head in heads.heads])
    >>> log_p = heads(torch.randn(4, 10))
    >>> log_p.shape, bool(torch.allclose(log_p.exp().sum(1), torch.ones(4)))
    (torch.Size([4, 3]), True)
    """

    def __init__(self, heads: Sequence[ConsistencyHead]):
        super().__init__()
        self.heads = nn.ModuleList(heads)
        n_clusters = heads[0].n_clusters
        self.register_buffer("index", torch.arange(n_clusters).repeat(len(heads), 1))

    @torch.no_grad()
    def match_(self, labels: Sequence[np.ndarray]) -> None:
        """Match every head's clusters to the first head's.

        Parameters
        ----------
        labels : sequence of ndarray of shape (n_samples,)
            Each head's most likely cluster of the same samples, in the order of ``heads``.
        """
        n_clusters = self.index.shape[1]
        for r, own in enumerate(labels):
            self.index[r] = torch.as_tensor(match_clusters(own, labels[0], n_clusters))

    def forward(self, h: Tensor) -> Tensor:
        """Log of the mean matched probabilities (valid logits: their softmax is the mean)."""
        mean = torch.stack(
            [torch.softmax(head(h), 1)[:, index] for head, index in zip(self.heads, self.index)]
        ).mean(0)
        return torch.log(mean.clamp_min(torch.finfo(mean.dtype).tiny))
