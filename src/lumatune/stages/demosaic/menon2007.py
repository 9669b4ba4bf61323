"""Menon (2007) demosaic of a Bayer mosaic: DDFAPD with the refining step, plain and compiled.

:func:`demosaic_menon2007` is the algorithm written plainly in numpy; :func:`demosaic_menon2007_fast` computes
the same floats with a numba kernel in cache-sized tiles on all cores (:mod:`lumatune.stages.demosaic._tiles`).
The ``_clamped`` pair limits each directional green to its neighbours' range as dcraw's AHD does.

References
----------
-   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
    posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
    doi:10.1109/TIP.2006.884928
-   Coffin, D. dcraw.c, ``ahd_interpolate()`` (``ULIM`` of the interpolated green).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lumatune.stages.demosaic._mosaic import (
    BLUE,
    GREEN,
    RED,
    as_mosaic,
    at,
    cfa_plane,
    require_bayer,
)
from lumatune.stages.demosaic._tiles import (
    F32_HALF,
    F32_QUARTER,
    F32_THIRD,
    F32_THREE,
    RowsDemosaic,
    load_tile,
    store_tile,
)

__all__ = [
    "MENON2007_MARGIN",
    "demosaic_menon2007",
    "demosaic_menon2007_clamped",
    "demosaic_menon2007_clamped_fast",
    "demosaic_menon2007_fast",
    "rows_menon2007",
]

MENON2007_MARGIN = 10
"""Rows/columns of reflected border the Menon (2007) chain needs (its stages reach 9 pixels out)."""
MENON2007_TILE = (64, 256)
"""Rows and columns of a Menon (2007) tile (even, so every tile starts on the CFA phase of pixel (0, 0))."""


def demosaic_menon2007(mosaic: np.ndarray, cfa: np.ndarray, *, clamp_green: bool = False) -> np.ndarray:
    """Demosaic a Bayer mosaic with DDFAPD (Menon et al. 2007) and its refining step, in plain numpy.

    Green is interpolated horizontally and vertically with the filter [-1/4, 1/2, 1/2, 1/2, -1/4]; at
    each red/blue pixel the direction whose colour differences vary least over a 5x5 window (the
    a posteriori decision) is kept. Red and blue follow by bilinear interpolation of colour differences
    (along the chosen direction at red/blue pixels), and the refining step re-estimates each channel
    from 3-tap filtered colour differences along the same direction.

    This is the readable reference of :func:`demosaic_menon2007_fast`, which computes the same thing faster.
    It follows the structure of colour-demosaicing's ``demosaicing_CFA_Bayer_Menon2007``, except at the
    borders, where the image is reflected once up front instead of zero-padding the decision window.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced); values above 1 are kept.
    cfa
        2x2 Bayer pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.
    clamp_green
        Limit each directional green estimate to the range of the two greens beside it along its
        direction, as dcraw's AHD does (``ULIM``): no overshoot at sharp edges, hence fewer coloured
        fringes, at some cost near the Nyquist frequency. ``False`` is the published method.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
        posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
        doi:10.1109/TIP.2006.884928
    -   Coffin, D. dcraw.c, ``ahd_interpolate()`` (green limited to its neighbours, ``ULIM``).
    """
    mosaic = as_mosaic(mosaic)
    cfa = require_bayer(cfa, "menon2007_clamped" if clamp_green else "menon2007")
    margin = MENON2007_MARGIN  # even, so the padded plane keeps the CFA phase
    m = np.pad(mosaic, margin, mode="reflect")
    channel = cfa_plane(cfa, m.shape)
    is_r, is_g, is_b = channel == RED, channel == GREEN, channel == BLUE
    red_row = np.broadcast_to(is_r.any(axis=1)[:, None], m.shape)
    blue_row = ~red_row
    zero = np.float32(0)

    def along(plane: np.ndarray, horizontal: bool | np.ndarray, taps: dict[int, float]) -> np.ndarray:
        """Correlate ``plane`` with ``taps`` (offset -> weight) horizontally where ``horizontal``."""
        h = sum(np.float32(w) * at(plane, 0, k) for k, w in taps.items())
        v = sum(np.float32(w) * at(plane, k, 0) for k, w in taps.items())
        return np.where(horizontal, h, v)

    green_taps = {-2: -0.25, -1: 0.5, 0: 0.5, 1: 0.5, 2: -0.25}
    mean2 = {-1: 0.5, 1: 0.5}
    mean3 = {-1: 1 / 3, 0: 1 / 3, 1: 1 / 3}

    # Directional green estimates and their colour differences (zero at green pixels).
    g_h = np.where(is_g, m, along(m, True, green_taps))
    g_v = np.where(is_g, m, along(m, False, green_taps))
    if clamp_green:
        left, right, up, down = at(m, 0, -1), at(m, 0, 1), at(m, -1, 0), at(m, 1, 0)
        g_h = np.where(is_g, m, np.minimum(np.maximum(g_h, np.minimum(left, right)), np.maximum(left, right)))
        g_v = np.where(is_g, m, np.minimum(np.maximum(g_v, np.minimum(up, down)), np.maximum(up, down)))
    c_h = np.where(is_g, zero, m - g_h)
    c_v = np.where(is_g, zero, m - g_v)

    # A posteriori decision: total colour-difference gradient over a 5x5 window, per direction.
    d_h = np.abs(c_h - at(c_h, 0, 2))
    d_v = np.abs(c_v - at(c_v, 2, 0))
    delta_h = (
        3 * (d_h + at(d_h, 0, -2))
        + at(d_h, -1, -1) + at(d_h, 1, -1)
        + at(d_h, -2, 0) + at(d_h, -2, -2) + at(d_h, 2, 0) + at(d_h, 2, -2)
    )
    delta_v = (
        3 * (d_v + at(d_v, -2, 0))
        + at(d_v, -1, -1) + at(d_v, -1, 1)
        + at(d_v, 0, -2) + at(d_v, -2, -2) + at(d_v, 0, 2) + at(d_v, -2, 2)
    )
    horizontal = delta_v >= delta_h
    g = np.where(horizontal, g_h, g_v)

    # Red and blue at green pixels (bilinear colour difference), then at blue/red pixels (chosen direction).
    r = np.where(is_r, m, zero)
    b = np.where(is_b, m, zero)
    r = np.where(is_g & red_row, g + along(r - g, True, mean2), r)
    r = np.where(is_g & blue_row, g + along(r - g, False, mean2), r)
    b = np.where(is_g & blue_row, g + along(b - g, True, mean2), b)
    b = np.where(is_g & red_row, g + along(b - g, False, mean2), b)
    r = np.where(is_b, b + along(r - b, horizontal, mean2), r)
    b = np.where(is_r, r + along(b - r, horizontal, mean2), b)

    # Refining step: green at red/blue pixels, then red/blue at green pixels, then red/blue at blue/red.
    g = np.where(is_r, r - along(r - g, horizontal, mean3), g)
    g = np.where(is_b, b - along(b - g, horizontal, mean3), g)
    r_g, b_g = r - g, b - g
    r = np.where(is_g & red_row, g + along(r_g, True, mean2), r)
    r = np.where(is_g & blue_row, g + along(r_g, False, mean2), r)
    b = np.where(is_g & blue_row, g + along(b_g, True, mean2), b)
    b = np.where(is_g & red_row, g + along(b_g, False, mean2), b)
    r_b = along(r - b, horizontal, mean3)
    r = np.where(is_b, b + r_b, r)
    b = np.where(is_r, r - r_b, b)

    crop = (slice(margin, -margin), slice(margin, -margin))
    return np.stack([r[crop], g[crop], b[crop]], axis=-1).astype(np.float32)


def demosaic_menon2007_clamped(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Menon (2007) with each directional green limited to its two neighbours' range (dcraw AHD's ``ULIM``).

    :func:`demosaic_menon2007` with ``clamp_green=True``. On sharp edges the unlimited 5-tap green filter
    overshoots, the colour differences built on it are wrong and the edge gets coloured fringes; the limit
    removes them (see ``benchmarks/demosaic.py`` for the measured effect).

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced); values above 1 are kept.
    cfa
        2x2 Bayer pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
        posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
        doi:10.1109/TIP.2006.884928
    -   Coffin, D. dcraw.c, ``ahd_interpolate()`` (``ULIM`` of the interpolated green).
    """
    return demosaic_menon2007(mosaic, cfa, clamp_green=True)


