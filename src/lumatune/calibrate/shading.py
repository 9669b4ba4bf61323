"""Lens-shading calibration: a per-channel gain grid over the frame from flat-field raws (the ``lens_shading`` block).

Each colour channel of each flat is averaged in small bins (positions of the actual CFA samples), a smooth
surface (a tensor product of Legendre polynomials) is fitted to the bin means by least squares, and the gain
at each grid point is the surface's maximum over its value there: after the gain every channel is flat at its
brightest level, so the correction never darkens the frame and removes colour shading too (each channel has
its own grid). Grid points span the visible frame corner to corner, as the stage reads them
(:func:`lumatune.stages.lens_shading.gain_from_grid`). Several flats are averaged after normalising each.
A flat whose bins depart from the smooth surface by more than noise allows (texture, a chart, dust) is
refused, as are clipped and underexposed flats.

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 7, opcode GainMap (per-plane gain grid over the image).
- libcamera, Raspberry Pi camera tuning tool ``ctt_alsc.py`` (per-channel lens shading tables from flat
  images, normalised to their maximum).
- EMVA Standard 1288, release 4.0, 2021, section 8 (flat-field images for non-uniformity).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lumatune.calibrate.capture import Capture, load_captures
from lumatune.errors import UnreadableInputError

__all__ = [
    "GRID_COLUMNS",
    "ShadingCalibration",
    "channel_bin_means",
    "fit_smooth_surface",
    "shading_grid_shape",
    "flatness",
    "calibrate_shading",
]

GRID_COLUMNS = 25
"""Grid points across the frame; rows follow the aspect ratio (17 rows for 3:2)."""

BIN_PIXELS = 16
"""Side of the square bins (in pixels of the frame) that each channel is averaged in."""

POLYNOMIAL_DEGREE = 8
"""Degree in x and in y of the smooth shading surface."""

MIN_FLAT_LEVEL = 0.05
MAX_CLIPPED_FRACTION = 0.001
CLIP_LEVEL = 0.98
MAX_GAIN = 8.0
"""A flat darker than MIN_FLAT_LEVEL at its brightest, with more clipped pixels, or needing a larger gain is refused."""

NOT_FLAT_RESIDUAL = 0.01
"""A flat whose bin means depart from the smooth surface by more than this (relative rms, beyond what the
noise of the bin means explains) is not flat."""


@dataclass(frozen=True, eq=False)
class ShadingCalibration:
    """Gain grids per channel (rows x columns, corner to corner) and how flat the calibration flats became.

    Attributes
    ----------
    camera : the camera's identity.
    gains : {"r", "g", "b"} -> (rows, columns) gain grids, >= 1.
    falloff : (3,) the darkest corner of each channel relative to its brightest point, before correction.
    residual : (3,) rms of the bin means around the fitted surface beyond their noise, relative.
    paths : the flats used.
    """

    camera: str
    gains: dict
    falloff: np.ndarray
    residual: np.ndarray
    paths: tuple

    def block(self) -> dict:
        """The ``[lens_shading]`` tuning block."""
        return {"gains": {c: np.round(self.gains[c], 5).tolist() for c in "rgb"}}


def shading_grid_shape(height: int, width: int, columns: int = GRID_COLUMNS) -> tuple[int, int]:
    """(rows, columns) of the gain grid: ``columns`` across, rows following the frame's aspect ratio."""
    rows = max(3, int(round((columns - 1) * height / width)) + 1)
    return rows, columns


