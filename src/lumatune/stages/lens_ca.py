"""Lateral chromatic aberration on the mosaic: the red and blue sites of a Bayer mosaic moved onto green's geometry.

A DNG's per-plane warps (WarpRectilinear or WarpRectilinear2 with one coefficient set per colour plane, in
OpcodeList3) describe lateral colour as a different magnification of each plane. The specification applies
them after demosaicing; but a demosaic that interpolates colour differences (Menon 2007 here) assumes that the
planes' edges coincide, and fed planes 1.5 px apart it moves the red and blue edges by other amounts than the
optics did (a full correction after it left 0.24 px RMS on the virtual camera). This stage therefore moves each
red and blue site's value, before demosaicing, to ``W_c(W_G^-1(p))`` (``W_c`` the plane's warp, ``W_G``
green's): the planes then share green's geometry, and the lens stage applies green's warp to all three (one
position per pixel, a third of the work).

The red and blue sites sample their plane every 2 px: resampled alone (bicubic), an edge blurred by a sharp lens
(PSF sigma 0.6 px) aliases, and its position moves by a tenth of a pixel or two with the edge's phase (0.21 px
RMS after ``develop`` on the virtual camera). So, as RawTherapee's raw CA correction does, only the colour
difference is read from the sparse lattice, and the detail comes from green, sampled twice as densely:

1.  green everywhere (:func:`green_estimate`: Hamilton and Adams' directional interpolation at the red and
    blue sites);
2.  on each plane's lattice, the colour difference ``D(q) = C(q) - G(W_G(W_c^-1(q)))``: the plane against
    green read (Keys' bicubic) where green shows what the site shows, a smooth signal even across edges;
3.  each site's new value ``G(p) + D(W_c(W_G^-1(p)))``, ``D`` read bilinearly.

Where the planes coincide this gives each site its own value back exactly. On the virtual camera (1.5 px of
lateral colour at the corner) lateral CA after ``develop`` falls from 0.21 to 0.14 px with the sharp PSF
(``benchmarks/lens.py``), what a correction from the unmosaicked planes themselves gives (0.11-0.14 px).

Bayer mosaics only (an X-Trans plane is no lattice; the lens stage corrects those after demosaicing), and only
the raw's own DNG warps. The maps are computed on a grid every :data:`GRID_STEP` sites (the inverses by
fixed-point iteration), interpolated bilinearly.

References
----------
-   Adobe, *DNG Specification* 1.6.0.0, chapter 7 (WarpRectilinear, WarpRectilinear2: one set per plane).
-   D. Menon, S. Andriani, G. Calvagno, "Demosaicing with directional filtering and a posteriori decision",
    IEEE TIP 16(1), 2007 (colour-difference interpolation).
-   J. F. Hamilton, J. E. Adams, "Adaptive color plan interpolation in single sensor color electronic camera",
    US patent 5,629,734, 1997 (directional green with the colour plane's Laplacian).
-   RawTherapee, ``CA_correct_RT.cc`` (E. Martinec): lateral CA corrected on the raw mosaic by shifting the
    colour differences against interpolated green; darktable's ``cacorrect`` the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage
from lumatune.stages.lens import (
    KIND_GAIN_MAP,
    KIND_VIGNETTE,
    LensParams,
    bicubic_at,
    bicubic_read,
    dng_warp_program,
    frame_geometry,
    source_positions,
)
from lumatune.stages.params import param

__all__ = [
    "GRID_STEP",
    "LensCaParams",
    "LensCaPlan",
    "STAGE",
    "apply_lens_ca",
    "apply_lens_ca_fast",
    "green_estimate",
    "lens_ca_plan",
]

GREEN = 1
"""Green's plane index in the warps and the CFA."""

GRID_STEP = 8
"""Sites of a plane between the grid points at which the exact maps are computed."""

_INVERSE_STEPS = 30
"""Most fixed-point steps inverting a plane's warp (each multiplies the error by at most the warp's distortion)."""

_INVERSE_TOLERANCE = 1e-9
"""Pixels: the fixed-point iteration stops once no position moves by more."""


@dataclass(frozen=True)
class LensCaParams:
    """Lateral chromatic aberration corrected on the mosaic, before demosaicing (DNG per-plane warps)."""

    before_demosaic: bool = param(
        True, doc="move the red and blue sites of a Bayer mosaic onto green's geometry before demosaicing"
    )


