"""Dynamic range self-validation: a step wedge with known constant noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lab.lab_synthetic import encode, wedge_scene

from lumatune.lab.dynamic_range import WedgeStepStats, dynamic_range_stops
from lumatune.lab.measure import measure

DR_TOLERANCE_STOPS = 0.1
TOP = 0.9
NOISE_STOPS = 8
"""Noise sigma is TOP / 2**8: SNR = 1 eight stops below the brightest step."""
SIDE = 32


def _wedge(steps: int, sigma: float, seed: int = 0, clipped_step: bool = False) -> tuple[np.ndarray, dict]:
    luminances = [2.0**-i for i in range(steps)]
    if clipped_step:
        luminances = [2.0] + luminances
    image, truth = wedge_scene(luminances, TOP, SIDE)
    image = image + np.random.default_rng(seed).normal(0, sigma, image.shape[:2] + (1,))
    return np.minimum(image, 1.0), truth


def test_dr_of_constant_noise_is_log2_of_signal_over_threshold_noise():
    sigma = TOP / 2**NOISE_STOPS
    image, truth = _wedge(14, sigma)
    result = measure(encode(image, None), truth)
    assert result["dr_stops_snr1"] == pytest.approx(NOISE_STOPS, abs=DR_TOLERANCE_STOPS)
    assert result["dr_stops_snr10"] == pytest.approx(NOISE_STOPS - math.log2(10), abs=DR_TOLERANCE_STOPS)


def test_a_tone_curve_does_not_change_the_scene_referred_dr():
    # Noise added in the scene, then a power-law tone curve: the plain output SNR would be
    # 1 / 0.6 times higher (0.74 stop more DR); the incremental SNR refers it back to the scene.
    sigma = TOP / 2**NOISE_STOPS
    image, truth = _wedge(14, sigma, seed=3)
    result = measure(encode(np.sign(image) * np.abs(image) ** 0.6, None), truth)
    assert result["dr_stops_snr10"] == pytest.approx(NOISE_STOPS - math.log2(10), abs=DR_TOLERANCE_STOPS)


def test_clipped_steps_do_not_count_as_highlights():
    sigma = TOP / 2**NOISE_STOPS
    image, truth = _wedge(14, sigma, seed=1, clipped_step=True)
    result = measure(encode(image, None), truth)
    assert result["wedge"][0]["clipped"] and not result["wedge"][1]["clipped"]
    assert result["dr_stops_snr1"] == pytest.approx(NOISE_STOPS, abs=DR_TOLERANCE_STOPS)
    # An integer file clips at its top code too (and at 0, which lifts the dark steps' SNR).
    flags = [step["clipped"] for step in measure(encode(image, 16), truth)["wedge"]]
    assert flags[:2] == [True, False]


def test_snr_per_step_is_signal_over_noise():
    sigma = TOP / 2**NOISE_STOPS
    image, truth = _wedge(6, sigma, seed=2)
    result = measure(encode(image, None), truth)
    expected = [TOP * 2.0**-i / sigma for i in range(6)]
    assert [s["snr"] for s in result["wedge"]] == pytest.approx(expected, rel=0.08)


def test_wedge_that_does_not_reach_the_noise_floor_gives_no_dr():
    image, truth = _wedge(4, TOP / 2**12)
    assert measure(encode(image, None), truth)["dr_stops_snr1"] is None


def test_dr_interpolates_in_log_snr_between_steps():
    steps = [WedgeStepStats(1.0, 0.9, 0.009, False, 100.0), WedgeStepStats(0.25, 0.225, 0.009, False, 25.0)]
    # SNR 50 lies half way (in log) between 100 and 25, i.e. one stop down.
    assert dynamic_range_stops(steps, 50.0) == pytest.approx(1.0)
    assert dynamic_range_stops(steps, 200.0) == 0.0
