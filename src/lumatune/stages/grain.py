"""Grain: film-like luminance grain, reproducible, added to the display-encoded image.

The model follows AV1's film grain synthesis: a noise field with the grain's size and texture, scaled by a
function of the pixel's intensity and added to the luma. Here the field is white noise from a counter-based
hash of (seed, pixel) - so the same image and params always give the same grain, whatever the thread
count - shaped by two Gaussians: one of the grain's size (``size``, the grain diameter in micrometres on a
frame 24 mm high, so the look is the same at every resolution) and one half as wide, mixed by
``roughness``; each is normalised to unit standard deviation before mixing. The intensity scaling peaks in
the mid-tones as print grain does: ``amount * 2 sqrt(Y' (1 - Y'))`` of display luma ``Y'``. The grain is
the same in R, G and B (luminance grain).

:func:`add_grain` is the plain numpy version; the stage runs :func:`add_grain_fast` (numba around the same
OpenCV blurs).

References
----------
-   A. Norkin, N. Birkbeck, "Film grain synthesis for AV1 video codec", Data Compression Conference, 2018;
    AV1 Bitstream and Decoding Process Specification, 2019, section 7.18.3 (film grain synthesis process:
    shaped Gaussian noise, piecewise-linear intensity scaling, added to luma).
-   M. Jarzynski, M. Olano, "Hash functions for GPU rendering", JCGT 9(3), 2020 (the PCG hash).
-   A. Newson, J. Delon, B. Galerne, "A stochastic film grain model for resolution-independent rendering",
    Computer Graphics Forum 36(8), 2017 (the physically based Boolean model, not followed: too slow here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.spaces import matrix_rgb_to_xyz
from lumatune.stages.params import param
from lumatune.stages._filters import blur_reach, gaussian_blur
from lumatune.stages._jit import FASTMATH
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "GrainParams",
    "GrainPlan",
    "add_grain",
    "add_grain_band",
    "add_grain_fast",
    "grain_field",
    "grain_noise",
]

FRAME_HEIGHT_UM = 24000.0
"""Short side of the reference film frame (35 mm film, 36 x 24 mm), in micrometres."""
_MIN_SIGMA = 0.3  # below this (pixels) a Gaussian changes white noise too little to be worth the blur
_UNIFORM_STD = 1.0 / math.sqrt(12.0)
_MASK32 = np.uint64(0xFFFFFFFF)


@dataclass(frozen=True)
class GrainParams:
    """Film grain."""

    amount: float = param(0.0, min=0.0, max=0.3, doc="standard deviation of the grain at mid-grey; 0: none")
    size: float = param(15.0, min=2.0, max=80.0, unit="um", doc="grain diameter on a 24 mm high frame")
    roughness: float = param(0.4, min=0.0, max=1.0, doc="share of fine grain (0: soft, 1: gritty)")
    seed: int = param(0, min=0, max=2**31 - 1, doc="seed of the grain pattern")


@dataclass(frozen=True)
class GrainPlan:
    amount: float
    sigma: float  # pixels, of the coarse grain; the fine grain has half
    roughness: float
    seed: int
    luma: np.ndarray
    height: int = 0  # rows of the image the plan is for (where the noise ends, for bands of rows)


def grain_noise(shape: tuple[int, int], seed: int, stream: int, first_row: int = 0) -> np.ndarray:
    """Uniform white noise in [-0.5, 0.5) from a hash of (seed, stream, pixel index); float32 (H, W): the rows
    from ``first_row`` on of the noise of any image as wide."""
    key = int(_pcg(np.uint64((2 * seed + stream) & 0xFFFFFFFF)))
    return _noise_kernel(np.int64(first_row), shape[0], shape[1], np.uint64(key))


@njit(cache=True, inline="always", fastmath=False)  # integer hashing: the same noise on every machine
def _pcg(v):
    """PCG hash of a 32-bit value (held in a uint64), Jarzynski and Olano (2020)."""
    state = (v * np.uint64(747796405) + np.uint64(2891336453)) & _MASK32
    word = (((state >> ((state >> np.uint64(28)) + np.uint64(4))) ^ state) * np.uint64(277803737)) & _MASK32
    return ((word >> np.uint64(22)) ^ word) & _MASK32


@njit(parallel=True, nogil=True, cache=True, fastmath=False)  # integer hash to float exactly: reproducible grain
def _noise_kernel(first_row, rows, width, key):
    out = np.empty((rows, width), np.float32)
    scale = np.float32(1.0 / 16777216.0)
    for i in prange(rows):
        for j in range(width):
            v = _pcg((np.uint64((first_row + i) * width + j) + key) & _MASK32)
            out[i, j] = np.float32(v >> np.uint64(8)) * scale - np.float32(0.5)
    return out


def _unit_blur(noise: np.ndarray, sigma: float) -> np.ndarray:
    """Blur white uniform noise and scale it to unit standard deviation."""
    if sigma < _MIN_SIGMA:
        return noise * np.float32(1.0 / _UNIFORM_STD)
    import cv2  # lazy: cv2 (~39 ms)

    size = 2 * blur_reach(sigma) + 1
    kernel = cv2.getGaussianKernel(size, sigma, ktype=cv2.CV_64F).ravel()
    std = _UNIFORM_STD * float(np.sum(kernel**2))  # separable: sum of the 2-D kernel's squares = (sum k^2)^2
    blurred = gaussian_blur(noise, sigma)
    blurred *= np.float32(1.0 / std)
    return blurred


def grain_field(shape: tuple[int, int], plan: GrainPlan, first_row: int = 0, height: int | None = None) -> np.ndarray:
    """The unit-variance grain pattern for an image of ``shape`` (H, W); or, given ``first_row`` and the whole
    image's ``height``, that pattern's rows from ``first_row`` on (``shape[0]`` of them), the same floats: the
    noise is made with the blur's reach of extra rows each side, blurred, and cropped."""
    height = shape[0] if height is None else height
    reach = blur_reach(plan.sigma) if plan.sigma >= _MIN_SIGMA else 0
    first, last = max(0, first_row - reach), min(height, first_row + shape[0] + reach)
    crop = slice(first_row - first, first_row - first + shape[0])
    r = plan.roughness
    coarse = _unit_blur(grain_noise((last - first, shape[1]), plan.seed, 0, first), plan.sigma)[crop]
    if r == 0:
        return coarse
    fine = _unit_blur(grain_noise((last - first, shape[1]), plan.seed, 1, first), plan.sigma / 2)[crop]
    norm = np.float32(1.0 / math.hypot(1.0 - r, r))
    coarse *= np.float32(1.0 - r) * norm
    coarse += np.float32(r) * norm * fine
    return coarse


