"""The stage registry: every stage by name (its block in the tuning or look file), and the stages of each side.

The schema loaders (:mod:`lumatune.config.look`, :mod:`lumatune.config.tuning`) read the files against this
registry; the order the stages run in is :data:`lumatune.pipeline.ORDER`'s, not this one's (a test checks both
hold the same names).
"""

from __future__ import annotations

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
    lens,
    lens_ca,
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
from lumatune.stages.base import Stage

__all__ = ["STAGES", "stages_of_side"]

STAGES: dict[str, Stage] = {
    module.STAGE.name: module.STAGE
    for module in (
        colour_matrix, crop, demosaic, denoise, exposure, frame, grain, highlights, hue_sat_map, lens, lens_ca,
        lens_shading, levels, linearise, look_colour, lut, mono, sharpen, tone, vignette, white_balance,
    )  # alphabetical: the registry says which stages exist; their order is the pipeline's
}
"""Stage name -> :class:`~lumatune.stages.base.Stage` (a mapping: which stages exist, not their order)."""


def stages_of_side(side: str) -> dict[str, Stage]:
    """The stages whose blocks live in a tuning file ("tuning") or a look file ("look")."""
    return {name: stage for name, stage in STAGES.items() if stage.side == side}
