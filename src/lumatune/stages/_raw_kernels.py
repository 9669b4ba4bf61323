"""Fast kernels for the mosaic stages (numba, both cores, float32); plain twins live in the stage files."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["affine_per_position_fast"]


@njit(parallel=True, cache=True, fastmath=True)
def _affine(data, offset, scale, out):
    n = offset.shape[0]
    for i in prange(data.shape[0]):
        oi = i % n
        for j in range(data.shape[1]):
            oj = j % n
            out[i, j] = (np.float32(data[i, j]) - offset[oi, oj]) * scale[oi, oj]
    return out


def affine_per_position_fast(mosaic: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Twin of :func:`lumatune.stages._cfa.affine_per_position` in one parallel pass."""
    out = np.empty(mosaic.shape, dtype=np.float32)
    return _affine(mosaic, offset.astype(np.float32), scale.astype(np.float32), out)
