"""The lens stage with lensfun (lensfunpy): a real profile undoes an image rendered through that profile's own
forward model; a raw whose lens lensfun does not know develops unchanged, with one notice.

The forward model is lensfunpy's reverse transform (``Modifier.initialize(..., reverse=True)``): for each pixel
of the distorted image, where it lies in the undistorted one. A checkerboard is rendered there analytically
(4 x 4 samples per pixel), corrected by the stage, and its inner corners found by OpenCV are compared with the
ideal ones after a similarity fit (lumatune.lab.lens).
"""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import write_chart_dng

lensfunpy = pytest.importorskip("lensfunpy")

from lumatune.api import develop  # noqa: E402
from lumatune.io.dng import write_dng  # noqa: E402
from lumatune.lab.lens import grid_residual  # noqa: E402
from lumatune.raw.read import open_raw  # noqa: E402
from lumatune.stages.base import Frame  # noqa: E402
from lumatune.stages.lens import LensParams, apply_lens_fast, lens_plan  # noqa: E402

CAMERA = ("NIKON CORPORATION", "NIKON D750")
LENS = "Nikon AF-S Zoom-Nikkor 24-70mm f/2.8G ED"
FOCAL_MM, APERTURE = 24.0, 8.0
"""A real profile of the bundled database: ptlens distortion at 24 mm (barrel, ~1.5 % at the corner)."""

WIDTH, HEIGHT, SUPERSAMPLE = 600, 400, 4
SQUARE = 40.0
"""The checkerboard's square side, pixels of the undistorted image (inner corners every 40 px)."""

LENSFUN_RESIDUAL_PX = 0.3
"""The issue's bound on the grid's RMS residual after correction (measured: 0.068 px)."""


COLUMNS, ROWS = int(WIDTH // SQUARE) - 2, int(HEIGHT // SQUARE) - 2
"""Squares of the board, which leaves one square of grey around it."""


def _checker(x, y):
    board = (x >= SQUARE) & (x < SQUARE * (COLUMNS + 1)) & (y >= SQUARE) & (y < SQUARE * (ROWS + 1))
    squares = np.where((np.floor(x / SQUARE) + np.floor(y / SQUARE)) % 2 == 0, 0.8, 0.1)
    return np.where(board, squares, 0.45)


def _distorted_checker() -> np.ndarray:
    """The checkerboard seen through the lens: lensfunpy's reverse maps at 4 x the size, box-averaged."""
    db = lensfunpy.Database()
    camera = db.find_cameras(*CAMERA)[0]
    lens = db.find_lenses(camera, None, LENS)[0]
    big_w, big_h = WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE
    modifier = lensfunpy.Modifier(lens, camera.crop_factor, big_w, big_h)
    modifier.initialize(FOCAL_MM, APERTURE, 1000.0, scale=1.0, pixel_format=np.float32,
                        flags=lensfunpy.ModifyFlags.DISTORTION, reverse=True)
    coords = modifier.apply_geometry_distortion()  # (h, w, 2): undistorted x, y of each distorted pixel centre
    undistorted = (coords + 0.5) / SUPERSAMPLE  # to the small image's coordinates, pixel edges at integers
    big = _checker(undistorted[..., 0], undistorted[..., 1])
    small = big.reshape(HEIGHT, SUPERSAMPLE, WIDTH, SUPERSAMPLE).mean(axis=(1, 3))
    return np.repeat(small[:, :, None], 3, axis=2).astype(np.float32)


def _ideal_corners() -> tuple[np.ndarray, tuple[int, int]]:
    xs = SQUARE * np.arange(2, COLUMNS + 1)
    ys = SQUARE * np.arange(2, ROWS + 1)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2), (len(xs), len(ys))


def test_a_real_lensfun_profile_undoes_its_forward_model(tmp_path):
    path = write_dng(tmp_path / "d750.dng", np.full((HEIGHT, WIDTH), 1000, np.uint16), white_level=4095,
                     color_matrix_1=np.eye(3), make=CAMERA[0], model=CAMERA[1], lens_model=LENS,
                     focal_length=FOCAL_MM, f_number=APERTURE)
    frame = Frame(raw=open_raw(path))
    plan = lens_plan(LensParams(border="keep", vignetting=False), frame, (HEIGHT, WIDTH, 3))
    assert plan is not None and any("applied" in note for note in frame.notes)
    corners, pattern = _ideal_corners()
    distorted = _distorted_checker()
    before = grid_residual(distorted, corners, pattern)
    after = grid_residual(apply_lens_fast(distorted.copy(), plan), corners, pattern)
    assert before["rms_px"] > 2 * LENSFUN_RESIDUAL_PX  # the profile does distort (measured: 0.69 px)
    assert after["rms_px"] <= LENSFUN_RESIDUAL_PX


def test_an_unknown_lens_develops_unchanged_with_one_notice(tmp_path):
    path = write_chart_dng(tmp_path / "unknown.dng", lens_model="Nobody 12-34mm f/5.6", focal_length=20.0,
                           f_number=5.6)
    notes = []
    image = develop(path, "neutral", notes=notes)
    tuning = tmp_path / "no-lensfun.toml"
    tuning.write_text("version = 1\n\n[lens]\nlensfun = false\n")
    without = develop(path, "neutral", tuning)
    np.testing.assert_array_equal(image, without)
    lens_notes = [note for note in notes if note.startswith("lens")]
    assert len(lens_notes) == 1 and "not corrected" in lens_notes[0]
