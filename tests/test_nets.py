"""The training phases' skorch nets (skdeepclust.training.nets)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skdeepclust.nn.autoencoders import build_autoencoder
from skdeepclust.training.nets import RepresentationNet


def _terms(reconstruction_samples):
    torch.manual_seed(0)
    autoencoder = build_autoencoder("mlp", 6, hidden_dims=(8,), latent_dim=2)
    net = RepresentationNet(
        autoencoder,
        criterion=torch.nn.MSELoss,
        reconstruction_samples=reconstruction_samples,
        curve=(1.0, 1.0),
    ).initialize()
    heads, tails = torch.rand(2, 10, 6, generator=torch.Generator().manual_seed(1))
    return autoencoder, heads, net.losses((heads, tails), torch.arange(10))


def test_reconstruction_samples_limits_the_reconstruction_to_the_first_heads():
    autoencoder, heads, terms = _terms(4)
    with torch.no_grad():
        first = F.mse_loss(autoencoder.decoder(autoencoder.encoder(heads[:4])), heads[:4])
        every = F.mse_loss(autoencoder.decoder(autoencoder.encoder(heads)), heads)
    torch.testing.assert_close(terms["reconstruction_loss"].detach(), first)
    assert not torch.isclose(first, every)
    # The graph loss still uses every edge of the batch.
    torch.testing.assert_close(terms["graph_loss"], _terms(None)[2]["graph_loss"])


def test_reconstruction_of_every_head_by_default():
    autoencoder, heads, terms = _terms(None)
    with torch.no_grad():
        every = F.mse_loss(autoencoder.decoder(autoencoder.encoder(heads)), heads)
    torch.testing.assert_close(terms["reconstruction_loss"].detach(), every)
