"""LUT: a 1-D or 3-D colour table from a file (``.cube`` or Hald CLUT), blended by ``strength``.

The look says which space the table expects (``space``):

-   ``rec2020_linear``: the working space itself, scene-referred linear Rec.2020; inputs outside the table's
    domain are clamped to it;
-   ``srgb``, ``p3``, ``rec2020``: display-encoded RGB (sRGB transfer curve) of that space, as film
    emulation tables and ``lumatune look export`` expect. The table then sees the colorimetric rendering of
    the scene, what the ``neutral`` look writes: the stage converts to the space, gamut-clips as the tone
    stage does, clips to [0, 1], encodes, applies the table, decodes and converts back. Such a table
    carries its own tone, so pair it with ``[tone] curve = "none"`` (a ``.cube`` given as the look does
    that: neutral + the table), and the pipeline output equals the table applied to the neutral rendering.

3-D tables are read with tetrahedral interpolation, exact on the lattice points; 1-D tables per channel,
linearly. :func:`apply_lut` is the plain numpy version; the stage runs :func:`apply_lut_fast` (numba).

References
----------
-   J. M. Kasson, S. I. Nin, W. Plouffe, J. L. Hafner, "Performing color space conversions with
    three-dimensional linear interpolation", J. Electronic Imaging 4(3), 226-250, 1995 (tetrahedral).
-   Adobe Systems, "Cube LUT Specification" 1.0, 2013 (domain and lattice).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit, prange

from lumatune.params import param
from lumatune.stages._fastmath import lookup
from lumatune.stages.base import Frame, Stage

__all__ = ["LutParams", "LutPlan", "tetrahedral", "apply_lut", "apply_lut_fast", "lut_plan", "STAGE"]

LUT_SPACES = ("srgb", "p3", "rec2020", "rec2020_linear")
_TRANSFER_TABLE_SIZE = 16384


@dataclass(frozen=True)
class LutParams:
    """A colour table from a file, the space it expects and how strongly it applies."""

    file: str = param("", doc="a .cube file or a Hald CLUT .png (relative to the look file); empty: none")
    strength: float = param(1.0, min=0.0, max=1.0, doc="0: no effect; 1: the table's output")
    space: str = param("srgb", choices=LUT_SPACES, doc="what the table expects: display-encoded space or linear")


@dataclass(frozen=True)
class LutPlan:
    table: np.ndarray  # (N, N, N, 3) indexed [r, g, b], or (N, 3) for a 1-D table; float32
    domain_min: np.ndarray
    domain_max: np.ndarray
    strength: float
    space: str  # a display space name, or "rec2020_linear"
    to_space: np.ndarray  # linear Rec.2020 -> linear space (identity for rec2020_linear)
    from_space: np.ndarray
    luminance: np.ndarray  # Y weights of the space's primaries, for the gamut clip


def _unit_index(rgb: np.ndarray, low: np.ndarray, high: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.clip((rgb - low) / (high - low), 0.0, 1.0) * (size - 1)
    base = np.minimum(np.floor(x), size - 2).astype(np.intp)
    return base, x - base


def tetrahedral(rgb: np.ndarray, table: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Tetrahedral interpolation of the 3-D ``table`` ([r, g, b], domain [low, high]) at ``rgb`` (plain numpy).

    The cell is cut into six tetrahedra along its grey diagonal; the one holding the point is found by the
    order of the fractional parts, and the result is exact on the lattice points.

    References
    ----------
    Kasson et al., J. Electronic Imaging 4(3), 1995, section 4.4.
    """
    shape = rgb.shape
    rgb = np.asarray(rgb, np.float64).reshape(-1, 3)
    size = table.shape[0]
    base, frac = _unit_index(rgb, np.asarray(low), np.asarray(high), size)
    i, j, k = base.T
    fr, fg, fb = frac.T

    def corner(di, dj, dk):
        return table[i + di, j + dj, k + dk].astype(np.float64)

    c000, c111 = corner(0, 0, 0), corner(1, 1, 1)
    out = np.empty_like(rgb)
    cases = (
        ((fr > fg) & (fg >= fb), (fr, fg, fb), ((1, 0, 0), (1, 1, 0))),
        ((fr > fb) & (fb > fg), (fr, fb, fg), ((1, 0, 0), (1, 0, 1))),
        ((fb >= fr) & (fr > fg), (fb, fr, fg), ((0, 0, 1), (1, 0, 1))),
        ((fb > fg) & (fg >= fr), (fb, fg, fr), ((0, 0, 1), (0, 1, 1))),
        ((fg >= fb) & (fb > fr), (fg, fb, fr), ((0, 1, 0), (0, 1, 1))),
        ((fg >= fr) & (fr >= fb), (fg, fr, fb), ((0, 1, 0), (1, 1, 0))),
    )
    done = np.zeros(len(rgb), bool)
    for mask, (a, b, c), (first, second) in cases:
        mask = mask & ~done
        done |= mask
        a, b, c = a[mask, None], b[mask, None], c[mask, None]
        out[mask] = (
            (1 - a) * c000[mask] + (a - b) * corner(*first)[mask] + (b - c) * corner(*second)[mask] + c * c111[mask]
        )
    return out.reshape(shape)


