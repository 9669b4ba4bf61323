"""Demosaic: rebuild full RGB from a Bayer or X-Trans mosaic.

The front door is :func:`demosaic`; :data:`DEMOSAIC_METHODS` maps method names to the functions:

- ``"bilinear"``: :func:`demosaic_bilinear`, normalised convolution per channel (any 2x2 or 6x6 CFA).
- ``"menon2007"``: :func:`demosaic_menon2007`, DDFAPD with the refining step (Bayer), compiled with numba;
  :func:`demosaic_menon2007_numpy` is the same algorithm written plainly, kept as its reference.
- ``"menon2007_clamped"``: :func:`demosaic_menon2007_clamped`, the same with each directional green
  limited to its neighbours' range as dcraw's AHD does; fewer coloured fringes on sharp edges.
- ``"markesteijn"``: :func:`demosaic_markesteijn`, a one-pass Markesteijn-style X-Trans demosaic
  (directional green, colour-difference red and blue, homogeneity decision), compiled with numba;
  :func:`demosaic_markesteijn_numpy` is its plain reference.

``"default"`` is ``"menon2007_clamped"`` for a 2x2 CFA and ``"markesteijn"`` for a 6x6 one
(:data:`DEFAULT_METHODS`).

Borders: the image is treated as mirror-reflected about its first and last rows and columns (numpy's
``reflect``; for X-Trans, which is not mirror-symmetric, each pad pixel snaps to the nearest pixel of
the colour the CFA period asks for, see :func:`pad_mirrored_mosaic`), so borders are neither dark nor
NaN. Nothing is clipped: white-balanced highlights above 1 pass through.

References
----------
-   Menon, D., Andriani, S., & Calvagno, G. (2007). Demosaicing With Directional Filtering and a
    posteriori Decision. IEEE Transactions on Image Processing, 16(1), 132-141.
    doi:10.1109/TIP.2006.884928
-   Coffin, D. dcraw.c, ``xtrans_interpolate()`` (2013), after Frank Markesteijn's X-Trans demosaic;
    the same function is ``LibRaw::xtrans_interpolate`` in LibRaw.
-   Hirakawa, K., & Parks, T. W. (2005). Adaptive homogeneity-directed demosaicing algorithm. IEEE
    Transactions on Image Processing, 14(3), 360-369. doi:10.1109/TIP.2004.838691
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lumatune.errors import UnsupportedError
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = [
    "DEFAULT_METHODS",
    "DEMOSAIC_METHODS",
    "STAGE",
    "DemosaicParams",
    "RowsDemosaic",
    "demosaic",
    "demosaic_bilinear",
    "demosaic_markesteijn",
    "demosaic_markesteijn_numpy",
    "demosaic_menon2007",
    "demosaic_menon2007_clamped",
    "demosaic_menon2007_numpy",
    "pad_mirrored_mosaic",
    "rows_demosaic",
]

RED, GREEN, BLUE = 0, 1, 2

MENON2007_MARGIN = 10
"""Rows/columns of reflected border the Menon (2007) chain needs (its stages reach 9 pixels out)."""


MARKESTEIJN_MARGIN = 12
"""Padded border of the X-Trans chain: green reaches 6 pixels, colour differences 2 more, roughness 1,
homogeneity 1, its 5x5 score 2 (a multiple of 6, so the padded plane keeps the CFA phase)."""

MARKESTEIJN_DIRECTIONS = np.array([[0, 1], [1, 0], [1, 1], [1, -1]], dtype=np.int64)
"""Unit steps of the four green directions: horizontal, vertical, diagonal, anti-diagonal."""

GREEN_REACH = 6
"""Farthest green (pixels along a direction) the X-Trans green interpolation may use."""

COLOUR_SIGMA = 1.0
"""Gaussian sigma (pixels) of the 5x5 weights that interpolate red-green and blue-green differences."""


def _as_mosaic(mosaic: np.ndarray) -> np.ndarray:
    """Return ``mosaic`` as a 2-D float32 array, or raise UnsupportedError."""
    mosaic = np.asarray(mosaic, dtype=np.float32)
    if mosaic.ndim != 2 or min(mosaic.shape) < 2:
        raise UnsupportedError(f"demosaic: mosaic must be 2-D and at least 2x2, got shape {mosaic.shape}")
    return mosaic


def _as_cfa(cfa: np.ndarray) -> np.ndarray:
    """Return ``cfa`` as an int array of shape (2, 2) or (6, 6) holding 0, 1 and 2, or raise."""
    cfa = np.asarray(cfa)
    if cfa.shape not in ((2, 2), (6, 6)):
        raise UnsupportedError(f"demosaic: CFA must be 2x2 (Bayer) or 6x6 (X-Trans), got shape {cfa.shape}")
    if not np.issubdtype(cfa.dtype, np.integer) or set(np.unique(cfa)) != {RED, GREEN, BLUE}:
        raise UnsupportedError(f"demosaic: CFA must hold 0=R, 1=G, 2=B each at least once, got {cfa.tolist()}")
    return cfa.astype(np.int64)


def _require_bayer(cfa: np.ndarray, method: str) -> np.ndarray:
    """Return ``cfa`` if it is a Bayer pattern (greens on one diagonal), else raise UnsupportedError."""
    cfa = _as_cfa(cfa)
    bayer = cfa.shape == (2, 2) and (
        (cfa[0, 0] == cfa[1, 1] == GREEN) or (cfa[0, 1] == cfa[1, 0] == GREEN)
    )
    if not bayer:
        raise UnsupportedError(
            f"demosaic: method {method!r} needs a 2x2 Bayer CFA (greens on a diagonal), got {cfa.tolist()}"
        )
    return cfa


def _cfa_plane(cfa: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return the channel index of every pixel of an image of ``shape`` under ``cfa`` (phase at (0, 0))."""
    reps = (-(-shape[0] // cfa.shape[0]), -(-shape[1] // cfa.shape[1]))
    return np.tile(cfa, reps)[: shape[0], : shape[1]]


def _at(plane: np.ndarray, di: int, dj: int) -> np.ndarray:
    """Return ``plane`` shifted so that element ``[i, j]`` holds ``plane[i + di, j + dj]`` (wrapping).

    Used on reflect-padded planes only: what wraps around lands in the margin that is cropped away.
    """
    return np.roll(plane, (-di, -dj), axis=(0, 1))


def _reflect_index(index: np.ndarray, n: int) -> np.ndarray:
    """Fold indices into ``[0, n)`` by mirror reflection without repeating the edge (numpy ``reflect``)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.mod(index, period)
    return np.where(index < n, index, period - index)


def pad_mirrored_mosaic(mosaic: np.ndarray, cfa: np.ndarray, margin: int) -> np.ndarray:
    """Pad a mosaic by ``margin`` so that the pad looks like the mirrored scene *and* keeps the CFA period.

    Each pad pixel takes the value of its mirror image (numpy ``reflect``) if that pixel has the colour
    the periodic CFA gives the pad pixel; otherwise the nearest pixel of that colour around the mirror
    image. For Bayer this is plain reflection; X-Trans is not mirror-symmetric, so plain reflection would
    put wrong colours in the pad.

    Parameters
    ----------
    mosaic
        Float H x W mosaic, at least one CFA period in each direction.
    cfa
        2x2 or 6x6 pattern of channel indices aligned with ``mosaic[0, 0]``.
    margin
        Pixels added on each side; a multiple of the CFA period keeps the pattern's phase at ``[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 (H + 2 margin) x (W + 2 margin) mosaic.

    Raises
    ------
    UnsupportedError
        The mosaic is smaller than one CFA period.
    """
    n = cfa.shape[0]
    height, width = mosaic.shape
    if height < n or width < n:
        raise UnsupportedError(f"demosaic: a {n}x{n} CFA needs a mosaic of at least {n}x{n}, got {mosaic.shape}")
    padded = np.pad(mosaic, margin, mode="reflect")
    border = np.ones(padded.shape, dtype=bool)
    border[margin:-margin, margin:-margin] = False
    rows, cols = np.nonzero(border)
    src_rows, src_cols = _reflect_index(rows - margin, height), _reflect_index(cols - margin, width)
    wanted = cfa[(rows - margin) % n, (cols - margin) % n]
    values = padded[rows, cols]
    pending = cfa[src_rows % n, src_cols % n] != wanted
    reach = n - 1  # a (2n-1)^2 window clipped to the image still holds a whole CFA period
    offsets = sorted(((di, dj) for di in range(-reach, reach + 1) for dj in range(-reach, reach + 1)),
                     key=lambda o: (o[0] ** 2 + o[1] ** 2, o))
    for di, dj in offsets[1:]:
        r, c = src_rows + di, src_cols + dj
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        fits = pending & inside
        fits[fits] = cfa[r[fits] % n, c[fits] % n] == wanted[fits]
        values[fits] = mosaic[r[fits], c[fits]]
        pending &= ~fits
    padded[rows, cols] = values
    return padded


def demosaic_bilinear(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic by normalised convolution of each channel with a 3x3 tent kernel.

    Each missing sample is the tent-weighted mean of the samples of its channel in the 3x3 neighbourhood;
    measured samples are kept. On a Bayer CFA this is textbook bilinear interpolation; on X-Trans every
    3x3 window holds at least one sample of each channel, so it is defined there too.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced).
    cfa
        Channel index (0=R, 1=G, 2=B) pattern, 2x2 or 6x6, aligned with ``mosaic[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Knutsson, H., & Westin, C.-F. (1993). Normalized and differential convolution. Proc. CVPR,
        515-523. doi:10.1109/CVPR.1993.341081

    Examples
    --------
    >>> rgb = demosaic_bilinear(np.full((4, 4), 0.5, np.float32), np.array([[0, 1], [1, 2]]))
    >>> rgb.shape, float(rgb.min()), float(rgb.max())
    ((4, 4, 3), 0.5, 0.5)
    """
    mosaic = _as_mosaic(mosaic)
    cfa = _as_cfa(cfa)
    n = cfa.shape[0]
    padded = pad_mirrored_mosaic(mosaic, cfa, n)  # keeps the CFA period, so every 3x3 window has all colours
    channel = _cfa_plane(cfa, padded.shape)
    height, width = mosaic.shape
    tent = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32)
    rgb = np.empty((height, width, 3), dtype=np.float32)
    for c in (RED, GREEN, BLUE):
        weights = (channel == c).astype(np.float32)
        samples = padded * weights
        total = np.zeros((height, width), dtype=np.float32)
        norm = np.zeros((height, width), dtype=np.float32)
        for di in range(3):
            for dj in range(3):
                window = (slice(n - 1 + di, n - 1 + di + height), slice(n - 1 + dj, n - 1 + dj + width))
                total += tent[di, dj] * samples[window]
                norm += tent[di, dj] * weights[window]
        rgb[..., c] = np.where(channel[n:-n, n:-n] == c, mosaic, total / norm)
    return rgb


def demosaic_menon2007_numpy(mosaic: np.ndarray, cfa: np.ndarray, *, clamp_green: bool = False) -> np.ndarray:
    """Demosaic a Bayer mosaic with DDFAPD (Menon et al. 2007) and its refining step, in plain numpy.

    Green is interpolated horizontally and vertically with the filter [-1/4, 1/2, 1/2, 1/2, -1/4]; at
    each red/blue pixel the direction whose colour differences vary least over a 5x5 window (the
    a posteriori decision) is kept. Red and blue follow by bilinear interpolation of colour differences
    (along the chosen direction at red/blue pixels), and the refining step re-estimates each channel
    from 3-tap filtered colour differences along the same direction.

    This is the readable reference of :func:`demosaic_menon2007`, which computes the same thing faster.
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
    mosaic = _as_mosaic(mosaic)
    cfa = _require_bayer(cfa, "menon2007_clamped" if clamp_green else "menon2007")
    margin = MENON2007_MARGIN  # even, so the padded plane keeps the CFA phase
    m = np.pad(mosaic, margin, mode="reflect")
    channel = _cfa_plane(cfa, m.shape)
    is_r, is_g, is_b = channel == RED, channel == GREEN, channel == BLUE
    red_row = np.broadcast_to(is_r.any(axis=1)[:, None], m.shape)
    blue_row = ~red_row
    zero = np.float32(0)

    def along(plane: np.ndarray, horizontal: bool | np.ndarray, taps: dict[int, float]) -> np.ndarray:
        """Correlate ``plane`` with ``taps`` (offset -> weight) horizontally where ``horizontal``."""
        h = sum(np.float32(w) * _at(plane, 0, k) for k, w in taps.items())
        v = sum(np.float32(w) * _at(plane, k, 0) for k, w in taps.items())
        return np.where(horizontal, h, v)

    green_taps = {-2: -0.25, -1: 0.5, 0: 0.5, 1: 0.5, 2: -0.25}
    mean2 = {-1: 0.5, 1: 0.5}
    mean3 = {-1: 1 / 3, 0: 1 / 3, 1: 1 / 3}

    # Directional green estimates and their colour differences (zero at green pixels).
    g_h = np.where(is_g, m, along(m, True, green_taps))
    g_v = np.where(is_g, m, along(m, False, green_taps))
    if clamp_green:
        left, right, up, down = _at(m, 0, -1), _at(m, 0, 1), _at(m, -1, 0), _at(m, 1, 0)
        g_h = np.where(is_g, m, np.minimum(np.maximum(g_h, np.minimum(left, right)), np.maximum(left, right)))
        g_v = np.where(is_g, m, np.minimum(np.maximum(g_v, np.minimum(up, down)), np.maximum(up, down)))
    c_h = np.where(is_g, zero, m - g_h)
    c_v = np.where(is_g, zero, m - g_v)

    # A posteriori decision: total colour-difference gradient over a 5x5 window, per direction.
    d_h = np.abs(c_h - _at(c_h, 0, 2))
    d_v = np.abs(c_v - _at(c_v, 2, 0))
    delta_h = (
        3 * (d_h + _at(d_h, 0, -2))
        + _at(d_h, -1, -1) + _at(d_h, 1, -1)
        + _at(d_h, -2, 0) + _at(d_h, -2, -2) + _at(d_h, 2, 0) + _at(d_h, 2, -2)
    )
    delta_v = (
        3 * (d_v + _at(d_v, -2, 0))
        + _at(d_v, -1, -1) + _at(d_v, -1, 1)
        + _at(d_v, 0, -2) + _at(d_v, -2, -2) + _at(d_v, 0, 2) + _at(d_v, -2, 2)
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


def demosaic_menon2007(mosaic: np.ndarray, cfa: np.ndarray, *, clamp_green: bool = False) -> np.ndarray:
    """Demosaic a Bayer mosaic with DDFAPD (Menon et al. 2007) and its refining step, compiled.

    Same algorithm, borders and floats as :func:`demosaic_menon2007_numpy`, computed by a numba kernel in
    cache-sized tiles on all cores; extra memory is a few tiles per thread.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced); values above 1 are kept.
    cfa
        2x2 Bayer pattern of channel indices (0=R, 1=G, 2=B), aligned with ``mosaic[0, 0]``.
    clamp_green
        Limit directional green estimates to their neighbours' range (see
        :func:`demosaic_menon2007_numpy`); ``False`` is the published method.

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
    rows = _menon2007_rows(mosaic, cfa, clamp_green)
    return rows(0, rows.shape[0], threads=None)


