"""Lens correction: distortion, lateral chromatic aberration and vignetting, in linear light after the colour matrix.

The corrections come from the raw's own DNG opcodes (WarpRectilinear, WarpRectilinear2, WarpFisheye and
FixVignetteRadial of OpcodeList3, which the specification applies after demosaicing; such opcodes of
OpcodeList1/2 are applied here too, first, with a note, since lumatune demosaics before it can warp), from the
lensfun database for other raws (:mod:`lumatune.raw.lensfun`), or from the tuning's own coefficients
(``radial``, ``magnification``, ``vignette``: what ``lumatune calibrate lens`` writes).

All of them become one small *program*: per opcode and colour plane a row of numbers (kind, centre, scale,
coefficients). For each output pixel and plane the program is walked from the last opcode to the first: a warp
moves the position to where its input pixel lies, a vignette multiplies the gain by its value there. The input
is then read there with Keys' bicubic kernel (a = -0.5), clamped to the image as the DNG SDK does, and
multiplied by the gain: several warps compose exactly, with one resampling. For lens warps (every output column
a curve that crosses each source row once) the kernel is applied in two 1-D passes, as Catmull and Smith
resample: each source row is read where the output columns' curves cross it, then each output column along its
curve, 4 + 4 taps per pixel instead of 4 x 4; other warps are read with the 2-D kernel.

Coordinates are those of the DNG specification: the image (the active area) has its corners at (0, 0) and
(W, H), pixel centres at half-integers; ``m`` is the distance from the optical centre to the farthest corner.
With ``border = "fill"`` (the default) the output is first scaled about the image centre by the largest factor
<= 1 at which every output pixel reads inside the raw, so no undefined pixel shows.

References
----------
-   Adobe, *Digital Negative (DNG) Specification* 1.6.0.0, 2021, chapter 7: WarpRectilinear (1), WarpFisheye
    (2), FixVignetteRadial (3), WarpRectilinear2 (14); where OpcodeList1/2/3 apply.
-   Adobe DNG SDK 1.6, ``dng_lens_correction.cpp`` (source position clamped to the image; bicubic resampling).
-   R. Keys, "Cubic convolution interpolation for digital image processing", IEEE Trans. ASSP 29(6), 1981.
-   E. Catmull, A. R. Smith, "3-D transformations of images in scanline order", SIGGRAPH 1980 (two-pass warps).
-   lensfun, ``lensfun.h`` (distortion, TCA and vignetting models; order vignetting, TCA, distortion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numba
from numba import njit, prange

from lumatune.raw.opcodes import (
    FixVignetteRadial,
    GainMap,
    Opcode,
    WarpFisheye,
    WarpRectilinear,
    WarpRectilinear2,
    opcode_name,
)
from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage
from lumatune.stages.params import param

__all__ = [
    "KIND_FISHEYE",
    "KIND_GAIN_MAP",
    "KIND_RECTILINEAR",
    "KIND_VIGNETTE",
    "LensParams",
    "LensPlan",
    "STAGE",
    "apply_lens",
    "apply_lens_band",
    "apply_lens_fast",
    "band_reach",
    "band_rows_needed",
    "bicubic_read",
    "clamped",
    "dng_warp_program",
    "frame_geometry",
    "keys_at",
    "lens_plan",
    "lens_report",
    "opcode_rows",
    "resample_by_maps",
    "separable_read",
    "source_positions",
]

KIND_RECTILINEAR, KIND_FISHEYE, KIND_VIGNETTE, KIND_GAIN_MAP = 1.0, 2.0, 3.0, 4.0
"""Kinds of program rows: a radial/tangential warp (WarpRectilinear, WarpRectilinear2), WarpFisheye, a radial gain,
a gain grid (GainMap of OpcodeList3, its gains kept in the plan's ``grids``)."""

ROW = 24
"""Numbers per program row: kind, cx, cy, m, reciprocal, r_min, r_max, kt0, kt1, then 15 coefficients."""

_PLANES = 3
_BORDER_SAMPLES = 256
"""Points per image edge at which the fill scale and the band margin are found."""
_INTERIOR_GRID = 33
"""Grid points per side inside the image for the band margin (the largest shift of a radial warp is on the edge)."""
_FILL_STEPS = 40
"""Bisection steps of the fill scale (2^-40: exact to well below a pixel)."""
_MIN_FILL_SCALE = 0.5
"""Smallest fill scale: a warp that needs more zoom than 2x is taken as it is, with a note."""
_MARGIN_SAFETY = 3
"""Rows added to the largest vertical shift for the band margin: the bicubic kernel's reach (2) and one more."""


@dataclass(frozen=True)
class LensParams:
    """Lens correction (DNG opcodes, lensfun or the tuning's coefficients)."""

    dng_opcodes: bool = param(True, doc="apply the raw's own lens opcodes (DNG warps and FixVignetteRadial)")
    lensfun: bool = param(True, doc="for raws without lens opcodes, look the lens up in the lensfun database")
    distortion: bool = param(True, doc="correct distortion")
    chromatic_aberration: bool = param(True, doc="correct lateral chromatic aberration (per-plane warps, TCA)")
    vignetting: bool = param(True, doc="correct vignetting (FixVignetteRadial, lensfun)")
    lens: str = param("", doc="lensfun lens to use instead of the EXIF's lens model (empty: the EXIF's)")
    border: str = param(
        "fill", choices=("fill", "keep"),
        doc="fill: scale so that no pixel from outside the raw shows; keep: the frame as it is (edges repeated)",
    )
    radial: tuple[float, float, float, float] = param(
        (1.0, 0.0, 0.0, 0.0), min=-4.0, max=4.0,
        doc="the tuning's own WarpRectilinear kr0..kr3 (1, 0, 0, 0: none), used when the raw has no lens opcodes",
    )
    magnification: tuple[float, float] = param(
        (1.0, 1.0), min=0.9, max=1.1, doc="the tuning's own red and blue magnification against green (1, 1: none)"
    )
    vignette: tuple[float, float, float] = param(
        (0.0, 0.0, 0.0), min=-10.0, max=10.0,
        doc="the tuning's own FixVignetteRadial gain terms k0..k2 (of r^2, r^4, r^6; 0: none)",
    )
    centre: tuple[float, float] = param((0.5, 0.5), min=0.0, max=1.0, doc="optical centre of the tuning's terms")


@dataclass(frozen=True, eq=False)
class LensPlan:
    """The program and where the image sits in the opcodes' coordinates.

    Attributes
    ----------
    program : float64 (rows, 3 planes, :data:`ROW`), in the order the corrections apply.
    shared : all planes have the same rows (one position per pixel serves the three channels).
    origin : (x0, y0) opcode coordinates of the image's top-left corner.
    pixel : (sx, sy) opcode units per image pixel (1 unless the image is a reduced preview).
    centre : (xc, yc) opcode coordinates of the image centre (the fill scale's fixed point).
    scale : the fill scale (1 for ``border = "keep"``).
    size : (height, width) of the image the plan is for.
    margin : rows above and below a band the warp reads.
    report : one line per correction found and what was done (for ``lumatune info`` and ``--profile``).
    step : the compiled twin's coarse grid step (:func:`map_step`).
    grids : the gains of the program's GainMap rows, one flat float64 array.
    reach : int64 (2, height): per output row, the first and one past the last source row the warp reads
        (within ``margin``; None: ``margin`` for every row).
    separable : resample in two 1-D passes (:func:`_separable_rows`): the warp keeps every output column a
        curve that crosses each source row once (:func:`_is_separable`); else with the 2-D kernel.
    """

    program: np.ndarray
    shared: bool
    origin: tuple[float, float]
    pixel: tuple[float, float]
    centre: tuple[float, float]
    scale: float
    size: tuple[int, int]
    margin: int
    report: tuple[str, ...] = ()
    step: int = 1
    grids: np.ndarray = field(default_factory=lambda: np.zeros(1))
    reach: np.ndarray | None = None
    separable: bool = False


# --- program rows ------------------------------------------------------------------------------------------


def _row(kind: float, centre: tuple[float, float], m: float, coefficients=(), *, reciprocal=False,
         radius=(0.0, math.inf), tangential=(0.0, 0.0)) -> np.ndarray:
    row = np.zeros(ROW)
    row[:9] = (kind, centre[0], centre[1], m, float(reciprocal), radius[0], radius[1], *tangential)
    row[9 : 9 + len(coefficients)] = coefficients
    return row


def _geometry(centre: tuple[float, float], area: tuple[float, float]) -> tuple[tuple[float, float], float]:
    """Optical centre in pixels and the distance m from it to the farthest corner of a (width, height) area."""
    cx, cy = centre[0] * area[0], centre[1] * area[1]
    m = max(math.hypot(x - cx, y - cy) for x in (0.0, area[0]) for y in (0.0, area[1]))
    return (cx, cy), max(m, 1e-9)


def opcode_rows(opcode, area: tuple[float, float]) -> np.ndarray:
    """Program rows (3 planes, :data:`ROW`) of one lens opcode on an image of ``area`` = (width, height) pixels.

    A warp with fewer coefficient sets than planes uses its last set for the remaining planes.

    References
    ----------
    Adobe DNG Specification 1.6.0.0, chapter 7 (opcodes 1, 2, 3 and 14).
    """
    centre, m = _geometry(opcode.centre, area)
    rows = np.zeros((_PLANES, ROW))
    for plane in range(_PLANES):
        if isinstance(opcode, FixVignetteRadial):
            rows[plane] = _row(KIND_VIGNETTE, centre, m, opcode.k)
            continue
        s = min(plane, opcode.planes - 1)
        if isinstance(opcode, WarpRectilinear):
            powers = np.zeros(15)
            powers[[0, 2, 4, 6]] = opcode.radial[s]
            rows[plane] = _row(KIND_RECTILINEAR, centre, m, powers, radius=(0.0, 1.0),
                               tangential=tuple(opcode.tangential[s]))
        elif isinstance(opcode, WarpRectilinear2):
            rows[plane] = _row(KIND_RECTILINEAR, centre, m, opcode.radial[s], reciprocal=opcode.reciprocal,
                               radius=tuple(opcode.valid_radius[s]), tangential=tuple(opcode.tangential[s]))
        elif isinstance(opcode, WarpFisheye):
            rows[plane] = _row(KIND_FISHEYE, centre, m, opcode.radial[s])
        else:
            raise TypeError(f"not a lens opcode: {type(opcode).__name__}")
    return rows


# --- where each output pixel reads (plain numpy: the reference and the plans' helper) -------------------------


def gain_map_rows(gain_map: GainMap, area: tuple[float, float], offset: int) -> np.ndarray | None:
    """Program rows (3 planes, :data:`ROW`) of a GainMap on the RGB image, its gains starting at ``offset`` of the
    plan's ``grids``; None for a map with pitches other than 1 (a CFA map: no meaning after demosaicing).

    Map coordinates as :mod:`lumatune.stages.lens_shading` reads them (the DNG SDK's ``dng_gain_map``): the pixel
    centre relative to the whole image, clamped to [0, 1], less the origin, over the spacing; gains bilinear,
    clamped at the grid's edges.
    """
    if gain_map.row_pitch != 1 or gain_map.col_pitch != 1:
        return None
    points_v, points_h, map_planes = gain_map.gains.shape
    rows = np.zeros((_PLANES, ROW))
    for plane in range(_PLANES):
        applies = gain_map.plane <= plane < gain_map.plane + gain_map.planes
        rows[plane, :17] = (
            KIND_GAIN_MAP, area[0], area[1], offset, points_v, points_h, *gain_map.map_origin,
            *gain_map.map_spacing, gain_map.top, gain_map.left, gain_map.bottom, gain_map.right, float(applies),
            min(max(plane - gain_map.plane, 0), map_planes - 1), map_planes,
        )
    return rows


def _grid_gain(row, grids, x, y):
    """A GainMap row's gain at (x, y) (numpy arrays; 1 outside its area or for a plane it does not cover)."""
    width, height, offset, points_v, points_h, origin_v, origin_h, spacing_v, spacing_h = row[1:10]
    top, left, bottom, right, applies, map_plane, map_planes = row[10:17]
    if not applies:
        return np.ones(np.broadcast(x, y).shape)
    v = np.clip((np.clip(y / height, 0, 1) - origin_v) / (spacing_v or 1.0), 0, points_v - 1)
    u = np.clip((np.clip(x / width, 0, 1) - origin_h) / (spacing_h or 1.0), 0, points_h - 1)
    iv = np.minimum(np.floor(v), max(points_v - 2, 0)).astype(np.int64)
    iu = np.minimum(np.floor(u), max(points_h - 2, 0)).astype(np.int64)
    fv, fu = v - iv, u - iu
    iv1, iu1 = np.minimum(iv + 1, int(points_v) - 1), np.minimum(iu + 1, int(points_h) - 1)

    def at(a, b):
        return grids[(int(offset) + (a * int(points_h) + b) * int(map_planes) + int(map_plane))]

    gain = (at(iv, iu) * (1 - fu) + at(iv, iu1) * fu) * (1 - fv) + (at(iv1, iu) * (1 - fu) + at(iv1, iu1) * fu) * fv
    xc, yc = np.clip(x, 0.0, width - 1e-6), np.clip(y, 0.0, height - 1e-6)  # beyond the image: its edge pixels
    inside = (yc >= top) & (yc < bottom) & (xc >= left) & (xc < right)
    return np.where(inside, gain, 1.0)


def source_positions(program: np.ndarray, plane: int, x, y, grids: np.ndarray | None = None):
    """Walk the program backwards for one plane: the input position (x, y) each output position reads, and the
    gain it is multiplied by (float64 arrays shaped like ``x``, ``y``; opcode coordinates)."""
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    gain = np.ones(np.broadcast(x, y).shape)
    x, y = np.broadcast_to(x, gain.shape).copy(), np.broadcast_to(y, gain.shape).copy()
    with np.errstate(all="ignore"):
        for row in program[::-1, plane]:
            kind, cx, cy, m, reciprocal, r_min, r_max, kt0, kt1 = row[:9]
            c = row[9:]
            dx, dy = (x - cx) / m, (y - cy) / m
            r2 = dx * dx + dy * dy
            if kind == KIND_GAIN_MAP:
                if grids is not None:  # without them: positions only
                    gain *= _grid_gain(row, grids, x, y)
            elif kind == KIND_VIGNETTE:
                gain *= 1.0 + r2 * (c[0] + r2 * (c[1] + r2 * (c[2] + r2 * (c[3] + r2 * c[4]))))
            elif kind == KIND_RECTILINEAR:
                r = np.clip(np.sqrt(r2), r_min, r_max)
                f = np.polynomial.polynomial.polyval(r, c[:15])
                f = 1.0 / f if reciprocal else f
                tx = kt1 * (r2 + 2 * dx * dx) + 2 * kt0 * dx * dy
                ty = kt0 * (r2 + 2 * dy * dy) + 2 * kt1 * dx * dy
                x, y = cx + m * (f * dx + tx), cy + m * (f * dy + ty)
            elif kind == KIND_FISHEYE:
                r = np.sqrt(r2)
                theta = np.arctan(r)
                source = theta * (c[0] + theta**2 * (c[1] + theta**2 * (c[2] + theta**2 * c[3])))
                ratio = np.where(r > 0, source / np.where(r > 0, r, 1.0), c[0])
                x, y = cx + m * ratio * dx, cy + m * ratio * dy
    return x, y, gain


def _output_positions(plan_geometry, rows: np.ndarray, columns: np.ndarray):
    """Opcode coordinates (before the fill scale) of image pixel centres ``rows`` x ``columns``."""
    (x0, y0), (sx, sy) = plan_geometry
    return x0 + (columns + 0.5) * sx, y0 + (rows + 0.5) * sy


def _keys_weights(t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keys' cubic convolution weights (a = -0.5) of the taps at -1, 0, 1, 2 for a fraction t in [0, 1)."""
    return (
        ((-0.5 * t + 1.0) * t - 0.5) * t,
        (1.5 * t - 2.5) * t * t + 1.0,
        ((-1.5 * t + 2.0) * t + 0.5) * t,
        (0.5 * t - 0.5) * t * t,
    )


def bicubic_read(channel: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``channel`` read at (xs, ys) (pixel indices, already clamped to the image) with Keys' kernel."""
    h, w = channel.shape
    ix, iy = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    wx, wy = _keys_weights(xs - ix), _keys_weights(ys - iy)
    out = np.zeros(xs.shape)
    for a in range(4):
        rows = np.clip(iy + a - 1, 0, h - 1)
        for b in range(4):
            out += wy[a] * wx[b] * channel[rows, np.clip(ix + b - 1, 0, w - 1)]
    return out


def _source_pixels(plan: LensPlan, plane: int, rows, columns):
    """Source (column, row) in whole-image pixel indices, unclamped, and the gain of output pixels (rows, columns)."""
    x, y = _output_positions((plan.origin, plan.pixel), rows, columns)
    x = plan.centre[0] + (x - plan.centre[0]) * plan.scale
    y = plan.centre[1] + (y - plan.centre[1]) * plan.scale
    sx, sy, gain = source_positions(plan.program, plane, x, y, plan.grids)
    return (sx - plan.origin[0]) / plan.pixel[0] - 0.5, (sy - plan.origin[1]) / plan.pixel[1] - 0.5, gain


_NEWTON_STEPS = 8
"""Newton steps (slope by a 1e-3-row difference) for where an output column crosses a source row: the warps
are near the identity, so a few steps reach float64 rounding; 8 leave a margin."""


def _crossings(plan: LensPlan, plane: int, first_row: int, n: int, width: int) -> np.ndarray:
    """(n, width): the source column at which output column j's curve (its pixels' source positions) crosses
    source row ``first_row + r``: Newton's method on the output row, the program walked exactly."""
    columns = np.arange(width, dtype=np.float64)[None, :]
    target = np.arange(first_row, first_row + n, dtype=np.float64)[:, None]
    y = np.repeat(target, width, axis=1)
    with np.errstate(all="ignore"):
        for _ in range(_NEWTON_STEPS):
            _, v, _ = _source_pixels(plan, plane, y, columns)
            _, v1, _ = _source_pixels(plan, plane, y + 1e-3, columns)
            y = y - (v - target) * 1e-3 / (v1 - v)
        u, _, _ = _source_pixels(plan, plane, y, columns)
    return u


def _clean(v: np.ndarray, high: float) -> np.ndarray:
    """Positions clamped to [0, high], NaN to 0 (as the compiled twin's :func:`clamped`)."""
    return np.clip(np.nan_to_num(v, nan=0.0, posinf=high, neginf=0.0), 0.0, high)


def separable_read(channel: np.ndarray, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """``channel`` (n, width) resampled in two 1-D passes with Keys' kernel (Catmull & Smith 1980): row r read at
    columns ``us[r, j]`` (clamped), then column j of that read at rows ``vs[i, j]`` (clamped)."""
    n, width = channel.shape
    us, vs = _clean(us, width - 1.0), _clean(vs, n - 1.0)
    ix = np.floor(us).astype(np.int64)
    wx = _keys_weights(us - ix)
    r = np.arange(n)[:, None]
    across = sum(wx[b] * channel[r, np.clip(ix + b - 1, 0, width - 1)] for b in range(4))
    iy = np.floor(vs).astype(np.int64)
    wy = _keys_weights(vs - iy)
    j = np.arange(width)[None, :]
    return sum(wy[a] * across[np.clip(iy + a - 1, 0, n - 1), j] for a in range(4))


def apply_lens_plain_band(rows: np.ndarray, plan: LensPlan, first_row: int) -> np.ndarray:
    """:func:`apply_lens` on rows ``first_row...`` of the plan's image (reads only these rows; plain numpy)."""
    n, width = rows.shape[:2]
    i = np.arange(first_row, first_row + n, dtype=np.float64)[:, None]
    j = np.arange(width, dtype=np.float64)[None, :]
    out = np.empty(rows.shape, np.float32)
    for plane in range(_PLANES):
        xs, ys, gain = _source_pixels(plan, plane, i, j)
        channel = np.asarray(rows[..., plane], np.float64)
        if plan.separable:
            read = separable_read(channel, _crossings(plan, plane, first_row, n, width), ys - first_row)
        else:
            read = bicubic_read(channel, _clean(xs, width - 1.0), _clean(ys - first_row, n - 1.0))
        out[..., plane] = read * gain
    return out


def apply_lens(rgb: np.ndarray, plan: LensPlan) -> np.ndarray:
    """Warp and shade the (H, W, 3) linear image by the plan (plain numpy, float64 positions): in two 1-D passes
    for a separable plan, else with the 2-D kernel."""
    return apply_lens_plain_band(rgb, plan, 0)


# --- the compiled twin ----------------------------------------------------------------------------------


@njit(inline="always", fastmath=FASTMATH)
def _grid_gain_at(row, grids, x, y):
    # positions beyond the image (the coarse grid's last points) count as its edge pixels
    xc, yc = min(max(x, 0.0), row[1] - 1e-6), min(max(y, 0.0), row[2] - 1e-6)
    if row[14] == 0.0 or not (row[10] <= yc < row[12] and row[11] <= xc < row[13]):
        return 1.0
    points_v, points_h = int(row[4]), int(row[5])
    v = (min(max(y / row[2], 0.0), 1.0) - row[6]) / (row[8] if row[8] != 0.0 else 1.0)
    u = (min(max(x / row[1], 0.0), 1.0) - row[7]) / (row[9] if row[9] != 0.0 else 1.0)
    v = min(max(v, 0.0), points_v - 1.0)
    u = min(max(u, 0.0), points_h - 1.0)
    iv, iu = min(int(v), max(points_v - 2, 0)), min(int(u), max(points_h - 2, 0))
    fv, fu = v - iv, u - iu
    iv1, iu1 = min(iv + 1, points_v - 1), min(iu + 1, points_h - 1)
    base, step, mp = int(row[3]), int(row[16]), int(row[15])
    g00 = grids[base + (iv * points_h + iu) * step + mp]
    g01 = grids[base + (iv * points_h + iu1) * step + mp]
    g10 = grids[base + (iv1 * points_h + iu) * step + mp]
    g11 = grids[base + (iv1 * points_h + iu1) * step + mp]
    return (g00 * (1.0 - fu) + g01 * fu) * (1.0 - fv) + (g10 * (1.0 - fu) + g11 * fu) * fv


@njit(inline="always", fastmath=FASTMATH)
def _walk(program, grids, plane, x, y):
    gain = 1.0
    for k in range(program.shape[0] - 1, -1, -1):
        row = program[k, plane]
        kind, cx, cy, m = row[0], row[1], row[2], row[3]
        if kind == 4.0:
            gain *= _grid_gain_at(row, grids, x, y)
            continue
        dx, dy = (x - cx) / m, (y - cy) / m
        r2 = dx * dx + dy * dy
        if kind == 3.0:
            gain *= 1.0 + r2 * (row[9] + r2 * (row[10] + r2 * (row[11] + r2 * (row[12] + r2 * row[13]))))
        elif kind == 1.0:
            r = min(max(math.sqrt(r2), row[5]), row[6])
            f = 0.0
            for p in range(14, -1, -1):
                f = f * r + row[9 + p]
            if row[4] != 0.0:
                f = 1.0 / f
            kt0, kt1 = row[7], row[8]
            tx = kt1 * (r2 + 2.0 * dx * dx) + 2.0 * kt0 * dx * dy
            ty = kt0 * (r2 + 2.0 * dy * dy) + 2.0 * kt1 * dx * dy
            x, y = cx + m * (f * dx + tx), cy + m * (f * dy + ty)
        elif kind == 2.0:
            r = math.sqrt(r2)
            ratio = row[9]
            if r > 0.0:
                t = math.atan(r)
                t2 = t * t
                ratio = t * (row[9] + t2 * (row[10] + t2 * (row[11] + t2 * row[12]))) / r
            x, y = cx + m * ratio * dx, cy + m * ratio * dy
    return x, y, gain


MAP_STEP = 16
"""Most pixels between the points of the coarse grid on which the compiled twin walks the program; positions and
gains in between are interpolated bilinearly. The maps are smooth polynomials in the normalised radius, so the
error falls with the square of the step over the image size: the step is ``min(H, W) //`` :data:`MAP_CELLS`
(at least 1, at most 16). Measured on the virtual camera's 24-MP DNGs (step 16, 200,000 random pixels against
the program walked exactly): -5 % barrel, position error RMS 1.4e-3 px, largest 3.5e-3 px (0.017 px in the
outermost corner cell, where WarpRectilinear's radius clamp at 1 kinks the map just outside the frame); +3 %
pincushion, RMS 8e-4 px, largest 1.9e-3 px; gains within 1.3e-5. Step 8 (the step before) gives a quarter of
those errors (largest 9e-4 px) and costs the two-pass warp 16-20 % more: its work per cell and the maps."""

MAP_CELLS = 250
"""Grid cells across the image's shorter side, at least (see :data:`MAP_STEP`)."""


def map_step(height: int, width: int) -> int:
    """The coarse grid's step for an image of this size (1 = the program walked at every pixel)."""
    return int(min(MAP_STEP, max(1, min(height, width) // MAP_CELLS)))


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _coarse_maps(program, grids, planes, x0, y0, sx, sy, xc, yc, scale, first_row, n, width, step, g0=0, g1=-1):
    """Source (column, row of the whole image) and gain per plane at every ``step``-th output pixel of the whole
    image, on the grid rows around a band of ``n`` rows from ``first_row`` (grid row 0: the whole image's grid row
    at or above ``first_row``; and one past the end); only grid rows ``g0...g1 - 1`` are made (``g1 = -1``: to
    the end; the others are left undefined). A band so reads the whole image's positions."""
    anchor = first_row % step
    grid_h, grid_w = (n - 1 + anchor) // step + 2, (width - 1) // step + 2
    g1 = grid_h if g1 < 0 else min(g1, grid_h)
    maps = np.empty((planes, 3, grid_h, grid_w))
    for gi in prange(g0, g1):
        y_out = yc + (y0 + (first_row - anchor + gi * step + 0.5) * sy - yc) * scale
        for gj in range(grid_w):
            x_out = xc + (x0 + (gj * step + 0.5) * sx - xc) * scale
            for plane in range(planes):
                xp, yp, gain = _walk(program, grids, plane, x_out, y_out)
                maps[plane, 0, gi, gj] = (xp - x0) / sx - 0.5
                maps[plane, 1, gi, gj] = (yp - y0) / sy - 0.5
                maps[plane, 2, gi, gj] = gain
    return maps


@njit(inline="always", fastmath=FASTMATH)
def clamped(v, high):
    """``v`` clamped to [0, high], NaN to 0 (where the DNG SDK clamps a source position to the image)."""
    if not v > 0.0:  # NaN too
        return 0.0
    return high if v > high else v


@njit(inline="always", fastmath=FASTMATH)
def keys_at(t):
    """Keys' four cubic-convolution weights (a = -0.5) of the fraction ``t`` (taps at -1, 0, 1, 2)."""
    return (
        ((-0.5 * t + 1.0) * t - 0.5) * t,
        (1.5 * t - 2.5) * t * t + 1.0,
        ((-1.5 * t + 2.0) * t + 0.5) * t,
        (0.5 * t - 0.5) * t * t,
    )


@njit(inline="always", fastmath=FASTMATH)
def _bicubic_at(src, out, i, j, xs, ys, gain, first_c, last_c):
    """out[i, j, first_c:last_c] = src read at (xs, ys) (clamped to it) with Keys' kernel, times ``gain``."""
    n, width = src.shape[0], src.shape[1]
    xs, ys = clamped(xs, width - 1.0), clamped(ys, n - 1.0)
    ix, iy = int(xs), int(ys)
    f32 = np.float32
    ax0, ax1, ax2, ax3 = keys_at(f32(xs - ix))
    ay0, ay1, ay2, ay3 = keys_at(f32(ys - iy))
    c0, c1, c2, c3 = max(ix - 1, 0), ix, min(ix + 1, width - 1), min(ix + 2, width - 1)
    r0, r1, r2, r3 = max(iy - 1, 0), iy, min(iy + 1, n - 1), min(iy + 2, n - 1)
    g = f32(gain)
    for c in range(first_c, last_c):
        v0 = ax0 * src[r0, c0, c] + ax1 * src[r0, c1, c] + ax2 * src[r0, c2, c] + ax3 * src[r0, c3, c]
        v1 = ax0 * src[r1, c0, c] + ax1 * src[r1, c1, c] + ax2 * src[r1, c2, c] + ax3 * src[r1, c3, c]
        v2 = ax0 * src[r2, c0, c] + ax1 * src[r2, c1, c] + ax2 * src[r2, c2, c] + ax3 * src[r2, c3, c]
        v3 = ax0 * src[r3, c0, c] + ax1 * src[r3, c1, c] + ax2 * src[r3, c2, c] + ax3 * src[r3, c3, c]
        out[i, j, c] = (ay0 * v0 + ay1 * v1 + ay2 * v2 + ay3 * v3) * g


@njit(inline="always", fastmath=FASTMATH)
def _tap_row3(row, b, ax0, ax1, ax2, ax3):
    """The three interleaved channels of one source row filtered horizontally at columns b/3 ... b/3 + 3."""
    v0 = ax0 * row[b] + ax1 * row[b + 3] + ax2 * row[b + 6] + ax3 * row[b + 9]
    v1 = ax0 * row[b + 1] + ax1 * row[b + 4] + ax2 * row[b + 7] + ax3 * row[b + 10]
    v2 = ax0 * row[b + 2] + ax1 * row[b + 5] + ax2 * row[b + 8] + ax3 * row[b + 11]
    return v0, v1, v2


@njit(inline="always", fastmath=FASTMATH)
def _bicubic3_at(src, flat, out, i, j, xs, ys, gain):
    """:func:`_bicubic_at` for the three channels at one position; inside the image (every tap there, no clamping)
    the 4 x 12 interleaved taps are read from ``flat`` (the rows of ``src`` as (n, width * 3)), row by row."""
    n, width = src.shape[0], src.shape[1]
    if not (1.0 <= xs < width - 2.0 and 1.0 <= ys < n - 2.0):  # near an edge, NaN too: clamp each tap
        _bicubic_at(src, out, i, j, xs, ys, gain, 0, 3)
        return
    ix, iy = int(xs), int(ys)
    f32 = np.float32
    ax0, ax1, ax2, ax3 = keys_at(f32(xs - ix))
    ay0, ay1, ay2, ay3 = keys_at(f32(ys - iy))
    b = (ix - 1) * 3
    a0, a1, a2 = _tap_row3(flat[iy - 1], b, ax0, ax1, ax2, ax3)
    b0, b1, b2 = _tap_row3(flat[iy], b, ax0, ax1, ax2, ax3)
    c0, c1, c2 = _tap_row3(flat[iy + 1], b, ax0, ax1, ax2, ax3)
    d0, d1, d2 = _tap_row3(flat[iy + 2], b, ax0, ax1, ax2, ax3)
    g = f32(gain)
    out[i, j, 0] = (ay0 * a0 + ay1 * b0 + ay2 * c0 + ay3 * d0) * g
    out[i, j, 1] = (ay0 * a1 + ay1 * b1 + ay2 * c1 + ay3 * d1) * g
    out[i, j, 2] = (ay0 * a2 + ay1 * b2 + ay2 * c2 + ay3 * d2) * g


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _resample_rows(src, out, maps, step, lo, hi, first_row):
    """:func:`resample_by_maps` on output rows ``lo...hi - 1`` only (the maps' grid rows around them defined), for
    a band from ``first_row`` of an image with maps of :func:`_coarse_maps` (the whole image's source rows)."""
    n, width = src.shape[0], src.shape[1]
    planes, grid_w = maps.shape[0], maps.shape[3]
    flat = src.reshape(n, width * src.shape[2])
    fast3 = planes == 1 and src.shape[2] == 3
    inv = 1.0 / step
    anchor = first_row % step
    for i in prange(lo, hi):
        gi = (i + anchor) // step
        fy = (i + anchor - gi * step) * inv
        line = np.empty((planes, 3, grid_w))
        for p in range(planes):
            for q in range(3):
                for g in range(grid_w):
                    line[p, q, g] = maps[p, q, gi, g] * (1.0 - fy) + maps[p, q, gi + 1, g] * fy
        for p in range(planes):
            first_c, last_c = (0, src.shape[2]) if planes == 1 else (p, p + 1)
            for gj in range(grid_w - 1):
                x, y, gain = line[p, 0, gj], line[p, 1, gj], line[p, 2, gj]
                step_x = (line[p, 0, gj + 1] - x) * inv
                step_y = (line[p, 1, gj + 1] - y) * inv
                step_g = (line[p, 2, gj + 1] - gain) * inv
                for j in range(gj * step, min(gj * step + step, width)):
                    if fast3:
                        _bicubic3_at(src, flat, out, i, j, x, y - first_row, gain)
                    else:
                        _bicubic_at(src, out, i, j, x, y - first_row, gain, first_c, last_c)
                    x += step_x
                    y += step_y
                    gain += step_g
    return out


def resample_by_maps(src, out, maps, step):
    """Read ``src`` (C-contiguous) at the positions interpolated from the coarse maps with Keys' bicubic kernel,
    times the gain (one position for all three channels when the maps have one plane). Per row the maps are
    interpolated between their two grid rows once; along the row, position and gain advance by a constant step
    within each grid cell."""
    return _resample_rows(src, out, maps, step, 0, src.shape[0], 0)


@njit(inline="always", fastmath=FASTMATH)
def _crossing(maps, p, j, row, g, g_end):
    """Where output column ``j`` of the maps crosses source ``row``: its source column, the map being piecewise
    linear along the column (the knot interval is searched from knot ``g`` on); and the interval's first knot."""
    while g + 2 < g_end and maps[p, 1, g + 1, j] <= row:
        g += 1
    v0, v1 = maps[p, 1, g, j], maps[p, 1, g + 1, j]
    dv = v1 - v0
    t = (row - v0) / dv if dv != 0.0 else 0.0
    return maps[p, 0, g, j] + t * (maps[p, 0, g + 1, j] - maps[p, 0, g, j]), g


@njit(inline="always", fastmath=FASTMATH)
def _column_span(maps, p, j, ga, fa, gb, fb):
    """Smallest and largest source row of output column ``j`` between output rows at (grid row, fraction)
    (ga, fa) and (gb, fb): the interpolated ends and the knots between them."""
    va = maps[p, 1, ga, j] * (1.0 - fa) + maps[p, 1, ga + 1, j] * fa
    vb = maps[p, 1, gb, j] * (1.0 - fb) + maps[p, 1, gb + 1, j] * fb
    low, high = min(va, vb), max(va, vb)
    for g in range(ga + 1, gb + 1):
        low, high = min(low, maps[p, 1, g, j]), max(high, maps[p, 1, g, j])
    return low, high


@njit(inline="always", fastmath=FASTMATH)
def _cell_rows(maps, p, ga, fa, gb, fb, first_row, n, r_lo, r_hi):
    """Per map cell (columns j, j + 1): the band's first and last source row that its pixels read between the
    output rows at (ga, fa) and (gb, fb) (:func:`_column_span`, widened by the kernel's reach and one row)."""
    low, high = _column_span(maps, p, 0, ga, fa, gb, fb)
    for j in range(maps.shape[3] - 1):
        low1, high1 = _column_span(maps, p, j + 1, ga, fa, gb, fb)
        r_lo[j] = max(int(clamped(min(low, low1) - first_row, n - 1.0)) - 2, 0)
        r_hi[j] = min(int(clamped(max(high, high1) - first_row, n - 1.0)) + 3, n - 1)
        low, high = low1, high1


@njit(cache=True)  # the kernel's flags: the same rows, float for float
def _scratch_rows(maps, g_first, step, lo, hi, first_row, chunk, n):
    """The most source rows pass 1 makes for one chunk of :func:`_separable_rows`."""
    inv = 1.0 / step
    r_lo, r_hi = np.empty(maps.shape[3] - 1, np.int64), np.empty(maps.shape[3] - 1, np.int64)
    most = 1
    for a in range(lo, hi, chunk):
        b = min(a + chunk, hi)
        ga, gb = (a + first_row) // step - g_first, (b - 1 + first_row) // step - g_first
        fa = (a + first_row - (ga + g_first) * step) * inv
        fb = (b - 1 + first_row - (gb + g_first) * step) * inv
        for p in range(maps.shape[0]):
            _cell_rows(maps, p, ga, fa, gb, fb, first_row, n, r_lo, r_hi)
            most = max(most, r_hi.max() - r_lo.min() + 1)
    return most


# The loops below index with unsigned integers and offsets into whole (flat) arrays: numba wraps no negative
# index then, and makes no array views (whose reference counts cost more than a short run's arithmetic), so
# LLVM vectorises them. They and the kernel compile without fast-math: a pixel's value must not depend on
# whether it falls in a loop's vectorised body or its scalar remainder (bands start their runs elsewhere than
# the whole image).


@njit(inline="always")
def _keys_line(pos, gains, shift, high, w0, w1, w2, w3, index, x0, n):
    """Per pixel x0...x0 + n - 1: the position ``pos + shift`` clamped to [0, high] (NaN: 0), its integer part
    and Keys' four weights (a = -0.5) of its fraction times the gain (float32)."""
    f32 = np.float32
    for k in range(n):
        x = x0 + k
        s = min(max(pos[x] + shift, 0.0), high)
        s = s if s == s else 0.0
        i = int(s)
        t = f32(s - i)
        g = gains[x]
        w0[x] = ((f32(-0.5) * t + f32(1.0)) * t - f32(0.5)) * t * g
        w1[x] = ((f32(1.5) * t - f32(2.5)) * t * t + f32(1.0)) * g
        w2[x] = ((f32(-1.5) * t + f32(2.0)) * t + f32(0.5)) * t * g
        w3[x] = (f32(0.5) * t - f32(0.5)) * t * t * g
        index[x] = i


@njit(inline="always")
def _taps(o, at, a, a0, a1, a2, a3, w0, w1, w2, w3, x0, n, channels, c0, c1):
    """o[at + x * channels + c] = sum_k w_k[x0 + x] a[a_k + x * channels + c] for pixels x < n and channels
    c0...c1 - 1 (the three of RGB written out)."""
    u = np.uint64
    if channels == 3 and c0 == 0 and c1 == 3:
        for k in range(n):
            x, q = x0 + k, u(3) * k
            for c in range(3):
                o[at + q + u(c)] = (w0[x] * a[a0 + q + u(c)] + w1[x] * a[a1 + q + u(c)] + w2[x] * a[a2 + q + u(c)]
                                    + w3[x] * a[a3 + q + u(c)])
        return
    for k in range(n):
        x = x0 + k
        for c in range(c0, c1):
            q = k * u(channels) + u(c)
            o[at + q] = w0[x] * a[a0 + q] + w1[x] * a[a1 + q] + w2[x] * a[a2 + q] + w3[x] * a[a3 + q]


_VECTOR = 16
"""Pixels of the longest vector the loops of :func:`_taps` run on (AVX-512: 16 float32)."""


@njit(inline="always")
def _whole_vectors(n):
    """``n`` rounded up to whole vectors (:data:`_VECTOR`): a loop of that many pixels has no scalar remainder."""
    return (n + _VECTOR - 1) // _VECTOR * _VECTOR


@njit(inline="always")
def _run_end(index, x, x1, offset):
    """One past the last pixel from ``x`` (before ``x1``) whose index less ``offset`` times its own is the same
    (compared :data:`_VECTOR` pixels at a time, then one by one)."""
    value = index[x] - offset * x
    end = x + 1
    while end + _VECTOR <= x1:
        same = True
        at = np.uint64(end)
        for k in range(_VECTOR):  # no early exit: one vector compare
            same &= index[at + np.uint64(k)] - offset * (end + k) == value
        if not same:
            break
        end += _VECTOR
    while end < x1 and index[end] - offset * end == value:
        end += 1
    return end


@njit(inline="always")
def _horizontal(src, row, tmp, at, index, w0, w1, w2, w3, x0, x1, width, channels, c0, c1):
    """Pass 1 on source row ``src[row:]`` (flat) into ``tmp[at:]``, pixels x0...x1 - 1 (weights and columns
    made): a run of pixels whose taps move with them is one vectorised loop; at the image's edges each tap is
    clamped."""
    u = np.uint64
    x = x0
    while x < x1:
        end = _run_end(index, x, x1, 1)
        first = index[x] - 1
        if first >= 0 and index[end - 1] + 2 <= width - 1:
            # whole vectors: the pixels past the run are written again by the next run (or are not read)
            count = min(_whole_vectors(end - x), width - x, width - 3 - first)
            q = row + first * channels
            _taps(tmp, u(at + x * channels), src, u(q), u(q + channels), u(q + 2 * channels), u(q + 3 * channels),
                  w0, w1, w2, w3, u(x), u(count), channels, c0, c1)
        else:
            for z in range(x, end):
                i = index[z]
                q0, q1 = row + max(i - 1, 0) * channels, row + i * channels
                q2, q3 = row + min(i + 1, width - 1) * channels, row + min(i + 2, width - 1) * channels
                for c in range(c0, c1):
                    tmp[at + z * channels + c] = (w0[z] * src[q0 + c] + w1[z] * src[q1 + c] + w2[z] * src[q2 + c]
                                                  + w3[z] * src[q3 + c])
        x = end


@njit(inline="always")
def _cell_line(pos, x0, n, start, slope):
    """pos[x0 + k] = start + k slope for k < n (a map cell's positions along a row)."""
    for k in range(n):
        pos[x0 + k] = start + k * slope


@njit(parallel=True, nogil=True, cache=True)
def _separable_rows(src, out, maps, g_first, step, lo, hi, first_row, chunk, spare, workers):
    """Output rows ``lo...hi - 1`` of a band from ``first_row`` (maps of :func:`_coarse_maps` from the whole
    image's grid row ``g_first``): pass 1 reads each source row along the curve of each output column, pass 2
    reads each output column along its curve (Catmull & Smith); ``chunk`` output rows at a time, ``workers``
    threads."""
    n, width, channels = src.shape
    planes, grid_h, grid_w = maps.shape[0], maps.shape[2], maps.shape[3]
    line = width * channels
    flat, oflat = src.reshape(-1), out.reshape(-1)
    inv = 1.0 / step
    u = np.uint64
    chunks = (hi - lo + chunk - 1) // chunk
    workers = min(workers, chunks)
    rows = _scratch_rows(maps, g_first, step, lo, hi, first_row, chunk, n)
    for worker in prange(workers):
        r_lo, r_hi = np.empty(grid_w - 1, np.int64), np.empty(grid_w - 1, np.int64)
        ucol, knot = np.empty(grid_w), np.empty(grid_w, np.int64)
        pos, gains, index = np.empty(width), np.ones(width, np.float32), np.empty(width, np.int64)
        w0, w1 = np.empty(width, np.float32), np.empty(width, np.float32)
        w2, w3 = np.empty(width, np.float32), np.empty(width, np.float32)
        tmp = np.empty(rows * line, np.float32)  # pass 1's rows, reused chunk to chunk
        for k in range(worker, chunks, workers):
            a, b = lo + k * chunk, min(lo + k * chunk + chunk, hi)
            ga = (a + first_row) // step - g_first
            gb = (b - 1 + first_row) // step - g_first
            fa = (a + first_row - (ga + g_first) * step) * inv
            fb = (b - 1 + first_row - (gb + g_first) * step) * inv
            for p in range(planes):
                c0, c1 = (0, channels) if planes == 1 else (p, p + 1)
                _cell_rows(maps, p, ga, fa, gb, fb, first_row, n, r_lo, r_hi)
                base, top = r_lo.min(), r_hi.max()
                knot[:] = max(ga - spare, 0)
                gains[:] = 1.0
                for r in range(base, top + 1):  # pass 1
                    needed = False
                    for j in range(grid_w):
                        cell = j < grid_w - 1 and r_lo[j] <= r <= r_hi[j]
                        if cell or needed:
                            ucol[j], knot[j] = _crossing(maps, p, j, r + first_row, knot[j], grid_h)
                        needed = cell
                    stretch = -1
                    for j in range(grid_w):
                        if j < grid_w - 1 and r_lo[j] <= r <= r_hi[j]:
                            x0 = j * step
                            _cell_line(pos, u(x0), u(min(step, width - x0)), ucol[j], (ucol[j + 1] - ucol[j]) * inv)
                            stretch = x0 if stretch < 0 else stretch
                        elif stretch >= 0:
                            x1 = min(j * step, width)
                            _keys_line(pos, gains, 0.0, width - 1.0, w0, w1, w2, w3, index, u(stretch),
                                       u(x1 - stretch))
                            _horizontal(flat, r * line, tmp, (r - base) * line, index, w0, w1, w2, w3, stretch, x1,
                                        width, channels, c0, c1)
                            stretch = -1
                for i in range(a, b):  # pass 2
                    gi = (i + first_row) // step - g_first
                    fy = (i + first_row - (gi + g_first) * step) * inv
                    for gj in range(grid_w - 1):
                        y = maps[p, 1, gi, gj] * (1.0 - fy) + maps[p, 1, gi + 1, gj] * fy
                        gain = maps[p, 2, gi, gj] * (1.0 - fy) + maps[p, 2, gi + 1, gj] * fy
                        y1 = maps[p, 1, gi, gj + 1] * (1.0 - fy) + maps[p, 1, gi + 1, gj + 1] * fy
                        gain1 = maps[p, 2, gi, gj + 1] * (1.0 - fy) + maps[p, 2, gi + 1, gj + 1] * fy
                        x0 = gj * step
                        _cell_line(pos, u(x0), u(min(step, width - x0)), y, (y1 - y) * inv)
                        _cell_line(gains, u(x0), u(min(step, width - x0)), gain, (gain1 - gain) * inv)
                    _keys_line(pos, gains, float(-first_row), n - 1.0, w0, w1, w2, w3, index, u(0), u(width))
                    x = 0
                    while x < width:
                        end = _run_end(index, x, width, 0)
                        iv, m = index[x], x * channels
                        count = min(_whole_vectors(end - x), width - x) if end < width else end - x
                        _taps(oflat, u(i * line + m), tmp, u((max(iv - 1, 0) - base) * line + m),
                              u((iv - base) * line + m), u((min(iv + 1, n - 1) - base) * line + m),
                              u((min(iv + 2, n - 1) - base) * line + m), w0, w1, w2, w3, u(x), u(count), channels,
                              c0, c1)
                        x = end
    return out


def band_rows_needed(plan: LensPlan, n: int, first_row: int) -> tuple[int, int]:
    """The rows ``lo...hi - 1`` of a band of ``n`` rows from ``first_row`` whose warped output is that of the
    whole image: those whose source rows (:func:`band_reach`) all lie in the band or beyond the image's edges."""
    height = plan.size[0]
    if plan.reach is None:
        lo = 0 if first_row <= 0 else min(plan.margin, n)
        return lo, n if first_row + n >= height else max(lo, n - plan.margin)
    out = np.arange(first_row, min(first_row + n, height))
    ok = np.flatnonzero((plan.reach[0, out] >= max(first_row, 0)) & (plan.reach[1, out] <= first_row + n))
    return (int(ok[0]), int(ok[-1]) + 1) if ok.size else (0, 0)


SEPARABLE_CHUNK = 64
"""Output rows the two-pass warp makes at a time, per thread (pass 1's rows for them: ~70 x width)."""


def _band_maps(plan: LensPlan, width: int, g0: int, g1: int) -> np.ndarray:
    """The coarse maps on the whole image's grid rows ``g0...g1 - 1`` (:func:`_coarse_maps`)."""
    step = plan.step
    return _coarse_maps(
        plan.program, plan.grids, 1 if plan.shared else _PLANES, float(plan.origin[0]), float(plan.origin[1]),
        float(plan.pixel[0]), float(plan.pixel[1]), float(plan.centre[0]), float(plan.centre[1]), float(plan.scale),
        g0 * step, (g1 - g0 - 2) * step + 1, width, step,
    )


def apply_lens_band(rows: np.ndarray, plan: LensPlan, first_row: int) -> np.ndarray:
    """:func:`apply_lens_fast` on rows ``first_row...`` of the plan's image: output rows farther than the plan's
    margin from the band's ends (or at the image's edges) are those of the whole image; the others (which only
    a wider band makes right) are not computed and left zero."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    n, width = rows.shape[:2]
    lo, hi = band_rows_needed(plan, n, int(first_row))
    step = plan.step
    out = np.empty_like(rows)
    out[:lo] = 0.0
    out[hi:] = 0.0
    if plan.separable:
        if hi <= lo:
            return out
        # grid rows around the band's: every source row pass 1 makes lies between two of them (rows advance by
        # at least half a row per output row, and by at most half a row per column: _is_separable)
        spare = 2 + 8 // step
        g0 = max((first_row + lo) // step - spare, 0)
        g1 = min((first_row + hi - 1) // step + 2 + spare, (plan.size[0] - 1) // step + 2)
        maps = _band_maps(plan, width, g0, g1)
        return _separable_rows(rows, out, maps, g0, step, lo, hi, int(first_row), SEPARABLE_CHUNK, spare,
                               numba.get_num_threads())
    maps = _coarse_maps(
        plan.program, plan.grids, 1 if plan.shared else _PLANES, float(plan.origin[0]), float(plan.origin[1]),
        float(plan.pixel[0]), float(plan.pixel[1]), float(plan.centre[0]), float(plan.centre[1]), float(plan.scale),
        int(first_row), n, width, step, (lo + first_row % step) // step,
        (hi - 1 + first_row % step) // step + 2 if hi > lo else 0,
    )
    return _resample_rows(rows, out, maps, step, lo, hi, int(first_row))


def apply_lens_fast(rgb: np.ndarray, plan: LensPlan) -> np.ndarray:
    """:func:`apply_lens` compiled (numba, every core)."""
    return apply_lens_band(rgb, plan, 0)


# --- planning ----------------------------------------------------------------------------------------------


def _border_points(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (row, column) indices along the four edges of an image and on a coarse interior grid."""
    t = np.linspace(0.0, 1.0, _BORDER_SAMPLES)
    rows = np.concatenate([t * (height - 1), t * (height - 1), np.zeros_like(t), np.full_like(t, height - 1)])
    cols = np.concatenate([np.zeros_like(t), np.full_like(t, width - 1), t * (width - 1), t * (width - 1)])
    return rows, cols


def _fill_scale(program, geometry, centre, height, width) -> float:
    """The largest scale <= 1 about the centre at which every border pixel of every plane reads inside the image."""
    rows, cols = _border_points(height, width)
    x, y = _output_positions(geometry, rows, cols)
    (x0, y0), (sx, sy) = geometry

    def inside(scale: float) -> bool:
        xs, ys = centre[0] + (x - centre[0]) * scale, centre[1] + (y - centre[1]) * scale
        for plane in range(_PLANES):
            px, py, _ = source_positions(program, plane, xs, ys)
            u, v = (px - x0) / sx, (py - y0) / sy
            if not (np.all(u >= 0) and np.all(u <= width) and np.all(v >= 0) and np.all(v <= height)):
                return False
        return True

    if inside(1.0):
        return 1.0
    if not inside(_MIN_FILL_SCALE):
        return _MIN_FILL_SCALE
    low, high = _MIN_FILL_SCALE, 1.0
    for _ in range(_FILL_STEPS):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if inside(mid) else (low, mid)
    return low


def _margin(program, geometry, centre, scale, height, width) -> int:
    """Rows above and below a band the warp reads: the largest vertical shift, plus the kernel's reach."""
    edge_rows, edge_cols = _border_points(height, width)
    grid = np.linspace(0.0, 1.0, _INTERIOR_GRID)
    rows = np.concatenate([edge_rows, np.repeat(grid * (height - 1), _INTERIOR_GRID)])
    cols = np.concatenate([edge_cols, np.tile(grid * (width - 1), _INTERIOR_GRID)])
    x, y = _output_positions(geometry, rows, cols)
    xs, ys = centre[0] + (x - centre[0]) * scale, centre[1] + (y - centre[1]) * scale
    shift = 0.0
    for plane in range(_PLANES):
        _, py, _ = source_positions(program, plane, xs, ys)
        source_row = np.nan_to_num((py - geometry[0][1]) / geometry[1][1] - 0.5, nan=0.0)
        shift = max(shift, float(np.max(np.abs(np.clip(source_row, -1, height) - rows))))
    return min(height, int(math.ceil(shift * 1.02)) + _MARGIN_SAFETY)


_REACH_ROWS = 8
"""Output rows between the rows at which the per-row reach is found (the rows between take their neighbours')."""


def _reach(program, geometry, centre, scale, height, width, margin) -> np.ndarray:
    """Per output row, the first and one past the last source row the warp reads (:attr:`LensPlan.reach`): the
    source rows found on every :data:`_REACH_ROWS`-th row at both edges and :data:`_INTERIOR_GRID` columns, over
    the two sampled rows around it, widened like the margin (2 % and :data:`_MARGIN_SAFETY`), within ``margin``."""
    sampled = np.unique(np.append(np.arange(0, height, _REACH_ROWS), height - 1)).astype(np.float64)
    cols = np.unique(np.append(np.linspace(0.0, width - 1.0, _INTERIOR_GRID), [0.0, width - 1.0]))
    rows, cols = np.repeat(sampled, cols.size), np.tile(cols, sampled.size)
    x, y = _output_positions(geometry, rows, cols)
    xs, ys = centre[0] + (x - centre[0]) * scale, centre[1] + (y - centre[1]) * scale
    low, high = np.full(sampled.size, np.inf), np.full(sampled.size, -np.inf)
    for plane in range(_PLANES):
        _, py, _ = source_positions(program, plane, xs, ys)
        source_row = np.nan_to_num((py - geometry[0][1]) / geometry[1][1] - 0.5, nan=0.0, posinf=height,
                                   neginf=-1.0)
        shift = (np.clip(source_row, -1, height) - rows).reshape(sampled.size, -1)
        low, high = np.minimum(low, shift.min(axis=1)), np.maximum(high, shift.max(axis=1))
    pad = np.abs(np.concatenate([low, high])).max() * 0.02 + _MARGIN_SAFETY
    cell = np.minimum(np.searchsorted(sampled, np.arange(height), side="right") - 1, sampled.size - 2)
    cell = np.maximum(cell, 0)
    nxt = np.minimum(cell + 1, sampled.size - 1)
    out = np.arange(height)
    first = out + np.floor(np.minimum(low[cell], low[nxt]) - pad).astype(np.int64) - _REACH_ROWS
    last = out + np.ceil(np.maximum(high[cell], high[nxt]) + pad).astype(np.int64) + _REACH_ROWS + 1
    first = np.clip(np.maximum(first, out - margin), 0, height)
    last = np.clip(np.minimum(last, out + margin + 1), 0, height)
    return np.stack([first, last])


_SEPARABLE_SLOPES = (0.5, 2.0, 0.5)
"""Bounds of a warp resampled in two passes, on the :data:`_REACH_ROWS` x :data:`_INTERIOR_GRID` sample: the
source row advances by 0.5 to 2 per output row down every column and by at most 0.5 per output column
(radial lens warps: within a few % of 1 and 0; beyond, a column's curve could turn along the rows)."""


def _is_separable(program, geometry, centre, scale, height, width) -> bool:
    """Whether the warp may be resampled in two 1-D passes (:data:`_SEPARABLE_SLOPES`, every plane)."""
    rows = np.arange(0, height + _REACH_ROWS, _REACH_ROWS, dtype=np.float64)
    cols = np.linspace(0.0, width - 1.0, _INTERIOR_GRID)
    x, y = _output_positions(geometry, rows[:, None], cols[None, :])
    xs, ys = centre[0] + (x - centre[0]) * scale, centre[1] + (y - centre[1]) * scale
    low, high, across = _SEPARABLE_SLOPES
    for plane in range(_PLANES):
        _, py, _ = source_positions(program, plane, xs, ys)
        v = py / geometry[1][1]
        down, side = np.diff(v, axis=0) / _REACH_ROWS, np.diff(v, axis=1) / max(cols[1] - cols[0], 1.0)
        if not (np.all(down >= low) and np.all(down <= high) and np.all(np.abs(side) <= across)):
            return False  # NaN too
    return True


def band_reach(plan: LensPlan, start: int, stop: int) -> tuple[int, int]:
    """Source rows ``first...last - 1`` the warp reads to make output rows ``start...stop - 1``."""
    if plan.reach is None or stop <= start:
        return start - plan.margin, stop + plan.margin
    return int(plan.reach[0, start:stop].min()), int(plan.reach[1, start:stop].max())


def _switched(rows: np.ndarray, params: LensParams) -> np.ndarray | None:
    """One opcode's rows with the corrections the tuning switches off taken out (None: nothing left)."""
    kind = rows[0, 0]
    if kind == KIND_VIGNETTE:
        return rows if params.vignetting else None
    if not (params.distortion or params.chromatic_aberration):
        return None
    if not params.chromatic_aberration:  # every plane takes green's warp
        return np.repeat(rows[1:2], _PLANES, axis=0)
    if not params.distortion:  # first order: each plane's warp less green's, plus the identity
        identity = np.zeros(ROW - 9)
        identity[0] = 1.0
        out = rows.copy()
        out[:, 9:] = rows[:, 9:] - rows[1, 9:] + identity
        out[:, 7:9] = rows[:, 7:9] - rows[1, 7:9]
        return out
    return rows


def _dng_rows(frame: Frame, params: LensParams, area, grids: list | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Program rows from the DNG opcode lists and a line per opcode saying what was done with it; the gains of
    OpcodeList3 GainMaps are appended to ``grids`` (flat arrays, in order)."""
    dng = frame.raw.dng
    rows, report = [], []
    grids = [] if grids is None else grids
    lens_types = (WarpRectilinear, WarpRectilinear2, WarpFisheye, FixVignetteRadial)
    for number, opcodes in enumerate(dng.opcode_lists if dng else ((), (), ()), start=1):
        for index, opcode in enumerate(opcodes, start=1):
            where = f"OpcodeList{number} #{index} {opcode_name(opcode.opcode_id)}"
            if isinstance(opcode, GainMap) and number == 3:
                offset = sum(g.size for g in grids)
                kept = gain_map_rows(opcode, area, offset) if params.dng_opcodes and params.vignetting else None
                if kept is None:
                    done = "not applied (" + ("a row or column pitch other than 1" if params.dng_opcodes and
                                              params.vignetting else "switched off in the lens block") + ")"
                else:
                    rows.append(kept)
                    grids.append(np.asarray(opcode.gains, np.float64).ravel())
                    done = "applied"
            elif isinstance(opcode, GainMap):
                done = "applied by lens_shading" if number == 2 else "applied by linearise, on the raw as read"
            elif isinstance(opcode, Opcode):
                done = f"skipped: {opcode.problem}" if opcode.problem else (
                    "skipped (optional, not implemented)" if opcode.optional else "not applied (not implemented)")
            elif isinstance(opcode, lens_types):
                if not params.dng_opcodes:
                    done = "not applied (lens.dng_opcodes is off)"
                else:
                    kept = _switched(opcode_rows(opcode, area), params)
                    if kept is None:
                        done = "not applied (switched off in the lens block)"
                    else:
                        rows.append(kept)
                        done = "applied" + ("" if number == 3 else " (after demosaic: lumatune warps only RGB)")
            else:
                done = "not applied"
            report.append(f"{where}{_describe(opcode)}: {done}")
    return rows, report


def _describe(opcode) -> str:
    """A few words on an opcode's form (planes, tangential terms, reciprocal)."""
    if isinstance(opcode, WarpRectilinear | WarpRectilinear2):
        tangential = bool(np.any(opcode.tangential != 0))
        words = [f"{opcode.planes} plane{'s' if opcode.planes > 1 else ''}"] + (["tangential"] if tangential else [])
        if isinstance(opcode, WarpRectilinear2) and opcode.reciprocal:
            words.append("reciprocal")
        return f" ({', '.join(words)})"
    if isinstance(opcode, WarpFisheye):
        return f" ({opcode.planes} plane{'s' if opcode.planes > 1 else ''})"
    return ""


def _tuning_rows(params: LensParams, area) -> list[np.ndarray]:
    """Program rows from the tuning's own coefficients (what ``lumatune calibrate lens`` writes)."""
    rows = []
    if params.vignetting and any(params.vignette):
        rows.append(opcode_rows(FixVignetteRadial(np.array([*params.vignette, 0.0, 0.0]), params.centre), area))
    radial = np.array(params.radial, dtype=np.float64)
    red, blue = params.magnification
    has_warp = params.distortion and np.any(radial != (1.0, 0.0, 0.0, 0.0))
    has_ca = params.chromatic_aberration and (red, blue) != (1.0, 1.0)
    if has_warp or has_ca:
        base = radial if params.distortion else np.array([1.0, 0.0, 0.0, 0.0])
        planes = np.stack([base * (red if has_ca else 1.0), base, base * (blue if has_ca else 1.0)])
        rows.append(opcode_rows(WarpRectilinear(planes, np.zeros((3, 2)), params.centre), area))
    return rows


def frame_geometry(raw, shape: tuple[int, ...]):
    """((x0, y0), (sx, sy)): opcode coordinates of the image's top-left corner and opcode units per image pixel,
    for an image of ``shape`` made from ``raw`` (its data, or a reduced preview of it)."""
    area_box = _area_box(raw)
    data_h, data_w = raw.data.shape[:2]
    return (
        (float(raw.crop_origin[1] - area_box[1]), float(raw.crop_origin[0] - area_box[0])),
        (data_w / int(shape[1]), data_h / int(shape[0])),
    )


def _area_box(raw) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the image the opcodes refer to: the active area, else the whole frame."""
    return (raw.dng.active_area if raw.dng and raw.dng.active_area else None) or (0, 0, *raw.full_size)


def _area(raw) -> tuple[float, float]:
    box = _area_box(raw)
    return float(box[3] - box[1]), float(box[2] - box[0])


def dng_warp_program(frame: Frame) -> np.ndarray | None:
    """The program of the raw's DNG lens opcodes (every list, in order, all corrections on), or None."""
    rows, _ = _dng_rows(frame, LensParams(), _area(frame.raw))
    return np.stack(rows) if rows else None


def lens_plan(params: LensParams, frame: Frame, shape: tuple[int, ...]) -> LensPlan | None:
    """The plan for an image of ``shape`` developed from ``frame.raw``, or None when there is nothing to correct.

    Sources, first found: the raw's DNG lens opcodes; the tuning's own coefficients; lensfun (by the EXIF's or
    the block's lens name). Each opcode found and what was done with it is written to ``frame.notes``.
    """
    raw = frame.raw
    height, width = int(shape[0]), int(shape[1])
    area = _area(raw)
    data_h, data_w = raw.data.shape[:2]
    geometry = frame_geometry(raw, shape)
    grids: list[np.ndarray] = []
    rows, report = _dng_rows(frame, params, area, grids)
    if frame.lateral_ca_on_mosaic:  # lens_ca moved red and blue onto green's geometry: green's warp for all
        warps = (KIND_RECTILINEAR, KIND_FISHEYE)
        rows = [np.repeat(r[1:2], _PLANES, axis=0) if r[0, 0] in warps else r for r in rows]
        report.append("lateral CA: corrected on the mosaic (lens_ca); every plane takes green's warp")
    if not rows:
        rows = _tuning_rows(params, area)
        if rows:
            report.append("lens block coefficients: applied")
    if not rows and params.lensfun and not (raw.dng and any(raw.dng.opcode_lists)):
        rows, line = _lensfun_rows(frame, params, area)
        report.append(line)
    frame.notes.extend(f"lens: {line}" for line in report)
    if not rows:
        return None
    program = np.ascontiguousarray(np.stack(rows), dtype=np.float64)
    shared = bool(np.all(program == program[:, :1]))
    (x0, y0), (sx, sy) = geometry
    centre = (x0 + data_w / 2.0, y0 + data_h / 2.0)
    scale = _fill_scale(program, geometry, centre, height, width) if params.border == "fill" else 1.0
    if scale != 1.0:
        frame.notes.append(f"lens: border 'fill': scaled by {scale:.4f} so that no pixel from outside the raw shows")
    margin = _margin(program, geometry, centre, scale, height, width)
    reach = _reach(program, geometry, centre, scale, height, width, margin)
    return LensPlan(program, shared, (x0, y0), (sx, sy), centre, scale, (height, width), margin, tuple(report),
                    map_step(height, width), np.concatenate(grids) if grids else np.zeros(1), reach,
                    _is_separable(program, geometry, centre, scale, height, width))


def _lensfun_rows(frame: Frame, params: LensParams, area) -> tuple[list[np.ndarray], str]:
    """Program rows from lensfun for the raw's camera and lens (or the block's lens), and a line saying so."""
    from lumatune.raw.lensfun import lensfun_correction  # lazy: lensfunpy and its database (~0.3 s)

    found = lensfun_correction(frame.raw, lens=params.lens or None, size=(int(area[0]), int(area[1])))
    if isinstance(found, str):
        return [], found
    rows = []
    if params.vignetting and found.vignette is not None:
        rows.append(opcode_rows(found.vignette, area))
    if found.warp is not None:
        kept = _switched(opcode_rows(found.warp, area), params)
        if kept is not None:
            rows.append(kept)
    return rows, found.description


def lens_report(raw) -> list[str]:
    """Each lens correction the raw carries (or lensfun has for it) and what the stage does with it by default."""
    frame = Frame(raw=raw)
    lens_plan(LensParams(), frame, raw.data.shape)
    return [note.removeprefix("lens: ") for note in frame.notes]


def _plan(params: LensParams, frame: Frame, image: np.ndarray) -> LensPlan | None:
    return lens_plan(params, frame, image.shape)


def _process(image: np.ndarray, plan: LensPlan) -> np.ndarray:
    return apply_lens_fast(image, plan)


STAGE = Stage(
    name="lens",
    side="tuning",
    params=LensParams,
    plan=_plan,
    process=_process,
    summary="lens correction: distortion, lateral chromatic aberration, vignetting (DNG opcodes, lensfun)",
    band_margin=lambda plan: plan.margin,
    band_reach=band_reach,
    process_band=apply_lens_band,
)
