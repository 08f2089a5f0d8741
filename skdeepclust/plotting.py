"""Figures of the DMAE and MCDC papers for fitted skdeepclust estimators.

Every function returns a :class:`matplotlib.figure.Figure` (created with :mod:`matplotlib.pyplot`
so that notebooks and sphinx-gallery pick it up) and never calls ``plt.show()``; save it with
``fig.savefig(...)`` and release it with ``plt.close(fig)``. Functions that draw a single panel
accept ``ax=`` to draw into an existing figure instead.

=====================================  =========================================================
function                               figure
=====================================  =========================================================
:func:`plot_decision_regions`          cluster regions of 2-D data (DMAE, Fig. 2 and 3a)
:func:`plot_soft_assignments`          largest soft assignment over the plane (DMAE, Fig. 3c)
:func:`plot_density`                   learned mixture density (DMAE, Fig. 3b, 5, 6)
:func:`plot_sparsity_vs_alpha`         L0 norm of the soft assignments vs alpha (DMAE, Fig. 4)
:func:`plot_accuracy_vs_alpha`         accuracy vs alpha (DMAE, Fig. 7)
:func:`plot_latent_space`              2-D projection of the codes (MCDC, Fig. 5)
:func:`plot_interpolations`            decoded latent interpolations (MCDC, Fig. 4)
:func:`plot_class_spectrum`            per-class PCA spectra of the codes (MCDC, Fig. 3)
:func:`plot_confusion`                 confusion matrix after the Hungarian mapping
:func:`plot_training_history`          loss terms per epoch of every training phase
:func:`plot_benchmark`                 ACC / NMI / fit time of ``skdeepclust.bench`` results
=====================================  =========================================================

matplotlib is an optional dependency: ``pip install 'skdeepclust[plot]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

try:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory
except ImportError as exc:  # pragma: no cover - exercised by a test that hides matplotlib
    raise ImportError(
        "skdeepclust.plotting needs matplotlib: pip install 'skdeepclust[plot]'"
    ) from exc

from .metrics import unsupervised_accuracy

__all__ = [
    "assignment_sparsity",
    "plot_accuracy_vs_alpha",
    "plot_benchmark",
    "plot_class_spectrum",
    "plot_confusion",
    "plot_decision_regions",
    "plot_density",
    "plot_interpolations",
    "plot_latent_space",
    "plot_soft_assignments",
    "plot_sparsity_vs_alpha",
    "plot_training_history",
]

# History entries that are bookkeeping, not loss terms.
_HISTORY_BOOKKEEPING = {"epoch", "dur", "batches", "train_batch_count", "valid_batch_count"}
_METRIC_LABELS = {
    "acc": "ACC",
    "nmi": "NMI",
    "ari": "ARI",
    "fit_s": "fit time (s)",
    "predict_s": "predict time (s)",
    "peak_mb": "peak memory (MB)",
}
# Metrics spanning orders of magnitude across models get a log axis.
_LOG_METRICS = {"fit_s", "predict_s", "peak_mb"}


# ---- shared helpers ---------------------------------------------------------------------------
def _figure_and_axes(ax: Axes | None, **subplots_kw) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(layout="constrained", **subplots_kw)
    return fig, ax


def _palette(n: int) -> np.ndarray:
    """``n`` distinct RGB colours: the qualitative tab10 / tab20 maps, then a sampled turbo."""
    if n <= 10:
        return np.asarray(matplotlib.colormaps["tab10"].colors)[:n]
    if n <= 20:
        return np.asarray(matplotlib.colormaps["tab20"].colors)[:n]
    return matplotlib.colormaps["turbo"](np.linspace(0, 1, n))[:, :3]


def _marker_size(n_points: int) -> float:
    # Small markers for large data so that dense regions stay readable.
    return float(np.clip(3000 / max(n_points, 1), 1.5, 25))


def _check_2d(X: ArrayLike) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"This plot draws the input plane: X must have 2 features, got shape {X.shape}."
        )
    return X


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Points of a ``resolution x resolution`` grid covering X with a 10 % margin."""
    if not isinstance(resolution, Integral) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}.")
    low, high = X.min(0), X.max(0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    points = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    return points, (low[0], high[0], low[1], high[1])


def _describe(est: BaseEstimator) -> str:
    """Estimator name with its dissimilarity, e.g. ``DMAEClustering (minkowski, p=3)``."""
    name = type(est).__name__
    dissimilarity = getattr(est, "dissimilarity", None)
    if dissimilarity is None:
        return name
    if callable(dissimilarity):
        dissimilarity = getattr(dissimilarity, "__name__", "custom")
    params = getattr(est, "dissimilarity_params", None) or {}
    details = ", ".join([dissimilarity, *(f"{k}={v}" for k, v in params.items())])
    return f"{name} ({details})"


def _label_axes_with_features(ax: Axes, est: BaseEstimator) -> None:
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        names = ["feature 0", "feature 1"]
    ax.set_xlabel(str(names[0]))
    ax.set_ylabel(str(names[1]))


def _draw_prototypes(ax: Axes, est: BaseEstimator) -> None:
    """Mark the cluster centres mapped to the input plane, where the estimator has them."""
    if not hasattr(est, "prototypes"):
        return
    prototypes = est.prototypes()
    if prototypes.shape[1] != 2:
        return
    ax.scatter(
        prototypes[:, 0],
        prototypes[:, 1],
        marker="X",
        s=120,
        c="white",
        edgecolors="black",
        linewidths=1.5,
        zorder=4,
        label="cluster centres",
    )


def _colors_by_mapped_class(y: ArrayLike, clusters: np.ndarray, palette: np.ndarray):
    """Colour each sample by its class, in the colour of the cluster mapped to that class.

    With the Hungarian mapping of clusters to classes, a correctly clustered sample has the
    colour of its cluster, so errors stand out. Classes no cluster maps to are grey.
    """
    _, mapping = unsupervised_accuracy(y, clusters, return_mapping=True)
    color_of_class = {cls: palette[k % len(palette)] for k, cls in mapping.items()}
    grey = np.array([0.6, 0.6, 0.6])
    return np.array([color_of_class.get(cls, grey) for cls in np.asarray(y).tolist()])


def _mean_and_std(values: ArrayLike, n_rows: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Summarise ``(n_rows,)`` or ``(n_rows, n_repeats)`` values as mean and std per row."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != n_rows:
        raise ValueError(
            f"{name} must have shape ({n_rows},) or ({n_rows}, n_repeats), one row per alpha; "
            f"got {np.shape(values)}."
        )
    return np.nanmean(values, 1), np.nanstd(values, 1)


def _check_alphas(alphas: ArrayLike) -> np.ndarray:
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or len(alphas) == 0 or (alphas <= 0).any():
        raise ValueError("alphas must be a non-empty 1-D sequence of positive numbers.")
    return alphas


def _plot_curve(ax: Axes, x: np.ndarray, mean: np.ndarray, std: np.ndarray, label=None) -> None:
    """A line with markers and, where there are repeats, a mean +- std band."""
    (line,) = ax.plot(x, mean, marker="o", label=label)
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)


# ---- the input plane (2-D data) ---------------------------------------------------------------
def plot_decision_regions(
    est: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    resolution: int = 200,
    ax: Axes | None = None,
) -> Figure:
    """Cluster regions of a fitted clusterer over the plane of 2-D data.

    Each point of a grid covering ``X`` is coloured by ``est.predict``: with a shallow
    :class:`~skdeepclust.DMAEClustering` these are the Voronoi regions of its dissimilarity (the
    DMAE paper's Fig. 2 shows them for Minkowski distances of several ``p``). The data are drawn
    on top and the cluster centres (:meth:`~skdeepclust.DMAEClustering.prototypes`) as crosses.

    Parameters
    ----------
    est : estimator
        A fitted clusterer with ``predict`` (and optionally ``prototypes``) on 2-D inputs.
    X : array-like of shape (n_samples, 2)
        Data drawn on the regions; they also set the extent of the grid.
    y : array-like of shape (n_samples,), default=None
        Class labels. If given, each sample takes the colour of the cluster matched to its
        class by the Hungarian mapping, so that misclustered samples stand out; otherwise its
        predicted cluster's colour.
    resolution : int, default=200
        Grid points per axis.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one image (the regions) and the scatter of the data.

    See Also
    --------
    plot_soft_assignments : How confident the assignments are over the same plane.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import DMAEClustering
    >>> from skdeepclust.plotting import plot_decision_regions
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> est = DMAEClustering(3, autoencoder=None, dissimilarity="manhattan", alpha=100,
    ...                      epochs=5, random_state=0).fit(X)
    >>> fig = plot_decision_regions(est, X, y, resolution=50)
    """
    X = _check_2d(X)
    fig, ax = _figure_and_axes(ax)
    points, extent = _grid(X, resolution)
    regions = est.predict(points).reshape(resolution, resolution)
    clusters = est.predict(X)
    n_colors = int(max(regions.max() + 1, clusters.max() + 1, getattr(est, "n_clusters", 0)))
    palette = _palette(n_colors)
    ax.imshow(
        regions,
        extent=extent,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(palette),
        vmin=-0.5,
        vmax=n_colors - 0.5,
        alpha=0.35,
    )
    colors = palette[clusters] if y is None else _colors_by_mapped_class(y, clusters, palette)
    ax.scatter(X[:, 0], X[:, 1], c=colors, s=_marker_size(len(X)), edgecolors="none")
    _draw_prototypes(ax, est)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_title(_describe(est))
    _label_axes_with_features(ax, est)
    return fig


def plot_soft_assignments(
    est: BaseEstimator,
    X: ArrayLike,
    *,
    component: int | None = None,
    resolution: int = 200,
    ax: Axes | None = None,
) -> Figure:
    """Soft assignments of a fitted clusterer over the plane of 2-D data (DMAE, Fig. 3c).

    Shows ``max_k S_k`` (how sure the model is of its assignment: 1 in the interior of a
    cluster, down to ``1 / n_clusters`` on boundaries) or the posterior ``S_k`` of one component.
    With DMAE, ``alpha`` sets how wide the uncertain boundaries are.

    Parameters
    ----------
    est : estimator
        A fitted clusterer with ``predict_proba`` on 2-D inputs.
    X : array-like of shape (n_samples, 2)
        Data drawn on the map; they also set the extent of the grid.
    component : int, default=None
        Show the posterior of this component; None shows the largest one.
    resolution : int, default=200
        Grid points per axis.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        One image (the map) with a colour bar, the data and the cluster centres.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import DMAEClustering
    >>> from skdeepclust.plotting import plot_soft_assignments
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> est = DMAEClustering(3, autoencoder=None, alpha=1.0, epochs=5, random_state=0).fit(X)
    >>> fig = plot_soft_assignments(est, X, resolution=50)
    """
    X = _check_2d(X)
    fig, ax = _figure_and_axes(ax)
    points, extent = _grid(X, resolution)
    S = est.predict_proba(points)
    if component is None:
        values, label, vmin = S.max(1), "largest assignment", 1.0 / S.shape[1]
    elif isinstance(component, Integral) and 0 <= component < S.shape[1]:
        values, label, vmin = S[:, component], f"$S_{{{component}}}$", 0.0
    else:
        raise ValueError(f"component must be None or in [0, {S.shape[1]}), got {component!r}.")
    image = ax.imshow(
        values.reshape(resolution, resolution),
        extent=extent,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=vmin,
        vmax=1.0,
    )
    fig.colorbar(image, ax=ax, label=label)
    # Black dots: the map is bright (yellow) wherever the model is sure.
    ax.scatter(X[:, 0], X[:, 1], c="black", s=_marker_size(len(X)) / 2, alpha=0.4, lw=0)
    _draw_prototypes(ax, est)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_title(f"soft assignments, {_describe(est)}")
    _label_axes_with_features(ax, est)
    return fig


def plot_density(
    est: BaseEstimator,
    X: ArrayLike,
    *,
    log: bool = False,
    resolution: int = 200,
    ax: Axes | None = None,
) -> Figure:
    """Density learned by a mixture over the plane of 2-D data (DMAE, Fig. 3b, 5 and 6).

    The density is ``exp(est.score_samples(x))``. For :class:`~skdeepclust.DMAEClustering` it
    exists with the "sqeuclidean" and "mahalanobis" dissimilarities (Gaussian mixtures in the
    latent space); for a deep model it is the latent density at the code of each point.

    Parameters
    ----------
    est : estimator
        A fitted estimator with ``score_samples`` (a log-density) on 2-D inputs.
    X : array-like of shape (n_samples, 2)
        Data drawn on the map; they also set the extent of the grid.
    log : bool, default=False
        Show the log-density, whose range suits large ``alpha`` (sharp components) better.
    resolution : int, default=200
        Grid points per axis.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        One image (the density) with a colour bar, and the data.

    Raises
    ------
    TypeError
        If ``est`` has no ``score_samples``.

    Examples
    --------
    >>> from skdeepclust import DMAEClustering
    >>> from skdeepclust.datasets import make_pinwheel
    >>> from skdeepclust.plotting import plot_density
    >>> X, _ = make_pinwheel(300, random_state=0)
    >>> est = DMAEClustering(5, autoencoder=None, dissimilarity="mahalanobis", alpha=10,
    ...                      epochs=5, random_state=0).fit(X)
    >>> fig = plot_density(est, X, resolution=50)
    """
    if not hasattr(est, "score_samples"):
        raise TypeError(
            f"{_describe(est)} has no score_samples, so it defines no density. "
            "DMAEClustering has one with dissimilarity='sqeuclidean' or 'mahalanobis'."
        )
    X = _check_2d(X)
    fig, ax = _figure_and_axes(ax)
    points, extent = _grid(X, resolution)
    log_density = est.score_samples(points).reshape(resolution, resolution)
    values = log_density if log else np.exp(log_density)
    image = ax.imshow(values, extent=extent, origin="lower", aspect="auto", cmap="magma")
    fig.colorbar(image, ax=ax, label="log-density" if log else "density")
    # The log-density is bright around the data, the density dark away from the peaks.
    dots = "black" if log else "white"
    ax.scatter(X[:, 0], X[:, 1], c=dots, s=_marker_size(len(X)) / 2, alpha=0.3, lw=0)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_title(f"learned density, {_describe(est)}")
    _label_axes_with_features(ax, est)
    return fig


# ---- the inverse temperature alpha ------------------------------------------------------------
def assignment_sparsity(proba: ArrayLike, *, tol: float = 1e-3) -> np.ndarray:
    """L0 norm of each row of soft assignments: how many components share a sample.

    The DMAE paper (Fig. 4) measures the sparsity of ``S`` by the number of its non-zero
    entries; here an entry counts when it exceeds ``tol``, since in floating point a softmax
    is almost never exactly 0.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_clusters)
        Soft assignments, e.g. ``est.predict_proba(X)``.
    tol : float, default=1e-3
        Entries above it count as non-zero.

    Returns
    -------
    ndarray of shape (n_samples,)
        Between 1 (a hard assignment) and ``n_clusters``.

    Examples
    --------
    >>> from skdeepclust.plotting import assignment_sparsity
    >>> assignment_sparsity([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    array([2, 1])
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_samples, n_clusters), got shape {proba.shape}.")
    return (proba > tol).sum(1)


def plot_sparsity_vs_alpha(
    alphas: ArrayLike,
    X: ArrayLike | None = None,
    estimator_factory: Callable[[float], BaseEstimator] | None = None,
    *,
    sparsity: ArrayLike | None = None,
    tol: float = 1e-3,
    ax: Axes | None = None,
) -> Figure:
    """Mean L0 norm of the soft assignments against ``alpha`` (DMAE, Fig. 4).

    Either fits ``estimator_factory(alpha)`` on ``X`` for every alpha and measures
    :func:`assignment_sparsity` of ``predict_proba(X)``, or draws precomputed ``sparsity``.
    Small ``alpha`` shares samples between several components; large ``alpha`` assigns each
    to one (L0 norm 1).

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Inverse temperatures, positive (drawn on a log axis).
    X : array-like of shape (n_samples, n_features), default=None
        Data to fit and assign; needed unless ``sparsity`` is given.
    estimator_factory : callable, default=None
        ``estimator_factory(alpha)`` returns an unfitted estimator with ``predict_proba``;
        needed unless ``sparsity`` is given.
    sparsity : array-like of shape (n_alphas,) or (n_alphas, n_repeats), default=None
        Precomputed L0 norms (per sample or per run); rows are summarised as mean +- std.
    tol : float, default=1e-3
        Threshold of :func:`assignment_sparsity`.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        One line (mean), a band (std) and a dashed reference line at 1.

    Examples
    --------
    >>> from skdeepclust.plotting import plot_sparsity_vs_alpha
    >>> fig = plot_sparsity_vs_alpha([1, 10, 100], sparsity=[3.1, 1.8, 1.0])

    Fitting one model per alpha:

    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import DMAEClustering
    >>> X, _ = make_blobs(200, centers=3, random_state=0)
    >>> def factory(alpha):
    ...     return DMAEClustering(3, autoencoder=None, alpha=alpha, epochs=2, random_state=0)
    >>> fig = plot_sparsity_vs_alpha([0.1, 1, 10], X, factory)
    """
    alphas = _check_alphas(alphas)
    n_clusters = None
    if sparsity is None:
        if X is None or estimator_factory is None:
            raise ValueError("Pass either X and estimator_factory, or precomputed sparsity.")
        rows = []
        for alpha in alphas:
            proba = estimator_factory(float(alpha)).fit(X).predict_proba(X)
            n_clusters = proba.shape[1]
            rows.append(assignment_sparsity(proba, tol=tol))
        sparsity = np.vstack(rows)
    elif X is not None or estimator_factory is not None:
        raise ValueError("Pass either X and estimator_factory, or sparsity, not both.")
    mean, std = _mean_and_std(sparsity, len(alphas), "sparsity")
    fig, ax = _figure_and_axes(ax)
    _plot_curve(ax, alphas, mean, std)
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="hard assignments")
    if n_clusters is not None:
        ax.set_ylim(0, n_clusters + 0.5)
    ax.set_xscale("log")
    ax.set_xlabel(r"inverse temperature $\alpha$")
    ax.set_ylabel(r"mean $L_0$ norm of $S$")
    ax.set_title("sparsity of the soft assignments")
    return fig


def plot_accuracy_vs_alpha(
    alphas: ArrayLike,
    accuracies: ArrayLike | Mapping[str, ArrayLike],
    *,
    ax: Axes | None = None,
) -> Figure:
    """Clustering accuracy against ``alpha`` (DMAE supplementary, Fig. 7).

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Inverse temperatures, positive (drawn on a log axis).
    accuracies : array-like of shape (n_alphas,) or (n_alphas, n_trials), or dict
        Accuracies per alpha (and trial: drawn as mean +- std), or a mapping from a curve's
        label (e.g. ``"AE + KMeans"``, ``"DMAE"``) to such an array.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        One line per curve on a ``[0, 1]`` accuracy axis.

    Examples
    --------
    >>> from skdeepclust.plotting import plot_accuracy_vs_alpha
    >>> fig = plot_accuracy_vs_alpha(
    ...     [1, 100, 10_000],
    ...     {"AE + KMeans": [[0.78, 0.80]] * 3, "DMAE": [[0.80, 0.83]] * 3},
    ... )
    """
    alphas = _check_alphas(alphas)
    curves = accuracies if isinstance(accuracies, Mapping) else {None: accuracies}
    fig, ax = _figure_and_axes(ax)
    for label, values in curves.items():
        mean, std = _mean_and_std(values, len(alphas), "accuracies")
        _plot_curve(ax, alphas, mean, std, label=label)
    if isinstance(accuracies, Mapping):
        ax.legend()
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(r"inverse temperature $\alpha$")
    ax.set_ylabel("unsupervised accuracy")
    ax.set_title(r"accuracy vs $\alpha$")
    return fig


# ---- the latent space -------------------------------------------------------------------------
def _project(Z: np.ndarray, method: str, random_state: int | None) -> tuple[np.ndarray, str]:
    if Z.shape[1] < 2:
        raise ValueError(f"The latent space has {Z.shape[1]} dimension; a scatter needs 2.")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(2).fit_transform(Z), "PC"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(Z) - 1) / 3)
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=random_state)
        return tsne.fit_transform(Z), "t-SNE"
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")


def _labelled_scatter(ax: Axes, Z2: np.ndarray, labels: np.ndarray, colors: np.ndarray) -> None:
    """Scatter with each group's label written at its median, which needs no legend."""
    ax.scatter(Z2[:, 0], Z2[:, 1], c=colors, s=_marker_size(len(Z2)), edgecolors="none")
    for label in np.unique(labels):
        x, y = np.median(Z2[labels == label], axis=0)
        ax.annotate(
            str(label),
            (x, y),
            ha="center",
            va="center",
            fontsize="small",
            fontweight="bold",
            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.7),
        )


