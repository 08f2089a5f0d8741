import math

import pytest
import torch
from torch import nn

from skdeepclust.nn.autoencoders import build_autoencoder
from skdeepclust.nn.conv import (
    NEGATIVE_SLOPE,
    build_conv_autoencoder,
    build_critic,
    build_mlp_critic,
    working_side,
)


@pytest.mark.parametrize(
    ("side", "expected"), [(8, 16), (12, 16), (16, 16), (20, 24), (28, 32), (32, 32)]
)
def test_working_side_policy(side, expected):
    assert working_side(side) == expected


@pytest.mark.parametrize(
    ("image_shape", "latent_dim"),
    [
        ((1, 8, 8), 16),
        ((3, 8, 8), 8),
        ((1, 16, 16), 4),
        ((2, 16, 16), 12),
        ((1, 28, 28), 32),
        ((3, 28, 28), 16),
        ((3, 32, 32), 256),
    ],
)
def test_shapes_on_flat_rows(image_shape, latent_dim):
    torch.manual_seed(0)
    n_features = math.prod(image_shape)
    autoencoder = build_conv_autoencoder(image_shape, latent_dim=latent_dim, depth=2)
    critic = build_critic(image_shape, latent_dim=latent_dim, depth=2)
    x = torch.rand(3, n_features)
    z, reconstruction = autoencoder(x)
    assert z.shape == (3, latent_dim)
    assert reconstruction.shape == (3, n_features)
    assert critic(x).shape == (3,)
    # The critic's score is the mean of its final map (the encoder architecture).
    torch.testing.assert_close(critic(x), critic.body(x).mean(1))


def test_padding_is_cropped_and_gradients_reach_every_layer():
    autoencoder = build_conv_autoencoder((1, 28, 28), latent_dim=16, depth=2)
    x = torch.rand(4, 784)
    # Rows are reshaped channel-major and zero-padded at the bottom right, so the code of an
    # image does not depend on anything but its 784 pixels.
    padded = nn.functional.pad(x.view(4, 1, 28, 28), (0, 4, 0, 4))
    torch.testing.assert_close(
        autoencoder.encoder(x), autoencoder.encoder.layers(padded).flatten(1)
    )
    nn.functional.mse_loss(autoencoder(x)[1], x).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in autoencoder.parameters())


def test_small_images_are_resized_back():
    autoencoder = build_conv_autoencoder((1, 8, 8), latent_dim=4, depth=2)
    # With a constant decoder output map, bilinear resizing must return the same constant.
    for layer in autoencoder.decoder.layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.zeros_(layer.weight)
    nn.init.constant_(autoencoder.decoder.layers[-1].bias, 0.25)
    out = autoencoder.decoder(torch.randn(2, 4))
    torch.testing.assert_close(out, torch.full((2, 64), 0.25))


def test_latent_dim_must_fit_the_latent_map():
    with pytest.raises(ValueError, match=r"multiple of 16 .* 32x32 .* 4x4"):
        build_conv_autoencoder((1, 28, 28), latent_dim=10, depth=2)
    with pytest.raises(ValueError, match="channels, height, width"):
        build_conv_autoencoder((28, 28), latent_dim=16, depth=2)


def test_acai_initialisation():
    torch.manual_seed(0)
    encoder = build_conv_autoencoder((1, 16, 16), latent_dim=64, depth=32).encoder
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 + 2 * 3 + 2
    for conv in convs[1:]:  # the 1x1 stem has too few weights for a precise estimate
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        expected = 1 / math.sqrt((1 + NEGATIVE_SLOPE**2) * fan_in)
        assert conv.weight.std().item() == pytest.approx(expected, rel=0.1)
        assert conv.weight.mean().abs().item() < 0.2 * expected
        assert torch.count_nonzero(conv.bias) == 0


def test_mlp_critic_and_builder_dispatch():
    critic = build_mlp_critic(64, hidden_dims=(32, 16), latent_dim=8)
    assert critic(torch.rand(5, 64)).shape == (5,)
    assert any(isinstance(m, nn.LeakyReLU) for m in critic.modules())
    autoencoder = build_autoencoder("conv", 64, image_shape=(1, 8, 8), latent_dim=16, depth=2)
    assert autoencoder.encoder(torch.rand(2, 64)).shape == (2, 16)
