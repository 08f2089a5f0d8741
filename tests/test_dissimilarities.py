import math
import pickle
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import distance
from scipy.stats import entropy

from skdeepclust import dissimilarities
from skdeepclust.dissimilarities import (
    DISSIMILARITIES,
    VALID_DISSIMILARITIES,
    Dissimilarity,
    get_dissimilarity,
    pairwise_dissimilarity,
)

B, K, D = 5, 4, 3
PARAMS = {"minkowski": {"p": 3.0}, "toroidal_euclidean": {"period": 2.5}}


def _simplex(x):
    x = np.abs(x) + 1e-12
    return x / x.sum()


def _wrapped(diff, period):
    return (diff + period / 2) % period - period / 2


# Brute-force float64 references, one pair of vectors at a time.
REFERENCES = {
    "euclidean": distance.euclidean,
    "sqeuclidean": distance.sqeuclidean,
    "mahalanobis": lambda x, y, precision: (x - y) @ precision @ (x - y),
    "cosine": distance.cosine,
    "correlation": distance.correlation,
    "manhattan": distance.cityblock,
    "minkowski": lambda x, y, p: distance.minkowski(x, y, p),
    "chebyshev": distance.chebyshev,
    "kullback_leibler": lambda x, y: entropy(_simplex(x), _simplex(y)),
    "toroidal_euclidean": lambda x, y, period: np.linalg.norm(_wrapped(x - y, period)),
}


def _random_spd(n, d, rng):
    A = rng.normal(size=(n, d, d))
    return A @ A.transpose(0, 2, 1) + 0.5 * np.eye(d)


def _data(rng, dtype=torch.float64):
    H = rng.normal(size=(B, D))
    C = rng.normal(size=(K, D))
    return torch.as_tensor(H, dtype=dtype), torch.as_tensor(C, dtype=dtype)


def test_registry_is_complete_and_consistent():
    assert set(VALID_DISSIMILARITIES) == set(REFERENCES)
    assert list(VALID_DISSIMILARITIES) == sorted(VALID_DISSIMILARITIES)
    for name, dissimilarity in DISSIMILARITIES.items():
        assert dissimilarity.name == name
        assert dissimilarity.init in ("kmeans", "kmedoids")
        assert set(dissimilarity.param_values) <= set(dissimilarity.params)
    assert {n for n, d in DISSIMILARITIES.items() if d.density} == {"sqeuclidean", "mahalanobis"}
    assert {n for n, d in DISSIMILARITIES.items() if d.init == "kmeans"} == {
        "euclidean",
        "sqeuclidean",
        "mahalanobis",
    }


@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_matches_scipy_and_numpy_references(name):
    rng = np.random.default_rng(0)
    H, C = _data(rng)
    T = torch.as_tensor(rng.normal(size=(B, D)))
    pairwise_kwargs, paired_kwargs = dict(PARAMS.get(name, {})), dict(PARAMS.get(name, {}))
    pairwise_ref, paired_ref = dict(pairwise_kwargs), dict(paired_kwargs)
    if name == "mahalanobis":
        P_clusters, P_rows = _random_spd(K, D, rng), _random_spd(B, D, rng)
        pairwise_kwargs["precision"] = torch.as_tensor(P_clusters)
        paired_kwargs["precision"] = torch.as_tensor(P_rows)
    dissimilarity = DISSIMILARITIES[name]
    pairwise = dissimilarity.pairwise(H, C, **pairwise_kwargs)
    paired = dissimilarity.paired(H, T, **paired_kwargs)
    assert pairwise.shape == (B, K) and paired.shape == (B,)
    reference = REFERENCES[name]
    for i in range(B):
        if name == "mahalanobis":
            paired_ref["precision"] = P_rows[i]
        assert paired[i].item() == pytest.approx(
            reference(H[i].numpy(), T[i].numpy(), **paired_ref), rel=1e-7, abs=1e-9
        )
        for k in range(K):
            if name == "mahalanobis":
                pairwise_ref["precision"] = P_clusters[k]
            assert pairwise[i, k].item() == pytest.approx(
                reference(H[i].numpy(), C[k].numpy(), **pairwise_ref), rel=1e-7, abs=1e-9
            )


