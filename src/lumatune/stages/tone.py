"""Tone and display transform: scene-referred linear Rec.2020 -> display-encoded output space.

Three steps: a tone curve (none for the colorimetric ``neutral`` look, or a sigmoid with a filmic highlight
roll-off), the change of primaries to the output space with a luminance-preserving gamut clip, and the
output OETF (sRGB curve).

The sigmoid is the Naka-Rushton / Michaelis-Menten form ``y = K x^c / (x^c + s^c)``, with ``s`` and ``K``
solved so that scene mid grey maps to itself and the scene ``white`` (by default the level where the sensor
saturated, so clipped highlights become display white) maps to display 1; ``c`` is the contrast
(slope at mid grey in log-log). Applied per channel it desaturates highlights towards white as film does;
``hue_preservation`` blends towards the ratio-preserving version (curve applied to max(R, G, B)).

References
----------
- K.-I. Naka, W. A. H. Rushton, "S-potentials from colour units in the retina of fish", J. Physiol. 185, 1966.
- darktable ``src/iop/sigmoid.c`` (per-channel sigmoid with hue preservation), 2022.
- IEC 61966-2-1:1999 (sRGB transfer function).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["ToneParams", "sigmoid_coefficients", "sigmoid_curve", "display_transform", "STAGE"]

MID_GREY = 0.18
_MIN_WHITE = 4 * MID_GREY  # two stops above mid grey: a display white below that would crush the curve


@dataclass(frozen=True)
class ToneParams:
    """The look's tone curve and display rendering."""

    curve: str = param("none", choices=("none", "sigmoid"), doc="none: colorimetric (clip at 1); sigmoid: filmic")
    contrast: float = param(1.4, min=0.5, max=4.0, doc="slope of the sigmoid at mid grey (log-log)")
    white: float | None = param(
        None, min=0.5, max=1000.0, doc="scene value (mid grey = 0.18) shown as display white; unset: sensor clip"
    )
    hue_preservation: float = param(0.5, min=0.0, max=1.0, doc="0: per-channel curve; 1: hue-preserving curve")


@dataclass(frozen=True)
class TonePlan:
    curve: tuple[float, float, float] | None  # (contrast c, s^c, K) of the sigmoid, or None
    hue_preservation: float
    to_output: np.ndarray  # linear Rec.2020 -> linear output space
    luminance: np.ndarray  # Y weights of the output space's primaries
    space: str


def sigmoid_coefficients(contrast: float, white: float, grey: float = MID_GREY) -> tuple[float, float, float]:
    """``(c, s^c, K)`` such that ``K g^c/(g^c+s^c) = g`` and ``K w^c/(w^c+s^c) = 1``."""
    c = contrast
    g_c, w_c = grey**c, white**c
    s_c = w_c * g_c * (grey - 1.0) / (g_c - grey * w_c)
    k = (w_c + s_c) / w_c
    return c, s_c, k


def sigmoid_curve(x: np.ndarray, coefficients: tuple[float, float, float]) -> np.ndarray:
    """The sigmoid, 0 below 0 and clipped at 1 above the white point."""
    c, s_c, k = coefficients
    xc = np.power(np.maximum(x, 0.0), np.float32(c), dtype=np.float32)
    return np.minimum(np.float32(k) * xc / (xc + np.float32(s_c)), np.float32(1.0))


def gamut_clip(rgb: np.ndarray, luminance: np.ndarray) -> np.ndarray:
    """Bring negative components to 0 by desaturating towards the pixel's luminance, then clip to [0, 1]."""
    y = np.maximum(rgb @ luminance.astype(np.float32), 0.0)[..., None]
    low = np.min(rgb, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(low < 0, y / (y - low), 1.0)
    out = y + (rgb - y) * t.astype(np.float32)
    return np.clip(out, 0.0, 1.0)


def display_transform(rgb: np.ndarray, plan: TonePlan) -> np.ndarray:
    """Tone curve, primaries to the output space, gamut clip, OETF."""
    from lumatune.colour.spaces import encode_oetf

    if plan.curve is not None:
        per_channel = sigmoid_curve(rgb, plan.curve)
        if plan.hue_preservation > 0:
            norm = np.maximum(np.max(rgb, axis=-1, keepdims=True), 1e-9)
            ratio = rgb * (sigmoid_curve(norm, plan.curve) / norm)
            h = np.float32(plan.hue_preservation)
            rgb = per_channel + h * (ratio - per_channel)
        else:
            rgb = per_channel
    out = (rgb.reshape(-1, 3) @ plan.to_output.T.astype(np.float32)).reshape(rgb.shape)
    return encode_oetf(gamut_clip(out, plan.luminance), plan.space)


def _plan(params: ToneParams, frame: Frame, image: np.ndarray) -> TonePlan:
    from lumatune.colour.spaces import matrix_rec2020_to, matrix_rgb_to_xyz

    white = max(params.white or frame.scene_clip, _MIN_WHITE)
    curve = sigmoid_coefficients(params.contrast, white) if params.curve == "sigmoid" else None
    return TonePlan(
        curve=curve,
        hue_preservation=params.hue_preservation,
        to_output=matrix_rec2020_to(frame.output_space),
        luminance=matrix_rgb_to_xyz(frame.output_space)[1],
        space=frame.output_space,
    )


STAGE = Stage(
    name="tone",
    side="look",
    params=ToneParams,
    plan=_plan,
    process=display_transform,
    required=True,
    summary="tone curve, gamut mapping and output encoding",
)
