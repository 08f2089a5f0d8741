"""The automatic budget of graph training, shared by both estimators."""

import pytest
from sklearn.datasets import make_moons

from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.neighbors import neighbor_graph
from skdeepclust.training.data import EdgeDataset, edge_batches_per_epoch, edge_loader

TINY = dict(hidden_dims=(8,), latent_dim=2, n_neighbors=2, random_state=0)


@pytest.fixture
def moons():
    return make_moons(200, noise=0.05, random_state=0)[0]


@pytest.mark.parametrize(
    "Estimator, sample_budget, floor",
    # The epochs each estimator's sample-count rule gives 200 samples, and its floor of steps
    # (MCDC's is 3.2 times DMAE's).
    [(DMAEClustering, 40, 300), (MCDCClustering, 85, 960)],
)
def test_small_graph_gets_the_step_floor(Estimator, sample_budget, floor, moons, monkeypatch):
    # The default's 2,250 steps would take seconds.
    monkeypatch.setattr("skdeepclust.training.data.MIN_GRAPH_STEPS", 300)
    # Two neighbours: an epoch is a few batches of edges, so the sample-count budget runs
    # fewer steps than the floor.
    est = Estimator(2, **TINY).fit(moons)
    history = est.pretrain_history_
    per_epoch = len(history[-1]["batches"])
    steps = sum(len(epoch["batches"]) for epoch in history)
    assert len(history) > sample_budget
    assert floor <= steps < floor + per_epoch
    if Estimator is DMAEClustering:
        # DMAE's automatic fine-tuning is an eighth of its automatic pretraining.
        assert len(est.net_.history) == len(history) // 8


@pytest.mark.parametrize(
    "Estimator, budget", [(DMAEClustering, "pretrain_epochs"), (MCDCClustering, "epochs")]
)
def test_explicit_budget_is_kept(Estimator, budget, moons):
    est = Estimator(2, **TINY, **{budget: 3}).fit(moons)
    assert len(est.pretrain_history_) == 3


@pytest.mark.parametrize("batch_size", [1, 7, 512])
def test_edge_batches_per_epoch_counts_the_loaders_batches(batch_size, moons):
    graph = neighbor_graph(moons, 5)
    loader = edge_loader(EdgeDataset(moons, graph=graph), batch_size=batch_size)
    assert edge_batches_per_epoch(graph, batch_size) == len(loader) == len(list(loader))
