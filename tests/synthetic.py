"""Small synthetic raws with a known answer, written with the project's own DNG writer.

The scene is a grid of colour patches given in linear sRGB (D65), seen by a made-up camera whose
XYZ -> camera matrix is known, so the colorimetric rendering of the ``neutral`` look must give the patches
back. The constants here are independent of lumatune.colour (standard IEC 61966-2-1 numbers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lumatune.io.dng import write_dng

#: IEC 61966-2-1 linear sRGB -> XYZ (D65).
SRGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float64
)
#: A made-up but camera-like XYZ -> camera RGB matrix (broad, overlapping sensitivities).
XYZ_TO_CAMERA = np.array([[1.35, -0.35, -0.12], [-0.45, 1.30, 0.14], [0.05, -0.22, 1.05]])

#: Patch colours, linear sRGB, chosen inside the gamut and away from clipping.
PATCHES = np.array(
    [
        [0.18, 0.18, 0.18], [0.45, 0.45, 0.45], [0.05, 0.05, 0.05], [0.40, 0.10, 0.08],
        [0.08, 0.30, 0.10], [0.07, 0.10, 0.40], [0.45, 0.35, 0.05], [0.30, 0.12, 0.35],
        [0.06, 0.28, 0.35], [0.50, 0.25, 0.15], [0.20, 0.15, 0.10], [0.12, 0.18, 0.30],
    ]
)
XTRANS = np.array(  # Fujifilm's standard X-Trans pattern, written out here apart from the simulator's copy
    [
        [1, 1, 0, 1, 1, 2],
        [1, 1, 2, 1, 1, 0],
        [2, 0, 1, 0, 2, 1],
        [1, 1, 2, 1, 1, 0],
        [1, 1, 0, 1, 1, 2],
        [0, 2, 1, 2, 0, 1],
    ]
)
GRID = (3, 4)  # rows, columns of patches
PATCH = 24  # patch size in pixels, gaps included


def patch_boxes(size: tuple[int, int] = (GRID[1] * PATCH, GRID[0] * PATCH)):
    """Inner boxes (x0, y0, x1, y1) of each patch, away from its edges."""
    margin = PATCH // 4
    return [
        (c * PATCH + margin, r * PATCH + margin, (c + 1) * PATCH - margin, (r + 1) * PATCH - margin)
        for r in range(GRID[0])
        for c in range(GRID[1])
    ]


def scene_srgb() -> np.ndarray:
    """The patch chart as a linear sRGB image (H, W, 3)."""
    image = np.zeros((GRID[0] * PATCH, GRID[1] * PATCH, 3))
    for (r, c), colour in zip(np.ndindex(*GRID), PATCHES):
        image[r * PATCH : (r + 1) * PATCH, c * PATCH : (c + 1) * PATCH] = colour
    return image


def write_chart_dng(
    path: Path,
    *,
    cfa: str = "RGGB",
    exposure: float = 0.7,
    black: int = 256,
    white: int = 4095,
    highlight: bool = False,
    falloff: np.ndarray | None = None,
    **dng_tags,
) -> Path:
    """Write the chart as seen by the made-up camera under D65 as a 12-bit DNG.

    ``exposure`` scales scene linear values to the sensor's normalised range; ``highlight`` adds a
    saturated white square in the last patch. ``falloff`` (a small grid of gains >= 1 spanning the frame)
    darkens the image by its bilinear interpolation, as a lens's shading would.
    """
    from lumatune.io.dng import cfa_pattern_array

    camera = scene_srgb() @ (XYZ_TO_CAMERA @ SRGB_TO_XYZ).T
    white_camera = XYZ_TO_CAMERA @ SRGB_TO_XYZ @ np.ones(3)
    # ColorMatrix convention: the calibration illuminant's white (Y = 1) maps to a camera maximum of 1.
    color_matrix = XYZ_TO_CAMERA / white_camera.max()
    signal = camera / white_camera.max() * exposure
    if highlight:
        signal[-PATCH:, -PATCH:] = 5.0
    if falloff is not None:
        rows = np.interp((np.arange(signal.shape[0]) + 0.5) / signal.shape[0], np.linspace(0, 1, falloff.shape[0]),
                         np.arange(falloff.shape[0]))
        cols = np.interp((np.arange(signal.shape[1]) + 0.5) / signal.shape[1], np.linspace(0, 1, falloff.shape[1]),
                         np.arange(falloff.shape[1]))
        r0, c0 = np.minimum(rows.astype(int), falloff.shape[0] - 2), np.minimum(cols.astype(int), falloff.shape[1] - 2)
        fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
        grid = (falloff[r0][:, c0] * (1 - fr) * (1 - fc) + falloff[r0 + 1][:, c0] * fr * (1 - fc)
                + falloff[r0][:, c0 + 1] * (1 - fr) * fc + falloff[r0 + 1][:, c0 + 1] * fr * fc)
        signal = signal / grid[..., None]
    pattern = cfa_pattern_array(cfa)
    rows, cols = np.indices(signal.shape[:2])
    mosaic = signal[rows, cols, pattern[rows % 2, cols % 2]]
    dn = np.clip(np.rint(black + mosaic * (white - black)), 0, white).astype(np.uint16)
    tags = dict(
        cfa_pattern=cfa, black_level=black, white_level=white, color_matrix_1=color_matrix,
        calibration_illuminant_1=21, as_shot_neutral=white_camera / white_camera.max(),
    )
    tags.update(dng_tags)
    return write_dng(path, dn, **tags)
