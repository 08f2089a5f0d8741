"""Loss terms shared by the training phases (plain functions on tensors)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["neighbor_embedding_loss", "scale_penalty"]


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
