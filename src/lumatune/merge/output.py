"""Write a merged raw as a DNG: the reference's size, CFA, colour tags, orientation and EXIF, a NoiseProfile
of the merged noise, and headroom for what a bracket recorded above the reference's white.

The mosaic is written as 16-bit integers with black level :data:`OUTPUT_BLACK` and white level 65535, which
for the usual 12- and 14-bit sensors is 4 to 16 times finer than the frames' own steps (the merge lowers the
noise, so the quantisation must be finer too). When the frames reach above the reference's white (a shorter
exposure in a bracket), the value 1.0 of the reference is written at ``1 / headroom`` of the range (the
headroom is what the data needs, :func:`headroom_of`) and BaselineExposure is raised by ``log2(headroom)``
stops, so that a reader that honours BaselineExposure (the DNG specification asks it to) renders the
reference's exposure and keeps the highlights the bracket saved. 16-bit integers hold 16 stops: a 14-bit
sensor bracketed by 2 stops each way would need 18, so at base ISO (about one DN of read noise) the longest
frame's deepest shadows are quantised a little coarser than that frame recorded them.

References
----------
.. [1] Adobe, *Digital Negative (DNG) Specification* 1.6.0.0, 2021: BaselineExposure ("the amount by which to
       move the zero point for exposure"), NoiseProfile, BlackLevel, WhiteLevel, OpcodeList2.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from lumatune.io.dng import write_dng
from lumatune.merge.merge import MergeResult
from lumatune.raw.dng_read import open_tiff
from lumatune.raw.dng_tags import TAGS

__all__ = ["OUTPUT_BLACK", "OUTPUT_WHITE", "headroom_of", "tiff_orientation", "write_merged_dng"]

OUTPUT_BLACK = 1024
"""Black level of the merged DNG: room below zero for the (reduced) noise of the darkest pixels."""

OUTPUT_WHITE = 65535
"""White level of the merged DNG."""

_TIFF_ORIENTATION_OF_TURNS = {0: 1, 1: 8, 2: 3, 3: 6}
"""TIFF Orientation of a raw that needs this many counter-clockwise quarter turns to stand upright."""


def tiff_orientation(turns: int) -> int:
    """The TIFF Orientation tag value of ``turns`` counter-clockwise quarter turns (1, 8, 3, 6)."""
    return _TIFF_ORIENTATION_OF_TURNS[turns % 4]


HEADROOM_STEP_STOPS = 1 / 16
"""The headroom is rounded up to this fraction of a stop."""


def headroom_of(max_value: float, merged: np.ndarray | None = None) -> float:
    """Headroom factor that keeps the merged values (at most ``max_value`` times the reference's white).

    Only as much as the data needs (its largest value, rounded up to :data:`HEADROOM_STEP_STOPS`): every
    stop of headroom costs a bit of the 16-bit samples at the bottom, where a bracket's long exposure put its
    shadow detail. A burst of equal exposures (``max_value`` 1) has none.
    """
    if max_value <= 1.0:
        return 1.0
    needed = max_value if merged is None else min(max_value, max(1.0, float(np.nanmax(merged))))
    stops = math.ceil(math.log2(needed) / HEADROOM_STEP_STOPS - 1e-9) * HEADROOM_STEP_STOPS
    return float(2.0**stops)


def _encoded(merged: np.ndarray, headroom: float) -> np.ndarray:
    """The merged values (1 = reference white) as uint16 DNG samples."""
    out = merged * np.float32((OUTPUT_WHITE - OUTPUT_BLACK) / headroom)
    out += np.float32(OUTPUT_BLACK)
    np.rint(out, out=out)
    np.clip(out, 0, OUTPUT_WHITE, out=out)
    return out.astype(np.uint16)


def _opcode_list_2(result: MergeResult) -> bytes | None:
    """The reference's OpcodeList2 bytes, when its pixels are the whole stored image (no crop moved them)."""
    raw = result.reference
    if raw.dng is None or not raw.dng.gain_maps:
        return None
    if raw.crop_origin != (0, 0) or tuple(result.merged.shape) != tuple(raw.full_size):
        return None
    with open_tiff(raw.path) as tif:
        tag = tif.pages[0].tags.get(TAGS["OpcodeList2"])
        return bytes(tag.value) if tag is not None else None


def write_merged_dng(path: str | os.PathLike, result: MergeResult, *, overwrite: bool = False) -> Path:
    """Write ``result`` as a DNG (atomically; an existing file only with ``overwrite``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    raw = result.reference
    dng = raw.dng
    headroom = headroom_of(result.max_value, result.merged)
    profile = np.asarray(result.noise_profile, dtype=np.float64)
    # variance of the written signal x' = x / headroom: (S x + O) / headroom^2 = (S / headroom) x' + O / headroom^2
    written_profile = np.column_stack([profile[:, 0] / headroom, profile[:, 1] / headroom**2])
    colour = {}
    if dng is not None:
        colour = {
            "color_matrix_1": dng.color_matrix_1,
            "calibration_illuminant_1": dng.calibration_illuminant_1 or 21,
            "color_matrix_2": dng.color_matrix_2,
            "calibration_illuminant_2": dng.calibration_illuminant_2 if dng.color_matrix_2 is not None else None,
            "forward_matrix_1": dng.forward_matrix_1,
            "forward_matrix_2": dng.forward_matrix_2,
            "camera_calibration_1": dng.camera_calibration_1,
            "camera_calibration_2": dng.camera_calibration_2,
            "analog_balance": dng.analog_balance,
            "unique_camera_model": dng.unique_camera_model,
        }
    if colour.get("color_matrix_1") is None:
        matrix = raw.libraw_matrix if raw.libraw_matrix is not None else np.eye(3)
        colour = {"color_matrix_1": matrix, "calibration_illuminant_1": 21}
    neutral = raw.as_shot_neutral
    exif = raw.exif
    return write_dng(
        path,
        _encoded(result.merged, headroom),
        cfa_pattern=np.asarray(raw.cfa, dtype=np.uint8),
        black_level=OUTPUT_BLACK,
        white_level=OUTPUT_WHITE,
        **colour,
        as_shot_neutral=None if neutral is None else [float(v) for v in neutral],
        baseline_exposure=(dng.baseline_exposure if dng is not None else 0.0) + math.log2(headroom),
        noise_profile=written_profile,
        opcode_list_2=_opcode_list_2(result),
        make=exif.get("make") or "unknown",
        model=exif.get("model") or "unknown",
        exposure_time=exif.get("exposure_time"),
        f_number=exif.get("f_number"),
        iso=int(exif["iso"]) if exif.get("iso") else None,
        focal_length=exif.get("focal_length"),
        datetime_original=exif.get("datetime_original"),
        lens_model=exif.get("lens_model"),
        orientation=tiff_orientation(raw.orientation_turns),
        overwrite=overwrite,
    )
