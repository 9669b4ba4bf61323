"""Calibration captures: raws of one camera, read into the normalised linear mosaic the pipeline works on.

Every calibration reads its raws the way the develop pipeline does before any colour processing: the
``linearise`` and ``levels`` stages (black subtracted, white level = 1) and, for colour charts, the
``lens_shading`` stage, so that what is fitted is what the later stages will see. Raws of different cameras
must not be mixed in one calibration: the camera is identified by the DNG UniqueCameraModel, else the EXIF
make and model.

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 5 (linearisation, black subtraction, rescaling) and tag
  UniqueCameraModel.
- libcamera ``utils/raspberrypi/ctt`` (the camera tuning tool reads its images through the same black
  level and lens-shading correction as the ISP before fitting each block).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lumatune.config.blocks import BlockSet
from lumatune.config.tuning import Tuning
from lumatune.errors import UnreadableInputError, UnsupportedError
from lumatune.raw import RawImage, open_raw
from lumatune.stages.base import Frame

__all__ = ["Capture", "camera_identity", "load_captures", "normalised_mosaic", "capture_iso"]


@dataclass(frozen=True, eq=False)
class Capture:
    """One calibration raw.

    Attributes
    ----------
    path : the raw file.
    raw : its metadata and data.
    mosaic : (H, W) float32 CFA mosaic (or (H, W, 3) for a linear raw) after linearisation and levels
        (0 = black, 1 = saturation), lens shading corrected when asked.
    camera : the camera's identity (:func:`camera_identity`).
    """

    path: Path
    raw: RawImage
    mosaic: np.ndarray
    camera: str


def camera_identity(raw: RawImage) -> str:
    """The DNG UniqueCameraModel, else "make model" from EXIF, else "unknown camera"."""
    if raw.dng is not None and raw.dng.unique_camera_model:
        return raw.dng.unique_camera_model.strip()
    name = " ".join(str(raw.exif.get(key) or "").strip() for key in ("make", "model")).strip()
    return name or "unknown camera"


def capture_iso(raw: RawImage) -> float | None:
    """The capture's ISO from EXIF, or None when the raw does not record it."""
    iso = raw.exif.get("iso")
    return float(iso) if iso else None


def normalised_mosaic(raw: RawImage, *, lens_shading=None, correct_shading: bool = True) -> np.ndarray:
    """The raw through the pipeline's ``linearise``, ``levels`` and (optionally) ``lens_shading`` stages.

    Parameters
    ----------
    raw : the raw.
    lens_shading : :class:`~lumatune.stages.lens_shading.LensShadingParams` to correct the shading with;
        ``None`` uses the stage's defaults (the raw's own GainMap, if any).
    correct_shading : False leaves the lens shading in (what shading calibration measures).
    """
    from lumatune.pipeline import run  # lazy: the pipeline loads numba (0.4 s); reading captures' metadata needs none

    tuning = Tuning(blocks=BlockSet(params={} if lens_shading is None else {"lens_shading": lens_shading}))
    names = ("linearise", "levels") + (("lens_shading",) if correct_shading else ())
    return np.asarray(run(Frame(raw=raw), tuning, None, select=names), dtype=np.float32)


def load_captures(
    paths: Sequence[str | os.PathLike], *, lens_shading=None, correct_shading: bool = True
) -> list[Capture]:
    """Read calibration raws of one camera.

    Raises
    ------
    UnreadableInputError : no raw given, or a raw cannot be read.
    UnsupportedError : the raws come from different cameras (the message names both), or a raw has a
        sensor layout other than a 3-colour CFA or linear RGB.
    """
    if not paths:
        raise UnreadableInputError("no raw files given")
    captures: list[Capture] = []
    for path in paths:
        raw = open_raw(path)
        camera = camera_identity(raw)
        if captures and camera != captures[0].camera:
            first = captures[0]
            raise UnsupportedError(
                f"{path}: camera '{camera}' differs from '{first.camera}' of {first.path}; "
                "calibrate one camera at a time"
            )
        mosaic = normalised_mosaic(raw, lens_shading=lens_shading, correct_shading=correct_shading)
        captures.append(Capture(path=Path(path), raw=raw, mosaic=mosaic, camera=camera))
    return captures
