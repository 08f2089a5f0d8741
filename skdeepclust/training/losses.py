"""Loss terms shared by the training phases (plain functions on tensors)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "consistency_objective",
    "neighbor_consistency_loss",
    "neighbor_embedding_loss",
    "scale_penalty",
]


def neighbor_embedding_loss(
    z_head: torch.Tensor,
    z_tail: torch.Tensor,
    *,
    a: float,
    b: float,
    negative_sample_rate: int = 5,
    repulsion_strength: float = 1.0,
    eps: float = 1e-4,
) -> torch.Tensor:
    """UMAP's fuzzy cross-entropy on a batch of sampled edges, with in-batch negatives.

    The similarity of two codes at distance ``d`` is ``q = 1 / (1 + a d^(2b))``. Edges (head,
    tail) pull together (``-log q``); each head is pushed from ``negative_sample_rate`` codes
    drawn from the batch's tails (``-log(1 - q)``), the parametric-UMAP way of sampling negatives
    without encoding extra points.

    Parameters
    ----------
    z_head, z_tail : Tensor of shape (B, d)
        Codes of the two ends of each sampled edge.
    a, b : float
        Parameters of the similarity curve
        (:func:`skdeepclust.neighbors.umap_curve_parameters`).
    negative_sample_rate : int, default=5
        Negatives per edge.
    repulsion_strength : float, default=1.0
        Weight of the repulsive term.
    eps : float, default=1e-4
        Keeps ``log`` finite at zero distance.

    Returns
    -------
    Tensor
        Scalar: mean attraction plus ``repulsion_strength`` times mean repulsion.
    """
    n = z_head.shape[0]
    log_a = math.log(a)
    # d^(2b) computed from the squared distance: (d^2)^b; the eps keeps the gradient finite at 0.
    d2_pos = (z_head - z_tail).pow(2).sum(1)
    attraction = F.softplus(log_a + b * torch.log(d2_pos + eps))
    offsets = torch.randint(1, max(n, 2), (negative_sample_rate,), device=z_head.device)
    neg_index = (torch.arange(n, device=z_head.device)[None, :] + offsets[:, None]) % n
    d2_neg = (z_head[None, :, :] - z_tail[neg_index]).pow(2).sum(-1)
    log_ad = log_a + b * torch.log(d2_neg + eps)
    # -log(1 - q) = log(1 + a d^2b) - log(a d^2b) = softplus(-log(a d^2b))
    repulsion = F.softplus(-log_ad)
    return attraction.mean() + repulsion_strength * repulsion.mean()


def scale_penalty(h: torch.Tensor, reference_scale: float) -> torch.Tensor:
    """Squared log-ratio of the batch's spread to ``reference_scale``.

    The spread is the root-mean-square distance of the codes to their mean. The DMM loss can be
    driven to zero by an encoder that shrinks every code towards one point (and the centres with
    it); anchoring the spread at its value after pretraining removes that shortcut.
    """
    rms = (h - h.mean(0)).pow(2).sum(1).mean().clamp_min(1e-12).sqrt()
    return torch.log(rms / reference_scale).pow(2)


def neighbor_consistency_loss(
    p_head: torch.Tensor, p_tail: torch.Tensor, *, balance_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """SCAN's loss on a batch of edges: neighbours agree, clusters stay balanced.

    Parameters
    ----------
    p_head, p_tail : Tensor of shape (B, K)
        Cluster probabilities of the two ends of each edge.
    balance_weight : float
        Weight of the balance term.

    Returns
    -------
    consistency : Tensor
        ``mean -log(p_head . p_tail)``: low when both ends are confidently in the same cluster.
    negative_entropy : Tensor
        ``sum_k m_k log m_k`` of the batch's mean assignment ``m``; adding ``balance_weight``
        times it keeps every cluster in use (without it one cluster takes every sample).
    """
    agreement = (p_head * p_tail).sum(1)
    consistency = -torch.log(agreement.clamp_min(1e-8)).mean()
    m = torch.cat([p_head, p_tail]).mean(0)
    negative_entropy = (m * torch.log(m.clamp_min(1e-8))).sum()
    return consistency, negative_entropy


def consistency_objective(P: torch.Tensor, graph, *, balance_weight: float) -> float:
    """The loss of :func:`neighbor_consistency_loss` over a whole graph (lower is better).

    Each edge counts with its weight, as edge sampling does; the balance term uses the mean
    assignment of all samples. It needs no labels, so it can pick the best of several restarts.

    Parameters
    ----------
    P : Tensor of shape (n_samples, K)
        Cluster probabilities of every sample.
    graph : scipy sparse matrix of shape (n_samples, n_samples)
        Edge weights.
    balance_weight : float

    Returns
    -------
    float
    """
    coo = graph.tocoo()
    rows = torch.as_tensor(coo.row, dtype=torch.long, device=P.device)
    cols = torch.as_tensor(coo.col, dtype=torch.long, device=P.device)
    weights = torch.as_tensor(coo.data, dtype=torch.float64, device=P.device)
    agreement = (P[rows] * P[cols]).sum(1).clamp_min(1e-8)
    consistency = (-torch.log(agreement).double() * weights).sum() / weights.sum()
    m = P.mean(0)
    negative_entropy = (m * torch.log(m.clamp_min(1e-8))).sum()
    return float(consistency) + balance_weight * float(negative_entropy)
