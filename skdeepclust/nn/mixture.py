"""The dissimilarity mixture model (DMM) as a differentiable layer.

For codes ``h`` of shape ``(B, d)`` and ``K`` components with centres ``mu``, mixing weights
``pi`` and, for the mahalanobis dissimilarity, precisions ``P``::

    D        = V(h, mu)                              # (B, K)
    S        = softmax(-alpha * D + log pi)          # soft assignments
    mu~      = S @ mu                                # soft-assigned centres, (B, d)
    P~       = einsum("bk,kij->bij", S, P)           # soft-assigned precisions (mahalanobis)
    L_c      = mean_i [ V(h_i, theta~_i) - log(pi~_i) / alpha ],   pi~ = S @ pi

Unlike the authors' code, the mixing weights are the softmax of free logits (a proper simplex:
the loss cannot fall forever by growing them, and ``log pi`` is never ``log 0``), and each
precision is ``L L^T`` with ``L`` lower triangular with a positive diagonal, so it stays
positive definite whatever the optimiser does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.covariance import LedoitWolf
from torch import Tensor, nn

from ..dissimilarities import Dissimilarity, get_dissimilarity

__all__ = ["DissimilarityMixture", "precisions_from_partition"]

# Floor of the diagonal of the precisions' Cholesky factors: keeps P positive definite.
_MIN_DIAGONAL = 1e-4


def _inverse_softplus(y: Tensor) -> Tensor:
    # log(exp(y) - 1), written to stay accurate for small and large y.
    return y + torch.log(-torch.expm1(-y))


class DissimilarityMixture(nn.Module):
    """Soft assignments of codes to ``K`` components under a dissimilarity ``V``.

    Parameters
    ----------
    n_clusters : int
        Number of components ``K``.
    n_features : int
        Dimension ``d`` of the codes.
    dissimilarity : Dissimilarity, str or callable
        The dissimilarity ``V``, resolved by
        :func:`~skdeepclust.dissimilarities.get_dissimilarity`.
    alpha : float
        Softmax inverse temperature (> 0): the larger, the harder the assignments.
    precision_log_det : bool, default=False
        Whether to include the Gaussian normalisers of the mahalanobis components: the
        assignment logits gain ``0.5 log det P_k`` and the loss ``-0.5 (S @ log det P)_i / alpha``,
        which makes the layer a proper Gaussian mixture whose precisions cannot shrink toward zero
        to lower the loss. The paper and the authors' code leave it out. Ignored by the other
        dissimilarities, whose normaliser (if any) is the same for every component.

    Attributes
    ----------
    centers : Parameter of shape (n_clusters, n_features)
        Component centres ``mu``, standard normal until :meth:`initialize_` is called.
    mixing_logits : Parameter of shape (n_clusters,)
        Logits of the mixing weights, zeros (uniform weights) at creation.
    precision_factors : Parameter of shape (n_clusters, n_features, n_features) or None
        Raw parameter of the precisions' Cholesky factors (mahalanobis only, identity precisions
        at creation): its strict lower triangle is the factor's, its diagonal goes through
        ``softplus(.) + 1e-4``; the upper triangle is unused.
    alpha : float
        Softmax inverse temperature.
    precision_log_det : bool
        Whether the mahalanobis normalisers are included.

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.nn.mixture import DissimilarityMixture
    >>> mixture = DissimilarityMixture(2, 2, "sqeuclidean", alpha=10.0)
    >>> mixture.initialize_(torch.tensor([[0.0, 0.0], [5.0, 5.0]]))
    >>> S, D, log_pi = mixture(torch.tensor([[0.1, 0.0], [4.0, 5.0]]))
    >>> S.argmax(1)
    tensor([0, 1])
    """

    def __init__(
        self,
        n_clusters: int,
        n_features: int,
        dissimilarity: Dissimilarity | str | Callable[..., Tensor],
        alpha: float,
        *,
        precision_log_det: bool = False,
    ):
        super().__init__()
        for name, value in (("n_clusters", n_clusters), ("n_features", n_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not 0 < alpha < float("inf"):
            raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}.")
        self.n_clusters = int(n_clusters)
        self.n_features = int(n_features)
        self.dissimilarity = get_dissimilarity(dissimilarity)
        self.alpha = float(alpha)
        self.precision_log_det = bool(precision_log_det)
        self.centers = nn.Parameter(torch.empty(n_clusters, n_features))
        self.mixing_logits = nn.Parameter(torch.empty(n_clusters))
        if self.dissimilarity.name == "mahalanobis":
            self.precision_factors = nn.Parameter(torch.empty(n_clusters, n_features, n_features))
        else:
            self.register_parameter("precision_factors", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Standard normal centres, uniform mixing weights, identity precisions."""
        with torch.no_grad():
            nn.init.normal_(self.centers)
            self.mixing_logits.zero_()
            if self.precision_factors is not None:
                self._set_precisions(torch.eye(self.n_features).expand_as(self.precision_factors))

    def extra_repr(self) -> str:
        return (
            f"n_clusters={self.n_clusters}, n_features={self.n_features}, "
            f"dissimilarity={self.dissimilarity.name!r}, alpha={self.alpha:g}, "
            f"precision_log_det={self.precision_log_det}"
        )

    def _cholesky_factors(self) -> Tensor:
        raw = self.precision_factors
        diagonal = F.softplus(raw.diagonal(dim1=-2, dim2=-1)) + _MIN_DIAGONAL
        return torch.tril(raw, -1) + torch.diag_embed(diagonal)

    def _log_normalizers(self) -> Tensor | None:
        # 0.5 log det(L L^T) = sum log diag L: the component-dependent part of -log beta_k.
        if self.precision_factors is None or not self.precision_log_det:
            return None
        return self._cholesky_factors().diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def precisions(self) -> Tensor | None:
        """Precision matrices ``P_k = L_k L_k^T``, or None when not mahalanobis.

        Returns
        -------
        Tensor of shape (n_clusters, n_features, n_features) or None
        """
        if self.precision_factors is None:
            return None
        factors = self._cholesky_factors()
        return factors @ factors.mT

    def mixing_weights(self) -> Tensor:
        """Mixing weights ``pi``: positive and summing to one.

        Returns
        -------
        Tensor of shape (n_clusters,)
        """
        return torch.softmax(self.mixing_logits, dim=0)

    def _check_codes(self, h: Tensor) -> None:
        if h.ndim != 2 or h.shape[1] != self.n_features:
            raise ValueError(
                f"Expected codes of shape (batch, {self.n_features}), got {tuple(h.shape)}."
            )

    def _log_assignments(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        self._check_codes(h)
        extra = {} if self.precision_factors is None else {"precision": self.precisions()}
        D = self.dissimilarity.pairwise(h, self.centers, **extra)
        if D.shape != (h.shape[0], self.n_clusters):
            raise ValueError(
                f"The dissimilarity {self.dissimilarity.name!r} returned shape {tuple(D.shape)}, "
                f"expected ({h.shape[0]}, {self.n_clusters})."
            )
        log_pi = torch.log_softmax(self.mixing_logits, dim=0)
        logits = -self.alpha * D + log_pi
        log_normalizers = self._log_normalizers()
        if log_normalizers is not None:
            logits = logits + log_normalizers
        # log_softmax subtracts the row maximum first, so alpha * D may be huge (alpha = 1e6)
        # without overflow, and S = exp(log S) has rows summing to one. Distances that overflow
        # float32 (inputs ~1e20) would make every logit -inf and S NaN: bound them instead.
        logits = logits.clamp_min(torch.finfo(logits.dtype).min / 4)
        return torch.log_softmax(logits, dim=1), D, log_pi

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Soft assignments of the codes ``h``.

        Parameters
        ----------
        h : Tensor of shape (B, n_features)

        Returns
        -------
        S : Tensor of shape (B, n_clusters)
            Soft assignments, rows summing to one.
        D : Tensor of shape (B, n_clusters)
            Dissimilarities ``V(h_i, theta_k)``.
        log_pi : Tensor of shape (n_clusters,)
            Log mixing weights.
        """
        log_S, D, log_pi = self._log_assignments(h)
        return log_S.exp(), D, log_pi

    def log_assignments(self, h: Tensor) -> Tensor:
        """Logarithm of the soft assignments, finite even where ``S`` underflows to zero.

        Parameters
        ----------
        h : Tensor of shape (B, n_features)

        Returns
        -------
        Tensor of shape (B, n_clusters)
        """
        return self._log_assignments(h)[0]

    def soft_centers(self, S: Tensor) -> Tensor:
        """Soft-assigned centres ``mu~ = S @ mu`` (the DMM decoder).

        Parameters
        ----------
        S : Tensor of shape (B, n_clusters)

        Returns
        -------
        Tensor of shape (B, n_features)
        """
        return S @ self.centers

    def soft_precisions(self, S: Tensor) -> Tensor | None:
        """Soft-assigned precisions ``P~_i = sum_k S_ik P_k``, or None when not mahalanobis.

        Parameters
        ----------
        S : Tensor of shape (B, n_clusters)

        Returns
        -------
        Tensor of shape (B, n_features, n_features) or None
        """
        if self.precision_factors is None:
            return None
        return torch.einsum("bk,kij->bij", S, self.precisions())

    def clustering_loss(self, h: Tensor, S: Tensor) -> Tensor:
        """DMM loss ``mean_i [V(h_i, theta~_i) - log(pi~_i) / alpha]`` with ``pi~ = S @ pi``.

        With ``precision_log_det``, ``-0.5 sum_k S_ik log det P_k / alpha`` is added inside the
        mean.

        Parameters
        ----------
        h : Tensor of shape (B, n_features)
            Codes.
        S : Tensor of shape (B, n_clusters)
            Their soft assignments, normally ``self(h)[0]``.

        Returns
        -------
        Tensor
            Scalar loss.
        """
        self._check_codes(h)
        extra = {} if self.precision_factors is None else {"precision": self.soft_precisions(S)}
        V = self.dissimilarity.paired(h, self.soft_centers(S), **extra)
        log_pi = torch.log_softmax(self.mixing_logits, dim=0)
        # log(S @ pi) as a log-sum-exp over log S + log pi. Entries of S that underflowed to 0 are
        # clamped, which leaves them a negligible weight and a zero (not NaN) gradient; every row
        # keeps an entry >= 1/K, so the result is finite.
        log_S = torch.log(S.clamp_min(torch.finfo(S.dtype).tiny))
        log_weights = torch.logsumexp(log_S + log_pi, dim=1)
        log_normalizers = self._log_normalizers()
        if log_normalizers is not None:
            log_weights = log_weights + S @ log_normalizers
        return (V - log_weights / self.alpha).mean()

    def _as_parameter_tensor(self, value, like: Tensor, name: str) -> Tensor:
        value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
        if value.shape != like.shape:
            raise ValueError(
                f"{name} must have shape {tuple(like.shape)}, got {tuple(value.shape)}."
            )
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} must be finite.")
        return value

    def _set_precisions(self, precisions: Tensor) -> None:
        precisions = precisions.to(torch.float64)
        factors, info = torch.linalg.cholesky_ex((precisions + precisions.mT) / 2)
        failed = torch.nonzero(info).flatten().tolist()
        if failed:
            raise ValueError(
                f"precisions must be symmetric positive definite; those of components {failed} "
                "are not."
            )
        # Invert diagonal = softplus(raw) + _MIN_DIAGONAL; a diagonal below the floor is raised
        # to just above it.
        shifted = (factors.diagonal(dim1=-2, dim2=-1) - _MIN_DIAGONAL).clamp_min(1e-12)
        raw = torch.tril(factors, -1) + torch.diag_embed(_inverse_softplus(shifted))
        self.precision_factors.copy_(raw)

    @torch.no_grad()
    def initialize_(
        self,
        centers: Tensor | np.ndarray,
        precisions: Tensor | np.ndarray | None = None,
        mixing_weights: Tensor | np.ndarray | None = None,
    ) -> None:
        """Set the parameters in place from initial estimates.

        Parameters
        ----------
        centers : array-like of shape (n_clusters, n_features)
        precisions : array-like of shape (n_clusters, n_features, n_features), default=None
            Symmetric positive definite precisions (mahalanobis only), e.g. from
            :func:`precisions_from_partition`; stored through their Cholesky factors. None keeps
            the current ones.
        mixing_weights : array-like of shape (n_clusters,), default=None
            Positive weights, normalised here. None keeps the current ones.

        Raises
        ------
        ValueError
            For a wrong shape, non-finite values, precisions that are not positive definite or
            given without the mahalanobis dissimilarity, or weights that are not positive.
        """
        self.centers.copy_(self._as_parameter_tensor(centers, self.centers, "centers"))
        if precisions is not None:
            if self.precision_factors is None:
                raise ValueError(
                    "precisions can only be set with the 'mahalanobis' dissimilarity, not "
                    f"{self.dissimilarity.name!r}."
                )
            self._set_precisions(
                self._as_parameter_tensor(precisions, self.precision_factors, "precisions")
            )
        if mixing_weights is not None:
            weights = self._as_parameter_tensor(
                mixing_weights, self.mixing_logits, "mixing_weights"
            )
            if not (weights > 0).all():
                raise ValueError("mixing_weights must all be > 0.")
            self.mixing_logits.copy_(torch.log(weights / weights.sum()))


def precisions_from_partition(
    H: np.ndarray, labels: np.ndarray, n_clusters: int, reg: float = 1e-3
) -> np.ndarray:
    """Regularised precision matrix of each cluster of a partition of the codes.

    Each cluster's covariance is the Ledoit-Wolf shrinkage estimate; a cluster with fewer than
    ``n_features + 1`` points (empty ones included) takes the Ledoit-Wolf covariance of all of
    ``H`` instead. A ridge ``reg`` times the mean variance of ``H`` is added before inverting, so
    the result is always finite and symmetric positive definite, unlike the plain inverse of the
    empirical covariance that the original DMAE code used.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_features)
        Codes.
    labels : ndarray of shape (n_samples,)
        Cluster of each code, in ``[0, n_clusters)``.
    n_clusters : int
        Number of clusters.
    reg : float, default=1e-3
        Relative size of the ridge (> 0).

    Returns
    -------
    ndarray of shape (n_clusters, n_features, n_features)
        Precisions, in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.nn.mixture import precisions_from_partition
    >>> H = np.random.default_rng(0).normal(size=(50, 3))
    >>> precisions_from_partition(H, np.arange(50) % 2, n_clusters=3).shape
    (3, 3, 3)
    """
    H = np.asarray(H, dtype=np.float64)
    labels = np.asarray(labels)
    if H.ndim != 2 or labels.shape != (H.shape[0],):
        raise ValueError(
            f"H must be 2-D and labels 1-D of the same length, got shapes {H.shape} and "
            f"{labels.shape}."
        )
    if (
        isinstance(n_clusters, bool)
        or not isinstance(n_clusters, (int, np.integer))
        or n_clusters < 1
    ):
        raise ValueError(f"n_clusters must be a positive integer, got {n_clusters!r}.")
    if labels.size and (labels.min() < 0 or labels.max() >= n_clusters):
        raise ValueError(f"labels must lie in [0, {n_clusters}).")
    if not reg > 0:
        raise ValueError(f"reg must be > 0, got {reg!r}.")
    n_samples, n_features = H.shape
    if n_samples > 1:
        overall = LedoitWolf().fit(H).covariance_
    else:
        overall = np.zeros((n_features, n_features))
    mean_variance = np.trace(overall) / n_features
    # Constant codes have no scale to take the ridge from.
    scale = mean_variance if mean_variance > 0 else 1.0
    covariances = np.stack(
        [
            LedoitWolf().fit(H[labels == k]).covariance_
            if np.count_nonzero(labels == k) > n_features
            else overall
            for k in range(n_clusters)
        ]
    )
    precisions = np.linalg.inv(covariances + reg * scale * np.eye(n_features))
    return (precisions + precisions.transpose(0, 2, 1)) / 2
