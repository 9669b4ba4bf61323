"""Checks, CFA planes and mirrored padding shared by the demosaic methods.

Borders: the image is treated as mirror-reflected about its first and last rows and columns (numpy's
``reflect``; for X-Trans, which is not mirror-symmetric, each pad pixel snaps to the nearest pixel of
the colour the CFA period asks for, see :func:`pad_mirrored_mosaic`), so borders are neither dark nor NaN.
"""

from __future__ import annotations

import numpy as np

from lumatune.errors import UnsupportedError

__all__ = [
    "BLUE",
    "GREEN",
    "RED",
    "as_cfa",
    "as_mosaic",
    "at",
    "cfa_plane",
    "pad_mirrored_mosaic",
    "reflect_index",
    "require_bayer",
]

RED, GREEN, BLUE = 0, 1, 2


def as_mosaic(mosaic: np.ndarray) -> np.ndarray:
    """Return ``mosaic`` as a 2-D float32 array, or raise UnsupportedError."""
    mosaic = np.asarray(mosaic, dtype=np.float32)
    if mosaic.ndim != 2 or min(mosaic.shape) < 2:
        raise UnsupportedError(f"demosaic: mosaic must be 2-D and at least 2x2, got shape {mosaic.shape}")
    return mosaic


def as_cfa(cfa: np.ndarray) -> np.ndarray:
    """Return ``cfa`` as an int array of shape (2, 2) or (6, 6) holding 0, 1 and 2, or raise."""
    cfa = np.asarray(cfa)
    if cfa.shape not in ((2, 2), (6, 6)):
        raise UnsupportedError(f"demosaic: CFA must be 2x2 (Bayer) or 6x6 (X-Trans), got shape {cfa.shape}")
    if not np.issubdtype(cfa.dtype, np.integer) or set(np.unique(cfa)) != {RED, GREEN, BLUE}:
        raise UnsupportedError(f"demosaic: CFA must hold 0=R, 1=G, 2=B each at least once, got {cfa.tolist()}")
    return cfa.astype(np.int64)


def require_bayer(cfa: np.ndarray, method: str) -> np.ndarray:
    """Return ``cfa`` if it is a Bayer pattern (greens on one diagonal), else raise UnsupportedError."""
    cfa = as_cfa(cfa)
    bayer = cfa.shape == (2, 2) and (
        (cfa[0, 0] == cfa[1, 1] == GREEN) or (cfa[0, 1] == cfa[1, 0] == GREEN)
    )
    if not bayer:
        raise UnsupportedError(
            f"demosaic: method {method!r} needs a 2x2 Bayer CFA (greens on a diagonal), got {cfa.tolist()}"
        )
    return cfa


def cfa_plane(cfa: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return the channel index of every pixel of an image of ``shape`` under ``cfa`` (phase at (0, 0))."""
    reps = (-(-shape[0] // cfa.shape[0]), -(-shape[1] // cfa.shape[1]))
    return np.tile(cfa, reps)[: shape[0], : shape[1]]


def at(plane: np.ndarray, di: int, dj: int) -> np.ndarray:
    """Return ``plane`` shifted so that element ``[i, j]`` holds ``plane[i + di, j + dj]`` (wrapping).

    Used on reflect-padded planes only: what wraps around lands in the margin that is cropped away.
    """
    return np.roll(plane, (-di, -dj), axis=(0, 1))


def reflect_index(index: np.ndarray, n: int) -> np.ndarray:
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
    src_rows, src_cols = reflect_index(rows - margin, height), reflect_index(cols - margin, width)
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
