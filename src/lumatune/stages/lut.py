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
from typing import Any

import numpy as np
from numba import njit, prange

from lumatune.colour.spaces import decode_eotf, encode_oetf, gamut_clip, matrix_rec2020_to, matrix_rgb_to_xyz
from lumatune.stages.params import loaded, param
from lumatune.stages._jit import FASTMATH, clamp01, lookup
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "LutParams",
    "LutPlan",
    "apply_lut",
    "apply_lut_fast",
    "lut_input",
    "lut_output",
    "lut_plan",
    "tetrahedral",
    "tetrahedral_weights",
]

LUT_SPACES = ("srgb", "p3", "rec2020", "rec2020_linear")
_ENCODE_TABLE_SIZE = 4096  # intervals of the encoding table, on a square-root grid of [0, 1] (error < 3e-7)
_DECODE_TABLE_SIZE = 1024  # intervals of the decoding table, on a linear grid of [0, 1] (error < 1e-6)


@dataclass(frozen=True)
class LutParams:
    """A colour table from a file, the space it expects and how strongly it applies."""

    file: str = param("", doc="a .cube file or a Hald CLUT .png (relative to the look file); empty: none")
    strength: float = param(1.0, min=0.0, max=1.0, doc="0: no effect; 1: the table's output")
    space: str = param("srgb", choices=LUT_SPACES, doc="what the table expects: display-encoded space or linear")
    table: Any = loaded("the table read from `file` when the look loads (a lumatune.io.lut.Lut)")


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
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    indices, weights = tetrahedral_weights((rgb - low) / (high - low), table.shape[0])
    corners = table.reshape(-1, 3)[indices].astype(np.float64)  # (n, 4, 3)
    return np.sum(weights[..., None] * corners, axis=1).reshape(shape)


