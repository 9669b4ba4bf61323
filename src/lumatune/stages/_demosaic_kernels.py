"""Compiled kernels behind :mod:`lumatune.stages.demosaic` (numba, float32, tiles spread over threads).

Each kernel works on one tile: it reads the tile plus a margin (mirrored at the image edges) into small
local planes (about 0.8 MB for Menon, 2.5 MB for X-Trans), runs the whole method there and writes the
tile's centre to the output. Peak memory beyond input and output is one set of planes per thread. The
arithmetic repeats the plain numpy versions in :mod:`lumatune.stages.demosaic` operation by operation,
in the same order and without re-association, so both give the same floats.

The kernels release the GIL and :func:`run_tiles` spreads the tiles over a thread pool: the same
parallelism as a ``prange`` driver without its compile time (measured here: 3 s per kernel on a cold
numba cache, which every fresh checkout and CI run would pay).

References
----------
-   Ragan-Kelley, J., et al. (2013). Halide: a language and compiler for optimizing parallelism, locality,
    and recomputation in image processing pipelines. PLDI 2013, 519-530 (tiles with overlapping margins
    computed per thread, the "algorithm vs schedule" split).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

MENON2007_TILE = (64, 256)
"""Rows and columns of a Menon (2007) tile (even, so every tile starts on the CFA phase of pixel (0, 0))."""
MARKESTEIJN_TILE = (96, 192)
"""Rows and columns of an X-Trans tile (multiples of 6, for the same reason)."""

_F0 = np.float32(0.0)
_HALF = np.float32(0.5)
_QUARTER = np.float32(0.25)
_THIRD = np.float32(1.0 / 3.0)
_THREE = np.float32(3.0)
_TWO = np.float32(2.0)
_FOUR = np.float32(4.0)
_EIGHT = np.float32(8.0)


@njit(cache=True)
def _reflect(k: int, n: int) -> int:
    """Index ``k`` folded into ``[0, n)`` by mirror reflection without repeating the edge (numpy ``reflect``)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    k = k % period
    return k if k < n else period - k


@njit(cache=True)
def _load_tile(mosaic, r0, c0, rows, cols, margin, tile, col_index):
    """Copy ``mosaic[r0 - margin : r0 + rows + margin, c0 - margin : ...]`` with reflected indices into the
    top-left corner of ``tile`` (``col_index``: scratch of at least ``cols + 2 margin`` ints)."""
    height, width = mosaic.shape
    for k in range(cols + 2 * margin):
        col_index[k] = _reflect(c0 - margin + k, width)
    for a in range(rows + 2 * margin):
        src = _reflect(r0 - margin + a, height)
        for k in range(cols + 2 * margin):
            tile[a, k] = mosaic[src, col_index[k]]


@njit(cache=True, nogil=True)
def menon2007_tiles(mosaic, cfa, clamp_green, margin, out, origins, tile_rows, tile_cols, out_row0, row_stop):
    """Run :func:`_menon2007_tile` on the tiles whose top-left corners are ``origins`` (k x 2), with one set of
    local planes for them all. Tiles end at ``row_stop``; mosaic row r is written to ``out[r - out_row0]``, so
    ``out`` may hold a band of rows only."""
    shape = (tile_rows + 2 * margin, tile_cols + 2 * margin)
    planes = np.empty((8,) + shape, dtype=np.float32)
    horizontal = np.empty(shape, dtype=np.bool_)
    col_index = np.empty(shape[1], dtype=np.int64)
    width = mosaic.shape[1]
    for t in range(origins.shape[0]):
        r0, c0 = origins[t, 0], origins[t, 1]
        rows, cols = min(tile_rows, row_stop - r0), min(tile_cols, width - c0)
        _load_tile(mosaic, r0, c0, rows, cols, margin, planes[0], col_index)
        _menon2007_tile(cfa, clamp_green, margin, out, r0, c0, rows, cols, out_row0, planes[0], planes[1], planes[2],
                        planes[3], planes[4], planes[5], planes[6], planes[7], horizontal)


