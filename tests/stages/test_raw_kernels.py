"""The mosaic stages' numba kernels agree with their plain numpy twins."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages import levels, white_balance
from lumatune.stages._cfa import affine_per_position
from lumatune.stages._raw_kernels import affine_per_position_fast

AGREEMENT = 1e-6  # relative: the same float32 arithmetic in both, up to fused multiply-add


@pytest.mark.parametrize("n", [2, 6])
@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("shape", [(12, 18), (13, 19), (7, 5)])
def test_affine_fast_matches_plain(n, dtype, shape):
    rng = np.random.default_rng(n + shape[1])
    mosaic = (rng.random(shape) * 16383).astype(dtype)
    offset = rng.random((n, n)) * 600
    scale = 1.0 / (15000 + rng.random((n, n)) * 1000)
    expected = affine_per_position(mosaic, offset, scale)
    got = affine_per_position_fast(mosaic, offset, scale)
    np.testing.assert_allclose(got, expected, rtol=AGREEMENT, atol=AGREEMENT)


def test_affine_fast_in_place_on_float_mosaic():
    rng = np.random.default_rng(1)
    mosaic = rng.random((10, 14), dtype=np.float32)
    gains = np.array([[2.0, 1.0], [1.0, 1.5]])
    expected = affine_per_position(mosaic, np.zeros((2, 2)), gains)
    result = affine_per_position_fast(mosaic, np.zeros((2, 2)), gains, out=mosaic)
    assert result is mosaic
    np.testing.assert_allclose(mosaic, expected, rtol=AGREEMENT)


@pytest.mark.parametrize("cfa", [np.array([[0, 1], [1, 2]]), np.array([[1, 2], [0, 1]])])
def test_white_balance_fast_matches_plain(cfa):
    rng = np.random.default_rng(2)
    mosaic = rng.random((16, 22), dtype=np.float32)
    gains = np.array([2.1, 1.0, 1.6])
    expected = white_balance.apply_white_balance(mosaic.copy(), (cfa, gains))
    got = white_balance.STAGE.process(mosaic, (cfa, gains))
    np.testing.assert_allclose(got, expected, rtol=AGREEMENT)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("black", [np.array(64.0), np.array([60.0, 64.0, 70.0])])
def test_levels_fast_matches_plain_on_a_linear_raw(dtype, black):
    rng = np.random.default_rng(3)
    data = (rng.random((9, 11, 3)) * 4000).astype(dtype)
    plan = levels.LevelsPlan(black=black, scale=1.0 / (4095.0 - black))
    expected = levels.normalise_levels(data, plan)
    got = levels.STAGE.process(data, plan)
    assert got.dtype == np.float32 and got.shape == data.shape
    np.testing.assert_allclose(got, expected, rtol=AGREEMENT, atol=AGREEMENT)


def test_white_balance_fast_matches_plain_on_a_linear_raw():
    rng = np.random.default_rng(4)
    image = rng.random((9, 11, 3), dtype=np.float32)
    gains = np.array([2.1, 1.0, 1.6])
    expected = white_balance.apply_white_balance(image.copy(), (None, gains))
    got = white_balance.STAGE.process(image, (None, gains))
    np.testing.assert_allclose(got, expected, rtol=AGREEMENT)
