import math

import numpy as np
import pytest
import scipy.sparse as sp

from skdeepclust.neighbors import (
    fuzzy_neighbor_graph,
    kneighbors,
    membership_strengths,
    neighbor_graph,
    umap_curve_parameters,
    with_copies,
)


def brute_force(X, metric):
    """Float64 pairwise distances with the diagonal at infinity."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        U = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
        dist = 1.0 - U @ U.T
    else:
        dist = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    return dist


def assert_exact_knn(X, indices, distances, metric, k):
    ref = brute_force(X, metric)
    n = ref.shape[0]
    assert indices.shape == distances.shape == (n, k)
    assert indices.dtype == np.int64 and distances.dtype == np.float32
    assert not (indices == np.arange(n)[:, None]).any()
    assert (np.diff(distances, axis=1) >= 0).all()
    # Compare distances, not indices: float32 may reorder near-ties.
    np.testing.assert_allclose(distances, np.sort(ref, axis=1)[:, :k], atol=1e-5)
    np.testing.assert_allclose(
        distances, np.take_along_axis(ref, indices, axis=1), atol=1e-5, rtol=1e-5
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    X[rng.random(X.shape) < 0.5] = 0.0  # sparse enough for the CSR variant to be meaningful
    empty = ~X.any(axis=1)
    X[empty, 0] = rng.normal(size=empty.sum())
    X[3] = 0.0  # the only zero row (cosine edge case)
    return X


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_brute_force(data, metric, sparse):
    X = sp.csr_matrix(data) if sparse else data.astype(np.float32)
    indices, distances = kneighbors(X, 5, metric=metric)
    assert_exact_knn(data.astype(np.float32), indices, distances, metric, 5)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("sparse", [False, True])
def test_block_size_does_not_change_result(data, metric, sparse):
    X = sp.csr_matrix(data) if sparse else data
    one_block = kneighbors(X, 4, metric=metric, block_size=len(data))
    for result in (kneighbors(X, 4, metric=metric, block_size=7), kneighbors(X, 4, metric=metric)):
        np.testing.assert_array_equal(result[0], one_block[0])
        np.testing.assert_array_equal(result[1], one_block[1])


@pytest.mark.parametrize("block_size", [1, 4, 7, None])
def test_exact_ties_keep_the_lowest_indices(block_size):
    # 30 points at distance exactly 1 from the last one (the origin): more ties than spare
    # candidates, wherever the blocks cut.
    X = np.vstack([np.eye(15), -np.eye(15), np.zeros((1, 15))])
    indices, distances = kneighbors(X, 3, block_size=block_size)
    np.testing.assert_array_equal(indices[-1], [0, 1, 2])
    np.testing.assert_array_equal(distances[-1], [1.0, 1.0, 1.0])


def test_cosine_zero_row_is_at_distance_one(data):
    _, distances = kneighbors(data, 3, metric="cosine")
    np.testing.assert_allclose(distances[3], 1.0, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_duplicates_are_mutual_neighbours_at_zero(data, sparse):
    X = np.vstack([data, data[:5], data[:5]])
    X = sp.csr_matrix(X) if sparse else X
    indices, distances = kneighbors(X, 3)
    for i in range(5):
        copies = {i, 60 + i, 65 + i}
        for j in copies:
            assert set(indices[j, :2]) == copies - {j}
            np.testing.assert_array_equal(distances[j, :2], 0.0)


def test_offset_and_constant_columns_do_not_hurt_precision(data):
    # |x|^2 ~ 1e12 would wreck a float32 expansion without centring.
    shifted = np.hstack([data + 1e5, np.full((len(data), 3), 7.0)])
    indices, distances = kneighbors(shifted, 5)
    assert_exact_knn(data, indices, distances, "euclidean", 5)


def test_memmap_and_integer_input(tmp_path, data):
    counts = np.round(np.abs(data) * 10).astype(np.int32)
    np.save(tmp_path / "x.npy", counts)
    X = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert isinstance(X, np.memmap)
    from_disk = kneighbors(X, 4, block_size=16)
    assert_exact_knn(counts, *from_disk, "euclidean", 4)
    np.testing.assert_array_equal(from_disk[1], kneighbors(counts, 4)[1])


def test_all_other_points_as_neighbours(data):
    indices, distances = kneighbors(data[:6], 5)
    assert_exact_knn(data[:6], indices, distances, "euclidean", 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_neighbors": 60}, "< n_samples = 60"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_neighbors": 2.5}, "integer"),
        ({"metric": "manhattan"}, "metric"),
        ({"block_size": 0}, "block_size"),
    ],
)
def test_bad_parameters(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        kneighbors(data, **kwargs)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros(5), "2-D"),
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
        (sp.csr_matrix(np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]])), "NaN"),
        (np.array([["a"], ["b"], ["c"]]), "numeric"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        kneighbors(X, 1)


def test_membership_row_sums_hit_log2_k(data):
    _, distances = kneighbors(data, 7)
    weights, rho, sigma = membership_strengths(distances)
    np.testing.assert_allclose(weights.sum(axis=1), math.log2(7), rtol=1e-9)
    np.testing.assert_array_equal(rho, distances[:, 0])  # no duplicates in this data
    assert (sigma > 0).all()
    np.testing.assert_array_equal(weights[:, 0], 1.0)


def test_membership_rho_skips_zero_distances():
    distances = np.array([[0.0, 0.0, 1.0, 2.0, 4.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    weights, rho, _ = membership_strengths(distances)
    np.testing.assert_array_equal(rho, [1.0, 0.0])
    np.testing.assert_array_equal(weights[0, :3], 1.0)
    np.testing.assert_array_equal(weights[1], 1.0)


def test_fuzzy_graph_properties(data):
    indices, distances = kneighbors(data, 6)
    graph = fuzzy_neighbor_graph(indices, distances)
    assert isinstance(graph, sp.csr_matrix)
    assert graph.dtype == np.float32 and graph.shape == (60, 60)
    assert (graph != graph.T).nnz == 0
    assert graph.diagonal().max() == 0
    assert (graph.data > 0).all() and (graph.data <= 1).all()
    # The nearest neighbour (at distance rho > 0) keeps weight exactly 1 through the union.
    np.testing.assert_array_equal(graph.max(axis=1).toarray().ravel(), 1.0)
    np.testing.assert_array_equal(graph[np.arange(60), indices[:, 0]].A1, 1.0)


@pytest.mark.parametrize("ratio", [1.0, 0.0, 0.3])
def test_fuzzy_union_formula(data, ratio):
    indices, distances = kneighbors(data, 6)
    weights = membership_strengths(distances)[0]
    W = np.zeros((60, 60))
    W[np.repeat(np.arange(60), 6), indices.ravel()] = weights.ravel()
    expected = ratio * (W + W.T - W * W.T) + (1 - ratio) * W * W.T
    graph = fuzzy_neighbor_graph(indices, distances, set_op_mix_ratio=ratio)
    np.testing.assert_allclose(graph.toarray(), expected, atol=1e-7)
    assert (graph.data > 0).all()


def test_neighbor_graph_is_both_steps(data):
    expected = fuzzy_neighbor_graph(*kneighbors(data, 5, metric="cosine"))
    graph = neighbor_graph(data, 5, metric="cosine")
    assert (graph != expected).nnz == 0


def test_with_copies_joins_each_copy_to_its_sample_and_its_neighbours(data):
    graph = neighbor_graph(data, 5)
    extended = with_copies(graph)
    assert isinstance(extended, sp.csr_matrix) and extended.dtype == np.float32
    assert extended.shape == (120, 120) and (extended != extended.T).nnz == 0
    G, joined = graph.toarray(), extended.toarray()
    np.testing.assert_array_equal(joined[:60, :60], G)
    np.testing.assert_array_equal(joined[:60, 60:], G + np.eye(60))
    np.testing.assert_array_equal(joined[60:, 60:], 0)


@pytest.mark.parametrize(
    ("indices", "distances", "match"),
    [
        ([[1, 0], [0, 1]], np.ones((2, 2)), "1 <= k < n_samples"),
        ([[1], [2], [0]], [[1.0], [1.0]], "same shape"),
        ([[1], [3], [0]], [[1.0], [1.0], [1.0]], "in \\[0, n_samples\\)"),
        ([[0], [2], [0]], [[1.0], [1.0], [1.0]], "own neighbour"),
        ([[1, 1], [0, 2], [0, 1]], np.ones((3, 2)), "repeat"),
        ([[1], [2], [0]], [[-1.0], [1.0], [1.0]], "non-negative"),
        ([[1.0], [2.0], [0.0]], [[1.0], [1.0], [1.0]], "integers"),
    ],
)
def test_fuzzy_graph_bad_input(indices, distances, match):
    with pytest.raises(ValueError, match=match):
        fuzzy_neighbor_graph(np.array(indices), np.array(distances))


def test_fuzzy_graph_bad_mix_ratio():
    with pytest.raises(ValueError, match="set_op_mix_ratio"):
        fuzzy_neighbor_graph(np.array([[1], [2], [0]]), np.ones((3, 1)), set_op_mix_ratio=1.5)


@pytest.mark.parametrize(
    ("min_dist", "expected"), [(0.1, (1.577, 0.895)), (0.001, (1.929, 0.7915))]
)
def test_umap_curve_parameters(min_dist, expected):
    np.testing.assert_allclose(umap_curve_parameters(1.0, min_dist), expected, atol=1e-2)


@pytest.mark.parametrize(("spread", "min_dist"), [(0.0, 0.1), (1.0, -0.1), (1.0, 2.0)])
def test_umap_curve_parameters_bad_input(spread, min_dist):
    with pytest.raises(ValueError):
        umap_curve_parameters(spread, min_dist)
