"""Cluster-assignment heads trained on top of a fitted encoder's codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

__all__ = ["ConsensusHead", "ConsistencyHead", "match_clusters", "merge_clusters"]


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


def merge_clusters(P: np.ndarray, graph, n_groups: int) -> np.ndarray:
    """Merge soft clusters into ``n_groups`` groups along a neighbour graph.

    The edge weight between clusters ``a`` and ``b`` is ``C[a, b] = sum_ij P[i, a] W[i, j]
    P[j, b]``. Starting from one group per cluster, the two groups whose merge raises the
    graph's modularity most (``C[a, b] / T - d[a] d[b] / T**2``, with ``d`` the groups' total
    weights and ``T`` the graph's) are merged, among the pairs that together hold at most
    ``ceil(n_clusters / n_groups)`` clusters when there is one (so ``2 K`` clusters become
    ``K`` pairs), until ``n_groups`` remain. Unlike a connection normalised by the groups'
    sizes, the modularity gain does not favour a small cluster's merge, which would leave two
    unrelated large clusters to be paired last.

    Parameters
    ----------
    P : ndarray of shape (n_samples, n_clusters)
        Cluster probabilities.
    graph : scipy sparse matrix of shape (n_samples, n_samples)
        Edge weights ``W``.
    n_groups : int
        Number of groups, at most ``n_clusters``.

    Returns
    -------
    groups : ndarray of shape (n_clusters,), int64
        ``groups[a]`` is the group of cluster ``a``; groups are numbered in the order of their
        first cluster.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from skdeepclust.nn.heads import merge_clusters
    >>> W = sp.csr_matrix(np.kron(np.eye(2), np.ones((4, 4))))  # two cliques of 4 samples
    >>> P = np.eye(4)[[0, 0, 2, 2, 1, 1, 3, 3]]  # each clique split into two clusters
    >>> merge_clusters(P, W, 2)
    array([0, 1, 0, 1])
    """
    P = np.asarray(P, dtype=np.float64)
    n_clusters = P.shape[1]
    C = P.T @ (graph @ P)
    C = (C + C.T) / 2
    members = [[a] for a in range(n_clusters)]
    capacity = -(-n_clusters // n_groups)
    while len(members) > n_groups:
        degree = C.sum(1)
        total = degree.sum() or 1.0
        score = C / total - np.outer(degree, degree) / total**2
        sizes = np.array([len(m) for m in members])
        allowed = sizes[:, None] + sizes[None, :] <= capacity
        np.fill_diagonal(allowed, False)
        if not allowed.any():
            allowed = ~np.eye(len(members), dtype=bool)
        a, b = sorted(np.unravel_index(np.argmax(np.where(allowed, score, -np.inf)), C.shape))
        C[a] += C[b]
        C[:, a] += C[:, b]
        C = np.delete(np.delete(C, b, 0), b, 1)
        members[a] += members.pop(b)
    groups = np.empty(n_clusters, dtype=np.int64)
    for g, cluster_ids in enumerate(members):
        groups[cluster_ids] = g
    return groups


class ConsensusHead(nn.Module):
    """The mean cluster probabilities of several heads, their clusters matched to the first's.

    Heads trained from different random weights find similar partitions with their clusters in
    another order; :meth:`match_` reorders each head's clusters to agree most with the first
    head's, and the forward pass averages the reordered softmax outputs. When the heads have
    more clusters than the consensus (``n_groups``), :meth:`group_` assigns each of them to an
    output cluster, whose probability is the sum of its members'.

    Parameters
    ----------
    heads : sequence of ConsistencyHead
        The heads; the first one's cluster order is kept.
    n_groups : int or None, default=None
        Output clusters (as :meth:`group_` sets them, for a consensus to be loaded); None: the
        heads' number of clusters.

    Attributes
    ----------
    index : Tensor of shape (n_heads, n_clusters), int64
        Buffer: ``index[r, j]`` is the cluster of head ``r`` matched to cluster ``j`` of the
        first head (the identity until :meth:`match_` is called).
    groups : Tensor of shape (n_clusters,), int64
        Buffer: the output cluster of each of the first head's clusters (``j % n_groups``
        until :meth:`group_` is called).

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

    def __init__(self, heads: Sequence[ConsistencyHead], n_groups: int | None = None):
        super().__init__()
        self.heads = nn.ModuleList(heads)
        n_clusters = heads[0].n_clusters
        self.n_groups = n_clusters if n_groups is None else n_groups
        self.register_buffer("index", torch.arange(n_clusters).repeat(len(heads), 1))
        self.register_buffer("groups", torch.arange(n_clusters) % self.n_groups)

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

    @torch.no_grad()
    def group_(self, groups: np.ndarray) -> None:
        """Set the output cluster ``groups[j]`` of each cluster ``j``; there are
        ``max(groups) + 1`` output clusters from then on."""
        self.groups.copy_(torch.as_tensor(groups, dtype=torch.int64))
        self.n_groups = int(self.groups.max()) + 1

    def forward(self, h: Tensor) -> Tensor:
        """Log of the mean matched probabilities, summed within each output cluster.

        Valid logits: their softmax is the grouped mean.
        """
        mean = torch.stack(
            [torch.softmax(head(h), 1)[:, index] for head, index in zip(self.heads, self.index)]
        ).mean(0)
        if self.n_groups != mean.shape[1]:
            mean = mean.new_zeros(len(mean), self.n_groups).index_add_(1, self.groups, mean)
        return torch.log(mean.clamp_min(torch.finfo(mean.dtype).tiny))
