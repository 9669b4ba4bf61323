"""Fast per-pixel kernels for the RGB stages (numba, both cores, in place, float32).

Each kernel has a plain numpy twin in its stage file; tests/stages/test_scene_kernels.py checks that they agree.
They overwrite their input: the pipeline never reads an image again after handing it to the next stage.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["desaturate_clipped_inplace", "apply_matrix_inplace"]


@njit(parallel=True, cache=True, fastmath=True)
def _desaturate(rgb, clip, start):
    height, width = rgb.shape[0], rgb.shape[1]
    c0, c1, c2 = clip[0], clip[1], clip[2]
    low = min(c0, min(c1, c2))
    span = 1.0 - start
    for i in prange(height):
        for j in range(width):
            r, g, b = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            saturation = max(r / c0, max(g / c1, b / c2))
            if saturation < start:
                continue
            r, g, b = min(r, c0), min(g, c1), min(b, c2)
            if span <= 0.0:
                if saturation >= 1.0:
                    r = g = b = low
            else:
                t = min((saturation - start) / span, 1.0)
                w = t * t * (3.0 - 2.0 * t)
                grey = max(r, max(g, b))
                r, g, b = r + w * (grey - r), g + w * (grey - g), b + w * (grey - b)
            rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2] = r, g, b
    return rgb


def desaturate_clipped_inplace(rgb: np.ndarray, clip: np.ndarray, start: float) -> np.ndarray:
    """In-place twin of :func:`lumatune.stages.highlights.desaturate_clipped`."""
    return _desaturate(rgb, clip.astype(np.float32), np.float32(start))


@njit(parallel=True, cache=True, fastmath=True)
def _matrix(rgb, m):
    height, width = rgb.shape[0], rgb.shape[1]
    for i in prange(height):
        for j in range(width):
            r, g, b = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            rgb[i, j, 0] = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
            rgb[i, j, 1] = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            rgb[i, j, 2] = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
    return rgb


def apply_matrix_inplace(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """In-place twin of :func:`lumatune.stages.colour_matrix.apply_matrix`."""
    return _matrix(rgb, matrix.astype(np.float32))
