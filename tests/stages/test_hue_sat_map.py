"""Hue/saturation map stage: identity tables change nothing; a hue shift moves hue by the table's amount."""

from __future__ import annotations

import numpy as np

from lumatune.stages.hue_sat_map import HueSatMap, apply_hue_sat_map, hsv_to_rgb, rgb_to_hsv

TOLERANCE = 1e-9


def _table(hue_shift=0.0, sat=1.0, val=1.0, hues=36, sats=9):
    table = np.empty((1, hues, sats, 3))
    table[...] = (hue_shift, sat, val)
    return HueSatMap(table)


def test_hsv_round_trip():
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (500, 3))
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, atol=TOLERANCE)


def test_identity_table_changes_nothing():
    rng = np.random.default_rng(2)
    xyz = rng.uniform(0.05, 0.9, (200, 3))
    np.testing.assert_allclose(apply_hue_sat_map(xyz, _table()), xyz, atol=1e-9)


def test_uniform_hue_shift_rotates_hue_and_keeps_greys():
    from lumatune.stages.hue_sat_map import MATRIX_PROPHOTO_TO_XYZ_D50

    rgb = np.array([[0.6, 0.3, 0.2], [0.4, 0.4, 0.4]])
    xyz = rgb @ MATRIX_PROPHOTO_TO_XYZ_D50.T
    shifted = apply_hue_sat_map(xyz, _table(hue_shift=30.0)) @ np.linalg.inv(MATRIX_PROPHOTO_TO_XYZ_D50).T
    before, after = rgb_to_hsv(rgb), rgb_to_hsv(shifted)
    np.testing.assert_allclose((after[0, 0] - before[0, 0]) * 60, 30.0, atol=1e-6)
    np.testing.assert_allclose(shifted[1], rgb[1], atol=1e-9)


def test_fast_kernel_agrees_with_plain_numpy():
    from lumatune.stages.hue_sat_map import STAGE, apply_hue_sat_map_rec2020

    rng = np.random.default_rng(3)
    table = np.stack(
        [rng.uniform(-20, 20, (36, 9)), rng.uniform(0.8, 1.2, (36, 9)), rng.uniform(0.9, 1.1, (36, 9))], axis=-1
    )
    table[:, 0] = (0.0, 1.0, 1.0)  # greys untouched, as calibrated tables are
    hsm = HueSatMap(table[None])
    rgb = rng.uniform(-0.02, 1.5, (40, 50, 3)).astype(np.float32)
    plain = apply_hue_sat_map_rec2020(rgb, hsm)
    fast = STAGE.process(rgb.copy(), hsm)
    np.testing.assert_allclose(fast, plain, atol=2e-5)
