"""The frames of a burst or bracket: reading one at a time, checking they belong together, exposure and noise.

References
----------
.. [1] Adobe, *Digital Negative (DNG) Specification* 1.6.0.0, 2021: NoiseProfile (variance S x + O of the
       normalised signal x, per colour plane).
.. [2] JEITA CP-3451C (Exif 2.3): ExposureTime, FNumber, ISOSpeedRatings.
.. [3] A. Foi, M. Trimeche, V. Katkovnik, K. Egiazarian, "Practical Poissonian-Gaussian noise modeling and
       fitting for single-image raw-data", IEEE TIP 17(10), 2008 (the signal-dependent model fitted by
       :func:`estimate_noise_profile` when a raw carries no NoiseProfile).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lumatune.errors import UnsupportedError
from lumatune.raw.image import RawImage
from lumatune.raw.read import open_raw

__all__ = [
    "CLIP_LEVEL",
    "check_same_capture",
    "estimate_noise_profile",
    "exposure_of",
    "exposure_ratio",
    "normalised",
    "noise_profile_of",
    "read_frame",
]

CLIP_LEVEL = 0.98
"""A raw value at or above this fraction of the white level (black subtracted) counts as clipped."""

_NOISE_BINS = 24
"""Intensity bins of :func:`estimate_noise_profile`."""

_NOISE_QUANTILE = 0.25
"""Within a bin, the variance of the flattest quarter of the pixel pairs (texture only adds variance)."""


def read_frame(path: str | Path) -> RawImage:
    """Read one frame of a merge (a CFA mosaic), with the reader's one-line errors."""
    raw = open_raw(path)
    if raw.cfa is None:
        raise UnsupportedError(f"{path}: a linear (demosaiced) raw cannot be merged; merging needs CFA mosaics")
    return raw


def _camera(raw: RawImage) -> str:
    return " ".join(str(raw.exif.get(k, "")) for k in ("make", "model")).strip() or "unknown camera"


def check_same_capture(reference: RawImage, frame: RawImage, *, shape: tuple[int, int] | None = None) -> None:
    """Raise :class:`UnsupportedError` unless ``frame`` comes from the reference's camera, size and CFA pattern.

    ``shape`` is the reference's (rows, cols) when its pixels are no longer in ``reference.data``.
    """
    shape = reference.data.shape if shape is None else tuple(shape)
    if _camera(frame) != _camera(reference):
        raise UnsupportedError(
            f"{frame.path}: taken with {_camera(frame)}, the reference {reference.path.name} with "
            f"{_camera(reference)}; merging needs frames from one camera"
        )
    if frame.data.shape != shape:
        (h, w), (rh, rw) = frame.data.shape[:2], shape[:2]
        raise UnsupportedError(
            f"{frame.path}: {w}x{h} pixels, the reference {reference.path.name} {rw}x{rh}; merging needs one size"
        )
    if not np.array_equal(frame.cfa, reference.cfa):
        raise UnsupportedError(
            f"{frame.path}: its CFA pattern differs from the reference {reference.path.name}'s; "
            "merging needs one pattern"
        )


def exposure_of(raw: RawImage) -> float | None:
    """Relative exposure ``ExposureTime * ISO / FNumber**2`` from the EXIF, or None when a value is missing.

    Two frames with the same scene luminance record raw values in the ratio of their exposures (sensor
    linearity), which is how a bracket is scaled to the reference.
    """
    time, iso, f_number = (raw.exif.get(k) for k in ("exposure_time", "iso", "f_number"))
    if not time or not iso or not f_number or time <= 0 or iso <= 0 or f_number <= 0:
        return None
    return float(time) * float(iso) / float(f_number) ** 2


def exposure_ratio(reference: RawImage, frame: RawImage) -> float:
    """``frame``'s exposure over the reference's (1 when either lacks the EXIF to say)."""
    ref, own = exposure_of(reference), exposure_of(frame)
    if ref is None or own is None:
        return 1.0
    ratio = own / ref
    if not (1.0 / 1024 <= ratio <= 1024) or not math.isfinite(ratio):
        raise UnsupportedError(f"{frame.path}: exposure {ratio:g} times the reference's; expected within 10 stops")
    return ratio


def normalised(raw: RawImage) -> np.ndarray:
    """(H, W) float32: ``(data - black) / (white - black)`` per CFA site (1 = the white level)."""
    n = raw.cfa.shape[0]
    h, w = raw.data.shape
    black = np.tile(np.asarray(raw.black_level, dtype=np.float32), (h // n + 1, w // n + 1))[:h, :w]
    out = raw.data.astype(np.float32)
    out -= black
    out /= np.float32(raw.white_level) - black
    return out


def noise_profile_of(raw: RawImage, values: np.ndarray) -> np.ndarray:
    """(3, 2) NoiseProfile pairs (S, O) for R, G, B: the DNG tag, else estimated from the frame."""
    profile = raw.dng.noise_profile if raw.dng is not None else None
    if profile is not None:
        pairs = np.asarray(profile, dtype=np.float64).reshape(-1, 2)
        return np.repeat(pairs, 3, axis=0)[:3] if len(pairs) == 1 else pairs[:3]
    return estimate_noise_profile(values, raw.cfa)


def estimate_noise_profile(values: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Fit (S, O) per colour from one normalised mosaic (Foi et al. 2008, simplified).

    The second difference of three neighbouring same-colour samples has 6 (S x + O) of noise variance, and no
    contribution from a linear gradient; in each of :data:`_NOISE_BINS` intensity bins the lowest quarter of
    the squared differences, rescaled to the mean of a chi-square of one degree, estimates the noise (texture
    only adds); a line through the bins gives S and O. On textured scenes it reads the variance 1.2 to 1.7
    times too high (tests/merge/test_frames.py); a raw's own NoiseProfile is used whenever there is one.
    """
    n = cfa.shape[0]
    out = np.zeros((3, 2))
    for channel in range(3):
        xs, vs = [], []
        for i in range(n):
            for j in range(n):
                if cfa[i, j] != channel:
                    continue
                plane = values[i::n, j::n]
                # second difference along rows: a linear gradient cancels, white noise gives 6 times its variance
                mean = plane[:, 1:-1].ravel()
                diff2 = ((plane[:, :-2] - 2 * plane[:, 1:-1] + plane[:, 2:]) ** 2 / 6.0).ravel()
                ok = (mean > 0) & (mean < CLIP_LEVEL)
                xs.append(mean[ok])
                vs.append(diff2[ok])
        x, v = np.concatenate(xs), np.concatenate(vs)
        edges = np.quantile(x, np.linspace(0, 1, _NOISE_BINS + 1)) if x.size else np.array([0.0, 1.0])
        centres, variances = [], []
        # the q-quantile of a chi-square(1) variable relative to its mean (1): rescales the flattest quarter
        chi2_quantile = 0.1015
        for lo, hi in zip(edges[:-1], edges[1:]):
            inside = (x >= lo) & (x < hi)
            if inside.sum() > 50:
                centres.append(float(np.mean(x[inside])))
                variances.append(float(np.quantile(v[inside], _NOISE_QUANTILE)) / chi2_quantile)
        if len(centres) < 2:
            out[channel] = (1e-4, 1e-6)
            continue
        slope, offset = np.polyfit(centres, variances, 1)
        out[channel] = (max(slope, 1e-8), max(offset, 1e-10))
    return out
