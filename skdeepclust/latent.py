"""Analysis of latent spaces: PCA whitening and per-class PCA spectra.

The ACAI and MCDC papers cluster PCA-whitened codes with KMeans (:func:`pca_whitening`) and
characterise a latent space by the PCA spectrum of each class (MCDC's Fig. 3,
:func:`class_pca_spectrum`): a class whose variance sits in few components is compact and
"disentangled" from the others.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_array, check_consistent_length

__all__ = ["class_pca_spectrum", "pca_whitening"]


def pca_whitening(
    Z: ArrayLike, *, whiten: bool = True, eps: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centring and PCA-whitening statistics of a set of codes.

    The whitened codes are ``(Z - mean) @ components.T / scale``: principal coordinates
    divided by their standard deviation plus ``eps``, so every direction has (about) unit
    variance and directions of (almost) zero variance stay (almost) zero.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_dims)
        Codes (e.g. the training latents).
    whiten : bool, default=True
        False only centres: ``components`` is the identity and ``scale`` is 1.
    eps : float, default=1e-5
        Added to the standard deviations before dividing.

    Returns
    -------
    mean : ndarray of shape (n_dims,)
    components : ndarray of shape (n_dims, n_dims)
        Principal axes as rows, by decreasing variance.
    scale : ndarray of shape (n_dims,)

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.latent import pca_whitening
    >>> Z = np.random.default_rng(0).normal(size=(500, 3)) * [1.0, 10.0, 100.0]
    >>> mean, components, scale = pca_whitening(Z)
    >>> np.round(((Z - mean) @ components.T / scale).std(0), 3)
    array([1., 1., 1.])
    """
    Z = check_array(Z, dtype=np.float64)
    mean = Z.mean(0)
    n_dims = Z.shape[1]
    if not whiten:
        return mean, np.eye(n_dims, dtype=Z.dtype), np.ones(n_dims, dtype=Z.dtype)
    _, singular_values, components = np.linalg.svd(Z - mean, full_matrices=True)
    std = np.zeros(n_dims, dtype=Z.dtype)
    std[: len(singular_values)] = singular_values / np.sqrt(Z.shape[0])
    return mean, components, std + eps


def class_pca_spectrum(Z: ArrayLike, y: ArrayLike, n_components: int | None = None) -> np.ndarray:
    """Explained-variance ratio spectrum of each class's codes (MCDC paper, Fig. 3).

    For each class, the codes of its samples are centred and their principal-component
    variances are divided by their sum. A spectrum that falls fast means that the class
    occupies few latent directions.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_dims)
        Latent codes (e.g. ``estimator.transform(X)``).
    y : array-like of shape (n_samples,)
        Class labels; every class needs at least 2 samples.
    n_components : int, default=None
        Number of leading components to return; None returns ``n_dims``.

    Returns
    -------
    spectrum : ndarray of shape (n_classes, n_components)
        Row ``i`` belongs to ``np.unique(y)[i]``; rows are non-increasing and, with
        ``n_components=None``, sum to 1 (0 for a class whose codes are all equal).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.latent import class_pca_spectrum
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(200, 4)) * [3.0, 1.0, 0.1, 0.1]
    >>> class_pca_spectrum(Z, np.repeat([0, 1], 100)).round(1)
    array([[0.9, 0.1, 0. , 0. ],
           [0.9, 0.1, 0. , 0. ]])
    """
    Z = check_array(Z, dtype=[np.float64, np.float32])
    y = np.asarray(y)
    check_consistent_length(Z, y)
    n_dims = Z.shape[1]
    if n_components is None:
        n_components = n_dims
    if not 1 <= n_components <= n_dims:
        raise ValueError(f"n_components={n_components} must be in [1, n_dims={n_dims}].")
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"Every class needs at least 2 samples for a PCA spectrum; class "
            f"{classes[counts.argmin()]!r} has {counts.min()}."
        )
    spectrum = np.zeros((len(classes), n_dims))
    for row, label in enumerate(classes):
        codes = Z[y == label]
        variances = np.linalg.svd(codes - codes.mean(0), compute_uv=False) ** 2
        total = variances.sum()
        if total > 0:
            spectrum[row, : len(variances)] = variances / total
    return spectrum[:, :n_components]
