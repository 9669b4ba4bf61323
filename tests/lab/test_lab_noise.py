"""Noise self-validation: known Gaussian noise added to linear grey patches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from lab.lab_synthetic import encode, grey_patch_scene

from lumatune.lab.measure import measure

SNR_TOLERANCE = 0.05
"""Relative error allowed on SNR (the issue's bound); 64 x 64 patches estimate std to ~1.1 %."""
LEVELS = [0.05, 0.1, 0.2, 0.4]
SIGMA = 0.004
SIDE = 64


def _noisy_scene(seed: int = 1, chromatic: bool = False) -> tuple[np.ndarray, dict]:
    image, truth = grey_patch_scene(LEVELS, SIDE)
    rng = np.random.default_rng(seed)
    shape = image.shape if chromatic else image.shape[:2] + (1,)
    return image + rng.normal(0, SIGMA, shape), truth


def test_snr_of_known_gaussian_noise():
    image, truth = _noisy_scene()
    result = measure(encode(image, None), truth)
    measured = [p["snr_db"] for p in result["patches"]]
    expected = [20 * np.log10(level / SIGMA) for level in LEVELS]
    assert 10 ** (np.array(measured) / 20) == pytest.approx(10 ** (np.array(expected) / 20), rel=SNR_TOLERANCE)
    assert result["snr_patch"] == "grey 0.2"
    assert result["snr_db"] == pytest.approx(measured[2])


def test_snr_survives_16_bit_quantisation():
    image, truth = _noisy_scene(seed=2)
    result = measure(encode(image, 16), truth)
    snr = 10 ** (np.array([p["snr_db"] for p in result["patches"]]) / 20)
    assert snr == pytest.approx(np.array(LEVELS) / SIGMA, rel=SNR_TOLERANCE)


def test_lightness_noise_follows_the_derivative_of_lstar():
    image, truth = _noisy_scene(seed=3)
    result = measure(encode(image, None), truth)
    # L* = 116 Y^(1/3) - 16, so std(L*) ~ (116 / 3) Y^(-2/3) std(Y) for small noise.
    expected = [116 / 3 * level ** (-2 / 3) * SIGMA for level in LEVELS]
    assert [p["lightness_std"] for p in result["patches"]] == pytest.approx(expected, rel=SNR_TOLERANCE)
    assert max(p["chroma_std"] for p in result["patches"]) < 1e-6  # neutral noise has no chroma


def test_chromatic_noise_shows_as_chroma_noise_and_the_curve_is_sorted():
    image, truth = _noisy_scene(seed=4, chromatic=True)
    result = measure(encode(image, None), truth)
    assert min(p["chroma_std"] for p in result["patches"]) > 0.1
    curve = result["noise_curve"]
    assert curve["signal_y"] == sorted(curve["signal_y"])
    assert len(curve["noise_y"]) == len(LEVELS)


def test_noiseless_patch_reports_no_snr():
    image, truth = grey_patch_scene(LEVELS, 16)
    result = measure(encode(image, None), truth)
    assert result["snr_db"] is None


def test_a_single_pixel_patch_has_no_noise_figures_and_no_warning():
    image, truth = _noisy_scene()
    x0, y0 = truth["patches"][0]["box"][:2]
    truth["patches"][0]["box"] = [x0, y0, x0 + 1, y0 + 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = measure(encode(image, None), truth)
    single = result["patches"][0]
    assert single["snr_db"] is None and single["lightness_std"] is None and single["de00"] is not None
    assert result["patches"][1]["snr_db"] is not None
