"""Hue/saturation map: the DNG ProfileHueSatMap correction a calibrated tuning adds after the colour matrix.

Colours go to linear ProPhoto RGB (D50) and HSV (hue in [0, 6)); each (hue, saturation) node of the table
holds a hue shift in degrees, a saturation scale and a value scale, read with linear interpolation (hue
wraps). Tables are keyed by colour temperature and interpolated in 1/CCT like the colour matrices.
``lumatune calibrate colour --hue-sat-map`` fits them.

References
----------
- Adobe DNG Specification 1.6.0.0, tags ProfileHueSatMapDims, ProfileHueSatMapData1/2 (chapter 6), and
  the DNG SDK's ``RefBaselineHueSatMap``.
- ANSI/I3A IT10.7666:2003, *Reference Input Medium Metric RGB* (ProPhoto RGB primaries, D50 white).
- Smith, A. R., "Color gamut transform pairs", SIGGRAPH 1978 (HSV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.interpolate import interpolate_by_ct
from lumatune.colour.spaces import (
    MATRIX_D50_TO_D65_BRADFORD,
    MATRIX_D65_TO_D50_BRADFORD,
    MATRIX_REC2020_TO_XYZ,
    MATRIX_XYZ_TO_REC2020,
)
from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50, hsv_to_rgb, rgb_to_hsv
from lumatune.errors import BadFileError
from lumatune.stages._jit import FASTMATH
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = [
    "HueSatMap",
    "HueSatMapParams",
    "apply_hue_sat_map",
    "apply_hue_sat_map_rec2020",
    "apply_hue_sat_map_rec2020_fast",
    "STAGE",
]

@dataclass(frozen=True)
class HueSatMap:
    """A DNG hue/saturation table: ``table`` (value divisions, hue divisions, saturation divisions, 3) of
    (hue shift in degrees, saturation scale, value scale)."""

    table: np.ndarray

    @property
    def dims(self) -> tuple[int, int, int]:
        """ProfileHueSatMapDims: (hue divisions, saturation divisions, value divisions)."""
        return self.table.shape[1], self.table.shape[2], self.table.shape[0]


def _lookup(hsm: HueSatMap, hsv: np.ndarray) -> np.ndarray:
    """(n, 3) table entries at HSV points: linear in hue (wrapping) and saturation, value divisions 1."""
    table = hsm.table[0]
    hues, sats = table.shape[0], table.shape[1]
    hue = hsv[:, 0] * hues / 6.0
    h0 = np.floor(hue).astype(int) % hues
    h1 = (h0 + 1) % hues
    fh = (hue - np.floor(hue))[:, None]
    sat = np.clip(hsv[:, 1], 0, 1) * (sats - 1)
    s0 = np.minimum(np.floor(sat).astype(int), sats - 2)
    fs = (sat - s0)[:, None]
    low = table[h0, s0] * (1 - fs) + table[h0, s0 + 1] * fs
    high = table[h1, s0] * (1 - fs) + table[h1, s0 + 1] * fs
    return low * (1 - fh) + high * fh


def apply_hue_sat_map(xyz_d50: np.ndarray, hsm: HueSatMap) -> np.ndarray:
    """Apply a hue/saturation table (value divisions 1) to XYZ D50 colours, via linear ProPhoto RGB HSV.

    References
    ----------
    DNG Specification 1.6.0.0, ProfileHueSatMapData; DNG SDK ``RefBaselineHueSatMap``.
    """
    if hsm.table.shape[0] != 1:
        raise ValueError("only hue/saturation tables with one value division are supported")
    rgb = np.asarray(xyz_d50, dtype=np.float64).reshape(-1, 3) @ np.linalg.inv(MATRIX_PROPHOTO_TO_XYZ_D50).T
    negative = np.minimum(rgb, 0.0)  # channels below zero pass unchanged, as in the DNG SDK
    hsv = rgb_to_hsv(rgb - negative)
    entry = _lookup(hsm, hsv)
    hsv = np.stack(
        [hsv[:, 0] + entry[:, 0] * 6 / 360, np.minimum(hsv[:, 1] * entry[:, 1], 1.0), hsv[:, 2] * entry[:, 2]], -1
    )
    return ((hsv_to_rgb(hsv) + negative) @ MATRIX_PROPHOTO_TO_XYZ_D50.T).reshape(np.shape(xyz_d50))



@dataclass(frozen=True)
class HueSatMapParams:
    """Calibrated hue/saturation tables; none by default."""

    maps: tuple | None = param(
        None, doc="[{ct = <kelvin>, table = [hues][saturations][hue shift deg, sat scale, value scale]}, ...]"
    )


def _tables(params: HueSatMapParams) -> list[tuple[float, np.ndarray]]:
    tables = []
    for i, entry in enumerate(params.maps):
        try:
            ct, table = float(entry["ct"]), np.asarray(entry["table"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise BadFileError(f"hue_sat_map.maps[{i}]: needs ct = <kelvin> and table = [[[h, s, v], ...], ...]") from None
        if table.ndim != 3 or table.shape[-1] != 3 or min(table.shape[:2]) < 2 or not np.all(np.isfinite(table)):
            raise BadFileError(f"hue_sat_map.maps[{i}]: table must be hues x saturations x 3 finite numbers")
        tables.append((ct, table))
    return tables


def _plan(params: HueSatMapParams, frame: Frame, image: np.ndarray) -> HueSatMap | None:
    if not params.maps:
        return None

    wb = frame.white_balance
    cct = (wb.cct if wb and wb.cct else None) or 5000.0
    return HueSatMap(interpolate_by_ct(_tables(params), cct)[None])


_REC2020_TO_XYZ_D50 = MATRIX_D65_TO_D50_BRADFORD @ MATRIX_REC2020_TO_XYZ
_XYZ_D50_TO_REC2020 = MATRIX_XYZ_TO_REC2020 @ MATRIX_D50_TO_D65_BRADFORD


def apply_hue_sat_map_rec2020(rgb: np.ndarray, hsm: HueSatMap) -> np.ndarray:
    """The table applied to linear Rec.2020 (D65) pixels, through XYZ D50 (plain numpy)."""
    xyz_d50 = rgb.reshape(-1, 3) @ _REC2020_TO_XYZ_D50.T
    return (apply_hue_sat_map(xyz_d50, hsm) @ _XYZ_D50_TO_REC2020.T).astype(np.float32).reshape(rgb.shape)


def apply_hue_sat_map_rec2020_fast(rgb: np.ndarray, hsm: HueSatMap) -> np.ndarray:
    """:func:`apply_hue_sat_map_rec2020` in one parallel pass, in place on a C-ordered float32 H x W x 3 image
    (value divisions 1)."""
    to_prophoto = np.linalg.inv(MATRIX_PROPHOTO_TO_XYZ_D50) @ _REC2020_TO_XYZ_D50
    from_prophoto = _XYZ_D50_TO_REC2020 @ MATRIX_PROPHOTO_TO_XYZ_D50
    return _hue_sat_map(rgb, to_prophoto, from_prophoto, hsm.table[0].astype(np.float64))


@njit(cache=True, fastmath=FASTMATH)
def _hsv(r, g, b):
    v = max(r, max(g, b))
    span = v - min(r, min(g, b))
    if span <= 0.0:
        return 0.0, 0.0, v
    if v == r:
        h = (g - b) / span
    elif v == g:
        h = 2.0 + (b - r) / span
    else:
        h = 4.0 + (r - g) / span
    if h < 0.0:
        h += 6.0
    return h, span / v, v


@njit(cache=True, fastmath=FASTMATH)
def _rgb(h, s, v):
    h = h % 6.0
    sector = int(h) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    if sector == 0:
        return v, t, p
    if sector == 1:
        return q, v, p
    if sector == 2:
        return p, v, t
    if sector == 3:
        return p, q, v
    if sector == 4:
        return t, p, v
    return v, p, q


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _hue_sat_map(rgb, to_prophoto, from_prophoto, table):
    hues, sats = table.shape[0], table.shape[1]
    for i in prange(rgb.shape[0]):
        for j in range(rgb.shape[1]):
            x, y, z = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            p = np.empty(3)
            n = np.empty(3)
            for c in range(3):
                value = to_prophoto[c, 0] * x + to_prophoto[c, 1] * y + to_prophoto[c, 2] * z
                n[c] = min(value, 0.0)  # channels below zero pass unchanged, as in the DNG SDK
                p[c] = value - n[c]
            h, s, v = _hsv(p[0], p[1], p[2])
            hue = h * hues / 6.0
            h0 = int(np.floor(hue)) % hues
            h1 = (h0 + 1) % hues
            fh = hue - np.floor(hue)
            sat = min(max(s, 0.0), 1.0) * (sats - 1)
            s0 = min(int(np.floor(sat)), sats - 2)
            fs = sat - s0
            entry = np.empty(3)
            for k in range(3):
                low = table[h0, s0, k] * (1 - fs) + table[h0, s0 + 1, k] * fs
                high = table[h1, s0, k] * (1 - fs) + table[h1, s0 + 1, k] * fs
                entry[k] = low * (1 - fh) + high * fh
            r2, g2, b2 = _rgb(h + entry[0] * 6.0 / 360.0, min(s * entry[1], 1.0), v * entry[2])
            r2, g2, b2 = r2 + n[0], g2 + n[1], b2 + n[2]
            for c in range(3):
                rgb[i, j, c] = from_prophoto[c, 0] * r2 + from_prophoto[c, 1] * g2 + from_prophoto[c, 2] * b2
    return rgb


STAGE = Stage(
    name="hue_sat_map",
    side="tuning",
    params=HueSatMapParams,
    plan=_plan,
    process=apply_hue_sat_map_rec2020_fast,
    summary="calibrated hue/saturation corrections (DNG HueSatMap) after the matrix",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
