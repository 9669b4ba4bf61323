"""The default tuning interpolates a DNG's two colour matrices by the colour temperature of the white.

A made-up camera responds differently under Std A and D65 (two different XYZ -> camera matrices), as
real cameras' profiles do. A chart lit by A is written with both matrices; the DNG colour model must pick the
A matrix (the white's CCT is ~2856 K) and render the chart's D65-adapted colours, where using the D65 matrix
alone would not.
"""

from __future__ import annotations

import numpy as np

import lumatune
from lumatune.io.dng import cfa_pattern_array, write_dng
from synthetic import PATCHES, SRGB_TO_XYZ, patch_boxes, scene_srgb

#: Bradford cone response matrix (Lam 1985), and white points (CIE 1931, 2 degrees).
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
WHITE_A = np.array([1.09850, 1.0, 0.35585])
CAMERA_D65 = np.array([[1.35, -0.35, -0.12], [-0.45, 1.30, 0.14], [0.05, -0.22, 1.05]])
CAMERA_A = np.array([[1.10, -0.10, -0.05], [-0.50, 1.45, 0.05], [0.10, -0.35, 1.30]])
TOLERANCE = 0.03  # relative, linear sRGB


def bradford(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    cone_src, cone_dst = BRADFORD @ src, BRADFORD @ dst
    return np.linalg.inv(BRADFORD) @ np.diag(cone_dst / cone_src) @ BRADFORD


def _chart_under_a(path, exposure=0.5):
    xyz_d65 = scene_srgb() @ SRGB_TO_XYZ.T
    xyz_a = xyz_d65 @ bradford(WHITE_D65, WHITE_A).T
    camera = xyz_a @ CAMERA_A.T
    white = CAMERA_A @ WHITE_A
    signal = camera / white.max() * exposure
    pattern = cfa_pattern_array("RGGB")
    rows, cols = np.indices(signal.shape[:2])
    black = 256  # a made-up matrix gives a few slightly negative responses: keep them above 0 DN
    mosaic = np.rint(black + signal[rows, cols, pattern[rows % 2, cols % 2]] * (4095 - black))
    return write_dng(
        path, np.clip(mosaic, 0, 4095).astype(np.uint16), black_level=black, white_level=4095, color_matrix_1=CAMERA_A, calibration_illuminant_1=17,
        color_matrix_2=CAMERA_D65, calibration_illuminant_2=21, as_shot_neutral=white / white.max(),
    )


def _linear_patches(image):
    linear = np.where(image <= 0.04045, image / 12.92, ((image + 0.055) / 1.055) ** 2.4)
    return np.array([linear[y0:y1, x0:x1].reshape(-1, 3).mean(0) for x0, y0, x1, y1 in patch_boxes()])


def test_tungsten_chart_uses_the_tungsten_matrix(tmp_path):
    path = _chart_under_a(tmp_path / "a.dng")
    raw = lumatune.open_raw(path)
    measured = _linear_patches(lumatune.develop(raw, look="neutral"))
    scale = PATCHES[:3, 1].sum() / measured[:3, 1].sum()  # one exposure scale fitted on the grey patches
    np.testing.assert_allclose(measured * scale, PATCHES, rtol=TOLERANCE, atol=0.003)


def test_single_d65_matrix_would_be_wrong_here(tmp_path):
    """The control: the same raw with only the D65 matrix renders the chart measurably wrong."""
    import dataclasses

    raw = lumatune.open_raw(_chart_under_a(tmp_path / "a.dng"))
    d65_only = dataclasses.replace(
        raw.dng, color_matrix_1=raw.dng.color_matrix_2, calibration_illuminant_1=21, color_matrix_2=None,
        calibration_illuminant_2=None,
    )
    measured = _linear_patches(lumatune.develop(raw.replace(dng=d65_only), look="neutral"))
    scale = PATCHES[:3, 1].sum() / measured[:3, 1].sum()
    assert np.max(np.abs(measured * scale - PATCHES) / (PATCHES + 0.01)) > 3 * TOLERANCE
