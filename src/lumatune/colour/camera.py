"""The camera's colour model from its metadata: which matrix maps white-balanced camera RGB to XYZ (D65).

DNG raws use the DNG colour model (ColorMatrix/ForwardMatrix 1 and 2 interpolated by the colour temperature
of the white, DNG 1.6 chapter 6); other raws use LibRaw's matrix as a single D65 calibration; raws with no
matrix at all are taken as linear sRGB, as LibRaw does.

References
----------
Adobe DNG Specification 1.6.0.0, chapter 6, "Mapping Camera Color Space to CIE XYZ Space".
"""

from __future__ import annotations

import numpy as np

from lumatune.colour import dng as dng_model
from lumatune.colour import spaces
from lumatune.errors import LumatuneError
from lumatune.raw.image import RawImage

__all__ = ["as_shot_neutral", "metadata_matrix_wb_camera_to_xyz_d65", "white_cct"]


def _dng_kwargs(raw: RawImage) -> dict | None:
    tags = raw.dng
    if tags is None or tags.color_matrix_1 is None:
        return None
    return dict(
        color_matrix_1=tags.color_matrix_1,
        color_matrix_2=tags.color_matrix_2,
        cct_1=dng_model.illuminant_to_cct(tags.calibration_illuminant_1) if tags.calibration_illuminant_1 else None,
        cct_2=dng_model.illuminant_to_cct(tags.calibration_illuminant_2) if tags.calibration_illuminant_2 else None,
        forward_matrix_1=tags.forward_matrix_1,
        forward_matrix_2=tags.forward_matrix_2,
        camera_calibration_1=tags.camera_calibration_1,
        camera_calibration_2=tags.camera_calibration_2,
        analog_balance=tags.analog_balance,
    )


def metadata_matrix_wb_camera_to_xyz_d65(raw: RawImage, camera_neutral: np.ndarray) -> tuple[np.ndarray, str, float | None]:
    """The matrix from white-balanced camera RGB to XYZ (D65) given by the raw's metadata.

    Returns ``(matrix, source, cct)`` where source names the model used: "dng", "libraw" or "srgb" (no
    matrix in the raw: camera RGB taken as linear sRGB). A degenerate DNG model falls back to the next one.
    """
    # The white balance stage divides by neutral / max(neutral) (its gains have a minimum of 1), so that is
    # the neutral the matrix is built for: white-balanced (1, 1, 1) then maps to the D65 white with Y = 1.
    camera_neutral = np.asarray(camera_neutral, dtype=np.float64) / np.max(camera_neutral)
    kwargs = _dng_kwargs(raw)
    if kwargs is not None:
        try:
            matrix, cct, _xy = dng_model.matrix_wb_camera_to_xyz_d65(camera_neutral, **kwargs)
            return matrix, "dng", cct
        except LumatuneError:
            pass
    if raw.libraw_matrix is not None:
        try:
            matrix, cct, _xy = dng_model.matrix_wb_camera_to_xyz_d65_from_libraw(raw.libraw_matrix, camera_neutral)
            return matrix, "libraw", cct
        except LumatuneError:
            pass
    return spaces.matrix_rgb_to_xyz("srgb"), "srgb", None


def white_cct(raw: RawImage, camera_neutral: np.ndarray) -> float | None:
    """Correlated colour temperature (K) of the white given by ``camera_neutral``, when the raw has a model."""
    try:
        return metadata_matrix_wb_camera_to_xyz_d65(raw, camera_neutral)[2]
    except LumatuneError:
        return None


def as_shot_neutral(raw: RawImage) -> np.ndarray | None:
    """The camera neutral the camera recorded: AsShotNeutral, else AsShotWhiteXY through the DNG model
    (DNG 1.6 ch. 6, "Converting a white balance xy to a camera neutral"), else LibRaw's as-shot multipliers."""
    tags, kwargs = raw.dng, _dng_kwargs(raw)
    if tags is not None and tags.as_shot_neutral is None and tags.as_shot_white_xy is not None and kwargs:
        for key in ("forward_matrix_1", "forward_matrix_2"):
            kwargs.pop(key)
        try:
            neutral = dng_model.xy_to_camera_neutral(tags.as_shot_white_xy, **kwargs)
            return np.asarray(neutral, dtype=np.float64) / neutral[1]
        except LumatuneError:
            pass
    return raw.as_shot_neutral
