"""Tone and display transform: scene-referred linear Rec.2020 -> display-encoded output space.

Three steps: a tone curve, the change of primaries to the output space with a luminance-preserving gamut
clip, and the output OETF (sRGB curve). The tone curve is one of

-   ``none``: colorimetric (the ``neutral`` look): scene values are shown as they are, clipped at 1;
-   ``sigmoid``: a parametric filmic curve, scene-linear -> display-linear, built from four parts:
    a black point (the scene value shown as display black; the pivot stays put), a generalised
    Naka-Rushton sigmoid ``y = K x^c / (x^(c h) + S)^(1/h)`` with ``K`` and ``S`` solved so that the
    ``pivot`` maps to itself and the scene ``white`` (by default the level where the sensor saturated,
    so clipped highlights become display white) maps to display 1, where ``c`` is the contrast (the
    curve's log-log slope in the deep shadows) and ``h`` the shoulder (1: the classic sigmoid; lower:
    an earlier, softer highlight roll-off; higher: highlights stay linear longer, then compress hard),
    a toe below the pivot ``y' = p F(y / p)``, ``F(z) = z + t z (1 - z)^2``, that lifts (t > 0) or
    deepens (t < 0) the shadows, keeps 0 and the pivot, joins the curve with the same slope and stays
    monotone for t in (-1, 3), and a highlight roll-off: with ``rolloff = r`` the sigmoid aims at
    ``1 + r/2`` at the white point and a cubic eases display values above ``1 - r`` into white, leaving
    with the curve's slope and arriving with slope 0, so the brightest highlights approach white gently
    instead of meeting it at an angle (the shoulder polynomial of darktable's filmic, on a sigmoid);
-   ``points``: explicit ``(input, output)`` points, both sRGB-encoded in [0, 1], input 1 being the scene
    ``white``, joined by a monotone cubic (Fritsch-Carlson), as the tone curves of raw developers are.

Applied per channel the curve desaturates highlights towards white as film does; ``hue_preservation``
blends towards the ratio-preserving version (curve applied to max(R, G, B)).

Two schedules of one algorithm: :func:`display_transform` is plain numpy and evaluates the curve exactly;
the stage runs :func:`display_transform_fast`, one numba pass that reads the curve from a 1-D table (a log grid
of 256 knots per octave indexed by the float's bits) and evaluates the OETF in float32 with polynomial log2 and
exp2 (Cephes), which vectorise where table reads do not.
tests/stages/test_tone.py checks that they agree.

References
----------
- K.-I. Naka, W. A. H. Rushton, "S-potentials from colour units in the retina of fish", J. Physiol. 185, 1966.
- T. Lottes, "Advanced techniques and optimization of HDR color pipelines", GDC 2016 (the shoulder
  exponent on a contrast power, solved for mid-grey and white anchors).
- darktable ``src/iop/sigmoid.c`` (per-channel sigmoid with hue preservation), 2022.
- F. N. Fritsch, R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J. Numer. Anal. 17(2), 1980.
- IEC 61966-2-1:1999 (sRGB transfer function).
- S. L. Moshier, Cephes Math Library, ``logf.c`` and ``exp2f.c`` (the fast path's log2 and exp2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numba import njit, prange

from lumatune.colour.spaces import (
    encode_oetf,
    eotf_inverse_sRGB,
    eotf_sRGB,
    gamut_clip,
    matrix_rec2020_to,
    matrix_rgb_to_xyz,
)
from lumatune.stages.params import param
from lumatune.stages._jit import FASTMATH, fast_exp2, fast_log2, log_grid, lookup_log
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "PointsCurve",
    "SigmoidCurve",
    "ToneParams",
    "display_transform",
    "display_transform_fast",
    "make_curve",
    "monotone_cubic",
    "monotone_slopes",
    "sigmoid_coefficients",
    "sigmoid_curve",
    "tone_plan",
]

MID_GREY = 0.18
_MIN_WHITE_OVER_PIVOT = 4.0  # a display white closer than two stops above the pivot would crush the curve
_SOLVABLE_MARGIN = 1.25  # white is kept this far above the lowest white the anchors can be solved for
_ROLLOFF_OVERSHOOT = 0.5  # the sigmoid aims this fraction of the roll-off range above white (slope ratio 1.5)
CURVE_TABLE_OCTAVES = (-20, 4)
"""The fast path's curve table spans scene values from 2^-20 to 2^4 times the white point, 256 knots per octave
(:func:`lumatune.stages._jit.log_grid`), with a linear piece from 0 to its first knot."""


def _points_are_monotone(points) -> bool:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return all(b > a for a, b in pairwise(xs)) and all(b >= a for a, b in pairwise(ys))


@dataclass(frozen=True)
class ToneParams:
    """The look's tone curve and display rendering."""

    curve: str = param(
        "none", choices=("none", "sigmoid", "points"), doc="none: colorimetric; sigmoid: filmic; points: your curve"
    )
    contrast: float = param(1.4, min=0.5, max=4.0, doc="sigmoid exponent: log-log slope in the deep shadows")
    pivot: float = param(MID_GREY, min=0.02, max=0.5, doc="scene value the sigmoid leaves unchanged")
    shoulder: float = param(1.0, min=0.3, max=4.0, doc="upper tones: <1 compress early and gradually, >1 stay steep, then flatten")
    toe: float = param(0.0, min=-0.9, max=2.0, doc="shadows below the pivot: >0 lifts, <0 deepens")
    rolloff: float = param(0.0, min=0.0, max=0.5, doc="highlight roll-off: display range eased into white; 0: none")
    black: float = param(0.0, min=0.0, max=0.05, doc="scene value shown as display black (sigmoid)")
    white: float | None = param(
        None, min=0.5, max=1000.0, doc="scene value (mid grey = 0.18) shown as display white; unset: sensor clip"
    )
    points: tuple[tuple[float, float], ...] = param(
        (), min=0.0, max=1.0, doc="curve 'points': [[in, out], ...] sRGB-encoded, in = 1 at white"
    )
    hue_preservation: float = param(0.5, min=0.0, max=1.0, doc="0: per-channel curve; 1: hue-preserving curve")

    def __post_init__(self):
        if self.curve == "points" and len(self.points) < 2:
            raise ValueError("curve = 'points' needs at least two points")
        if self.points and not _points_are_monotone(self.points):
            raise ValueError("points: inputs must increase and outputs must not decrease")


