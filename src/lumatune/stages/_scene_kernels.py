"""Fast per-pixel kernels for the RGB stages (numba, both cores, in place, float32).

Each kernel has a plain numpy twin in its stage file; tests/stages/test_scene_kernels.py checks that they agree.
They overwrite their input: the pipeline never reads an image again after handing it to the next stage.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["desaturate_clipped_inplace", "apply_matrix_inplace"]


@njit(parallel=True, nogil=True, cache=True, fastmath=True)
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


@njit(parallel=True, nogil=True, cache=True, fastmath=True)
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


@njit(cache=True, fastmath=True)
def _hsv(r, g, b):
    v = max(r, max(g, b))
    span = v - min(r, min(g, b))
    if span <= 0.0:
        return 0.0, 0.0, v
    if v == r:
        h = (g - b) / span
    elif v == g:
        h = 2.0 + (b - r) / span
    else:
        h = 4.0 + (r - g) / span
    if h < 0.0:
        h += 6.0
    return h, span / v, v


@njit(cache=True, fastmath=True)
def _rgb(h, s, v):
    h = h % 6.0
    sector = int(h) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    if sector == 0:
        return v, t, p
    if sector == 1:
        return q, v, p
    if sector == 2:
        return p, v, t
    if sector == 3:
        return p, q, v
    if sector == 4:
        return t, p, v
    return v, p, q


@njit(parallel=True, nogil=True, cache=True, fastmath=True)
def _hue_sat_map(rgb, to_prophoto, from_prophoto, table):
    hues, sats = table.shape[0], table.shape[1]
    for i in prange(rgb.shape[0]):
        for j in range(rgb.shape[1]):
            x, y, z = rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2]
            p = np.empty(3)
            n = np.empty(3)
            for c in range(3):
                value = to_prophoto[c, 0] * x + to_prophoto[c, 1] * y + to_prophoto[c, 2] * z
                n[c] = min(value, 0.0)  # channels below zero pass unchanged, as in the DNG SDK
                p[c] = value - n[c]
            h, s, v = _hsv(p[0], p[1], p[2])
            hue = h * hues / 6.0
            h0 = int(np.floor(hue)) % hues
            h1 = (h0 + 1) % hues
            fh = hue - np.floor(hue)
            sat = min(max(s, 0.0), 1.0) * (sats - 1)
            s0 = min(int(np.floor(sat)), sats - 2)
            fs = sat - s0
            entry = np.empty(3)
            for k in range(3):
                low = table[h0, s0, k] * (1 - fs) + table[h0, s0 + 1, k] * fs
                high = table[h1, s0, k] * (1 - fs) + table[h1, s0 + 1, k] * fs
                entry[k] = low * (1 - fh) + high * fh
            r2, g2, b2 = _rgb(h + entry[0] * 6.0 / 360.0, min(s * entry[1], 1.0), v * entry[2])
            r2, g2, b2 = r2 + n[0], g2 + n[1], b2 + n[2]
            for c in range(3):
                rgb[i, j, c] = from_prophoto[c, 0] * r2 + from_prophoto[c, 1] * g2 + from_prophoto[c, 2] * b2
    return rgb


def hue_sat_map_inplace(rgb: np.ndarray, to_prophoto: np.ndarray, from_prophoto: np.ndarray, table: np.ndarray):
    """In-place twin of :func:`lumatune.stages.hue_sat_map.apply_hue_sat_map` on linear RGB (one value division)."""
    return _hue_sat_map(rgb, to_prophoto.astype(np.float64), from_prophoto.astype(np.float64), table.astype(np.float64))