@dataclass(frozen=True, eq=False)
class LensCaPlan:
    """Per moved plane: its (row, column) site in the CFA and the coarse maps of where each site reads."""

    sites: tuple[tuple[int, int], ...]
    maps: tuple[np.ndarray, ...]  # float64 (4, grid rows, grid columns) per plane: see :func:`_coarse_maps`
    size: tuple[int, int]  # (rows, columns) of the mosaic
    green_parity: int  # (row + column) % 2 of the green sites


def _inverse(program, plane, px, py):
    """Where ``plane``'s warp reads (px, py) from, inverted: the (x, y) it maps onto (px, py) (fixed point)."""
    qx, qy = px.copy(), py.copy()
    for _ in range(_INVERSE_STEPS):
        gx, gy, _ = source_positions(program, plane, qx, qy)
        qx, qy = qx + (px - gx), qy + (py - gy)
        if max(np.max(np.abs(px - gx)), np.max(np.abs(py - gy))) <= _INVERSE_TOLERANCE:
            break
    return qx, qy


def _coarse_maps(program, plane, site, geometry, plane_size) -> np.ndarray:
    """(4, grid rows, grid columns) at the plane's sites every :data:`GRID_STEP` (and one step past the end):
    where each site reads the colour difference, ``W_plane(W_green^-1(p))`` in the plane's site indices (x, y);
    and where green shows what the site shows, ``W_green(W_plane^-1(p))`` in mosaic pixel indices (x, y)."""
    (x0, y0), _ = geometry
    rows, cols = plane_size
    gi = np.arange((rows - 1) // GRID_STEP + 2, dtype=np.float64) * GRID_STEP
    gj = np.arange((cols - 1) // GRID_STEP + 2, dtype=np.float64) * GRID_STEP
    py, px = np.meshgrid(2 * gi + site[0] + 0.5 + y0, 2 * gj + site[1] + 0.5 + x0, indexing="ij")
    sx, sy, _ = source_positions(program, plane, *_inverse(program, GREEN, px, py))
    tx, ty, _ = source_positions(program, GREEN, *_inverse(program, plane, px, py))
    return np.stack([(sx - x0 - site[1] - 0.5) / 2.0, (sy - y0 - site[0] - 0.5) / 2.0, tx - x0 - 0.5, ty - y0 - 0.5])


def lens_ca_plan(params: LensCaParams, frame: Frame, shape: tuple[int, ...]) -> LensCaPlan | None:
    """The plan for a Bayer mosaic of ``shape``, or None (no per-plane DNG warp, not Bayer, or switched off).

    Sets ``frame.lateral_ca_on_mosaic`` so that the lens stage gives every plane green's warp.
    """
    raw = frame.raw
    bayer = raw.cfa is not None and raw.cfa.shape == (2, 2) and len(shape) == 2
    if not params.before_demosaic or not bayer or min(shape) < 4:  # 4: each plane two sites wide, for bilinear
        return None
    program = dng_warp_program(frame)
    if program is None:
        return None
    warps = program[(program[:, 0, 0] != KIND_VIGNETTE) & (program[:, 0, 0] != KIND_GAIN_MAP)]
    if warps.size == 0 or all(np.array_equal(warps[:, c], warps[:, GREEN]) for c in (0, 2)):
        return None
    geometry = frame_geometry(raw, shape)
    sites, maps = [], []
    for plane in (0, 2):
        site = tuple(int(v) for v in np.argwhere(raw.cfa == plane)[0])
        plane_size = ((shape[0] - site[0] + 1) // 2, (shape[1] - site[1] + 1) // 2)
        sites.append(site)
        maps.append(np.ascontiguousarray(_coarse_maps(warps, plane, site, geometry, plane_size)))
    green_parity = int(sum(np.argwhere(raw.cfa == GREEN)[0]) % 2)
    frame.lateral_ca_on_mosaic = True
    frame.notes.append("lens_ca: lateral chromatic aberration of the DNG warps corrected on the mosaic (red, blue)")
    return LensCaPlan(tuple(sites), tuple(maps), tuple(shape[:2]), green_parity)


def green_estimate(mosaic: np.ndarray, green_parity: int) -> np.ndarray:
    """Green at every pixel of a Bayer mosaic (float64): its own value at the green sites; at the others the
    horizontal or vertical estimate ``(G_-1 + G_1) / 2 + (2 C_0 - C_-2 - C_2) / 4`` along the direction whose
    gradient ``|G_-1 - G_1| + |2 C_0 - C_-2 - C_2|`` is smaller, their mean on a tie (Hamilton and Adams 1997);
    the mosaic reflected at its edges."""
    m = np.pad(np.asarray(mosaic, np.float64), 2, mode="reflect")
    c = m[2:-2, 2:-2]
    estimates = []
    for near, far in (((m[2:-2, 1:-3], m[2:-2, 3:-1]), (m[2:-2, :-4], m[2:-2, 4:])),
                      ((m[1:-3, 2:-2], m[3:-1, 2:-2]), (m[:-4, 2:-2], m[4:, 2:-2]))):
        laplacian = 2.0 * c - far[0] - far[1]
        estimates.append(((near[0] + near[1]) / 2.0 + laplacian / 4.0, np.abs(near[0] - near[1]) + np.abs(laplacian)))
    (gh, dh), (gv, dv) = estimates
    green = np.where(dh < dv, gh, np.where(dv < dh, gv, (gh + gv) / 2.0))
    i, j = np.indices(c.shape)
    return np.where((i + j) % 2 == green_parity, c, green)


def _positions(maps: np.ndarray, plane_shape: tuple[int, int]) -> list[np.ndarray]:
    """Every site's four map values (see :func:`_coarse_maps`), bilinear between the grid points."""
    rows, cols = plane_shape
    i, j = np.arange(rows)[:, None], np.arange(cols)[None, :]
    gi, gj = i // GRID_STEP, j // GRID_STEP
    fy, fx = (i - gi * GRID_STEP) / GRID_STEP, (j - gj * GRID_STEP) / GRID_STEP
    out = []
    for m in maps:
        top = m[gi, gj] * (1 - fx) + m[gi, gj + 1] * fx
        bottom = m[gi + 1, gj] * (1 - fx) + m[gi + 1, gj + 1] * fx
        out.append(top * (1 - fy) + bottom * fy)
    return out


def _bilinear_read(plane: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``plane`` read bilinearly at (xs, ys), clamped to it."""
    rows, cols = plane.shape
    xs, ys = np.clip(xs, 0, cols - 1), np.clip(ys, 0, rows - 1)
    ix, iy = np.minimum(xs.astype(np.int64), cols - 2), np.minimum(ys.astype(np.int64), rows - 2)
    fx, fy = xs - ix, ys - iy
    top = plane[iy, ix] * (1 - fx) + plane[iy, ix + 1] * fx
    return top * (1 - fy) + (plane[iy + 1, ix] * (1 - fx) + plane[iy + 1, ix + 1] * fx) * fy


def apply_lens_ca(mosaic: np.ndarray, plan: LensCaPlan) -> np.ndarray:
    """Move the planned planes of the (H, W) mosaic onto green's geometry (plain numpy, float64) and return it."""
    m = np.asarray(mosaic, np.float64)
    green = green_estimate(m, plan.green_parity)
    out = np.array(mosaic, np.float32)
    h, w = m.shape
    for site, maps in zip(plan.sites, plan.maps):
        plane = m[site[0] :: 2, site[1] :: 2]
        sx, sy, tx, ty = _positions(maps, plane.shape)
        difference = plane - bicubic_read(green, np.clip(tx, 0, w - 1), np.clip(ty, 0, h - 1))
        out[site[0] :: 2, site[1] :: 2] = green[site[0] :: 2, site[1] :: 2] + _bilinear_read(difference, sx, sy)
    return out


@njit(inline="always", fastmath=FASTMATH)
def _reflect(k, n):
    return -k if k < 0 else (2 * n - 2 - k if k >= n else k)


@njit(inline="always", fastmath=FASTMATH)
def _green_at(m, i, j, u1, d1, u2, d2, l1, r1, l2, r2):
    """Hamilton and Adams' green at the red or blue site (i, j), its neighbours' rows and columns given."""
    c = m[i, j]
    lh = 2.0 * c - m[i, l2] - m[i, r2]
    lv = 2.0 * c - m[u2, j] - m[d2, j]
    gh = (m[i, l1] + m[i, r1]) * 0.5 + lh * 0.25
    gv = (m[u1, j] + m[d1, j]) * 0.5 + lv * 0.25
    dh = abs(m[i, l1] - m[i, r1]) + abs(lh)
    dv = abs(m[u1, j] - m[d1, j]) + abs(lv)
    return gh if dh < dv else (gv if dv < dh else (gh + gv) * 0.5)


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _green_rows(m, green_parity, out):
    """:func:`green_estimate` into ``out`` (H, W, 1) float32 (the columns' reflection only within 2 of an edge)."""
    h, w = m.shape
    for i in prange(h):
        u1, d1, u2, d2 = _reflect(i - 1, h), _reflect(i + 1, h), _reflect(i - 2, h), _reflect(i + 2, h)
        for j in range(w):
            out[i, j, 0] = m[i, j]
        for j in range((i + green_parity + 1) % 2, w, 2):
            if 2 <= j < w - 2:
                out[i, j, 0] = _green_at(m, i, j, u1, d1, u2, d2, j - 1, j + 1, j - 2, j + 2)
            else:
                out[i, j, 0] = _green_at(m, i, j, u1, d1, u2, d2, _reflect(j - 1, w), _reflect(j + 1, w),
                                         _reflect(j - 2, w), _reflect(j + 2, w))
    return out


@njit(inline="always", fastmath=FASTMATH)
def _map_row(maps, first, i, step):
    """Maps ``first`` and ``first + 1`` at row ``i`` of the plane: (2, grid columns), bilinear between grid rows."""
    gi = i // step
    fy = (i - gi * step) / step
    line = np.empty((2, maps.shape[2]))
    for q in range(2):
        for g in range(maps.shape[2]):
            line[q, g] = maps[first + q, gi, g] * (1.0 - fy) + maps[first + q, gi + 1, g] * fy
    return line


@njit(inline="always", fastmath=FASTMATH)
def _along(line, q, j, step):
    gj = j // step
    fx = (j - gj * step) / step
    return line[q, gj] * (1.0 - fx) + line[q, gj + 1] * fx


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _difference_rows(m, green, si, sj, maps, step, out):
    """Step 2: ``out`` (plane rows, plane columns, 1) = the plane's sites less green read (bicubic) where green
    shows what they show."""
    rows, cols = out.shape[0], out.shape[1]
    for i in prange(rows):
        line = _map_row(maps, 2, i, step)
        for j in range(cols):
            bicubic_at(green, out, i, j, _along(line, 0, j, step), _along(line, 1, j, step), 1.0, 0, 1)
            out[i, j, 0] = m[2 * i + si, 2 * j + sj] - out[i, j, 0]
    return out


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _moved_rows(difference, green, si, sj, maps, step, m):
    """Step 3: the plane's sites of ``m`` = green there plus the difference read bilinearly where they read."""
    rows, cols = difference.shape[0], difference.shape[1]
    for i in prange(rows):
        line = _map_row(maps, 0, i, step)
        for j in range(cols):
            x = min(max(_along(line, 0, j, step), 0.0), cols - 1.0)
            y = min(max(_along(line, 1, j, step), 0.0), rows - 1.0)
            ix, iy = min(int(x), cols - 2), min(int(y), rows - 2)
            ax, ay = np.float32(x - ix), np.float32(y - iy)
            top = difference[iy, ix, 0] * (1 - ax) + difference[iy, ix + 1, 0] * ax
            bottom = difference[iy + 1, ix, 0] * (1 - ax) + difference[iy + 1, ix + 1, 0] * ax
            m[2 * i + si, 2 * j + sj] = green[2 * i + si, 2 * j + sj, 0] + top * (1 - ay) + bottom * ay
    return m


def apply_lens_ca_fast(mosaic: np.ndarray, plan: LensCaPlan) -> np.ndarray:
    """:func:`apply_lens_ca` compiled (float32; overwrites ``mosaic``)."""
    m = np.ascontiguousarray(mosaic, np.float32)
    green = _green_rows(m, plan.green_parity, np.empty((*m.shape, 1), np.float32))
    differences = []
    for site, maps in zip(plan.sites, plan.maps):
        rows, cols = (m.shape[0] - site[0] + 1) // 2, (m.shape[1] - site[1] + 1) // 2
        out = np.empty((rows, cols, 1), np.float32)
        differences.append(_difference_rows(m, green, site[0], site[1], maps, GRID_STEP, out))
    for site, maps, difference in zip(plan.sites, plan.maps, differences):
        _moved_rows(difference, green, site[0], site[1], maps, GRID_STEP, m)
    return m


def _plan(params: LensCaParams, frame: Frame, image: np.ndarray, lens: LensParams | None) -> LensCaPlan | None:
    """The plan, if the lens block (``lens``; None: the lens stage switched off) applies the raw's lateral CA."""
    if lens is None or not (lens.dng_opcodes and lens.chromatic_aberration):
        return None
    return lens_ca_plan(params, frame, image.shape)


STAGE = Stage(
    name="lens_ca",
    side="tuning",
    params=LensCaParams,
    plan=_plan,
    process=apply_lens_ca_fast,
    reads="lens",
    summary="lateral chromatic aberration of the DNG warps, corrected on the Bayer mosaic before demosaicing",
)