@njit(cache=True, nogil=True)
def _menon2007_tile(cfa, clamp_green, margin, out, r0, c0, rows, cols, out_row0, m, c_h, c_v, g, r, b, d_h, d_v,
                    horizontal):
    """Run Menon (2007) with refining on one tile loaded into ``m`` and write its ``rows x cols`` centre into
    ``out``; the other planes are scratch of at least ``m``'s tile size.

    ``margin`` must be even and at least 10 (the chain's stages reach 9 pixels). Local row ``a`` / column
    ``k`` has the CFA phase of ``(a, k)`` because ``r0``, ``c0`` and the margin are even. Each stage is
    valid one pixel or more further in from the tile edge than the one before.
    """
    p = margin
    nh, nw = rows + 2 * p, cols + 2 * p

    for a in range(2, nh - 2):  # directional greens -> colour differences at red/blue pixels
        q = 1 if cfa[a & 1, 0] == 1 else 0
        for k in range(2 + ((q - 2) & 1), nw - 2, 2):
            gh = (((-_QUARTER * m[a, k - 2] + _HALF * m[a, k - 1]) + _HALF * m[a, k])
                  + _HALF * m[a, k + 1]) + -_QUARTER * m[a, k + 2]
            gv = (((-_QUARTER * m[a - 2, k] + _HALF * m[a - 1, k]) + _HALF * m[a, k])
                  + _HALF * m[a + 1, k]) + -_QUARTER * m[a + 2, k]
            if clamp_green:
                gh = min(max(gh, min(m[a, k - 1], m[a, k + 1])), max(m[a, k - 1], m[a, k + 1]))
                gv = min(max(gv, min(m[a - 1, k], m[a + 1, k])), max(m[a - 1, k], m[a + 1, k]))
            c_h[a, k] = m[a, k] - gh
            c_v[a, k] = m[a, k] - gv

    # a posteriori decision: each pixel's sums read horizontal differences |c_h[a, k] - c_h[a, k + 2]| and
    # vertical ones |c_v[a, k] - c_v[a + 2, k]| at eight places; made once per pixel here (in loops the compiler
    # vectorises), then added in the published order, so the sums are the same floats
    for a in range(2, nh - 2):
        for k in range(2, nw - 4):
            d_h[a, k] = abs(c_h[a, k] - c_h[a, k + 2])
    for a in range(2, nh - 4):
        for k in range(2, nw - 2):
            d_v[a, k] = abs(c_v[a, k] - c_v[a + 2, k])

    for a in range(4, nh - 4):  # decision and green at red/blue pixels; measured green kept
        q = 1 if cfa[a & 1, 0] == 1 else 0
        for k in range(4 + ((q + 1 - 4) & 1), nw - 4, 2):
            g[a, k] = m[a, k]
        for k in range(4 + ((q - 4) & 1), nw - 4, 2):
            dh = ((((((_THREE * (d_h[a, k] + d_h[a, k - 2]) + d_h[a - 1, k - 1]) + d_h[a + 1, k - 1])
                     + d_h[a - 2, k]) + d_h[a - 2, k - 2]) + d_h[a + 2, k]) + d_h[a + 2, k - 2])
            dv = ((((((_THREE * (d_v[a, k] + d_v[a - 2, k]) + d_v[a - 1, k - 1]) + d_v[a - 1, k + 1])
                     + d_v[a, k - 2]) + d_v[a - 2, k - 2]) + d_v[a, k + 2]) + d_v[a - 2, k + 2])
            h = dv >= dh
            horizontal[a, k] = h
            g[a, k] = m[a, k] - (c_h[a, k] if h else c_v[a, k])

    for a in range(5, nh - 5):  # red and blue at green pixels; measured red and blue kept
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 1 if cfa[a & 1, 0] == 1 else 0
        for k in range(5, nw - 5):
            if (k & 1) == q:
                if red_row:
                    r[a, k] = m[a, k]
                else:
                    b[a, k] = m[a, k]
                continue
            across = _HALF * (m[a, k - 1] - g[a, k - 1]) + _HALF * (m[a, k + 1] - g[a, k + 1])
            down = _HALF * (m[a - 1, k] - g[a - 1, k]) + _HALF * (m[a + 1, k] - g[a + 1, k])
            if red_row:
                r[a, k] = g[a, k] + across
                b[a, k] = g[a, k] + down
            else:
                b[a, k] = g[a, k] + across
                r[a, k] = g[a, k] + down

    for a in range(6, nh - 6):  # red at blue pixels, blue at red pixels, along the decided direction
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 1 if cfa[a & 1, 0] == 1 else 0
        for k in range(6 + ((q - 6) & 1), nw - 6, 2):
            src, dst = (r, b) if red_row else (b, r)
            if horizontal[a, k]:
                diff = _HALF * (dst[a, k - 1] - src[a, k - 1]) + _HALF * (dst[a, k + 1] - src[a, k + 1])
            else:
                diff = _HALF * (dst[a - 1, k] - src[a - 1, k]) + _HALF * (dst[a + 1, k] - src[a + 1, k])
            dst[a, k] = src[a, k] + diff

    for a in range(7, nh - 7):  # refining: green at red/blue pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 1 if cfa[a & 1, 0] == 1 else 0
        x = r if red_row else b
        for k in range(7 + ((q - 7) & 1), nw - 7, 2):
            if horizontal[a, k]:
                diff = ((_THIRD * (x[a, k - 1] - g[a, k - 1]) + _THIRD * (x[a, k] - g[a, k]))
                        + _THIRD * (x[a, k + 1] - g[a, k + 1]))
            else:
                diff = ((_THIRD * (x[a - 1, k] - g[a - 1, k]) + _THIRD * (x[a, k] - g[a, k]))
                        + _THIRD * (x[a + 1, k] - g[a + 1, k]))
            g[a, k] = x[a, k] - diff

    for a in range(8, nh - 8):  # refining: red and blue at green pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 1 if cfa[a & 1, 0] == 1 else 0
        across_plane, down_plane = (r, b) if red_row else (b, r)
        for k in range(8 + ((q + 1 - 8) & 1), nw - 8, 2):
            across = (_HALF * (across_plane[a, k - 1] - g[a, k - 1])
                      + _HALF * (across_plane[a, k + 1] - g[a, k + 1]))
            down = _HALF * (down_plane[a - 1, k] - g[a - 1, k]) + _HALF * (down_plane[a + 1, k] - g[a + 1, k])
            across_plane[a, k] = g[a, k] + across
            down_plane[a, k] = g[a, k] + down

    for a in range(9, nh - 9):  # refining: red at blue pixels, blue at red pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 1 if cfa[a & 1, 0] == 1 else 0
        for k in range(9 + ((q - 9) & 1), nw - 9, 2):
            if horizontal[a, k]:
                rb = ((_THIRD * (r[a, k - 1] - b[a, k - 1]) + _THIRD * (r[a, k] - b[a, k]))
                      + _THIRD * (r[a, k + 1] - b[a, k + 1]))
            else:
                rb = ((_THIRD * (r[a - 1, k] - b[a - 1, k]) + _THIRD * (r[a, k] - b[a, k]))
                      + _THIRD * (r[a + 1, k] - b[a + 1, k]))
            if red_row:
                b[a, k] = r[a, k] - rb
            else:
                r[a, k] = b[a, k] + rb

    for a in range(rows):
        for k in range(cols):
            out[r0 - out_row0 + a, c0 + k, 0] = r[a + p, k + p]
            out[r0 - out_row0 + a, c0 + k, 1] = g[a + p, k + p]
            out[r0 - out_row0 + a, c0 + k, 2] = b[a + p, k + p]


