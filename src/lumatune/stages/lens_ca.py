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
the raw's own DNG warps. The maps are computed on a grid every :func:`grid_step` sites (the inverses by
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
    bicubic_read,
    clamped,
    dng_warp_program,
    frame_geometry,
    keys_at,
    source_positions,
)
from lumatune.stages.params import param

__all__ = [
    "GRID_CELLS",
    "LensCaParams",
    "LensCaPlan",
    "STAGE",
    "apply_lens_ca",
    "apply_lens_ca_fast",
    "green_estimate",
    "grid_step",
    "lens_ca_plan",
]

GREEN = 1
"""Green's plane index in the warps and the CFA."""

GRID_CELLS = 125
"""Grid cells across a plane's shorter side, at least (see :func:`grid_step`)."""

MAX_GRID_STEP = 16
"""Most sites between grid points (32 pixels)."""


def grid_step(rows: int, cols: int) -> int:
    """Sites of a plane between the grid points at which the exact maps are computed: ``min(rows, cols) //``
    :data:`GRID_CELLS`, from 1 to :data:`MAX_GRID_STEP` (16 for a 24-MP raw's 2000 x 3000 planes). Where the
    planes differ by a magnification the maps are affine and bilinear interpolation is exact; a difference that
    grows with the cube of the radius (1.5 px at the corner) bends them by ~6 x 1.5 / R^2 px per px^2 (R the
    half-diagonal), which the interpolation misses by about a cell's size squared over 8 times that: under
    1e-4 px, the same at every image size, since the step shrinks with R. Each grid point costs the inverse of
    two warps (fixed point, ~15 steps)."""
    return int(min(MAX_GRID_STEP, max(1, min(rows, cols) // GRID_CELLS)))


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
    step: int  # sites between the maps' grid points (:func:`grid_step`)
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


def _coarse_maps(program, plane, site, geometry, plane_size, step) -> np.ndarray:
    """(4, grid rows, grid columns) at the plane's sites every ``step`` (and one step past the end):
    where each site reads the colour difference, ``W_plane(W_green^-1(p))`` in the plane's site indices (x, y);
    and where green shows what the site shows, ``W_green(W_plane^-1(p))`` in mosaic pixel indices (x, y)."""
    (x0, y0), _ = geometry
    rows, cols = plane_size
    gi = np.arange((rows - 1) // step + 2, dtype=np.float64) * step
    gj = np.arange((cols - 1) // step + 2, dtype=np.float64) * step
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
    step = grid_step(shape[0] // 2, shape[1] // 2)
    for plane in (0, 2):
        site = tuple(int(v) for v in np.argwhere(raw.cfa == plane)[0])
        plane_size = ((shape[0] - site[0] + 1) // 2, (shape[1] - site[1] + 1) // 2)
        sites.append(site)
        maps.append(np.ascontiguousarray(_coarse_maps(warps, plane, site, geometry, plane_size, step)))
    green_parity = int(sum(np.argwhere(raw.cfa == GREEN)[0]) % 2)
    frame.lateral_ca_on_mosaic = True
    frame.notes.append("lens_ca: lateral chromatic aberration of the DNG warps corrected on the mosaic (red, blue)")
    return LensCaPlan(tuple(sites), tuple(maps), step, tuple(shape[:2]), green_parity)


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


def _positions(maps: np.ndarray, plane_shape: tuple[int, int], step: int) -> list[np.ndarray]:
    """Every site's four map values (see :func:`_coarse_maps`), bilinear between the grid points."""
    rows, cols = plane_shape
    i, j = np.arange(rows)[:, None], np.arange(cols)[None, :]
    gi, gj = i // step, j // step
    fy, fx = (i - gi * step) / step, (j - gj * step) / step
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
        sx, sy, tx, ty = _positions(maps, plane.shape, plan.step)
        difference = plane - bicubic_read(green, np.clip(tx, 0, w - 1), np.clip(ty, 0, h - 1))
        out[site[0] :: 2, site[1] :: 2] = green[site[0] :: 2, site[1] :: 2] + _bilinear_read(difference, sx, sy)
    return out


@njit(inline="always", fastmath=FASTMATH)
def _reflect(k, n):
    return -k if k < 0 else (2 * n - 2 - k if k >= n else k)


@njit(inline="always", fastmath=FASTMATH)
def _hamilton_adams(c, left1, right1, left2, right2, above1, below1, above2, below2):
    """Hamilton and Adams' green at a red or blue site of value ``c`` from its neighbours 1 and 2 pixels away, in
    float64 as the plain twin (near a tie of the two gradients float32 would choose the other direction)."""
    lh = 2.0 * c - left2 - right2
    lv = 2.0 * c - above2 - below2
    gh = (left1 + right1) * 0.5 + lh * 0.25
    gv = (above1 + below1) * 0.5 + lv * 0.25
    dh = abs(left1 - right1) + abs(lh)
    dv = abs(above1 - below1) + abs(lv)
    return gh if dh < dv else (gv if dv < dh else (gh + gv) * 0.5)


@njit(inline="always", fastmath=FASTMATH)
def _green_at(m, i, j, u1, d1, u2, d2, l1, r1, l2, r2):
    """:func:`_hamilton_adams` at the red or blue site (i, j), its neighbours' rows and columns given."""
    return _hamilton_adams(m[i, j], m[i, l1], m[i, r1], m[i, l2], m[i, r2], m[u1, j], m[d1, j], m[u2, j], m[d2, j])


# The loops below index flat arrays with unsigned integers (numba then wraps no negative index) and keep their
# bodies free of branches, so that LLVM vectorises them; the pixels near an edge take the scalar forms above.


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _green_rows(m, green_parity, out):
    """:func:`green_estimate` into ``out`` (2, H, (W + 1) // 2) float32, split by column parity (``out[p, i, k]``
    is the green of pixel (i, 2k + p)): the mosaic's own value at the green sites, Hamilton and Adams' green at
    the others (the mosaic reflected within 2 of an edge). Away from the left and right edges every pixel's
    estimate is made and the green sites keep their value instead: loops of contiguous loads, which LLVM
    vectorises (the red and blue sites alone, every other pixel, it reads with gathers); the split lets the
    reads of the later steps, which step two pixels per site, be contiguous too."""
    h, w = m.shape
    u = np.uint64
    flat = m.reshape(-1)
    for i in prange(h):
        line = np.empty(w + 1, np.float32)
        u1, d1, u2, d2 = _reflect(i - 1, h), _reflect(i + 1, h), _reflect(i - 2, h), _reflect(i + 2, h)
        row, up1, dn1, up2, dn2 = u(i * w), u(u1 * w), u(d1 * w), u(u2 * w), u(d2 * w)
        parity = (i + green_parity) % 2  # j of the same parity: a green site
        for j in range(2, w - 2):
            q = u(j)
            c = flat[row + q]
            estimate = _hamilton_adams(c, flat[row + q - u(1)], flat[row + q + u(1)], flat[row + q - u(2)],
                                       flat[row + q + u(2)], flat[up1 + q], flat[dn1 + q], flat[up2 + q], flat[dn2 + q])
            line[q] = c if (j & 1) == parity else estimate
        for j in (0, 1, w - 2, w - 1):
            if 0 <= j < w:
                line[j] = m[i, j] if (i + j + green_parity) % 2 == 0 else _green_at(
                    m, i, j, u1, d1, u2, d2, _reflect(j - 1, w), _reflect(j + 1, w), _reflect(j - 2, w),
                    _reflect(j + 2, w))
        line[w] = line[w - 1]  # the odd phase's last column past an odd width: never read
        even, odd = out[0, i], out[1, i]
        for k in range(out.shape[2]):
            even[k], odd[k] = line[u(2) * u(k)], line[u(2) * u(k) + u(1)]
    return out


@njit(inline="always", fastmath=FASTMATH)
def _green_tap(green, y, x):
    """Green of pixel (y, x) from the planes split by column parity."""
    return green[x & 1, y, x >> 1]


@njit(inline="always", fastmath=FASTMATH)
def _bicubic_green(green, x, y, w, h):
    """Green read at (x, y) (clamped to the mosaic) with Keys' kernel, taps clamped at the edges (the scalar form
    of the runs in :func:`_difference_rows`)."""
    x, y = clamped(x, w - 1.0), clamped(y, h - 1.0)
    ix, iy = int(x), int(y)
    ax0, ax1, ax2, ax3 = keys_at(np.float32(x - ix))
    ay0, ay1, ay2, ay3 = keys_at(np.float32(y - iy))
    c0, c1, c2, c3 = max(ix - 1, 0), ix, min(ix + 1, w - 1), min(ix + 2, w - 1)
    value = 0.0
    for r, ay in ((max(iy - 1, 0), ay0), (iy, ay1), (min(iy + 1, h - 1), ay2), (min(iy + 2, h - 1), ay3)):
        value += ay * (ax0 * _green_tap(green, r, c0) + ax1 * _green_tap(green, r, c1)
                       + ax2 * _green_tap(green, r, c2) + ax3 * _green_tap(green, r, c3))
    return value


@njit(inline="always", fastmath=FASTMATH)
def _row_positions(maps, first, i, step, xs, ys):
    """Maps ``first`` and ``first + 1`` at every site of the plane's row ``i`` into ``xs`` and ``ys`` (which hold
    whole grid cells): bilinear between the grid points, along the row one cell (``step`` sites) at a time."""
    gi = i // step
    fy = (i - gi * step) / step
    inv = 1.0 / step
    u = np.uint64
    for g in range(maps.shape[2] - 1):
        x0 = maps[first, gi, g] * (1.0 - fy) + maps[first, gi + 1, g] * fy
        x1 = maps[first, gi, g + 1] * (1.0 - fy) + maps[first, gi + 1, g + 1] * fy
        y0 = maps[first + 1, gi, g] * (1.0 - fy) + maps[first + 1, gi + 1, g] * fy
        y1 = maps[first + 1, gi, g + 1] * (1.0 - fy) + maps[first + 1, gi + 1, g + 1] * fy
        dx, dy = (x1 - x0) * inv, (y1 - y0) * inv
        for k in range(step):
            xs[u(g) * u(step) + u(k)] = x0 + k * dx
            ys[u(g) * u(step) + u(k)] = y0 + k * dy


@njit(inline="always", fastmath=FASTMATH)
def _site_reads(maps, first, i, step, cols, high_x, high_y, last_x, last_y, taps):
    """Where the sites of the plane's row ``i`` read (maps ``first``, ``first + 1``: :func:`_row_positions`) and
    how: per site j < cols the position clamped to [0, high] (NaN: 0), its integer part (at most ``last``) and the
    weights of its fraction, Keys' four (``taps`` 4) or linear (2: ``1 - f``, ``f``). Returns xs, ys, ix, iy,
    wx, wy."""
    xs, ys = np.empty((maps.shape[2] - 1) * step), np.empty((maps.shape[2] - 1) * step)
    ix, iy = np.empty(cols, np.int64), np.empty(cols, np.int64)
    wx, wy = np.empty((taps, cols), np.float32), np.empty((taps, cols), np.float32)
    _row_positions(maps, first, i, step, xs, ys)
    f32 = np.float32
    for j in range(cols):
        x, y = clamped(xs[j], high_x), clamped(ys[j], high_y)
        jx, jy = min(int(x), last_x), min(int(y), last_y)
        tx, ty = f32(x - jx), f32(y - jy)
        ix[j], iy[j] = jx, jy
        if taps == 4:
            wx[0, j], wx[1, j], wx[2, j], wx[3, j] = keys_at(tx)
            wy[0, j], wy[1, j], wy[2, j], wy[3, j] = keys_at(ty)
        else:
            wx[0, j], wx[1, j], wy[0, j], wy[1, j] = 1 - tx, tx, 1 - ty, ty
    return xs, ys, ix, iy, wx, wy


@njit(inline="always", fastmath=FASTMATH)
def _site_run_end(ix, iy, j, cols, scale):
    """One past the last site from ``j`` whose row and whose column less ``scale`` times its own index are
    those of site ``j``."""
    offset, row = ix[j] - scale * j, iy[j]
    end = j + 1
    while end < cols and iy[end] == row and ix[end] - scale * end == offset:
        end += 1
    return end


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _difference_rows(m, green, si, sj, maps, step, out):
    """Step 2: ``out`` (plane rows, plane columns, 1) = the plane's sites less green (split by column parity:
    :func:`_green_rows`) read with Keys' kernel where green shows what they show. Sites whose 4 x 4 taps lie
    inside the mosaic and move with them (green's column two per site, the same rows) are read in one
    vectorised loop per run, each tap from one parity's plane, contiguous."""
    rows, cols = out.shape[0], out.shape[1]
    h, w = m.shape
    half_w = green.shape[2]
    u = np.uint64
    flat, gflat, target = m.reshape(-1), green.reshape(-1), out.reshape(-1)
    plane = u(h * half_w)
    for i in prange(rows):
        xs, ys, ix, iy, wx, wy = _site_reads(maps, 2, i, step, cols, w - 1.0, h - 1.0, w - 1, h - 1, 4)
        site_values = np.empty(cols, np.float32)
        site = u((2 * i + si) * w + sj)
        for q in range(cols):
            site_values[q] = flat[site + u(2) * u(q)]
        j = 0
        while j < cols:
            end = _site_run_end(ix, iy, j, cols, 2)
            x, y = ix[j], iy[j]
            if 1 <= x and x + 2 * (end - 1 - j) + 2 <= w - 1 and 1 <= y <= h - 3:
                # taps x - 1 ... x + 2 of site j + k: columns x - 1 + 2k + c, in plane (x - 1 + c) & 1 at
                # (x - 1 + c) >> 1 + k
                b0 = (x - 1) & 1, (x - 1) >> 1
                b1 = x & 1, x >> 1
                b2 = (x + 1) & 1, (x + 1) >> 1
                b3 = (x + 2) & 1, (x + 2) >> 1
                t0, t1 = u(b0[0]) * plane + u(b0[1] - j), u(b1[0]) * plane + u(b1[1] - j)
                t2, t3 = u(b2[0]) * plane + u(b2[1] - j), u(b3[0]) * plane + u(b3[1] - j)
                for r in range(4):
                    base = u((y - 1 + r) * half_w)
                    a0, a1, a2, a3 = t0 + base, t1 + base, t2 + base, t3 + base
                    for k in range(j, end):
                        q = u(k)
                        v = (wx[0, q] * gflat[a0 + q] + wx[1, q] * gflat[a1 + q] + wx[2, q] * gflat[a2 + q]
                             + wx[3, q] * gflat[a3 + q])
                        if r == 0:
                            target[u(i * cols) + q] = site_values[q] - wy[0, q] * v
                        else:
                            target[u(i * cols) + q] -= wy[r, q] * v
            else:
                for q in range(j, end):
                    out[i, q, 0] = site_values[q] - _bicubic_green(green, xs[q], ys[q], w, h)
            j = end
    return out


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _moved_rows(difference, green, si, sj, maps, step, m):
    """Step 3: the plane's sites of ``m`` = green there (split by column parity) plus the difference read
    bilinearly where they read (a run of sites whose two rows and columns move with them: one vectorised
    loop); each row's new values are then written back with the other parity's pixels as they were."""
    rows, cols = difference.shape[0], difference.shape[1]
    w = m.shape[1]
    u = np.uint64
    flat, dflat = m.reshape(-1), difference.reshape(-1)
    for i in prange(rows):
        _, _, ix, iy, wx, wy = _site_reads(maps, 0, i, step, cols, cols - 1.0, rows - 1.0, cols - 2, rows - 2, 2)
        moved = np.empty(cols, np.float32)
        own = green[sj, 2 * i + si]
        j = 0
        while j < cols:
            end = _site_run_end(ix, iy, j, cols, 1)
            top, o = u(iy[j] * cols + ix[j] - j), u(cols)
            for k in range(j, end):
                q = u(k)
                a = top + q
                upper = dflat[a] * wx[0, q] + dflat[a + u(1)] * wx[1, q]
                lower = dflat[a + o] * wx[0, q] + dflat[a + o + u(1)] * wx[1, q]
                moved[q] = own[q] + upper * wy[0, q] + lower * wy[1, q]
            j = end
        row = u((2 * i + si) * w)
        pairs = w // 2
        if sj == 0:
            for k in range(pairs):
                a = row + u(2) * u(k)
                flat[a], flat[a + u(1)] = moved[k], flat[a + u(1)]
        else:
            for k in range(pairs):
                a = row + u(2) * u(k)
                flat[a], flat[a + u(1)] = flat[a], moved[k]
        if w % 2 and sj == 0:  # an odd width's last column
            flat[row + u(w - 1)] = moved[cols - 1]
    return m


def apply_lens_ca_fast(mosaic: np.ndarray, plan: LensCaPlan) -> np.ndarray:
    """:func:`apply_lens_ca` compiled (float32; overwrites ``mosaic``)."""
    m = np.ascontiguousarray(mosaic, np.float32)
    green = _green_rows(m, plan.green_parity, np.empty((2, m.shape[0], (m.shape[1] + 1) // 2), np.float32))
    differences = []
    for site, maps in zip(plan.sites, plan.maps):
        rows, cols = (m.shape[0] - site[0] + 1) // 2, (m.shape[1] - site[1] + 1) // 2
        out = np.empty((rows, cols, 1), np.float32)
        differences.append(_difference_rows(m, green, site[0], site[1], maps, plan.step, out))
    for site, maps, difference in zip(plan.sites, plan.maps, differences):
        _moved_rows(difference, green, site[0], site[1], maps, plan.step, m)
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
