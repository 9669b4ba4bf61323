"""Colour accuracy self-validation: perfect renderings, exposure fit, AWB angle, chart location."""

from __future__ import annotations

import sys
import types

import colour
import cv2
import numpy as np
import pytest
import tifffile
from lab.lab_synthetic import (
    CELL,
    COLUMNS,
    NEUTRALS,
    ROWS,
    chart_linear,
    chart_truth,
    colorchecker_d65,
    encode,
    icc_with_description,
    rotation_about_neutral_normal,
    xyz_to_linear_rgb,
)
from PIL import Image

from lumatune.errors import UnreadableInputError
from lumatune.lab.colour import (
    awb_angular_error_deg,
    chart_quads_from_corners,
    colour_differences,
    fit_exposure_scale,
    quad_pixels,
)
from lumatune.lab.measure import measure

PERFECT_DE00 = 0.05
"""ΔE2000 a perfect rendering may show (the issue's bound)."""
SCALE_TOLERANCE = 1e-4
ANGLE_TOLERANCE_DEG = 1e-3
SHARMA_TOLERANCE = 1e-4


def _de00(result: dict, only_in_gamut: bool) -> np.ndarray:
    return np.array([p["de00"] for p in result["patches"] if p["in_gamut"] or not only_in_gamut])


def test_ciede2000_matches_sharma_2005_test_data():
    # Pairs 1 and 17 of Sharma, Wu and Dalal (2005), table 1.
    de = colour_differences([[50, 2.6772, -79.7751], [50, 2.5, 0]], [[50, 0, -82.7485], [73, 25, -18]])["de00"]
    np.testing.assert_allclose(de, [2.0425, 27.1492], atol=SHARMA_TOLERANCE)


def test_perfect_float_rendering_srgb_has_no_error_on_any_patch():
    result = measure(encode(chart_linear("srgb"), None), chart_truth(), space="srgb")
    assert _de00(result, only_in_gamut=False).max() <= PERFECT_DE00
    assert result["de00_mean"] <= PERFECT_DE00


def test_cyan_is_the_only_patch_outside_srgb_and_8bit_clipping_shows_it(tmp_path):
    path = tmp_path / "chart8.png"
    Image.fromarray(encode(chart_linear("srgb"), 8)).save(path)
    result = measure(path, chart_truth())
    assert result["space"] == "srgb" and result["bit_depth"] == 8
    outside = [p["name"] for p in result["patches"] if not p["in_gamut"]]
    assert outside == ["cyan"]
    assert _de00(result, only_in_gamut=True).max() <= PERFECT_DE00
    assert result["de00_max"] > 1.0  # the clipped cyan


def test_perfect_16bit_png_srgb(tmp_path):
    path = tmp_path / "chart16.png"
    cv2.imwrite(str(path), encode(chart_linear("srgb"), 16)[:, :, ::-1])
    result = measure(path, chart_truth())
    assert result["bit_depth"] == 16
    assert _de00(result, only_in_gamut=True).max() <= PERFECT_DE00


def test_perfect_8bit_display_p3_png_found_by_its_icc_profile(tmp_path):
    path = tmp_path / "chart_p3.png"
    Image.fromarray(encode(chart_linear("p3"), 8)).save(path, icc_profile=icc_with_description("Display P3"))
    result = measure(path, chart_truth())
    assert result["space"] == "p3"
    assert _de00(result, only_in_gamut=False).max() <= PERFECT_DE00


def test_perfect_16bit_display_p3_tiff_with_v4_profile(tmp_path):
    path = tmp_path / "chart_p3.tif"
    profile = icc_with_description("Display P3 (lumatune)", version=4)
    icc_tag = (34675, 7, len(profile), profile, True)  # InterColorProfile, UNDEFINED bytes
    tifffile.imwrite(path, encode(chart_linear("p3"), 16), photometric="rgb", extratags=[icc_tag])
    result = measure(path, chart_truth())
    assert result["space"] == "p3"
    assert _de00(result, only_in_gamut=False).max() <= PERFECT_DE00


