"""Tone: the curves keep their anchors and stay monotone; the fast pass agrees with the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import BadFileError
from lumatune.stages.params import params_from_dict
from lumatune.colour.spaces import gamut_clip
from lumatune.stages.tone import (
    MID_GREY,
    ToneParams,
    make_curve,
    sigmoid_coefficients,
    sigmoid_curve,
)

TOLERANCE = 1e-4


@pytest.mark.parametrize("contrast, white, shoulder", [(1.0, 8.0, 1.0), (1.4, 16.0, 0.5), (2.2, 64.0, 2.0)])
def test_sigmoid_anchors_and_monotone(contrast, white, shoulder):
    coefficients = sigmoid_coefficients(contrast, white, shoulder=shoulder)
    x = np.geomspace(1e-4, white * 2, 500).astype(np.float32)
    y = sigmoid_curve(x, coefficients)
    assert sigmoid_curve(np.float32(MID_GREY), coefficients) == pytest.approx(MID_GREY, abs=TOLERANCE)
    assert sigmoid_curve(np.float32(white), coefficients) == pytest.approx(1.0, abs=TOLERANCE)
    assert np.all(np.diff(y) >= 0) and y.max() <= 1.0


def test_higher_contrast_darkens_shadows_and_brightens_highlights():
    soft, hard = sigmoid_coefficients(1.1, 16.0), sigmoid_coefficients(1.8, 16.0)
    shadow, light = np.float32(0.02), np.float32(1.0)
    assert sigmoid_curve(shadow, hard) < sigmoid_curve(shadow, soft)
    assert sigmoid_curve(light, hard) > sigmoid_curve(light, soft)


def test_lower_shoulder_rolls_highlights_off_sooner():
    soft, hard = sigmoid_coefficients(1.4, 4.0, shoulder=0.5), sigmoid_coefficients(1.4, 4.0, shoulder=2.0)
    assert sigmoid_curve(np.float32(1.5), soft) < sigmoid_curve(np.float32(1.5), hard)


def _curve(**kw):
    curve, white = make_curve(ToneParams(curve="sigmoid", **kw), 2.0)
    return curve, white


@pytest.mark.parametrize("toe", [-0.9, -0.4, 0.6, 2.0])
def test_toe_keeps_black_pivot_and_white_and_stays_monotone(toe):
    curve, white = _curve(toe=toe)
    plain, _ = _curve()
    x = np.geomspace(1e-5, white, 2000)
    y = curve(x)
    assert np.all(np.diff(y) >= 0)
    assert float(curve(np.array(MID_GREY))) == pytest.approx(MID_GREY, abs=TOLERANCE)
    assert float(curve(np.array(white))) == pytest.approx(1.0, abs=TOLERANCE)
    shadow = np.array(0.01)
    assert (curve(shadow) > plain(shadow)) == (toe > 0)


def test_black_point_maps_to_zero_and_keeps_pivot():
    curve, _ = _curve(black=0.01)
    assert float(curve(np.array(0.01))) == 0.0
    assert float(curve(np.array(MID_GREY))) == pytest.approx(MID_GREY, abs=TOLERANCE)


def test_pivot_is_kept():
    curve, _ = _curve(pivot=0.1, contrast=1.6)
    assert float(curve(np.array(0.1))) == pytest.approx(0.1, abs=TOLERANCE)


def test_low_contrast_with_low_white_stays_solvable():
    curve, white = make_curve(ToneParams(curve="sigmoid", contrast=0.6), 1.0)
    assert white > 1.0  # raised so that the anchors can be met
    assert float(curve(np.array(white))) == pytest.approx(1.0, abs=TOLERANCE)


def _encode(v):
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.abs(v) ** (1 / 2.4) - 0.055)


def test_points_curve_passes_through_its_points_and_is_monotone():
    points = ((0.0, 0.0), (0.2, 0.1), (0.5, 0.55), (0.8, 0.9), (1.0, 1.0))
    curve, white = make_curve(ToneParams(curve="points", points=points), 2.0)
    for x_in, y_out in points:
        scene = white * ((x_in + 0.055) / 1.055) ** 2.4 if x_in > 0.04045 else white * x_in / 12.92
        assert float(_encode(curve(np.array(scene, np.float32)))) == pytest.approx(y_out, abs=1e-4)
    y = curve(np.linspace(0, white * 1.2, 3000).astype(np.float32))
    assert np.all(np.diff(y) >= -1e-7)


@pytest.mark.parametrize(
    "block, fragment",
    [
        ({"curve": "points", "points": [[0, 0]]}, "at least two points"),
        ({"curve": "points", "points": [[0, 0], [0.5, 0.6], [0.4, 0.7]]}, "inputs must increase"),
        ({"curve": "points", "points": [[0, 0], [0.5, 0.6], [0.7, 0.5]]}, "must not decrease"),
        ({"points": [[0, 1.5], [1, 1]]}, "out of range"),
        ({"curve": "filmic"}, "not one of"),
    ],
)
def test_bad_tone_blocks(block, fragment):
    with pytest.raises(BadFileError, match=fragment):
        params_from_dict(ToneParams, block, where="look.toml: [tone]")


def test_gamut_clip_keeps_luminance_of_out_of_gamut_colour():
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    rgb = np.array([[0.6, 0.3, -0.1]], np.float32)
    out = gamut_clip(rgb, weights)
    assert out.min() >= 0
    assert float((out @ weights)[0]) == pytest.approx(float((rgb @ weights)[0]), abs=1e-6)


@pytest.mark.parametrize("rolloff", [0.1, 0.3, 0.5])
def test_rolloff_meets_white_smoothly_and_keeps_mid_grey(rolloff):
    curve, white = _curve(rolloff=rolloff)
    hard, _ = _curve()
    x = np.linspace(0.0, white, 4001)
    y = curve(x).astype(np.float64)
    assert np.all(np.diff(y) >= 0)
    assert y[-1] == pytest.approx(1.0, abs=1e-6)
    assert float(curve(np.array(MID_GREY))) == pytest.approx(MID_GREY, abs=TOLERANCE)
    slope_at_white = (y[-1] - y[-2]) / (x[-1] - x[-2])
    hard_y = hard(x[-2:]).astype(np.float64)
    assert slope_at_white < 0.05 * (hard_y[1] - hard_y[0]) / (x[-1] - x[-2])
    knee_x = x[np.searchsorted(y, 1.0 - rolloff)]
    h = 1e-4 * white
    below = float(curve(np.array(knee_x)) - curve(np.array(knee_x - h))) / h
    above = float(curve(np.array(knee_x + h)) - curve(np.array(knee_x))) / h
    assert above == pytest.approx(below, rel=0.02)  # no kink where the roll-off starts
