import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.covariance import LedoitWolf
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skdeepclust.dissimilarities import VALID_DISSIMILARITIES, get_dissimilarity
from skdeepclust.nn.mixture import DissimilarityMixture, precisions_from_partition

K, D = 3, 4
ALPHAS = [1e-3, 1.0, 1e4, 1e6]


def _mixture(name, alpha, **kwargs):
    torch.manual_seed(0)
    mixture = DissimilarityMixture(K, D, name, alpha, **kwargs)
    if name == "mahalanobis":
        A = torch.randn(K, D, D)
        mixture.initialize_(mixture.centers.detach(), precisions=A @ A.mT + torch.eye(D))
    return mixture


def _codes(mixture):
    # Random codes plus one code exactly on each centre (zero distance).
    h = torch.cat([torch.randn(5, D), mixture.centers.detach().clone()])
    return h.requires_grad_(True)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_assignments_and_loss_gradients_are_finite(name, alpha):
    mixture = _mixture(name, alpha)
    h = _codes(mixture)
    S, D_, log_pi = mixture(h)
    assert S.shape == D_.shape == (len(h), K) and log_pi.shape == (K,)
    assert torch.isfinite(S).all() and torch.isfinite(D_).all()
    torch.testing.assert_close(S.sum(1), torch.ones(len(h)))
    assert torch.isfinite(mixture.log_assignments(h)).all()
    mixture.clustering_loss(h, S).backward()
    parameters = [h, mixture.centers, mixture.mixing_logits]
    if name == "mahalanobis":
        parameters.append(mixture.precision_factors)
    for parameter in parameters:
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all()


@pytest.mark.parametrize("name", VALID_DISSIMILARITIES)
def test_large_alpha_gives_one_hot_assignments_on_the_nearest_centre(name):
    mixture = _mixture(name, 1e6)
    h = _codes(mixture).detach()
    S, D_, _ = mixture(h)
    torch.testing.assert_close(S, torch.eye(K)[D_.argmin(1)])
    torch.testing.assert_close(mixture.log_assignments(h).argmax(1)[-K:], torch.arange(K))


def test_mixing_weights_stay_on_the_simplex():
    mixture = _mixture("sqeuclidean", 1.0)
    h = torch.randn(6, D)
    parameters = list(mixture.parameters())
    # Push the first weight's log toward -inf: one huge SGD step, then a few Adam ones.
    for optimizer, steps in [
        (torch.optim.SGD(parameters, lr=50.0), 1),
        (torch.optim.Adam(parameters, lr=1.0), 10),
    ]:
        for _ in range(steps):
            optimizer.zero_grad()
            mixture(h)[2][0].backward()
            optimizer.step()
        weights = mixture.mixing_weights()
        assert (weights > 0).all() and weights[0] < 1e-10
        torch.testing.assert_close(weights.sum(), torch.tensor(1.0))
        S, _, log_pi = mixture(h)
        assert torch.isfinite(log_pi).all() and torch.isfinite(mixture.clustering_loss(h, S))