def run_tiles(tiles_kernel, args: tuple, shape: tuple[int, int], tile_shape: tuple[int, int],
              rows: tuple[int, int] | None = None, threads: int | None = None) -> None:
    """Call ``tiles_kernel(*args, origins, tile_rows, tile_cols, out_row0, row_stop)`` once per thread, each
    thread taking every n-th tile of ``shape`` (``origins``: their top-left corners, k x 2).

    ``rows = (start, stop)`` limits the tiles to those rows (``start`` on a tile-row boundary of the CFA
    period) and the kernel writes row ``start`` to ``out[0]``; ``threads`` defaults to numba's thread count.
    The kernels release the GIL, so a thread per core runs them in parallel.
    """
    height, width = shape
    start, stop = rows or (0, height)
    tile_rows, tile_cols = tile_shape
    origins = np.array(
        [(r0, c0) for r0 in range(start, stop, tile_rows) for c0 in range(0, width, tile_cols)], dtype=np.int64
    )
    threads = min(threads or numba.config.NUMBA_NUM_THREADS, len(origins))
    if threads == 1:
        tiles_kernel(*args, origins, tile_rows, tile_cols, start, stop)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        jobs = [pool.submit(tiles_kernel, *args, origins[first::threads].copy(), tile_rows, tile_cols, start, stop)
                for first in range(threads)]
        for job in jobs:
            job.result()


