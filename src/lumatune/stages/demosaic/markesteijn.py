"""Markesteijn-style one-pass X-Trans demosaic, plain and compiled.

Directional green, colour-difference red and blue, and the homogeneity decision of dcraw's
``xtrans_interpolate``. :func:`demosaic_markesteijn` is the algorithm written plainly in numpy;
:func:`demosaic_markesteijn_fast` computes the same floats with a numba kernel in tiles on all cores
(:mod:`lumatune.stages.demosaic._tiles`).

References
----------
-   Coffin, D. dcraw.c, ``xtrans_interpolate()`` (2013), after Frank Markesteijn's X-Trans demosaic;
    the same function is ``LibRaw::xtrans_interpolate`` in LibRaw.
-   Hirakawa, K., & Parks, T. W. (2005). Adaptive homogeneity-directed demosaicing algorithm. IEEE
    Transactions on Image Processing, 14(3), 360-369. doi:10.1109/TIP.2004.838691
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from lumatune.errors import UnsupportedError
from lumatune.stages.demosaic._mosaic import BLUE, GREEN, RED, as_cfa, as_mosaic, at, pad_mirrored_mosaic
from lumatune.stages.demosaic._tiles import F32_EIGHT, F32_ZERO, F32_FOUR, F32_QUARTER, F32_TWO, RowsDemosaic

__all__ = ["MARKESTEIJN_MARGIN", "demosaic_markesteijn", "demosaic_markesteijn_fast", "rows_markesteijn"]

MARKESTEIJN_MARGIN = 12
"""Padded border of the X-Trans chain: green reaches 6 pixels, colour differences 2 more, roughness 1,
homogeneity 1, its 5x5 score 2 (a multiple of 6, so the padded plane keeps the CFA phase)."""

MARKESTEIJN_DIRECTIONS = np.array([[0, 1], [1, 0], [1, 1], [1, -1]], dtype=np.int64)
"""Unit steps of the four green directions: horizontal, vertical, diagonal, anti-diagonal."""

GREEN_REACH = 6
"""Farthest green (pixels along a direction) the X-Trans green interpolation may use."""
_COLOUR_REACH = GREEN_REACH + 2  # each stage is valid further in from the tile edge than the last
_ROUGHNESS_REACH = _COLOUR_REACH + 1
_HOMOGENEITY_REACH = _ROUGHNESS_REACH + 1

COLOUR_SIGMA = 1.0
"""Gaussian sigma (pixels) of the 5x5 weights that interpolate red-green and blue-green differences."""
MARKESTEIJN_TILE = (96, 192)
"""Rows and columns of an X-Trans tile (multiples of 6, for the same reason)."""


@dataclass(frozen=True)
class _XTransTables:
    """Per-CFA-position interpolation taps of the X-Trans demosaic (shared by the plain and fast versions).

    Attributes
    ----------
    green_offsets : int64 (6, 6, 4, 4, 2): for each non-green position and direction, the (row, col) offsets
        of the two nearest greens ahead and the two nearest behind, in that order (ahead1, ahead2,
        behind1, behind2).
    green_weights : float32 (6, 6, 4, 4): cubic Lagrange weights of those greens at the centre.
    colour_offsets : int64 (2, 6, 6, K, 2): for red (0) and blue (1), the offsets of that channel's pixels
        in the 5x5 window around each position.
    colour_weights : float32 (2, 6, 6, K): their Gaussian weights, summing to 1 per position.
    colour_counts : int64 (2, 6, 6): how many of the K slots are used.
    """

    green_offsets: np.ndarray
    green_weights: np.ndarray
    colour_offsets: np.ndarray
    colour_weights: np.ndarray
    colour_counts: np.ndarray


def _lagrange_weights_at_zero(nodes: list[int]) -> list[float]:
    """Weights that evaluate at 0 the polynomial through samples at ``nodes``."""
    weights = []
    for i, xi in enumerate(nodes):
        w = 1.0
        for j, xj in enumerate(nodes):
            if j != i:
                w *= -xj / (xi - xj)
        weights.append(w)
    return weights


def _nearest_greens(cfa: np.ndarray, i: int, j: int, step: np.ndarray, sign: int) -> list[int]:
    """Distances of the two nearest greens from ``(i, j)`` along ``sign * step``; raise if beyond reach."""
    n = cfa.shape[0]
    along = [((i + sign * k * step[0]) % n, (j + sign * k * step[1]) % n) for k in range(1, GREEN_REACH + 1)]
    found = [k for k, position in enumerate(along, start=1) if cfa[position] == GREEN]
    if len(found) < 2:
        raise UnsupportedError(
            f"demosaic: X-Trans CFA {cfa.tolist()} has fewer than two greens within {GREEN_REACH} pixels "
            f"of position ({i}, {j}) along direction {(sign * step).tolist()}"
        )
    return found[:2]


def _xtrans_tables(cfa: np.ndarray) -> _XTransTables:
    """Build the interpolation taps of :func:`demosaic_markesteijn` for a 6x6 CFA (any phase).

    Raises
    ------
    UnsupportedError
        ``cfa`` is not 6x6 or lacks a green within reach in some direction of some position.
    """
    cfa = as_cfa(cfa)
    if cfa.shape != (6, 6):
        raise UnsupportedError(f"demosaic: method 'markesteijn' needs a 6x6 X-Trans CFA, got {cfa.tolist()}")
    green_offsets = np.zeros((6, 6, 4, 4, 2), dtype=np.int64)
    green_weights = np.zeros((6, 6, 4, 4), dtype=np.float32)
    window = [(di, dj) for di in range(-2, 3) for dj in range(-2, 3)]
    taps = {(c, i, j): [(di, dj) for di, dj in window if cfa[(i + di) % 6, (j + dj) % 6] == c]
            for c in (RED, BLUE) for i in range(6) for j in range(6)}
    slots = max(len(t) for t in taps.values())
    colour_offsets = np.zeros((2, 6, 6, slots, 2), dtype=np.int64)
    colour_weights = np.zeros((2, 6, 6, slots), dtype=np.float32)
    colour_counts = np.zeros((2, 6, 6), dtype=np.int64)
    for i in range(6):
        for j in range(6):
            for ci, c in enumerate((RED, BLUE)):
                offsets = taps[c, i, j]
                weights = np.exp(-np.array([di * di + dj * dj for di, dj in offsets]) / (2 * COLOUR_SIGMA**2))
                colour_offsets[ci, i, j, : len(offsets)] = offsets
                colour_weights[ci, i, j, : len(offsets)] = weights / weights.sum()
                colour_counts[ci, i, j] = len(offsets)
            if cfa[i, j] == GREEN:
                continue
            for d, step in enumerate(MARKESTEIJN_DIRECTIONS):
                nodes = _nearest_greens(cfa, i, j, step, 1) + [-k for k in _nearest_greens(cfa, i, j, step, -1)]
                green_offsets[i, j, d] = [[k * step[0], k * step[1]] for k in nodes]
                green_weights[i, j, d] = _lagrange_weights_at_zero(nodes)
    return _XTransTables(green_offsets, green_weights, colour_offsets, colour_weights, colour_counts)


def _xtrans_green(m: np.ndarray, cfa: np.ndarray, tables: _XTransTables, d: int) -> np.ndarray:
    """Green along direction ``d``: cubic through two greens each side, limited to the nearest two."""
    g = m.copy()
    for i in range(6):
        for j in range(6):
            if cfa[i, j] == GREEN:
                continue
            offsets, weights = tables.green_offsets[i, j, d], tables.green_weights[i, j, d]
            sub = (slice(i, None, 6), slice(j, None, 6))
            acc = np.zeros(m[sub].shape, dtype=np.float32)
            for (di, dj), w in zip(offsets, weights):
                acc = acc + w * at(m, di, dj)[sub]
            ahead, behind = at(m, *offsets[0])[sub], at(m, *offsets[2])[sub]
            g[sub] = np.minimum(np.maximum(acc, np.minimum(ahead, behind)), np.maximum(ahead, behind))
    return g


def _xtrans_colour(m: np.ndarray, g: np.ndarray, cfa: np.ndarray, tables: _XTransTables, ci: int) -> np.ndarray:
    """Red (``ci`` 0) or blue (1): measured where sampled, else green plus the weighted mean colour difference."""
    channel = (RED, BLUE)[ci]
    difference = m - g
    out = m.copy()
    for i in range(6):
        for j in range(6):
            if cfa[i, j] == channel:
                continue
            sub = (slice(i, None, 6), slice(j, None, 6))
            acc = np.zeros(m[sub].shape, dtype=np.float32)
            for t in range(tables.colour_counts[ci, i, j]):
                shifted = at(difference, *tables.colour_offsets[ci, i, j, t])
                acc = acc + tables.colour_weights[ci, i, j, t] * shifted[sub]
            out[sub] = g[sub] + acc
    return out


def _roughness(rgb: tuple[np.ndarray, np.ndarray, np.ndarray], step: np.ndarray) -> np.ndarray:
    """Squared second difference along ``step`` of a perceptual (square-root, opponent) version of ``rgb``.

    The square root stands in for CIELAB's cube root (dcraw converts to CIELAB); lightness is
    ``(r + 2g + b) / 4`` and the opponent axes are weighted 4 (red-green) and 2 (green-blue), roughly
    CIELAB's 500 and 200 against 116.
    """
    fr, fg, fb = (np.sqrt(np.maximum(x, np.float32(0))) for x in rgb)
    planes = (((fr + 2 * fg) + fb) * np.float32(0.25), np.float32(4) * (fr - fg), np.float32(2) * (fg - fb))
    second = [(2 * x - at(x, *step)) - at(x, *(-step)) for x in planes]
    return (second[0] * second[0] + second[1] * second[1]) + second[2] * second[2]


def demosaic_markesteijn(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic an X-Trans mosaic, Markesteijn one-pass style, in plain numpy (small images: it keeps ~30 planes).

    1. Green at red/blue pixels along four directions (horizontal, vertical, both diagonals): a cubic
       through the two nearest greens on each side, limited to the range of the nearest two.
    2. For each direction, red and blue from colour differences: measured where sampled, elsewhere
       green plus the Gaussian-weighted (sigma 1, 5x5) mean of ``R - G`` (``B - G``) at that channel's
       pixels.
    3. The a posteriori decision of Markesteijn/dcraw: the roughness of each candidate is its squared
       second difference along its own direction in a perceptual space; a direction is homogeneous at a
       pixel where its roughness is at most 8 times the smallest of the four; homogeneity is counted
       over 3x3 and summed over 5x5, and the candidates within 1/8 of the best score are averaged.

    This is the readable reference of :func:`demosaic_markesteijn_fast`, which computes the same floats.
    Borders: the mosaic is padded with :func:`pad_mirrored_mosaic`.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced), at least 6x6.
    cfa
        6x6 X-Trans pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Coffin, D. dcraw.c, ``xtrans_interpolate()`` (2013), after Frank Markesteijn: directional greens,
        colour-difference red and blue, CIELAB derivatives, homogeneity maps, averaging of the most
        homogeneous directions.
    -   Hirakawa, K., & Parks, T. W. (2005). Adaptive homogeneity-directed demosaicing algorithm. IEEE
        Transactions on Image Processing, 14(3), 360-369. doi:10.1109/TIP.2004.838691
    """
    mosaic = as_mosaic(mosaic)
    tables = _xtrans_tables(cfa)
    cfa = as_cfa(cfa)
    margin = MARKESTEIJN_MARGIN
    m = pad_mirrored_mosaic(mosaic, cfa, margin)
    candidates = []
    roughness = []
    for d, step in enumerate(MARKESTEIJN_DIRECTIONS):
        g = _xtrans_green(m, cfa, tables, d)
        rgb = (_xtrans_colour(m, g, cfa, tables, 0), g, _xtrans_colour(m, g, cfa, tables, 1))
        candidates.append(rgb)
        roughness.append(_roughness(rgb, step))
    limit = np.float32(8) * np.minimum(np.minimum(roughness[0], roughness[1]), np.minimum(roughness[2], roughness[3]))
    neighbours = [(u, v) for u in (-1, 0, 1) for v in (-1, 0, 1)]
    window = [(u, v) for u in range(-2, 3) for v in range(-2, 3)]
    homogeneity = [sum((at(r, u, v) <= limit).astype(np.int32) for u, v in neighbours) for r in roughness]
    score = [sum(at(h, u, v) for u, v in window) for h in homogeneity]
    best = np.maximum(np.maximum(score[0], score[1]), np.maximum(score[2], score[3]))
    best -= best >> 3
    chosen = [s >= best for s in score]
    count = sum(c.astype(np.int32) for c in chosen).astype(np.float32)
    crop = (slice(margin, -margin), slice(margin, -margin))
    channels = []
    for c in range(3):
        acc = np.zeros(m.shape, dtype=np.float32)
        for d in range(4):
            acc = acc + np.where(chosen[d], candidates[d][c], np.float32(0))
        channels.append((acc / count)[crop])
    return np.stack(channels, axis=-1)