def test_precisions_stay_positive_definite():
    mixture = _mixture("mahalanobis", 1.0)
    optimizer = torch.optim.Adam(mixture.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(0)
    # A random walk, then a push of every precision toward zero.
    for step in range(300):
        optimizer.zero_grad()
        P = mixture.precisions()
        loss = (
            P.diagonal(dim1=-2, dim2=-1).sum()
            if step >= 200
            else (P * torch.randn(K, D, D, generator=generator)).sum()
        )
        loss.backward()
        optimizer.step()
        P = mixture.precisions().detach().double()
        torch.testing.assert_close(P, P.mT)
        assert (torch.linalg.eigvalsh(P) > 0).all()


def test_precisions_from_partition_on_tiny_and_degenerate_clusters():
    rng = np.random.default_rng(0)
    d = 10
    H = rng.normal(size=(33, d))
    labels = np.repeat([1, 2, 3], [1, 2, 30])  # cluster 0 is empty
    for data in (H, np.ones_like(H), H[:1]):
        P = precisions_from_partition(data, labels[: len(data)], n_clusters=4)
        assert P.shape == (4, d, d) and np.isfinite(P).all()
        np.testing.assert_allclose(P, P.transpose(0, 2, 1))
        assert (np.linalg.eigvalsh(P) > 0).all()


def test_precisions_from_partition_values():
    rng = np.random.default_rng(1)
    H = np.concatenate([rng.normal(size=(40, 3)), 3.0 * rng.normal(size=(3, 3))])
    labels = np.repeat([0, 1], [40, 3])
    reg = 1e-2
    P = precisions_from_partition(H, labels, n_clusters=2, reg=reg)
    overall = LedoitWolf().fit(H).covariance_
    ridge = reg * np.trace(overall) / 3 * np.eye(3)
    # Cluster 0 is large enough for its own estimate; cluster 1 (3 points) falls back to all.
    np.testing.assert_allclose(P[0], np.linalg.inv(LedoitWolf().fit(H[:40]).covariance_ + ridge))
    np.testing.assert_allclose(P[1], np.linalg.inv(overall + ridge))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"labels": np.zeros(5)}, "same length"),
        ({"labels": np.full(6, 2)}, r"labels must lie in \[0, 2\)"),
        ({"reg": 0.0}, "reg must be > 0"),
        ({"n_clusters": 0}, "n_clusters must be a positive integer"),
    ],
)
def test_precisions_from_partition_validation(kwargs, message):
    arguments = {"H": np.zeros((6, 2)), "labels": np.zeros(6, int), "n_clusters": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        precisions_from_partition(**arguments)


def test_initialize_sets_the_parameters():
    mixture = DissimilarityMixture(K, D, "mahalanobis", 1.0)
    centers = torch.randn(K, D)
    A = torch.randn(K, D, D)
    precisions = A @ A.mT + 0.1 * torch.eye(D)
    mixture.initialize_(centers.numpy(), precisions=precisions, mixing_weights=[1.0, 2.0, 5.0])
    torch.testing.assert_close(mixture.centers.detach(), centers)
    torch.testing.assert_close(mixture.precisions().detach(), precisions, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(mixture.mixing_weights().detach(), torch.tensor([1, 2, 5]) / 8)
    torch.testing.assert_close(
        mixture.soft_precisions(torch.eye(K)[[2, 0]]).detach(),
        precisions[[2, 0]],
        rtol=1e-4,
        atol=1e-4,
    )
    mixture.reset_parameters()
    torch.testing.assert_close(mixture.precisions().detach(), torch.eye(D).expand(K, D, D))
    torch.testing.assert_close(mixture.mixing_weights().detach(), torch.full((K,), 1 / K))


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("sqeuclidean", {"centers": torch.zeros(K, D + 1)}, "centers must have shape"),
        ("sqeuclidean", {"centers": torch.full((K, D), torch.nan)}, "centers must be finite"),
        ("sqeuclidean", {"precisions": torch.eye(D).expand(K, D, D)}, "only be set with"),
        ("mahalanobis", {"precisions": -torch.eye(D).expand(K, D, D)}, r"components \[0, 1, 2\]"),
        ("sqeuclidean", {"mixing_weights": [1.0, 0.0, 1.0]}, "must all be > 0"),
    ],
)
def test_initialize_validation(name, kwargs, message):
    mixture = DissimilarityMixture(K, D, name, 1.0)
    arguments = {"centers": torch.zeros(K, D)} | kwargs
    with pytest.raises(ValueError, match=message):
        mixture.initialize_(**arguments)


def test_clustering_loss_formula():
    mixture = _mixture("mahalanobis", 2.0)
    with torch.no_grad():
        mixture.mixing_logits.copy_(torch.tensor([0.0, 1.0, -1.0]))
    h = torch.randn(7, D)
    S = mixture(h)[0]
    P_tilde = torch.einsum("bk,kij->bij", S, mixture.precisions())
    diff = h - S @ mixture.centers
    V = torch.einsum("bi,bij,bj->b", diff, P_tilde, diff)
    expected = (V - torch.log(S @ mixture.mixing_weights()) / 2.0).mean()
    torch.testing.assert_close(mixture.clustering_loss(h, S), expected)


