"""Highlights: pixels where the sensor saturated go smoothly to a neutral white, never magenta.

After white balance a saturated sensor pixel reads ``gains[c]`` in channel c (the normalised sensor clips at
1), so a clipped white becomes pink or magenta if nothing is done. This stage runs on white-balanced camera
RGB right after demosaicing, where clipping is still defined per channel (as darktable's and RawTherapee's
highlight modules run before the colour matrix). Each pixel's saturation ``s = max_c(x_c / gains_c)`` drives
a smooth blend from the pixel to a neutral grey as bright as its brightest channel.

References
----------
- D. Coffin, dcraw ``highlight`` modes 0 (clip) and 2 (blend), 1997-2018.
- darktable ``src/iop/highlights.c`` ("clip highlights" mode).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.stages._jit import FASTMATH
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["HighlightsParams", "desaturate_clipped", "desaturate_clipped_fast", "STAGE"]


@dataclass(frozen=True)
class HighlightsParams:
    """How clipped highlights are handled."""

    method: str = param("blend", choices=("blend", "clip"), doc="blend: fade to white near clipping; clip: hard")
    threshold: float = param(0.97, min=0.5, max=1.0, doc="fraction of saturation where the fade to white starts")


@dataclass(frozen=True)
class HighlightsPlan:
    clip: np.ndarray  # (3,) value of each channel at sensor saturation
    start: float  # saturation fraction where the blend starts (1.0 for a hard clip)


def desaturate_clipped(rgb: np.ndarray, plan: HighlightsPlan) -> np.ndarray:
    """Blend pixels towards neutral as any channel approaches its clip level; clip to the common white."""
    clip = plan.clip.astype(np.float32)
    saturation = np.max(rgb / clip, axis=-1)
    limited = np.minimum(rgb, clip)
    if plan.start >= 1.0:
        return np.where((saturation >= 1.0)[..., None], np.float32(clip.min()), limited).astype(np.float32)
    t = np.clip((saturation - plan.start) / (1.0 - plan.start), 0.0, 1.0)
    weight = (t * t * (3 - 2 * t))[..., None]  # smoothstep
    grey = np.max(limited, axis=-1, keepdims=True)
    return (limited + weight * (grey - limited)).astype(np.float32)


def desaturate_clipped_fast(rgb: np.ndarray, plan: HighlightsPlan) -> np.ndarray:
    """:func:`desaturate_clipped` in one parallel pass, in place on a C-ordered float32 H x W x 3 image."""
    return _desaturate(rgb, plan.clip.astype(np.float32), np.float32(plan.start))


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
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


def _plan(params: HighlightsParams, frame: Frame, image: np.ndarray) -> HighlightsPlan:
    clip = frame.white_balance.gains if frame.white_balance else np.ones(3)
    start = 1.0 if params.method == "clip" else params.threshold
    return HighlightsPlan(clip=np.asarray(clip, dtype=np.float32), start=start)


STAGE = Stage(
    name="highlights",
    side="tuning",
    params=HighlightsParams,
    plan=_plan,
    process=desaturate_clipped_fast,
    summary="fade clipped highlights to a neutral white",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
