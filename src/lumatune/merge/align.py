"""Align a burst frame to the reference: coarse-to-fine tile matching on a pyramid, sub-pixel by Lucas-Kanade.

Both frames are first reduced to one plane by averaging each 2x2 CFA quad (:func:`bin_quads`), so the
alignment sees every colour at once and half the noise; a displacement of one binned pixel is one whole CFA
quad, which is also one pixel of each Bayer colour plane. On a Gaussian pyramid of that plane (factors 1, 2,
4, 4 from the binned image, as in HDR+) each tile searches a small window around the displacement proposed by
the coarser level: L2 distance on the coarse levels, L1 on the finest, and at each level the tile also tries
the displacements of the coarser level's neighbouring tiles (HDR+'s three candidates, here the 3x3
neighbours), which keeps the alignment right at motion boundaries. The integer displacement of the finest
level is then refined to sub-pixel precision by a few inverse-compositional Lucas-Kanade (Gauss-Newton)
steps on a tile twice as large, as the IPOL re-implementation of Wronski et al. does (they use 3
iterations of ICA after the HDR+ block matching). Whole-quad steps alone lose 2-3 dB of the merge's gain;
the sub-pixel field keeps it.

A tile that finds no good match still returns its best displacement; the merge then rejects the pixels
that disagree with the reference (robustness weights), so those areas fall back to the reference frame.

References
----------
.. [1] S. W. Hasinoff, D. Sharlet, R. Geiss, A. Adams, J. T. Barron, F. Kainz, J. Chen, M. Levoy,
       "Burst photography for high dynamic range and low-light imaging on mobile cameras", ACM TOG 35(6)
       (SIGGRAPH Asia), 2016, section 4 (alignment).
.. [2] A. Monod, J. Delon, T. Veit, "An Analysis and Implementation of the HDR+ Burst Denoising Method",
       Image Processing On Line 11, 2021, pp. 142-169: pyramid factors 1, 2, 4, 4; tiles 16/16/16/8;
       search radii 1/4/4/4; L1 at the finest level, L2 above.
.. [3] B. Wronski et al., "Handheld multi-frame super-resolution", ACM TOG 38(4) (SIGGRAPH), 2019, and
       J. Lafenetre, G. Facciolo, T. Eboli, IPOL 2023: block matching, then iterations of an
       inverse-compositional Lucas-Kanade.
.. [4] S. Baker, I. Matthews, "Lucas-Kanade 20 years on: a unifying framework", IJCV 56(3), 2004
       (inverse compositional algorithm).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit, prange

__all__ = ["LEVELS", "LK_ITERATIONS", "Reference", "TileField", "align", "bin_quads", "keys_weights"]


@dataclass(frozen=True)
class _Level:
    factor: int  # downsampling from the next finer level (1 for the binned image itself)
    tile: int  # tile side, pixels of this level
    radius: int  # search radius, pixels of this level
    l1: bool  # L1 distance (else L2)


LEVELS = (_Level(1, 16, 1, True), _Level(2, 16, 4, False), _Level(4, 16, 4, False), _Level(4, 8, 4, False))
"""Pyramid levels, finest first (HDR+ parameters from Monod, Delon and Veit, IPOL 2021)."""

LK_ITERATIONS = 4
"""Most inverse-compositional Lucas-Kanade steps of the sub-pixel refinement (Lafenetre et al. use 3; it stops
earlier once a step moves less than 0.01 px)."""

LK_SUPPORT = 24
"""Side of the window, binned pixels, on which the sub-pixel refinement fits each tile (centred on the tile)."""

SNAP_PX = 0.25
"""A tile whose displacement lies within this many binned pixels of the frame's global (affine) motion takes the
global motion's value: handheld motion is close to affine, and the global fit has far less noise than one tile."""

_ROBUST_PX = 0.5
"""Scale of the Tukey weights of the robust affine fit (binned pixels): tiles further off barely count."""

_BIG = np.float32(3.0e38)


@dataclass(frozen=True)
class TileField:
    """Displacements of the frame against the reference at tile centres, in binned (CFA quad) pixels.

    ``dy[i, j], dx[i, j]``: the frame's content at reference position (y, x) lies at (y + dy, x + dx); the
    tile (i, j) is centred on (``i * stride + tile / 2``, ``j * stride + tile / 2``).
    """

    dy: np.ndarray
    dx: np.ndarray
    tile: int
    stride: int

    def median_shift(self) -> tuple[float, float]:
        """The median displacement (dy, dx) in binned pixels."""
        return float(np.median(self.dy)), float(np.median(self.dx))


