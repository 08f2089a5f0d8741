"""Exact k-nearest neighbours and UMAP's fuzzy neighbour graph.

The graph-based representation learning in skdeepclust needs, for every sample, its exact k
nearest neighbours among the other samples (:func:`kneighbors`), turned into a symmetric weighted
graph as in UMAP (:func:`fuzzy_neighbor_graph`, :func:`neighbor_graph`), and the parameters of
UMAP's low-dimensional similarity curve (:func:`umap_curve_parameters`).

The neighbour search is a blocked brute force in torch: memory stays O(block^2 + n * k) on top
of one float32 copy of the data, never O(n^2), and it runs on any torch device.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
import torch
from scipy.optimize import curve_fit

__all__ = [
    "fuzzy_neighbor_graph",
    "kneighbors",
    "membership_strengths",
    "neighbor_graph",
    "umap_curve_parameters",
    "with_copies",
]

_METRICS = ("euclidean", "cosine")
# Budget for one block of the distance matrix.
_BLOCK_BYTES = 256 * 2**20
# Budget for the float64 temporaries of data conversion and exact re-ranking.
_CHUNK_BYTES = 64 * 2**20


def _check_data(X):
    """Return ``X`` as a float64 CSR matrix or a 2-D numeric ndarray view (no copy)."""
    if sp.issparse(X):
        X = X.tocsr().astype(np.float64, copy=False)
        if not np.isfinite(X.data).all():
            raise ValueError("X contains NaN or infinity.")
    else:
        # np.asarray keeps np.memmap on disk: rows are read block by block below.
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must be a numeric array, got dtype {X.dtype}.")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if X.shape[1] == 0:
        raise ValueError("X has no features.")
    return X


def _check_n_neighbors(n_neighbors, n_samples: int) -> int:
    if not isinstance(n_neighbors, numbers.Integral) or isinstance(n_neighbors, bool):
        raise ValueError(f"n_neighbors must be an integer, got {n_neighbors!r}.")
    if not 1 <= n_neighbors < n_samples:
        raise ValueError(
            f"n_neighbors must be >= 1 and < n_samples = {n_samples} (a point is not its own "
            f"neighbour), got {n_neighbors}."
        )
    return int(n_neighbors)


def _row_chunks(n_rows: int, chunk: int):
    for start in range(0, n_rows, chunk):
        yield start, min(n_rows, start + chunk)


def _safe_normalize(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-normalise rows (zero rows stay zero) and return them with a nonzero-row mask."""
    norms = torch.linalg.vector_norm(rows, dim=-1, keepdim=True)
    nonzero = norms > 0
    return rows / torch.where(nonzero, norms, torch.ones_like(norms)), nonzero.squeeze(-1)


