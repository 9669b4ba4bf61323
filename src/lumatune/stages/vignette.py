"""Vignette: an artistic darkening (or lightening) towards the corners, on the display-encoded image.

The distance from the centre is measured on an ellipse that passes through the corners (``roundness`` 0,
following the picture's shape) or a circle through the corners (``roundness`` 1), or in between: ``rho``
is 0 at the centre and 1 at the corners. The effect ``w = smoothstep(rho; midpoint - feather/2,
midpoint + feather/2)`` grows from nothing inside the midpoint to full outside; a negative ``amount``
multiplies by ``1 + amount * w`` (darker), a positive one blends ``amount * w`` of the way to white.

The centre is the picture's centre, which is also the centre of the look's crop (crops are centred).

References
----------
-   darktable ``src/iop/vignette.c`` (brightness falloff with scale, fall-off strength and shape).
-   S. F. Ray, "Applied Photographic Optics", 3rd ed., 2002, section 24.3 (natural vignetting, whose look
    an artistic vignette imitates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.stages.params import param
from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "VignetteParams",
    "VignettePlan",
    "apply_vignette",
    "apply_vignette_band",
    "apply_vignette_fast",
    "vignette_weight",
    "vignette_weight_at",
]


@dataclass(frozen=True)
class VignetteParams:
    """Artistic vignette."""

    amount: float = param(0.0, min=-1.0, max=1.0, doc="-1: black corners; +1: white corners; 0: none")
    midpoint: float = param(0.5, min=0.0, max=1.0, doc="where the falloff is half way (0: centre, 1: corners)")
    roundness: float = param(0.0, min=0.0, max=1.0, doc="0: ellipse of the picture's shape; 1: circle")
    feather: float = param(0.5, min=0.05, max=1.0, doc="width of the falloff (0.05: hard edge, 1: all over)")


@dataclass(frozen=True)
class VignettePlan:
    amount: float
    inner: float  # rho where the effect starts
    outer: float  # rho where it is full
    axes: tuple[float, float]  # (vertical, horizontal) semi-axes in pixels of the rho = 1 curve
    height: int = 0  # rows of the image the plan is for (where its centre is, for bands of rows)


def _axes(height: int, width: int, roundness: float) -> tuple[float, float]:
    radius = math.hypot(height, width) / 2.0
    ellipse = (height / math.sqrt(2.0), width / math.sqrt(2.0))
    return tuple((1.0 - roundness) * e + roundness * radius for e in ellipse)


def vignette_weight(shape: tuple[int, int], plan: VignettePlan) -> np.ndarray:
    """The effect's weight per pixel, 0..1 (float32 (H, W))."""
    height, width = shape
    rows, columns = np.arange(height, dtype=np.float64)[:, None], np.arange(width, dtype=np.float64)[None, :]
    return vignette_weight_at(rows, columns, shape, plan)


def vignette_weight_at(row: np.ndarray, column: np.ndarray, shape: tuple[int, int], plan: VignettePlan) -> np.ndarray:
    """The weight at (fractional) pixel coordinates of an image of ``shape``: pixel (i, j) has its centre at
    ``row = i``, ``column = j``; 0..1, float32, broadcast over ``row`` and ``column``."""
    height, width = shape
    y = (np.asarray(row, np.float64) + 0.5 - height / 2.0) / plan.axes[0]
    x = (np.asarray(column, np.float64) + 0.5 - width / 2.0) / plan.axes[1]
    rho = np.sqrt(y**2 + x**2)
    t = np.clip((rho - plan.inner) / (plan.outer - plan.inner), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def apply_vignette(rgb: np.ndarray, plan: VignettePlan) -> np.ndarray:
    """Darken or lighten by the weight (plain numpy)."""
    rgb = np.asarray(rgb, np.float32)
    w = (np.float32(plan.amount) * vignette_weight(rgb.shape[:2], plan))[..., None]
    if plan.amount < 0:
        return rgb * (1 + w)
    return rgb + w * (1 - rgb)


def apply_vignette_fast(rgb: np.ndarray, plan: VignettePlan) -> np.ndarray:
    """:func:`apply_vignette` in one numba pass; overwrites ``rgb``."""
    return apply_vignette_band(rgb, plan, 0, rgb.shape[0])


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _vignette_kernel(rgb, amount, inner, outer, axis_y, axis_x, first_row, height):
    width = rgb.shape[1]
    half_h, half_w = np.float32(height / 2.0), np.float32(width / 2.0)
    span = outer - inner
    one = np.float32(1.0)
    zero, three, two = np.float32(0.0), np.float32(3.0), np.float32(2.0)
    for i in prange(rgb.shape[0]):
        # the row's weights first, then the pixels through a flat view: two simple loops that LLVM vectorises
        row = rgb[i].reshape(-1)
        w = np.empty(width, np.float32)
        dy = (np.float32(first_row + i) + np.float32(0.5) - half_h) / axis_y
        for j in range(width):
            dx = (np.float32(j) + np.float32(0.5) - half_w) / axis_x
            t = min(max((np.sqrt(dy * dy + dx * dx) - inner) / span, zero), one)
            w[j] = amount * t * t * (three - two * t)
        if amount < 0:
            for j in range(width):
                for c in range(3):
                    row[3 * j + c] = row[3 * j + c] * (one + w[j])
        else:
            for j in range(width):
                for c in range(3):
                    v = row[3 * j + c]
                    row[3 * j + c] = v + w[j] * (one - v)
    return rgb


def apply_vignette_band(rows: np.ndarray, plan: VignettePlan, first_row: int, height: int | None = None) -> np.ndarray:
    """:func:`apply_vignette_fast` on rows ``first_row...`` of an image ``height`` rows high (the plan's image)."""
    f32 = np.float32
    height = plan.height if height is None else height
    return _vignette_kernel(
        np.ascontiguousarray(rows), f32(plan.amount), f32(plan.inner), f32(plan.outer), f32(plan.axes[0]),
        f32(plan.axes[1]), np.int64(first_row), np.int64(height),
    )


def vignette_plan(params: VignetteParams, shape: tuple[int, ...]) -> VignettePlan | None:
    """The plan for an image of ``shape``, or None when ``amount`` is 0."""
    if params.amount == 0:
        return None
    return VignettePlan(
        amount=params.amount,
        inner=params.midpoint - params.feather / 2.0,
        outer=params.midpoint + params.feather / 2.0,
        axes=_axes(shape[0], shape[1], params.roundness),
        height=int(shape[0]),
    )


def _plan(params: VignetteParams, frame: Frame, image: np.ndarray) -> VignettePlan | None:
    return vignette_plan(params, image.shape)


STAGE = Stage(
    name="vignette",
    side="look",
    params=VignetteParams,
    plan=_plan,
    process=apply_vignette_fast,
    summary="artistic vignette: darker or lighter corners",
    band_margin=lambda plan: 0,
    process_band=apply_vignette_band,
)
