"""Sharpen: the look's sharpening taste (unsharp mask on luma) and optional local contrast, display-referred.

Runs after the tone stage on display-encoded RGB. The luma ``Y'`` (the output space's luminance weights
on the encoded values) is split into detail ``Y' - G_radius * Y'``; the detail is cored by the threshold,
``d <- d^3 / (d^2 + threshold^2)`` (small, noise-sized differences are left alone, large edges are not),
scaled by ``amount`` and added to the three channels alike, so hues do not move. Local contrast is the same
with a wide Gaussian (``local_contrast_radius`` of the picture's short side, computed on a reduced copy),
weighted by ``4 Y' (1 - Y')`` so that blacks and whites do not clip.

:func:`sharpen` is the plain numpy version; the stage runs :func:`sharpen_fast` (numba passes around the
same OpenCV Gaussian blurs).

References
----------
-   R. C. Gonzalez, R. E. Woods, "Digital Image Processing", 4th ed., 2018, section 3.6 (unsharp masking
    and high-boost filtering).
-   darktable ``src/iop/sharpen.c`` (unsharp mask on lightness with a threshold), and ``bilat.c`` (local
    contrast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.spaces import matrix_rgb_to_xyz
from lumatune.stages.params import param
from lumatune.stages._filters import blur_reach, gaussian_blur
from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage

__all__ = ["STAGE", "SharpenParams", "SharpenPlan", "sharpen", "sharpen_fast"]

_REDUCED_SIGMA = 4.0  # local contrast: blur a copy reduced so that its Gaussian is this many pixels wide


@dataclass(frozen=True)
class SharpenParams:
    """Sharpening taste and local contrast."""

    amount: float = param(0.0, min=0.0, max=3.0, doc="strength of the unsharp mask; 0: none")
    radius: float = param(1.0, min=0.3, max=5.0, unit="px", doc="Gaussian sigma of the unsharp mask")
    threshold: float = param(0.01, min=0.0, max=0.2, doc="luma differences below this are not sharpened")
    local_contrast: float = param(0.0, min=0.0, max=1.0, doc="strength of the wide unsharp mask; 0: none")
    local_contrast_radius: float = param(0.02, min=0.002, max=0.2, doc="its sigma, as a fraction of the short side")


@dataclass(frozen=True)
class SharpenPlan:
    amount: float
    sigma: float
    threshold: float
    local_amount: float
    local_sigma: float  # pixels
    luma: np.ndarray  # (3,) weights on the encoded values


def wide_blur(plane: np.ndarray, sigma: float) -> np.ndarray:
    """A wide Gaussian blur computed on a reduced copy, then enlarged again (bilinear)."""
    import cv2  # lazy: cv2 (~37 ms)

    factor = max(1.0, sigma / _REDUCED_SIGMA)
    height, width = plane.shape
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(plane, small_size, interpolation=cv2.INTER_AREA)
    small = gaussian_blur(small, sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _detail(luma: np.ndarray, plan: SharpenPlan) -> np.ndarray:
    """The luma change the plan adds, plain numpy."""
    add = np.zeros_like(luma)
    if plan.amount > 0:
        d = luma - gaussian_blur(luma, plan.sigma)
        if plan.threshold > 0:
            d = d * d * d / (d * d + np.float32(plan.threshold) ** 2 + np.float32(1e-30))
        add += np.float32(plan.amount) * d
    if plan.local_amount > 0:
        wide = luma - wide_blur(luma, plan.local_sigma)
        add += np.float32(plan.local_amount) * 4 * luma * (1 - luma) * wide
    return add


def sharpen(rgb: np.ndarray, plan: SharpenPlan) -> np.ndarray:
    """Add the cored luma detail to every channel and clip to [0, 1] (plain numpy)."""
    rgb = np.asarray(rgb, np.float32)
    luma = np.ascontiguousarray(rgb @ plan.luma.astype(np.float32))
    return np.clip(rgb + _detail(luma, plan)[..., None], 0.0, 1.0)


def sharpen_fast(rgb: np.ndarray, plan: SharpenPlan) -> np.ndarray:
    """:func:`sharpen` with the per-pixel passes compiled (numba); overwrites ``rgb``."""
    rgb = np.ascontiguousarray(rgb)  # the kernels read each row as one flat run of values
    luma = _luma(rgb, plan.luma.astype(np.float32))
    blurred = gaussian_blur(luma, plan.sigma) if plan.amount > 0 else luma
    wide = wide_blur(luma, plan.local_sigma) if plan.local_amount > 0 else luma
    return _add_detail(
        rgb, luma, blurred, wide, np.float32(plan.amount), np.float32(plan.threshold**2), np.float32(plan.local_amount)
    )


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _luma(rgb, w):
    height, width = rgb.shape[0], rgb.shape[1]
    out = np.empty((height, width), np.float32)
    for i in prange(height):
        row = rgb[i].reshape(-1)  # a flat view: the channels at a constant stride, which LLVM vectorises
        for j in range(width):
            out[i, j] = w[0] * row[3 * j] + w[1] * row[3 * j + 1] + w[2] * row[3 * j + 2]
    return out


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _add_detail(rgb, luma, blurred, wide, amount, threshold2, local):
    zero, one = np.float32(0.0), np.float32(1.0)
    height, width = rgb.shape[0], rgb.shape[1]
    for i in prange(height):
        row = rgb[i].reshape(-1)  # a flat view: the channels at a constant stride, which LLVM vectorises
        add = np.zeros(width, np.float32)
        if amount > zero:
            for j in range(width):
                d = luma[i, j] - blurred[i, j]
                if threshold2 > zero:
                    d = d * d * d / (d * d + threshold2 + np.float32(1e-30))
                add[j] += amount * d
        if local > zero:
            for j in range(width):
                y = luma[i, j]
                add[j] += local * np.float32(4.0) * y * (one - y) * (y - wide[i, j])
        for j in range(width):
            for c in range(3):
                row[3 * j + c] = min(max(row[3 * j + c] + add[j], zero), one)
    return rgb


def sharpen_plan(params: SharpenParams, shape: tuple[int, ...], space: str) -> SharpenPlan | None:
    """The plan for an image of ``shape`` in output ``space``, or None when both amounts are 0."""

    if params.amount == 0 and params.local_contrast == 0:
        return None
    return SharpenPlan(
        amount=params.amount,
        sigma=params.radius,
        threshold=params.threshold,
        local_amount=params.local_contrast,
        local_sigma=params.local_contrast_radius * min(shape[:2]),
        luma=matrix_rgb_to_xyz(space)[1],
    )


def _plan(params: SharpenParams, frame: Frame, image: np.ndarray) -> SharpenPlan | None:
    return sharpen_plan(params, image.shape, frame.output_space)


def _band_margin(plan: SharpenPlan) -> int | None:
    """Rows the unsharp mask reads around a band (its Gaussian's reach); local contrast blurs at a radius set by
    the whole frame, on a reduced copy of it: no bands then."""
    return None if plan.local_amount > 0 else blur_reach(plan.sigma)


STAGE = Stage(
    name="sharpen",
    side="look",
    params=SharpenParams,
    plan=_plan,
    process=sharpen_fast,
    summary="unsharp mask on luma with a threshold, and optional local contrast",
    band_margin=_band_margin,
)