def plot_latent_space(
    est: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    method: str = "pca",
    random_state: int | None = 0,
) -> Figure:
    """2-D projection of the latent codes, coloured by cluster and by class (MCDC, Fig. 5).

    Parameters
    ----------
    est : estimator
        A fitted estimator with ``transform`` (the codes) and ``predict``.
    X : array-like of shape (n_samples, n_features)
        Data to encode.
    y : array-like of shape (n_samples,), default=None
        Class labels. If given, a second panel colours the samples by class, each class in the
        colour of the cluster matched to it by the Hungarian mapping.
    method : {"pca", "tsne"}, default="pca"
        Projection to 2-D: the first two principal components (the paper's figure, linear, so
        distances keep their meaning) or t-SNE (slower, shows neighbourhoods only).
    random_state : int or None, default=0
        Seed of t-SNE.

    Returns
    -------
    matplotlib.figure.Figure
        One panel (clusters) or two (clusters, classes), each one scatter with each group's
        label written at its median.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeepclust import DMAEClustering
    >>> from skdeepclust.plotting import plot_latent_space
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300] / 16, y[:300]
    >>> est = DMAEClustering(10, hidden_dims=(32,), latent_dim=5, pretrain_epochs=2,
    ...                      epochs=1, random_state=0).fit(X)
    >>> fig = plot_latent_space(est, X, y)
    >>> len(fig.axes)
    2
    """
    Z2, axis_name = _project(np.asarray(est.transform(X)), method, random_state)
    clusters = np.asarray(est.predict(X))
    n_colors = int(max(clusters.max() + 1, getattr(est, "n_clusters", 0)))
    palette = _palette(n_colors)
    n_panels = 1 if y is None else 2
    fig, axes = plt.subplots(
        1, n_panels, figsize=(5 * n_panels, 4.5), layout="constrained", squeeze=False
    )
    panels = [("clusters", clusters, palette[clusters])]
    if y is not None:
        y = np.asarray(y)
        panels.append(("classes", y, _colors_by_mapped_class(y, clusters, palette)))
    for ax, (title, labels, colors) in zip(axes[0], panels):
        _labelled_scatter(ax, Z2, labels, colors)
        ax.set_title(title)
        ax.set_xlabel(f"{axis_name} 1")
        ax.set_ylabel(f"{axis_name} 2")
    fig.suptitle(f"latent space of {_describe(est)}")
    return fig


