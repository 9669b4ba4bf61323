"""Tone: the sigmoid keeps mid grey, reaches white at `white`, is monotone; the gamut clip keeps luminance."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages.tone import MID_GREY, gamut_clip, sigmoid_coefficients, sigmoid_curve

TOLERANCE = 1e-4


@pytest.mark.parametrize("contrast, white", [(1.0, 8.0), (1.4, 16.0), (2.2, 64.0)])
def test_sigmoid_anchors_and_monotone(contrast, white):
    coefficients = sigmoid_coefficients(contrast, white)
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


def test_gamut_clip_keeps_luminance_of_out_of_gamut_colour():
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    rgb = np.array([[0.6, 0.3, -0.1]], np.float32)
    out = gamut_clip(rgb, weights)
    assert out.min() >= 0
    assert float((out @ weights)[0]) == pytest.approx(float((rgb @ weights)[0]), abs=1e-6)
