"""The neighbour-consistency head (``head="consistency"``)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_moons

from skdeepclust import DMAEClustering
from skdeepclust.metrics import unsupervised_accuracy
from skdeepclust.nn.heads import ConsistencyHead
from skdeepclust.training.losses import consistency_objective, neighbor_consistency_loss


@pytest.fixture(scope="module")
def moons():
    return make_moons(400, noise=0.05, random_state=0)


@pytest.fixture(scope="module")
def fitted(moons):
    X, _ = moons
    est = DMAEClustering(
        n_clusters=2, autoencoder=None, epochs=1, head="consistency", head_restarts=2
    )
    return est.set_params(random_state=0).fit(X)


def test_loss_rewards_agreement_and_balance():
    agree = torch.tensor([[0.99, 0.01], [0.01, 0.99]])
    consistency_agree, entropy_agree = neighbor_consistency_loss(agree, agree, balance_weight=5)
    consistency_split, _ = neighbor_consistency_loss(agree, agree.flip(1), balance_weight=5)
    assert consistency_agree < 0.05 < consistency_split
    # Both ends in one cluster: the mean assignment is far from uniform.
    one = torch.tensor([[0.99, 0.01], [0.99, 0.01]])
    _, entropy_one = neighbor_consistency_loss(one, one, balance_weight=5)
    assert entropy_agree == pytest.approx(-np.log(2), abs=1e-6)
    assert entropy_one > entropy_agree + 0.5


def test_objective_is_the_weighted_edge_loss_plus_balance():
    rng = np.random.default_rng(0)
    P = torch.softmax(torch.as_tensor(rng.normal(size=(6, 3))), 1)
    graph = sp.coo_matrix(([1.0, 3.0, 2.0], ([0, 1, 4], [1, 2, 5])), shape=(6, 6))
    edge_losses = -np.log([float(P[i] @ P[j]) for i, j in zip(graph.row, graph.col)])
    m = P.mean(0).numpy()
    expected = np.average(edge_losses, weights=graph.data) + 5 * float((m * np.log(m)).sum())
    assert consistency_objective(P, graph, balance_weight=5) == pytest.approx(expected)


def test_head_follows_the_moons_better_than_the_mixture(moons, fitted):
    # The mixture's nearest-centre cells are convex and cut both moons (0.76 measured); the
    # head, trained on the neighbour graph, follows them (0.89 measured).
    X, y = moons
    mixture_only = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0)
    mixture_accuracy = unsupervised_accuracy(y, mixture_only.fit(X).labels_)
    assert unsupervised_accuracy(y, fitted.labels_) > mixture_accuracy + 0.08


def test_head_gives_the_predictions_and_keeps_the_best_restart(moons, fitted):
    X, _ = moons
    assert isinstance(fitted.module_.head, ConsistencyHead)
    P = fitted.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    assert fitted.head_objectives_.shape == (2,)
    graph = fitted._graph(fitted._validate_X(X, reset=False))
    kept = consistency_objective(torch.as_tensor(P), graph, balance_weight=5)
    assert kept == pytest.approx(fitted.head_objectives_.min(), rel=1e-5)


def test_head_is_deterministic_and_saved(moons, fitted, tmp_path):
    X, _ = moons
    again = DMAEClustering(**fitted.get_params()).fit(X)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    fitted.save(tmp_path / "model.skdc")
    loaded = DMAEClustering.load(tmp_path / "model.skdc")
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.head_objectives_, fitted.head_objectives_)


def test_score_measures_the_mixture_not_the_head(moons, fitted):
    # The head's cluster k is not the mixture's component k: scoring the head's labels against
    # the mixture's prototypes would mix them up.
    X, _ = moons
    Xt = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        labels = fitted.module_.mixture(fitted.encoder_(Xt))[0].argmax(1).numpy()
    errors = ((X - fitted.prototypes()[labels]) ** 2).mean(1)
    assert fitted.score(X) == pytest.approx(-errors.mean(), rel=1e-5)


def test_mixture_head_has_no_objectives(moons):
    X, _ = moons
    est = DMAEClustering(n_clusters=2, autoencoder=None, epochs=1, random_state=0).fit(X)
    assert est.module_.head is None and est.head_objectives_ is None


def test_head_needs_fewer_neighbours_than_samples():
    X = np.random.default_rng(0).normal(size=(10, 2))
    est = DMAEClustering(n_clusters=2, autoencoder=None, head="consistency", n_neighbors=10)
    with pytest.raises(ValueError, match="n_neighbors=10 must be < n_samples=10"):
        est.fit(X)
