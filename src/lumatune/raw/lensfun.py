"""The lens corrections lensfun knows for a raw's camera and lens, as DNG lens opcodes (through lensfunpy).

lensfun describes distortion (poly3, poly5, ptlens), lateral chromatic aberration (linear, poly3) and
vignetting (pa) per focal length, aperture and distance. Rather than re-implement each model, this module
asks lensfunpy for its own correction on a small grid of the frame (``Modifier.apply_subpixel_geometry_distortion``
and ``apply_color_modification`` on a white image) and fits the opcodes the lens stage already applies: one
:class:`~lumatune.raw.opcodes.WarpRectilinear2` per colour plane (a radial polynomial in all powers of r up to
:data:`RADIAL_DEGREE`, which holds ptlens' odd powers exactly) and one
:class:`~lumatune.raw.opcodes.FixVignetteRadial`. The fit's largest error, in pixels of the full frame, is
reported with the match as an RMS (lensfun's own maps stray by up to ~0.1 px of the fitting grid on scattered
columns, which the least-squares fit averages out but the reported error counts).

References
----------
-   lensfun 0.3.4, ``lensfun.h`` (``lfModifier``: distortion, TCA and vignetting models; vignetting, TCA and
    distortion are corrected in that order) and its database (version 1).
-   lensfunpy 1.18 (``Database.find_cameras``, ``find_lenses``, ``Modifier``).
-   Adobe, *DNG Specification* 1.6.0.0, chapter 7 (WarpRectilinear2, FixVignetteRadial).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from lumatune.raw.image import RawImage
from lumatune.raw.opcodes import FixVignetteRadial, WarpRectilinear2

__all__ = ["FIT_GRID", "LensfunCorrection", "RADIAL_DEGREE", "lensfun_correction"]

FIT_GRID = 240
"""Width in pixels of the grid on which lensfun's correction is sampled and fitted (its height follows the frame)."""

RADIAL_DEGREE = 8
"""Highest power of r in the fitted radial polynomial (WarpRectilinear2 allows 14)."""

DEFAULT_DISTANCE_M = 1000.0
"""Focus distance given to lensfun when the raw records none (lensfun's own default: infinity)."""


@dataclass(frozen=True)
class LensfunCorrection:
    """lensfun's corrections for one raw, as opcodes in the frame's coordinates (centre 0.5, 0.5)."""

    warp: WarpRectilinear2 | None
    vignette: FixVignetteRadial | None
    description: str
    fit_error_px: float = 0.0
    """RMS of the fit's error, pixels of the full frame (an upper bound: it counts lensfun's own map noise,
    ~0.05 px of the fitting grid, times the frame's size over the grid's)."""


@functools.cache
def _database():
    import lensfunpy  # lazy: lensfunpy and its XML database (~0.3 s), only for raws with a lens to look up

    return lensfunpy, lensfunpy.Database()


