"""Two-dimensional toy datasets of the DMAE paper."""

import numbers

import numpy as np
from sklearn.datasets import make_blobs, make_circles
from sklearn.utils import check_random_state

# Eight centres evenly spaced on a circle of radius 10; with unit standard
# deviation, neighbouring blobs (7.65 apart) are separated but close.
BLOBS8_CENTERS = 10 * np.column_stack(
    [np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)]
)


def _check_positive_int(value: int, name: str) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _check_non_negative(value: float, name: str) -> None:
    if not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")


def make_pinwheel(
    n_samples: int = 1000,
    *,
    n_classes: int = 5,
    radial_std: float = 0.3,
    tangential_std: float = 0.05,
    rate: float = 0.25,
    shuffle: bool = True,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the pinwheel dataset: curved, elongated 2-D clusters.

    The construction of Johnson et al. (2016): each point starts at
    ``(1 + radial_std * e1, tangential_std * e2)`` with ``e1, e2`` standard
    normal, so near ``(1, 0)``, elongated along the x axis. A point of class
    ``k`` is then rotated clockwise by ``2 * pi * k / n_classes +
    rate * exp(x)``: the arms are evenly spread, and bend more the farther
    their points lie from the origin. Coordinates are finally scaled by 10.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points, split as evenly as possible among the classes (the
        first ``n_samples % n_classes`` classes get one more).
    n_classes : int, default=5
        Number of arms.
    radial_std : float, default=0.3
        Standard deviation along an arm, before scaling.
    tangential_std : float, default=0.05
        Standard deviation across an arm, before scaling.
    rate : float, default=0.25
        How much the arms bend.
    shuffle : bool, default=True
        Whether to shuffle the samples; otherwise they are sorted by class.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        The arm of each point, 0 to ``n_classes - 1``.

    References
    ----------
    M. J. Johnson, D. Duvenaud, A. B. Wiltschko, S. R. Datta and R. P. Adams,
    "Composing graphical models with neural networks for structured
    representations and fast inference", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.datasets import make_pinwheel
    >>> X, y = make_pinwheel(100, n_classes=4, random_state=0)
    >>> X.shape, np.bincount(y)
    ((100, 2), array([25, 25, 25, 25]))
    """
    _check_positive_int(n_samples, "n_samples")
    _check_positive_int(n_classes, "n_classes")
    _check_non_negative(radial_std, "radial_std")
    _check_non_negative(tangential_std, "tangential_std")
    if not isinstance(rate, numbers.Real):
        raise ValueError(f"rate must be a real number, got {rate!r}.")
    rng = check_random_state(random_state)

    y = np.arange(n_samples, dtype=np.int64) % n_classes
    y.sort()
    radial = 1 + radial_std * rng.standard_normal(n_samples)
    tangential = tangential_std * rng.standard_normal(n_samples)
    angles = 2 * np.pi * y / n_classes + rate * np.exp(radial)
    cos, sin = np.cos(angles), np.sin(angles)
    X = 10 * np.column_stack([radial * cos + tangential * sin, tangential * cos - radial * sin])
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return X, y


def make_blobs8(
    n_samples: int = 1000,
    *,
    cluster_std: float = 1.0,
    shuffle: bool = True,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate eight isotropic Gaussian blobs on a circle.

    A thin wrapper over :func:`sklearn.datasets.make_blobs` with eight fixed
    centres, evenly spaced on a circle of radius 10 centred at the origin
    (``BLOBS8_CENTERS``).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points, split as evenly as possible among the blobs.
    cluster_std : float, default=1.0
        Standard deviation of each blob.
    shuffle : bool, default=True
        Whether to shuffle the samples.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        The blob of each point, 0 to 7, numbered counter-clockwise from the
        positive x axis.

    Examples
    --------
    >>> from skdeepclust.datasets import make_blobs8
    >>> X, y = make_blobs8(80, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((80, 2), [0, 1, 2, 3, 4, 5, 6, 7])
    """
    _check_positive_int(n_samples, "n_samples")
    _check_non_negative(cluster_std, "cluster_std")
    X, y = make_blobs(
        n_samples=n_samples,
        centers=BLOBS8_CENTERS,
        cluster_std=cluster_std,
        shuffle=shuffle,
        random_state=random_state,
    )
    return X, y.astype(np.int64)


def make_two_circles(
    n_samples: int = 1000,
    *,
    noise: float = 0.1,
    factor: float = 0.1,
    shuffle: bool = True,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate two concentric noisy circles.

    A thin wrapper over :func:`sklearn.datasets.make_circles`. The defaults are the DMAE
    authors' circles (their script ``examples/scripts/visualization/circles.py``: 1,000
    points, noise 0.1, inner radius 0.1), on which the paper's random-Fourier-feature
    initialisation separates the circles. ``factor=0.5, noise=0.05`` gives a harder pair of
    rings, which kernel k-means with the paper's kernel does not separate.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points; the outer circle gets one more when it is odd.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the points.
    factor : float, default=0.1
        Radius of the inner circle relative to the outer one (1), in (0, 1).
    shuffle : bool, default=True
        Whether to shuffle the samples.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        0 for the outer circle, 1 for the inner one.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.datasets import make_two_circles
    >>> X, y = make_two_circles(10, random_state=0)
    >>> X.shape, np.bincount(y)
    ((10, 2), array([5, 5]))
    """
    _check_positive_int(n_samples, "n_samples")
    X, y = make_circles(
        n_samples=n_samples, noise=noise, factor=factor, shuffle=shuffle, random_state=random_state
    )
    return X, y.astype(np.int64)