@njit(cache=True)
def _first_of_phase(start: int, phase: int) -> int:
    """Smallest index ``>= start`` that is ``phase`` modulo 6."""
    return start + (phase - start) % 6


@njit(cache=True, nogil=True)
def markesteijn_tiles(padded, cfa, green_offsets, green_weights, colour_offsets, colour_weights, colour_counts,
                      steps, margin, green_reach, out, origins, tile_rows, tile_cols, out_row0, row_stop):
    """Run :func:`_markesteijn_tile` on the tiles whose top-left corners are ``origins`` (k x 2), with one set
    of local planes for them all; ``out_row0`` and ``row_stop`` as in :func:`menon2007_tiles`."""
    nh, nw = tile_rows + 2 * margin, tile_cols + 2 * margin
    cand = np.empty((4, 3, nh, nw), dtype=np.float32)
    roughness = np.empty((4, nh, nw), dtype=np.float32)
    perceptual = np.empty((3, nh, nw), dtype=np.float32)
    homogeneity = np.empty((4, nh, nw), dtype=np.int32)
    acc_row = np.empty(nw, dtype=np.float32)
    column_sums = np.empty((4, nw), dtype=np.int32)
    width = out.shape[1]
    for t in range(origins.shape[0]):
        r0, c0 = origins[t, 0], origins[t, 1]
        rows, cols = min(tile_rows, row_stop - r0), min(tile_cols, width - c0)
        homogeneity[:] = 0
        _markesteijn_tile(padded, cfa, green_offsets, green_weights, colour_offsets, colour_weights, colour_counts,
                          steps, margin, green_reach, out, r0, c0, rows, cols, out_row0, cand, roughness,
                          perceptual[0], perceptual[1], perceptual[2], homogeneity, acc_row, column_sums)


