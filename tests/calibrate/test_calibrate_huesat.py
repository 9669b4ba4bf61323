"""The hue/saturation table: DNG HSV conventions, identity, and a fit that lowers ΔE00 where a matrix cannot."""

from __future__ import annotations

import numpy as np

from lumatune.calibrate.huesat import HueSatMap, apply_hue_sat_map, fit_hue_sat_map, hsv_to_rgb, rgb_to_hsv


def test_hsv_round_trip_and_dng_hue_range():
    rgb = np.random.default_rng(1).uniform(0, 1, (200, 3))
    hsv = rgb_to_hsv(rgb)
    assert hsv[:, 0].min() >= 0 and hsv[:, 0].max() < 6
    np.testing.assert_allclose(hsv_to_rgb(hsv), rgb, atol=1e-12)
    np.testing.assert_allclose(rgb_to_hsv(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))[:, 0], [0.0, 4.0])


def test_identity_table_changes_nothing():
    table = np.zeros((1, 12, 5, 3), dtype=np.float32)
    table[..., 1:] = 1.0
    xyz = np.random.default_rng(2).uniform(0.05, 0.9, (50, 3))
    np.testing.assert_allclose(apply_hue_sat_map(xyz, HueSatMap(table)), xyz, atol=1e-9)


def test_fit_undoes_a_hue_rotation():
    from lumatune.calibrate.colour import delta_e00
    from lumatune.calibrate.reference import chart_reference_xyz
    from lumatune.colour.spaces import MATRIX_D50_TO_D65_BRADFORD, MATRIX_D65_TO_D50_BRADFORD, XYZ_to_Lab

    reference = chart_reference_xyz("D65")
    table = np.zeros((1, 36, 9, 3), dtype=np.float32)
    table[..., 0] = 6.0 * np.linspace(0, 1, 9).clip(0, 0.25) / 0.25  # a 6 degree rotation of saturated colours
    table[..., 1:] = 1.0
    distorted = (
        apply_hue_sat_map(reference @ MATRIX_D65_TO_D50_BRADFORD.T, HueSatMap(table)) @ MATRIX_D50_TO_D65_BRADFORD.T
    )
    before = delta_e00(XYZ_to_Lab(distorted), XYZ_to_Lab(reference)).mean()
    _, after = fit_hue_sat_map(distorted, reference, 1.0)
    assert after.mean() < 0.5 * before
