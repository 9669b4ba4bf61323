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

from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["HighlightsParams", "desaturate_clipped", "STAGE"]


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


def _process(rgb: np.ndarray, plan: HighlightsPlan) -> np.ndarray:
    from lumatune.stages._scene_kernels import desaturate_clipped_inplace

    return desaturate_clipped_inplace(rgb, plan.clip, plan.start)


def _plan(params: HighlightsParams, frame: Frame, image: np.ndarray) -> HighlightsPlan:
    clip = frame.white_balance.gains if frame.white_balance else np.ones(3)
    start = 1.0 if params.method == "clip" else params.threshold
    return HighlightsPlan(clip=np.asarray(clip, dtype=np.float32), start=start)


STAGE = Stage(
    name="highlights",
    side="tuning",
    params=HighlightsParams,
    plan=_plan,
    process=_process,
    summary="fade clipped highlights to a neutral white",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
