"""Linear ProPhoto (ROMM) RGB and the HSV the DNG SDK's hue/saturation maps are indexed by.

References
----------
- ANSI/I3A IT10.7666:2003, *Reference Output Medium Metric RGB Colour Space (ROMM RGB)*: primaries, D50 white.
- Adobe, *Digital Negative (DNG) Specification* 1.6.0.0, ProfileHueSatMapData (chapter 6); the DNG SDK's
  ``dng_reference.cpp`` ``RefBaselineHueSatMap`` (hue in [0, 6), computed in linear ProPhoto).
"""

from __future__ import annotations

import numpy as np

from lumatune.colour.spaces import XY_D50, normalised_primary_matrix

__all__ = ["MATRIX_PROPHOTO_TO_XYZ_D50", "hsv_to_rgb", "rgb_to_hsv"]

MATRIX_PROPHOTO_TO_XYZ_D50 = normalised_primary_matrix(
    np.array([[0.7347, 0.2653], [0.1596, 0.8404], [0.0366, 0.0001]]), XY_D50
)
"""Linear ProPhoto (ROMM) RGB -> XYZ D50 (ANSI/I3A IT10.7666)."""



def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """HSV of non-negative RGB, hue in [0, 6) (the DNG SDK's convention), last axis."""
    rgb = np.maximum(np.asarray(rgb, dtype=np.float64), 0.0)
    r, g, b = np.moveaxis(rgb, -1, 0)
    v = rgb.max(axis=-1)
    span = v - rgb.min(axis=-1)
    s = np.where(v > 0, span / np.where(v > 0, v, 1), 0.0)
    safe = np.where(span > 0, span, 1)
    h = np.where(v == r, (g - b) / safe, np.where(v == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h = np.where(span > 0, h % 6, 0.0)
    return np.stack([h, s, v], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """RGB of HSV with hue in [0, 6), last axis."""
    h, s, v = np.moveaxis(np.asarray(hsv, dtype=np.float64), -1, 0)
    h = h % 6
    sector = np.floor(h).astype(int) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape + (3,))
    for k, channels in enumerate(choices):
        mask = sector == k
        for c in range(3):
            out[..., c] = np.where(mask, channels[c], out[..., c])
    return out
