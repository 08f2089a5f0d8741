"""Dissimilarities between latent codes and mixture components.

This module is the single registry of the dissimilarity functions ``V`` of the dissimilarity
mixture model (DMM): the mixture layer, its loss, the centre initialisers and the documentation
all read :data:`DISSIMILARITIES`. Every function works on batches of torch tensors, with
broadcasting and matrix products only:

- ``pairwise(H, C, **params)`` maps codes ``H`` of shape ``(B, d)`` and components ``C`` of shape
  ``(K, d)`` to the matrix ``(B, K)`` of ``V(h_i, c_k)``;
- ``paired(H, T, **params)`` maps ``H`` and per-row targets ``T``, both ``(B, d)``, to the vector
  ``(B,)`` of ``V(h_i, t_i)``, as the DMM loss needs for ``V(h_i, theta~_i)``.

=========================  ===============================================  =========  ==========
name                       ``V(x, y)``                                      params     init
=========================  ===============================================  =========  ==========
``"euclidean"``            ``sqrt(sum (x - y)^2 + eps)``                                   kmeans
``"sqeuclidean"``          ``sum (x - y)^2``                                               kmeans
``"mahalanobis"``          ``(x - y)^T P (x - y)``                          precision  kmeans
``"cosine"``               ``1 - <x / |x|, y / |y|>``                                      kmedoids
``"correlation"``          cosine of the row-centred vectors                               kmedoids
``"manhattan"``            ``sum |x - y|``                                                 kmedoids
``"minkowski"``            ``(sum |x - y|^p)^(1/p)``, ``p >= 1``            p=2        kmedoids
``"chebyshev"``            ``max |x - y|``                                                 kmedoids
``"kullback_leibler"``     ``KL(x / sum x || y / sum y)`` of ``|x| + eps``                 kmedoids
``"toroidal_euclidean"``   euclidean with differences wrapped to            period=1   kmedoids
                           ``[-period / 2, period / 2]``
=========================  ===============================================  =========  ==========

The small ``eps`` (``1e-12``) keeps the gradient of the square roots finite at zero distance and
the logarithms of the Kullback-Leibler divergence finite at zero coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from numbers import Real
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "DISSIMILARITIES",
    "VALID_DISSIMILARITIES",
    "Dissimilarity",
    "get_dissimilarity",
    "pairwise_dissimilarity",
]

_EPS = 1e-12


@dataclass(frozen=True)
class Dissimilarity:
    """A dissimilarity ``V`` with the metadata its users need.

    Parameters
    ----------
    name : str
        Registry name, or the ``__name__`` of a wrapped user callable.
    pairwise : callable
        ``pairwise(H, C, **params) -> Tensor`` of shape ``(B, K)`` for ``H`` of shape ``(B, d)``
        and ``C`` of shape ``(K, d)``.
    paired : callable
        ``paired(H, T, **params) -> Tensor`` of shape ``(B,)``: the dissimilarity of each row of
        ``H`` to the same row of ``T``.
    init : {"kmeans", "kmedoids"}
        How centres are initialised: KMeans for the euclidean-like dissimilarities (whose best
        centre is a mean), k-medoids for the others.
    sklearn_metric : str or None, default=None
        The :func:`sklearn.metrics.pairwise_distances` metric computing the same function, called
        with ``**param_values``; ``None`` where there is none, and then ``pairwise`` itself is the
        metric.
    density : bool, default=False
        Whether ``exp(-alpha * V(x, y))`` is a normalisable density in ``x`` with a known
        normaliser (a Gaussian for ``"sqeuclidean"`` and ``"mahalanobis"``).
    params : tuple of str, default=()
        Names of the keyword parameters that ``pairwise`` and ``paired`` accept.
    param_values : dict, default={}
        The parameter values bound into ``pairwise`` and ``paired`` (the defaults for a registry
        entry). Not part of equality or hashing.
    """

    name: str
    pairwise: Callable[..., Tensor]
    paired: Callable[..., Tensor]
    init: Literal["kmeans", "kmedoids"]
    sklearn_metric: str | None = None
    density: bool = False
    params: tuple[str, ...] = ()
    param_values: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.init not in ("kmeans", "kmedoids"):
            raise ValueError(f"init must be 'kmeans' or 'kmedoids', got {self.init!r}.")


# Kernels. Each pair (pairwise, paired) computes the same function; pairwise uses a matrix product
# wherever one exists so that its memory stays O(B * K) on large inputs.


# Up to this many elements of the (B, K, D) difference tensor (16 MB in float32), squared
# distances are summed from the differences themselves: exactly 0 between equal rows. The
# matrix-product expansion leaves float32 residues of about 1e-7 |h|^2 there, which the square
# root of "euclidean" turns into distances of 1e-4 to 1e-3 (seen on AVX512 CPUs).
_DIRECT_ELEMENTS = 2**22


def _sqeuclidean_pairwise(H: Tensor, C: Tensor) -> Tensor:
    if H.shape[0] * C.shape[0] * H.shape[1] <= _DIRECT_ELEMENTS:
        return (H[:, None, :] - C[None, :, :]).pow(2).sum(-1)
    # Distances are translation invariant, and the expansion |h|^2 + |c|^2 - 2 h.c loses
    # precision when the norms dwarf the distances, so shift both sets to the centres' mean first.
    # The shift is detached: by the invariance it contributes nothing to the gradient.
    shift = C.detach().mean(0)
    H = H - shift
    C = C - shift
    squared = H.pow(2).sum(1, keepdim=True) + C.pow(2).sum(1) - 2 * H @ C.T
    return squared.clamp_min(0)


def _sqeuclidean_paired(H: Tensor, T: Tensor) -> Tensor:
    return (H - T).pow(2).sum(1)


def _euclidean_pairwise(H: Tensor, C: Tensor) -> Tensor:
    return torch.sqrt(_sqeuclidean_pairwise(H, C) + _EPS)


def _euclidean_paired(H: Tensor, T: Tensor) -> Tensor:
    return torch.sqrt(_sqeuclidean_paired(H, T) + _EPS)


def _mahalanobis_pairwise(H: Tensor, C: Tensor, *, precision: Tensor) -> Tensor:
    diff = H[:, None, :] - C[None, :, :]
    precision = precision.expand(C.shape[0], -1, -1)
    weighted = torch.einsum("kij,bkj->bki", precision, diff)
    return (diff * weighted).sum(-1).clamp_min(0)


def _mahalanobis_paired(H: Tensor, T: Tensor, *, precision: Tensor) -> Tensor:
    diff = H - T
    precision = precision.expand(H.shape[0], -1, -1)
    weighted = torch.einsum("bij,bj->bi", precision, diff)
    return (diff * weighted).sum(-1).clamp_min(0)


def _unit(X: Tensor) -> Tensor:
    return F.normalize(X, dim=1, eps=_EPS)


def _cosine_pairwise(H: Tensor, C: Tensor) -> Tensor:
    return (1 - _unit(H) @ _unit(C).T).clamp(0, 2)


def _cosine_paired(H: Tensor, T: Tensor) -> Tensor:
    return (1 - (_unit(H) * _unit(T)).sum(1)).clamp(0, 2)


def _centred(X: Tensor) -> Tensor:
    return X - X.mean(1, keepdim=True)


def _correlation_pairwise(H: Tensor, C: Tensor) -> Tensor:
    return _cosine_pairwise(_centred(H), _centred(C))


def _correlation_paired(H: Tensor, T: Tensor) -> Tensor:
    return _cosine_paired(_centred(H), _centred(T))


# torch.cdist never materialises the (B, K, d) differences, and its backward defines the gradient
# at zero distance as zero, so the Minkowski family needs no eps. The matrix-product shortcut for
# p = 2 is turned off because it is neither exact at zero distance nor needed at this size.


def _minkowski_pairwise(H: Tensor, C: Tensor, *, p: float = 2.0) -> Tensor:
    return torch.cdist(H, C, p=p, compute_mode="donot_use_mm_for_euclid_dist")


def _minkowski_paired(H: Tensor, T: Tensor, *, p: float = 2.0) -> Tensor:
    return torch.linalg.vector_norm(H - T, ord=p, dim=1)


def _manhattan_pairwise(H: Tensor, C: Tensor) -> Tensor:
    return torch.cdist(H, C, p=1.0)


def _manhattan_paired(H: Tensor, T: Tensor) -> Tensor:
    return (H - T).abs().sum(1)


def _chebyshev_pairwise(H: Tensor, C: Tensor) -> Tensor:
    return torch.cdist(H, C, p=math.inf)


def _chebyshev_paired(H: Tensor, T: Tensor) -> Tensor:
    return (H - T).abs().amax(1)


def _simplex(X: Tensor) -> Tensor:
    X = X.abs() + _EPS
    return X / X.sum(1, keepdim=True)


def _kullback_leibler_pairwise(H: Tensor, C: Tensor) -> Tensor:
    p = _simplex(H)
    log_q = _simplex(C).log()
    # KL(p_i || q_k) = sum_j p_ij log p_ij - sum_j p_ij log q_kj: one matrix product.
    return ((p * p.log()).sum(1, keepdim=True) - p @ log_q.T).clamp_min(0)


def _kullback_leibler_paired(H: Tensor, T: Tensor) -> Tensor:
    p = _simplex(H)
    return (p * (p.log() - _simplex(T).log())).sum(1).clamp_min(0)


def _wrapped_norm(diff: Tensor, period: float) -> Tensor:
    # round() has a zero gradient, so the wrapped difference keeps the gradient of diff.
    wrapped = diff - period * torch.round(diff / period)
    return torch.sqrt(wrapped.pow(2).sum(-1) + _EPS)


def _toroidal_euclidean_pairwise(H: Tensor, C: Tensor, *, period: float = 1.0) -> Tensor:
    return _wrapped_norm(H[:, None, :] - C[None, :, :], period)


def _toroidal_euclidean_paired(H: Tensor, T: Tensor, *, period: float = 1.0) -> Tensor:
    return _wrapped_norm(H - T, period)


def _diagonal_paired(
    H: Tensor, T: Tensor, *, pairwise: Callable[..., Tensor], **params: Any
) -> Tensor:
    # A module-level function bound with functools.partial (not a closure) so that modules
    # holding a wrapped user callable stay picklable.
    return torch.diagonal(pairwise(H, T, **params))


DISSIMILARITIES: dict[str, Dissimilarity] = {
    d.name: d
    for d in (
        Dissimilarity("euclidean", _euclidean_pairwise, _euclidean_paired, "kmeans", "euclidean"),
        Dissimilarity(
            "sqeuclidean",
            _sqeuclidean_pairwise,
            _sqeuclidean_paired,
            "kmeans",
            "sqeuclidean",
            density=True,
        ),
        Dissimilarity(
            "mahalanobis",
            _mahalanobis_pairwise,
            _mahalanobis_paired,
            "kmeans",
            density=True,
            params=("precision",),
        ),
        Dissimilarity("cosine", _cosine_pairwise, _cosine_paired, "kmedoids", "cosine"),
        Dissimilarity(
            "correlation",
            _correlation_pairwise,
            _correlation_paired,
            "kmedoids",
            "correlation",
        ),
        Dissimilarity(
            "manhattan", _manhattan_pairwise, _manhattan_paired, "kmedoids", "manhattan"
        ),
        Dissimilarity(
            "minkowski",
            _minkowski_pairwise,
            _minkowski_paired,
            "kmedoids",
            "minkowski",
            params=("p",),
            param_values={"p": 2.0},
        ),
        Dissimilarity(
            "chebyshev", _chebyshev_pairwise, _chebyshev_paired, "kmedoids", "chebyshev"
        ),
        Dissimilarity(
            "kullback_leibler",
            _kullback_leibler_pairwise,
            _kullback_leibler_paired,
            "kmedoids",
        ),
        Dissimilarity(
            "toroidal_euclidean",
            _toroidal_euclidean_pairwise,
            _toroidal_euclidean_paired,
            "kmedoids",
            params=("period",),
            param_values={"period": 1.0},
        ),
    )
}
"""The registered dissimilarities, by name."""

VALID_DISSIMILARITIES: tuple[str, ...] = tuple(sorted(DISSIMILARITIES))
"""The registered names, sorted (for ``StrOptions`` constraints and error messages)."""


def _check_p(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, Real) or not p >= 1:
        raise ValueError(f"The minkowski parameter p must be a real number >= 1, got {p!r}.")
    return float(p)


def _check_period(period: Any) -> float:
    if isinstance(period, bool) or not isinstance(period, Real) or not (0 < period < math.inf):
        raise ValueError(
            f"The toroidal_euclidean parameter period must be a finite real number > 0, "
            f"got {period!r}."
        )
    return float(period)


def _check_precision(precision: Any) -> Tensor:
    # Only a precision shared by all components can be bound: pairwise takes one per component
    # (K, d, d) and paired one per row (B, d, d), which the mixture layer passes at each call.
    if (
        not isinstance(precision, Tensor)
        or precision.ndim != 2
        or precision.shape[0] != precision.shape[1]
    ):
        raise ValueError(
            "The mahalanobis parameter precision must be a square 2-D torch.Tensor of shape "
            f"(d, d), got {type(precision).__name__} of shape {getattr(precision, 'shape', ())}."
        )
    return precision


_PARAM_CHECKS: dict[str, Callable[[Any], Any]] = {
    "p": _check_p,
    "period": _check_period,
    "precision": _check_precision,
}


def get_dissimilarity(
    dissimilarity: str | Callable[..., Tensor] | Dissimilarity,
    params: Mapping[str, Any] | None = None,
) -> Dissimilarity:
    """Look up a dissimilarity by name, or wrap a user callable, and bind its parameters.

    Parameters
    ----------
    dissimilarity : str, callable or Dissimilarity
        A name in :data:`VALID_DISSIMILARITIES`; or a callable ``V(H, C) -> Tensor`` of shape
        ``(B, K)`` on torch tensors, which must be differentiable for training; or a
        :class:`Dissimilarity`, returned as it is.
    params : dict, default=None
        Keyword parameters bound into ``pairwise`` and ``paired``: ``{"p": float}`` (``>= 1``)
        for ``"minkowski"``, ``{"period": float}`` (``> 0``) for ``"toroidal_euclidean"``,
        ``{"precision": Tensor of shape (d, d)}`` for ``"mahalanobis"``. For a callable they are
        passed on unchecked.

    Returns
    -------
    Dissimilarity
        With ``pairwise`` and ``paired`` taking ``(H, C)`` and ``(H, T)`` only.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones), an unknown parameter name or an
        invalid parameter value.
    TypeError
        For a ``dissimilarity`` that is neither a string nor callable.

    Notes
    -----
    A wrapped callable ``V`` gets ``paired(H, T) = diagonal(V(H, T))``, which costs ``O(B^2)``
    time and memory per call instead of ``O(B)``. It is initialised with k-medoids
    (``init="kmedoids"``) and has no ``sklearn_metric``, so the initialiser builds the distance
    matrix with ``V`` itself on torch tensors.

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.dissimilarities import get_dissimilarity
    >>> V = get_dissimilarity("minkowski", {"p": 1})
    >>> V.pairwise(torch.zeros(1, 2), torch.ones(3, 2))
    tensor([[2., 2., 2.]])
    >>> V.sklearn_metric, V.param_values
    ('minkowski', {'p': 1.0})
    """
    params = dict(params or {})
    if isinstance(dissimilarity, Dissimilarity):
        if params:
            raise ValueError(
                "params can only be bound to a dissimilarity given by name or as a callable; "
                f"{dissimilarity.name!r} is already a Dissimilarity."
            )
        return dissimilarity
    if isinstance(dissimilarity, str):
        if dissimilarity not in DISSIMILARITIES:
            raise ValueError(
                f"Unknown dissimilarity {dissimilarity!r}. Valid names are "
                f"{', '.join(map(repr, VALID_DISSIMILARITIES))}, or pass a callable "
                "V(H, C) -> Tensor of shape (B, K)."
            )
        base = DISSIMILARITIES[dissimilarity]
        unknown = sorted(set(params) - set(base.params))
        if unknown:
            accepted = ", ".join(map(repr, base.params)) or "none"
            raise ValueError(
                f"Unknown parameter(s) {', '.join(map(repr, unknown))} for the {base.name!r} "
                f"dissimilarity; accepted: {accepted}."
            )
        values = {**base.param_values}
        values.update({name: _PARAM_CHECKS[name](value) for name, value in params.items()})
    elif callable(dissimilarity):
        base = Dissimilarity(
            name=getattr(dissimilarity, "__name__", type(dissimilarity).__name__),
            pairwise=dissimilarity,
            paired=partial(_diagonal_paired, pairwise=dissimilarity),
            init="kmedoids",
            params=tuple(params),
        )
        values = params
    else:
        raise TypeError(
            "dissimilarity must be a name, a callable V(H, C) -> Tensor or a Dissimilarity, "
            f"got {type(dissimilarity).__name__}."
        )
    if not values:
        return base
    return replace(
        base,
        pairwise=partial(base.pairwise, **values),
        paired=partial(base.paired, **values),
        param_values=values,
    )


def pairwise_dissimilarity(
    H: Tensor,
    C: Tensor,
    dissimilarity: str | Callable[..., Tensor] | Dissimilarity = "euclidean",
    **params: Any,
) -> Tensor:
    """Dissimilarities between every row of ``H`` and every row of ``C``.

    Parameters
    ----------
    H : Tensor of shape (B, d)
    C : Tensor of shape (K, d)
    dissimilarity : str, callable or Dissimilarity, default="euclidean"
        See :func:`get_dissimilarity`.
    **params
        Parameters of the dissimilarity, such as ``p`` for ``"minkowski"``.

    Returns
    -------
    Tensor of shape (B, K)

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.dissimilarities import pairwise_dissimilarity
    >>> H, C = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    >>> pairwise_dissimilarity(H, C, "sqeuclidean")
    tensor([[25.,  1.]])
    """
    for name, X in (("H", H), ("C", C)):
        if not isinstance(X, Tensor) or X.ndim != 2:
            raise ValueError(f"{name} must be a 2-D torch.Tensor, got {getattr(X, 'shape', X)}.")
    if H.shape[1] != C.shape[1]:
        raise ValueError(
            f"H and C must have the same number of features, got {H.shape[1]} and {C.shape[1]}."
        )
    return get_dissimilarity(dissimilarity, params).pairwise(H, C)