def _as_image_grid(images: np.ndarray, image_shape: Sequence[int] | None) -> np.ndarray:
    """Reshape interpolations to ``(n_rows, n_steps, H, W)`` or ``(n_rows, n_steps, H, W, C)``."""
    if images.ndim == 2:  # a single path of flat images
        images = images[None]
    if images.ndim == 3:
        n_features = images.shape[-1]
        if image_shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ValueError(
                    f"Cannot infer the image shape of {n_features} features; pass image_shape."
                )
            image_shape = (1, side, side)
        if math.prod(image_shape) != n_features:
            raise ValueError(
                f"image_shape={tuple(image_shape)} does not hold {n_features} values."
            )
        images = images.reshape(*images.shape[:2], *image_shape)
        if len(image_shape) == 2:
            return images
    if images.ndim == 5:  # (rows, steps, C, H, W) -> channels last, as imshow wants them
        channels = images.shape[2]
        if channels == 1:
            return images[:, :, 0]
        if channels != 3:
            raise ValueError(f"Images need 1 or 3 channels, got {channels}.")
        return np.moveaxis(images, 2, -1)
    if images.ndim == 4:
        return images
    raise ValueError(f"Cannot draw interpolations of shape {images.shape}.")


def plot_interpolations(
    source: BaseEstimator | ArrayLike,
    x_pairs: tuple[ArrayLike, ArrayLike] | None = None,
    n_steps: int = 8,
    *,
    image_shape: Sequence[int] | None = None,
    row_labels: Sequence[str] | None = None,
) -> Figure:
    """Decoded interpolations between pairs of images, one row per pair (MCDC, Fig. 4).

    Either pass a fitted estimator with ``interpolate`` (:class:`~skdeepclust.MCDCClustering`)
    and the pairs to interpolate, or an array of images already decoded, e.g. the rows of
    several models stacked to compare them.

    Parameters
    ----------
    source : estimator or array-like
        An estimator with ``interpolate(x_a, x_b, n_steps)``, or images of shape
        ``(n_rows, n_steps, n_features)``, ``(n_rows, n_steps, H, W)`` or
        ``(n_rows, n_steps, C, H, W)``.
    x_pairs : tuple (x_a, x_b) of array-like of shape (n_pairs, n_features), default=None
        End points, with an estimator only: row ``i`` goes from ``x_a[i]`` to ``x_b[i]``.
    n_steps : int, default=8
        Points per path, end points included (with an estimator only).
    image_shape : tuple (channels, height, width) or (height, width), default=None
        Layout of flat images; None takes the estimator's ``image_shape_`` or else a square.
    row_labels : sequence of str, default=None
        Written left of each row (e.g. the model of each row).

    Returns
    -------
    matplotlib.figure.Figure
        A grid of ``n_rows x n_steps`` axes, one image each, titled by the interpolation weight
        of the second end point on the top row.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.plotting import plot_interpolations
    >>> a, b = np.zeros(64), np.ones(64)
    >>> path = np.linspace(0, 1, 5)[:, None] * b + (1 - np.linspace(0, 1, 5))[:, None] * a
    >>> fig = plot_interpolations(path[None])
    >>> len(fig.axes)
    5
    """
    if hasattr(source, "interpolate"):
        if x_pairs is None:
            raise ValueError("With an estimator, pass x_pairs=(x_a, x_b).")
        x_a, x_b = (np.atleast_2d(np.asarray(x)) for x in x_pairs)
        images = np.asarray(source.interpolate(x_a, x_b, n_steps))
        if image_shape is None:
            image_shape = getattr(source, "image_shape_", None)
    else:
        if x_pairs is not None:
            raise ValueError("x_pairs is only used with an estimator; got an array of images.")
        images = np.asarray(source, dtype=float)
    grid = _as_image_grid(images, image_shape)
    n_rows, n_cols = grid.shape[:2]
    if row_labels is not None and len(row_labels) != n_rows:
        raise ValueError(f"row_labels has {len(row_labels)} entries for {n_rows} rows.")
    # One intensity scale for the whole grid, so that fading intensities are comparable.
    vmin, vmax = float(grid.min()), float(grid.max())
    if grid.ndim == 5:  # RGB: imshow takes no vmin / vmax for colour images, so rescale here
        grid = (grid - vmin) / max(vmax - vmin, 1e-12)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(0.9 * n_cols + 0.6, 0.9 * n_rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    weights = np.linspace(0, 1, n_cols)
    for row in range(n_rows):
        for col in range(n_cols):
            ax = axes[row, col]
            if grid.ndim == 5:
                ax.imshow(grid[row, col], interpolation="nearest")
            else:
                ax.imshow(
                    grid[row, col], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest"
                )
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{weights[col]:.2f}", fontsize="small")
        if row_labels is not None:
            axes[row, 0].set_ylabel(str(row_labels[row]), rotation=0, ha="right", va="center")
    fig.suptitle("decoded interpolations (weight of the right end point)", fontsize="medium")
    return fig


def plot_class_spectrum(
    spectra: ArrayLike | Mapping[str, ArrayLike],
    *,
    n_components: int | None = None,
) -> Figure:
    """Per-class PCA spectra of latent codes (MCDC, Fig. 3).

    The bars are the spectrum averaged over classes, as in the paper; the thin lines are the
    classes. A smaller first component and a flatter spectrum mean rounder clusters, which
    the MCDC paper attributes to its mixing consistency loss.

    Parameters
    ----------
    spectra : array-like of shape (n_classes, n_dims), or dict
        Explained-variance ratios per class, as returned by
        :func:`skdeepclust.latent.class_pca_spectrum`, or a mapping from a model's name to
        such an array (one panel per model, sharing the y axis).
    n_components : int, default=None
        Leading components to draw; None draws all.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per model with one bar per component and one line per class.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.latent import class_pca_spectrum
    >>> from skdeepclust.plotting import plot_class_spectrum
    >>> rng = np.random.default_rng(0)
    >>> Z, y = rng.normal(size=(100, 5)) * [3, 2, 1, 1, 1], np.repeat([0, 1], 50)
    >>> fig = plot_class_spectrum({"model": class_pca_spectrum(Z, y)})
    """
    panels = dict(spectra) if isinstance(spectra, Mapping) else {"": spectra}
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.5 * len(panels), 3.5),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, (name, spectrum) in zip(axes[0], panels.items()):
        spectrum = np.asarray(spectrum, dtype=float)
        if spectrum.ndim != 2:
            raise ValueError(f"A spectrum must be 2-D (n_classes, n_dims), got {spectrum.shape}.")
        spectrum = spectrum[:, :n_components]
        components = np.arange(1, spectrum.shape[1] + 1)
        ax.bar(components, spectrum.mean(0), color="tab:blue", alpha=0.6, label="mean of classes")
        for row in spectrum:
            ax.plot(components, row, color="black", lw=0.6, alpha=0.4)
        ax.set_title(name)
        ax.set_xlabel("principal component")
        ax.set_xticks(components[:: max(1, len(components) // 10)])
    axes[0, 0].set_ylabel("explained variance ratio")
    axes[0, 0].legend()
    return fig


# ---- evaluation -------------------------------------------------------------------------------
def plot_confusion(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    normalize: bool = False,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Confusion matrix of a clustering after the Hungarian mapping of clusters to classes.

    Columns are the classes the clusters are mapped to by
    :func:`skdeepclust.metrics.unsupervised_accuracy`, so the diagonal holds the correctly
    clustered samples and the trace over the total is the unsupervised accuracy. Clusters left
    unmatched (more clusters than classes) get extra columns on the right.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    normalize : bool, default=False
        Divide each row by its class size (recall per class) instead of counting samples.
    class_names : sequence of str, default=None
        Display names of the sorted classes (e.g. a dataset's ``target_names``).
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure is created if None.

    Returns
    -------
    matplotlib.figure.Figure
        One image (the matrix), its colour bar, and the value of each cell as text.

    Examples
    --------
    >>> from skdeepclust.plotting import plot_confusion
    >>> fig = plot_confusion([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 3, 9])
    >>> fig.axes[0].get_title()
    'accuracy 0.833 (Hungarian mapping)'
    """
    accuracy, mapping = unsupervised_accuracy(y_true, y_pred, return_mapping=True)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = np.unique(y_true).tolist()
    unmatched = [k for k in np.unique(y_pred).tolist() if k not in mapping]
    if class_names is not None and len(class_names) != len(classes):
        raise ValueError(f"class_names has {len(class_names)} names for {len(classes)} classes.")
    names = [str(c) for c in (class_names if class_names is not None else classes)]
    row = {c: i for i, c in enumerate(classes)}
    column = {k: row[c] for k, c in mapping.items()}
    column.update({k: len(classes) + i for i, k in enumerate(unmatched)})
    matrix = np.zeros((len(classes), len(classes) + len(unmatched)))
    np.add.at(matrix, ([row[c] for c in y_true.tolist()], [column[k] for k in y_pred.tolist()]), 1)
    if normalize:
        matrix /= matrix.sum(1, keepdims=True)
    cluster_of = {i: k for k, i in column.items()}
    tick_labels = [
        f"{name}\n(cluster {cluster_of[i]})" if i in cluster_of else name
        for i, name in enumerate(names)
    ]
    tick_labels += [f"cluster {k}\n(unmatched)" for k in unmatched]

    fig, ax = _figure_and_axes(ax, figsize=(0.6 * matrix.shape[1] + 3, 0.5 * len(classes) + 2))
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="fraction of the class" if normalize else "samples")
    threshold = matrix.max() / 2
    for (i, j), value in np.ndenumerate(matrix):
        text = f"{value:.2f}" if normalize else f"{value:.0f}"
        color = "white" if value > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize="x-small", color=color)
    ax.set_xticks(range(matrix.shape[1]), tick_labels, rotation=90, fontsize="small")
    ax.set_yticks(range(len(classes)), names, fontsize="small")
    ax.set_xlabel("predicted cluster, mapped to a class")
    ax.set_ylabel("true class")
    ax.set_title(f"accuracy {accuracy:.3f} (Hungarian mapping)")
    return fig


def _loss_terms(history) -> dict[str, np.ndarray]:
    """Per-epoch numeric entries of a skorch history that are losses, in recording order."""
    names: list[str] = []
    for row in history:
        for name, value in row.items():
            is_number = isinstance(value, Real) and not isinstance(value, bool)
            bookkeeping = name in _HISTORY_BOOKKEEPING or name.endswith("_best")
            if is_number and not bookkeeping and name not in names:
                names.append(name)
    return {name: np.array([row.get(name, np.nan) for row in history], float) for name in names}


def plot_training_history(est: BaseEstimator) -> Figure:
    """Loss terms per epoch of every training phase of a fitted deep estimator.

    One panel per phase: the pretraining (``est.pretrain_history_``), the main phase
    (``est.net_.history``: DMAE's fine-tuning, MCDC's mixing training or IDEC fine-tuning) and
    DMAE's distillation of the consistency heads (``est.distillation_history_``, with
    ``head="distilled"``); one line per recorded term (reconstruction, graph, clustering,
    mixing, adversarial, critic, ... and ``train_loss``, the weighted sum that was minimised).

    Parameters
    ----------
    est : estimator
        A fitted :class:`~skdeepclust.DMAEClustering` or :class:`~skdeepclust.MCDCClustering`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per phase that ran at least one epoch; a log y axis where all terms are
        positive.

    Raises
    ------
    ValueError
        If no phase ran an epoch (e.g. a shallow DMAE fitted with ``epochs=0``), or if the
        estimator was loaded with :func:`skdeepclust.persistence.load` (histories are not
        saved).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import DMAEClustering
    >>> from skdeepclust.plotting import plot_training_history
    >>> X, _ = make_blobs(200, n_features=5, centers=3, random_state=0)
    >>> est = DMAEClustering(3, hidden_dims=(16,), latent_dim=3, pretrain_epochs=3,
    ...                      epochs=2, n_neighbors=5, random_state=0).fit(X)
    >>> [ax.get_title() for ax in plot_training_history(est).axes]
    ['pretraining', 'fine-tuning']
    """
    check_is_fitted(est)
    if est.net_ is None:
        raise ValueError(
            f"This {type(est).__name__} has no training history: it was loaded from a file, "
            "and histories are not saved."
        )
    pretrain = getattr(est, "pretrain_history_", None)
    last = est.net_.history
    phases = []
    if pretrain is not None and pretrain is not last and len(pretrain):
        phases.append(("pretraining", pretrain))
    if len(last):
        phases.append((getattr(est.net_, "phase", "training"), last))
    distillation = getattr(est, "distillation_history_", None)
    if distillation is not None and len(distillation):
        phases.append(("distillation", distillation))
    if not phases:
        raise ValueError(f"{type(est).__name__} ran no training epoch: nothing to plot.")
    fig, axes = plt.subplots(
        1, len(phases), figsize=(5 * len(phases), 3.8), squeeze=False, layout="constrained"
    )
    for ax, (title, history) in zip(axes[0], phases):
        epochs = np.array([row["epoch"] for row in history])
        terms = _loss_terms(history)
        for name, values in terms.items():
            ax.plot(epochs, values, marker="o" if len(epochs) <= 30 else None, ms=3, label=name)
        values = np.concatenate(list(terms.values()))
        if np.all(values[np.isfinite(values)] > 0):
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (mean over batches)")
        ax.legend(fontsize="small")
    return fig


def plot_benchmark(
    rows: Sequence[Mapping[str, Any]],
    *,
    metrics: Sequence[str] = ("acc", "nmi", "fit_s"),
) -> Figure:
    """Grouped bars of benchmark results: one panel per metric, one group per dataset.

    Bars are the mean over seeds with +- one standard deviation; a model that failed or was
    skipped on a dataset has no bar and an "n/a" mark instead (failures are never drawn as 0).

    Parameters
    ----------
    rows : sequence of dict
        Rows of :func:`skdeepclust.bench.run_benchmark`: keys ``dataset``, ``model`` and
        ``<metric>_mean`` / ``<metric>_std`` for each metric.
    metrics : sequence of str, default=("acc", "nmi", "fit_s")
        Among "acc", "nmi", "ari", "fit_s", "predict_s", "peak_mb"; times and memory are drawn
        on a log axis.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per metric, each with ``n_datasets x n_models`` bar slots, and a legend of
        the models.

    Examples
    --------
    >>> from skdeepclust.plotting import plot_benchmark
    >>> row = dict(dataset="digits", model="KMeans", acc_mean=0.79, acc_std=0.01,
    ...            nmi_mean=0.74, nmi_std=0.01, fit_s_mean=0.2, fit_s_std=0.02)
    >>> fig = plot_benchmark([row])
    >>> [ax.get_title() for ax in fig.axes]
    ['ACC', 'NMI', 'fit time (s)']
    """
    if not rows:
        raise ValueError("rows is empty: nothing to plot.")
    unknown = set(metrics) - set(_METRIC_LABELS)
    if unknown:
        raise ValueError(f"Unknown metrics {sorted(unknown)}; choose from {list(_METRIC_LABELS)}.")
    datasets = list(dict.fromkeys(row["dataset"] for row in rows))
    models = list(dict.fromkeys(row["model"] for row in rows))
    by_key = {(row["dataset"], row["model"]): row for row in rows}
    width = 0.8 / len(models)
    colors = _palette(len(models))
    panel_width = max(3.5, 0.3 * len(datasets) * len(models) + 1.0)
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(panel_width * len(metrics), 4),
        squeeze=False,
        layout="constrained",
    )
    for ax, metric in zip(axes[0], metrics):
        # Put the n/a marks just above the bottom of the axes, whatever the y scale.
        marks = blended_transform_factory(ax.transData, ax.transAxes)
        for m, model in enumerate(models):
            offsets = np.arange(len(datasets)) + (m - (len(models) - 1) / 2) * width
            means, stds = [], []
            for dataset in datasets:
                row = by_key.get((dataset, model), {})
                means.append(float(row.get(f"{metric}_mean", np.nan)))
                stds.append(float(row.get(f"{metric}_std", np.nan)))
            means, stds = np.array(means), np.array(stds)
            ax.bar(offsets, means, width, yerr=np.nan_to_num(stds), color=colors[m], label=model)
            for x in offsets[np.isnan(means)]:
                ax.text(
                    x,
                    0.02,
                    "n/a",
                    transform=marks,
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize="x-small",
                    color="grey",
                )
        ax.set_xticks(
            range(len(datasets)), datasets, rotation=30, ha="right", rotation_mode="anchor"
        )
        ax.set_title(_METRIC_LABELS[metric])
        if metric in _LOG_METRICS:
            ax.set_yscale("log")
        else:
            ax.set_ylim(top=1.05)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(models), 4))
    return fig
