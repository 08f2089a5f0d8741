"""Initial partitions of the latent codes: KMeans, a built-in k-medoids, random centres.

The k-medoids here is the alternating ("Voronoi iteration") algorithm with k-medoids++ seeding,
run on a bounded random subsample so that memory stays ``O(max_samples^2 + n * n_clusters)``
whatever ``n``; every point is then assigned to its nearest medoid in blocks. It needs no
compiled extension (scikit-learn-extra's PAM is an optional backend, see ``KMedoids`` there).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances
from sklearn.utils import check_random_state

__all__ = ["initial_partition", "kmedoids"]


def _distances(A: np.ndarray, B: np.ndarray, metric: str | Callable) -> np.ndarray:
    if callable(metric):
        with torch.no_grad():
            return metric(torch.as_tensor(A), torch.as_tensor(B)).double().numpy()
    return pairwise_distances(A, B, metric=metric)


def _assign(X: np.ndarray, medoids: np.ndarray, metric, block: int = 8192) -> np.ndarray:
    return np.concatenate(
        [_distances(X[s : s + block], medoids, metric).argmin(1) for s in range(0, len(X), block)]
    )


def _voronoi_iteration(D: np.ndarray, n_clusters: int, max_iter: int, rng) -> np.ndarray:
    """One k-medoids++ seeding then alternating updates on distances ``D``; medoid indices."""
    m = len(D)
    # k-medoids++: each new medoid drawn with probability proportional to its distance to the
    # nearest medoid chosen so far.
    chosen = [int(rng.randint(m))]
    nearest = D[chosen[0]].copy()
    for _ in range(1, n_clusters):
        total = nearest.sum()
        p = nearest / total if total > 0 else np.full(m, 1.0 / m)
        chosen.append(int(rng.choice(m, p=p)))
        nearest = np.minimum(nearest, D[chosen[-1]])
    medoid_idx = np.array(chosen)
    for _ in range(max_iter):
        labels = D[:, medoid_idx].argmin(1)
        # cost[i, k]: total distance from point i to the members of cluster k; the new medoid of
        # k is its member with the smallest cost.
        cost = D @ np.eye(n_clusters)[labels]
        cost[labels[:, None] != np.arange(n_clusters)[None, :]] = np.inf
        new_idx = cost.argmin(0)
        empty = np.isinf(cost.min(0))
        new_idx[empty] = medoid_idx[empty]
        if np.array_equal(new_idx, medoid_idx):
            break
        medoid_idx = new_idx
    return medoid_idx


def kmedoids(
    X: np.ndarray,
    n_clusters: int,
    *,
    metric: str | Callable = "euclidean",
    max_samples: int = 2000,
    max_iter: int = 100,
    n_init: int = 10,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """K-medoids clustering on a subsample, then nearest-medoid assignment of every point.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_clusters : int
    metric : str or callable, default="euclidean"
        A :func:`sklearn.metrics.pairwise_distances` metric, or ``V(A, B) -> [len(A), len(B)]``
        on torch tensors.
    max_samples : int, default=2000
        Size of the subsample the medoids are searched in (the DMAE paper used 10,000 of
        MNIST's 70,000).
    max_iter : int, default=100
    n_init : int, default=10
        Restarts from different seedings; the medoids with the smallest total distance of the
        subsample to its nearest medoid win. One run can settle with two medoids in one blob
        and none in another; the restarts reuse the subsample's distance matrix, so they cost
        little next to computing it.
    random_state : int, RandomState instance or None

    Returns
    -------
    medoids : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.initialization import kmedoids
    >>> X = np.array([[0.0], [0.1], [10.0], [10.2]])
    >>> medoids, labels = kmedoids(X, 2, random_state=0)
    >>> sorted(labels.tolist())
    [0, 0, 1, 1]
    """
    rng = check_random_state(random_state)
    n = len(X)
    sub = X if n <= max_samples else X[rng.choice(n, max_samples, replace=False)]
    D = _distances(sub, sub, metric)
    best, best_cost = None, np.inf
    for _ in range(n_init):
        medoid_idx = _voronoi_iteration(D, n_clusters, max_iter, rng)
        cost = D[:, medoid_idx].min(1).sum()
        if cost < best_cost:
            best, best_cost = medoid_idx, cost
    medoids = sub[best]
    return medoids, _assign(X, medoids, metric)


def initial_partition(
    H: np.ndarray,
    n_clusters: int,
    *,
    method: str,
    metric: str | Callable = "euclidean",
    n_init: int = 10,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Initial centres and labels of the codes ``H``.

    Parameters
    ----------
    H : ndarray of shape (n_samples, n_features)
    n_clusters : int
    method : {"kmeans", "kmedoids", "random"}
        ``"random"`` picks ``n_clusters`` distinct samples as centres.
    metric : str or callable
        Dissimilarity used by ``"kmedoids"`` and by ``"random"`` to assign labels.
    n_init : int, default=10
        Restarts of KMeans and of k-medoids.
    random_state : int, RandomState instance or None

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,)
    """
    rng = check_random_state(random_state)
    if method == "kmeans":
        km = KMeans(n_clusters, n_init=n_init, random_state=rng).fit(H)
        return km.cluster_centers_, km.labels_
    if method == "kmedoids":
        return kmedoids(H, n_clusters, metric=metric, n_init=n_init, random_state=rng)
    if method == "random":
        centers = H[rng.choice(len(H), n_clusters, replace=False)]
        return centers, _assign(H, centers, metric)
    raise ValueError(f"Unknown initialisation {method!r}.")
