"""Correlated colour temperature and tint <-> CIE 1931 xy, by Robertson's isotemperature lines, as the DNG SDK.

The DNG SDK (``dng_temperature.cpp``) uses Robertson's method with the 31-line table of Wyszecki & Stiles in
*both* directions: xy -> (CCT, tint) finds the pair of isotemperature lines the point lies between, and
(CCT, tint) -> xy interpolates the table in mired and steps along the interpolated isotemperature direction.
It does not use the CIE daylight locus. This module reproduces that code, vectorised, so that the CCTs that
weight DNG ColorMatrix1/2 and the temperature/tint we report agree with Adobe's.

*Tint* is the DNG SDK's: the signed distance from the Planckian locus along the isotemperature line in CIE
1960 uv, times ``TINT_SCALE = -3000``. It is positive when the white lies on the green side of the locus
(Camera Raw then shows a positive, magenta-ward tint correction) and equals ``3000 * Duv``.

The table keeps the DNG SDK's value u = 0.24702 at 325 mired, a transcription error in the source that
Lindbloom (and colour-science) correct to 0.24792; it moves CCTs between about 2860 K and 3340 K by up to
about 30 K. We keep it so that our CCTs equal the SDK's, which weights every DNG profile. The CCT is clamped
to [1667 K, 100000 K], the span of the table, on the xy -> CCT side.

References
----------
-   Robertson, A. R. (1968). Computation of Correlated Color Temperature and Distribution Temperature.
    Journal of the Optical Society of America, 58(11), 1528-1535. doi:10.1364/JOSA.58.001528
-   Wyszecki, G., & Stiles, W. S. (2000). Color Science, 2nd ed., table 1(3.11), p. 228. Wiley.
-   Adobe Systems. DNG SDK 1.6, ``source/dng_temperature.cpp`` (``dng_temperature::Set_xy_coord`` and
    ``Get_xy_coord``, ``kTintScale``); DNG Specification 1.6.0.0, chapter 6.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ISOTEMPERATURE_LINES_ROBERTSON1968",
    "TINT_SCALE",
    "xy_to_uv_1960",
    "uv_1960_to_xy",
    "xy_to_cct_tint",
    "cct_tint_to_xy",
]

ISOTEMPERATURE_LINES_ROBERTSON1968 = np.array(
    [
        # mired, u, v, slope dv/du of the isotemperature line
        [0, 0.18006, 0.26352, -0.24341],
        [10, 0.18066, 0.26589, -0.25479],
        [20, 0.18133, 0.26846, -0.26876],
        [30, 0.18208, 0.27119, -0.28539],
        [40, 0.18293, 0.27407, -0.30470],
        [50, 0.18388, 0.27709, -0.32675],
        [60, 0.18494, 0.28021, -0.35156],
        [70, 0.18611, 0.28342, -0.37915],
        [80, 0.18740, 0.28668, -0.40955],
        [90, 0.18880, 0.28997, -0.44278],
        [100, 0.19032, 0.29326, -0.47888],
        [125, 0.19462, 0.30141, -0.58204],
        [150, 0.19962, 0.30921, -0.70471],
        [175, 0.20525, 0.31647, -0.84901],
        [200, 0.21142, 0.32312, -1.0182],
        [225, 0.21807, 0.32909, -1.2168],
        [250, 0.22511, 0.33439, -1.4512],
        [275, 0.23247, 0.33904, -1.7298],
        [300, 0.24010, 0.34308, -2.0637],
        [325, 0.24702, 0.34655, -2.4681],  # DNG SDK value; Lindbloom's correction is 0.24792
        [350, 0.25591, 0.34951, -2.9641],
        [375, 0.26400, 0.35200, -3.5814],
        [400, 0.27218, 0.35407, -4.3633],
        [425, 0.28039, 0.35577, -5.3762],
        [450, 0.28863, 0.35714, -6.7262],
        [475, 0.29685, 0.35823, -8.5955],
        [500, 0.30505, 0.35907, -11.324],
        [525, 0.31320, 0.35968, -15.628],
        [550, 0.32129, 0.36011, -23.325],
        [575, 0.32931, 0.36038, -40.770],
        [600, 0.33724, 0.36051, -116.45],
    ]
)
"""Robertson's isotemperature lines as the DNG SDK's ``kTempTable``: mired, CIE 1960 u, v, slope dv/du."""

TINT_SCALE = -3000.0
"""DNG SDK ``kTintScale``: tint units per unit of uv distance along the isotemperature line."""

_MIRED, _U, _V, _SLOPE = ISOTEMPERATURE_LINES_ROBERTSON1968.T
_DU = 1.0 / np.hypot(1.0, _SLOPE)
_DV = _SLOPE * _DU


def xy_to_uv_1960(xy: ArrayLike) -> np.ndarray:
    """Return CIE 1960 UCS uv of CIE 1931 xy (shape ``(..., 2)``).

    References
    ----------
    CIE 15:2004, appendix (CIE 1960 UCS): u = 4x / (-2x + 12y + 3), v = 6y / (-2x + 12y + 3).
    """
    x, y = np.moveaxis(np.asarray(xy, dtype=np.float64), -1, 0)
    denominator = 1.5 - x + 6.0 * y
    return np.stack([2.0 * x / denominator, 3.0 * y / denominator], axis=-1)


def uv_1960_to_xy(uv: ArrayLike) -> np.ndarray:
    """Return CIE 1931 xy of CIE 1960 UCS uv (shape ``(..., 2)``); the inverse of :func:`xy_to_uv_1960`.

    References
    ----------
    CIE 15:2004, appendix (CIE 1960 UCS).
    """
    u, v = np.moveaxis(np.asarray(uv, dtype=np.float64), -1, 0)
    denominator = u - 4.0 * v + 2.0
    return np.stack([1.5 * u / denominator, v / denominator], axis=-1)


def _blend_unit(index_a: np.ndarray, index_b: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the renormalised blend ``f * line_a + (1 - f) * line_b`` of the lines' unit direction vectors."""
    du = _DU[index_a] * f + _DU[index_b] * (1.0 - f)
    dv = _DV[index_a] * f + _DV[index_b] * (1.0 - f)
    length = np.hypot(du, dv)
    return du / length, dv / length


