"""Black and white level: subtract the black level per CFA position and scale the white level to 1.

References
----------
Adobe DNG Specification 1.6.0.0, chapter 5, "Black Subtraction" and "Rescaling" (BlackLevel,
BlackLevelRepeatDim, WhiteLevel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lumatune.errors import BadFileError
from lumatune.stages.params import param
from lumatune.stages._cfa import affine_per_position, affine_per_position_fast
from lumatune.stages.base import Frame, Stage, kernels_always_ready

__all__ = ["LevelsParams", "normalise_levels", "STAGE"]


@dataclass(frozen=True)
class LevelsParams:
    """Levels come from the raw's metadata unless a tuning overrides them."""

    black_level: float | None = param(None, min=0, unit="DN", doc="override the black level (all channels)")
    white_level: float | None = param(None, min=1, unit="DN", doc="override the white (saturation) level")


@dataclass(frozen=True)
class LevelsPlan:
    black: np.ndarray  # per CFA position (n, n) or per channel (3,)
    scale: np.ndarray  # 1 / (white - black), same shape
    kernels_ready: Callable[[], bool] = kernels_always_ready  # the frame's, asked when the stage runs (_process)


def normalise_levels(data: np.ndarray, plan: LevelsPlan) -> np.ndarray:
    """``(data - black) / (white - black)`` as float32: 0 is black, 1 is sensor saturation."""
    if data.ndim == 3:
        return (data.astype(np.float32) - plan.black.astype(np.float32)) * plan.scale.astype(np.float32)
    return affine_per_position(data, plan.black, plan.scale)


def _process(data: np.ndarray, plan: LevelsPlan) -> np.ndarray:
    """:func:`normalise_levels` in one parallel pass (a linear raw's channels are a 1 x 3 pattern along a row).

    While numba is still starting in the background (the command line's first file: the frame's
    ``kernels_ready`` says no), the plain twin does it instead, with the same floats, on the other core: the first
    stage need not wait for the compiler.
    """
    if not plan.kernels_ready():
        return normalise_levels(data, plan)

    if data.ndim == 3 and data.shape[2] == 3 and data.flags.c_contiguous and plan.black.size in (1, 3):
        per_channel = (np.broadcast_to(plan.black, 3)[None, :], np.broadcast_to(plan.scale, 3)[None, :])
        rows = data.reshape(data.shape[0], -1)
        return affine_per_position_fast(rows, *per_channel).reshape(data.shape)
    if data.ndim == 3:
        return normalise_levels(data, plan)
    return affine_per_position_fast(data, plan.black, plan.scale)


def _plan(params: LevelsParams, frame: Frame, image: np.ndarray) -> LevelsPlan:
    raw = frame.raw
    black = np.asarray(raw.black_level, dtype=np.float64)
    if params.black_level is not None:
        black = np.full_like(black, params.black_level)
    white = raw.white_level if params.white_level is None else params.white_level
    if np.any(white <= black):
        raise BadFileError(f"{raw.path}: white level {white:g} must be above the black level {black.max():g}")
    return LevelsPlan(black=black, scale=1.0 / (white - black), kernels_ready=frame.kernels_ready)


STAGE = Stage(
    name="levels",
    side="tuning",
    params=LevelsParams,
    plan=_plan,
    process=_process,
    required=True,
    summary="subtract the black level, scale the white level to 1",
)
