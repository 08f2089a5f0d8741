"""The ACAI convolutional autoencoder and critic, on flat rows.

Encoder (Berthelot et al., ACAI; used unchanged by MCDC): a 1x1 convolution to ``depth``
channels, three blocks of [3x3 conv, LeakyReLU(0.2), 3x3 conv, LeakyReLU(0.2), 2x2 average
pool] with ``depth``, ``2 * depth`` and ``4 * depth`` channels, a 3x3 convolution to
``8 * depth`` channels with LeakyReLU and a 3x3 convolution to the latent channels without
activation. The decoder mirrors it: three blocks of [3x3 conv, LeakyReLU, 3x3 conv, LeakyReLU,
2x nearest-neighbour upsampling] with ``4 * depth``, ``2 * depth`` and ``depth`` channels, a
3x3 convolution to ``depth`` channels with LeakyReLU and a linear 3x3 convolution to the image
channels. The critic has the encoder's architecture and outputs the mean of its final map.

The modules take and return flat rows ``[B, C * H * W]`` (codes ``[B, latent_dim]``), like every
autoencoder of :mod:`skdeepclust.nn.autoencoders`, so the training loops never see the image
layout. The three poolings need a side that is a multiple of 8 (see :func:`working_side`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoders import Autoencoder, mlp

__all__ = [
    "Critic",
    "build_conv_autoencoder",
    "build_critic",
    "build_mlp_critic",
    "init_acai_",
    "working_side",
]

NEGATIVE_SLOPE = 0.2
N_SCALES = 3
# Below this side the deepest map would be 1x1 (3x3 kernels see only zero padding), so smaller
# images are enlarged rather than padded: 8x8 digits are encoded at 16x16.
MIN_SIDE = 16


def working_side(side: int) -> int:
    """Side at which an image of side ``side`` is encoded.

    The policy: sides below 16 are resized bilinearly to 16 (8x8 digits become 16x16); larger
    sides are zero-padded at the bottom and right to the next multiple of 8 (28x28 MNIST becomes
    32x32); multiples of 8 from 16 up are used as they are. The decoder maps back to the input
    size (resizing back, or cropping the padding), so reconstructions have the input's shape.
    """
    if side < MIN_SIDE:
        return MIN_SIDE
    return 8 * math.ceil(side / 8)


def init_acai_(module: nn.Module) -> nn.Module:
    """ACAI's initialisation: weights ~ N(0, 1 / ((1 + 0.2^2) * fan_in)), zero biases.

    ``fan_in`` is the number of inputs of one output unit (``in_channels * kh * kw`` for a
    convolution). The MCDC paper's Eq. 10 prints the He variant, with a factor 2 in the
    variance; skdeepclust keeps ACAI's factor 1.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            fan_in = layer.weight[0].numel()
            nn.init.normal_(layer.weight, std=1.0 / math.sqrt((1 + NEGATIVE_SLOPE**2) * fan_in))
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def _conv(n_in: int, n_out: int, kernel_size: int = 3) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, kernel_size, padding=kernel_size // 2)


def _activation() -> nn.LeakyReLU:
    return nn.LeakyReLU(NEGATIVE_SLOPE)


def _block(n_in: int, n_out: int, resample: nn.Module) -> list[nn.Module]:
    return [_conv(n_in, n_out), _activation(), _conv(n_out, n_out), _activation(), resample]


def _latent_grid(image_shape: tuple[int, int, int], latent_dim: int) -> tuple[int, int]:
    """(latent channels, side of the latent map) for an image shape and a latent size."""
    grid = working_side(max(image_shape[1:])) // 2**N_SCALES
    if latent_dim % (grid * grid):
        raise ValueError(
            f"latent_dim={latent_dim} must be a multiple of {grid * grid} for images of shape "
            f"{tuple(image_shape)}: they are encoded at "
            f"{working_side(max(image_shape[1:]))}x{working_side(max(image_shape[1:]))} into a "
            f"{grid}x{grid} latent map."
        )
    return latent_dim // (grid * grid), grid


def _check_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (channels, height, width), got {image_shape!r}.")
    return shape


class ConvEncoder(nn.Module):
    """ACAI encoder on flat rows: ``[B, C * H * W] -> [B, latent_dim]``.

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
    latent_dim : int
        Size of the flat code; a multiple of the latent map's area (see :func:`working_side`).
    depth : int
        Channels of the first block.
    """

    def __init__(self, image_shape: Sequence[int], *, latent_dim: int, depth: int):
        super().__init__()
        self.image_shape = _check_shape(image_shape)
        channels, height, width = self.image_shape
        self.side = working_side(max(height, width))
        latent_channels, _ = _latent_grid(self.image_shape, latent_dim)
        layers: list[nn.Module] = [_conv(channels, depth, kernel_size=1)]
        n_in = depth
        for scale in range(N_SCALES):
            layers += _block(n_in, depth << scale, nn.AvgPool2d(2))
            n_in = depth << scale
        layers += [_conv(n_in, depth << N_SCALES), _activation()]
        layers.append(_conv(depth << N_SCALES, latent_channels))
        self.layers = nn.Sequential(*layers)
        init_acai_(self)

    def _to_working_size(self, x: torch.Tensor) -> torch.Tensor:
        height, width = self.image_shape[1:]
        if max(height, width) < MIN_SIDE:
            return F.interpolate(x, size=(self.side, self.side), mode="bilinear")
        return F.pad(x, (0, self.side - width, 0, self.side - height))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = self._to_working_size(x.view(-1, *self.image_shape))
        return self.layers(images).flatten(1)