def demosaic_menon2007_fast(mosaic: np.ndarray, cfa: np.ndarray, *, clamp_green: bool = False) -> np.ndarray:
    """Demosaic a Bayer mosaic with DDFAPD (Menon et al. 2007) and its refining step, compiled.

    Same algorithm, borders and floats as :func:`demosaic_menon2007`, computed by a numba kernel in
    cache-sized tiles on all cores; extra memory is a few tiles per thread.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced); values above 1 are kept.
    cfa
        2x2 Bayer pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.
    clamp_green
        Limit directional green estimates to their neighbours' range (see
        :func:`demosaic_menon2007`); ``False`` is the published method.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
        posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
        doi:10.1109/TIP.2006.884928
    """
    rows = rows_menon2007(mosaic, cfa, clamp_green)
    return rows(0, rows.shape[0], threads=None)


def demosaic_menon2007_clamped_fast(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """:func:`demosaic_menon2007_clamped`, compiled: :func:`demosaic_menon2007_fast` with ``clamp_green=True``."""
    return demosaic_menon2007_fast(mosaic, cfa, clamp_green=True)


def rows_menon2007(mosaic: np.ndarray, cfa: np.ndarray, clamp_green: bool) -> RowsDemosaic:
    mosaic = np.require(as_mosaic(mosaic), requirements="CW")  # one compiled signature: C order, writeable
    cfa = require_bayer(cfa, "menon2007_clamped" if clamp_green else "menon2007")
    args = (mosaic, cfa, clamp_green, MENON2007_MARGIN)  # the kernel's loop bounds assume this margin
    return RowsDemosaic(_menon2007_tiles, args, mosaic.shape, MENON2007_TILE, 2)


@njit(cache=True, nogil=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _menon2007_tiles(mosaic, cfa, clamp_green, margin, out, origins, tile_rows, tile_cols, out_row0, row_stop):
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
        load_tile(mosaic, r0, c0, rows, cols, margin, planes[0], col_index)
        _menon2007_tile(cfa, clamp_green, out, r0, c0, rows, cols, out_row0, planes[0], planes[1], planes[2],
                        planes[3], planes[4], planes[5], planes[6], planes[7], horizontal)


@njit(inline="always", fastmath=False)
def _mean_differences(p, q, a, k):
    """The mean of ``p - q`` over pixel (a, k) and its two neighbours along the row, and along the column (float32,
    summed left to right, as the numpy twin)."""
    dk = p[a, k] - q[a, k]
    across = (F32_THIRD * (p[a, k - 1] - q[a, k - 1]) + F32_THIRD * dk) + F32_THIRD * (p[a, k + 1] - q[a, k + 1])
    down = (F32_THIRD * (p[a - 1, k] - q[a - 1, k]) + F32_THIRD * dk) + F32_THIRD * (p[a + 1, k] - q[a + 1, k])
    return across, down


@njit(cache=True, nogil=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _menon2007_tile(cfa, clamp_green, out, r0, c0, rows, cols, out_row0, m, p1, p2, p3, p4, g, r, b, horizontal):
    """Run Menon (2007) with refining on one tile loaded into ``m`` (with a margin of :data:`MENON2007_MARGIN`)
    and write its ``rows x cols`` centre into ``out``; the other planes are scratch of ``m``'s tile size.

    Local row ``a`` / column ``k`` has the CFA phase of ``(a, k)`` because ``r0``, ``c0`` and the margin are
    even. Each stage is valid one pixel or more further in from the tile edge than the one before.

    Every loop runs over whole rows, every pixel alike, and keeps the pixels of the CFA colour it is for with a
    select (``numpy.where`` in the plain twin); a stage that updates some pixels writes a new plane instead of
    updating in place, and every inner loop counts from 0 with literal bounds (numba's ``range(start, ...)``
    and a runtime margin keep the compiler from proving indices non-negative). Such loops compile to vector
    instructions: about 3x faster than stride-2 loops over one CFA colour, although they compute (and throw
    away) the other pixels too. The values kept are the same floats as before.
    """
    nh, nw = rows + 2 * MENON2007_MARGIN, cols + 2 * MENON2007_MARGIN
    c_h, c_v, d_h, d_v = p1, p2, p3, p4

    for a in range(2, nh - 2):  # directional greens -> colour differences (used at red/blue pixels only)
        for j in range(nw - 4):
            k = j + 2
            gh = (((-F32_QUARTER * m[a, k - 2] + F32_HALF * m[a, k - 1]) + F32_HALF * m[a, k])
                  + F32_HALF * m[a, k + 1]) + -F32_QUARTER * m[a, k + 2]
            gv = (((-F32_QUARTER * m[a - 2, k] + F32_HALF * m[a - 1, k]) + F32_HALF * m[a, k])
                  + F32_HALF * m[a + 1, k]) + -F32_QUARTER * m[a + 2, k]
            gh_limited = min(max(gh, min(m[a, k - 1], m[a, k + 1])), max(m[a, k - 1], m[a, k + 1]))
            gv_limited = min(max(gv, min(m[a - 1, k], m[a + 1, k])), max(m[a - 1, k], m[a + 1, k]))
            c_h[a, k] = m[a, k] - (gh_limited if clamp_green else gh)  # a select, not a second loop
            c_v[a, k] = m[a, k] - (gv_limited if clamp_green else gv)

    # a posteriori decision: each pixel's sums read horizontal differences |c_h[a, k] - c_h[a, k + 2]| and
    # vertical ones |c_v[a, k] - c_v[a + 2, k]| at eight places; made once per pixel here, then added in the
    # published order, so the sums are the same floats
    for a in range(2, nh - 2):
        for j in range(nw - 6):
            k = j + 2
            d_h[a, k] = abs(c_h[a, k] - c_h[a, k + 2])
    for a in range(2, nh - 4):
        for j in range(nw - 4):
            k = j + 2
            d_v[a, k] = abs(c_v[a, k] - c_v[a + 2, k])

    for a in range(4, nh - 4):  # decision and green at red/blue pixels; measured green kept
        q = 0 if cfa[a & 1, 0] == 1 else 1  # column parity of the greens in this row
        for j in range(nw - 8):
            k = j + 4
            dh = ((((((F32_THREE * (d_h[a, k] + d_h[a, k - 2]) + d_h[a - 1, k - 1]) + d_h[a + 1, k - 1])
                     + d_h[a - 2, k]) + d_h[a - 2, k - 2]) + d_h[a + 2, k]) + d_h[a + 2, k - 2])
            dv = ((((((F32_THREE * (d_v[a, k] + d_v[a - 2, k]) + d_v[a - 1, k - 1]) + d_v[a - 1, k + 1])
                     + d_v[a, k - 2]) + d_v[a - 2, k - 2]) + d_v[a, k + 2]) + d_v[a - 2, k + 2])
            h = dv >= dh
            horizontal[a, k] = h
            mk, ch, cv = m[a, k], c_h[a, k], c_v[a, k]  # loaded whatever the selects below choose
            chosen = mk - (ch if h else cv)
            g[a, k] = mk if (k & 1) == q else chosen

    for a in range(5, nh - 5):  # red and blue at green pixels; measured red (red rows) or blue kept
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 0 if cfa[a & 1, 0] == 1 else 1
        across_plane, down_plane = (r, b) if red_row else (b, r)
        for j in range(nw - 10):
            k = j + 5
            across = F32_HALF * (m[a, k - 1] - g[a, k - 1]) + F32_HALF * (m[a, k + 1] - g[a, k + 1])
            down = F32_HALF * (m[a - 1, k] - g[a - 1, k]) + F32_HALF * (m[a + 1, k] - g[a + 1, k])
            mk, gk = m[a, k], g[a, k]
            at_green = gk + across
            across_plane[a, k] = at_green if (k & 1) == q else mk
            down_plane[a, k] = gk + down  # at red/blue pixels: replaced in the next stage

    r2, b2 = p1, p2  # the colour differences are no longer needed
    for a in range(6, nh - 6):  # red at blue pixels, blue at red pixels, along the decided direction
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 0 if cfa[a & 1, 0] == 1 else 1
        src, dst = (r, b) if red_row else (b, r)
        src2, dst2 = (r2, b2) if red_row else (b2, r2)
        for j in range(nw - 12):
            k = j + 6
            across = F32_HALF * (dst[a, k - 1] - src[a, k - 1]) + F32_HALF * (dst[a, k + 1] - src[a, k + 1])
            down = F32_HALF * (dst[a - 1, k] - src[a - 1, k]) + F32_HALF * (dst[a + 1, k] - src[a + 1, k])
            sk, dk = src[a, k], dst[a, k]
            made = sk + (across if horizontal[a, k] else down)
            src2[a, k] = sk
            dst2[a, k] = dk if (k & 1) == q else made

    g2 = p3
    for a in range(7, nh - 7):  # refining: green at red/blue pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 0 if cfa[a & 1, 0] == 1 else 1
        x = r2 if red_row else b2
        for j in range(nw - 14):
            k = j + 7
            xk, gk = x[a, k], g[a, k]
            across, down = _mean_differences(x, g, a, k)
            made = xk - (across if horizontal[a, k] else down)
            g2[a, k] = gk if (k & 1) == q else made

    r3, b3 = r, b  # the first red and blue are no longer needed
    for a in range(8, nh - 8):  # refining: red and blue at green pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 0 if cfa[a & 1, 0] == 1 else 1
        across_plane, down_plane = (r2, b2) if red_row else (b2, r2)
        across3, down3 = (r3, b3) if red_row else (b3, r3)
        for j in range(nw - 16):
            k = j + 8
            across = (F32_HALF * (across_plane[a, k - 1] - g2[a, k - 1])
                      + F32_HALF * (across_plane[a, k + 1] - g2[a, k + 1]))
            down = F32_HALF * (down_plane[a - 1, k] - g2[a - 1, k]) + F32_HALF * (down_plane[a + 1, k] - g2[a + 1, k])
            green = (k & 1) == q
            gk, ak, dk = g2[a, k], across_plane[a, k], down_plane[a, k]
            made_across, made_down = gk + across, gk + down
            across3[a, k] = made_across if green else ak
            down3[a, k] = made_down if green else dk

    r4, b4 = p1, p2  # the second red and blue are no longer needed
    for a in range(9, nh - 9):  # refining: red at blue pixels, blue at red pixels
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        q = 0 if cfa[a & 1, 0] == 1 else 1
        for j in range(nw - 18):
            k = j + 9
            rk, bk = r3[a, k], b3[a, k]
            across, down = _mean_differences(r3, b3, a, k)
            rb = across if horizontal[a, k] else down
            made_r, made_b = bk + rb, rk - rb
            green = (k & 1) == q
            r4[a, k] = rk if green or red_row else made_r
            b4[a, k] = bk if green or not red_row else made_b

    store_tile(out, r0 - out_row0, c0, rows, cols, MENON2007_MARGIN, r4, g2, b4)
