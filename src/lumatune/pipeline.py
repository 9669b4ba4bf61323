"""The pipeline: one order table, and ``run()`` which develops a raw through it.

Hard rules (checked by tests/test_pipeline.py): raw-domain stages come before demosaic; the colour matrix
comes before the tone/display transform; tone is the last scene -> display stage, and only display-domain
stages (sharpen, grain, vignette, crop, frame) follow it.

References
----------
darktable ``src/common/iop_order.c`` (one versioned order table with the reason beside each entry).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lumatune.stages import (
    colour_matrix,
    crop,
    demosaic,
    denoise,
    exposure,
    frame,
    grain,
    highlights,
    hue_sat_map,
    lens_shading,
    levels,
    linearise,
    look_colour,
    lut,
    mono,
    sharpen,
    tone,
    vignette,
    white_balance,
)
from lumatune.stages.base import Frame, Stage

__all__ = ["ORDER", "STAGES", "OrderEntry", "run", "stages_of_side", "orient"]


@dataclass(frozen=True)
class OrderEntry:
    stage: Stage
    domain: str  # "raw" (mosaic, camera RGB), "scene" (linear working space) or "display" (encoded)
    why: str


ORDER: tuple[OrderEntry, ...] = (
    OrderEntry(linearise.STAGE, "raw", "stored values must be linear before any arithmetic on them"),
    OrderEntry(levels.STAGE, "raw", "black subtraction is only valid on linear data; 0..1 scale for all after"),
    OrderEntry(lens_shading.STAGE, "raw", "gain maps are defined on the linearised, black-subtracted mosaic"),
    OrderEntry(white_balance.STAGE, "raw", "demosaicing works best on balanced channels (fewer colour artefacts)"),
    OrderEntry(denoise.STAGE, "raw", "noise is still per pixel and follows the sensor's model; demosaic would spread it"),
    OrderEntry(demosaic.STAGE, "raw", "needs the balanced mosaic; everything after works on full RGB"),
    OrderEntry(highlights.STAGE, "raw", "clipping is defined per camera channel, so fix it before the matrix mixes them"),
    OrderEntry(colour_matrix.STAGE, "scene", "camera RGB -> linear Rec.2020: every look stage works in one space"),
    OrderEntry(hue_sat_map.STAGE, "scene", "the calibration's non-linear colour fix belongs right after its matrix"),
    OrderEntry(exposure.STAGE, "scene", "a linear gain on scene-referred data, before any non-linear step"),
    OrderEntry(look_colour.STAGE, "scene", "saturation and hue edits act on scene colours, before tone compresses them"),
    OrderEntry(lut.STAGE, "scene", "a table grades the scene (or its colorimetric rendering) before the tone curve"),
    OrderEntry(mono.STAGE, "scene", "black and white from the graded colours; the tone curve then shapes the greys"),
    OrderEntry(tone.STAGE, "display", "the look's display transform: tone curve, gamut, OETF; display stages follow"),
    OrderEntry(sharpen.STAGE, "display", "sharpening taste acts on what is seen: display-encoded luma"),
    OrderEntry(grain.STAGE, "display", "grain sits on top of the finished tones and is not sharpened"),
    OrderEntry(vignette.STAGE, "display", "an artistic darkening of the finished picture's corners"),
    OrderEntry(crop.STAGE, "display", "framing: a view of the finished picture"),
    OrderEntry(frame.STAGE, "display", "border and caption go around the cropped picture; encode follows"),
)

STAGES: dict[str, Stage] = {entry.stage.name: entry.stage for entry in ORDER}


def stages_of_side(side: str) -> dict[str, Stage]:
    """The stages whose blocks live in a tuning file ("tuning") or a look file ("look")."""
    return {name: stage for name, stage in STAGES.items() if stage.side == side}


def orient(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Rotate by counter-clockwise quarter turns so that the image is upright."""
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns)) if quarter_turns % 4 else image


def run(frame: Frame, tuning, look, *, profile: dict | None = None) -> np.ndarray:
    """Develop ``frame.raw`` through every enabled stage; returns the display-encoded, upright float32 image.

    Parameters
    ----------
    frame : the raw and the output options; stages write their status into it.
    tuning, look : :class:`~lumatune.tuning.Tuning` and :class:`~lumatune.look.Look`.
    profile : if given, filled with milliseconds per stage.
    """
    params = {**tuning.blocks.params, **look.blocks.params}
    disabled = tuning.blocks.disabled | look.blocks.disabled
    image = frame.raw.data
    for entry in ORDER:
        stage = entry.stage
        if stage.name in disabled:
            continue
        start = time.perf_counter()
        stage_params = params.get(stage.name) or stage.params()
        plan = stage.plan(stage_params, frame, image)
        if plan is not None:
            image = stage.process(image, plan)
        if profile is not None:
            profile[stage.name] = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    image = orient(image, frame.raw.orientation_turns)
    if profile is not None:
        profile["orient"] = (time.perf_counter() - start) * 1e3
    return image
