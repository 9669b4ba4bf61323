"""Fast kernels for the mosaic stages (numba, both cores, float32); plain twins live in the stage files."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["affine_per_position_fast", "start_probe"]


@njit(cache=True)
def start_probe(x):
    """The cheapest compiled call: loading it makes numba fill its registries (:mod:`lumatune.runtime.numba`)."""
    return x + 1


@njit(parallel=True, nogil=True, cache=True)
def _affine(data, offset_rows, scale_rows, out):  # no fast-math: the same floats as the numpy twin, bit for bit
    n = offset_rows.shape[0]
    for i in prange(data.shape[0]):
        offset, scale, source, target = offset_rows[i % n], scale_rows[i % n], data[i], out[i]
        for j in range(source.shape[0]):
            target[j] = (np.float32(source[j]) - offset[j]) * scale[j]
    return out


def _full_rows(per_position: np.ndarray, width: int) -> np.ndarray:
    """The (n, n) per-position values repeated along a row: (n, width) float32."""
    n = per_position.shape[1]
    return np.ascontiguousarray(np.tile(per_position.astype(np.float32), (1, -(-width // n)))[:, :width])


def affine_per_position_fast(
    mosaic: np.ndarray, offset: np.ndarray, scale: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Twin of :func:`lumatune.stages._cfa.affine_per_position` in one parallel pass; ``out`` may be ``mosaic``."""
    out = np.empty(mosaic.shape, dtype=np.float32) if out is None else out
    width = mosaic.shape[1]
    return _affine(mosaic, _full_rows(offset, width), _full_rows(scale, width), out)
