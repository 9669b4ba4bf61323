"""Exposure: scale the scene-referred image by the raw's BaselineExposure, the look's and the user's EV.

References
----------
Adobe DNG Specification 1.6.0.0, tag BaselineExposure (50730): "the amount by which the zero point should be
moved", in EV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["ExposureParams", "scale_exposure", "STAGE"]


@dataclass(frozen=True)
class ExposureParams:
    """Exposure change of the look."""

    ev: float = param(0.0, min=-10.0, max=10.0, unit="EV", doc="exposure change of the look")
    use_baseline: bool = param(True, doc="apply the raw's BaselineExposure (DNG)")


def scale_exposure(image: np.ndarray, gain: float) -> np.ndarray:
    """Multiply by a linear gain (in place: the pipeline never reads a stage's input again)."""
    image *= np.float32(gain)
    return image


def _plan(params: ExposureParams, frame: Frame, image: np.ndarray) -> float | None:
    baseline = frame.raw.dng.baseline_exposure if (params.use_baseline and frame.raw.dng) else 0.0
    ev = baseline + params.ev + frame.user_ev
    frame.scene_clip *= 2.0**ev
    return None if ev == 0 else float(2.0**ev)


STAGE = Stage(
    name="exposure",
    side="look",
    params=ExposureParams,
    plan=_plan,
    process=scale_exposure,
    summary="scale by BaselineExposure and the look's and user's EV",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
