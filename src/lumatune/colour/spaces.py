"""Colour spaces of the develop path: white points, RGB<->XYZ matrices, Bradford adaptation, transfer curves, Lab.

Pure numpy: the develop path must not import colour-science (1.3 s of start-up). The matrices are derived at
import from the primaries and white points the standards publish (a few microseconds), and the tests check
every constant against colour-science.

Conventions
-----------
-   XYZ is scaled so that the white of a space has ``Y = 1``; a white is given by its CIE 1931 2° xy.
-   The working space is linear Rec.2020 (D65). Output spaces are ``"srgb"`` (Rec.709 primaries, D65),
    ``"p3"`` (Display P3: DCI-P3 primaries, D65 white) and ``"rec2020"``.
-   All three output spaces are encoded with the sRGB piecewise curve of IEC 61966-2-1. For Display P3 this is
    the definition of the space. For Rec.2020 it is a choice: the BT.2020 OETF is a camera (scene-referred)
    encoding meant for a BT.1886 display that adds an implicit system gamma, which would make our already
    display-referred looks darker and more contrasty than on sRGB; the sRGB curve keeps one tonality across
    the three outputs. The ICC profile embedded with a Rec.2020 file must therefore carry the sRGB curve
    (ICC parametric curve type 3: g = 2.4, a = 1/1.055, b = 0.055/1.055, c = 1/12.92, d = 0.04045).

References
----------
-   IEC 61966-2-1:1999, Multimedia systems and equipment - Colour measurement and management - Part 2-1:
    Colour management - Default RGB colour space - sRGB.
-   ITU-R BT.709-6 (2015), Parameter values for the HDTV standards (primaries of sRGB).
-   ITU-R BT.2020-2 (2015), Parameter values for ultra-high definition television systems.
-   SMPTE EG 432-1:2010, Digital Source Processing - Color Processing for D-Cinema (P3 primaries); Apple
    Display P3 uses them with the D65 white and the sRGB transfer curve.
-   SMPTE RP 177-1993, Derivation of Basic Television Color Equations (normalised primary matrix).
-   CIE 15:2004, Colorimetry, 3rd edition (xy of the standard illuminants; CIELAB).
-   Lindbloom, B. Chromatic Adaptation. http://www.brucelindbloom.com/Eqn_ChromAdapt.html (Bradford).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike

from lumatune.errors import UnsupportedError

__all__ = [
    "srgb_to_lab",
    "gamut_clip",
    "CCS_ILLUMINANTS",
    "XY_D50",
    "XY_D65",
    "PRIMARIES",
    "SPACES",
    "MATRIX_BRADFORD",
    "MATRIX_D50_TO_D65_BRADFORD",
    "MATRIX_D65_TO_D50_BRADFORD",
    "MATRIX_REC2020_TO_XYZ",
    "MATRIX_XYZ_TO_REC2020",
    "xy_to_XYZ",
    "XYZ_to_xy",
    "normalised_primary_matrix",
    "matrix_rgb_to_xyz",
    "matrix_xyz_to_rgb",
    "matrix_rec2020_to",
    "matrix_chromatic_adaptation_Bradford",
    "eotf_inverse_sRGB",
    "eotf_sRGB",
    "encode_oetf",
    "decode_eotf",
    "XYZ_to_Lab",
    "Lab_to_XYZ",
]

CCS_ILLUMINANTS: dict[str, np.ndarray] = {
    "A": np.array([0.44758, 0.40745]),
    "B": np.array([0.34842, 0.35161]),
    "C": np.array([0.31006, 0.31616]),
    "D50": np.array([0.3457, 0.3585]),
    "D55": np.array([0.33243, 0.34744]),
    "D65": np.array([0.3127, 0.3290]),
    "D75": np.array([0.29903, 0.31488]),
    "E": np.array([1.0 / 3.0, 1.0 / 3.0]),
    "FL2": np.array([0.3721, 0.3751]),
    "FL7": np.array([0.3129, 0.3292]),
    "FL11": np.array([0.3805, 0.3769]),
}
"""CIE 1931 2° xy of the CIE standard illuminants (CIE 15:2004 table T.3; the values colour-science uses).
D50 and D65 are the 4-decimal values that the DNG SDK, ICC (D50) and BT.709/BT.2020 (D65) use."""

XY_D50 = CCS_ILLUMINANTS["D50"]
XY_D65 = CCS_ILLUMINANTS["D65"]

PRIMARIES: dict[str, np.ndarray] = {
    "srgb": np.array([[0.640, 0.330], [0.300, 0.600], [0.150, 0.060]]),
    "p3": np.array([[0.680, 0.320], [0.265, 0.690], [0.150, 0.060]]),
    "rec2020": np.array([[0.708, 0.292], [0.170, 0.797], [0.131, 0.046]]),
}
"""xy of the R, G, B primaries of each space (BT.709 / IEC 61966-2-1, SMPTE EG 432-1, BT.2020); all D65."""

SPACES = tuple(PRIMARIES)

MATRIX_BRADFORD = np.array(
    [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ]
)
"""Bradford cone-response matrix (XYZ -> sharpened RGB), linearised as in Lindbloom and the DNG SDK."""


def xy_to_XYZ(xy: ArrayLike, Y: float = 1.0) -> np.ndarray:
    """Return the XYZ of chromaticity ``xy`` (shape ``(..., 2)``) at luminance ``Y``.

    References
    ----------
    CIE 15:2004, section 7.3.
    """
    x, y = np.moveaxis(np.asarray(xy, dtype=np.float64), -1, 0)
    return np.stack([x * Y / y, np.broadcast_to(Y, x.shape), (1.0 - x - y) * Y / y], axis=-1)


def XYZ_to_xy(XYZ: ArrayLike) -> np.ndarray:
    """Return the CIE 1931 xy chromaticity of ``XYZ`` (shape ``(..., 3)``).

    References
    ----------
    CIE 15:2004, section 7.3.
    """
    XYZ = np.asarray(XYZ, dtype=np.float64)
    return XYZ[..., :2] / np.sum(XYZ, axis=-1, keepdims=True)


def normalised_primary_matrix(primaries: ArrayLike, whitepoint: ArrayLike) -> np.ndarray:
    """Return the RGB -> XYZ matrix of a space from its primaries' xy (3x2) and its white's xy.

    The columns are the XYZ of the primaries, scaled so that RGB (1, 1, 1) maps to the white with Y = 1.

    References
    ----------
    SMPTE RP 177-1993, section 3.3.
    """
    columns = xy_to_XYZ(primaries).T
    scale = np.linalg.solve(columns, xy_to_XYZ(whitepoint))
    return columns * scale


_MATRICES_RGB_TO_XYZ = {name: normalised_primary_matrix(xy, XY_D65) for name, xy in PRIMARIES.items()}
_MATRICES_XYZ_TO_RGB = {name: np.linalg.inv(matrix) for name, matrix in _MATRICES_RGB_TO_XYZ.items()}

MATRIX_REC2020_TO_XYZ = _MATRICES_RGB_TO_XYZ["rec2020"]
MATRIX_XYZ_TO_REC2020 = _MATRICES_XYZ_TO_RGB["rec2020"]


def _checked_space(space: str) -> str:
    """Return ``space`` if it names an RGB space of :data:`SPACES`, else raise :class:`UnsupportedError`."""
    if space not in PRIMARIES:
        raise UnsupportedError(f"colour space {space!r} is not supported; use one of {', '.join(SPACES)}")
    return space


def matrix_rgb_to_xyz(space: str) -> np.ndarray:
    """Return a copy of the linear ``space`` RGB -> XYZ (D65, Y = 1 for white) matrix.

    References
    ----------
    SMPTE RP 177-1993; ITU-R BT.709-6; SMPTE EG 432-1; ITU-R BT.2020-2.
    """
    return _MATRICES_RGB_TO_XYZ[_checked_space(space)].copy()


def matrix_xyz_to_rgb(space: str) -> np.ndarray:
    """Return a copy of the XYZ (D65) -> linear ``space`` RGB matrix.

    References
    ----------
    SMPTE RP 177-1993; ITU-R BT.709-6; SMPTE EG 432-1; ITU-R BT.2020-2.
    """
    return _MATRICES_XYZ_TO_RGB[_checked_space(space)].copy()


def matrix_rec2020_to(space: str) -> np.ndarray:
    """Return the linear Rec.2020 -> linear ``space`` RGB matrix (all spaces share the D65 white).

    References
    ----------
    ITU-R BT.2020-2; ITU-R BT.709-6; SMPTE EG 432-1.
    """
    return _MATRICES_XYZ_TO_RGB[_checked_space(space)] @ MATRIX_REC2020_TO_XYZ


def matrix_chromatic_adaptation_Bradford(xy_src: ArrayLike, xy_dst: ArrayLike) -> np.ndarray:
    """Return the linear Bradford matrix that adapts XYZ seen under white ``xy_src`` to white ``xy_dst``.

    ``M = inv(B) @ diag(B @ XYZ_dst / B @ XYZ_src) @ B`` with the whites at Y = 1, so that the source white's
    XYZ maps exactly to the destination white's XYZ.

    References
    ----------
    Lindbloom, Chromatic Adaptation (von Kries transform with the Bradford cone matrix); the DNG SDK's
    ``MapWhiteMatrix`` (DNG Specification 1.6.0.0, chapter 6, recommends linear Bradford).
    """
    cone_src = MATRIX_BRADFORD @ xy_to_XYZ(xy_src)
    cone_dst = MATRIX_BRADFORD @ xy_to_XYZ(xy_dst)
    return np.linalg.solve(MATRIX_BRADFORD, (cone_dst / cone_src)[:, None] * MATRIX_BRADFORD)


MATRIX_D50_TO_D65_BRADFORD = matrix_chromatic_adaptation_Bradford(XY_D50, XY_D65)
MATRIX_D65_TO_D50_BRADFORD = matrix_chromatic_adaptation_Bradford(XY_D65, XY_D50)

_SRGB_LINEAR_LIMIT = np.float32(0.0031308)
_SRGB_ENCODED_LIMIT = np.float32(0.04045)
_TILE_ELEMENTS = 1 << 18
_THREADS = min(os.cpu_count() or 1, 8)


def _as_float32(values: ArrayLike) -> np.ndarray:
    """Return ``values`` as a float32 array (no copy when it already is one)."""
    return np.asarray(values, dtype=np.float32)


def _eotf_inverse_sRGB_into(x: np.ndarray, out: np.ndarray) -> None:
    """Write the sRGB encoding of float32 ``x`` into ``out`` (same shape), in place, float32 throughout."""
    with np.errstate(invalid="ignore"):  # negative x: NaN from the power, replaced by the linear segment
        np.power(x, np.float32(1.0 / 2.4), out=out)
    out *= np.float32(1.055)
    out -= np.float32(0.055)
    np.multiply(x, np.float32(12.92), out=out, where=x <= _SRGB_LINEAR_LIMIT)


def _eotf_sRGB_into(v: np.ndarray, out: np.ndarray) -> None:
    """Write the sRGB decoding of float32 ``v`` into ``out`` (same shape), in place, float32 throughout."""
    np.add(v, np.float32(0.055), out=out)
    out *= np.float32(1.0 / 1.055)
    with np.errstate(invalid="ignore"):  # v < -0.055: NaN from the power, replaced by the linear segment
        np.power(out, np.float32(2.4), out=out)
    np.multiply(v, np.float32(1.0 / 12.92), out=out, where=v <= _SRGB_ENCODED_LIMIT)


def _apply_tiled(kernel: Callable[[np.ndarray, np.ndarray], None], values: ArrayLike) -> np.ndarray:
    """Apply an element-wise in-place ``kernel`` to float32 ``values`` in cache-sized tiles on all cores."""
    x = np.ascontiguousarray(_as_float32(values))
    out = np.empty_like(x)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)
    if flat_x.size <= _TILE_ELEMENTS or _THREADS == 1:
        kernel(flat_x, flat_out)
        return out
    starts = range(0, flat_x.size, _TILE_ELEMENTS)
    tiles = [(flat_x[s : s + _TILE_ELEMENTS], flat_out[s : s + _TILE_ELEMENTS]) for s in starts]
    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(lambda tile: kernel(*tile), tiles))
    return out


def eotf_inverse_sRGB(x: ArrayLike) -> np.ndarray:
    """Encode linear values with the sRGB curve: ``12.92 x`` up to 0.0031308, ``1.055 x^(1/2.4) - 0.055`` above.

    Works in float32 (max error 2e-7 against float64 on [0, 1]); values below 0 follow the linear segment
    and values above 1 the power segment (clip before quantising). Large arrays run in tiles on all cores.

    References
    ----------
    IEC 61966-2-1:1999, section 5.3 (equations 5.2 and 5.3, inverted).
    """
    return _apply_tiled(_eotf_inverse_sRGB_into, x)


def eotf_sRGB(v: ArrayLike) -> np.ndarray:
    """Decode sRGB-encoded values: ``v / 12.92`` up to 0.04045, ``((v + 0.055) / 1.055)^2.4`` above; float32.

    References
    ----------
    IEC 61966-2-1:1999, section 5.2 (equations 5.2 and 5.3).
    """
    return _apply_tiled(_eotf_sRGB_into, v)


_ENCODINGS: dict[str, tuple[Callable[[ArrayLike], np.ndarray], Callable[[ArrayLike], np.ndarray]]] = {
    "srgb": (eotf_inverse_sRGB, eotf_sRGB),
    "p3": (eotf_inverse_sRGB, eotf_sRGB),
    "rec2020": (eotf_inverse_sRGB, eotf_sRGB),
}
"""(encode, decode) transfer functions of each output space; see the module notes for Rec.2020."""


def gamut_clip(rgb: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """Bring negative components to 0 by desaturating towards the pixel's luminance, then clip to [0, 1].

    ``luminance`` holds the space's Y weights (the middle row of its RGB -> XYZ matrix); float32 in, float32 out.
    """
    y = np.maximum(rgb @ luminance.astype(np.float32), 0.0)[..., None]
    low = np.min(rgb, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(low < 0, y / (y - low), 1.0)
    out = y + (rgb - y) * t.astype(np.float32)
    return np.clip(out, 0.0, 1.0)


def encode_oetf(x: ArrayLike, space: str) -> np.ndarray:
    """Encode linear ``space`` RGB for display with the space's transfer curve; float32 in and out.

    References
    ----------
    IEC 61966-2-1:1999 (sRGB, Display P3 and, by the choice in the module notes, Rec.2020).
    """
    return _ENCODINGS[_checked_space(space)][0](x)


def decode_eotf(v: ArrayLike, space: str) -> np.ndarray:
    """Decode display-encoded ``space`` RGB to linear light; the inverse of :func:`encode_oetf`; float32.

    References
    ----------
    IEC 61966-2-1:1999 (sRGB, Display P3 and, by the choice in the module notes, Rec.2020).
    """
    return _ENCODINGS[_checked_space(space)][1](v)


_LAB_EPSILON = (6.0 / 29.0) ** 3


def XYZ_to_Lab(XYZ: ArrayLike, white_xy: ArrayLike = XY_D65) -> np.ndarray:
    """Return CIE 1976 L*a*b* of ``XYZ`` (shape ``(..., 3)``, Y = 1 for the reference white ``white_xy``).

    References
    ----------
    CIE 15:2004, section 8.2.1.
    """
    ratio = np.asarray(XYZ, dtype=np.float64) / xy_to_XYZ(white_xy)
    f = np.where(ratio > _LAB_EPSILON, np.cbrt(ratio), ratio / (3.0 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    fx, fy, fz = np.moveaxis(f, -1, 0)
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def Lab_to_XYZ(Lab: ArrayLike, white_xy: ArrayLike = XY_D65) -> np.ndarray:
    """Return the XYZ of CIE 1976 L*a*b* values ``Lab`` for the reference white ``white_xy`` (Y = 1).

    References
    ----------
    CIE 15:2004, section 8.2.1 (inverse, note 5).
    """
    L, a, b = np.moveaxis(np.asarray(Lab, dtype=np.float64), -1, 0)
    fy = (L + 16.0) / 116.0
    f = np.stack([fy + a / 500.0, fy, fy - b / 200.0], axis=-1)
    ratio = np.where(f > 6.0 / 29.0, f**3, 3.0 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0))
    return ratio * xy_to_XYZ(white_xy)


def srgb_to_lab(encoded: np.ndarray) -> np.ndarray:
    """CIELAB (D65 white, Y = 1 at sRGB white) of display-encoded sRGB; float64."""
    linear = decode_eotf(np.clip(encoded, 0.0, 1.0).astype(np.float32), "srgb").astype(np.float64)
    return XYZ_to_Lab(linear @ matrix_rgb_to_xyz("srgb").T)
