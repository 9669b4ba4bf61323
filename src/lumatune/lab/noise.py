"""Noise on uniform patches: SNR of linear luminance, lightness and chroma noise, noise-vs-signal curve.

For each uniform patch the pixels' linear luminance Y (from the output space's linear RGB) gives the
signal-to-noise ratio ``SNR = mean(Y) / std(Y)``, also in decibels ``20 log10(SNR)``. Per pixel
CIE L*a*b* (after the chart's exposure scale) gives the visual noise: lightness noise ``std(L*)`` and
chroma noise ``sqrt(var(a*) + var(b*))``. Standard deviations are sample ones (``ddof = 1``).

References
----------
- ISO 15739:2023, *Photography - Electronic still-picture imaging - Noise measurements*: 6 (SNR of
  uniform patches of linear luminance), Annex on visual noise in CIE L*a*b*.
- CIE 015:2018, *Colorimetry*, 8.2.1 CIE 1976 L*a*b*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.lab.colour import xyz_to_lab

__all__ = ["PatchNoise", "luminance", "snr_db", "patch_noise", "noise_curve"]


@dataclass(frozen=True)
class PatchNoise:
    """Noise of one uniform patch.

    Attributes
    ----------
    mean_y, std_y
        Mean and sample standard deviation of linear luminance Y (white Y = 1, before exposure scale).
    snr, snr_db
        ``mean_y / std_y`` and ``20 log10`` of it (infinite for a noiseless patch).
    lightness_std
        Sample standard deviation of L*.
    chroma_std
        ``sqrt(var(a*) + var(b*))``.
    """

    mean_y: float
    std_y: float
    snr: float
    snr_db: float
    lightness_std: float
    chroma_std: float


def luminance(rgb: np.ndarray, matrix_rgb_to_xyz: np.ndarray) -> np.ndarray:
    """Linear luminance Y of linear RGB of shape (..., 3)."""
    return np.asarray(rgb, dtype=np.float64) @ np.asarray(matrix_rgb_to_xyz)[1]


def snr_db(snr: float) -> float:
    """Amplitude ratio in decibels, ``20 log10(snr)``; minus infinity for a non-positive ratio, NaN for NaN."""
    return float("-inf") if snr <= 0 else float(20 * np.log10(snr))


def _sample_std(values: np.ndarray) -> float:
    """Sample standard deviation (``ddof = 1``); NaN for fewer than two values."""
    return float(values.std(ddof=1)) if values.size > 1 else float("nan")


def _ratio(mean: float, std: float) -> float:
    if np.isnan(std):
        return float("nan")
    if std > 0:
        return mean / std
    return float("inf") if mean > 0 else 0.0


def patch_noise(
    rgb: np.ndarray, matrix_rgb_to_xyz: np.ndarray, white_xy: np.ndarray, exposure_scale: float = 1.0
) -> PatchNoise:
    """Noise statistics of the (n, 3) linear RGB pixels of one uniform patch.

    Parameters
    ----------
    rgb
        Linear RGB of the output space, one row per pixel (the standard deviations of a single
        pixel are NaN).
    matrix_rgb_to_xyz
        The output space's RGB to XYZ matrix.
    white_xy
        Reference white chromaticity for L*a*b*.
    exposure_scale
        Scale applied before L*a*b* (the chart's exposure fit); SNR does not depend on it.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    xyz = rgb @ np.asarray(matrix_rgb_to_xyz).T
    y = xyz[:, 1]
    mean_y, std_y = float(y.mean()), _sample_std(y)
    lab = xyz_to_lab(xyz * exposure_scale, white_xy)
    snr = _ratio(mean_y, std_y)
    return PatchNoise(
        mean_y=mean_y,
        std_y=std_y,
        snr=snr,
        snr_db=snr_db(snr),
        lightness_std=_sample_std(lab[:, 0]),
        chroma_std=float(np.hypot(_sample_std(lab[:, 1]), _sample_std(lab[:, 2]))),
    )


def noise_curve(stats: list[PatchNoise]) -> dict[str, list[float]]:
    """Noise against signal: ``std(Y)`` and SNR for each patch, sorted by mean Y."""
    ordered = sorted(stats, key=lambda s: s.mean_y)
    return {
        "signal_y": [s.mean_y for s in ordered],
        "noise_y": [s.std_y for s in ordered],
        "snr_db": [s.snr_db for s in ordered],
    }