@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_pairwise_agrees_with_paired_on_repeated_targets(name):
    H, C = _data(np.random.default_rng(1), torch.float32)
    kwargs = dict(PARAMS.get(name, {}))
    precision = torch.as_tensor(_random_spd(K, D, np.random.default_rng(2)), dtype=torch.float32)
    if name == "mahalanobis":
        kwargs["precision"] = precision
    dissimilarity = DISSIMILARITIES[name]
    pairwise = dissimilarity.pairwise(H, C, **kwargs)
    for k in range(K):
        if name == "mahalanobis":
            kwargs["precision"] = precision[k].expand(B, D, D)
        paired = dissimilarity.paired(H, C[k].expand(B, D), **kwargs)
        torch.testing.assert_close(pairwise[:, k], paired, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_zero_distance_to_itself_with_finite_gradients(name, dtype):
    rng = np.random.default_rng(3)
    H = torch.as_tensor(rng.normal(size=(B, D)), dtype=dtype)
    # A zero row and a constant row: degenerate for cosine, correlation and kullback_leibler.
    H[0] = 0.0
    H[1] = 2.0
    H.requires_grad_(True)
    C = H.detach().clone().requires_grad_(True)
    kwargs = dict(PARAMS.get(name, {}))
    if name == "mahalanobis":
        kwargs["precision"] = torch.eye(D, dtype=dtype)
    dissimilarity = DISSIMILARITIES[name]
    pairwise = dissimilarity.pairwise(H, C, **kwargs)
    paired = dissimilarity.paired(H, C, **kwargs)
    (pairwise.sum() + paired.sum()).backward()
    assert torch.isfinite(H.grad).all() and torch.isfinite(C.grad).all()
    # cosine and correlation are undefined (1 by the eps convention) for zero / constant rows.
    regular = slice(2, None) if name in ("cosine", "correlation") else slice(None)
    tol = 1e-5 if dtype == torch.float64 else 1e-4
    assert (pairwise.diagonal()[regular].abs() < tol).all()
    assert (paired[regular].abs() < tol).all()


@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_non_negative(name):
    rng = np.random.default_rng(4)
    H = torch.as_tensor(rng.normal(scale=5.0, size=(20, D)), dtype=torch.float32)
    kwargs = dict(PARAMS.get(name, {}))
    if name == "mahalanobis":
        kwargs["precision"] = torch.as_tensor(_random_spd(20, D, rng), dtype=torch.float32)
    dissimilarity = DISSIMILARITIES[name]
    assert (dissimilarity.pairwise(H, H, **kwargs) >= 0).all()
    assert (dissimilarity.paired(H, H.flip(0), **kwargs) >= 0).all()


@pytest.mark.parametrize("function", ["pairwise", "paired"])
@pytest.mark.parametrize(
    "name, params, same_as",
    [
        ("mahalanobis", {"precision": torch.eye(D, dtype=torch.float64)}, "sqeuclidean"),
        ("minkowski", {"p": 1}, "manhattan"),
        ("minkowski", {"p": 2}, "euclidean"),
    ],
)
def test_special_cases_agree(function, name, params, same_as):
    H, C = _data(np.random.default_rng(5))
    other = C if function == "pairwise" else C[torch.arange(B) % K]
    actual = getattr(get_dissimilarity(name, params), function)(H, other)
    expected = getattr(DISSIMILARITIES[same_as], function)(H, other)
    torch.testing.assert_close(actual, expected)


def test_cosine_and_correlation_are_scale_invariant():
    H, C = _data(np.random.default_rng(6))
    for name in ("cosine", "correlation"):
        V = DISSIMILARITIES[name].pairwise
        torch.testing.assert_close(V(3.0 * H, 0.25 * C), V(H, C))


def test_kullback_leibler_is_zero_only_for_proportional_vectors():
    H, C = _data(np.random.default_rng(7))
    V = DISSIMILARITIES["kullback_leibler"]
    assert (V.pairwise(H, C) > 0).all()
    # |x| is normalised to the simplex, so positive rescalings and sign flips are identical.
    torch.testing.assert_close(V.paired(H, -4.0 * H), torch.zeros(B, dtype=H.dtype))


def test_toroidal_euclidean_wraps_around():
    V = get_dissimilarity("toroidal_euclidean", {"period": 1.0})
    H = torch.tensor([[0.05, 0.5]])
    C = torch.tensor([[0.95, 0.5], [0.05, 1.5], [0.55, 0.5]])
    torch.testing.assert_close(
        V.pairwise(H, C), torch.tensor([[0.1, 0.0, 0.5]]), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("path", ["differences", "matrix product"])
def test_sqeuclidean_float32_is_accurate_far_from_the_origin(path, monkeypatch):
    # Norms of ~1e3 dwarf unit distances: the naive expansion would be off by ~1 here. Large
    # inputs take the (shifted) matrix-product expansion, small ones the differences.
    if path == "matrix product":
        monkeypatch.setattr(dissimilarities, "_DIRECT_ELEMENTS", 0)
    rng = np.random.default_rng(8)
    H64 = torch.as_tensor(1e3 + rng.normal(size=(50, 8)))
    C64 = torch.as_tensor(1e3 + rng.normal(size=(6, 8)))
    expected = torch.cdist(H64, C64).pow(2)
    actual = DISSIMILARITIES["sqeuclidean"].pairwise(H64.float(), C64.float()).double()
    torch.testing.assert_close(actual, expected, rtol=1e-3, atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(VALID_DISSIMILARITIES),
    scale=st.sampled_from([1e-8, 1e-3, 1.0, 1e3, 1e8]),
    n_rows=st.integers(1, 6),
    n_clusters=st.integers(1, 4),
    n_features=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_float32_extreme_scales_give_finite_values(
    name, scale, n_rows, n_clusters, n_features, seed
):
    rng = np.random.default_rng(seed)
    H = torch.as_tensor(scale * rng.normal(size=(n_rows, n_features)), dtype=torch.float32)
    C = torch.as_tensor(scale * rng.normal(size=(n_clusters, n_features)), dtype=torch.float32)
    H.requires_grad_(True)
    params = {"precision": torch.eye(n_features)} if name == "mahalanobis" else None
    dissimilarity = get_dissimilarity(name, params)
    pairwise = dissimilarity.pairwise(H, C)
    paired = dissimilarity.paired(H, C[torch.arange(n_rows) % n_clusters])
    assert pairwise.shape == (n_rows, n_clusters) and paired.shape == (n_rows,)
    assert torch.isfinite(pairwise).all() and (pairwise >= 0).all()
    assert torch.isfinite(paired).all() and (paired >= 0).all()
    (pairwise.sum() + paired.sum()).backward()
    assert torch.isfinite(H.grad).all()


def test_unknown_name_lists_every_valid_name():
    with pytest.raises(ValueError, match="Unknown dissimilarity 'euclid'") as error:
        get_dissimilarity("euclid")
    for name in VALID_DISSIMILARITIES:
        assert repr(name) in str(error.value)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("minkowski", {"q": 2}, "Unknown parameter(s) 'q' for the 'minkowski'"),
        ("euclidean", {"p": 2}, "accepted: none"),
        ("minkowski", {"p": 0.5}, "p must be a real number >= 1"),
        ("minkowski", {"p": True}, "p must be a real number >= 1"),
        ("minkowski", {"p": "2"}, "p must be a real number >= 1"),
        ("toroidal_euclidean", {"period": 0.0}, "period must be a finite real number > 0"),
        ("mahalanobis", {"precision": torch.ones(2, 3)}, "precision must be a square 2-D"),
        ("mahalanobis", {"precision": np.eye(2)}, "precision must be a square 2-D"),
    ],
)
def test_invalid_params_raise(name, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        get_dissimilarity(name, params)


def test_params_are_bound_and_exposed():
    V = get_dissimilarity("minkowski", {"p": np.float32(3)})
    assert V.param_values == {"p": 3.0} and V.sklearn_metric == "minkowski"
    H, C = _data(np.random.default_rng(9))
    torch.testing.assert_close(V.pairwise(H, C), torch.cdist(H, C, p=3.0))
    assert get_dissimilarity("minkowski").param_values == {"p": 2.0}
    assert get_dissimilarity("euclidean") is DISSIMILARITIES["euclidean"]
    restored = pickle.loads(pickle.dumps(V))
    torch.testing.assert_close(restored.paired(H, H.flip(0)), V.paired(H, H.flip(0)))


def scaled_sqeuclidean(H, C, scale=1.0):
    return scale * torch.cdist(H, C).pow(2)


def test_callable_is_wrapped():
    V = get_dissimilarity(scaled_sqeuclidean, {"scale": 2.0})
    assert V.name == "scaled_sqeuclidean"
    assert V.init == "kmedoids" and V.sklearn_metric is None and not V.density
    assert V.params == ("scale",)
    H, C = _data(np.random.default_rng(10))
    T = C[torch.arange(B) % K]
    expected = 2.0 * DISSIMILARITIES["sqeuclidean"].paired(H, T)
    torch.testing.assert_close(V.paired(H, T), expected)
    torch.testing.assert_close(V.pairwise(H, C), 2.0 * torch.cdist(H, C).pow(2))
    restored = pickle.loads(pickle.dumps(V))
    torch.testing.assert_close(restored.paired(H, T), expected)


def test_dissimilarity_instances_and_wrong_types():
    V = DISSIMILARITIES["cosine"]
    assert get_dissimilarity(V) is V
    with pytest.raises(ValueError, match="already a Dissimilarity"):
        get_dissimilarity(V, {"p": 1})
    with pytest.raises(TypeError, match="must be a name, a callable"):
        get_dissimilarity(3)
    with pytest.raises(ValueError, match="init must be"):
        Dissimilarity("mine", scaled_sqeuclidean, scaled_sqeuclidean, init="random")


def test_pairwise_dissimilarity():
    H, C = _data(np.random.default_rng(11))
    torch.testing.assert_close(
        pairwise_dissimilarity(H, C, "minkowski", p=1.5), torch.cdist(H, C, p=1.5)
    )
    torch.testing.assert_close(pairwise_dissimilarity(H, C), torch.cdist(H, C))
    with pytest.raises(ValueError, match="same number of features"):
        pairwise_dissimilarity(H, C[:, :2])
    with pytest.raises(ValueError, match=r"H must be a 2-D torch\.Tensor"):
        pairwise_dissimilarity(H[0], C)
    assert math.isclose(
        pairwise_dissimilarity(H[:1], H[:1], "sqeuclidean").item(), 0.0, abs_tol=1e-12
    )
