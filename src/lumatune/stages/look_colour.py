"""Look colour: saturation, vibrance, a per-hue table, skin-tone protection and split toning, in Oklab.

Works on scene-referred linear Rec.2020 before the tone curve (DESIGN.md: look colour comes between exposure
and tone). Each pixel goes to Oklab (L, a, b); chroma ``C = |(a, b)|``, hue ``h = atan2(b, a)`` and the
relative chroma ``s = C / L`` (a saturation that does not change with exposure) drive the edits:

-   the hue table: at eight hues (:data:`HUE_NAMES` at the Oklab hue angles :data:`HUE_ANGLES`, those of
    the sRGB red, orange (1, 0.5, 0), yellow, green, aqua (cyan), blue, purple (0.5, 0, 1) and magenta)
    a hue shift (degrees), a saturation change (relative: -1 grey, +1 double) and a lightness change (EV),
    joined by smoothstep between neighbouring hues; the lightness change fades out towards neutral colours;
-   ``saturation`` multiplies the chroma; ``vibrance`` multiplies it by ``1 + v (1 - s/0.5)^2``, more for
    muted colours than saturated ones;
-   skin-tone protection holds back all of the above for hues near skin (Oklab hue 45 degrees, the
    ColorChecker skin patches) at skin-like saturation;
-   split toning adds a tint ``amount * L * (cos hue, sin hue)`` weighted by ``(1 - u)^2`` in the shadows
    and ``u^2`` in the highlights, ``u = Y / (Y + Y_b)``, with ``Y_b`` = mid grey moved by ``balance``
    (+-2 EV).

All edits except lightness and split toning scale with the pixel (multiplying the input by k multiplies
the output by k), so exposure and colour stay independent. :func:`adjust_colour` is the plain numpy version;
the stage runs :func:`adjust_colour_fast` (one numba pass, tabulated hue, fast cube root and exp2).

References
----------
-   B. Ottosson, "A perceptual color space for image processing", 2020, https://bottosson.github.io/posts/oklab/
    (Oklab, matrices M1 and M2).
-   darktable ``src/iop/colorbalancergb.c`` (vibrance, saturation and split toning on scene-referred data,
    with a chroma-dependent vibrance weight), 2021.
-   darktable ``src/iop/colorzones.c`` (a smooth per-hue curve of hue, saturation and lightness).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.oklab import (
    HUE_ANGLES,
    HUE_NAMES,
    MATRIX_LMS_TO_OKLAB,
    MATRIX_LMS_TO_REC2020,
    MATRIX_OKLAB_TO_LMS,
    MATRIX_REC2020_TO_LMS,
    oklab_to_rgb,
    rgb_to_oklab,
)
from lumatune.stages.params import param
from lumatune.stages._jit import (
    FASTMATH,
    diamond_angle,
    diamond_to_degrees,
    fast_cbrt,
    fast_exp2,
)
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "ColourParams",
    "ColourPlan",
    "adjust_colour",
    "adjust_colour_fast",
    "hue_table",
]

SKIN_HUE = 45.0
"""Oklab hue of skin (the ColorChecker light and dark skin patches: 45.6 and 43.9 degrees)."""
SKIN_HUE_WIDTH = 20.0
"""Degrees from :data:`SKIN_HUE` at which protection falls to 1/e."""
SKIN_CHROMA = (0.15, 0.3)
"""Relative chroma C/L over which protection fades out (skin is at 0.08..0.11)."""
VIBRANCE_REFERENCE = 0.5
"""Relative chroma at and above which vibrance has no effect."""
LIGHTNESS_CHROMA = 0.03
"""Relative chroma at which a hue's lightness change is half applied (greys stay put)."""
HUE_TABLE_SIZE = 1024
"""Intervals of the fast path's hue table over the pseudo-angle [0, 4)."""

Eight = tuple[float, float, float, float, float, float, float, float]
_ZEROS = (0.0,) * 8