class _DenseData:
    """Blocked distances for a dense array: float32 selection, float64 re-ranking."""

    bytes_per_entry = 4

    def __init__(self, X: np.ndarray, metric: str, device: torch.device):
        self.X, self.metric, self.device = X, metric, device
        n, d = X.shape
        chunk = max(1, _CHUNK_BYTES // (8 * d))
        # Centring leaves euclidean distances unchanged but shrinks |x|^2, so the float32
        # expansion |x|^2 + |y|^2 - 2xy loses far less to cancellation on offset data.
        mean, scale = np.zeros(d), 1.0
        if metric == "euclidean":
            largest = 0.0
            for start, stop in _row_chunks(n, chunk):
                rows = np.asarray(X[start:stop], dtype=np.float64)
                mean += rows.sum(axis=0)
                largest = max(largest, float(np.abs(rows).max(initial=0.0)))
            mean /= n
            # The ranking of neighbours is scale invariant, and rescaling keeps the float32
            # squared norms of very large (or tiny) values from overflowing (underflowing); a
            # power of two divides exactly.
            if 0.0 < largest < math.inf:
                scale = 2.0 ** math.floor(math.log2(largest))
        keys = np.empty((n, d), dtype=np.float32)
        for start, stop in _row_chunks(n, chunk):
            # A copy: slices of a read-only memmap are read-only, which torch warns about.
            rows = np.array(X[start:stop], dtype=np.float64)
            if not np.isfinite(rows).all():
                raise ValueError("X contains NaN or infinity.")
            if metric == "cosine":
                rows = _safe_normalize(torch.from_numpy(rows))[0].numpy()
            else:
                rows = (rows - mean) / scale
            keys[start:stop] = rows
        self.keys = torch.from_numpy(keys).to(device)
        self.sq_norms = (self.keys * self.keys).sum(dim=1)

    def block(self, rows: slice, cols: slice) -> torch.Tensor:
        keys = self.keys[cols]
        if self.metric == "cosine":
            # Zero rows have similarity 0, hence distance 1, to everything (scikit-learn's rule).
            return torch.mm(self.keys[rows], keys.T).neg_().add_(1.0)
        dist = torch.addmm(self.sq_norms[cols], self.keys[rows], keys.T, alpha=-2.0)
        return dist.add_(self.sq_norms[rows, None]).clamp_(min=0.0)

    def chunk_rows(self, n_candidates: int) -> int:
        return max(1, _CHUNK_BYTES // (8 * n_candidates * self.X.shape[1]))

    def exact(self, start: int, stop: int, candidates: np.ndarray) -> np.ndarray:
        n_rows, n_cand = candidates.shape
        queries = torch.from_numpy(np.array(self.X[start:stop], dtype=np.float64))
        cands = torch.from_numpy(np.asarray(self.X[candidates.ravel()], dtype=np.float64))
        queries = queries.to(self.device)
        cands = cands.to(self.device).view(n_rows, n_cand, -1)
        if self.metric == "cosine":
            queries, query_nonzero = _safe_normalize(queries)
            cands, cand_nonzero = _safe_normalize(cands)
        # Differences (not the expansion) give exactly 0 between duplicate rows.
        norms = torch.linalg.vector_norm(cands.sub_(queries[:, None]), dim=-1)
        if self.metric == "cosine":
            both = query_nonzero[:, None] & cand_nonzero
            norms = torch.where(both, norms.square_() / 2.0, torch.ones_like(norms))
        return norms.cpu().numpy()


class _SparseData:
    """Blocked distances for a CSR matrix: sparse products per block, never the dense matrix."""

    bytes_per_entry = 24  # sparse product (value + index) plus its dense float64 copy

    def __init__(self, X: sp.csr_matrix, metric: str, device: torch.device):
        sq_norms = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        self.nonzero = sq_norms > 0
        if metric == "cosine":
            inverse = np.zeros_like(sq_norms)
            inverse[self.nonzero] = 1.0 / np.sqrt(sq_norms[self.nonzero])
            X = sp.csr_matrix(sp.diags(inverse) @ X)
            sq_norms = self.nonzero.astype(np.float64)
        self.X, self.metric, self.device = X, metric, device
        self.sq_norms = torch.from_numpy(sq_norms).to(device)

    def block(self, rows: slice, cols: slice) -> torch.Tensor:
        # float64 arithmetic, float32 result: the candidates' selection precision of dense data.
        dots = torch.from_numpy((self.X[rows] @ self.X[cols].T).toarray()).to(self.device)
        if self.metric == "cosine":
            return dots.neg_().add_(1.0).float()
        dist = dots.mul_(-2.0).add_(self.sq_norms[cols]).add_(self.sq_norms[rows, None])
        return dist.clamp_(min=0.0).float()

    def chunk_rows(self, n_candidates: int) -> int:
        mean_nnz = max(1.0, self.X.nnz / self.X.shape[0])
        return max(1, int(_CHUNK_BYTES // (24 * n_candidates * mean_nnz)))

    def exact(self, start: int, stop: int, candidates: np.ndarray) -> np.ndarray:
        n_rows, n_cand = candidates.shape
        queries = self.X[np.repeat(np.arange(start, stop), n_cand)]
        diff = queries - self.X[candidates.ravel()]
        sq = np.asarray(diff.multiply(diff).sum(axis=1)).reshape(n_rows, n_cand)
        if self.metric == "cosine":
            both = self.nonzero[start:stop, None] & self.nonzero[candidates]
            return np.where(both, sq / 2.0, 1.0)
        return np.sqrt(sq)


def kneighbors(
    X,
    n_neighbors: int = 15,
    *,
    metric: str = "euclidean",
    block_size: int | None = None,
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row among the other rows.

    A blocked brute force: the rows are cut into blocks, each pair of blocks is compared once
    by the float32 expansion ``|x|^2 + |y|^2 - 2 x.y`` (clamped at 0), and ``torch.topk``
    keeps, for the rows of both blocks, a few more candidates than asked; the candidates are
    then re-ranked by their exact float64 distances computed from differences, so near-ties
    come out in the right order and exact duplicates are at distance exactly 0.

    Parameters
    ----------
    X : array-like or scipy sparse matrix of shape (n_samples, n_features)
        Numeric data. Dense arrays (``np.memmap`` included) are read in row chunks; sparse
        input is converted to CSR and never densified as a whole.
    n_neighbors : int, default=15
        Number of neighbours ``k``; must satisfy ``1 <= k < n_samples``.
    metric : {"euclidean", "cosine"}, default="euclidean"
        ``"cosine"`` is ``1 - cos(x, y)``; a zero row has similarity 0, hence distance 1, to
        every row (scikit-learn's convention).
    block_size : int or None, default=None
        Number of rows per block; the distances are computed ``block_size x block_size`` at
        a time. ``None`` picks the largest block whose distances stay under about 256 MB. The
        result does not depend on it: spare candidates absorb the float32 rounding of
        near-ties, and of points tied exactly at the k-th distance the lowest indices are
        kept.
    device : str or torch.device, default="cpu"
        Torch device for the distance blocks, e.g. ``"cuda"``.

    Returns
    -------
    indices : ndarray of shape (n_samples, n_neighbors), dtype int64
        Neighbour indices; row ``i`` never contains ``i`` (self is excluded by index, so an
        exact duplicate of ``i`` is listed, at distance 0).
    distances : ndarray of shape (n_samples, n_neighbors), dtype float32
        Distances, ascending along each row; equal distances are ordered by index.

    Notes
    -----
    Memory is one float32 copy of dense data (or the CSR matrix) plus
    O(block_size ** 2 + n_samples * n_neighbors). Uses torch's current thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.neighbors import kneighbors
    >>> X = np.array([[0.0], [1.0], [3.0], [3.0]])
    >>> indices, distances = kneighbors(X, n_neighbors=2)
    >>> indices
    array([[1, 2],
           [0, 2],
           [3, 1],
           [2, 1]])
    >>> distances
    array([[1., 3.],
           [1., 2.],
           [0., 2.],
           [0., 2.]], dtype=float32)
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}.")
    X = _check_data(X)
    n_samples = X.shape[0]
    k = _check_n_neighbors(n_neighbors, n_samples)
    device = torch.device(device)
    data = (_SparseData if sp.issparse(X) else _DenseData)(X, metric, device)

    if block_size is None:
        # A block and its merge with the running candidates: two blocks' worth of memory.
        block_size = max(1, math.isqrt(_BLOCK_BYTES // (2 * data.bytes_per_entry)))
    elif (
        not isinstance(block_size, numbers.Integral)
        or isinstance(block_size, bool)
        or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}.")
    block_size = min(int(block_size), n_samples)

    # Spare candidates absorb the float32 reordering of near-ties before the exact re-ranking.
    n_cand = min(n_samples - 1, k + max(8, k // 2))
    candidates = _candidates(data, n_samples, n_cand, block_size, device)

    indices = np.empty((n_samples, k), dtype=np.int64)
    distances = np.empty((n_samples, k), dtype=np.float32)
    for start, stop in _row_chunks(n_samples, data.chunk_rows(n_cand)):
        cand = candidates[start:stop]
        exact = data.exact(start, stop, cand)
        order = np.lexsort((cand, exact), axis=1)[:, :k]
        indices[start:stop] = np.take_along_axis(cand, order, axis=1)
        distances[start:stop] = np.take_along_axis(exact, order, axis=1)
    return indices, distances


def _candidates(data, n_samples: int, n_cand: int, block_size: int, device) -> np.ndarray:
    """The ``n_cand`` nearest other rows of every row by the float32 block distances.

    Distances are symmetric, so each pair of row blocks is computed once and serves the rows of
    both blocks: half the products of a search of each block against all rows. Every row keeps
    a running top ``n_cand``, merged with each block it meets; of points tied at the last
    place, the lowest indices are kept, so that the blocks do not change the result.
    """
    best = torch.full((n_samples, n_cand), math.inf, device=device)
    nearest = torch.zeros((n_samples, n_cand), dtype=torch.int64, device=device)

    def merge(rows: slice, dist: torch.Tensor, cols: slice) -> None:
        """Merge the distances ``dist`` from ``rows`` to ``cols`` into the rows' candidates."""
        m = min(n_cand + 1, dist.shape[1])
        values, kept = torch.topk(dist, m, dim=1, largest=False, sorted=True)
        if m > n_cand:
            # topk breaks ties arbitrarily: a row whose (n_cand + 1)-th value ties its
            # n_cand-th is sorted whole, stably, so that the lowest columns win. Rare:
            # duplicates, zero rows under cosine.
            tied = torch.nonzero(values[:, n_cand] == values[:, n_cand - 1]).squeeze(1)
            if len(tied):
                whole = dist[tied]
                kept[tied] = torch.sort(whole, dim=1, stable=True).indices[:, :m]
                values[tied] = whole.gather(1, kept[tied])
            values, kept = values[:, :n_cand], kept[:, :n_cand]
        pool = torch.cat([best[rows], values], 1)
        ids = torch.cat([nearest[rows], kept + cols.start], 1)
        # The lowest (distance, index) pairs: sort by index, then stably by distance.
        by_id = ids.argsort(1)
        order = by_id.gather(1, torch.sort(pool.gather(1, by_id), dim=1, stable=True).indices)
        best[rows] = pool.gather(1, order[:, :n_cand])
        nearest[rows] = ids.gather(1, order[:, :n_cand])

    blocks = [slice(start, stop) for start, stop in _row_chunks(n_samples, block_size)]
    for i, rows in enumerate(blocks):
        for cols in blocks[i:]:
            dist = data.block(rows, cols)
            if cols == rows:
                dist.fill_diagonal_(math.inf)
            merge(rows, dist, cols)
            if cols != rows:
                merge(cols, dist.T, rows)
            del dist
    return nearest.cpu().numpy()


def _check_knn(indices, distances) -> tuple[np.ndarray, np.ndarray]:
    indices = np.asarray(indices)
    distances = np.asarray(distances, dtype=np.float64)
    if (
        indices.ndim != 2
        or indices.shape != distances.shape
        or not 1 <= indices.shape[1] < indices.shape[0]
    ):
        raise ValueError(
            "indices and distances must be 2-D arrays of the same shape (n_samples, k) with "
            f"1 <= k < n_samples, got {indices.shape} and {distances.shape}."
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers, got dtype {indices.dtype}.")
    n_samples = indices.shape[0]
    if indices.min() < 0 or indices.max() >= n_samples:
        raise ValueError(f"indices must lie in [0, n_samples) = [0, {n_samples}).")
    if (indices == np.arange(n_samples)[:, None]).any():
        raise ValueError("indices must not list a point as its own neighbour.")
    ordered = np.sort(indices, axis=1)
    if (ordered[:, 1:] == ordered[:, :-1]).any():
        raise ValueError("indices must not repeat a neighbour within a row.")
    if not np.isfinite(distances).all() or (distances < 0).any():
        raise ValueError("distances must be finite and non-negative.")
    return indices, distances


def membership_strengths(distances) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UMAP's directed membership strengths of each point's k nearest neighbours.

    ``w_ij = exp(-max(d_ij - rho_i, 0) / sigma_i)`` where ``rho_i`` is the distance to the
    nearest neighbour at a positive distance (0 if all are 0) and ``sigma_i`` solves
    ``sum_j w_ij = log2(k)`` by a bisection run on all points at once.

    Parameters
    ----------
    distances : array-like of shape (n_samples, k)
        Non-negative distances to each point's ``k`` nearest neighbours (self excluded).

    Returns
    -------
    weights : ndarray of shape (n_samples, k), dtype float64
        Membership strengths in [0, 1]; the nearest neighbour at distance ``rho_i`` gets 1.
    rho : ndarray of shape (n_samples,)
        Local connectivity distances.
    sigma : ndarray of shape (n_samples,)
        Local scales.

    Notes
    -----
    As in UMAP, ``sigma_i`` is floored at ``1e-3`` times the mean neighbour distance of the
    row. This only matters where the equation has no meaningful solution (at least ``log2(k)``
    neighbours tied at ``rho_i``), where the row sum then exceeds ``log2(k)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.neighbors import membership_strengths
    >>> weights, rho, sigma = membership_strengths(np.array([[1.0, 2.0, 3.0, 4.0]]))
    >>> rho, round(float(weights.sum()), 6)
    (array([1.]), 2.0)
    """
    distances = np.asarray(distances, dtype=np.float64)
    if distances.ndim != 2 or distances.shape[1] == 0:
        raise ValueError(f"distances must be 2-D (n_samples, k >= 1), got {distances.shape}.")
    if not np.isfinite(distances).all() or (distances < 0).any():
        raise ValueError("distances must be finite and non-negative.")
    k = distances.shape[1]
    rho = np.where(distances > 0, distances, np.inf).min(axis=1)
    rho[np.isinf(rho)] = 0.0
    excess = np.maximum(distances - rho[:, None], 0.0)

    sigma = np.ones(len(distances))
    if k > 1:
        target = math.log2(k)
        # sum_j exp(-x_ij / s) >= k * exp(-max_j x_ij / s) >= target once s reaches this bound.
        # Rows without excess sum to k for any scale; any positive bound keeps them finite.
        largest = excess.max(axis=1)
        hi = np.where(largest > 0, largest, 1.0) / math.log(k / target)
        lo = np.zeros_like(hi)
        for _ in range(64):
            mid = (lo + hi) / 2.0
            too_large = np.exp(-excess / mid[:, None]).sum(axis=1) > target
            hi = np.where(too_large, mid, hi)
            lo = np.where(too_large, lo, mid)
        sigma = np.maximum((lo + hi) / 2.0, 1e-3 * distances.mean(axis=1))
    return np.exp(-excess / sigma[:, None]), rho, sigma


def fuzzy_neighbor_graph(indices, distances, *, set_op_mix_ratio: float = 1.0) -> sp.csr_matrix:
    """UMAP's fuzzy simplicial set: a symmetric weighted graph from k-nearest neighbours.

    The directed strengths ``W`` of :func:`membership_strengths` are symmetrised by the fuzzy
    union ``W + W^T - W * W^T`` (elementwise product), or, for ``set_op_mix_ratio`` below 1, by
    ``ratio * union + (1 - ratio) * (W * W^T)``.

    Parameters
    ----------
    indices : array-like of int, shape (n_samples, k)
        Neighbour indices in ``[0, n_samples)``, without the point itself or repeats, as
        returned by :func:`kneighbors`.
    distances : array-like of shape (n_samples, k)
        The matching non-negative distances.
    set_op_mix_ratio : float, default=1.0
        Weight of the fuzzy union against the fuzzy intersection, in [0, 1].

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n_samples, n_samples), dtype float32
        Symmetric, zero diagonal, weights in (0, 1], no explicit zeros, sorted indices.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.neighbors import fuzzy_neighbor_graph
    >>> indices = np.array([[1], [0], [1]])
    >>> distances = np.array([[1.0], [1.0], [2.0]])
    >>> fuzzy_neighbor_graph(indices, distances).toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    indices, distances = _check_knn(indices, distances)
    if not 0.0 <= set_op_mix_ratio <= 1.0:
        raise ValueError(f"set_op_mix_ratio must be in [0, 1], got {set_op_mix_ratio!r}.")
    n_samples, k = indices.shape
    weights = membership_strengths(distances)[0]
    directed = sp.csr_matrix(
        (weights.ravel(), (np.repeat(np.arange(n_samples), k), indices.ravel())),
        shape=(n_samples, n_samples),
    )
    transposed = directed.T.tocsr()
    both = directed.multiply(transposed)
    graph = set_op_mix_ratio * (directed + transposed - both) + (1.0 - set_op_mix_ratio) * both
    graph = sp.csr_matrix(graph, dtype=np.float32)
    # Far neighbours can underflow to 0 in float32; an edge of weight 0 is no edge.
    graph.eliminate_zeros()
    graph.sort_indices()
    return graph


def neighbor_graph(
    X,
    n_neighbors: int = 15,
    *,
    metric: str = "euclidean",
    device: str | torch.device = "cpu",
) -> sp.csr_matrix:
    """Symmetric fuzzy k-nearest-neighbour graph of the rows of ``X``, as in UMAP.

    :func:`kneighbors` followed by :func:`fuzzy_neighbor_graph`.

    Parameters
    ----------
    X : array-like or scipy sparse matrix of shape (n_samples, n_features)
        Numeric data.
    n_neighbors : int, default=15
        Neighbours per point; must be less than ``n_samples``.
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance for the neighbour search.
    device : str or torch.device, default="cpu"
        Torch device for the neighbour search.

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n_samples, n_samples), dtype float32
        Symmetric, zero diagonal, weights in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.neighbors import neighbor_graph
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> graph = neighbor_graph(X, n_neighbors=5)
    >>> graph.shape, bool((graph != graph.T).nnz == 0)
    ((50, 50), True)
    """
    indices, distances = kneighbors(X, n_neighbors, metric=metric, device=device)
    return fuzzy_neighbor_graph(indices, distances)


def with_copies(graph) -> sp.csr_matrix:
    """Extend a neighbour graph with one copy of each sample.

    Copy ``n + i`` of sample ``i`` is joined to ``i`` with weight 1 and to each neighbour ``j``
    of ``i`` with the weight of the edge ``(i, j)``; copies are not joined to each other. A
    partition that is consistent along the new edges gives each copy its sample's cluster, so
    training on it teaches what the copies (augmented samples) leave unchanged.

    Parameters
    ----------
    graph : scipy sparse matrix of shape (n_samples, n_samples)
        Symmetric edge weights.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (2 * n_samples, 2 * n_samples), dtype float32
        ``[[G, G + I], [G + I, 0]]``, symmetric.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from skdeepclust.neighbors import with_copies
    >>> G = sp.csr_matrix(np.array([[0, 0.5], [0.5, 0]]))
    >>> with_copies(G).toarray()
    array([[0. , 0.5, 1. , 0.5],
           [0.5, 0. , 0.5, 1. ],
           [1. , 0.5, 0. , 0. ],
           [0.5, 1. , 0. , 0. ]], dtype=float32)
    """
    graph = sp.csr_matrix(graph, dtype=np.float32)
    joined = graph + sp.identity(graph.shape[0], dtype=np.float32, format="csr")
    return sp.bmat([[graph, joined], [joined.T, None]], format="csr", dtype=np.float32)


def _umap_curve(d: np.ndarray, a: float, b: float) -> np.ndarray:
    return 1.0 / (1.0 + a * d ** (2.0 * b))


def umap_curve_parameters(spread: float = 1.0, min_dist: float = 0.1) -> tuple[float, float]:
    """Fit UMAP's low-dimensional similarity ``q(d) = 1 / (1 + a d^(2b))``.

    Least squares (``scipy.optimize.curve_fit``) against the target ``1`` for
    ``d < min_dist`` and ``exp(-(d - min_dist) / spread)`` beyond, on 300 points of
    ``[0, 3 * spread]``.

    Parameters
    ----------
    spread : float, default=1.0
        Scale of the embedded points; must be positive.
    min_dist : float, default=0.1
        Distance below which embedded points count as identical; in ``[0, spread]``.

    Returns
    -------
    a, b : float
        Curve parameters.

    Examples
    --------
    >>> from skdeepclust.neighbors import umap_curve_parameters
    >>> a, b = umap_curve_parameters(min_dist=0.1)
    >>> round(a, 3), round(b, 3)
    (1.577, 0.895)
    """
    if not (np.isfinite(spread) and spread > 0):
        raise ValueError(f"spread must be a positive number, got {spread!r}.")
    if not (np.isfinite(min_dist) and 0 <= min_dist <= spread):
        raise ValueError(f"min_dist must be in [0, spread] = [0, {spread}], got {min_dist!r}.")
    d = np.linspace(0.0, 3.0 * spread, 300)
    target = np.where(d < min_dist, 1.0, np.exp(-(d - min_dist) / spread))
    (a, b), _ = curve_fit(_umap_curve, d, target)
    return float(a), float(b)
