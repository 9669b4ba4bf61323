"""Vignette: the centre is untouched, the corners change by the amount, the shape follows roundness."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages.vignette import (
    VignetteParams,
    apply_vignette,
    apply_vignette_band,
    apply_vignette_fast,
    vignette_plan,
)


def _plan(shape=(120, 180, 3), **kw):
    return vignette_plan(VignetteParams(**kw), shape)


def test_zero_amount_makes_no_plan():
    assert _plan() is None


@pytest.mark.parametrize("amount", [-1.0, -0.4])
def test_darkens_corners_by_the_amount_and_keeps_the_centre(amount):
    image = np.full((120, 180, 3), 0.5, np.float32)
    out = apply_vignette(image, _plan(amount=amount, midpoint=0.5, feather=0.5))
    assert out[60, 90, 0] == pytest.approx(0.5)
    assert out[0, 0, 0] == pytest.approx(0.5 * (1 + amount), abs=0.01)


def test_positive_amount_lightens_towards_white():
    out = apply_vignette(np.full((120, 180, 3), 0.5, np.float32), _plan(amount=0.5, midpoint=0.3, feather=0.4))
    assert out[0, 0, 0] == pytest.approx(0.75, abs=0.01) and out[60, 90, 0] == pytest.approx(0.5)


def test_roundness_one_is_a_circle_and_zero_follows_the_frame():
    image = np.full((120, 240, 3), 1.0, np.float32)
    circle = apply_vignette(image, _plan(image.shape, amount=-1.0, roundness=1.0, feather=1.0))
    ellipse = apply_vignette(image, _plan(image.shape, amount=-1.0, roundness=0.0, feather=1.0))
    assert circle[60, 120 + 50, 0] == pytest.approx(circle[60 + 50, 120, 0], abs=0.01)  # same distance, same value
    assert ellipse[60, 120 + 100, 0] == pytest.approx(ellipse[60 + 50, 120, 0], abs=0.02)  # same fraction of axes


def test_vignette_of_a_band_is_that_band_of_the_whole_image():
    plan = _plan(amount=-0.7, midpoint=0.3)
    image = np.random.default_rng(9).random((120, 180, 3), dtype=np.float32)
    whole = apply_vignette_fast(image.copy(), plan)
    for first, last in [(0, 7), (7, 60), (60, 120)]:
        band = apply_vignette_band(image[first:last].copy(), plan, first)
        np.testing.assert_array_equal(band, whole[first:last])