@dataclass(frozen=True)
class ColourParams:
    """The look's colour: global saturation and vibrance, an eight-hue table, skin protection, split toning."""

    saturation: float = param(1.0, min=0.0, max=3.0, doc="chroma multiplier (0: grey)")
    vibrance: float = param(0.0, min=-1.0, max=1.0, doc="saturation of muted colours more than of vivid ones")
    hue_shift: Eight = param(_ZEROS, min=-60.0, max=60.0, unit="degrees", doc="hue shift at " + ", ".join(HUE_NAMES))
    hue_saturation: Eight = param(_ZEROS, min=-1.0, max=1.0, doc="relative saturation change per hue (-1: grey)")
    hue_lightness: Eight = param(_ZEROS, min=-2.0, max=2.0, unit="EV", doc="lightness change per hue")
    skin_protection: float = param(0.0, min=0.0, max=1.0, doc="hold the changes back on skin tones (1: fully)")
    shadows_hue: float = param(200.0, min=0.0, max=360.0, unit="degrees", doc="Oklab hue of the shadows' tint")
    shadows_amount: float = param(0.0, min=0.0, max=0.3, doc="chroma of the shadows' tint, relative to L")
    highlights_hue: float = param(60.0, min=0.0, max=360.0, unit="degrees", doc="Oklab hue of the highlights' tint")
    highlights_amount: float = param(0.0, min=0.0, max=0.3, doc="chroma of the highlights' tint, relative to L")
    balance: float = param(0.0, min=-1.0, max=1.0, doc="split-toning crossover: -1 two stops darker, +1 brighter")


@dataclass(frozen=True)
class ColourPlan:
    params: ColourParams
    table: np.ndarray  # (HUE_TABLE_SIZE + 1, 4) on the pseudo-angle grid: hue shift (rad), saturation change,
    # lightness EV, skin weight
    split: np.ndarray  # (5,): shadows tint a, b; highlights tint a, b; Y of the crossover


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def hue_table(params: ColourParams, hue_degrees: np.ndarray) -> np.ndarray:
    """(..., 4) table values at ``hue_degrees``: shift (rad), saturation change, lightness EV, skin weight."""
    h = np.asarray(hue_degrees, np.float64) % 360.0
    nodes = np.array(HUE_ANGLES)
    i = (np.searchsorted(nodes, h, side="right") - 1) % 8
    j = (i + 1) % 8
    span = (nodes[j] - nodes[i]) % 360.0
    t = _smoothstep(((h - nodes[i]) % 360.0) / span)
    columns = []
    for values in (np.radians(params.hue_shift), params.hue_saturation, params.hue_lightness):
        v = np.asarray(values, np.float64)
        columns.append(v[i] + (v[j] - v[i]) * t)
    distance = (h - SKIN_HUE + 180.0) % 360.0 - 180.0
    columns.append(params.skin_protection * np.exp(-((distance / SKIN_HUE_WIDTH) ** 2)))
    return np.stack(columns, axis=-1)


def _split_vector(params: ColourParams) -> np.ndarray:
    def tint(hue: float, amount: float) -> tuple[float, float]:
        return amount * math.cos(math.radians(hue)), amount * math.sin(math.radians(hue))

    crossover = 0.18 * 4.0**params.balance
    return np.array([*tint(params.shadows_hue, params.shadows_amount), *tint(params.highlights_hue,
                    params.highlights_amount), crossover])


def adjust_colour(rgb: np.ndarray, plan: ColourPlan) -> np.ndarray:
    """The look's colour edits on linear Rec.2020 (plain numpy, exact; float32 out)."""
    p = plan.params
    lab = rgb_to_oklab(rgb)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    relative = chroma / np.maximum(lightness, 1e-6)
    shift, hue_sat, hue_light, skin = np.moveaxis(hue_table(p, np.degrees(np.arctan2(b, a))), -1, 0)
    keep = 1.0 - skin * (1.0 - _smoothstep((relative - SKIN_CHROMA[0]) / (SKIN_CHROMA[1] - SKIN_CHROMA[0])))
    muted = (1.0 - np.minimum(relative / VIBRANCE_REFERENCE, 1.0)) ** 2
    gain = (1.0 + hue_sat * keep) * (1.0 + (p.saturation - 1.0) * keep) * (1.0 + p.vibrance * keep * muted)
    angle = shift * keep
    a, b = gain * (a * np.cos(angle) - b * np.sin(angle)), gain * (a * np.sin(angle) + b * np.cos(angle))
    weight = relative**2 / (relative**2 + LIGHTNESS_CHROMA**2)
    factor = np.exp2(hue_light * weight * keep / 3.0)
    lightness, a, b = lightness * factor, a * factor, b * factor
    sa, sb, ha, hb, crossover = plan.split
    y = np.maximum(lightness, 0.0) ** 3
    u = y / (y + crossover)
    shadows, highlights = (1.0 - u) ** 2, u * u
    a = a + lightness * (sa * shadows + ha * highlights)
    b = b + lightness * (sb * shadows + hb * highlights)
    return oklab_to_rgb(np.stack([lightness, a, b], axis=-1)).astype(np.float32)


