"""Colour matrix: white-balanced camera RGB -> the linear Rec.2020 (D65) working space.

The matrix comes from a calibrated tuning (a colour-temperature table of matrices, interpolated in 1/CCT by
the white balance stage's CCT), or from the raw's own metadata (the DNG colour model, LibRaw's matrix, or
sRGB primaries when the raw carries no matrix).

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 6.
- libcamera ``rpi.ccm`` / libipa ``Interpolator``: CCM tables keyed by colour temperature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.colour.camera import metadata_matrix_wb_camera_to_xyz_d65
from lumatune.colour.interpolate import interpolate_by_ct
from lumatune.colour.spaces import MATRIX_XYZ_TO_REC2020
from lumatune.errors import BadFileError
from lumatune.stages._jit import FASTMATH
from lumatune.stages.params import param
from lumatune.stages.base import ColourStatus, Frame, Stage

__all__ = ["ColourMatrixParams", "apply_matrix", "apply_matrix_fast", "STAGE"]


@dataclass(frozen=True)
class ColourMatrixParams:
    """Where the camera matrix comes from."""

    ccms: tuple | None = param(
        None,
        doc="calibrated matrices: [{ct = 2856, matrix = [9 numbers]}, ...], white-balanced camera RGB -> XYZ D65",
    )


def apply_matrix(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Multiply every pixel (last axis) by a 3x3 matrix, in float32."""
    flat = rgb.reshape(-1, 3)
    return (flat @ matrix.T.astype(np.float32)).reshape(rgb.shape)


def apply_matrix_fast(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """:func:`apply_matrix` in one parallel pass, in place on a float32 H x W x 3 image (C-ordered; else a
    C-ordered copy)."""
    return _matrix(np.ascontiguousarray(rgb), matrix.astype(np.float32))


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _matrix(rgb, m):
    height, width = rgb.shape[0], rgb.shape[1]
    for i in prange(height):
        # each row through a flat view: the channels at a constant stride of 3, which LLVM vectorises (indexing
        # rgb[i, j, c] keeps the array's run-time strides, and the loop scalar: 3x slower on one core)
        row = rgb[i].reshape(-1)
        for j in range(width):
            r, g, b = row[3 * j], row[3 * j + 1], row[3 * j + 2]
            row[3 * j] = m[0, 0] * r + m[0, 1] * g + m[0, 2] * b
            row[3 * j + 1] = m[1, 0] * r + m[1, 1] * g + m[1, 2] * b
            row[3 * j + 2] = m[2, 0] * r + m[2, 1] * g + m[2, 2] * b
    return rgb


def _table(params: ColourMatrixParams) -> list[tuple[float, np.ndarray]]:
    table = []
    for i, entry in enumerate(params.ccms):
        try:
            ct, matrix = float(entry["ct"]), np.asarray(entry["matrix"], dtype=np.float64).reshape(3, 3)
        except (KeyError, TypeError, ValueError):
            raise BadFileError(f"colour_matrix.ccms[{i}]: needs ct = <kelvin> and matrix = [9 numbers]") from None
        if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) < 1e-9:
            raise BadFileError(f"colour_matrix.ccms[{i}]: matrix is singular or not finite")
        table.append((ct, matrix))
    return table


def _plan(params: ColourMatrixParams, frame: Frame, image: np.ndarray) -> np.ndarray:
    wb = frame.white_balance
    neutral = wb.camera_neutral if wb else np.ones(3)
    if params.ccms:
        cct = (wb.cct if wb and wb.cct else None) or 5000.0
        xyz, source = interpolate_by_ct(_table(params), cct), "tuning"
    else:
        xyz, source, cct = metadata_matrix_wb_camera_to_xyz_d65(frame.raw, neutral)
    matrix = MATRIX_XYZ_TO_REC2020 @ xyz
    frame.colour = ColourStatus(matrix=matrix, source=source, cct=cct)
    return matrix


STAGE = Stage(
    name="colour_matrix",
    side="tuning",
    params=ColourMatrixParams,
    plan=_plan,
    process=apply_matrix_fast,
    summary="camera RGB to the linear Rec.2020 working space",
    band_margin=lambda plan: 0,  # pixel by pixel: a band of rows is that band of the whole image
)
