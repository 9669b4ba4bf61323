"""Sharpen: flat areas stay flat, edges gain contrast with the amount, small noise is spared by the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages.sharpen import SharpenParams, sharpen, sharpen_plan


def _edge() -> np.ndarray:
    image = np.full((64, 64, 3), 0.3, np.float32)
    image[:, 32:] = 0.6
    return image


def _plan(shape=(64, 64, 3), **kw):
    return sharpen_plan(SharpenParams(**kw), shape, "srgb")


def test_zero_amounts_make_no_plan():
    assert _plan() is None


def test_flat_image_is_unchanged():
    flat = np.full((32, 32, 3), 0.4, np.float32)
    np.testing.assert_allclose(sharpen(flat, _plan(amount=1.0, local_contrast=0.5)), flat, atol=1e-6)


@pytest.mark.parametrize("amount", [0.5, 1.5])
def test_edge_overshoot_grows_with_amount(amount):
    out = sharpen(_edge(), _plan(amount=amount, threshold=0.0))
    weak = sharpen(_edge(), _plan(amount=amount / 2, threshold=0.0))
    assert out[:, 32:, 1].max() > weak[:, 32:, 1].max() > 0.6
    assert out[:, :32, 1].min() < weak[:, :32, 1].min() < 0.3
    np.testing.assert_allclose(np.ptp(out, axis=-1), 0.0, atol=1e-6)  # same change in every channel


def test_threshold_spares_small_noise_but_not_edges():
    rng = np.random.default_rng(0)
    noisy = (_edge() + rng.normal(0, 0.002, (64, 64, 1))).astype(np.float32)
    plan = _plan(amount=1.0, threshold=0.02)
    out = sharpen(noisy, plan)
    flat = slice(8, 24)
    assert np.std(out[flat, flat, 1]) < 1.1 * np.std(noisy[flat, flat, 1])
    assert out[:, 32:, 1].max() > 0.62


def test_local_contrast_widens_large_scale_differences():
    image = np.full((128, 128, 3), 0.4, np.float32)
    image[:, 64:] = 0.5
    out = sharpen(image, _plan((128, 128, 3), local_contrast=1.0, local_contrast_radius=0.05))
    assert out[64, 60, 1] < 0.4 and out[64, 68, 1] > 0.5


