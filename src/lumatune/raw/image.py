"""RawImage and DngTags: what the reader returns, as plain dataclasses (no reader, no file access here).

Stages and colour code take their types from this module, so that they do not import the reader.

References
----------
- Adobe, *Digital Negative (DNG) Specification*, version 1.6.0.0, 2021: chapters 4 (tags) and 6 (colour).
- LibRaw API, ``libraw_iparams_t`` and ``libraw_image_sizes_t``: https://www.libraw.org/docs/API-datastruct.html
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lumatune.raw.opcodes import GainMap

__all__ = ["DngTags", "MAX_MEGAPIXELS", "RawImage"]

#: Refuse images larger than this many megapixels before unpacking them (a memory cap).
MAX_MEGAPIXELS = float(os.environ.get("LUMATUNE_MAX_MEGAPIXELS", "200"))


@dataclass(frozen=True)
class DngTags:
    """The DNG colour and rendering tags lumatune uses, named after the spec's tags (DNG 1.6 ch. 4 and 6).

    Matrices are 3x3 float64; absent tags are ``None``.
    """

    color_matrix_1: np.ndarray | None = None
    color_matrix_2: np.ndarray | None = None
    forward_matrix_1: np.ndarray | None = None
    forward_matrix_2: np.ndarray | None = None
    camera_calibration_1: np.ndarray | None = None
    camera_calibration_2: np.ndarray | None = None
    calibration_illuminant_1: int | None = None
    calibration_illuminant_2: int | None = None
    analog_balance: np.ndarray | None = None
    as_shot_neutral: np.ndarray | None = None
    as_shot_white_xy: np.ndarray | None = None
    baseline_exposure: float = 0.0
    linearization_table: np.ndarray | None = None
    noise_profile: np.ndarray | None = None
    default_crop: tuple[int, int, int, int] | None = None  # origin x, origin y, width, height
    active_area: tuple[int, int, int, int] | None = None  # top, left, bottom, right
    gain_maps: tuple[GainMap, ...] = ()
    unique_camera_model: str | None = None
    opcode_lists: tuple[tuple, tuple, tuple] = ((), (), ())  # OpcodeList1, 2, 3 as parsed (raw.opcodes)


@dataclass(frozen=True, eq=False)
class RawImage:
    """A camera raw: sensor data of the visible area plus the metadata the pipeline needs.

    Attributes
    ----------
    data : uint16 array, (H, W) for a CFA mosaic or (H, W, 3) for a linear (already demosaiced) raw, in the
        sensor's orientation (not yet rotated), before black-level subtraction.
    cfa : int8 (2, 2) or (6, 6) array of channel indices 0 = R, 1 = G, 2 = B aligned with ``data[0, 0]``,
        or ``None`` for linear raws.
    black_level : float32 array shaped like ``cfa`` (one level per CFA position) or (3,) for linear raws.
    white_level : the sensor's saturation value in ``data`` units.
    as_shot_neutral : camera RGB of the scene white as the camera recorded it (green = 1), or ``None``.
    daylight_neutral : LibRaw's daylight camera neutral, or ``None``.
    libraw_matrix : LibRaw's XYZ -> camera matrix (``rgb_xyz_matrix``), or ``None`` when LibRaw has none.
    dng : the DNG tags, or ``None`` for other formats.
    orientation_turns : counter-clockwise quarter turns that make the image upright.
    exif : make, model, lens_model, exposure_time, f_number, iso, focal_length, datetime_original.
    """

    path: Path
    data: np.ndarray
    cfa: np.ndarray | None
    black_level: np.ndarray
    white_level: float
    as_shot_neutral: np.ndarray | None
    daylight_neutral: np.ndarray | None
    libraw_matrix: np.ndarray | None
    dng: DngTags | None
    orientation_turns: int
    crop_origin: tuple[int, int]  # (row, col) of data[0, 0] in the full raw frame
    full_size: tuple[int, int]  # (rows, cols) of the full raw frame, for opcode coordinates
    exif: dict = field(default_factory=dict)
    camera_asks_auto_wb: bool = False  # LibRaw's as-shot multipliers start with -1 (dcraw: use auto WB)
    linearised: bool = True  # LibRaw applies LinearizationTable while decoding

    @property
    def is_mosaic(self) -> bool:
        """True when the data is a CFA mosaic that needs demosaicing."""
        return self.cfa is not None

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the developed image, after orientation."""
        h, w = self.data.shape[:2]
        return (h, w) if self.orientation_turns % 2 else (w, h)

    def replace(self, **changes) -> RawImage:
        """A copy with some fields changed (the raw itself is immutable)."""
        return dataclasses.replace(self, **changes)
