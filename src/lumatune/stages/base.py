"""What every stage is: a name (its block in the tuning or look file), a params dataclass, a plan and a process.

A stage turns params plus the frame context into a small plan once (matrices, gains, curves), then
``process(image, plan)`` reads only the plan, as darktable's ``commit_params`` -> ``process`` does. Stages
talk through the typed :class:`Frame`, never through a dict of strings (libcamera's ``*_status.h``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from lumatune.raw.image import RawImage

__all__ = ["Stage", "Frame", "WhiteBalanceStatus", "ColourStatus", "kernels_always_ready"]


@dataclass(frozen=True)
class WhiteBalanceStatus:
    """What the white balance stage decided.

    Attributes
    ----------
    camera_neutral : camera RGB of the scene white, green = 1.
    gains : multipliers applied per channel (1 / neutral, scaled so the smallest is 1); after them, channel c
        of a saturated sensor pixel reads ``gains[c]`` (the normalised sensor clips at 1).
    source : "as_shot", "daylight", "auto" or "manual".
    cct : correlated colour temperature of the white in kelvin, when a DNG colour model gives one, else None.
    """

    camera_neutral: np.ndarray
    gains: np.ndarray
    source: str
    cct: float | None = None


@dataclass(frozen=True)
class ColourStatus:
    """What the colour matrix stage used: white-balanced camera RGB -> linear Rec.2020 (D65), and why."""

    matrix: np.ndarray
    source: str
    cct: float | None = None


def kernels_always_ready() -> bool:
    """The default of :attr:`Frame.kernels_ready`: no compiler is starting in the background."""
    return True


@dataclass
class Frame:
    """The context one development shares between stages: the raw's metadata and each stage's status.

    ``output_space`` is "srgb", "p3" or "rec2020"; ``user_ev`` is the exposure change asked on the command line.
    ``scene_clip`` is the scene-referred value (linear, white-balanced white = 1 before exposure) at which the
    sensor saturates; the exposure stage scales it, the tone stage may map it to display white.
    ``kernels_ready`` says whether compiled kernels can run now without waiting for the compiler to start (the
    caller that starts it in the background says so); a stage with an exact plain twin runs that meanwhile.
    """

    raw: RawImage
    output_space: str = "srgb"
    user_ev: float = 0.0
    scene_clip: float = 1.0
    white_balance: WhiteBalanceStatus | None = None
    colour: ColourStatus | None = None
    notes: list[str] = field(default_factory=list)
    lateral_ca_on_mosaic: bool = False  # lens_ca moved red and blue onto green's geometry before demosaicing
    kernels_ready: Callable[[], bool] = kernels_always_ready


@dataclass(frozen=True)
class Stage:
    """One pipeline stage.

    Attributes
    ----------
    name : the stage's block name in the tuning or look file.
    side : "tuning" (camera data) or "look" (aesthetic data).
    params : the frozen params dataclass.
    plan : ``plan(params, frame, image) -> plan`` computed once per image; ``None`` means "nothing to do".
    process : ``process(image, plan) -> image``, pure.
    required : the pipeline cannot run without it (it changes the image's type or encoding), so a tuning or
        look may tune it but not switch it off.
    band_margin : for a stage after the demosaic, ``band_margin(plan)`` is how many rows above and below a band
        of rows it reads to make that band exactly as in the whole image (0: pixel by pixel), or None when it
        cannot work on bands (it depends on the whole frame); unset: never.
    band_reach : ``band_reach(plan, start, stop) -> (first, last)``: the input rows it reads to make output rows
        start..stop-1 exactly as in the whole image, for a stage whose reach varies along the image (the lens
        warp); unset: ``band_margin`` rows on either side.
    process_band : ``process_band(rows, plan, first_row)`` for a stage whose result depends on where the rows
        are (vignette, grain): ``rows`` are the whole image's rows from ``first_row`` on; unset: ``process``.
    reads : the name of another stage whose block switches this one too (lens_ca obeys the lens block): the plan
        is then ``plan(params, frame, image, other)``, ``other`` that stage's params (its defaults without a
        block) or None when that stage is switched off; unset: ``plan(params, frame, image)``.
    """

    name: str
    side: str
    params: type
    plan: Callable[[Any, Frame, np.ndarray], Any]
    process: Callable[[np.ndarray, Any], np.ndarray]
    summary: str
    required: bool = False
    band_margin: Callable[[Any], int | None] | None = None
    process_band: Callable[[np.ndarray, Any, int], np.ndarray] | None = None
    band_reach: Callable[[Any, int, int], tuple[int, int]] | None = None
    reads: str = ""