def lensfun_correction(raw: RawImage, *, lens: str | None = None, size: tuple[int, int]) -> LensfunCorrection | str:
    """lensfun's corrections for the raw's camera and lens (or ``lens`` by name) on a (width, height) frame, or a
    one-line reason why there are none (no lens named, no match, no calibration at this focal length)."""
    exif = raw.exif or {}
    make, model = str(exif.get("make") or "").strip(), str(exif.get("model") or "").strip()
    lens_name = (lens or str(exif.get("lens_model") or "")).strip()
    if not lens_name:
        return "lensfun: the raw names no lens; not corrected"
    focal = _number(exif.get("focal_length"))
    if focal is None:
        return f"lensfun: no focal length for lens '{lens_name}'; not corrected"
    lensfunpy, db = _database()
    cameras = db.find_cameras(make, model, loose_search=True) if make else []
    if not cameras:
        return f"lensfun: no camera '{make} {model}' in the database; not corrected"
    lenses = db.find_lenses(cameras[0], None, lens_name, loose_search=True)
    if not lenses:
        return f"lensfun: no lens '{lens_name}' for the {cameras[0].maker} {cameras[0].model}; not corrected"
    return fit_correction(lensfunpy, cameras[0], lenses[0], focal, _number(exif.get("f_number")) or 8.0, size)


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def fit_correction(lensfunpy, camera, lens, focal: float, aperture: float, size: tuple[int, int],
                   distance: float = DEFAULT_DISTANCE_M) -> LensfunCorrection | str:
    """Fit WarpRectilinear2 (per plane) and FixVignetteRadial to lensfun's correction of ``lens`` on ``camera``."""
    width, height = size
    grid_w = min(FIT_GRID, width)
    grid_h = max(8, int(round(grid_w * height / width)))
    modifier = lensfunpy.Modifier(lens, camera.crop_factor, grid_w, grid_h)
    flags = lensfunpy.ModifyFlags.DISTORTION | lensfunpy.ModifyFlags.TCA | lensfunpy.ModifyFlags.VIGNETTING
    modifier.initialize(focal, aperture, distance, scale=1.0, pixel_format=np.float32, flags=flags)
    name = f"lensfun: {lens.maker} {lens.model} on {camera.maker} {camera.model} at {focal:g} mm f/{aperture:g}"
    warp, error = _fit_warp(modifier.apply_subpixel_geometry_distortion(), grid_w, grid_h, width / grid_w)
    white = np.ones((grid_h, grid_w, 3), np.float32)
    vignette = _fit_vignette(white, grid_w, grid_h) if modifier.apply_color_modification(white) else None
    if warp is None and vignette is None:
        return f"{name}: no calibration for these settings; not corrected"
    parts = [p for p, on in (("distortion and TCA", warp is not None), ("vignetting", vignette is not None)) if on]
    return LensfunCorrection(warp, vignette, f"{name}: {', '.join(parts)} applied (fit RMS {error:.2f} px)",
                             error)


def _normalised(grid_w: int, grid_h: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(dx, dy) of the grid's pixel centres from the frame centre over m (the half diagonal), and m."""
    m = 0.5 * math.hypot(grid_w, grid_h)
    x = (np.arange(grid_w) + 0.5 - grid_w / 2.0)[None, :] / m
    y = (np.arange(grid_h) + 0.5 - grid_h / 2.0)[:, None] / m
    return np.broadcast_to(x, (grid_h, grid_w)), np.broadcast_to(y, (grid_h, grid_w)), m


def _fit_warp(maps, grid_w: int, grid_h: int, upscale: float) -> tuple[WarpRectilinear2 | None, float]:
    """Per plane, the radial polynomial f(r) with source = centre + m f(r) d that best fits lensfun's maps."""
    if maps is None:
        return None, 0.0
    dx, dy, m = _normalised(grid_w, grid_h)
    r = np.hypot(dx, dy).ravel()
    powers = np.stack([r**i for i in range(RADIAL_DEGREE + 1)], axis=1)
    radial = np.zeros((3, 15))
    worst = 0.0
    for plane in range(3):
        sx = (maps[:, :, plane, 0] + 0.5 - grid_w / 2.0) / m
        sy = (maps[:, :, plane, 1] + 0.5 - grid_h / 2.0) / m
        # least squares of f(r) dx = sx and f(r) dy = sy, both components stacked
        design = np.concatenate([powers * dx.reshape(-1, 1), powers * dy.reshape(-1, 1)])
        target = np.concatenate([sx.ravel(), sy.ravel()])
        coefficients = np.linalg.lstsq(design, target, rcond=None)[0]
        radial[plane, : RADIAL_DEGREE + 1] = coefficients
        # lensfun's own maps are not smooth to better than ~0.05 px of the grid (scattered columns): the RMS
        worst = max(worst, float(np.sqrt(np.mean((design @ coefficients - target) ** 2))) * m * upscale)
    valid = np.tile([0.0, 1.0], (3, 1))
    return WarpRectilinear2(radial, np.zeros((3, 2)), valid, (0.5, 0.5), False), worst


def _fit_vignette(gain: np.ndarray, grid_w: int, grid_h: int) -> FixVignetteRadial:
    """FixVignetteRadial k0..k4 (powers r^2 ... r^10) fitted to lensfun's gain on a white image (green plane)."""
    dx, dy, _m = _normalised(grid_w, grid_h)
    r2 = (dx * dx + dy * dy).ravel()
    design = np.stack([r2 ** (i + 1) for i in range(5)], axis=1)
    k = np.linalg.lstsq(design, gain[:, :, 1].ravel().astype(np.float64) - 1.0, rcond=None)[0]
    return FixVignetteRadial(k, (0.5, 0.5))