def _apply_table(values: np.ndarray, plan: LutPlan) -> np.ndarray:
    if plan.table.ndim == 4:
        return tetrahedral(values, plan.table, plan.domain_min, plan.domain_max)
    size = plan.table.shape[0]
    out = np.empty(values.shape, np.float64)
    for c in range(3):
        grid = np.linspace(plan.domain_min[c], plan.domain_max[c], size)
        out[..., c] = np.interp(values[..., c], grid, plan.table[:, c])
    return out


def apply_lut(rgb: np.ndarray, plan: LutPlan) -> np.ndarray:
    """The table on linear Rec.2020 ``rgb`` (plain numpy, exact transfer curves); float32 out."""
    from lumatune.colour.spaces import decode_eotf, encode_oetf
    from lumatune.stages.tone import gamut_clip

    rgb = np.asarray(rgb, np.float32)
    if plan.space == "rec2020_linear":
        return (rgb + plan.strength * (_apply_table(rgb, plan) - rgb)).astype(np.float32)
    linear = (rgb.reshape(-1, 3) @ plan.to_space.T.astype(np.float32)).reshape(rgb.shape)
    encoded = encode_oetf(gamut_clip(linear, plan.luminance), plan.space).astype(np.float64)
    graded = encoded + plan.strength * (_apply_table(encoded, plan) - encoded)
    decoded = decode_eotf(np.clip(graded, 0.0, 1.0).astype(np.float32), plan.space)
    return (decoded.reshape(-1, 3) @ plan.from_space.T.astype(np.float32)).reshape(rgb.shape).astype(np.float32)


@njit(cache=True, fastmath=True, inline="always")
def _tetra(table, x, y, z, last):
    """Tetrahedral lookup at lattice coordinates (x, y, z) in [0, last]; returns three float32."""
    n2 = table.shape[0] - 2
    i = min(np.int32(x), n2)
    j = min(np.int32(y), n2)
    k = min(np.int32(z), n2)
    fr, fg, fb = x - np.float32(i), y - np.float32(j), z - np.float32(k)
    if fr > fg:
        if fg >= fb:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fr, fg, fb, 1, 0, 0, 1, 1, 0
        elif fr > fb:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fr, fb, fg, 1, 0, 0, 1, 0, 1
        else:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fb, fr, fg, 0, 0, 1, 1, 0, 1
    else:
        if fb > fg:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fb, fg, fr, 0, 0, 1, 0, 1, 1
        elif fb > fr:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fg, fb, fr, 0, 1, 0, 0, 1, 1
        else:
            a, b, c, d1i, d1j, d1k, d2i, d2j, d2k = fg, fr, fb, 0, 1, 0, 1, 1, 0
    w0, w1, w2, w3 = np.float32(1.0) - a, a - b, b - c, c
    out0 = w0 * table[i, j, k, 0] + w1 * table[i + d1i, j + d1j, k + d1k, 0]
    out1 = w0 * table[i, j, k, 1] + w1 * table[i + d1i, j + d1j, k + d1k, 1]
    out2 = w0 * table[i, j, k, 2] + w1 * table[i + d1i, j + d1j, k + d1k, 2]
    out0 += w2 * table[i + d2i, j + d2j, k + d2k, 0] + w3 * table[i + 1, j + 1, k + 1, 0]
    out1 += w2 * table[i + d2i, j + d2j, k + d2k, 1] + w3 * table[i + 1, j + 1, k + 1, 1]
    out2 += w2 * table[i + d2i, j + d2j, k + d2k, 2] + w3 * table[i + 1, j + 1, k + 1, 2]
    return out0, out1, out2


