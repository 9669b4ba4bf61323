"""Slanted-edge MTF self-validation against Gaussian edges with an analytic MTF."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lab.lab_synthetic import encode, gaussian_edge, gaussian_mtf50, truth_header
from scipy.optimize import brentq
from scipy.special import erf

from lumatune.lab.measure import measure
from lumatune.lab.sharpness import mtf_crossing, slanted_edge_sfr

MTF50_TOLERANCE = 0.05
"""Relative error allowed on MTF50 (the issue's bound)."""
MTF_CURVE_TOLERANCE = 0.02
OVERSHOOT_TOLERANCE_PCT = 1.0
EDGE_SIZE = 96


@pytest.mark.parametrize(("sigma", "angle_deg"), [(0.7, 5.0), (1.0, 3.0), (1.8, 8.0)])
def test_mtf50_of_a_gaussian_edge_through_measure(sigma, angle_deg):
    edge = gaussian_edge(EDGE_SIZE, EDGE_SIZE, sigma, angle_deg, 0.05, 0.6)
    truth = truth_header(EDGE_SIZE, EDGE_SIZE, edge={"box": [0, 0, EDGE_SIZE, EDGE_SIZE], "angle_deg": angle_deg})
    result = measure(encode(np.repeat(edge[..., None], 3, axis=2), None), truth)
    assert result["mtf50"] == pytest.approx(gaussian_mtf50(sigma), rel=MTF50_TOLERANCE)
    assert result["edge_angle_deg"] == pytest.approx(angle_deg, abs=0.1)
    assert result["overshoot_pct"] < 0.5


def test_mtf_curve_follows_the_gaussian_up_to_nyquist():
    sigma = 1.0
    result = slanted_edge_sfr(gaussian_edge(EDGE_SIZE, EDGE_SIZE, sigma, 5.0, 0.1, 0.9))
    inside = result.frequency_cy_px <= 0.5
    analytic = np.exp(-2 * math.pi**2 * sigma**2 * result.frequency_cy_px[inside] ** 2)
    np.testing.assert_allclose(result.mtf[inside], analytic, atol=MTF_CURVE_TOLERANCE)
    assert result.mtf_half_nyquist == pytest.approx(math.exp(-2 * math.pi**2 * sigma**2 / 16), abs=MTF_CURVE_TOLERANCE)


@pytest.mark.parametrize("orientation", ["horizontal", "bright-left", "bright-bottom"])
def test_orientation_and_polarity_do_not_change_the_mtf(orientation):
    edge = gaussian_edge(EDGE_SIZE, EDGE_SIZE, 1.2, 4.0, 0.1, 0.9)
    turned = {"horizontal": edge.T, "bright-left": edge[:, ::-1], "bright-bottom": edge.T[::-1]}[orientation]
    assert slanted_edge_sfr(turned).mtf50_cy_px == pytest.approx(gaussian_mtf50(1.2), rel=MTF50_TOLERANCE)


def _sharpened_esf(distance: np.ndarray, sigma: float, wide: float, amount: float) -> np.ndarray:
    blurred = 0.5 * (1 + erf(distance / (sigma * math.sqrt(2))))
    wider = 0.5 * (1 + erf(distance / (wide * math.sqrt(2))))
    return blurred + amount * (blurred - wider)


def test_overshoot_and_mtf50_of_an_unsharp_masked_edge():
    sigma, wide, amount, slope = 1.0, 2.5, 0.6, math.tan(math.radians(5))
    y, x = np.mgrid[0:EDGE_SIZE, 0:EDGE_SIZE] + 0.5
    distance = (x - EDGE_SIZE / 2 - slope * (y - EDGE_SIZE / 2)) / math.hypot(1, slope)
    result = slanted_edge_sfr(0.1 + 0.5 * _sharpened_esf(distance, sigma, wide, amount))
    fine = np.linspace(-10, 10, 20001)
    expected_overshoot = (_sharpened_esf(fine, sigma, wide, amount).max() - 1) * 100
    assert result.overshoot_pct == pytest.approx(expected_overshoot, abs=OVERSHOOT_TOLERANCE_PCT)

    def mtf(f: float) -> float:
        narrow_part = math.exp(-2 * (math.pi * sigma * f) ** 2)
        wide_part = math.exp(-2 * (math.pi * wide * f) ** 2)
        return (1 + amount) * narrow_part - amount * wide_part

    assert result.mtf50_cy_px == pytest.approx(brentq(lambda f: mtf(f) - 0.5, 0.01, 0.5), rel=MTF50_TOLERANCE)


def test_mtf_crossing_interpolates_and_reports_none_when_never_reached():
    frequency = np.array([0.0, 0.1, 0.2, 0.3])
    assert mtf_crossing(frequency, np.array([1.0, 0.8, 0.4, 0.2])) == pytest.approx(0.175)
    assert mtf_crossing(frequency, np.array([1.0, 0.9, 0.8, 0.7])) is None
