"""Slanted-edge spatial frequency response (e-SFR): MTF curve, MTF50, MTF at half Nyquist, overshoot.

The method of ISO 12233 and Burns' ``sfrmat``, on a luminance region of interest of *linear* data:

1. orient the edge vertical and dark-to-bright from left to right (transpose / mirror the ROI);
2. per row, the 1-D derivative and its centroid locate the edge; a straight line is fitted to the
   centroids; a second pass recomputes each centroid under a Hamming window centred on the first fit;
3. every pixel is projected along the fitted edge onto its normal (perpendicular distance, so the
   frequency axis is in cycles per pixel across the edge without a later cos(angle) correction) and
   binned at 4x oversampling into the edge spread function (ESF); only distances that every row
   reaches are kept, so all bins have the same phase coverage; empty bins are interpolated;
4. the line spread function (LSF) is the ESF's central difference, windowed by a Hamming window
   centred on the LSF centroid (``sfrmat``'s asymmetric ``ahamming``);
5. MTF = |FFT(LSF)| normalised at zero frequency, divided by the frequency response of the central
   difference, sin(2 pi f d) / (2 pi f d) with d the bin width (``sfrmat``'s derivative correction).

MTF50 is the first frequency where the MTF falls to 0.5 (linear interpolation); overshoot is how far
the ESF rises above its bright plateau, in percent of the edge step.

References
----------
- ISO 12233:2017, *Photography - Electronic still picture imaging - Resolution and spatial
  frequency responses*, 6 and Annex D (edge-based SFR).
- P. D. Burns, "Slanted-edge MTF for digital camera and scanner analysis", Proc. IS&T PICS
  Conference, 2000, pp. 135-138; ``sfrmat3``/``sfrmat4`` reference implementation.
- P. D. Burns, D. Williams, "Refined slanted-edge measurement for practical camera and scanner
  testing", Proc. IS&T PICS, 2002, pp. 191-195 (derivative correction, windowing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OVERSAMPLING", "SfrResult", "edge_spread_function", "mtf_from_esf", "mtf_crossing", "slanted_edge_sfr"]

OVERSAMPLING = 4
"""ESF bins per pixel (ISO 12233 and sfrmat use 4)."""

PLATEAU_FRACTION = 0.15
"""Fraction of the ESF at each end averaged as the dark and bright plateau for overshoot."""

MAX_FREQUENCY_CY_PX = 1.0
"""Highest frequency reported (twice Nyquist, as sfrmat plots)."""

HALF_NYQUIST_CY_PX = 0.25


@dataclass(frozen=True)
class SfrResult:
    """Result of a slanted-edge measurement.

    Attributes
    ----------
    frequency_cy_px, mtf
        The MTF curve, frequencies in cycles per pixel.
    mtf50_cy_px
        First frequency where the MTF drops to 0.5, or None if it never does.
    mtf_half_nyquist
        MTF at 0.25 cycles per pixel.
    overshoot_pct
        ESF maximum above the bright plateau, in percent of the edge step (0 when none).
    edge_angle_deg
        Angle of the edge from the nearest image axis, in degrees.
    esf
        The oversampled edge spread function (dark to bright).
    """

    frequency_cy_px: np.ndarray
    mtf: np.ndarray
    mtf50_cy_px: float | None
    mtf_half_nyquist: float
    overshoot_pct: float
    edge_angle_deg: float
    esf: np.ndarray


def _orient(roi: np.ndarray) -> np.ndarray:
    """Transpose a horizontal edge to vertical; mirror so the left side is dark."""
    if np.abs(np.diff(roi, axis=0)).mean() > np.abs(np.diff(roi, axis=1)).mean():
        roi = roi.T
    quarter = max(roi.shape[1] // 4, 1)
    if roi[:, :quarter].mean() > roi[:, -quarter:].mean():
        roi = roi[:, ::-1]
    return roi


def _hamming(length: int, centre: float) -> np.ndarray:
    """Hamming window over ``length`` samples, peaked at ``centre`` (sfrmat ``ahamming``)."""
    half_width = max(centre, length - 1 - centre, 1.0)
    return 0.54 + 0.46 * np.cos(np.pi * (np.arange(length) - centre) / half_width)


def _row_centroids(roi: np.ndarray, fitted: np.ndarray | None) -> np.ndarray:
    derivative = np.diff(roi, axis=1)
    positions = np.arange(derivative.shape[1]) + 0.5
    if fitted is not None:
        derivative = derivative * np.stack([_hamming(derivative.shape[1], c - 0.5) for c in fitted])
    total = derivative.sum(axis=1)
    return (derivative * positions).sum(axis=1) / np.where(total == 0, 1, total)


def _fit_edge(roi: np.ndarray) -> np.ndarray:
    """Edge position per row: a least-squares line through the (windowed) derivative centroids."""
    rows = np.arange(roi.shape[0])
    fitted = None
    for _ in range(2):
        slope, offset = np.polyfit(rows, _row_centroids(roi, fitted), 1)
        fitted = offset + slope * rows
    return fitted


def edge_spread_function(roi: np.ndarray, oversampling: int = OVERSAMPLING) -> tuple[np.ndarray, float]:
    """Oversampled ESF of a slanted edge (steps 1-3 of the module docstring).

    Parameters
    ----------
    roi
        (H, W) linear luminance around one straight edge, slanted a few degrees from an axis.
    oversampling
        Bins per pixel of perpendicular distance.

    Returns
    -------
    esf, angle_deg
        The ESF from dark to bright, sampled every ``1 / oversampling`` pixel across the edge, and
        the edge angle from the image axis.
    """
    roi = _orient(np.asarray(roi, dtype=np.float64))
    edge_x = _fit_edge(roi)
    slope = (edge_x[-1] - edge_x[0]) / max(roi.shape[0] - 1, 1)
    cosine = 1.0 / np.hypot(1.0, slope)
    distance = (np.arange(roi.shape[1])[None, :] - edge_x[:, None]) * cosine
    lo = distance[:, 0].max()
    hi = distance[:, -1].min()
    bins = np.floor((distance - lo) * oversampling).astype(int)
    count = int(np.floor((hi - lo) * oversampling))
    keep = (bins >= 0) & (bins < count)
    sums = np.bincount(bins[keep], weights=roi[keep], minlength=count)
    hits = np.bincount(bins[keep], minlength=count)
    filled = hits > 0
    esf = np.interp(np.arange(count), np.flatnonzero(filled), sums[filled] / hits[filled])
    return esf, float(np.degrees(np.arctan(slope)))


def mtf_from_esf(esf: np.ndarray, oversampling: int = OVERSAMPLING) -> tuple[np.ndarray, np.ndarray]:
    """MTF from an oversampled ESF (steps 4-5): frequencies in cycles per pixel and modulation."""
    lsf = np.gradient(esf)
    weights = np.abs(lsf)
    centre = float((weights * np.arange(lsf.size)).sum() / weights.sum())
    spectrum = np.abs(np.fft.rfft(lsf * _hamming(lsf.size, centre)))
    frequency = np.fft.rfftfreq(lsf.size, d=1.0 / oversampling)
    mtf = spectrum / spectrum[0]
    correction = np.sinc(2 * frequency / oversampling)  # np.sinc(x) = sin(pi x) / (pi x)
    keep = frequency <= MAX_FREQUENCY_CY_PX
    return frequency[keep], mtf[keep] / correction[keep]


def mtf_crossing(frequency: np.ndarray, mtf: np.ndarray, level: float = 0.5) -> float | None:
    """First frequency where the MTF falls to ``level``, by linear interpolation; None if never."""
    below = np.flatnonzero(mtf <= level)
    if below.size == 0 or below[0] == 0:
        return None
    i = below[0]
    fraction = (mtf[i - 1] - level) / (mtf[i - 1] - mtf[i])
    return float(frequency[i - 1] + fraction * (frequency[i] - frequency[i - 1]))


def _overshoot_pct(esf: np.ndarray) -> float:
    tail = max(int(esf.size * PLATEAU_FRACTION), 1)
    dark, bright = esf[:tail].mean(), esf[-tail:].mean()
    if bright <= dark:
        return 0.0
    return float(max(esf.max() - bright, 0.0) / (bright - dark) * 100)


def slanted_edge_sfr(roi: np.ndarray, oversampling: int = OVERSAMPLING) -> SfrResult:
    """ISO 12233 e-SFR of a slanted edge in a linear luminance region of interest.

    Parameters
    ----------
    roi
        (H, W) linear luminance containing one straight edge 2-10 degrees off vertical or
        horizontal, at least ~20 rows along the edge and ~16 pixels either side.
    oversampling
        ESF bins per pixel.

    Examples
    --------
    >>> import math
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> d = (x - 32 - 0.0875 * (y - 32)) / math.hypot(1, 0.0875)
    >>> roi = 0.2 + 0.6 * (0.5 + 0.5 * np.vectorize(math.erf)(d / (1.0 * math.sqrt(2))))
    >>> round(slanted_edge_sfr(roi).mtf50_cy_px, 2)   # analytic: 0.187 for sigma = 1 px
    0.19
    """
    esf, angle = edge_spread_function(roi, oversampling)
    frequency, mtf = mtf_from_esf(esf, oversampling)
    return SfrResult(
        frequency_cy_px=frequency,
        mtf=mtf,
        mtf50_cy_px=mtf_crossing(frequency, mtf),
        mtf_half_nyquist=float(np.interp(HALF_NYQUIST_CY_PX, frequency, mtf)),
        overshoot_pct=_overshoot_pct(esf),
        edge_angle_deg=angle,
        esf=esf,
    )
