"""Crop: the largest centred window of a given aspect ratio ("65:24", "1:1", "3:2", "16:9", "2.39:1", ...).

The ratio is long side : short side and follows the picture: a portrait picture cropped to "3:2" becomes
2:3. Orientation is applied after the stages (``pipeline.orient``), so the window is worked out for the
upright picture and mapped back to the stored one. The result is a view of the input: no pixels are copied.

References
----------
-   SMPTE 195-2000 (the 2.39:1 anamorphic projection aperture); 65:24 is the 65 x 24 mm frame of panoramic
    35 mm cameras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["STAGE", "CropParams", "crop", "crop_window", "parse_aspect"]

_ASPECT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
MAX_RATIO = 10.0


def parse_aspect(text: str) -> float:
    """The ratio long side / short side of ``"W:H"`` (either order); ValueError if malformed or extreme."""
    match = _ASPECT.match(text)
    if match is None:
        raise ValueError(f"aspect '{text}' is not W:H (e.g. 3:2, 65:24, 2.39:1)")
    w, h = float(match.group(1)), float(match.group(2))
    if w <= 0 or h <= 0 or max(w, h) / min(w, h) > MAX_RATIO:
        raise ValueError(f"aspect '{text}': both sides must be positive and at most {MAX_RATIO:g} times the other")
    return max(w, h) / min(w, h)


@dataclass(frozen=True)
class CropParams:
    """Crop to an aspect ratio."""

    aspect: str = param("", doc="W:H such as 65:24, 1:1, 4:3, 3:2, 16:9, 2.39:1; empty: no crop")

    def __post_init__(self):
        if self.aspect:
            parse_aspect(self.aspect)


def crop_window(height: int, width: int, ratio: float, quarter_turns: int = 0) -> tuple[int, int, int, int]:
    """(top, left, rows, cols) of the centred window of ``ratio`` (long/short) in a stored (height, width) image.

    ``quarter_turns`` is the rotation that makes the stored image upright; the ratio applies upright.
    """
    up_h, up_w = (width, height) if quarter_turns % 2 else (height, width)
    if up_w >= up_h:
        target_w, target_h = ratio, 1.0
    else:
        target_w, target_h = 1.0, ratio
    if up_w * target_h > up_h * target_w:  # too wide: keep the height
        rows, cols = up_h, min(up_w, round(up_h * target_w / target_h))
    else:
        rows, cols = min(up_h, round(up_w * target_h / target_w)), up_w
    if quarter_turns % 2:
        rows, cols = cols, rows
    return (height - rows) // 2, (width - cols) // 2, rows, cols


def crop(image: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    """The window of the image, as a view."""
    top, left, rows, cols = window
    return image[top : top + rows, left : left + cols]


def _plan(params: CropParams, frame: Frame, image: np.ndarray) -> tuple[int, int, int, int] | None:
    if not params.aspect:
        return None
    window = crop_window(image.shape[0], image.shape[1], parse_aspect(params.aspect), frame.raw.orientation_turns)
    return None if window[2:] == image.shape[:2] else window


STAGE = Stage(
    name="crop",
    side="look",
    params=CropParams,
    plan=_plan,
    process=crop,
    summary="centred crop to an aspect ratio",
)