def tetrahedral_weights(rgb: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat lattice indices (n, 4) and weights (n, 4) of the tetrahedral interpolation at ``rgb`` in [0, 1]^3.

    The same cells, tetrahedra and tie-breaks as :func:`tetrahedral` (and the compiled kernel), so that
    ``sum(weights * table.reshape(-1, 3)[indices], axis=1)`` is its value on a table over [0, 1]^3: a fit of the
    table's entries is linear in them.

    References
    ----------
    Kasson et al., J. Electronic Imaging 4(3), 1995, section 4.4.
    """
    x = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0) * (size - 1)
    base = np.minimum(np.floor(x), size - 2).astype(np.int64)
    fr, fg, fb = (x - base).T
    cases = (
        ((fr > fg) & (fg >= fb), (fr, fg, fb), ((1, 0, 0), (1, 1, 0))),
        ((fr > fb) & (fb > fg), (fr, fb, fg), ((1, 0, 0), (1, 0, 1))),
        ((fb >= fr) & (fr > fg), (fb, fr, fg), ((0, 0, 1), (1, 0, 1))),
        ((fb > fg) & (fg >= fr), (fb, fg, fr), ((0, 0, 1), (0, 1, 1))),
        ((fg >= fb) & (fb > fr), (fg, fb, fr), ((0, 1, 0), (0, 1, 1))),
        ((fg >= fr) & (fr >= fb), (fg, fr, fb), ((0, 1, 0), (1, 1, 0))),
    )
    n = len(x)
    corners = np.zeros((n, 4, 3), np.int64)
    weights = np.zeros((n, 4))
    done = np.zeros(n, bool)
    for mask, (a, b, c), (first, second) in cases:
        mask = mask & ~done
        done |= mask
        corners[mask, 1] = first
        corners[mask, 2] = second
        corners[mask, 3] = (1, 1, 1)
        weights[mask] = np.stack([1 - a[mask], a[mask] - b[mask], b[mask] - c[mask], c[mask]], axis=-1)
    ijk = base[:, None, :] + corners
    indices = (ijk[..., 0] * size + ijk[..., 1]) * size + ijk[..., 2]
    return indices, weights


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
    rgb = np.asarray(rgb, np.float32)
    if plan.space == "rec2020_linear":
        return (rgb + plan.strength * (_apply_table(rgb, plan) - rgb)).astype(np.float32)
    encoded = lut_input(rgb, plan)
    graded = encoded + plan.strength * (_apply_table(encoded, plan) - encoded)
    return lut_output(graded, plan)


def lut_input(rgb: np.ndarray, plan: LutPlan) -> np.ndarray:
    """What a display-space table reads: linear Rec.2020 ``rgb`` (..., 3) in the plan's space, gamut-clipped and
    encoded (plain numpy, exact transfer curve); float64."""

    rgb = np.asarray(rgb, np.float32)
    linear = (rgb.reshape(-1, 3) @ plan.to_space.T.astype(np.float32)).reshape(rgb.shape)
    return encode_oetf(gamut_clip(linear, plan.luminance), plan.space).astype(np.float64)


def lut_output(graded: np.ndarray, plan: LutPlan) -> np.ndarray:
    """A display-space table's output ``graded`` (..., 3) back to linear Rec.2020 (clipped to [0, 1] first, plain
    numpy, exact transfer curve); float32."""

    decoded = decode_eotf(np.clip(graded, 0.0, 1.0).astype(np.float32), plan.space)
    shape = np.shape(graded)
    return (decoded.reshape(-1, 3) @ plan.from_space.T.astype(np.float32)).reshape(shape).astype(np.float32)


def _tetra_offsets(size: int) -> np.ndarray:
    """Flat offsets of the two middle vertices of each tetrahedron, by ``4 (r>g) + 2 (g>b) + (r>b)``.

    The first vertex is the cell's origin, the last its far corner; codes 1 and 6 cannot happen.
    """
    sr, sg, sb = size * size * 3, size * 3, 3
    offsets = np.zeros((8, 2), np.int64)
    offsets[7] = (sr, sr + sg)  # r > g > b
    offsets[5] = (sr, sr + sb)  # r > b >= g
    offsets[4] = (sb, sr + sb)  # b >= r > g
    offsets[3] = (sg, sr + sg)  # g >= r > b
    offsets[2] = (sg, sg + sb)  # g > b >= r
    offsets[0] = (sb, sg + sb)  # b >= g >= r
    return offsets


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _tetra(flat, size, offsets, x, y, z):
    """Tetrahedral lookup in the flattened [r, g, b, c] table at lattice coordinates (x, y, z); branch-free."""
    n2 = size - 2
    i, j, k = min(np.int32(x), n2), min(np.int32(y), n2), min(np.int32(z), n2)
    fr, fg, fb = x - np.float32(i), y - np.float32(j), z - np.float32(k)
    code = 4 * np.int32(fr > fg) + 2 * np.int32(fg > fb) + np.int32(fr > fb)
    hi, lo = max(fr, max(fg, fb)), min(fr, min(fg, fb))
    mid = fr + fg + fb - hi - lo
    w0, w1, w2, w3 = np.float32(1.0) - hi, hi - mid, mid - lo, lo
    base = (np.int64(i) * size + j) * size * 3 + np.int64(k) * 3
    o1, o2, o3 = base + offsets[code, 0], base + offsets[code, 1], base + (size * size + size + 1) * 3
    r = w0 * flat[base] + w1 * flat[o1] + w2 * flat[o2] + w3 * flat[o3]
    g = w0 * flat[base + 1] + w1 * flat[o1 + 1] + w2 * flat[o2 + 1] + w3 * flat[o3 + 1]
    b = w0 * flat[base + 2] + w1 * flat[o1 + 2] + w2 * flat[o2 + 2] + w3 * flat[o3 + 2]
    return r, g, b


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _encode_kernel(rgb, m, lum, encode):
    """Linear Rec.2020 -> gamut-clipped, encoded RGB of the table's space, in place."""
    n = np.float32(encode.shape[0] - 1)
    end = n - np.float32(1e-3)
    zero, one, tiny = np.float32(0.0), np.float32(1.0), np.float32(1e-9)
    for i in prange(rgb.shape[0]):
        row = rgb[i]
        for j in range(rgb.shape[1]):
            r, g, b = row[j, 0], row[j, 1], row[j, 2]
            x = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
            y = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            z = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
            low = min(x, min(y, z))
            luma = max(lum[0] * x + lum[1] * y + lum[2] * z, zero)
            t = luma / max(luma - low, tiny) if low < zero else one
            row[j, 0] = lookup(np.sqrt(max(luma + (x - luma) * t, zero)) * n, encode, end)
            row[j, 1] = lookup(np.sqrt(max(luma + (y - luma) * t, zero)) * n, encode, end)
            row[j, 2] = lookup(np.sqrt(max(luma + (z - luma) * t, zero)) * n, encode, end)
    return rgb


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _decode_kernel(rgb, m_inv, decode):
    """Encoded RGB of the table's space -> linear Rec.2020, in place."""
    n = np.float32(decode.shape[0] - 1)
    end = n - np.float32(1e-3)
    for i in prange(rgb.shape[0]):
        row = rgb[i]
        for j in range(rgb.shape[1]):
            x = lookup(row[j, 0] * n, decode, end)
            y = lookup(row[j, 1] * n, decode, end)
            z = lookup(row[j, 2] * n, decode, end)
            row[j, 0] = m_inv[0, 0] * x + m_inv[0, 1] * y + m_inv[0, 2] * z
            row[j, 1] = m_inv[1, 0] * x + m_inv[1, 1] * y + m_inv[1, 2] * z
            row[j, 2] = m_inv[2, 0] * x + m_inv[2, 1] * y + m_inv[2, 2] * z
    return rgb


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _table_kernel(rgb, flat, size, offsets, low, scale, strength):
    """The 3-D table, blended by ``strength``, in place."""
    last = np.float32(size - 1)
    for i in prange(rgb.shape[0]):
        row = rgb[i]
        for j in range(rgb.shape[1]):
            r, g, b = row[j, 0], row[j, 1], row[j, 2]
            x = clamp01((r - low[0]) * scale[0]) * last
            y = clamp01((g - low[1]) * scale[1]) * last
            z = clamp01((b - low[2]) * scale[2]) * last
            o0, o1, o2 = _tetra(flat, size, offsets, x, y, z)
            row[j, 0] = r + strength * (o0 - r)
            row[j, 1] = g + strength * (o1 - g)
            row[j, 2] = b + strength * (o2 - b)
    return rgb


