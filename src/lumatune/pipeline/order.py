"""The pipeline's one order table: every stage in the order it runs, with what the walks over it need.

Hard rules (checked by tests/pipeline/test_pipeline.py): raw-domain stages come before demosaic; the colour matrix
comes before the tone/display transform; tone is the last scene -> display stage, and only display-domain
stages (sharpen, grain, vignette, crop, frame) follow it.

References
----------
darktable ``src/common/iop_order.c`` (one versioned order table with the reason beside each entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lumatune.stages.base import Stage
from lumatune.stages.demosaic import rows_demosaic
from lumatune.stages.registry import STAGES

__all__ = ["LOOK_STAGES", "ORDER", "POINTWISE", "SPATIAL", "OrderEntry"]


@dataclass(frozen=True)
class OrderEntry:
    """One place in the order.

    Attributes
    ----------
    stage : the stage.
    domain : "raw" (mosaic, camera RGB), "scene" (linear working space) or "display" (encoded).
    why : the reason for its place.
    pointwise : each output pixel depends on its own input value alone (not on neighbours, position or CFA
        colour): what a 3-D LUT can hold.
    rows : for the stage the banded walk starts at (demosaic), ``rows(image, *plan)`` -> an object that makes
        rows of its output on demand (or None when this plan has no banded form); unset: not such a stage.
    """

    stage: Stage
    domain: str
    why: str
    pointwise: bool = False
    rows: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.stage.name

    def band_margin(self, plan) -> int | None:
        """Rows above and below a band this stage reads for ``plan`` (0: pixel by pixel), or None: no bands."""
        return self.stage.band_margin(plan) if self.stage.band_margin is not None else None

    def band_reach(self, plan, start: int, stop: int) -> tuple[int, int]:
        """Input rows ``first...last - 1`` this stage reads to make its output rows ``start...stop - 1``."""
        if self.stage.band_reach is not None:
            return self.stage.band_reach(plan, start, stop)
        margin = self.band_margin(plan) or 0
        return start - margin, stop + margin


def _entry(name: str, domain: str, why: str, **flags) -> OrderEntry:
    return OrderEntry(STAGES[name], domain, why, **flags)


ORDER: tuple[OrderEntry, ...] = (
    _entry(
        "linearise", "raw", "stored values must be linear before any arithmetic on them (OpcodeList1 acts on them as"
        " read)"
    ),
    _entry("levels", "raw", "black subtraction is only valid on linear data; 0..1 scale for all after"),
    _entry("lens_shading", "raw", "gain maps are defined on the linearised, black-subtracted mosaic"),
    _entry("white_balance", "raw", "demosaicing works best on balanced channels (fewer colour artefacts)"),
    _entry("denoise", "raw", "noise is still per pixel and follows the sensor's model; demosaic would spread it"),
    _entry(
        "lens_ca", "raw", "per-plane lens warps (lateral CA) before the demosaic's colour-difference interpolation"
        " pulls red and blue edges towards green"
    ),
    _entry("demosaic", "raw", "needs the balanced mosaic; everything after works on full RGB", rows=rows_demosaic),
    _entry(
        "highlights", "raw", "clipping is defined per camera channel, so fix it before the matrix mixes them",
        pointwise=True
    ),
    _entry(
        "lens", "raw", "DNG OpcodeList3 acts on the demosaiced camera planes (per-plane warps undo lateral CA only"
        " before the matrix mixes the planes), in linear light"
    ),
    _entry(
        "colour_matrix", "scene", "camera RGB -> linear Rec.2020: every look stage works in one space",
        pointwise=True
    ),
    _entry(
        "hue_sat_map", "scene", "the calibration's non-linear colour fix belongs right after its matrix",
        pointwise=True
    ),
    _entry("exposure", "scene", "a linear gain on scene-referred data, before any non-linear step", pointwise=True),
    _entry(
        "colour", "scene", "saturation and hue edits act on scene colours, before tone compresses them",
        pointwise=True
    ),
    _entry(
        "lut", "scene", "a table grades the scene (or its colorimetric rendering) before the tone curve",
        pointwise=True
    ),
    _entry(
        "mono", "scene", "black and white from the graded colours; the tone curve then shapes the greys",
        pointwise=True
    ),
    _entry(
        "tone", "display", "the look's display transform: tone curve, gamut, OETF; display stages follow",
        pointwise=True
    ),
    _entry("sharpen", "display", "sharpening taste acts on what is seen: display-encoded luma"),
    _entry("grain", "display", "grain sits on top of the finished tones and is not sharpened"),
    _entry("vignette", "display", "an artistic darkening of the finished picture's corners"),
    _entry("crop", "display", "framing: a view of the finished picture"),
    _entry("frame", "display", "border and caption go around the cropped picture; encode follows"),
)

LOOK_STAGES: tuple[str, ...] = tuple(entry.name for entry in ORDER if entry.stage.side == "look")
"""The look's stages, in order."""
POINTWISE: tuple[str, ...] = tuple(entry.name for entry in ORDER if entry.stage.side == "look" and entry.pointwise)
"""The look stages that act on each pixel alone: what a LUT can hold."""
SPATIAL: tuple[str, ...] = tuple(
    entry.name for entry in ORDER if entry.stage.side == "look" and not entry.pointwise and entry.domain == "display"
)
"""The look stages that need neighbours or geometry (display domain)."""
