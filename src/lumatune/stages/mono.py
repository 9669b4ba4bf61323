"""Mono: black and white by a channel mix or a coloured filter over the lens, then an optional tone (tint).

Works on scene-referred linear Rec.2020, after the look's colour and LUT and before the tone curve, so the
curve shapes the grey scale as it would a colour image. The grey is ``Y' = w . rgb`` with weights summing to
1 (a neutral grey keeps its value). A coloured filter's weights are the Rec.2020 luminance weights times the
filter's transmittance on each primary, renormalised: a red filter darkens blue skies and lightens skin, a
green one lightens foliage. The transmittances are approximations read off the published curves of the
classic black-and-white contrast filters, not measurements.

Toning multiplies the grey by one colour of luminance 1, chosen by an Oklab hue and a chroma relative to
lightness: since Oklab scales with the pixel, the tint keeps its hue and strength at every level (sepia,
selenium, cyanotype-like tones).

References
----------
-   darktable ``src/iop/channelmixerrgb.c`` and its black-and-white film and filter presets (PR #1948).
-   A. Adams, "The Negative", 1981, chapter 1 (the effect of contrast filters on black-and-white renderings).
-   B. Ottosson, "A perceptual color space for image processing", 2020 (Oklab, for the tint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.oklab import oklab_to_rgb
from lumatune.colour.spaces import MATRIX_REC2020_TO_XYZ
from lumatune.stages.params import param
from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage

__all__ = ["FILTERS", "STAGE", "MonoParams", "MonoPlan", "mono_weights", "tint_colour", "to_mono", "to_mono_fast"]

FILTERS: dict[str, tuple[float, float, float]] = {
    "none": (1.0, 1.0, 1.0),
    "yellow": (1.0, 0.85, 0.2),
    "orange": (1.0, 0.45, 0.03),
    "red": (1.0, 0.08, 0.01),
    "green": (0.35, 1.0, 0.25),
    "blue": (0.05, 0.25, 1.0),
}
"""Approximate transmittance of each filter on the Rec.2020 red, green and blue primaries."""


@dataclass(frozen=True)
class MonoParams:
    """Black and white: the filter or channel mix, and an optional tint."""

    filter: str = param(
        "off", choices=("off", *FILTERS, "mix"), doc="off: colour; none: luminance; a filter colour; mix: `mix`"
    )
    mix: tuple[float, float, float] = param(
        (0.2627, 0.678, 0.0593), min=-2.0, max=3.0, doc="R, G, B weights when filter = 'mix' (normalised)"
    )
    tone_hue: float = param(70.0, min=0.0, max=360.0, unit="degrees", doc="Oklab hue of the tint (70: sepia)")
    tone_amount: float = param(0.0, min=0.0, max=0.2, doc="chroma of the tint relative to lightness; 0: neutral")

    def __post_init__(self):
        if self.filter == "mix" and abs(sum(self.mix)) < 1e-3:
            raise ValueError("mix: the weights must not sum to 0")


@dataclass(frozen=True)
class MonoPlan:
    weights: np.ndarray  # (3,) sum 1
    tint: np.ndarray  # (3,) linear Rec.2020 colour of luminance 1


def mono_weights(params: MonoParams) -> np.ndarray:
    """Weights of R, G, B (linear Rec.2020) in the grey; they sum to 1."""

    if params.filter == "mix":
        weights = np.asarray(params.mix, np.float64)
    else:
        weights = MATRIX_REC2020_TO_XYZ[1] * np.asarray(FILTERS[params.filter])
    return weights / weights.sum()


def tint_colour(hue_degrees: float, amount: float) -> np.ndarray:
    """Linear Rec.2020 colour of luminance 1 whose Oklab hue is ``hue_degrees`` and chroma ``amount * L``."""

    angle = math.radians(hue_degrees)
    rgb = oklab_to_rgb(np.array([1.0, amount * math.cos(angle), amount * math.sin(angle)]))
    return rgb / (MATRIX_REC2020_TO_XYZ[1] @ rgb)


def to_mono(rgb: np.ndarray, plan: MonoPlan) -> np.ndarray:
    """Grey by the plan's weights, times the tint (plain numpy; float32 out)."""
    grey = np.asarray(rgb, np.float32) @ plan.weights.astype(np.float32)
    return grey[..., None] * plan.tint.astype(np.float32)


def to_mono_fast(rgb: np.ndarray, plan: MonoPlan) -> np.ndarray:
    """:func:`to_mono` in one numba pass; overwrites ``rgb`` (if C-ordered; else a C-ordered copy)."""
    return _mono_kernel(np.ascontiguousarray(rgb), plan.weights.astype(np.float32), plan.tint.astype(np.float32))


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _mono_kernel(rgb, w, tint):
    for i in prange(rgb.shape[0]):
        row = rgb[i].reshape(-1)  # a flat view: channels at a constant stride, which LLVM vectorises
        for j in range(rgb.shape[1]):
            grey = w[0] * row[3 * j] + w[1] * row[3 * j + 1] + w[2] * row[3 * j + 2]
            row[3 * j], row[3 * j + 1], row[3 * j + 2] = grey * tint[0], grey * tint[1], grey * tint[2]
    return rgb


def _plan(params: MonoParams, frame: Frame, image: np.ndarray) -> MonoPlan | None:
    if params.filter == "off":
        return None
    return MonoPlan(weights=mono_weights(params), tint=tint_colour(params.tone_hue, params.tone_amount))


STAGE = Stage(
    name="mono",
    side="look",
    params=MonoParams,
    plan=_plan,
    process=to_mono_fast,
    summary="black and white by channel mix or coloured filter, with an optional tint",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
