"""Grain: reproducible from the seed, zero-mean, as strong as asked at mid grey, weaker in deep shadows, sized."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages.grain import (
    GrainParams,
    GrainPlan,
    add_grain,
    add_grain_fast,
    grain_field,
    grain_noise,
    grain_plan,
)

STD_TOLERANCE = 0.1
"""Relative error allowed on the measured grain strength (a 256 x 256 sample of a random field)."""


def _plan(shape=(256, 256, 3), **kw):
    return grain_plan(GrainParams(**kw), shape, "srgb")


def test_zero_amount_makes_no_plan():
    assert _plan() is None


def test_same_seed_same_grain_other_seed_other_grain():
    a, b = grain_noise((64, 80), 7, 0), grain_noise((64, 80), 7, 0)
    np.testing.assert_array_equal(a, b)
    assert np.corrcoef(a.ravel(), grain_noise((64, 80), 8, 0).ravel())[0, 1] < 0.05
    assert np.corrcoef(a.ravel(), grain_noise((64, 80), 7, 1).ravel())[0, 1] < 0.05


def test_white_noise_is_uniform_and_centred():
    noise = grain_noise((256, 256), 0, 0)
    assert -0.5 <= noise.min() and noise.max() < 0.5
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(1 / np.sqrt(12), rel=0.02)


@pytest.mark.parametrize("size, roughness", [(10.0, 0.0), (30.0, 0.5), (60.0, 1.0)])
def test_field_has_unit_variance(size, roughness):
    field = grain_field((256, 256), _plan((4000, 6000, 3), amount=0.1, size=size, roughness=roughness))
    assert field.std() == pytest.approx(1.0, rel=STD_TOLERANCE)


def test_bigger_grain_is_more_correlated_between_neighbours():
    def neighbour_correlation(size):
        plan = _plan((4000, 6000, 3), amount=0.1, size=size, roughness=0.0)  # a 24 MP picture's grain
        field = grain_field((256, 256), plan)
        return np.corrcoef(field[:, :-1].ravel(), field[:, 1:].ravel())[0, 1]

    assert neighbour_correlation(80.0) > neighbour_correlation(20.0) > 0.1


def test_strength_peaks_at_mid_grey_and_mean_is_kept():
    grey = np.full((256, 256, 3), 0.5, np.float32)
    dark = np.full((256, 256, 3), 0.03, np.float32)
    plan = _plan(amount=0.05)
    out_grey, out_dark = add_grain(grey, plan), add_grain(dark, plan)
    assert out_grey[..., 0].std() == pytest.approx(0.05, rel=STD_TOLERANCE)
    assert out_dark[..., 0].std() < 0.5 * out_grey[..., 0].std()
    assert abs(out_grey.mean() - 0.5) < 0.002
    np.testing.assert_allclose(np.ptp(out_grey, axis=-1), 0.0, atol=1e-6)  # luminance grain


def test_fast_pass_agrees_with_plain_and_is_reproducible():
    image = np.random.default_rng(0).random((96, 128, 3), dtype=np.float32)
    plan = _plan(image.shape, amount=0.05, size=40.0, roughness=0.5, seed=3)
    fast = add_grain_fast(image.copy(), plan)
    np.testing.assert_allclose(fast, add_grain(image, plan), atol=1e-6)
    np.testing.assert_array_equal(fast, add_grain_fast(image.copy(), plan))


@pytest.mark.parametrize("sigma", [0.2, 1.5, 3.0])  # no blur; a blur reaching 6 and 12 rows
def test_grain_of_a_band_is_that_band_of_the_whole_image(sigma):
    plan = GrainPlan(amount=0.1, sigma=sigma, roughness=0.5, seed=3, luma=np.array([0.2, 0.7, 0.1]), height=64)
    whole = grain_field((64, 80), plan)
    for first, last in [(0, 5), (5, 30), (30, 63), (63, 64)]:
        band = grain_field((last - first, 80), plan, first, 64)
        np.testing.assert_array_equal(band, whole[first:last])