@njit(cache=True, nogil=True)
def _markesteijn_tile(padded, cfa, green_offsets, green_weights, colour_offsets, colour_weights, colour_counts,
                      steps, margin, green_reach, out, r0, c0, rows, cols, out_row0, cand, roughness, lightness,
                      red_green, green_blue, homogeneity, acc_row, column_sums):
    """Run the X-Trans demosaic on one tile of the already padded mosaic; write the centre into ``out``; the
    planes after ``cols`` are scratch of at least the tile's size plus margins (``homogeneity`` zeroed).

    ``padded[r0 + a, c0 + k]`` is local pixel ``(a, k)``; its CFA position is ``(a % 6, k % 6)`` because
    ``r0``, ``c0`` and the margin are multiples of 6. The interpolation loops run over one CFA position
    at a time (``k`` in steps of 6), so that position's taps stay in registers.
    """
    p = margin
    colour_reach = green_reach + 2  # each stage is valid further in from the tile edge than the last
    roughness_reach = colour_reach + 1
    homogeneity_reach = roughness_reach + 1
    nh, nw = rows + 2 * p, cols + 2 * p
    m = padded[r0 : r0 + nh, c0 : c0 + nw]

    for d in range(4):
        g = cand[d, 1]
        for a in range(green_reach, nh - green_reach):  # green along direction d
            i = a % 6
            for j in range(6):
                start = _first_of_phase(green_reach, j)
                if cfa[i, j] == 1:
                    for k in range(start, nw - green_reach, 6):
                        g[a, k] = m[a, k]
                    continue
                a0, k0 = a + green_offsets[i, j, d, 0, 0], green_offsets[i, j, d, 0, 1]
                a1, k1 = a + green_offsets[i, j, d, 1, 0], green_offsets[i, j, d, 1, 1]
                a2, k2 = a + green_offsets[i, j, d, 2, 0], green_offsets[i, j, d, 2, 1]
                a3, k3 = a + green_offsets[i, j, d, 3, 0], green_offsets[i, j, d, 3, 1]
                w0, w1 = green_weights[i, j, d, 0], green_weights[i, j, d, 1]
                w2, w3 = green_weights[i, j, d, 2], green_weights[i, j, d, 3]
                for k in range(start, nw - green_reach, 6):
                    ahead, behind = m[a0, k + k0], m[a2, k + k2]
                    acc = _F0
                    acc += w0 * ahead
                    acc += w1 * m[a1, k + k1]
                    acc += w2 * behind
                    acc += w3 * m[a3, k + k3]
                    g[a, k] = min(max(acc, min(ahead, behind)), max(ahead, behind))

        for ci in range(2):  # red (ci = 0) and blue (ci = 1) from colour differences to this green
            channel = 2 * ci
            x = cand[d, channel]
            for a in range(colour_reach, nh - colour_reach):
                i = a % 6
                for j in range(6):
                    start = _first_of_phase(colour_reach, j)
                    if cfa[i, j] == channel:
                        for k in range(start, nw - colour_reach, 6):
                            x[a, k] = m[a, k]
                        continue
                    for k in range(start, nw - colour_reach, 6):
                        acc_row[k] = _F0
                    for t in range(colour_counts[ci, i, j]):  # taps outer, pixels inner; same sum order
                        qa, dk = a + colour_offsets[ci, i, j, t, 0], colour_offsets[ci, i, j, t, 1]
                        w = colour_weights[ci, i, j, t]
                        for k in range(start, nw - colour_reach, 6):
                            acc_row[k] += w * (m[qa, k + dk] - g[qa, k + dk])
                    for k in range(start, nw - colour_reach, 6):
                        x[a, k] = g[a, k] + acc_row[k]

        for a in range(colour_reach, nh - colour_reach):  # perceptual planes of this candidate
            for k in range(colour_reach, nw - colour_reach):
                fr = np.sqrt(max(cand[d, 0, a, k], _F0))
                fg = np.sqrt(max(cand[d, 1, a, k], _F0))
                fb = np.sqrt(max(cand[d, 2, a, k], _F0))
                lightness[a, k] = ((fr + _TWO * fg) + fb) * _QUARTER
                red_green[a, k] = _FOUR * (fr - fg)
                green_blue[a, k] = _TWO * (fg - fb)
        si, sj = steps[d, 0], steps[d, 1]
        for a in range(roughness_reach, nh - roughness_reach):  # second difference along d
            for k in range(roughness_reach, nw - roughness_reach):
                dl = (_TWO * lightness[a, k] - lightness[a + si, k + sj]) - lightness[a - si, k - sj]
                da = (_TWO * red_green[a, k] - red_green[a + si, k + sj]) - red_green[a - si, k - sj]
                db = (_TWO * green_blue[a, k] - green_blue[a + si, k + sj]) - green_blue[a - si, k - sj]
                roughness[d, a, k] = (dl * dl + da * da) + db * db

    for a in range(homogeneity_reach, nh - homogeneity_reach):  # 3x3 counts of near-smoothest pixels
        for k in range(homogeneity_reach, nw - homogeneity_reach):
            smallest = min(min(roughness[0, a, k], roughness[1, a, k]), min(roughness[2, a, k], roughness[3, a, k]))
            limit = _EIGHT * smallest
            for d in range(4):
                count = 0
                for u in range(-1, 2):
                    for v in range(-1, 2):
                        count += roughness[d, a + u, k + v] <= limit
                homogeneity[d, a, k] = count

    score = np.empty(4, dtype=np.int32)
    for a in range(rows):  # 5x5 homogeneity scores; average the candidates within 1/8 of the best
        for d in range(4):
            for k in range(p - 2, p + cols + 2):
                column_sums[d, k] = (
                    homogeneity[d, a + p - 2, k] + homogeneity[d, a + p - 1, k] + homogeneity[d, a + p, k]
                    + homogeneity[d, a + p + 1, k] + homogeneity[d, a + p + 2, k]
                )
        for k in range(cols):
            best = 0
            for d in range(4):
                score[d] = (
                    column_sums[d, k + p - 2] + column_sums[d, k + p - 1] + column_sums[d, k + p]
                    + column_sums[d, k + p + 1] + column_sums[d, k + p + 2]
                )
                best = max(best, score[d])
            best -= best >> 3
            for c in range(3):
                acc = _F0
                chosen = 0
                for d in range(4):
                    if score[d] >= best:
                        acc += cand[d, c, a + p, k + p]
                        chosen += 1
                out[r0 - out_row0 + a, c0 + k, c] = acc / np.float32(chosen)
