"""Many small, different DNGs for batch tests (written with the project's own DNG writer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthetic import SRGB_TO_XYZ, XYZ_TO_CAMERA

from lumatune.io.dng import write_dng

TINY_SIZE = (64, 48)
"""(width, height) of each raw: small enough for hundreds in a test."""

BLACK, WHITE = 64, 4095


def write_tiny_raws(folder: Path, count: int, size: tuple[int, int] = TINY_SIZE) -> list[Path]:
    """``count`` RGGB DNGs, each a different smooth colour field (seeded by its index), in ``folder``.

    Every tenth file goes in a subfolder, so that batches see a tree, not a flat folder.
    """
    width, height = size
    paths = []
    for index in range(count):
        rng = np.random.default_rng(index)
        corners = rng.uniform(0.05, 0.6, (2, 2, 3))
        v, u = np.linspace(0, 1, height)[:, None, None], np.linspace(0, 1, width)[None, :, None]
        field = (1 - v) * ((1 - u) * corners[0, 0] + u * corners[0, 1]) + v * ((1 - u) * corners[1, 0] + u * corners[1, 1])
        camera = field @ (XYZ_TO_CAMERA @ SRGB_TO_XYZ).T
        camera /= camera.max()
        rows, cols = np.indices((height, width))
        pattern = np.array([[0, 1], [1, 2]])
        mosaic = camera[rows, cols, pattern[rows % 2, cols % 2]] * 0.8
        dn = np.clip(np.rint(BLACK + mosaic * (WHITE - BLACK)), 0, WHITE).astype(np.uint16)
        white = XYZ_TO_CAMERA @ SRGB_TO_XYZ @ np.ones(3)
        place = folder / f"part{index // 10 % 3}" if index % 10 == 9 else folder
        place.mkdir(parents=True, exist_ok=True)
        paths.append(
            write_dng(
                place / f"tiny_{index:04d}.dng", dn, cfa_pattern="RGGB", black_level=BLACK, white_level=WHITE,
                color_matrix_1=XYZ_TO_CAMERA / white.max(), calibration_illuminant_1=21,
                as_shot_neutral=white / white.max(), iso=100 + index,
            )
        )
    return paths