def add_grain(rgb: np.ndarray, plan: GrainPlan) -> np.ndarray:
    """Add the grain, scaled by ``amount * 2 sqrt(Y'(1 - Y'))``, to each channel; clip to [0, 1] (plain numpy)."""
    rgb = np.asarray(rgb, np.float32)
    luma = np.clip(rgb @ plan.luma.astype(np.float32), 0.0, 1.0)
    strength = np.float32(2.0 * plan.amount) * np.sqrt(luma * (1.0 - luma))
    return np.clip(rgb + (strength * grain_field(rgb.shape[:2], plan))[..., None], 0.0, 1.0)


def add_grain_fast(rgb: np.ndarray, plan: GrainPlan) -> np.ndarray:
    """:func:`add_grain` with the per-pixel pass compiled (numba); overwrites ``rgb``."""
    return add_grain_band(rgb, plan, 0, rgb.shape[0])


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _add_kernel(rgb, field, w, amount2):
    zero, one = np.float32(0.0), np.float32(1.0)
    width = rgb.shape[1]
    for i in prange(rgb.shape[0]):
        # each row through a flat view: the loop reads and writes the three channels at a constant stride,
        # which LLVM vectorises (indexing rgb[i, j, c] would hide the stride and keep it scalar)
        row = rgb[i].reshape(-1)
        f = field[i]
        for j in range(width):
            r, g, b = row[3 * j], row[3 * j + 1], row[3 * j + 2]
            y = min(max(w[0] * r + w[1] * g + w[2] * b, zero), one)
            add = amount2 * np.sqrt(y * (one - y)) * f[j]
            row[3 * j] = min(max(r + add, zero), one)
            row[3 * j + 1] = min(max(g + add, zero), one)
            row[3 * j + 2] = min(max(b + add, zero), one)
    return rgb


def add_grain_band(rows: np.ndarray, plan: GrainPlan, first_row: int, height: int | None = None) -> np.ndarray:
    """:func:`add_grain_fast` on rows ``first_row...`` of an image ``height`` rows high (the plan's image)."""
    field = grain_field(rows.shape[:2], plan, first_row, plan.height if height is None else height)
    return _add_kernel(np.ascontiguousarray(rows), np.ascontiguousarray(field), plan.luma.astype(np.float32),
                       np.float32(2.0 * plan.amount))


def grain_plan(params: GrainParams, shape: tuple[int, ...], space: str) -> GrainPlan | None:
    """The plan for an image of ``shape``, or None when ``amount`` is 0."""

    if params.amount == 0:
        return None
    sigma = params.size * min(shape[:2]) / FRAME_HEIGHT_UM / 2.0
    return GrainPlan(
        amount=params.amount,
        sigma=sigma,
        roughness=params.roughness,
        seed=params.seed,
        luma=matrix_rgb_to_xyz(space)[1],
        height=int(shape[0]),
    )


def _plan(params: GrainParams, frame: Frame, image: np.ndarray) -> GrainPlan | None:
    return grain_plan(params, image.shape, frame.output_space)


STAGE = Stage(
    name="grain",
    side="look",
    params=GrainParams,
    plan=_plan,
    process=add_grain_fast,
    summary="film-like luminance grain, reproducible (seeded)",
    band_margin=lambda plan: 0,  # it makes its own noise for the rows around a band
    process_band=add_grain_band,
)