def sigmoid_coefficients(
    contrast: float, white: float, grey: float = MID_GREY, shoulder: float = 1.0, white_out: float = 1.0
) -> tuple[float, float, float, float]:
    """``(c, S, K, h)`` such that ``K g^c / (g^(c h) + S)^(1/h) = g`` and ``= white_out`` at ``x = white``.

    With ``r = (g^(c-1) white_out / w^c)^h``: ``S = (r w^(c h) - g^(c h)) / (1 - r)`` and
    ``K = g^(1-c) (g^(c h) + S)^(1/h)``; a solution exists when ``r < 1``, i.e. ``w^c > g^(c-1) white_out``.
    """
    c, h, g, w = float(contrast), float(shoulder), float(grey), float(white)
    r = (g ** (c - 1.0) * white_out / w**c) ** h
    if not r < 1.0:
        raise ValueError(f"no sigmoid through grey {g} and white {w} with contrast {c}")
    s = (r * w ** (c * h) - g ** (c * h)) / (1.0 - r)
    k = g ** (1.0 - c) * (g ** (c * h) + s) ** (1.0 / h)
    return c, s, k, h


def sigmoid_curve(x: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """The generalised sigmoid, 0 below 0 and clipped at 1 above the white point (float32)."""
    c, s, k = coefficients[:3]
    h = coefficients[3] if len(coefficients) > 3 else 1.0
    xc = np.power(np.maximum(np.asarray(x, np.float64), 0.0), c)
    y = k * xc / np.power(np.power(xc, h) + s, 1.0 / h)
    return np.minimum(y, 1.0).astype(np.float32)


def _toe(y: np.ndarray, pivot: float, toe: float) -> np.ndarray:
    """``p F(y/p)`` below the pivot with ``F(z) = z + t z (1 - z)^2``; unchanged above."""
    z = np.clip(y / pivot, 0.0, 1.0)
    return np.where(y < pivot, pivot * (z + toe * z * (1.0 - z) ** 2), y)


def _rolloff(y: np.ndarray, knee: float, top: float) -> np.ndarray:
    """Map display ``[knee, top]`` onto ``[knee, 1]`` by a cubic leaving with slope 1 and arriving with slope 0.

    In ``t = (y - knee) / (top - knee)``: ``h(t) = a (t^3 - 2t^2 + t) + 3t^2 - 2t^3`` with
    ``a = (top - knee) / (1 - knee)``, monotone for ``a <= 3``; values above ``top`` become 1.
    """
    a = (top - knee) / (1.0 - knee)
    t = np.clip((y - knee) / (top - knee), 0.0, 1.0)
    h = a * (t**3 - 2 * t**2 + t) + 3 * t**2 - 2 * t**3
    return np.where(y > knee, knee + (1.0 - knee) * h, y)


@dataclass(frozen=True)
class SigmoidCurve:
    """The parametric curve: black point, generalised sigmoid through (pivot, pivot) and (white, top), toe, and
    the highlight roll-off that brings ``top`` down to display white with zero slope."""

    coefficients: tuple[float, float, float, float]
    pivot: float
    black: float
    toe: float
    white: float
    knee: float = 1.0  # display value where the roll-off starts (1: none)
    top: float = 1.0  # the sigmoid's value at white before the roll-off

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if self.black > 0:
            x = (x - self.black) * (self.pivot / (self.pivot - self.black))
        c, s, k, h = self.coefficients
        xc = np.power(np.maximum(x, 0.0), c)
        y = np.minimum(k * xc / np.power(np.power(xc, h) + s, 1.0 / h), self.top)
        if self.toe != 0:
            y = _toe(y, self.pivot, self.toe)
        if self.knee < 1.0:
            y = _rolloff(y, self.knee, self.top)
        return np.clip(y, 0.0, 1.0).astype(np.float32)


def monotone_slopes(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes at the knots: a cubic Hermite through them never overshoots.

    References
    ----------
    F. N. Fritsch, R. E. Carlson, SIAM J. Numer. Anal. 17(2), 238-246, 1980 (steps 1-5).
    """
    xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    delta = np.diff(ys) / np.diff(xs)
    slopes = np.empty_like(ys)
    slopes[0], slopes[-1] = delta[0], delta[-1]
    slopes[1:-1] = np.where(delta[:-1] * delta[1:] > 0, (delta[:-1] + delta[1:]) / 2, 0.0)
    for i, d in enumerate(delta):
        if d == 0:
            slopes[i] = slopes[i + 1] = 0.0
            continue
        a, b = slopes[i] / d, slopes[i + 1] / d
        norm = a * a + b * b
        if norm > 9.0:
            tau = 3.0 / np.sqrt(norm)
            slopes[i], slopes[i + 1] = tau * a * d, tau * b * d
    return slopes


def monotone_cubic(x: np.ndarray, xs: np.ndarray, ys: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Evaluate the cubic Hermite through ``(xs, ys)`` with ``slopes``; flat beyond the end knots."""
    x = np.clip(np.asarray(x, np.float64), xs[0], xs[-1])
    i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    h = xs[i + 1] - xs[i]
    t = (x - xs[i]) / h
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * ys[i]
        + (t3 - 2 * t2 + t) * h * slopes[i]
        + (-2 * t3 + 3 * t2) * ys[i + 1]
        + (t3 - t2) * h * slopes[i + 1]
    )


@dataclass(frozen=True)
class PointsCurve:
    """Explicit points, sRGB-encoded on both axes (input 1 = scene ``white``), joined by a monotone cubic."""

    xs: np.ndarray
    ys: np.ndarray
    slopes: np.ndarray
    white: float

    def __call__(self, x: np.ndarray) -> np.ndarray:

        x = np.asarray(x, np.float32)
        encoded = eotf_inverse_sRGB(np.clip(x / np.float32(self.white), 0.0, 1.0))
        y = monotone_cubic(encoded, self.xs, self.ys, self.slopes)
        return np.clip(eotf_sRGB(np.clip(y, 0.0, 1.0).astype(np.float32)), 0.0, 1.0).reshape(x.shape)


@dataclass(frozen=True)
class TonePlan:
    curve: Callable[[np.ndarray], np.ndarray] | None  # scene-linear -> display-linear, or None (colorimetric)
    curve_table: np.ndarray | None  # the curve at white * log_grid(*CURVE_TABLE_OCTAVES) knots (fast path)
    curve_first: int  # index of the table's first non-zero knot, for lookup_log
    white: float
    hue_preservation: float
    to_output: np.ndarray  # linear Rec.2020 -> linear output space
    luminance: np.ndarray  # Y weights of the output space's primaries
    space: str


def _apply_curve(rgb: np.ndarray, curve: Callable, hue_preservation: float) -> np.ndarray:
    per_channel = curve(rgb)
    if hue_preservation <= 0:
        return per_channel
    norm = np.maximum(np.max(rgb, axis=-1, keepdims=True), np.float32(1e-9))
    ratio = rgb * (curve(norm) / norm)
    return per_channel + np.float32(hue_preservation) * (ratio - per_channel)


def display_transform(rgb: np.ndarray, plan: TonePlan) -> np.ndarray:
    """Tone curve, primaries to the output space, gamut clip, OETF (plain numpy, exact curve)."""

    rgb = np.asarray(rgb, np.float32)
    if plan.curve is not None:
        rgb = _apply_curve(rgb, plan.curve, plan.hue_preservation)
    out = (rgb.reshape(-1, 3) @ plan.to_output.T.astype(np.float32)).reshape(rgb.shape)
    return encode_oetf(gamut_clip(out, plan.luminance), plan.space)


def display_transform_fast(rgb: np.ndarray, plan: TonePlan) -> np.ndarray:
    """:func:`display_transform` in one numba pass; overwrites ``rgb``.

    The curve is read from its table (:func:`lumatune.stages._jit.lookup_log`, 256 knots per octave); the sRGB
    OETF is evaluated in float32 (:func:`_encode_srgb`, a vectorised loop, no table reads). The hue-preserving
    term needs the curve at the pixel's largest channel: that is the largest of the three per-channel values
    (the curves are monotone, and so is their linear interpolation), so each pixel reads the table three times,
    not four; once when ``hue_preservation`` is 1.
    """
    use_curve = plan.curve_table is not None
    table = plan.curve_table if use_curve else np.zeros(2, np.float32)
    return _display_kernel(
        np.ascontiguousarray(rgb),  # the kernel reads each row as one flat run of values
        table,
        np.int32(plan.curve_first),
        np.float32(2.0 ** -CURVE_TABLE_OCTAVES[0]),
        np.float32(1.0 / plan.white),
        np.float32(plan.hue_preservation),
        plan.to_output.astype(np.float32),
        plan.luminance.astype(np.float32),
        use_curve,
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _encode_srgb(x):
    """The sRGB OETF of ``x`` clamped to [0, 1] (NaN: 0), in float32 with fast_log2/fast_exp2 (IEC 61966-2-1)."""
    x = (x if x < np.float32(1.0) else np.float32(1.0)) if x > np.float32(0.0) else np.float32(0.0)
    power = x > np.float32(0.0031308)
    ell = fast_log2(x if power else np.float32(1.0))
    encoded = np.float32(1.055) * fast_exp2(ell * np.float32(1.0 / 2.4)) - np.float32(0.055)
    return encoded if power else np.float32(12.92) * x


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _display_kernel(rgb, table, first, inv_low, inv_white, hue, m, lum, use_curve):
    height, width = rgb.shape[0], rgb.shape[1]
    zero, one, tiny = np.float32(0.0), np.float32(1.0), np.float32(1e-9)
    keep = one - hue
    for i in prange(height):
        # one row at a time, through planes: each step is a simple loop, which LLVM vectorises (the table reads
        # excepted: scalar loads are faster than this CPU's gathers); the OETF is one flat loop over the row
        row = rgb[i].reshape(-1)
        p = np.empty((3, width), np.float32)
        for j in range(width):
            p[0, j], p[1, j], p[2, j] = row[3 * j], row[3 * j + 1], row[3 * j + 2]
        if use_curve and hue < one:
            q = np.empty((3, width), np.float32)
            for c in range(3):
                for j in range(width):
                    q[c, j] = lookup_log(p[c, j] * inv_white, table, first, inv_low)
            for j in range(width):
                norm = max(max(p[0, j], p[1, j]), max(p[2, j], tiny))
                ratio = hue * max(max(q[0, j], q[1, j]), q[2, j]) / norm  # the curve at norm, over norm
                p[0, j] = keep * q[0, j] + ratio * p[0, j]
                p[1, j] = keep * q[1, j] + ratio * p[1, j]
                p[2, j] = keep * q[2, j] + ratio * p[2, j]
        elif use_curve:  # fully hue-preserving: only the curve at norm (one table read per pixel)
            q = np.empty((1, width), np.float32)
            for j in range(width):
                q[0, j] = max(max(p[0, j], p[1, j]), max(p[2, j], tiny))
            for j in range(width):
                q[0, j] = lookup_log(q[0, j] * inv_white, table, first, inv_low) / q[0, j]
            for j in range(width):
                p[0, j] *= q[0, j]
                p[1, j] *= q[0, j]
                p[2, j] *= q[0, j]
        for j in range(width):
            r, g, b = p[0, j], p[1, j], p[2, j]
            x = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
            y = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            z = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
            low = min(x, min(y, z))
            luma = max(lum[0] * x + lum[1] * y + lum[2] * z, zero)
            t = luma / max(luma - low, tiny) if low < zero else one  # gamut clip towards the pixel's luminance
            row[3 * j] = luma + (x - luma) * t
            row[3 * j + 1] = luma + (y - luma) * t
            row[3 * j + 2] = luma + (z - luma) * t
        for j in range(3 * width):
            row[j] = _encode_srgb(row[j])
    return rgb


def _sigmoid_white(params: ToneParams, white: float, top: float) -> float:
    """``white`` raised where needed so the sigmoid's anchors can be solved (low contrast, low white)."""
    c, p = params.contrast, params.pivot
    return max(white, _MIN_WHITE_OVER_PIVOT * p, _SOLVABLE_MARGIN * (top * p ** (c - 1.0)) ** (1.0 / c))


def make_curve(params: ToneParams, scene_clip: float) -> tuple[Callable | None, float]:
    """The curve the params describe, and the scene white it maps to display 1."""
    white = float(params.white or scene_clip)
    if params.curve == "none":
        return None, white
    if params.curve == "points":
        xs, ys = (np.array([p[i] for p in params.points], np.float64) for i in (0, 1))
        return PointsCurve(xs, ys, monotone_slopes(xs, ys), white), white
    knee = 1.0 - params.rolloff
    top = 1.0 + _ROLLOFF_OVERSHOOT * params.rolloff
    white = _sigmoid_white(params, white, top)
    p, b = params.pivot, params.black
    white_in = (white - b) * p / (p - b)
    coefficients = sigmoid_coefficients(params.contrast, white_in, p, params.shoulder, white_out=top)
    curve = SigmoidCurve(coefficients, pivot=p, black=b, toe=params.toe, white=white, knee=knee, top=top)
    return curve, white


def tone_plan(params: ToneParams, scene_clip: float, space: str) -> TonePlan:
    """The plan for a scene whose sensor clip is at ``scene_clip``, rendered to ``space``."""

    curve, white = make_curve(params, scene_clip)
    knots, first = log_grid(*CURVE_TABLE_OCTAVES)
    table = None if curve is None else np.ascontiguousarray(curve(white * knots), dtype=np.float32)
    return TonePlan(
        curve=curve,
        curve_table=table,
        curve_first=first,
        white=white,
        hue_preservation=params.hue_preservation,
        to_output=matrix_rec2020_to(space),
        luminance=matrix_rgb_to_xyz(space)[1],
        space=space,
    )


def _plan(params: ToneParams, frame: Frame, image: np.ndarray) -> TonePlan:
    return tone_plan(params, frame.scene_clip, frame.output_space)


STAGE = Stage(
    name="tone",
    side="look",
    params=ToneParams,
    plan=_plan,
    process=display_transform_fast,
    required=True,
    summary="tone curve, gamut mapping and output encoding",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