def channel_bin_means(
    mosaic: np.ndarray, cfa: np.ndarray | None, channel: int, bin_pixels: int = BIN_PIXELS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean of one colour channel in square bins, each bin's mean sample position, and the mean's variance.

    Returns
    -------
    tuple
        ``(means, rows, cols, variance_of_mean)`` as (bins_y, bins_x) arrays; positions in pixels of the
        frame; the variance of each mean from the spread of its samples (noise and texture).
    """
    height, width = mosaic.shape[:2]
    if cfa is None:
        values, mask = mosaic[..., channel], np.ones((height, width), dtype=bool)
    else:
        n = cfa.shape[0]
        mask = np.tile(cfa == channel, (-(-height // n), -(-width // n)))[:height, :width]
        values = np.where(mask, mosaic, 0.0)
    bins_y, bins_x = height // bin_pixels, width // bin_pixels
    h, w = bins_y * bin_pixels, bins_x * bin_pixels

    def bin_sum(a: np.ndarray) -> np.ndarray:
        return a[:h, :w].reshape(bins_y, bin_pixels, bins_x, bin_pixels).sum(axis=(1, 3), dtype=np.float64)

    counts = bin_sum(mask.astype(np.float32))
    rows = np.arange(height, dtype=np.float64)[:, None] * mask
    cols = np.arange(width, dtype=np.float64)[None, :] * mask
    means = bin_sum(values) / counts
    variance = np.maximum(bin_sum(values.astype(np.float64) ** 2) / counts - means**2, 0.0)
    return means, bin_sum(rows) / counts, bin_sum(cols) / counts, variance / counts


def _legendre_design(u: np.ndarray, v: np.ndarray, degree: int) -> np.ndarray:
    """Design matrix of the tensor-product Legendre basis at coordinates u, v in [-1, 1]."""
    pu = np.polynomial.legendre.legvander(u, degree)
    pv = np.polynomial.legendre.legvander(v, degree)
    return (pv[:, :, None] * pu[:, None, :]).reshape(len(u), -1)


def fit_smooth_surface(
    means: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], degree: int = POLYNOMIAL_DEGREE
):
    """Least-squares tensor-product Legendre surface through bin means; returns a function of (rows, cols).

    Coordinates are mapped so the frame's corners are at -1 and 1 in each axis.
    """
    height, width = shape

    def scaled(r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 2 * c / (width - 1) - 1, 2 * r / (height - 1) - 1

    u, v = scaled(rows.ravel(), cols.ravel())
    coefficients, *_ = np.linalg.lstsq(_legendre_design(u, v, degree), means.ravel(), rcond=None)

    def surface(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        uu, vv = scaled(np.ravel(r), np.ravel(c))
        return (_legendre_design(uu, vv, degree) @ coefficients).reshape(np.shape(r))

    return surface


def flatness(mosaic: np.ndarray, cfa: np.ndarray | None, bin_pixels: int = 2 * BIN_PIXELS) -> np.ndarray:
    """Per channel, the largest departure of a bin mean from the channel's median bin, relative (0 = flat)."""
    out = []
    for channel in range(3):
        means = channel_bin_means(mosaic, cfa, channel, bin_pixels)[0]
        median = np.median(means)
        out.append(float(np.abs(means / median - 1).max()))
    return np.array(out)


def _check_flat(capture: Capture) -> None:
    mosaic = capture.mosaic
    level = float(np.percentile(mosaic, 99))
    if level < MIN_FLAT_LEVEL:
        raise UnreadableInputError(
            f"{capture.path}: flat is underexposed (brightest at {level:.1%} of full scale, needs "
            f"{MIN_FLAT_LEVEL:.0%}); expose more"
        )
    clipped = float((mosaic >= CLIP_LEVEL).mean())
    if clipped > MAX_CLIPPED_FRACTION:
        raise UnreadableInputError(f"{capture.path}: flat is clipped ({clipped:.1%} of pixels saturated); expose less")


def _channel_surface(captures: Sequence[Capture], channel: int):
    """The surface fitted to the normalised bin means of all flats, and its residual beyond noise (relative rms)."""
    stacked, noise = [], []
    for capture in captures:
        means, rows, cols, variance = channel_bin_means(capture.mosaic, capture.raw.cfa, channel)
        median = np.median(means)
        stacked.append(means / median)
        noise.append(variance / median**2)
    means = np.mean(stacked, axis=0)
    noise_variance = np.mean(noise, axis=0) / len(captures)
    surface = fit_smooth_surface(means, rows, cols, captures[0].mosaic.shape[:2])
    excess = np.mean((means - surface(rows, cols)) ** 2 - noise_variance)
    return surface, float(np.sqrt(max(excess, 0.0)))


def calibrate_shading(paths: Sequence[str | os.PathLike], *, grid_columns: int = GRID_COLUMNS) -> ShadingCalibration:
    """Fit the lens-shading gain grids from flat-field raws of one camera and lens setting.

    Raises
    ------
    UnreadableInputError : unreadable raw, an underexposed or clipped flat, a flat that is not flat, frames
        of different sizes.
    UnsupportedError : raws of different cameras.
    """
    captures = load_captures(paths, correct_shading=False)
    shape = captures[0].mosaic.shape[:2]
    for capture in captures:
        if capture.mosaic.shape[:2] != shape:
            raise UnreadableInputError(f"{capture.path}: frame size differs from {captures[0].path}")
        _check_flat(capture)
    rows, columns = shading_grid_shape(*shape, columns=grid_columns)
    grid_r, grid_c = np.meshgrid(
        np.linspace(0, shape[0] - 1, rows), np.linspace(0, shape[1] - 1, columns), indexing="ij"
    )
    dense_r, dense_c = np.meshgrid(
        np.linspace(0, shape[0] - 1, 4 * rows), np.linspace(0, shape[1] - 1, 4 * columns), indexing="ij"
    )
    gains, falloff, residuals = {}, [], []
    for channel, name in enumerate("rgb"):
        surface, residual = _channel_surface(captures, channel)
        if residual > NOT_FLAT_RESIDUAL:
            raise UnreadableInputError(
                f"{captures[0].path}: not a flat field (channel {name} departs {residual:.1%} rms from a smooth "
                f"shading, more than {NOT_FLAT_RESIDUAL:.0%}); shoot a uniform, defocused surface"
            )
        at_grid = surface(grid_r, grid_c)
        peak = max(float(surface(dense_r, dense_c).max()), float(at_grid.max()))
        gain = peak / at_grid
        if not np.all(np.isfinite(gain)) or gain.min() <= 0 or gain.max() > MAX_GAIN:
            raise UnreadableInputError(
                f"{captures[0].path}: not a flat field (channel {name} would need gains up to {gain.max():.1f}, "
                f"more than {MAX_GAIN:g})"
            )
        gains[name] = gain
        falloff.append(float(at_grid.min() / peak))
        residuals.append(residual)
    return ShadingCalibration(
        camera=captures[0].camera,
        gains=gains,
        falloff=np.array(falloff),
        residual=np.array(residuals),
        paths=tuple(c.path for c in captures),
    )
