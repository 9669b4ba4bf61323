"""RCD, Ratio Corrected Demosaicing (Sanz Rodriguez 2017) of a Bayer mosaic, plain and compiled.

:func:`demosaic_rcd` is the algorithm written plainly in numpy; :func:`demosaic_rcd_fast` computes the same
floats with a numba kernel in cache-sized tiles on all cores (:mod:`lumatune.stages.demosaic._tiles`). Every
step of the kernel runs over whole rows of its tile, every pixel alike, and keeps the pixels of the CFA colour
it is for (a select, as ``numpy.where`` in the plain twin): loops without branches or strides, which the
compiler turns into vector instructions (see :mod:`lumatune.stages.demosaic._tiles` for the rules). Computing
and throwing away the other pixels costs far less than the scalar code the same steps gave while they could
not be vectorised (24 MP on one thread: 1.6 s then, 0.15-0.2 s now, measured).

References
----------
-   Sanz Rodriguez, L. (2017). RCD: Ratio Corrected Demosaicing, v2.3. https://github.com/LuisSR/RCD-Demosaicing
    (the default Bayer demosaic of RawTherapee and darktable).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lumatune.stages.demosaic._mosaic import GREEN, RED, as_mosaic, at, cfa_plane, require_bayer
from lumatune.stages.demosaic._tiles import RowsDemosaic, load_tile, store_tile

__all__ = ["RCD_MARGIN", "demosaic_rcd", "demosaic_rcd_fast", "rows_rcd"]

RCD_MARGIN = 10
"""Rows/columns of reflected border RCD needs: red and blue at green pixels read the red and blue made at
red/blue pixels 3 pixels away, which read green 2 pixels further, which reads the direction 5 pixels deep
(diagonal neighbours 1, energy sums 1, high pass 3)."""
RCD_TILE = (64, 256)
"""Rows and columns of an RCD tile (even, so every tile starts on the CFA phase of pixel (0, 0))."""

_EPS = np.float32(1e-5)
"""Added to the gradients and the low-pass sums so that no weight or ratio divides by zero (RCD's ``eps``)."""
_EPS_SQ = np.float32(1e-10)
"""Floor of the high-pass energies, so that the direction ratios are defined in flat areas (RCD's ``epssq``)."""
_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F3 = np.float32(3.0)
_F6 = np.float32(6.0)
_HALF = np.float32(0.5)
_QUARTER = np.float32(0.25)
_EIGHTH = np.float32(0.125)
_SIXTEENTH = np.float32(0.0625)


def demosaic_rcd(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic a Bayer mosaic with RCD (Ratio Corrected Demosaicing, Sanz Rodriguez 2017), in plain numpy.

    1.  Direction: at every pixel, the energy of a 7-tap colour-difference high-pass filter
        ``[1, -3, -1, 6, -1, -3, 1]`` summed over three neighbours along the column (``V``) and along the
        row (``H``) gives ``d = V / (V + H)``, 1 for a vertical edge (interpolate horizontally), 0 for a
        horizontal one.
    2.  Low pass: the 3x3 binomial filter of the mosaic, a luminance estimate at red/blue pixels.
    3.  Green at red/blue pixels: each of the four nearest greens is scaled by the low-pass ratio between
        the centre and the red/blue pixel beyond it (the "ratio correction"); the opposite pairs are mixed
        with inverse-gradient weights and the two directions with ``d`` (or its 4 diagonal neighbours' mean,
        whichever is further from 0.5).
    4.  Red at blue pixels and blue at red pixels: the same with diagonal high-pass energies and the
        colour differences of the four diagonal neighbours.
    5.  Red and blue at green pixels: colour differences of the four cardinal neighbours, inverse-gradient
        weighted and mixed with ``d``.

    Two departures from the published code, both for lumatune's conventions: nothing is clipped to
    [0, 1] (white-balanced highlights above 1 pass through), and the low pass is floored at 0 before the
    ratio (black-subtracted noise can make it negative, which would make the ratio unbounded; floored, each
    corrected green stays between 0 and twice the measured one).

    This is the readable reference of :func:`demosaic_rcd_fast`, which computes the same floats faster.
    Borders: the image is reflected once up front (numpy ``reflect``).

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
    -   Sanz Rodriguez, L. (2017). RCD: Ratio Corrected Demosaicing, v2.3.
        https://github.com/LuisSR/RCD-Demosaicing
    """
    mosaic = as_mosaic(mosaic)
    cfa = require_bayer(cfa, "rcd")
    p = RCD_MARGIN  # even, so the padded plane keeps the CFA phase
    m = np.pad(mosaic, p, mode="reflect")
    channel = cfa_plane(cfa, m.shape)
    is_g = channel == GREEN
    red_row = np.broadcast_to((channel == RED).any(axis=1)[:, None], m.shape)

    def high_pass_energy(di: int, dj: int) -> np.ndarray:
        """Square of the colour-difference high pass ``[1, -3, -1, 6, -1, -3, 1]`` along the step (di, dj)."""
        x = ((at(m, -3 * di, -3 * dj) - at(m, -di, -dj)) - at(m, di, dj)) + at(m, 3 * di, 3 * dj)
        x = (x - _F3 * (at(m, -2 * di, -2 * dj) + at(m, 2 * di, 2 * dj))) + _F6 * m
        return x * x

    def direction(first: np.ndarray, step1: tuple[int, int], second: np.ndarray, step2: tuple[int, int]):
        """``first / (first + second)`` of the energies summed over three pixels along their steps."""
        a = np.maximum(_EPS_SQ, (at(first, -step1[0], -step1[1]) + first) + at(first, *step1))
        b = np.maximum(_EPS_SQ, (at(second, -step2[0], -step2[1]) + second) + at(second, *step2))
        return a / (a + b)

    def decided(d: np.ndarray) -> np.ndarray:
        """``d`` or the mean of its 4 diagonal neighbours, whichever is further from 0.5 (more decided)."""
        around = _QUARTER * (((at(d, -1, -1) + at(d, -1, 1)) + at(d, 1, -1)) + at(d, 1, 1))
        return np.where(np.abs(_HALF - d) < np.abs(_HALF - around), around, d)

    def mixed(grad_a: np.ndarray, est_a: np.ndarray, grad_b: np.ndarray, est_b: np.ndarray) -> np.ndarray:
        """Inverse-gradient mean of two opposite estimates: each weighted by the other side's gradient."""
        return (grad_b * est_a + grad_a * est_b) / (grad_a + grad_b)

    # 1. vertical/horizontal direction
    vh = decided(direction(high_pass_energy(1, 0), (1, 0), high_pass_energy(0, 1), (0, 1)))

    # 2. low pass (floored at 0, see above)
    lpf = (_QUARTER * m + _EIGHTH * (((at(m, -1, 0) + at(m, 1, 0)) + at(m, 0, -1)) + at(m, 0, 1))) + _SIXTEENTH * (
        ((at(m, -1, -1) + at(m, -1, 1)) + at(m, 1, -1)) + at(m, 1, 1)
    )
    lpf = np.maximum(lpf, _F0)

    # 3. green at red/blue pixels: ratio-corrected cardinal greens, inverse-gradient weighted
    def cardinal(di: int, dj: int) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and ratio-corrected green estimate from the neighbour at (di, dj)."""
        near, far = at(m, di, dj), at(m, 2 * di, 2 * dj)
        grad = (((_EPS + np.abs(near - at(m, -di, -dj))) + np.abs(m - far)) + np.abs(near - at(m, 3 * di, 3 * dj))) + (
            np.abs(far - at(m, 4 * di, 4 * dj))
        )
        lpf_far = at(lpf, 2 * di, 2 * dj)
        return grad, near * (_F1 + (lpf - lpf_far) / ((_EPS + lpf) + lpf_far))

    v_est = mixed(*cardinal(-1, 0), *cardinal(1, 0))
    h_est = mixed(*cardinal(0, -1), *cardinal(0, 1))
    g = np.where(is_g, m, vh * h_est + (_F1 - vh) * v_est)

    # 4. red at blue pixels, blue at red pixels: diagonal colour differences
    pq = decided(direction(high_pass_energy(1, 1), (1, 1), high_pass_energy(1, -1), (1, -1)))

    def diagonal(di: int, dj: int) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and colour difference of the diagonal neighbour at (di, dj) (the other chroma)."""
        near = at(m, di, dj)
        grad = ((_EPS + np.abs(near - at(m, -di, -dj))) + np.abs(near - at(m, 3 * di, 3 * dj))) + np.abs(
            g - at(g, 2 * di, 2 * dj)
        )
        return grad, near - at(g, di, dj)

    p_est = mixed(*diagonal(-1, -1), *diagonal(1, 1))
    q_est = mixed(*diagonal(-1, 1), *diagonal(1, -1))
    other = (g + (_F1 - pq) * p_est) + pq * q_est
    r = np.where(red_row, m, other)  # right at red/blue pixels; green pixels are filled in step 5
    b = np.where(red_row, other, m)

    # 5. red and blue at green pixels: cardinal colour differences
    def at_green(x: np.ndarray) -> np.ndarray:
        def side(di: int, dj: int) -> tuple[np.ndarray, np.ndarray]:
            near = at(x, di, dj)
            grad = ((_EPS + np.abs(g - at(g, 2 * di, 2 * dj))) + np.abs(near - at(x, -di, -dj))) + np.abs(
                near - at(x, 3 * di, 3 * dj)
            )
            return grad, near - at(g, di, dj)

        v = mixed(*side(-1, 0), *side(1, 0))
        h = mixed(*side(0, -1), *side(0, 1))
        return np.where(is_g, (g + (_F1 - vh) * v) + vh * h, x)

    crop = (slice(p, -p), slice(p, -p))
    return np.stack([at_green(r)[crop], g[crop], at_green(b)[crop]], axis=-1).astype(np.float32)


def demosaic_rcd_fast(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic a Bayer mosaic with RCD (Sanz Rodriguez 2017), compiled.

    Same algorithm, borders and floats as :func:`demosaic_rcd`, computed by a numba kernel in cache-sized
    tiles on all cores; extra memory is a few tiles per thread.

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
    -   Sanz Rodriguez, L. (2017). RCD: Ratio Corrected Demosaicing, v2.3.
        https://github.com/LuisSR/RCD-Demosaicing
    """
    rows = rows_rcd(mosaic, cfa)
    return rows(0, rows.shape[0], threads=None)


def rows_rcd(mosaic: np.ndarray, cfa: np.ndarray) -> RowsDemosaic:
    """The banded form of :func:`demosaic_rcd_fast` (see :class:`~lumatune.stages.demosaic.RowsDemosaic`)."""
    mosaic = np.require(as_mosaic(mosaic), requirements="CW")  # one compiled signature: C order, writeable
    cfa = require_bayer(cfa, "rcd")
    return RowsDemosaic(_rcd_tiles, (mosaic, cfa, RCD_MARGIN), mosaic.shape, RCD_TILE, 2)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy")  # the same floats as the numpy twin, bit for bit
def _rcd_tiles(mosaic, cfa, margin, out, origins, tile_rows, tile_cols, out_row0, row_stop):
    """Run :func:`_rcd_tile` on the tiles whose top-left corners are ``origins`` (k x 2), with one set of local
    planes for them all. Tiles end at ``row_stop``; mosaic row r is written to ``out[r - out_row0]``."""
    shape = (tile_rows + 2 * margin, tile_cols + 2 * margin)
    planes = np.empty((8,) + shape, dtype=np.float32)
    col_index = np.empty(shape[1], dtype=np.int64)
    width = mosaic.shape[1]
    for t in range(origins.shape[0]):
        r0, c0 = origins[t, 0], origins[t, 1]
        rows, cols = min(tile_rows, row_stop - r0), min(tile_cols, width - c0)
        load_tile(mosaic, r0, c0, rows, cols, margin, planes[0], col_index)
        _rcd_tile(cfa, margin, out, r0, c0, rows, cols, out_row0, planes[0], planes[1], planes[2], planes[3],
                  planes[4], planes[5], planes[6], planes[7])


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _energy(m, a, k, di, dj):
    """Square of the colour-difference high pass ``[1, -3, -1, 6, -1, -3, 1]`` of ``m`` at (a, k) along (di, dj)."""
    x = ((m[a - 3 * di, k - 3 * dj] - m[a - di, k - dj]) - m[a + di, k + dj]) + m[a + 3 * di, k + 3 * dj]
    x = (x - _F3 * (m[a - 2 * di, k - 2 * dj] + m[a + 2 * di, k + 2 * dj])) + _F6 * m[a, k]
    return x * x


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _direction(e1, e2, a, k, di1, dj1, di2, dj2):
    """``V / (V + H)`` of the energies ``e1``, ``e2`` summed over three pixels along (di1, dj1) and (di2, dj2)."""
    v = max(_EPS_SQ, (e1[a - di1, k - dj1] + e1[a, k]) + e1[a + di1, k + dj1])
    h = max(_EPS_SQ, (e2[a - di2, k - dj2] + e2[a, k]) + e2[a + di2, k + dj2])
    return v / (v + h)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _decided(d, a, k):
    """``d[a, k]`` or the mean of its 4 diagonal neighbours, whichever is further from 0.5."""
    around = _QUARTER * (((d[a - 1, k - 1] + d[a - 1, k + 1]) + d[a + 1, k - 1]) + d[a + 1, k + 1])
    centre = d[a, k]
    return around if abs(_HALF - centre) < abs(_HALF - around) else centre


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _mixed(grad_a, est_a, grad_b, est_b):
    """Inverse-gradient mean of two opposite estimates."""
    return (grad_b * est_a + grad_a * est_b) / (grad_a + grad_b)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _cardinal_green(m, lpf, a, k, di, dj):
    """Gradient and ratio-corrected green from the neighbour at (a + di, k + dj)."""
    near, far = m[a + di, k + dj], m[a + 2 * di, k + 2 * dj]
    grad = (((_EPS + abs(near - m[a - di, k - dj])) + abs(m[a, k] - far)) + abs(near - m[a + 3 * di, k + 3 * dj])) + (
        abs(far - m[a + 4 * di, k + 4 * dj])
    )
    centre, lpf_far = lpf[a, k], lpf[a + 2 * di, k + 2 * dj]
    return grad, near * (_F1 + (centre - lpf_far) / ((_EPS + centre) + lpf_far))


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _diagonal(m, g, a, k, di, dj):
    """Gradient and colour difference of the diagonal neighbour at (a + di, k + dj)."""
    near = m[a + di, k + dj]
    grad = ((_EPS + abs(near - m[a - di, k - dj])) + abs(near - m[a + 3 * di, k + 3 * dj])) + abs(
        g[a, k] - g[a + 2 * di, k + 2 * dj]
    )
    return grad, near - g[a + di, k + dj]


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _side(x, g, a, k, di, dj):
    """Gradient and colour difference of the cardinal neighbour at (a + di, k + dj) in plane ``x``."""
    near = x[a + di, k + dj]
    grad = ((_EPS + abs(g[a, k] - g[a + 2 * di, k + 2 * dj])) + abs(near - x[a - di, k - dj])) + abs(
        near - x[a + 3 * di, k + 3 * dj]
    )
    return grad, near - g[a + di, k + dj]


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _at_green(x, g, vh, a, k):
    """Red or blue (plane ``x``) at a green pixel from its cardinal colour differences."""
    gn, en = _side(x, g, a, k, -1, 0)
    gs, es = _side(x, g, a, k, 1, 0)
    gw, ew = _side(x, g, a, k, 0, -1)
    ge, ee = _side(x, g, a, k, 0, 1)
    d = _decided(vh, a, k)
    return (g[a, k] + (_F1 - d) * _mixed(gn, en, gs, es)) + d * _mixed(gw, ew, ge, ee)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy")  # the same floats as the numpy twin, bit for bit
def _rcd_tile(cfa, margin, out, r0, c0, rows, cols, out_row0, m, e1, e2, vh, lpf, g, r, b):
    """Run RCD on one tile loaded into ``m`` and write its ``rows x cols`` centre into ``out``; the other planes
    are scratch of at least ``m``'s tile size.

    ``margin`` must be :data:`RCD_MARGIN`: the loops' bounds are literals, which lets the compiler prove the
    indices non-negative and vectorise; it is even, so local row ``a`` / column ``k`` has the CFA phase of
    ``(a, k)``. Each step runs over whole rows (every pixel, then a select by CFA colour) and is valid some
    pixels further in from the tile edge than the steps it reads.
    """
    nh, nw = rows + 2 * margin, cols + 2 * margin
    _direction_step(m, e1, e2, vh, nh, nw, 1, 0, 0, 1)  # 1. vertical/horizontal direction
    _low_pass_step(m, lpf, nh, nw)  # 2.
    _green_step(cfa, m, lpf, vh, g, nh, nw)  # 3.
    _direction_step(m, e1, e2, lpf, nh, nw, 1, 1, 1, -1)  # 4. diagonal direction (in lpf's plane, now free)
    _red_blue_step(cfa, m, g, lpf, r, b, nh, nw)
    _green_pixels_step(cfa, g, vh, r, b, e1, e2, nh, nw)  # 5. (into e1, e2: free again)
    store_tile(out, r0 - out_row0, c0, rows, cols, margin, e1, g, e2)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _direction_step(m, e1, e2, d, nh, nw, di1, dj1, di2, dj2):
    """Direction ``e1 / (e1 + e2)`` of the high-pass energies along (di1, dj1) and (di2, dj2), into ``d``."""
    for a in range(3, nh - 3):
        for j in range(nw - 6):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 3
            e1[a, k] = _energy(m, a, k, di1, dj1)
            e2[a, k] = _energy(m, a, k, di2, dj2)
    for a in range(4, nh - 4):
        for j in range(nw - 8):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 4
            d[a, k] = _direction(e1, e2, a, k, di1, dj1, di2, dj2)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _low_pass_step(m, lpf, nh, nw):
    """3x3 binomial low pass of ``m``, floored at 0."""
    for a in range(1, nh - 1):
        for j in range(nw - 2):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 1
            s = (_QUARTER * m[a, k] + _EIGHTH * (((m[a - 1, k] + m[a + 1, k]) + m[a, k - 1]) + m[a, k + 1])) + (
                _SIXTEENTH * (((m[a - 1, k - 1] + m[a - 1, k + 1]) + m[a + 1, k - 1]) + m[a + 1, k + 1])
            )
            lpf[a, k] = max(s, _F0)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _green_step(cfa, m, lpf, vh, g, nh, nw):
    """Green at red/blue pixels (measured green kept)."""
    for a in range(5, nh - 5):
        q = 0 if cfa[a & 1, 0] == 1 else 1  # column parity of the greens in this row
        for j in range(nw - 10):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 5
            gn, en = _cardinal_green(m, lpf, a, k, -1, 0)
            gs, es = _cardinal_green(m, lpf, a, k, 1, 0)
            gw, ew = _cardinal_green(m, lpf, a, k, 0, -1)
            ge, ee = _cardinal_green(m, lpf, a, k, 0, 1)
            d = _decided(vh, a, k)
            est = d * _mixed(gw, ew, ge, ee) + (_F1 - d) * _mixed(gn, en, gs, es)
            mk = m[a, k]  # loaded whatever the select chooses: no conditional loads, which stop vectorising
            g[a, k] = mk if (k & 1) == q else est


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _red_blue_step(cfa, m, g, pq, r, b, nh, nw):
    """Red at blue pixels and blue at red pixels from the diagonal colour differences (direction ``pq``)."""
    for a in range(7, nh - 7):
        red_row = cfa[a & 1, 0] == 0 or cfa[a & 1, 1] == 0
        for j in range(nw - 14):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 7
            gp, ep = _diagonal(m, g, a, k, -1, -1)
            gs, es = _diagonal(m, g, a, k, 1, 1)
            gq, eq = _diagonal(m, g, a, k, -1, 1)
            gr, er = _diagonal(m, g, a, k, 1, -1)
            d = _decided(pq, a, k)
            other = (g[a, k] + (_F1 - d) * _mixed(gp, ep, gs, es)) + d * _mixed(gq, eq, gr, er)
            mk = m[a, k]
            r[a, k] = mk if red_row else other  # right at red/blue pixels; green pixels follow in step 5
            b[a, k] = other if red_row else mk


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always")
def _green_pixels_step(cfa, g, vh, r, b, r_out, b_out, nh, nw):
    """Red and blue at green pixels from the cardinal colour differences, into ``r_out`` and ``b_out`` (the
    red/blue pixels copied)."""
    for a in range(10, nh - 10):
        q = 0 if cfa[a & 1, 0] == 1 else 1  # column parity of the greens in this row
        for j in range(nw - 20):  # from 0: numba's range(start, ...) defeats vectorising
            k = j + 10
            green = (k & 1) == q
            r_at_g = _at_green(r, g, vh, a, k)
            b_at_g = _at_green(b, g, vh, a, k)
            rk, bk = r[a, k], b[a, k]
            r_out[a, k] = r_at_g if green else rk
            b_out[a, k] = b_at_g if green else bk
