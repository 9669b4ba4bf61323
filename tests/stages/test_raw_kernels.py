"""The mosaic stages' numba kernels: in place, on partial CFA maps, and while numba starts (their agreement with
the plain numpy twins: test_twins.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages import levels
from lumatune.stages._cfa import affine_per_position, affine_per_position_fast

def test_affine_fast_in_place_on_float_mosaic():
    rng = np.random.default_rng(1)
    mosaic = rng.random((10, 14), dtype=np.float32)
    gains = np.array([[2.0, 1.0], [1.0, 1.5]])
    expected = affine_per_position(mosaic, np.zeros((2, 2)), gains)
    result = affine_per_position_fast(mosaic, np.zeros((2, 2)), gains, out=mosaic)
    assert result is mosaic
    np.testing.assert_array_equal(mosaic, expected)  # fastmath=False: bit for bit


def _falloff(size):
    ys, xs = np.mgrid[0 : size[0], 0 : size[1]] / np.array([size[0] - 1, size[1] - 1])[:, None, None]
    return (1.0 + 0.8 * ((xs - 0.5) ** 2 + (ys - 0.5) ** 2)).astype(np.float32)


@pytest.mark.parametrize("strength", [1.0, 0.4])
@pytest.mark.parametrize("channels, shape", [((0, 1), (37, 53)), ((0, 3), (37, 53, 3)), ((1, 2), (20, 30, 3))])
def test_lens_shading_fast_changes_only_the_rows_of_its_parts(strength, channels, shape):
    from lumatune.stages.lens_shading import _part, apply_gain_parts_fast

    grid = _falloff((7, 9))
    rows = np.arange(1, shape[0], 2)  # the odd rows only, as one Bayer row phase's maps
    parts = []
    for first_col, g in ((0, grid), (1, grid[::-1])):
        cols = np.arange(first_col, shape[1], 2)
        u = cols / (shape[1] - 1) * 8 + 0.3  # beyond the grid's right edge near the end: clamped
        parts.append(_part(g, rows / (shape[0] - 1) * 6, u, (1, 2), (first_col, 2), channels, strength))
    original = np.random.default_rng(6).random(shape, dtype=np.float32)
    got = apply_gain_parts_fast(original.copy(), parts)
    assert np.array_equal(got[0::2], original[0::2])  # rows no part covers are untouched
    assert not np.allclose(got[1::2], original[1::2])


def test_tuning_grids_give_the_old_full_resolution_gain():
    """The separable parts of calibrated grids equal gain_from_grid's full map, CFA position by position."""
    from types import SimpleNamespace

    from lumatune.stages.base import Frame
    from lumatune.stages.lens_shading import LensShadingParams, _plan, gain_from_grid, gain_map

    shape = (26, 38)
    grids = {"r": _falloff((5, 7)), "g": _falloff((5, 7)) * 0.9 + 0.1, "b": _falloff((5, 7))[::-1]}
    cfa = np.array([[1, 2], [0, 1]])
    raw = SimpleNamespace(cfa=cfa)  # the only field the tuning grids read
    parts = _plan(LensShadingParams(gains={k: v.tolist() for k, v in grids.items()}), Frame(raw=raw),
                  np.zeros(shape, np.float32))
    expected = np.empty(shape, np.float32)
    for i in range(2):
        for j in range(2):
            expected[i::2, j::2] = gain_from_grid(grids["rgb"[cfa[i, j]]], shape)[i::2, j::2]
    np.testing.assert_allclose(gain_map(parts, shape), expected, rtol=1e-6)


def test_levels_while_numba_starts_gives_the_same_floats(monkeypatch):
    import lumatune.runtime.numba

    rng = np.random.default_rng(8)
    mosaic = (rng.random((14, 22)) * 16383).astype(np.uint16)
    plan = levels.LevelsPlan(black=np.array([[512.0, 500.0], [505.0, 498.0]]), scale=np.full((2, 2), 1 / 15871.0))
    fast = levels.STAGE.process(mosaic, plan)
    monkeypatch.setattr(lumatune.runtime.numba, "numba_ready", lambda: False)
    plain = levels.STAGE.process(mosaic, plan)
    np.testing.assert_array_equal(plain, fast)