_ONE = np.float32(1.0)
_S = tuple(np.float32(1.0 / k) for k in (6.0, 20.0, 42.0, 72.0))
_C = tuple(np.float32(1.0 / k) for k in (2.0, 12.0, 30.0, 56.0))


def adjust_colour_fast(rgb: np.ndarray, plan: ColourPlan) -> np.ndarray:
    """:func:`adjust_colour` in one numba pass (tabulated hue, fast cube root); overwrites ``rgb``."""
    p = plan.params
    f32 = np.float32
    return _colour_kernel(
        np.ascontiguousarray(rgb),  # the kernel reads each row as one flat run of values
        MATRIX_REC2020_TO_LMS.astype(f32),
        MATRIX_LMS_TO_OKLAB.astype(f32),
        MATRIX_OKLAB_TO_LMS.astype(f32),
        MATRIX_LMS_TO_REC2020.astype(f32),
        plan.table,
        f32(p.saturation),
        f32(p.vibrance),
        plan.split.astype(f32),
        bool(any(p.hue_shift + p.hue_saturation + p.hue_lightness) or p.skin_protection > 0),
        bool(any(p.hue_lightness)),
        p.shadows_amount + p.highlights_amount > 0,
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _sin_cos(x):
    """sin and cos of |x| <= 1.1 rad by Taylor series to x^9 / x^8 (error < 1e-6); float32."""
    x2 = x * x
    s = x * (_ONE - x2 * _S[0] * (_ONE - x2 * _S[1] * (_ONE - x2 * _S[2] * (_ONE - x2 * _S[3]))))
    c = _ONE - x2 * _C[0] * (_ONE - x2 * _C[1] * (_ONE - x2 * _C[2] * (_ONE - x2 * _C[3])))
    return s, c


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _colour_kernel(rgb, to_lms, to_lab, from_lab, from_lms, table, saturation, vibrance, split, with_hue, with_light,
                   with_split):
    height, width = rgb.shape[0], rgb.shape[1]
    n = np.float32(table.shape[0] - 1)
    last = n - np.float32(1e-3)
    quarter = n / np.float32(4.0)
    sa, sb, ha, hb, crossover = split[0], split[1], split[2], split[3], split[4]
    skin_low, inv_skin_span = np.float32(SKIN_CHROMA[0]), np.float32(1.0 / (SKIN_CHROMA[1] - SKIN_CHROMA[0]))
    inv_reference = np.float32(1.0 / VIBRANCE_REFERENCE)
    c0 = np.float32(LIGHTNESS_CHROMA**2)
    zero, one, third = np.float32(0.0), np.float32(1.0), np.float32(1.0 / 3.0)
    global_gain = saturation - one
    for i in prange(height):
        # one row at a time, through planes (L, a, b): the steps are simple loops that LLVM vectorises, except
        # the hue table's reads (scalar loads: faster than this CPU's gathers), which get a loop of their own;
        # the table's four columns at one hue are neighbours in memory, read with one index
        row = rgb[i].reshape(-1)
        lab = np.empty((3, width), np.float32)
        for j in range(width):
            r, g, b = row[3 * j], row[3 * j + 1], row[3 * j + 2]
            l_ = fast_cbrt(to_lms[0, 0] * r + to_lms[0, 1] * g + to_lms[0, 2] * b)
            m_ = fast_cbrt(to_lms[1, 0] * r + to_lms[1, 1] * g + to_lms[1, 2] * b)
            s_ = fast_cbrt(to_lms[2, 0] * r + to_lms[2, 1] * g + to_lms[2, 2] * b)
            lab[0, j] = to_lab[0, 0] * l_ + to_lab[0, 1] * m_ + to_lab[0, 2] * s_
            lab[1, j] = to_lab[1, 0] * l_ + to_lab[1, 1] * m_ + to_lab[1, 2] * s_
            lab[2, j] = to_lab[2, 0] * l_ + to_lab[2, 1] * m_ + to_lab[2, 2] * s_
        if with_hue:
            hue = np.empty((4, width), np.float32)  # the table at each pixel's hue: shift, saturation, lightness, skin
            for j in range(width):
                hue[0, j] = diamond_angle(lab[1, j], lab[2, j]) * quarter
            for j in range(width):
                u = hue[0, j]
                f = (u if u < last else last) if u > zero else zero  # as lookup(): NaN reads 0
                k = np.int32(f)
                f -= np.float32(k)
                for c in range(4):
                    low = table[k, c]
                    hue[c, j] = low + f * (table[k + 1, c] - low)
        for j in range(width):
            lightness, a, bb = lab[0, j], lab[1, j], lab[2, j]
            relative = np.sqrt(a * a + bb * bb) / max(lightness, np.float32(1e-6))
            muted = one - min(relative * inv_reference, one)
            if with_hue:
                x = min(max((relative - skin_low) * inv_skin_span, zero), one)
                keep = one - hue[3, j] * (one - x * x * (np.float32(3.0) - np.float32(2.0) * x))
                gain = (one + hue[1, j] * keep) * (one + global_gain * keep)
                gain *= one + vibrance * keep * muted * muted
                sin_a, cos_a = _sin_cos(hue[0, j] * keep)
                a, bb = gain * (a * cos_a - bb * sin_a), gain * (a * sin_a + bb * cos_a)
                if with_light:
                    r2 = relative * relative
                    factor = fast_exp2(hue[2, j] * (r2 / (r2 + c0)) * keep * third)
                    lightness, a, bb = lightness * factor, a * factor, bb * factor
            else:
                gain = saturation * (one + vibrance * muted * muted)
                a, bb = gain * a, gain * bb
            if with_split:
                y = max(lightness, zero)
                y = y * y * y
                t = y / (y + crossover)
                shadows, highlights = (one - t) * (one - t), t * t
                a += lightness * (sa * shadows + ha * highlights)
                bb += lightness * (sb * shadows + hb * highlights)
            l_ = from_lab[0, 0] * lightness + from_lab[0, 1] * a + from_lab[0, 2] * bb
            m_ = from_lab[1, 0] * lightness + from_lab[1, 1] * a + from_lab[1, 2] * bb
            s_ = from_lab[2, 0] * lightness + from_lab[2, 1] * a + from_lab[2, 2] * bb
            l_, m_, s_ = l_ * l_ * l_, m_ * m_ * m_, s_ * s_ * s_
            row[3 * j] = from_lms[0, 0] * l_ + from_lms[0, 1] * m_ + from_lms[0, 2] * s_
            row[3 * j + 1] = from_lms[1, 0] * l_ + from_lms[1, 1] * m_ + from_lms[1, 2] * s_
            row[3 * j + 2] = from_lms[2, 0] * l_ + from_lms[2, 1] * m_ + from_lms[2, 2] * s_
    return rgb


def _changes_nothing(p: ColourParams) -> bool:
    hue_edits = p.hue_shift + p.hue_saturation + p.hue_lightness
    tints = p.shadows_amount + p.highlights_amount
    return p.saturation == 1.0 and p.vibrance == 0.0 and not any(hue_edits) and tints == 0.0


def colour_plan(params: ColourParams) -> ColourPlan | None:
    """The plan, or None when the params change nothing."""
    if _changes_nothing(params):
        return None
    grid = np.linspace(0.0, 4.0, HUE_TABLE_SIZE + 1)
    table = np.ascontiguousarray(hue_table(params, diamond_to_degrees(grid)), dtype=np.float32)
    return ColourPlan(params=params, table=table, split=_split_vector(params))


def _plan(params: ColourParams, frame: Frame, image: np.ndarray) -> ColourPlan | None:
    return colour_plan(params)


STAGE = Stage(
    name="colour",
    side="look",
    params=ColourParams,
    plan=_plan,
    process=adjust_colour_fast,
    summary="saturation, vibrance, per-hue table, skin protection and split toning (Oklab)",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
