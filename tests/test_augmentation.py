import pickle

import pytest
import torch

from skdeepclust.augmentation import (
    ImageAugmenter,
    affine_transform,
    infer_image_shape,
    random_affine,
)


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def blob(size=28, batch=3):
    """Smooth centred blobs, far enough from the border for small transforms."""
    coords = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    r2 = coords[:, None] ** 2 + coords[None, :] ** 2
    return torch.exp(-r2 / (2 * 3.0**2)).expand(batch, 1, size, size).clone()


def transform(x, rotation=0.0, shift=(0.0, 0.0), scale=1.0):
    batch = x.shape[0]
    return affine_transform(
        x,
        torch.full((batch,), rotation),
        torch.tensor([shift]).expand(batch, 2),
        torch.full((batch,), scale),
    )


def test_zero_ranges_are_identity():
    x = torch.rand(4, 2, 9, 7, generator=seeded())
    out = random_affine(x, max_rotation=0.0, max_shift=0.0, max_scale=0.0, generator=seeded())
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_device_preserved(dtype):
    x = torch.rand(5, 3, 8, 10, dtype=dtype)
    out = random_affine(x, max_scale=0.1, generator=seeded())
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_with_cpu_generator():
    x = torch.rand(4, 1, 8, 8, device="cuda")
    out = random_affine(x, generator=seeded())
    assert out.device == x.device
    torch.testing.assert_close(out.cpu(), random_affine(x.cpu(), generator=seeded()))


def test_fixed_seed_is_reproducible():
    x = torch.rand(6, 1, 8, 8, generator=seeded())
    first = random_affine(x, max_scale=0.1, generator=seeded(3))
    torch.testing.assert_close(first, random_affine(x, max_scale=0.1, generator=seeded(3)))
    assert not torch.allclose(first, random_affine(x, max_scale=0.1, generator=seeded(4)))


def test_each_image_gets_its_own_transform():
    x = blob(batch=8)
    out = random_affine(x, generator=seeded())
    assert not torch.allclose(out[0], out[1])


@pytest.mark.parametrize(("angle", "turns"), [(90.0, 1), (-90.0, -1), (180.0, 2)])
def test_right_angle_rotation_matches_rot90(angle, turns):
    # Positive angles turn the displayed content counter-clockwise, like rot90 with k > 0.
    x = torch.rand(2, 3, 6, 6, generator=seeded())
    expected = torch.rot90(x, turns, dims=(-2, -1))
    torch.testing.assert_close(transform(x, rotation=angle), expected, atol=1e-5, rtol=0)


def test_rotation_of_non_square_image_stays_a_rotation():
    pattern = torch.rand(1, 1, 4, 4, generator=seeded())
    x = torch.zeros(1, 1, 6, 10)
    x[..., 1:5, 3:7] = pattern
    expected = torch.zeros_like(x)
    expected[..., 1:5, 3:7] = torch.rot90(pattern, 1, dims=(-2, -1))
    torch.testing.assert_close(transform(x, rotation=90.0), expected, atol=1e-5, rtol=0)


def test_one_pixel_shift_matches_roll():
    x = torch.rand(2, 1, 5, 7, generator=seeded())
    right = torch.roll(x, 1, dims=-1)
    right[..., 0] = 0
    torch.testing.assert_close(transform(x, shift=(1 / 7, 0.0)), right, atol=1e-5, rtol=0)
    down = torch.roll(x, 1, dims=-2)
    down[..., 0, :] = 0
    torch.testing.assert_close(transform(x, shift=(0.0, 1 / 5)), down, atol=1e-5, rtol=0)


def test_small_transforms_roughly_preserve_mass():
    x = blob(batch=16)
    out = random_affine(x, max_rotation=12.0, max_shift=0.1, generator=seeded())
    torch.testing.assert_close(out.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=0.02, atol=0)


def test_scale_above_one_enlarges():
    x = blob()
    ratio = transform(x, scale=1.5).sum() / x.sum()
    assert ratio.item() == pytest.approx(1.5**2, rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_rotation": -1.0}, "max_rotation"),
        ({"max_shift": float("nan")}, "max_shift"),
        ({"max_scale": 1.0}, "max_scale"),
    ],
)
def test_bad_ranges(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_affine(torch.rand(1, 1, 8, 8), **kwargs)


@pytest.mark.parametrize(
    ("x", "match"),
    [(torch.rand(2, 8, 8), "4-D"), (torch.ones(2, 1, 8, 8, dtype=torch.int64), "floating")],
)
def test_bad_images(x, match):
    with pytest.raises(ValueError, match=match):
        random_affine(x)


def test_augmenter_round_trip_on_flat_rows():
    images = torch.rand(4, 2, 8, 6, generator=seeded())
    flat = images.reshape(4, -1)
    identity = ImageAugmenter((2, 8, 6), max_rotation=0.0, max_shift=0.0)
    torch.testing.assert_close(identity(flat), flat, atol=1e-6, rtol=0)
    augment = ImageAugmenter((2, 8, 6), max_scale=0.1)
    out = augment(flat, generator=seeded(1))
    assert out.shape == flat.shape
    expected = random_affine(images, max_scale=0.1, generator=seeded(1)).reshape(4, -1)
    torch.testing.assert_close(out, expected)


def test_augmenter_is_picklable():
    augment = ImageAugmenter((1, 8, 8), max_rotation=5.0)
    clone = pickle.loads(pickle.dumps(augment))
    x = torch.rand(3, 64, generator=seeded())
    torch.testing.assert_close(clone(x, seeded(2)), augment(x, seeded(2)))
    assert repr(clone) == repr(augment)


def test_augmenter_wrong_feature_count():
    augment = ImageAugmenter((1, 8, 8))
    with pytest.raises(ValueError, match=r"1\*8\*8 = 64 features, got input of shape \(2, 63\)"):
        augment(torch.rand(2, 63))


@pytest.mark.parametrize("shape", [(8, 8), (1, 0, 8), (1, 8.0, 8)])
def test_augmenter_bad_image_shape(shape):
    with pytest.raises(ValueError, match="image_shape"):
        ImageAugmenter(shape)


@pytest.mark.parametrize(
    ("n_features", "expected"),
    [(64, (1, 8, 8)), (784, (1, 28, 28)), (49, None), (65, None), (0, None)],
)
def test_infer_image_shape(n_features, expected):
    assert infer_image_shape(n_features) == expected


@pytest.mark.parametrize("shape", [(8, 8), (28, 28), (5, 12)])
def test_sampling_grid_equals_torch_affine_grid(shape):
    from skdeepclust.augmentation import _affine_grid

    height, width = shape
    theta = torch.randn(6, 2, 3, generator=torch.Generator().manual_seed(0))
    expected = torch.nn.functional.affine_grid(theta, [6, 1, height, width], align_corners=False)
    torch.testing.assert_close(_affine_grid(theta, height, width), expected)