def xy_to_cct_tint(xy: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return the correlated colour temperature (K) and DNG tint of CIE 1931 ``xy`` (shape ``(..., 2)``).

    Robertson's method as ``dng_temperature::Set_xy_coord``: the first isotemperature line (from 100000 K
    down) that the point is not above brackets it with the previous line; the CCT is interpolated in mired
    by the point's distances to the two lines, and the tint is its distance from the interpolated locus point
    along the interpolated line direction, times :data:`TINT_SCALE`. Clamped to [1667 K, 100000 K].

    Returns
    -------
    tuple of numpy.ndarray
        ``(cct, tint)``, each of shape ``xy.shape[:-1]``.

    References
    ----------
    Robertson (1968); DNG SDK ``dng_temperature.cpp``.

    Examples
    --------
    >>> [float(value) for value in xy_to_cct_tint([0.3127, 0.3290])]  # doctest: +ELLIPSIS
    [6503.70..., 9.76...]
    """
    u, v = np.moveaxis(xy_to_uv_1960(xy), -1, 0)
    distance = -(u[..., None] - _U[1:]) * _DV[1:] + (v[..., None] - _V[1:]) * _DU[1:]
    not_above = distance <= 0.0
    line = np.where(not_above.any(axis=-1), not_above.argmax(axis=-1) + 1, 30)
    distance_here = -np.minimum(np.take_along_axis(distance, (line - 1)[..., None], axis=-1)[..., 0], 0.0)
    distance_before = np.take_along_axis(distance, np.maximum(line - 2, 0)[..., None], axis=-1)[..., 0]
    f = np.where(line == 1, 0.0, distance_here / np.where(line == 1, 1.0, distance_before + distance_here))
    before = line - 1
    cct = 1.0e6 / (_MIRED[before] * f + _MIRED[line] * (1.0 - f))
    du, dv = _blend_unit(before, line, f)
    offset_u = u - (_U[before] * f + _U[line] * (1.0 - f))
    offset_v = v - (_V[before] * f + _V[line] * (1.0 - f))
    return cct, (offset_u * du + offset_v * dv) * TINT_SCALE


def cct_tint_to_xy(cct: ArrayLike, tint: ArrayLike = 0.0) -> np.ndarray:
    """Return the CIE 1931 xy of a correlated colour temperature (K) and DNG tint.

    As ``dng_temperature::Get_xy_coord``: the locus point and the isotemperature direction are interpolated
    linearly in mired between the two bracketing table lines (extrapolated below 1667 K), and the point is
    moved ``tint / TINT_SCALE`` along that direction.

    Raises
    ------
    ValueError
        ``cct`` is not finite and positive.

    References
    ----------
    Robertson (1968); DNG SDK ``dng_temperature.cpp``.

    Examples
    --------
    >>> cct_tint_to_xy(5000.0).round(4)
    array([0.3451, 0.3516])
    """
    cct = np.asarray(cct, dtype=np.float64)
    if not np.all(np.isfinite(cct) & (cct > 0)):
        raise ValueError(f"colour temperature must be finite and > 0, got {cct}")
    mired = 1.0e6 / cct
    line = np.clip(np.searchsorted(_MIRED, mired, side="right") - 1, 0, 29)
    after = line + 1
    f = (_MIRED[after] - mired) / (_MIRED[after] - _MIRED[line])
    du, dv = _blend_unit(line, after, f)
    offset = np.asarray(tint, dtype=np.float64) / TINT_SCALE
    u = _U[line] * f + _U[after] * (1.0 - f) + du * offset
    v = _V[line] * f + _V[after] * (1.0 - f) + dv * offset
    return uv_1960_to_xy(np.stack(np.broadcast_arrays(u, v), axis=-1))