def test_p3_rendering_read_as_srgb_is_measurably_wrong():
    codes = encode(chart_linear("p3"), None)
    assert measure(codes, chart_truth(), space="srgb")["de00_mean"] > 1.0


@pytest.mark.parametrize("scale", [0.5, 0.8])
def test_exposure_fit_recovers_a_known_scale(scale):
    result = measure(encode(chart_linear("p3") * scale, None), chart_truth(), space="p3")
    assert result["exposure_scale"] == pytest.approx(1 / scale, rel=SCALE_TOLERANCE)
    assert result["de00_max"] <= PERFECT_DE00
    unfitted = measure(encode(chart_linear("p3") * scale, None), chart_truth(), space="p3", fit_exposure=False)
    assert unfitted["exposure_scale"] == 1.0 and unfitted["de00_mean"] > 1.0


def test_clipped_white_is_counted_and_left_out_of_the_exposure_fit():
    scale = 1.3  # the white patch (Y 0.9) and a few bright colours go past the largest code
    overexposed = np.minimum(chart_linear("srgb") * scale, 1.0)
    result = measure(encode(overexposed, 16), chart_truth(), space="srgb")
    over = (xyz_to_linear_rgb(colorchecker_d65()[1], "srgb") * scale).max(axis=1) > 1
    assert over[18] and not over[19:].any()  # of the greys, only the white
    assert [p["clipped_fraction"] == 1.0 for p in result["patches"]] == over.tolist()
    assert result["clipped_patches"] == over.sum()
    assert result["exposure_scale"] == pytest.approx(1 / scale, rel=SCALE_TOLERANCE)
    assert max(p["de00"] for p in result["patches"] if p["in_gamut"] and not p["clipped_fraction"]) <= PERFECT_DE00
    assert measure(encode(chart_linear("srgb"), 16), chart_truth(), space="srgb")["clipped_patches"] == 0


def test_fit_exposure_scale_is_least_squares():
    measured = np.array([1.0, 2.0, 3.0])
    reference = np.array([2.1, 3.9, 6.2])
    scale = fit_exposure_scale(measured, reference)
    residual = lambda k: np.sum((k * measured - reference) ** 2)  # noqa: E731
    assert residual(scale) < min(residual(scale - 1e-3), residual(scale + 1e-3))


@pytest.mark.parametrize("angle_deg", [1.0, 4.0])
def test_awb_error_of_a_tint_rotation_equals_the_rotation_angle(angle_deg):
    rotated = chart_linear("p3") @ rotation_about_neutral_normal(angle_deg).T
    result = measure(encode(rotated, None), chart_truth(), space="p3")
    assert result["awb_error_deg"] == pytest.approx(angle_deg, abs=ANGLE_TOLERANCE_DEG)
    neutral_rows = [p for p in result["patches"] if p["neutral"]]
    assert [p["awb_error_deg"] for p in neutral_rows] == pytest.approx([angle_deg] * 6, abs=ANGLE_TOLERANCE_DEG)


def test_tinted_reference_greys_leave_no_error_against_the_reference():
    xyz = colorchecker_d65(exact_neutrals=False)[1]
    truth = chart_truth(exact_neutrals=False)
    result = measure(encode(chart_linear("p3", xyz), None), truth, space="p3")
    grey_rgb = xyz_to_linear_rgb(xyz[NEUTRALS], "p3")
    expected = np.degrees(np.arccos(grey_rgb.sum(axis=1) / (np.sqrt(3) * np.linalg.norm(grey_rgb, axis=1))))
    assert result["awb_error_deg"] == pytest.approx(expected.mean(), abs=ANGLE_TOLERANCE_DEG)
    assert result["awb_error_deg"] > 0.2  # the real ColorChecker greys are not neutral
    assert result["awb_error_vs_reference_deg"] == pytest.approx(0, abs=ANGLE_TOLERANCE_DEG)


def test_awb_angle_of_gains_is_the_analytic_angle():
    gains = np.array([1.1, 1.0, 0.9])
    expected = np.degrees(np.arccos(gains.sum() / (np.sqrt(3) * np.linalg.norm(gains))))
    assert awb_angular_error_deg(gains * 0.4)[0] == pytest.approx(expected, abs=1e-9)