def demosaic_markesteijn_fast(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic an X-Trans mosaic, Markesteijn one-pass style, compiled.

    Same algorithm, borders and floats as :func:`demosaic_markesteijn`, computed by a numba kernel
    in tiles on all cores; extra memory is one padded copy of the mosaic plus a few tiles per thread.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced), at least 6x6.
    cfa
        6x6 X-Trans pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Coffin, D. dcraw.c, ``xtrans_interpolate()`` (2013), after Frank Markesteijn.
    """
    rows = rows_markesteijn(mosaic, cfa)
    return rows(0, rows.shape[0], threads=None)


def _colour_rows(cfa: np.ndarray, tables: _XTransTables, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The colour taps laid out along a tile row, for loops over whole rows.

    Returns ``weights`` float32 (2, 6, 25, width): for red (0) / blue (1), row phase ``i`` and 5x5 window
    position ``t`` (row-major, the order of the taps), the weight of that tap at each column (0 where that
    column's CFA position has no tap there; every real weight is positive); and ``measured`` bool
    (2, 6, width): where the column's CFA position samples that channel.
    """
    weights = np.zeros((2, 6, 25, 6), dtype=np.float32)
    for ci in range(2):
        for i in range(6):
            for j in range(6):
                for t in range(tables.colour_counts[ci, i, j]):
                    di, dj = tables.colour_offsets[ci, i, j, t]
                    weights[ci, i, (di + 2) * 5 + dj + 2, j] = tables.colour_weights[ci, i, j, t]
    measured = np.stack([cfa == RED, cfa == BLUE])
    repeats = -(-width // 6)
    return (np.ascontiguousarray(np.tile(weights, repeats)[..., :width]),
            np.ascontiguousarray(np.tile(measured, repeats)[..., :width]))


def rows_markesteijn(mosaic: np.ndarray, cfa: np.ndarray) -> RowsDemosaic:
    mosaic = as_mosaic(mosaic)
    tables = _xtrans_tables(cfa)
    cfa = as_cfa(cfa)
    colour_rows, measured_rows = _colour_rows(cfa, tables, MARKESTEIJN_TILE[1] + 2 * MARKESTEIJN_MARGIN)
    args = (pad_mirrored_mosaic(mosaic, cfa, MARKESTEIJN_MARGIN), cfa, tables.green_offsets, tables.green_weights,
            colour_rows, measured_rows, MARKESTEIJN_DIRECTIONS)
    return RowsDemosaic(_markesteijn_tiles, args, mosaic.shape, MARKESTEIJN_TILE, 6)


@njit(cache=True, nogil=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _markesteijn_tiles(padded, cfa, green_offsets, green_weights, colour_rows, measured_rows, steps, out, origins,
                       tile_rows, tile_cols, out_row0, row_stop):
    """Run :func:`_markesteijn_tile` on the tiles whose top-left corners are ``origins`` (k x 2), with one set
    of local planes for them all; ``out_row0`` and ``row_stop`` as in
    :func:`lumatune.stages.demosaic.menon2007._menon2007_tiles`."""
    nh, nw = tile_rows + 2 * MARKESTEIJN_MARGIN, tile_cols + 2 * MARKESTEIJN_MARGIN
    cand = np.empty((4, 3, nh, nw), dtype=np.float32)
    roughness = np.empty((4, nh, nw), dtype=np.float32)
    perceptual = np.empty((3, nh, nw), dtype=np.float32)
    homogeneity = np.empty((4, nh, nw), dtype=np.int32)
    acc_rows = np.empty((2, nw), dtype=np.float32)
    column_sums = np.empty((4, nw), dtype=np.int32)
    width = out.shape[1]
    for t in range(origins.shape[0]):
        r0, c0 = origins[t, 0], origins[t, 1]
        rows, cols = min(tile_rows, row_stop - r0), min(tile_cols, width - c0)
        _markesteijn_tile(padded, cfa, green_offsets, green_weights, colour_rows, measured_rows, steps, out, r0, c0,
                          rows, cols, out_row0, cand, roughness, perceptual[0], perceptual[1], perceptual[2],
                          homogeneity, acc_rows, column_sums)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy")  # the same floats as the numpy twin
def _markesteijn_tile(padded, cfa, green_offsets, green_weights, colour_rows, measured_rows, steps, out, r0, c0,
                      rows, cols, out_row0, cand, roughness, lightness, red_green, green_blue,
                      homogeneity, acc_rows, column_sums):
    """Run the X-Trans demosaic on one tile of the already padded mosaic; write the centre into ``out``; the
    planes after ``cols`` are scratch of at least the tile's size plus margins.

    ``padded[r0 + a, c0 + k]`` is local pixel ``(a, k)``; its CFA position is ``(a % 6, k % 6)`` because
    ``r0``, ``c0`` and the margin are multiples of 6. The green loops run over one CFA position at a time
    (``k`` in steps of 6, scalar; whole-row versions of them were measured slower). Every other step runs
    over whole rows from 0 with literal offsets, so that it compiles to vector instructions (see
    :mod:`lumatune.stages.demosaic._tiles`): red and blue sum the whole 5x5 window of colour differences
    with the weights laid out per column by :func:`_colour_rows` (0 where a column's CFA position has no tap,
    added as a selected +0), and the average adds an unchosen candidate as a selected +0. A sum that starts
    at +0 is never -0, so adding +0 leaves its float unchanged: the same floats as taps over one CFA
    position at a time.
    """
    p = MARKESTEIJN_MARGIN
    nh, nw = rows + 2 * p, cols + 2 * p
    m = padded[r0 : r0 + nh, c0 : c0 + nw]

    for d in range(4):
        g = cand[d, 1]
        for a in range(GREEN_REACH, nh - GREEN_REACH):  # green along direction d
            i = a % 6
            for j in range(6):
                start = _first_of_phase(GREEN_REACH, j)
                if cfa[i, j] == 1:
                    for k in range(start, nw - GREEN_REACH, 6):
                        g[a, k] = m[a, k]
                    continue
                a0, k0 = a + green_offsets[i, j, d, 0, 0], green_offsets[i, j, d, 0, 1]
                a1, k1 = a + green_offsets[i, j, d, 1, 0], green_offsets[i, j, d, 1, 1]
                a2, k2 = a + green_offsets[i, j, d, 2, 0], green_offsets[i, j, d, 2, 1]
                a3, k3 = a + green_offsets[i, j, d, 3, 0], green_offsets[i, j, d, 3, 1]
                w0, w1 = green_weights[i, j, d, 0], green_weights[i, j, d, 1]
                w2, w3 = green_weights[i, j, d, 2], green_weights[i, j, d, 3]
                for k in range(start, nw - GREEN_REACH, 6):
                    ahead, behind = m[a0, k + k0], m[a2, k + k2]
                    acc = F32_ZERO
                    acc += w0 * ahead
                    acc += w1 * m[a1, k + k1]
                    acc += w2 * behind
                    acc += w3 * m[a3, k + k3]
                    g[a, k] = min(max(acc, min(ahead, behind)), max(ahead, behind))

        difference = roughness[d]  # m - g, until this direction's roughness replaces it
        for a in range(GREEN_REACH, nh - GREEN_REACH):
            mosaic_row, green_row = padded[r0 + a, c0 + GREEN_REACH :], g[a, GREEN_REACH:]
            difference_row = difference[a, GREEN_REACH:]
            for j in range(nw - 2 * GREEN_REACH):
                difference_row[j] = mosaic_row[j] - green_row[j]

        n = nw - 2 * _COLOUR_REACH
        red, blue = cand[d, 0], cand[d, 2]  # from colour differences to this green
        red_acc, blue_acc = acc_rows[0], acc_rows[1]
        for a in range(_COLOUR_REACH, nh - _COLOUR_REACH):
            i = a % 6
            for j in range(n):
                red_acc[j] = F32_ZERO
                blue_acc[j] = F32_ZERO
            for u in range(5):  # the 5x5 window in the order of the taps, a row of it at a time
                taps = difference[a + u - 2]
                x0, x1, x2 = taps[_COLOUR_REACH - 2 :], taps[_COLOUR_REACH - 1 :], taps[_COLOUR_REACH:]
                x3, x4 = taps[_COLOUR_REACH + 1 :], taps[_COLOUR_REACH + 2 :]
                t = 5 * u
                r0_, r1, r2 = (colour_rows[0, i, t, _COLOUR_REACH:], colour_rows[0, i, t + 1, _COLOUR_REACH:],
                               colour_rows[0, i, t + 2, _COLOUR_REACH:])
                r3, r4 = colour_rows[0, i, t + 3, _COLOUR_REACH:], colour_rows[0, i, t + 4, _COLOUR_REACH:]
                b0, b1, b2 = (colour_rows[1, i, t, _COLOUR_REACH:], colour_rows[1, i, t + 1, _COLOUR_REACH:],
                              colour_rows[1, i, t + 2, _COLOUR_REACH:])
                b3, b4 = colour_rows[1, i, t + 3, _COLOUR_REACH:], colour_rows[1, i, t + 4, _COLOUR_REACH:]
                for j in range(n):
                    v0, v1, v2, v3, v4 = x0[j], x1[j], x2[j], x3[j], x4[j]
                    red_acc[j] = _five_taps(red_acc[j], r0_[j], r1[j], r2[j], r3[j], r4[j], v0, v1, v2, v3, v4)
                    blue_acc[j] = _five_taps(blue_acc[j], b0[j], b1[j], b2[j], b3[j], b4[j], v0, v1, v2, v3, v4)
            mosaic_row, green_row = padded[r0 + a, c0 + _COLOUR_REACH :], g[a, _COLOUR_REACH:]
            red_row, blue_row = red[a, _COLOUR_REACH:], blue[a, _COLOUR_REACH:]
            red_measured, blue_measured = measured_rows[0, i, _COLOUR_REACH:], measured_rows[1, i, _COLOUR_REACH:]
            for j in range(n):
                mk, gk = mosaic_row[j], green_row[j]
                made_red, made_blue = gk + red_acc[j], gk + blue_acc[j]
                red_row[j] = mk if red_measured[j] else made_red
                blue_row[j] = mk if blue_measured[j] else made_blue

        for a in range(_COLOUR_REACH, nh - _COLOUR_REACH):  # perceptual planes of this candidate
            for j in range(nw - 2 * _COLOUR_REACH):
                k = j + _COLOUR_REACH
                fr = np.sqrt(max(cand[d, 0, a, k], F32_ZERO))
                fg = np.sqrt(max(cand[d, 1, a, k], F32_ZERO))
                fb = np.sqrt(max(cand[d, 2, a, k], F32_ZERO))
                lightness[a, k] = ((fr + F32_TWO * fg) + fb) * F32_QUARTER
                red_green[a, k] = F32_FOUR * (fr - fg)
                green_blue[a, k] = F32_TWO * (fg - fb)
        si, sj = steps[d, 0], steps[d, 1]
        for a in range(_ROUGHNESS_REACH, nh - _ROUGHNESS_REACH):  # second difference along d
            n = nw - 2 * _ROUGHNESS_REACH
            ahead, behind = _ROUGHNESS_REACH + sj, _ROUGHNESS_REACH - sj  # row views from 0: no signed offsets
            l0, l1, l2 = (lightness[a, _ROUGHNESS_REACH:], lightness[a + si, ahead:], lightness[a - si, behind:])
            r0_, r1, r2 = (red_green[a, _ROUGHNESS_REACH:], red_green[a + si, ahead:], red_green[a - si, behind:])
            b0, b1, b2 = (green_blue[a, _ROUGHNESS_REACH:], green_blue[a + si, ahead:], green_blue[a - si, behind:])
            rough = roughness[d, a, _ROUGHNESS_REACH:]
            for j in range(n):
                dl = (F32_TWO * l0[j] - l1[j]) - l2[j]
                da = (F32_TWO * r0_[j] - r1[j]) - r2[j]
                db = (F32_TWO * b0[j] - b1[j]) - b2[j]
                rough[j] = (dl * dl + da * da) + db * db

    for a in range(_HOMOGENEITY_REACH, nh - _HOMOGENEITY_REACH):  # 3x3 counts of near-smoothest pixels
        n = nw - 2 * _HOMOGENEITY_REACH
        acc_row = acc_rows[0]
        for j in range(n):
            k = j + _HOMOGENEITY_REACH
            smallest = min(min(roughness[0, a, k], roughness[1, a, k]), min(roughness[2, a, k], roughness[3, a, k]))
            acc_row[j] = F32_EIGHT * smallest
        for d in range(4):
            up, mid, down = roughness[d, a - 1], roughness[d, a], roughness[d, a + 1]
            h = homogeneity[d, a]
            for j in range(n):
                limit = acc_row[j]
                k = j + _HOMOGENEITY_REACH
                h[k] = (np.int32(up[k - 1] <= limit) + np.int32(up[k] <= limit) + np.int32(up[k + 1] <= limit)
                        + np.int32(mid[k - 1] <= limit) + np.int32(mid[k] <= limit) + np.int32(mid[k + 1] <= limit)
                        + np.int32(down[k - 1] <= limit) + np.int32(down[k] <= limit)
                        + np.int32(down[k + 1] <= limit))

    for a in range(rows):  # 5x5 homogeneity scores; average the candidates within 1/8 of the best
        for d in range(4):
            h0, h1, h2 = homogeneity[d, a + p - 2], homogeneity[d, a + p - 1], homogeneity[d, a + p]
            h3, h4 = homogeneity[d, a + p + 1], homogeneity[d, a + p + 2]
            sums = column_sums[d]
            for j in range(cols + 4):
                k = j + p - 2
                sums[j] = h0[k] + h1[k] + h2[k] + h3[k] + h4[k]
        s0_, s1_, s2_, s3_ = column_sums[0], column_sums[1], column_sums[2], column_sums[3]
        flat = out[r0 - out_row0 + a, c0 : c0 + cols].reshape(-1)
        r0_, g0, b0 = cand[0, 0, a + p, p:], cand[0, 1, a + p, p:], cand[0, 2, a + p, p:]  # rows from 0
        r1, g1, b1 = cand[1, 0, a + p, p:], cand[1, 1, a + p, p:], cand[1, 2, a + p, p:]
        r2, g2, b2 = cand[2, 0, a + p, p:], cand[2, 1, a + p, p:], cand[2, 2, a + p, p:]
        r3, g3, b3 = cand[3, 0, a + p, p:], cand[3, 1, a + p, p:], cand[3, 2, a + p, p:]
        for k in range(cols):
            s0 = (((s0_[k] + s0_[k + 1]) + s0_[k + 2]) + s0_[k + 3]) + s0_[k + 4]
            s1 = (((s1_[k] + s1_[k + 1]) + s1_[k + 2]) + s1_[k + 3]) + s1_[k + 4]
            s2 = (((s2_[k] + s2_[k + 1]) + s2_[k + 2]) + s2_[k + 3]) + s2_[k + 4]
            s3 = (((s3_[k] + s3_[k + 1]) + s3_[k + 2]) + s3_[k + 3]) + s3_[k + 4]
            best = max(max(max(s0, s1), max(s2, s3)), 0)
            best -= best >> 3
            c0_, c1_, c2_, c3_ = s0 >= best, s1 >= best, s2 >= best, s3 >= best
            count = np.float32(np.int32(c0_) + np.int32(c1_) + np.int32(c2_) + np.int32(c3_))
            flat[3 * k] = _chosen_sum(r0_[k], r1[k], r2[k], r3[k], c0_, c1_, c2_, c3_) / count
            flat[3 * k + 1] = _chosen_sum(g0[k], g1[k], g2[k], g3[k], c0_, c1_, c2_, c3_) / count
            flat[3 * k + 2] = _chosen_sum(b0[k], b1[k], b2[k], b3[k], c0_, c1_, c2_, c3_) / count


@njit(cache=True, nogil=True, fastmath=False, inline="always")  # the same floats as the numpy twin
def _tap(weight, value):
    """``weight * value``, or +0 where ``weight`` is 0 (no tap: a sum from +0 is then unchanged, whatever
    ``value`` holds)."""
    return weight * value if weight != F32_ZERO else F32_ZERO


@njit(cache=True, nogil=True, fastmath=False, inline="always")  # the same floats as the numpy twin
def _five_taps(acc, w0, w1, w2, w3, w4, v0, v1, v2, v3, v4):
    """``acc`` plus the five :func:`_tap` products, added one after another."""
    acc += _tap(w0, v0)
    acc += _tap(w1, v1)
    acc += _tap(w2, v2)
    acc += _tap(w3, v3)
    acc += _tap(w4, v4)
    return acc


@njit(cache=True, nogil=True, fastmath=False, inline="always")  # the same floats as the numpy twin
def _chosen_sum(v0, v1, v2, v3, c0, c1, c2, c3):
    """``v0 + ... + v3`` in that order over the chosen ones (``numpy.where(chosen, v, 0)`` added from +0)."""
    acc = F32_ZERO
    acc += v0 if c0 else F32_ZERO
    acc += v1 if c1 else F32_ZERO
    acc += v2 if c2 else F32_ZERO
    acc += v3 if c3 else F32_ZERO
    return acc


@njit(cache=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _first_of_phase(start: int, phase: int) -> int:
    """Smallest index ``>= start`` that is ``phase`` modulo 6."""
    return start + (phase - start) % 6
