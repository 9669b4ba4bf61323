"""Helpers for per-CFA-position arithmetic on a mosaic (Bayer 2x2 or X-Trans 6x6), without tiling copies."""

from __future__ import annotations

import numpy as np

__all__ = ["affine_per_position", "channel_values_per_position"]


def affine_per_position(mosaic: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(mosaic - offset[p]) * scale[p]`` for each CFA position p of an n x n pattern, as float32.

    Parameters
    ----------
    mosaic : (H, W) array of any numeric type.
    offset, scale : (n, n) arrays, one value per position of the repeating pattern.
    """
    out = np.empty(mosaic.shape, dtype=np.float32)
    n = offset.shape[0]
    for i in range(n):
        for j in range(n):
            view = out[i::n, j::n]
            np.subtract(mosaic[i::n, j::n], np.float32(offset[i, j]), out=view, casting="unsafe")
            view *= np.float32(scale[i, j])
    return out


def channel_values_per_position(cfa: np.ndarray, per_channel: np.ndarray) -> np.ndarray:
    """An (n, n) table holding ``per_channel[cfa[p]]`` for each CFA position p."""
    return np.asarray(per_channel, dtype=np.float32)[cfa]
