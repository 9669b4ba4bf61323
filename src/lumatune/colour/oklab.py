"""Oklab on the working space (linear Rec.2020, D65) and the eight hue centres the looks' hue table uses.

Oklab's published M1 (XYZ -> LMS) is taken after Rec.2020 -> XYZ and its rows rescaled so that the working
white has LMS (1, 1, 1) exactly: greys then have a = b = 0 and no hue edit can tint them.

References
----------
- B. Ottosson, "A perceptual color space for image processing", 2020, https://bottosson.github.io/posts/oklab/
- ITU-R BT.2020-2 (2015), Table 3 (primaries, D65 white).
"""

from __future__ import annotations

import numpy as np

from lumatune.colour.spaces import MATRIX_REC2020_TO_XYZ

__all__ = [
    "HUE_NAMES",
    "HUE_ANGLES",
    "MATRIX_REC2020_TO_LMS",
    "MATRIX_LMS_TO_REC2020",
    "MATRIX_LMS_TO_OKLAB",
    "MATRIX_OKLAB_TO_LMS",
    "rgb_to_oklab",
    "oklab_to_rgb",
]

HUE_NAMES = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")
HUE_ANGLES = (29.0, 55.0, 110.0, 142.0, 195.0, 264.0, 294.0, 328.0)
"""Oklab hue angles (degrees) of the table's hues: sRGB red, (1, 0.5, 0), yellow, green, cyan, blue, (0.5, 0, 1),
magenta."""

_OKLAB_M1 = np.array(
    [
        [0.8189330101, 0.3618667424, -0.1288597137],
        [0.0329845436, 0.9293118715, 0.0361456387],
        [0.0482003018, 0.2643662691, 0.6338517070],
    ]
)
MATRIX_LMS_TO_OKLAB = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
"""Oklab's M2: cube-rooted LMS -> Lab."""


def _rec2020_to_lms() -> np.ndarray:
    """Oklab's M1 after Rec.2020 -> XYZ, rows rescaled so that the working white has LMS (1, 1, 1) exactly.

    The rescaling (at most 5e-4) absorbs the rounding of the published matrix and of the D65 chromaticity.
    """
    matrix = _OKLAB_M1 @ MATRIX_REC2020_TO_XYZ
    return matrix / matrix.sum(axis=1, keepdims=True)


MATRIX_REC2020_TO_LMS = _rec2020_to_lms()
MATRIX_LMS_TO_REC2020 = np.linalg.inv(MATRIX_REC2020_TO_LMS)
MATRIX_OKLAB_TO_LMS = np.linalg.inv(MATRIX_LMS_TO_OKLAB)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """Linear Rec.2020 (D65, Y = 1 white) -> Oklab (float64; white at L = 1, a = b = 0 exactly)."""
    return np.cbrt(np.asarray(rgb, np.float64) @ MATRIX_REC2020_TO_LMS.T) @ MATRIX_LMS_TO_OKLAB.T


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Oklab -> linear Rec.2020 (float64)."""
    return ((np.asarray(lab, np.float64) @ MATRIX_OKLAB_TO_LMS.T) ** 3) @ MATRIX_LMS_TO_REC2020.T