class ConvDecoder(nn.Module):
    """ACAI decoder on flat rows: ``[B, latent_dim] -> [B, C * H * W]`` (linear output).

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
        Shape of the images to produce.
    latent_dim : int
    depth : int
        Channels of the last block (the encoder's first).
    """

    def __init__(self, image_shape: Sequence[int], *, latent_dim: int, depth: int):
        super().__init__()
        self.image_shape = _check_shape(image_shape)
        channels, height, width = self.image_shape
        self.side = working_side(max(height, width))
        self.latent_channels, self.grid = _latent_grid(self.image_shape, latent_dim)
        layers: list[nn.Module] = []
        n_in = self.latent_channels
        for scale in reversed(range(N_SCALES)):
            layers += _block(n_in, depth << scale, nn.Upsample(scale_factor=2, mode="nearest"))
            n_in = depth << scale
        layers += [_conv(n_in, depth), _activation(), _conv(depth, channels)]
        self.layers = nn.Sequential(*layers)
        init_acai_(self)

    def _to_image_size(self, y: torch.Tensor) -> torch.Tensor:
        height, width = self.image_shape[1:]
        if max(height, width) < MIN_SIDE:
            return F.interpolate(y, size=(height, width), mode="bilinear")
        return y[:, :, :height, :width]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        maps = z.view(-1, self.latent_channels, self.grid, self.grid)
        return self._to_image_size(self.layers(maps)).flatten(1)


class Critic(nn.Module):
    """A scalar critic: the mean of the final features of ``body``.

    Parameters
    ----------
    body : nn.Module
        Maps flat rows ``[B, n_features]`` to ``[B, m]``.
    """

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(1)


def build_conv_autoencoder(
    image_shape: Sequence[int], *, latent_dim: int, depth: int = 16
) -> Autoencoder:
    """The ACAI convolutional autoencoder on flat rows.

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
        Layout of the flat input rows (channel-major, as ``x.reshape(C, H, W)``).
    latent_dim : int
        Size of the flat code: latent channels times the area of the latent map, which is
        ``(working_side(side) / 8)^2`` (4 for 8x8 digits, 16 for 28x28 or 32x32 images).
    depth : int, default=16
        Channels of the first block (16 for MNIST in the papers, 64 for colour images).

    Returns
    -------
    Autoencoder
        ``encoder: [B, C*H*W] -> [B, latent_dim]``, ``decoder: [B, latent_dim] -> [B, C*H*W]``.

    Examples
    --------
    >>> import torch
    >>> from skdeepclust.nn.conv import build_conv_autoencoder
    >>> ae = build_conv_autoencoder((1, 28, 28), latent_dim=32, depth=4)
    >>> z, reconstruction = ae(torch.zeros(5, 784))
    >>> tuple(z.shape), tuple(reconstruction.shape)
    ((5, 32), (5, 784))
    """
    return Autoencoder(
        ConvEncoder(image_shape, latent_dim=latent_dim, depth=depth),
        ConvDecoder(image_shape, latent_dim=latent_dim, depth=depth),
    )


def build_critic(image_shape: Sequence[int], *, latent_dim: int, depth: int = 16) -> Critic:
    """ACAI's critic for images: the encoder's architecture, output the mean of its final map.

    Parameters
    ----------
    image_shape : tuple (channels, height, width)
    latent_dim : int
        Size of the final map (as for the encoder).
    depth : int, default=16

    Returns
    -------
    Critic
        ``[B, C*H*W] -> [B]``.
    """
    return Critic(ConvEncoder(image_shape, latent_dim=latent_dim, depth=depth))


def build_mlp_critic(n_features: int, *, hidden_dims: Sequence[int], latent_dim: int) -> Critic:
    """The critic for flat data: the MLP encoder's architecture, with LeakyReLU(0.2).

    Parameters
    ----------
    n_features : int
    hidden_dims : sequence of int
        Hidden widths (those of the MLP encoder).
    latent_dim : int
        Width of the final layer, whose mean is the output.

    Returns
    -------
    Critic
        ``[B, n_features] -> [B]``.
    """
    body = mlp(
        [n_features, *hidden_dims, latent_dim],
        activation=partial(nn.LeakyReLU, NEGATIVE_SLOPE),
    )
    return Critic(init_acai_(body))