def test_soft_kmeans_limit():
    # With sqeuclidean and a large alpha the loss is k-means' mean squared distance to the nearest
    # centre (the log(pi~) / alpha term vanishes).
    mixture = _mixture("sqeuclidean", 1e6)
    h = torch.randn(20, D)
    S, D_, _ = mixture(h)
    torch.testing.assert_close(mixture.clustering_loss(h, S), D_.min(1).values.mean())


def test_precision_log_det_adds_the_gaussian_normalisers():
    # With one component and the normalisers the loss is a Gaussian negative log-likelihood,
    # stationary at mu = mean and P = inv(cov) / (2 alpha); without them P is pushed toward 0.
    alpha = 3.0
    h = torch.randn(200, D, dtype=torch.float64) @ torch.randn(D, D, dtype=torch.float64)
    cov = torch.cov(h.T, correction=0)
    gradients = {}
    for log_det in (True, False):
        mixture = DissimilarityMixture(1, D, "mahalanobis", alpha, precision_log_det=log_det)
        mixture.double().initialize_(
            h.mean(0, keepdim=True), torch.linalg.inv(cov)[None] / alpha / 2
        )
        mixture.clustering_loss(h, mixture(h)[0]).backward()
        gradients[log_det] = mixture.precision_factors.grad
    torch.testing.assert_close(gradients[True], torch.zeros_like(gradients[True]))
    assert gradients[False].diagonal(dim1=-2, dim2=-1).min() > 0.1


def test_shallow_dmm_recovers_blobs():
    X, y = make_blobs(150, centers=[[-5, 0], [5, 0], [0, 8]], random_state=0)
    X = torch.as_tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32)
    torch.manual_seed(0)
    mixture = DissimilarityMixture(3, 2, "sqeuclidean", alpha=10.0)
    optimizer = torch.optim.Adam(mixture.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        mixture.clustering_loss(X, mixture(X)[0]).backward()
        optimizer.step()
    with torch.no_grad():
        labels = mixture(X)[0].argmax(1).numpy()
    assert adjusted_rand_score(y, labels) > 0.95
    torch.testing.assert_close(
        mixture.mixing_weights().detach(), torch.full((3,), 1 / 3), atol=0.02, rtol=0
    )


def scaled_manhattan(H, C):
    return 2.0 * torch.cdist(H, C, p=1.0)


def test_callable_dissimilarity_module_pickles_and_copies():
    mixture = DissimilarityMixture(K, D, scaled_manhattan, 1.0)
    h = torch.randn(4, D)
    loss = mixture.clustering_loss(h, mixture(h)[0])
    for clone in (pickle.loads(pickle.dumps(mixture)), copy.deepcopy(mixture)):
        torch.testing.assert_close(clone.clustering_loss(h, clone(h)[0]), loss)
    assert "scaled_manhattan" in repr(mixture)


def test_validation():
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        DissimilarityMixture(K, D, "euclidean", 0.0)
    with pytest.raises(ValueError, match="n_clusters must be a positive integer"):
        DissimilarityMixture(0, D, "euclidean", 1.0)
    with pytest.raises(ValueError, match="Unknown dissimilarity"):
        DissimilarityMixture(K, D, "nope", 1.0)
    mixture = DissimilarityMixture(K, D, get_dissimilarity("minkowski", {"p": 3}), 1.0)
    with pytest.raises(ValueError, match=r"Expected codes of shape \(batch, 4\)"):
        mixture(torch.zeros(2, D + 1))
    wrong = DissimilarityMixture(K, D, lambda H, C: H @ C.T @ C, 1.0)
    with pytest.raises(ValueError, match=r"returned shape \(2, 4\), expected \(2, 3\)"):
        wrong(torch.zeros(2, D))
