"""An independent, per-pixel implementation of the DNG HueSatMap, written from the specification and the SDK.

Test helper: it shares no code with ``lumatune.stages.hue_sat_map`` (HSV comes from :mod:`colorsys`, the
ProPhoto matrix from colour-science, the interpolation is written out index by index), so a test that
compares the two can fail when lumatune's semantics drift.

Semantics, from Adobe DNG Specification 1.6.0.0, chapter 6 "Camera Profiles", tags ProfileHueSatMapDims
(HueDivisions, SaturationDivisions, ValueDivisions) and ProfileHueSatMapData1/2 (entries of (hue shift in
degrees, saturation scale, value scale), value divisions outermost, then hue, then saturation), and the DNG
SDK's ``RefBaselineHueSatMap`` (``dng_reference.cpp``):

- colours are in linear ProPhoto (ROMM) RGB, D50 white, clipped to [0, 1] by the SDK's render before the map;
- HSV with hue in [0, 6); hue is scaled by HueDivisions / 6 and wraps (after the last hue node comes the
  first), saturation by SaturationDivisions - 1, value by ValueDivisions - 1 (index clamped to the last cell);
- the entry is bilinear in (hue, saturation) when ValueDivisions == 1, trilinear otherwise;
- hue += shift * 6 / 360; saturation = min(s * scale, 1); value = min(v * scale, 1); back to RGB.
"""

from __future__ import annotations

import colorsys

import numpy as np


def prophoto_to_xyz_d50() -> np.ndarray:
    """Linear ProPhoto RGB -> XYZ D50 from colour-science's colourspace (ANSI/I3A IT10.7666)."""
    import colour

    return np.asarray(colour.RGB_COLOURSPACES["ProPhoto RGB"].matrix_RGB_to_XYZ, dtype=np.float64)


def _entry(table: np.ndarray, h: float, s: float, v: float) -> np.ndarray:
    """(hue shift, sat scale, value scale) at one HSV point (hue in [0, 6)), as RefBaselineHueSatMap reads it.

    ``table`` is (value divisions, hue divisions, saturation divisions, 3).
    """
    val_divs, hue_divs, sat_divs, _ = table.shape
    h_scaled = h * hue_divs / 6.0 if hue_divs >= 2 else 0.0
    s_scaled = s * (sat_divs - 1)
    h0 = int(h_scaled)
    s0 = min(int(s_scaled), sat_divs - 2)
    h1 = h0 + 1
    if h0 >= hue_divs - 1:  # the last hue cell wraps round to the first node
        h0, h1 = hue_divs - 1, 0
    hf = h_scaled - h0
    sf = s_scaled - s0
    if val_divs < 2:
        layers, weights = [0], [1.0]
    else:
        v_scaled = v * (val_divs - 1)
        v0 = min(int(v_scaled), val_divs - 2)
        vf = v_scaled - v0
        layers, weights = [v0, v0 + 1], [1.0 - vf, vf]
    out = np.zeros(3)
    for layer, w in zip(layers, weights):
        t = table[layer]
        low = (1 - hf) * t[h0, s0] + hf * t[h1, s0]
        high = (1 - hf) * t[h0, s0 + 1] + hf * t[h1, s0 + 1]
        out += w * ((1 - sf) * low + sf * high)
    return out


def hue_sat_map_prophoto(rgb: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Apply a HueSatMap ``table`` to (n, 3) linear ProPhoto RGB in [0, 1], one pixel at a time."""
    table = np.asarray(table, dtype=np.float64)
    out = np.empty((len(rgb), 3))
    for i, (r, g, b) in enumerate(np.asarray(rgb, dtype=np.float64)):
        h1, s, v = colorsys.rgb_to_hsv(r, g, b)  # hue in [0, 1)
        h = 6.0 * h1
        shift, sat_scale, val_scale = _entry(table, h, s, v)
        h = (h + shift * 6.0 / 360.0) % 6.0
        s = min(s * sat_scale, 1.0)
        v = min(v * val_scale, 1.0)
        out[i] = colorsys.hsv_to_rgb(h / 6.0, s, v)
    return out


def hue_sat_map_xyz_d50(xyz_d50: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The same on XYZ D50 colours (via colour-science's ProPhoto matrix)."""
    matrix = prophoto_to_xyz_d50()
    rgb = np.asarray(xyz_d50, dtype=np.float64) @ np.linalg.inv(matrix).T
    return hue_sat_map_prophoto(rgb, table) @ matrix.T


def random_table(rng: np.random.Generator, hues: int, sats: int, vals: int = 1, *, max_shift=30.0,
                 sat_range=(0.7, 1.3), val_range=(0.8, 1.2)) -> np.ndarray:
    """A random (vals, hues, sats, 3) table: hue shifts in degrees, saturation and value scales."""
    shape = (vals, hues, sats)
    return np.stack(
        [rng.uniform(-max_shift, max_shift, shape), rng.uniform(*sat_range, shape), rng.uniform(*val_range, shape)],
        axis=-1,
    )