def _menon2007_rows(mosaic: np.ndarray, cfa: np.ndarray, clamp_green: bool) -> RowsDemosaic:
    from lumatune.stages import _demosaic_kernels

    mosaic = np.require(_as_mosaic(mosaic), requirements="CW")  # one compiled signature: C order, writeable
    cfa = _require_bayer(cfa, "menon2007_clamped" if clamp_green else "menon2007")
    args = (mosaic, cfa, clamp_green, MENON2007_MARGIN)
    return RowsDemosaic(_demosaic_kernels.menon2007_tiles, args, mosaic.shape, _demosaic_kernels.MENON2007_TILE, 2)


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
    cfa = _as_cfa(cfa)
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
                acc = acc + w * _at(m, di, dj)[sub]
            ahead, behind = _at(m, *offsets[0])[sub], _at(m, *offsets[2])[sub]
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
                shifted = _at(difference, *tables.colour_offsets[ci, i, j, t])
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
    second = [(2 * x - _at(x, *step)) - _at(x, *(-step)) for x in planes]
    return (second[0] * second[0] + second[1] * second[1]) + second[2] * second[2]


def demosaic_markesteijn_numpy(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
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

    This is the readable reference of :func:`demosaic_markesteijn`, which computes the same floats.
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
    mosaic = _as_mosaic(mosaic)
    tables = _xtrans_tables(cfa)
    cfa = _as_cfa(cfa)
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
    homogeneity = [sum((_at(r, u, v) <= limit).astype(np.int32) for u, v in neighbours) for r in roughness]
    score = [sum(_at(h, u, v) for u, v in window) for h in homogeneity]
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


def demosaic_markesteijn(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic an X-Trans mosaic, Markesteijn one-pass style, compiled.

    Same algorithm, borders and floats as :func:`demosaic_markesteijn_numpy`, computed by a numba kernel
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
    rows = _markesteijn_rows(mosaic, cfa)
    return rows(0, rows.shape[0], threads=None)


def _markesteijn_rows(mosaic: np.ndarray, cfa: np.ndarray) -> RowsDemosaic:
    from lumatune.stages import _demosaic_kernels

    mosaic = _as_mosaic(mosaic)
    tables = _xtrans_tables(cfa)
    cfa = _as_cfa(cfa)
    args = (pad_mirrored_mosaic(mosaic, cfa, MARKESTEIJN_MARGIN), cfa, tables.green_offsets, tables.green_weights,
            tables.colour_offsets, tables.colour_weights, tables.colour_counts, MARKESTEIJN_DIRECTIONS,
            MARKESTEIJN_MARGIN, GREEN_REACH)
    return RowsDemosaic(_demosaic_kernels.markesteijn_tiles, args, mosaic.shape, _demosaic_kernels.MARKESTEIJN_TILE, 6)


DEMOSAIC_METHODS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "bilinear": demosaic_bilinear,
    "menon2007": demosaic_menon2007,
    "menon2007_clamped": demosaic_menon2007_clamped,
    "markesteijn": demosaic_markesteijn,
}
"""Demosaic methods by name; each takes ``(mosaic, cfa)`` and returns float32 H x W x 3."""

DEFAULT_METHODS: dict[tuple[int, int], str] = {(2, 2): "menon2007_clamped", (6, 6): "markesteijn"}
"""What ``method="default"`` means for each CFA shape (Bayer, X-Trans)."""


def demosaic(mosaic: np.ndarray, cfa: np.ndarray, method: str = "default") -> np.ndarray:
    """Rebuild full RGB from a CFA mosaic with the named method.

    Parameters
    ----------
    mosaic
        Float32 H x W mosaic, black-subtracted, normalised and white-balanced (values may exceed 1; they
        are not clipped).
    cfa
        Channel indices (0=R, 1=G, 2=B) of the 2x2 (Bayer) or 6x6 (X-Trans) pattern, aligned with
        ``mosaic[0, 0]``.
    method
        A key of :data:`DEMOSAIC_METHODS`, or ``"default"``: see :data:`DEFAULT_METHODS`.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    Raises
    ------
    UnsupportedError
        Unknown method, a CFA the method cannot handle (a Bayer method on X-Trans or the reverse), or a
        malformed mosaic or CFA.

    Examples
    --------
    >>> rgb = demosaic(np.full((8, 8), 0.25, np.float32), np.array([[0, 1], [1, 2]]))
    >>> rgb.shape, float(rgb.min()), float(rgb.max())
    ((8, 8, 3), 0.25, 0.25)
    """
    if method == "default":
        method = DEFAULT_METHODS[_as_cfa(cfa).shape]
    if method not in DEMOSAIC_METHODS:
        valid = ", ".join(["default", *DEMOSAIC_METHODS])
        raise UnsupportedError(f"demosaic: unknown method {method!r} (valid methods: {valid})")
    return DEMOSAIC_METHODS[method](mosaic, cfa)


@dataclass(frozen=True)
class RowsDemosaic:
    """:func:`demosaic` made a band of rows at a time, the same floats, on the calling thread alone.

    For a pipeline that develops in bands: every tile reads its margin from the whole mosaic (mirrored at the
    image's own edges, as for the whole image), so a band's rows equal those of the whole image. Made by
    :func:`rows_demosaic`, which does the per-image preparation once (X-Trans: the padded mosaic and its taps).
    Bands must start on a multiple of ``alignment`` (the CFA period).
    """

    kernel: Callable
    args: tuple
    shape: tuple[int, int]
    tile: tuple[int, int]
    alignment: int

    def __call__(self, start: int, stop: int, threads: int | None = 1) -> np.ndarray:
        """Rows ``start:stop`` on ``threads`` threads (None: numba's count)."""
        from lumatune.stages import _demosaic_kernels

        if start % self.alignment:
            raise ValueError(f"demosaic band: start row {start} is not a multiple of the CFA period {self.alignment}")
        rgb = np.empty((stop - start, self.shape[1], 3), dtype=np.float32)
        _demosaic_kernels.run_tiles(self.kernel, (*self.args, rgb), self.shape, self.tile, rows=(start, stop),
                                    threads=threads)
        return rgb


def rows_demosaic(mosaic: np.ndarray, cfa: np.ndarray, method: str) -> RowsDemosaic | None:
    """The banded form of :func:`demosaic` with ``method``, or None for a method that works on the whole image
    only (``bilinear``)."""
    method = DEFAULT_METHODS[_as_cfa(cfa).shape] if method == "default" else method
    if method in ("menon2007", "menon2007_clamped"):
        return _menon2007_rows(mosaic, cfa, clamp_green=method == "menon2007_clamped")
    if method == "markesteijn":
        return _markesteijn_rows(mosaic, cfa)
    return None


@dataclass(frozen=True)
class DemosaicParams:
    """How the mosaic becomes RGB."""

    method: str = param(
        "default",
        choices=("default", *DEMOSAIC_METHODS),
        doc="default: menon2007_clamped for Bayer, markesteijn for X-Trans",
    )


def _plan(params: DemosaicParams, frame: Frame, image: np.ndarray) -> tuple[np.ndarray, str] | None:
    return (frame.raw.cfa, params.method) if frame.raw.is_mosaic else None


def _process(image: np.ndarray, plan: tuple[np.ndarray, str]) -> np.ndarray:
    cfa, method = plan
    return demosaic(image, cfa, method)


STAGE = Stage(
    name="demosaic",
    side="tuning",
    params=DemosaicParams,
    plan=_plan,
    process=_process,
    summary="rebuild full RGB from the CFA mosaic",
)
