"""A hue/saturation table (DNG ProfileHueSatMap) for what a 3x3 matrix cannot fix, fitted on chart patches.

The table follows the DNG specification: colours are taken to linear ProPhoto RGB (D50), to HSV (hue in
[0, 6)), and each (hue, saturation[, value]) node holds a hue shift in degrees, a saturation scale and a value
scale, read with linear interpolation (hue wraps around). Greys are left alone: every correction fades to
none at zero saturation. The fitted table is smooth by construction: each of the three corrections is a short
Fourier series in hue times a ramp in saturation, whose few coefficients are fitted to minimise the mean
CIEDE2000 of the patches (after the matrix) plus a small penalty on their size; the table is then sampled at
its nodes and the patches are scored through the sampled table itself.

References
----------
- Adobe DNG Specification 1.6.0.0, tags ProfileHueSatMapDims, ProfileHueSatMapData1/2 and
  ProfileHueSatMapEncoding (chapter 6, "Camera Profiles"), and the DNG SDK's ``RefBaselineHueSatMap``.
- ANSI/I3A IT10.7666:2003, *Reference Input Medium Metric RGB* (ROMM/ProPhoto RGB primaries, D50 white).
- Smith, A. R., "Color gamut transform pairs", SIGGRAPH 1978 (HSV).
"""

from __future__ import annotations


import numpy as np

from lumatune.colour.difference import delta_e00
from lumatune.colour.spaces import MATRIX_D50_TO_D65_BRADFORD, MATRIX_D65_TO_D50_BRADFORD, XYZ_to_Lab
from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50, hsv_to_rgb, rgb_to_hsv
from lumatune.stages.hue_sat_map import HueSatMap, apply_hue_sat_map

__all__ = [
    "HUE_DIVISIONS",
    "SATURATION_DIVISIONS",
    "HueSatMap",
    "MATRIX_PROPHOTO_TO_XYZ_D50",
    "rgb_to_hsv",
    "hsv_to_rgb",
    "apply_hue_sat_map",
    "fit_hue_sat_map",
    "fit_calibration_hue_sat_maps",
]

HUE_DIVISIONS = 36
SATURATION_DIVISIONS = 9
"""Nodes of the fitted table: every 10 degrees of hue; saturation 0, 1/8, ..., 1; one value division."""

HARMONICS = 2
"""Fourier harmonics in hue of each correction (5 coefficients each)."""

SATURATION_KNEE = 0.25
"""Corrections grow linearly with saturation up to this and stay constant beyond."""

COEFFICIENT_UNITS = (10.0, 0.1, 0.1)
"""Units of the fitted coefficients: hue shift in 10 degrees, saturation and value log-scales in 0.1."""

PENALTY = 0.02
"""Weight of the coefficients' squared size in the fit (ΔE00 per coefficient unit squared)."""

def _table_from_coefficients(coefficients: np.ndarray) -> HueSatMap:
    hue = np.arange(HUE_DIVISIONS) * 2 * np.pi / HUE_DIVISIONS
    sat = np.linspace(0, 1, SATURATION_DIVISIONS)
    basis = np.column_stack(
        [np.ones_like(hue)] + [f(k * hue) for k in range(1, HARMONICS + 1) for f in (np.cos, np.sin)]
    )  # (hues, 2K+1)
    ramp = np.minimum(sat / SATURATION_KNEE, 1.0)  # (sats,)
    c = coefficients.reshape(3, -1)
    shift, log_sat, log_val = (basis @ c[i] * unit for i, unit in enumerate(COEFFICIENT_UNITS))
    table = np.stack([shift[:, None] * ramp, np.exp(log_sat[:, None] * ramp), np.exp(log_val[:, None] * ramp)], axis=-1)
    return HueSatMap(table[None].astype(np.float32))


def fit_hue_sat_map(
    xyz_d65: np.ndarray, reference_xyz_d65: np.ndarray, exposure_scale: float
) -> tuple[HueSatMap, np.ndarray]:
    """Fit a smooth hue/saturation table that moves matrix-rendered patches towards their references.

    Parameters
    ----------
    xyz_d65 : (n, 3) patches rendered by the fitted matrix (XYZ D65, white Y = 1).
    reference_xyz_d65 : (n, 3) their references.
    exposure_scale : the exposure scale fitted on the greys (applied before Lab).

    Returns
    -------
    tuple
        ``(table, de00)``: the table, and the per-patch CIEDE2000 through it.

    References
    ----------
    DNG Specification 1.6.0.0, ProfileHueSatMapData (table semantics).
    """
    from scipy.optimize import minimize  # lazy: scipy (0.3 s)

    d50 = xyz_d65 @ MATRIX_D65_TO_D50_BRADFORD.T
    target = XYZ_to_Lab(reference_xyz_d65)

    def de00(coefficients: np.ndarray) -> np.ndarray:
        corrected = apply_hue_sat_map(d50, _table_from_coefficients(coefficients)) @ MATRIX_D50_TO_D65_BRADFORD.T
        return delta_e00(XYZ_to_Lab(corrected * exposure_scale), target)

    def cost(coefficients: np.ndarray) -> float:
        return float(de00(coefficients).mean() + PENALTY * (coefficients**2).sum())

    start = np.zeros(3 * (2 * HARMONICS + 1))
    best = minimize(cost, start, method="Powell", options={"xtol": 1e-3, "ftol": 1e-4, "maxfev": 4000}).x
    return _table_from_coefficients(best), de00(best)


def fit_calibration_hue_sat_maps(calibration) -> tuple[tuple[HueSatMap, ...], list[np.ndarray]]:
    """One table per illuminant of a :class:`~lumatune.calibrate.colour.ColourCalibration`, fitted on its
    charts after its matrix; returns the tables and the (24,) mean CIEDE2000 per patch through them."""
    from lumatune.calibrate.chart import NEUTRAL_PATCHES  # lazy: cv2 (~22 ms)
    from lumatune.calibrate.colour import exposure_scale, white_balanced  # lazy: cv2 (~24 ms)

    maps, de00 = [], []
    for fit in calibration.fits:
        xyz = np.concatenate([white_balanced(s.chart.rgb, fit.neutral) @ fit.matrix.T for s in fit.shots])
        reference = np.concatenate([s.reference_xyz for s in fit.shots])
        greys = np.isin(np.arange(len(xyz)) % 24, NEUTRAL_PATCHES)
        table, errors = fit_hue_sat_map(xyz, reference, exposure_scale(xyz[greys, 1], reference[greys, 1]))
        maps.append(table)
        de00.append(errors.reshape(-1, 24).mean(axis=0))
    return tuple(maps), de00