@lru_cache(maxsize=4)
def _transfer_tables(space: str) -> tuple[np.ndarray, np.ndarray]:
    """Small (cache-resident) tables of the space's encoding, at ``x = t^2``, and decoding, at ``v = t``."""

    t = np.linspace(0.0, 1.0, _ENCODE_TABLE_SIZE + 1)
    encode = encode_oetf((t * t).astype(np.float32), space)
    decode = decode_eotf(np.linspace(0.0, 1.0, _DECODE_TABLE_SIZE + 1).astype(np.float32), space)
    return encode, decode


def apply_lut_fast(rgb: np.ndarray, plan: LutPlan) -> np.ndarray:
    """:func:`apply_lut` for 3-D tables in numba passes (tabulated transfer curves); overwrites ``rgb``.

    Three passes (encode, table, decode) run faster than one fused loop, whose many live values and
    lookups the compiler schedules poorly.
    """
    if plan.table.ndim != 4:
        return apply_lut(rgb, plan)
    f32 = np.float32
    display = plan.space != "rec2020_linear"
    if display:
        encode, decode = _transfer_tables(plan.space)
        _encode_kernel(rgb, plan.to_space.astype(f32), plan.luminance.astype(f32), encode)
    size = plan.table.shape[0]
    scale = (1.0 / (plan.domain_max - plan.domain_min)).astype(f32)
    flat = plan.table.reshape(-1)
    _table_kernel(rgb, flat, size, _tetra_offsets(size), plan.domain_min.astype(f32), scale, f32(plan.strength))
    if display:
        _decode_kernel(rgb, plan.from_space.astype(f32), decode)
    return rgb


def lut_plan(params: LutParams) -> LutPlan | None:
    """The plan from the table the look loader read (``params.table``), or None without a file.

    Raises
    ------
    ValueError : ``params`` name a file whose table was not loaded (params made by hand: give ``table=``).
    """

    if not params.file or params.strength == 0:
        return None
    lut = params.table
    if lut is None:
        raise ValueError(f"lut: the table of {params.file} was not loaded (lumatune.load_look reads it)")
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
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