def _perspective_chart(corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Linear RGB image of the chart warped so its patch grid lands on ``corners`` (no gaps)."""
    rgb = xyz_to_linear_rgb(colorchecker_d65()[1], "srgb")
    grid = np.float32([[0, 0], [COLUMNS, 0], [COLUMNS, ROWS], [0, ROWS]])
    inverse = np.linalg.inv(cv2.getPerspectiveTransform(grid, corners.astype(np.float32)))
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]] + 0.5
    points = np.stack([xs, ys, np.ones_like(xs)], axis=-1) @ inverse.T
    gx, gy = points[..., 0] / points[..., 2], points[..., 1] / points[..., 2]
    inside = (gx >= 0) & (gx < COLUMNS) & (gy >= 0) & (gy < ROWS)
    index = np.clip(gy.astype(int), 0, ROWS - 1) * COLUMNS + np.clip(gx.astype(int), 0, COLUMNS - 1)
    return np.where(inside[..., None], rgb[index], 0.05)


def test_chart_located_by_its_corners_in_perspective():
    corners = np.array([[20.0, 15.0], [190.0, 30.0], [180.0, 140.0], [30.0, 128.0]])
    image = _perspective_chart(corners, (210, 160))
    truth = chart_truth()
    del truth["image_size"]
    for patch in truth["patches"]:
        del patch["box"]
    result = measure(encode(image, None), truth, space="srgb", chart_corners=corners)
    assert _de00(result, only_in_gamut=False).max() <= PERFECT_DE00


def test_quad_pixels_of_an_axis_aligned_quad_is_the_box():
    image = np.arange(10 * 12 * 1, dtype=float).reshape(10, 12, 1)
    quad = np.array([[3, 2], [8, 2], [8, 6], [3, 6]])
    np.testing.assert_array_equal(quad_pixels(image, quad), image[2:6, 3:8].reshape(-1, 1))


def test_corner_quads_cover_the_inner_half_of_each_cell():
    quads = chart_quads_from_corners(np.array([[0, 0], [6 * CELL, 0], [6 * CELL, 4 * CELL], [0, 4 * CELL]]))
    assert quads.shape == (24, 4, 2)
    np.testing.assert_allclose(quads[7], [[30, 30], [42, 30], [42, 42], [30, 42]])


def test_when_both_finders_fail_the_error_names_them(monkeypatch):
    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    with pytest.raises(UnreadableInputError, match="built-in finder: .*; colour-checker-detection: not installed"):
        measure(encode(chart_linear("srgb"), 8), chart_truth(), detect_chart=True)


def test_builtin_finder_measures_a_turned_chart_in_a_rendering(monkeypatch):
    from lumatune.sim import simulate
    from lumatune.sim.camera import truth_image
    from lumatune.sim.scenes import ChartPlacement

    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    result = simulate("colorchecker", size=(480, 320), placement=ChartPlacement((0.5, 0.5), 0.4, 200.0))
    rendering = encode(xyz_to_linear_rgb(truth_image(result), "srgb"), 16)
    measured = measure(rendering, result.truth, space="srgb", detect_chart=True)
    assert _de00(measured, only_in_gamut=True).max() <= PERFECT_DE00


def test_detected_patch_means_are_decoded_and_measured(monkeypatch):
    srgb = xyz_to_linear_rgb(colorchecker_d65()[1], "srgb")
    fake = types.ModuleType("colour_checker_detection")
    fake.detect_colour_checkers_segmentation = lambda image: (colour.models.eotf_inverse_sRGB(srgb),)
    monkeypatch.setitem(sys.modules, "colour_checker_detection", fake)
    result = measure(encode(chart_linear("srgb"), 8), chart_truth(), detect_chart=True)
    assert result["de00_max"] <= PERFECT_DE00
    assert "snr_db" not in result


def test_neutral_patches_of_the_test_chart_are_exactly_neutral():
    rgb = xyz_to_linear_rgb(colorchecker_d65()[1][NEUTRALS], "srgb")
    np.testing.assert_allclose(awb_angular_error_deg(rgb), 0, atol=1e-6)
