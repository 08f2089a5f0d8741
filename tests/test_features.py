"""Gradient histograms for the neighbour graph (skdeepclust.features, graph_features=...)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import skdeepclust._base
from skdeepclust import DMAEClustering, MCDCClustering
from skdeepclust.features import graph_features, oriented_gradients


def _gratings(n_per_class=60, side=16, seed=0):
    """Vertical and horizontal gratings (random period and phase) over a bright smooth blob.

    The blob, at a random place, holds most of the pixels' energy but has weak gradients: the
    pixels' nearest neighbours are the images whose blobs are close, of either class, while
    the gradient histograms see the stripes' orientation.
    """
    rng = np.random.default_rng(seed)
    x = np.arange(side)
    images, labels = [], []
    for label in (0, 1):
        for _ in range(n_per_class):
            wave = 0.3 * np.sin(2 * np.pi * x / rng.uniform(3, 8) + rng.uniform(0, 2 * np.pi))
            stripes = np.tile(wave, (side, 1))  # varies along x: vertical stripes
            cy, cx = rng.uniform(0, side, 2)
            blob = np.exp(-((x[:, None] - cy) ** 2 + (x[None] - cx) ** 2) / (2 * 4.0**2))
            images.append((stripes if label == 0 else stripes.T) + 0.3 + 2 * blob)
            labels.append(label)
    return np.stack(images).reshape(len(images), -1).astype(np.float32), np.array(labels)


def _knn_purity(F, y, k=5):
    d = torch.cdist(torch.as_tensor(F), torch.as_tensor(F)).fill_diagonal_(float("inf"))
    neighbours = d.topk(k, largest=False).indices.numpy()
    return (y[neighbours] == y[:, None]).mean()


def test_orientations_land_in_their_bins():
    x = torch.zeros(1, 1, 16, 16)
    x[..., 2:14, 7:9] = 1.0  # a tall bar: mostly vertical edges, whose gradients are at 0 deg
    per_bin = oriented_gradients(x).view(-1, 9, 4).sum((0, 2))  # blocks hold bins x 4 cells
    assert per_bin.argmax() == 0 and per_bin[0] > 2 * per_bin[1:].max()
    per_bin = oriented_gradients(x.transpose(-1, -2)).view(-1, 9, 4).sum((0, 2))
    assert per_bin.argmax() == 4  # 90 deg: the fifth of 9 bins of 20 deg


def test_blocks_are_unit_length_and_contrast_invariant():
    x = torch.rand(3, 1, 28, 28)
    h = oriented_gradients(x)
    assert h.shape == (3, 6 * 6 * 36)
    assert torch.allclose(h.view(3, 36, 36).norm(dim=2), torch.ones(3, 36), atol=1e-4)
    assert torch.allclose(oriented_gradients(3 * x), h, atol=1e-5)
    assert torch.count_nonzero(oriented_gradients(torch.zeros(1, 1, 8, 8))) == 0


def test_colour_images_use_the_strongest_channel():
    grey = torch.rand(2, 1, 12, 12)
    colour = torch.cat([0.1 * grey, grey, torch.zeros_like(grey)], 1)
    assert torch.allclose(oriented_gradients(colour), oriented_gradients(grey))


def test_oriented_gradients_errors():
    with pytest.raises(ValueError, match="shape"):
        oriented_gradients(torch.rand(1, 16, 16))
    with pytest.raises(ValueError, match="cells"):
        oriented_gradients(torch.rand(1, 1, 7, 16))


def test_graph_features_scale_both_parts_and_accept_sparse_rows():
    X, _ = _gratings(n_per_class=5)
    F = graph_features(X, (1, 16, 16))
    assert F.shape == (10, 3 * 3 * 36 + 256) and F.dtype == np.float32
    for part in (F[:, :324], F[:, 324:]):
        assert np.linalg.norm(part, axis=1).mean() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(graph_features(sp.csr_matrix(X), (1, 16, 16)), F, rtol=1e-6)


def test_gradient_histograms_find_the_gratings_neighbours():
    X, y = _gratings()
    assert _knn_purity(X, y) < 0.6
    assert _knn_purity(graph_features(X, (1, 16, 16)), y) > 0.95


def _spy_on_graphs(monkeypatch) -> list:
    """Record (number of features searched, graph) of each graph the estimators build."""
    graphs = []
    original = skdeepclust._base.neighbor_graph

    def spy(features, *args, **kwargs):
        graphs.append((features.shape[1], original(features, *args, **kwargs)))
        return graphs[-1][1]

    monkeypatch.setattr(skdeepclust._base, "neighbor_graph", spy)
    return graphs


@pytest.mark.parametrize(
    "estimator",
    [
        DMAEClustering(hidden_dims=(32,), latent_dim=2, pretrain_epochs=1, epochs=0),
        MCDCClustering(autoencoder="mlp", hidden_dims=(32,), latent_dim=2, epochs=1),
    ],
    ids=["DMAE", "MCDC"],
)
@pytest.mark.parametrize("graph_features", ["hog", "auto"])
def test_estimators_build_their_graph_on_gradient_histograms(
    estimator, graph_features, monkeypatch
):
    X, y = _gratings()
    graphs = _spy_on_graphs(monkeypatch)
    common = dict(n_clusters=2, n_neighbors=5, head_restarts=1, augmentation=False)
    estimator.set_params(graph_features=graph_features, random_state=0, **common)
    estimator.fit(X)  # image_shape="auto" infers (1, 16, 16)
    [(n_features, graph)] = graphs  # one graph, for the pretraining and the heads alike
    assert n_features == 324 + 256
    edges = graph.tocoo()
    same_class = y[edges.row] == y[edges.col]
    assert edges.data[same_class].sum() / edges.data.sum() > 0.95  # on the pixels: about 0.5


@pytest.mark.parametrize("cls", [DMAEClustering, MCDCClustering])
def test_hog_graph_needs_images(cls):
    X, _ = _gratings(n_per_class=10)
    with pytest.raises(ValueError, match="needs image inputs"):
        cls(n_clusters=2, graph_features="hog", image_shape=None, n_neighbors=5).fit(X)
    with pytest.raises(ValueError, match="at least 8 x 8"):
        cls(n_clusters=2, graph_features="hog", image_shape=(16, 4, 4), n_neighbors=5).fit(X)


@pytest.mark.parametrize("image_shape", [(1, 8, 8), (4, 4, 4), None])
def test_auto_keeps_the_pixel_graph_on_small_images_and_tables(image_shape, monkeypatch):
    X = np.random.default_rng(0).random((40, 64)).astype(np.float32)
    graphs = _spy_on_graphs(monkeypatch)
    DMAEClustering(
        n_clusters=2,
        hidden_dims=(8,),
        latent_dim=2,
        pretrain_epochs=1,
        epochs=0,
        n_neighbors=5,
        head="mixture",
        image_shape=image_shape,
        random_state=0,
    ).fit(X)
    assert [n_features for n_features, _ in graphs] == [64]
