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


def rows_markesteijn(mosaic: np.ndarray, cfa: np.ndarray) -> RowsDemosaic:
    mosaic = as_mosaic(mosaic)
    tables = _xtrans_tables(cfa)
    cfa = as_cfa(cfa)
    args = (pad_mirrored_mosaic(mosaic, cfa, MARKESTEIJN_MARGIN), cfa, tables.green_offsets, tables.green_weights,
            tables.colour_offsets, tables.colour_weights, tables.colour_counts, MARKESTEIJN_DIRECTIONS,
            MARKESTEIJN_MARGIN, GREEN_REACH)
    return RowsDemosaic(_markesteijn_tiles, args, mosaic.shape, MARKESTEIJN_TILE, 6)


@njit(cache=True, nogil=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _markesteijn_tiles(padded, cfa, green_offsets, green_weights, colour_offsets, colour_weights, colour_counts,
                       steps, margin, green_reach, out, origins, tile_rows, tile_cols, out_row0, row_stop):
    """Run :func:`_markesteijn_tile` on the tiles whose top-left corners are ``origins`` (k x 2), with one set
    of local planes for them all; ``out_row0`` and ``row_stop`` as in
    :func:`lumatune.stages.demosaic.menon2007._menon2007_tiles`."""
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


@njit(cache=True, nogil=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
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
                    acc = F32_ZERO
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
                        acc_row[k] = F32_ZERO
                    for t in range(colour_counts[ci, i, j]):  # taps outer, pixels inner; same sum order
                        qa, dk = a + colour_offsets[ci, i, j, t, 0], colour_offsets[ci, i, j, t, 1]
                        w = colour_weights[ci, i, j, t]
                        for k in range(start, nw - colour_reach, 6):
                            acc_row[k] += w * (m[qa, k + dk] - g[qa, k + dk])
                    for k in range(start, nw - colour_reach, 6):
                        x[a, k] = g[a, k] + acc_row[k]

        for a in range(colour_reach, nh - colour_reach):  # perceptual planes of this candidate
            for k in range(colour_reach, nw - colour_reach):
                fr = np.sqrt(max(cand[d, 0, a, k], F32_ZERO))
                fg = np.sqrt(max(cand[d, 1, a, k], F32_ZERO))
                fb = np.sqrt(max(cand[d, 2, a, k], F32_ZERO))
                lightness[a, k] = ((fr + F32_TWO * fg) + fb) * F32_QUARTER
                red_green[a, k] = F32_FOUR * (fr - fg)
                green_blue[a, k] = F32_TWO * (fg - fb)
        si, sj = steps[d, 0], steps[d, 1]
        for a in range(roughness_reach, nh - roughness_reach):  # second difference along d
            for k in range(roughness_reach, nw - roughness_reach):
                dl = (F32_TWO * lightness[a, k] - lightness[a + si, k + sj]) - lightness[a - si, k - sj]
                da = (F32_TWO * red_green[a, k] - red_green[a + si, k + sj]) - red_green[a - si, k - sj]
                db = (F32_TWO * green_blue[a, k] - green_blue[a + si, k + sj]) - green_blue[a - si, k - sj]
                roughness[d, a, k] = (dl * dl + da * da) + db * db

    for a in range(homogeneity_reach, nh - homogeneity_reach):  # 3x3 counts of near-smoothest pixels
        for k in range(homogeneity_reach, nw - homogeneity_reach):
            smallest = min(min(roughness[0, a, k], roughness[1, a, k]), min(roughness[2, a, k], roughness[3, a, k]))
            limit = F32_EIGHT * smallest
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
                acc = F32_ZERO
                chosen = 0
                for d in range(4):
                    if score[d] >= best:
                        acc += cand[d, c, a + p, k + p]
                        chosen += 1
                out[r0 - out_row0 + a, c0 + k, c] = acc / np.float32(chosen)


@njit(cache=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _first_of_phase(start: int, phase: int) -> int:
    """Smallest index ``>= start`` that is ``phase`` modulo 6."""
    return start + (phase - start) % 6
