"""Noise calibration: the Poisson-Gaussian model is recovered from raw pairs within 5 % of the simulator's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lumatune.calibrate.noise import NoiseSamples, calibrate_noise, fit_noise_model
from lumatune.errors import UnreadableInputError

RECOVERY = 0.05
"""Largest relative error of S and O per channel (the issue's 5 %)."""


def test_weighted_fit_recovers_a_line_despite_outliers():
    rng = np.random.default_rng(0)
    level = np.geomspace(1e-4, 0.9, 400)
    variance = (2e-5 * level + 3e-8) * rng.chisquare(63, level.size) / 63
    variance[::40] *= 50  # edge blocks
    s, o = fit_noise_model(NoiseSamples(level, variance, np.full(level.size, 63.0)))
    assert abs(s / 2e-5 - 1) < RECOVERY and abs(o / 3e-8 - 1) < RECOVERY


def test_noise_model_from_a_pair_of_wedges(wedge_raws):
    calibration = calibrate_noise(wedge_raws)
    (fit,) = calibration.fits
    assert fit.iso == 800 and fit.method == "pairs"
    truth = np.asarray(json.loads(wedge_raws[0].with_suffix(".json").read_text())["noise"]["noise_profile"])
    assert np.abs(fit.profile / truth - 1).max() < RECOVERY
    block = calibration.block()["profiles"][0]
    assert block["iso"] == 800 and np.asarray(block["noise_profile"]).shape == (3, 2)


def test_one_flat_level_cannot_give_a_model(flat_raws):
    with pytest.raises(UnreadableInputError, match="too narrow a range"):
        calibrate_noise(flat_raws[:2])
