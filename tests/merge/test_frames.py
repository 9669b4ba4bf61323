"""Frame helpers: exposure from EXIF (ExposureTime x ISO / FNumber^2) and the noise model estimated from one raw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from burst_synthetic import RGGB, mosaic, texture

from lumatune.merge.frames import estimate_noise_profile, exposure_ratio
from lumatune.raw.image import RawImage

ESTIMATE_RANGE = (0.8, 2.0)
"""The estimated variance S x + O over the true one, at the scene's levels: the estimate is biased high, since
texture adds to the second differences (measured 1.2-1.7 on this texture); merging a raw that carries its own
NoiseProfile does not use it."""


def _raw(**exif) -> RawImage:
    return RawImage(
        path=Path("x.dng"), data=np.zeros((2, 2), np.uint16), cfa=RGGB, black_level=np.zeros((2, 2), np.float32),
        white_level=1.0, as_shot_neutral=None, daylight_neutral=None, libraw_matrix=None, dng=None,
        orientation_turns=0, crop_origin=(0, 0), full_size=(2, 2), exif=exif,
    )


def test_exposure_ratio_is_time_times_iso_over_f_number_squared():
    reference = _raw(exposure_time=1 / 100, iso=200, f_number=4.0)
    frame = _raw(exposure_time=1 / 50, iso=100, f_number=2.8)
    assert exposure_ratio(reference, frame) == pytest.approx((1 / 50 * 100 / 2.8**2) / (1 / 100 * 200 / 4.0**2))
    assert exposure_ratio(reference, _raw()) == 1.0  # no EXIF: taken as equal


def test_noise_profile_estimated_from_one_mosaic():
    scale, offset = 1 / 500, 4e-5
    clean = mosaic(texture(256, 320, seed=3, blur=4.0))  # smooth: the estimator reads noise where texture is low
    rng = np.random.default_rng(0)
    noisy = clean + rng.normal(0, 1, clean.shape) * np.sqrt(scale * clean + offset)
    profile = estimate_noise_profile(noisy.astype(np.float32), RGGB)
    for level in (0.2, 0.4):
        ratio = (profile[1, 0] * level + profile[1, 1]) / (scale * level + offset)
        assert ESTIMATE_RANGE[0] <= ratio <= ESTIMATE_RANGE[1]