def bin_quads(plane: np.ndarray) -> np.ndarray:
    """Average each 2x2 quad of a mosaic: (H // 2, W // 2) float32 (HDR+ aligns this image)."""
    rows, cols = plane.shape[0] // 2 * 2, plane.shape[1] // 2 * 2
    p = plane[:rows, :cols]
    return (p[0::2, 0::2] + p[0::2, 1::2] + p[1::2, 0::2] + p[1::2, 1::2]) * np.float32(0.25)


def _pyramid(image: np.ndarray) -> list[np.ndarray]:
    """Gaussian pyramid by :data:`LEVELS` factors, finest first (blur by sigma = factor / 2, then decimate)."""
    levels = [np.ascontiguousarray(image, dtype=np.float32)]
    for level in LEVELS[1:]:
        f = level.factor
        blurred = cv2.GaussianBlur(levels[-1], (0, 0), sigmaX=0.5 * f)
        levels.append(np.ascontiguousarray(blurred[f // 2 :: f, f // 2 :: f]))
    return levels


@njit(cache=True, inline="always")
def _clamp(v, low, high):
    return low if v < low else (high if v > high else v)


@njit(cache=True)
def _tile_cost(ref, alt, y0, x0, tile, oy, ox, l1, limit):
    """Distance of the reference tile at (y0, x0) to the frame's tile moved by (oy, ox); stops above ``limit``."""
    h, w = alt.shape
    if y0 + oy + tile // 2 < 0 or y0 + oy + tile // 2 >= h or x0 + ox + tile // 2 < 0 or x0 + ox + tile // 2 >= w:
        return _BIG  # the moved tile's centre left the frame: no match there
    total = np.float32(0.0)
    inside = (
        y0 + tile <= ref.shape[0] and x0 + tile <= ref.shape[1]
        and y0 + oy >= 0 and x0 + ox >= 0 and y0 + oy + tile <= h and x0 + ox + tile <= w
    )
    if inside:  # the common case: no clamping per sample
        for i in range(tile):
            for j in range(tile):
                d = ref[y0 + i, x0 + j] - alt[y0 + oy + i, x0 + ox + j]
                total += abs(d) if l1 else d * d
            if total > limit:
                return total
        return total
    for i in range(tile):
        yr = _clamp(y0 + i, 0, ref.shape[0] - 1)
        ya = _clamp(y0 + i + oy, 0, h - 1)
        for j in range(tile):
            xr = _clamp(x0 + j, 0, ref.shape[1] - 1)
            xa = _clamp(x0 + j + ox, 0, w - 1)
            d = ref[yr, xr] - alt[ya, xa]
            total += abs(d) if l1 else d * d
        if total > limit:
            return total
    return total


@njit(cache=True, parallel=True)
def _match_level(ref, alt, tile, radius, l1, coarse_dy, coarse_dx, factor, coarse_tile):
    """Best integer displacement of each tile at one level (see the module docstring)."""
    nty = max(1, (ref.shape[0] - tile) // tile + 1)
    ntx = max(1, (ref.shape[1] - tile) // tile + 1)
    cty, ctx = coarse_dy.shape
    out_dy = np.zeros((nty, ntx), dtype=np.int32)
    out_dx = np.zeros((nty, ntx), dtype=np.int32)
    for ty in prange(nty):
        for tx in range(ntx):
            y0 = ty * tile
            x0 = tx * tile
            # candidates: the coarse tiles around this tile's centre, scaled to this level
            cy = (y0 + tile * 0.5) / factor / coarse_tile - 0.5
            cx = (x0 + tile * 0.5) / factor / coarse_tile - 0.5
            iy = _clamp(int(np.floor(cy + 0.5)), 0, cty - 1)
            ix = _clamp(int(np.floor(cx + 0.5)), 0, ctx - 1)
            best = _BIG
            by = 0
            bx = 0
            for ny in range(max(0, iy - 1), min(cty, iy + 2)):
                for nx in range(max(0, ix - 1), min(ctx, ix + 2)):
                    oy = coarse_dy[ny, nx] * factor
                    ox = coarse_dx[ny, nx] * factor
                    if best < _BIG and oy == by and ox == bx:
                        continue
                    cost = _tile_cost(ref, alt, y0, x0, tile, oy, ox, l1, best)
                    if cost < best:
                        best = cost
                        by = oy
                        bx = ox
            sy = by
            sx = bx
            for dy in range(-radius, radius + 1):
                for dx in range(-radius, radius + 1):
                    if dy == 0 and dx == 0:
                        continue
                    cost = _tile_cost(ref, alt, y0, x0, tile, sy + dy, sx + dx, l1, best)
                    if cost < best:
                        best = cost
                        by = sy + dy
                        bx = sx + dx
            out_dy[ty, tx] = by
            out_dx[ty, tx] = bx
    return out_dy, out_dx


@njit(cache=True, parallel=True)
def _hessians(ref, tile, support, nty, ntx):
    """Gauss-Newton matrix [a b; b c] of each tile's refinement window (central-difference gradients)."""
    h, w = ref.shape
    out = np.zeros((nty, ntx, 3), dtype=np.float64)
    half = (support - tile) // 2
    for ty in prange(nty):
        for tx in range(ntx):
            a = 0.0
            b = 0.0
            c = 0.0
            for y in range(max(ty * tile - half, 1), min(ty * tile + tile + half, h - 1)):
                for x in range(max(tx * tile - half, 1), min(tx * tile + tile + half, w - 1)):
                    gx = 0.5 * (ref[y, x + 1] - ref[y, x - 1])
                    gy = 0.5 * (ref[y + 1, x] - ref[y - 1, x])
                    a += gx * gx
                    b += gx * gy
                    c += gy * gy
            out[ty, tx, 0] = a
            out[ty, tx, 1] = b
            out[ty, tx, 2] = c
    return out


@njit(cache=True, inline="always")
def keys_weights(t):
    """Keys cubic-convolution weights (a = -0.5) of the four samples around a fraction t in [0, 1)."""
    t2 = t * t
    t3 = t2 * t
    return (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1.0, -1.5 * t3 + 2.0 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)


@njit(cache=True, parallel=True)
def _refine(ref, alt, hessians, tile, support, iterations, int_dy, int_dx):
    """Sub-pixel displacements: inverse-compositional Lucas-Kanade from the integer ones (Baker-Matthews 2004).

    The reference's gradients and Gauss-Newton matrices are the frame-independent part (computed once per
    burst); each step samples the frame at the current displacement with Keys' cubic kernel (bilinear
    sampling smooths by an amount that depends on the fraction and biases the estimate by ~0.05 px).
    """
    h, w = ref.shape
    nty, ntx = int_dy.shape
    out_dy = np.zeros((nty, ntx), dtype=np.float32)
    out_dx = np.zeros((nty, ntx), dtype=np.float32)
    half = (support - tile) // 2
    for ty in prange(nty):
        for tx in range(ntx):
            y0 = max(ty * tile - half, 1)
            x0 = max(tx * tile - half, 1)
            y1 = min(ty * tile + tile + half, h - 1)
            x1 = min(tx * tile + tile + half, w - 1)
            a = hessians[ty, tx, 0]
            b = hessians[ty, tx, 1]
            c = hessians[ty, tx, 2]
            det = a * c - b * b
            vy = float(int_dy[ty, tx])
            vx = float(int_dx[ty, tx])
            if det > 1e-12 * (a + c) * (a + c) and det > 0:
                rows = y1 - y0
                cols = x1 - x0
                across = np.empty((rows + 3, cols), dtype=np.float64)
                for _ in range(iterations):
                    ex = 0.0
                    ey = 0.0
                    # the whole window moves by (vy, vx): one set of cubic weights, applied separably
                    iy = int(np.floor(vy))
                    ix = int(np.floor(vx))
                    ky = keys_weights(vy - iy)
                    kx = keys_weights(vx - ix)
                    for i in range(rows + 3):
                        ya = min(max(y0 + i + iy - 1, 0), h - 1)
                        for j in range(cols):
                            x = x0 + j + ix - 1
                            if x >= 0 and x + 3 < w:
                                across[i, j] = (
                                    kx[0] * alt[ya, x] + kx[1] * alt[ya, x + 1]
                                    + kx[2] * alt[ya, x + 2] + kx[3] * alt[ya, x + 3]
                                )
                            else:
                                total = 0.0
                                for q in range(4):
                                    total += kx[q] * alt[ya, min(max(x + q, 0), w - 1)]
                                across[i, j] = total
                    for i in range(rows):
                        y = y0 + i
                        for j in range(cols):
                            x = x0 + j
                            sample = (
                                ky[0] * across[i, j] + ky[1] * across[i + 1, j]
                                + ky[2] * across[i + 2, j] + ky[3] * across[i + 3, j]
                            )
                            e = sample - ref[y, x]
                            ex += 0.5 * (ref[y, x + 1] - ref[y, x - 1]) * e
                            ey += 0.5 * (ref[y + 1, x] - ref[y - 1, x]) * e
                    # solve [a b; b c] [ux, uy] = [ex, ey]; the inverse compositional update subtracts it
                    ux = (c * ex - b * ey) / det
                    uy = (a * ey - b * ex) / det
                    vx -= ux
                    vy -= uy
                    if abs(ux) < 0.01 and abs(uy) < 0.01:
                        break
                # stay within one pixel of the block match (a larger jump means the fit diverged)
                vy = min(max(vy, int_dy[ty, tx] - 1.0), int_dy[ty, tx] + 1.0)
                vx = min(max(vx, int_dx[ty, tx] - 1.0), int_dx[ty, tx] + 1.0)
            out_dy[ty, tx] = vy
            out_dx[ty, tx] = vx
    return out_dy, out_dx


class Reference:
    """What the alignment needs of the reference, computed once per burst: its pyramid and the refinement's
    Gauss-Newton matrices."""

    def __init__(self, binned: np.ndarray):
        self.levels = _pyramid(binned)
        tile = LEVELS[0].tile
        h, w = self.levels[0].shape
        self.grid = (max(1, (h - tile) // tile + 1), max(1, (w - tile) // tile + 1))
        self.hessians = _hessians(self.levels[0], tile, LK_SUPPORT, *self.grid)


def align(reference: np.ndarray | Reference, frame: np.ndarray) -> TileField:
    """Displacement field of ``frame`` against ``reference``, both binned planes (see :func:`bin_quads`).

    Parameters
    ----------
    reference
        (h, w) float32 plane, or a :class:`Reference` made from one (faster for many frames).
    frame
        (h, w) float32 plane on the same exposure scale.

    Returns
    -------
    TileField
        Sub-pixel displacements per finest-level tile (16 binned pixels, i.e. 32 raw pixels, a side).
    """
    prepared = reference if isinstance(reference, Reference) else Reference(reference)
    ref_levels = prepared.levels
    alt_levels = _pyramid(frame)
    coarse_dy = np.zeros((1, 1), dtype=np.int32)
    coarse_dx = np.zeros((1, 1), dtype=np.int32)
    coarse_tile = max(ref_levels[-1].shape) + 1
    factor = 1
    for index in range(len(LEVELS) - 1, -1, -1):
        level = LEVELS[index]
        if index > 0 and min(ref_levels[index].shape) < 2 * level.tile:
            continue  # too small to hold two tiles: start at a finer level
        if coarse_dy.shape == (1, 1):
            coarse_tile, factor = max(ref_levels[index].shape) + 1, 1
        coarse_dy, coarse_dx = _match_level(
            ref_levels[index], alt_levels[index], level.tile, level.radius, level.l1,
            coarse_dy, coarse_dx, factor, coarse_tile,
        )
        coarse_tile = level.tile
        factor = level.factor
    tile = LEVELS[0].tile
    dy, dx = _refine(
        ref_levels[0], alt_levels[0], prepared.hessians, tile, LK_SUPPORT, LK_ITERATIONS, coarse_dy, coarse_dx
    )
    # one outlier tile (a flat or noisy patch) must not bend the field: 3x3 median (keeps motion edges)
    dy = cv2.medianBlur(dy, 3) if min(dy.shape) >= 3 else dy
    dx = cv2.medianBlur(dx, 3) if min(dx.shape) >= 3 else dx
    dy, dx = _snap_to_global(dy, dx, prepared.hessians)
    return TileField(dy=dy, dx=dx, tile=tile, stride=tile)


def _snap_to_global(dy: np.ndarray, dx: np.ndarray, hessians: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace tiles that agree with a robust affine fit of the field (within :data:`SNAP_PX`) by the fit.

    The fit weights each tile by its texture (the smaller eigenvalue of its Gauss-Newton matrix, which bounds
    the precision of its displacement) and by Tukey's biweight of its residual (3 reweighting passes), so that
    a moving object or a flat patch does not pull it.
    """
    if dy.size < 6:
        return dy, dx
    rows, cols = np.mgrid[0 : dy.shape[0], 0 : dy.shape[1]]
    design = np.column_stack([np.ones(dy.size), rows.ravel(), cols.ravel()]).astype(np.float64)
    a, b, c = (hessians[..., k].ravel() for k in range(3))
    texture = 0.5 * (a + c) - np.sqrt(np.maximum(0.25 * (a - c) ** 2 + b * b, 0.0))
    weights = np.maximum(texture, 0.0) + 1e-12
    targets = np.column_stack([dy.ravel(), dx.ravel()]).astype(np.float64)
    fitted = targets
    for _ in range(4):
        root = np.sqrt(weights)[:, None]
        coefficients, *_ = np.linalg.lstsq(design * root, targets * root, rcond=None)
        fitted = design @ coefficients
        residual = np.hypot(*(targets - fitted).T) / _ROBUST_PX
        tukey = np.where(residual < 1, (1 - residual**2) ** 2, 0.0)
        weights = (np.maximum(texture, 0.0) + 1e-12) * tukey + 1e-12
    close = np.hypot(*(targets - fitted).T) <= SNAP_PX
    out = np.where(close[:, None], fitted, targets).astype(np.float32)
    return out[:, 0].reshape(dy.shape), out[:, 1].reshape(dx.shape)