@njit(parallel=True, cache=True, fastmath=True)
def _lut_kernel(rgb, table, low, scale, strength, display, m, m_inv, lum, encode, decode):
    height, width = rgb.shape[0], rgb.shape[1]
    last = np.float32(table.shape[0] - 1)
    zero, one = np.float32(0.0), np.float32(1.0)
    n_enc = np.float32(encode.shape[0] - 1)
    n_dec = np.float32(decode.shape[0] - 1)
    end_enc, end_dec = n_enc - np.float32(1e-3), n_dec - np.float32(1e-3)
    for i in prange(height):
        for j in range(width):
            r, g, b = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            if display:
                x = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
                y = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
                z = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
                low_ = min(x, min(y, z))
                if low_ < zero:
                    luma = max(lum[0] * x + lum[1] * y + lum[2] * z, zero)
                    t = luma / (luma - low_)
                    x, y, z = luma + (x - luma) * t, luma + (y - luma) * t, luma + (z - luma) * t
                r = lookup(x * n_enc, encode, end_enc)
                g = lookup(y * n_enc, encode, end_enc)
                b = lookup(z * n_enc, encode, end_enc)
            x = min(max((r - low[0]) * scale[0], zero), one) * last
            y = min(max((g - low[1]) * scale[1], zero), one) * last
            z = min(max((b - low[2]) * scale[2], zero), one) * last
            o0, o1, o2 = _tetra(table, x, y, z, last)
            r, g, b = r + strength * (o0 - r), g + strength * (o1 - g), b + strength * (o2 - b)
            if display:
                x = lookup(r * n_dec, decode, end_dec)
                y = lookup(g * n_dec, decode, end_dec)
                z = lookup(b * n_dec, decode, end_dec)
                r = m_inv[0, 0] * x + m_inv[0, 1] * y + m_inv[0, 2] * z
                g = m_inv[1, 0] * x + m_inv[1, 1] * y + m_inv[1, 2] * z
                b = m_inv[2, 0] * x + m_inv[2, 1] * y + m_inv[2, 2] * z
            rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2] = r, g, b
    return rgb


@lru_cache(maxsize=4)
def _transfer_tables(space: str) -> tuple[np.ndarray, np.ndarray]:
    from lumatune.colour.spaces import decode_eotf, encode_oetf

    grid = np.linspace(0.0, 1.0, _TRANSFER_TABLE_SIZE + 1).astype(np.float32)
    return encode_oetf(grid, space), decode_eotf(grid, space)


def apply_lut_fast(rgb: np.ndarray, plan: LutPlan) -> np.ndarray:
    """:func:`apply_lut` in one numba pass for 3-D tables (tabulated transfer curves); overwrites ``rgb``."""
    if plan.table.ndim != 4:
        return apply_lut(rgb, plan)
    display = plan.space != "rec2020_linear"
    encode, decode = _transfer_tables(plan.space if display else "srgb")
    f32 = np.float32
    return _lut_kernel(
        rgb,
        plan.table,
        plan.domain_min.astype(f32),
        (1.0 / (plan.domain_max - plan.domain_min)).astype(f32),
        f32(plan.strength),
        display,
        plan.to_space.astype(f32),
        plan.from_space.astype(f32),
        plan.luminance.astype(f32),
        encode,
        decode,
    )


def lut_plan(params: LutParams) -> LutPlan | None:
    """The plan (reads the table once per file, see :func:`lumatune.io.lut.load_lut`), or None without a file."""
    from lumatune.colour.spaces import matrix_rec2020_to, matrix_rgb_to_xyz
    from lumatune.io.lut import load_lut

    if not params.file or params.strength == 0:
        return None
    lut = load_lut(params.file)
    display = params.space != "rec2020_linear"
    to_space = matrix_rec2020_to(params.space) if display else np.eye(3)
    return LutPlan(
        table=lut.table,
        domain_min=np.asarray(lut.domain_min, np.float64),
        domain_max=np.asarray(lut.domain_max, np.float64),
        strength=params.strength,
        space=params.space,
        to_space=to_space,
        from_space=np.linalg.inv(to_space),
        luminance=matrix_rgb_to_xyz(params.space)[1] if display else np.zeros(3),
    )


def _plan(params: LutParams, frame: Frame, image: np.ndarray) -> LutPlan | None:
    return lut_plan(params)


STAGE = Stage(
    name="lut",
    side="look",
    params=LutParams,
    plan=_plan,
    process=apply_lut_fast,
    summary="a 3-D or 1-D colour table from a .cube or Hald CLUT file",
)
