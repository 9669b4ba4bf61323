"""Per-CFA-position arithmetic on a mosaic (Bayer 2x2 or X-Trans 6x6), without tiling copies; shared by the
levels and white balance stages."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["affine_per_position", "affine_per_position_fast", "channel_values_per_position"]


def affine_per_position(mosaic: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(mosaic - offset[p]) * scale[p]`` for each CFA position p of an n x n pattern, as float32.

    Parameters
    ----------
    mosaic : (H, W) array of any numeric type.
    offset, scale : (n, n) arrays, one value per position of the repeating pattern.
    """
    out = np.empty(mosaic.shape, dtype=np.float32)
    if np.ptp(offset) == 0 and np.ptp(scale) == 0:  # one value for every position (most raws): contiguous, 3x faster
        np.subtract(mosaic, np.float32(offset.flat[0]), out=out, casting="unsafe")
        out *= np.float32(scale.flat[0])
        return out
    n = offset.shape[0]
    for i in range(n):
        for j in range(n):
            view = out[i::n, j::n]
            np.subtract(mosaic[i::n, j::n], np.float32(offset[i, j]), out=view, casting="unsafe")
            view *= np.float32(scale[i, j])
    return out


def affine_per_position_fast(
    mosaic: np.ndarray, offset: np.ndarray, scale: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`affine_per_position` in one parallel pass, the same floats; ``out`` may be ``mosaic``."""
    out = np.empty(mosaic.shape, dtype=np.float32) if out is None else out
    width = mosaic.shape[1]
    return _affine(mosaic, _full_rows(offset, width), _full_rows(scale, width), out)


def _full_rows(per_position: np.ndarray, width: int) -> np.ndarray:
    """The (n, n) per-position values repeated along a row: (n, width) float32."""
    n = per_position.shape[1]
    return np.ascontiguousarray(np.tile(per_position.astype(np.float32), (1, -(-width // n)))[:, :width])


@njit(parallel=True, nogil=True, cache=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _affine(data, offset_rows, scale_rows, out):
    n = offset_rows.shape[0]
    for i in prange(data.shape[0]):
        offset, scale, source, target = offset_rows[i % n], scale_rows[i % n], data[i], out[i]
        for j in range(source.shape[0]):
            target[j] = (np.float32(source[j]) - offset[j]) * scale[j]
    return out


def channel_values_per_position(cfa: np.ndarray, per_channel: np.ndarray) -> np.ndarray:
    """An (n, n) table holding ``per_channel[cfa[p]]`` for each CFA position p."""
    return np.asarray(per_channel, dtype=np.float32)[cfa]
