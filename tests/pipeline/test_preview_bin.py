"""The preview's compiled binning agrees with its plain numpy twin."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.pipeline.preview import _bin, _bin_fast

AGREEMENT = 1e-6  # relative; the sums are the same, their order differs

BAYER = np.array([[0, 1], [1, 2]])
XTRANS = np.array([
    [1, 1, 0, 1, 1, 2], [1, 1, 2, 1, 1, 0], [2, 0, 1, 0, 2, 1],
    [1, 1, 2, 1, 1, 0], [1, 1, 0, 1, 1, 2], [0, 2, 1, 2, 0, 1],
])


@pytest.mark.parametrize("cfa, n", [(BAYER, 2), (np.roll(BAYER, 1, axis=1), 2), (XTRANS, 3)])
@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_bin_fast_matches_plain(cfa, n, dtype):
    rng = np.random.default_rng(5)
    values = (rng.random((25, 37)) * 4000).astype(dtype)
    expected = _bin(values, cfa, n)
    got = _bin_fast(values, cfa, n)
    assert got.shape == expected.shape == (25 // n, 37 // n, 3)
    np.testing.assert_allclose(got, expected, rtol=AGREEMENT)
