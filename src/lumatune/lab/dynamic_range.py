"""Dynamic range from a grey step wedge of known scene luminances, ISO 15739 style.

For each step (scene luminance ``L`` from the truth, relative to a perfect white; only ratios matter)
the pixels' linear output luminance Y gives ``mean(Y)`` and ``std(Y)``. Noise is referred to the scene
through the rendering's own tone response (the *incremental* SNR of ISO 15739): with
``g = d ln mean(Y) / d ln L`` the local log-log slope of the measured response (1 for a linear
rendering), fitted at each step by linear regression of ln mean(Y) on ln L over the unclipped steps
with a positive mean, weighted by a Gaussian of 1 stop in log2 L times the inverse variance of each
step's ln mean(Y) (so noisy dark steps barely move the slope; a plain central difference there adds
several percent of error),

    SNR(L) = L / sigma_scene = L * (d mean(Y) / dL) / std(Y) = g * mean(Y) / std(Y).

A step is *clipped* when more than 1 % of its pixels reach the maximum code in any channel. The
dynamic range for a threshold T (1 and 10 are reported) is

    DR_T = log2(L_max / L_T)  stops,

where ``L_max`` is the luminance of the brightest unclipped step and ``L_T`` the luminance at which
SNR falls to T, interpolated linearly in (log2 L, log10 SNR) between the last step at or above T and
the first below it, going down from ``L_max`` (linearly in SNR when that step's SNR is not positive).
DR is None when no step falls below T (the wedge does not reach the noise floor) and 0 when even
``L_max`` is below T. As in ISO 15739 the highlight end is the brightest unclipped *step*, so DR is
low by at most one step spacing of the true clipping point.

References
----------
- ISO 15739:2023, *Photography - Electronic still-picture imaging - Noise measurements*: incremental
  signal-to-noise ratio, dynamic range (maximum unclipped luminance over the luminance at SNR = 1).
- ISO 14524:2009, *Photography - Electronic still-picture cameras - Methods for measuring
  opto-electronic conversion functions (OECFs)*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CLIPPED_FRACTION", "WedgeStepStats", "wedge_step_stats", "incremental_snr", "dynamic_range_stops"]

CLIPPED_FRACTION = 0.01
"""A step is clipped when more than this fraction of its pixels is at the maximum code."""

OECF_BANDWIDTH_STOPS = 1.0
"""Standard deviation, in stops of scene luminance, of the Gaussian kernel of the local slope fit."""

NOISELESS_WEIGHT = 1e12
"""Weight of a step without noise in the slope fit (its mean is exact)."""


@dataclass(frozen=True)
class WedgeStepStats:
    """Measured statistics of one wedge step (``snr`` is the incremental, scene-referred SNR)."""

    relative_luminance: float
    mean_y: float
    std_y: float
    clipped: bool
    snr: float


def _local_log_slopes(log2_luminance: np.ndarray, log_mean: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Slope of ln(mean Y) against ln(L) at each step by weighted local linear regression."""
    slopes = np.empty_like(log2_luminance)
    for i, centre in enumerate(log2_luminance):
        w = weights * np.exp(-0.5 * ((log2_luminance - centre) / OECF_BANDWIDTH_STOPS) ** 2)
        x = log2_luminance - np.average(log2_luminance, weights=w)
        y = log_mean - np.average(log_mean, weights=w)
        denominator = float(np.sum(w * x * x))
        slopes[i] = float(np.sum(w * x * y)) / denominator / np.log(2) if denominator > 0 else 1.0
    return slopes


def incremental_snr(
    relative_luminance: np.ndarray, mean_y: np.ndarray, std_y: np.ndarray, count: np.ndarray, clipped: np.ndarray
) -> np.ndarray:
    """Scene-referred SNR ``g * mean(Y) / std(Y)`` per step (see the module docstring); NaN if clipped.

    ``g`` is fitted by :func:`_local_log_slopes` over the unclipped steps with a positive mean, each
    weighted by the inverse variance of its ln(mean), ``count * (mean / std)**2``.
    """
    luminance = np.asarray(relative_luminance, dtype=np.float64)
    mean_y = np.asarray(mean_y, dtype=np.float64)
    std_y = np.asarray(std_y, dtype=np.float64)
    clipped = np.asarray(clipped, dtype=bool)
    usable = ~clipped & (mean_y > 0)
    slope = np.ones_like(luminance)
    if usable.sum() >= 2:
        with np.errstate(divide="ignore"):
            weights = np.where(std_y > 0, np.asarray(count) * (mean_y / std_y) ** 2, NOISELESS_WEIGHT)[usable]
        slope[usable] = _local_log_slopes(np.log2(luminance[usable]), np.log(mean_y[usable]), weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(std_y > 0, np.clip(slope, 0, None) * mean_y / std_y, np.inf)
    snr = np.where(mean_y > 0, snr, 0.0)
    return np.where(clipped, np.nan, snr)


def wedge_step_stats(
    luminance_pixels: list[np.ndarray], clipped_fractions: list[float], relative_luminance: list[float]
) -> list[WedgeStepStats]:
    """Statistics of each wedge step from its pixels' linear luminance and clipped-pixel fraction."""
    mean_y = np.array([float(np.mean(y)) for y in luminance_pixels])
    std_y = np.array([float(np.std(y, ddof=1)) for y in luminance_pixels])
    count = np.array([np.size(y) for y in luminance_pixels])
    clipped = np.asarray(clipped_fractions) > CLIPPED_FRACTION
    snr = incremental_snr(np.asarray(relative_luminance), mean_y, std_y, count, clipped)
    return [
        WedgeStepStats(float(lum), float(m), float(s), bool(c), float(r))
        for lum, m, s, c, r in zip(relative_luminance, mean_y, std_y, clipped, snr, strict=True)
    ]


def _crossing_log2_luminance(bright: WedgeStepStats, dark: WedgeStepStats, threshold: float) -> float:
    x0, x1 = np.log2(bright.relative_luminance), np.log2(dark.relative_luminance)
    if dark.snr > 0 and np.isfinite(bright.snr):
        y0, y1, target = np.log10(bright.snr), np.log10(dark.snr), np.log10(threshold)
    elif np.isfinite(bright.snr):
        y0, y1, target = bright.snr, dark.snr, threshold
    else:
        return float(x1)
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def dynamic_range_stops(steps: list[WedgeStepStats], threshold: float) -> float | None:
    """Dynamic range in stops at an SNR threshold (see the module docstring for the definition)."""
    usable = sorted((s for s in steps if not s.clipped), key=lambda s: -s.relative_luminance)
    if not usable:
        return None
    if usable[0].snr < threshold:
        return 0.0
    for bright, dark in zip(usable, usable[1:]):
        if dark.snr < threshold:
            log2_crossing = _crossing_log2_luminance(bright, dark, threshold)
            return float(np.log2(usable[0].relative_luminance) - log2_crossing)
    return None
