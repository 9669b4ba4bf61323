"""The lab's lens measurements on images whose answer is known in closed form.

A checkerboard is rendered with exact pixel-area coverage (the board is separable) at corners moved by a known
similarity (which the grid residual must ignore) or by a known radial distortion, with the red channel shifted by
a known amount (lateral CA), and a flat field with a known radial fall-off.
"""

from __future__ import annotations

import numpy as np

from lumatune.lab.lens import flat_field_residual, grid_residual, lateral_ca

WIDTH, HEIGHT, SQUARE = 400, 300, 25.0
COLUMNS, ROWS = 12, 8
"""Board squares; the board starts at (ORIGIN, ORIGIN)."""
ORIGIN = 50.0

GRID_FLOOR_PX = 0.05
"""Residual of a perfect board (OpenCV's sub-pixel corners) (measured: 0.004 px)."""
CA_TOLERANCE_PX = 0.05
"""Error of a known 0.5 px shift of the red channel (measured: 0.003 px)."""


def _square_wave_mean(edges, origin, side):
    def integral(t):
        u = (t - origin) / side
        phase = u - 2.0 * np.floor(u / 2.0)
        return side * np.where(phase < 1.0, phase, 2.0 - phase)

    return integral(edges + 1.0) - integral(edges)


def _board(shift_x: float = 0.0) -> np.ndarray:
    x = np.arange(WIDTH, dtype=np.float64)
    y = np.arange(HEIGHT, dtype=np.float64)
    sx = _square_wave_mean(x - shift_x, ORIGIN, SQUARE)
    sy = _square_wave_mean(y, ORIGIN, SQUARE)
    inside_x = np.clip(np.minimum(x + 1 - shift_x, ORIGIN + COLUMNS * SQUARE) - np.maximum(x - shift_x, ORIGIN), 0, 1)
    inside_y = np.clip(np.minimum(y + 1, ORIGIN + ROWS * SQUARE) - np.maximum(y, ORIGIN), 0, 1)
    board = 0.45 + 0.35 * sy[:, None] * sx[None, :]
    coverage = inside_y[:, None] * inside_x[None, :]
    return board * coverage + 0.3 * (1 - coverage)


def _corners() -> tuple[np.ndarray, tuple[int, int]]:
    xs = ORIGIN + SQUARE * np.arange(1, COLUMNS)
    ys = ORIGIN + SQUARE * np.arange(1, ROWS)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2), (COLUMNS - 1, ROWS - 1)


def test_grid_residual_ignores_a_similarity_and_sees_a_distortion():
    image = np.repeat(_board()[:, :, None], 3, axis=2)
    corners, pattern = _corners()
    assert grid_residual(image, corners, pattern)["rms_px"] <= GRID_FLOOR_PX
    angle, scale, shift = 0.02, 1.03, np.array([3.0, -2.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (corners - corners.mean(0)) @ rotation.T * scale + corners.mean(0) + shift
    assert grid_residual(image, moved, pattern)["rms_px"] <= GRID_FLOOR_PX
    centre = np.array([WIDTH / 2, HEIGHT / 2])
    r2 = np.sum((corners - centre) ** 2, axis=1, keepdims=True) / (WIDTH / 2) ** 2
    distorted = centre + (corners - centre) * (1 + 0.02 * r2)  # 2 % at the edge: ~1 px at the outer corners
    # closed form: the least-squares similarity (x' = a x - b y + tx, y' = b x + a y + ty) of the distorted points
    # onto the true ones, solved here as a linear system
    x, y = distorted[:, 0], distorted[:, 1]
    design = np.block([[x[:, None], -y[:, None], np.ones((len(x), 1)), np.zeros((len(x), 1))],
                       [y[:, None], x[:, None], np.zeros((len(x), 1)), np.ones((len(x), 1))]])
    target = np.concatenate([corners[:, 0], corners[:, 1]])
    fitted = design @ np.linalg.lstsq(design, target, rcond=None)[0]
    expected = np.sqrt(np.mean(np.sum((fitted - target).reshape(2, -1) ** 2, axis=0)))
    assert expected > 0.2
    assert abs(grid_residual(image, distorted, pattern)["rms_px"] - expected) <= GRID_FLOOR_PX


def test_lateral_ca_measures_a_known_shift():
    image = np.stack([_board(0.5), _board(), _board()], axis=-1)
    _, pattern = _corners()
    ca = lateral_ca(image, pattern)
    assert abs(ca["red_px"] - 0.5) <= CA_TOLERANCE_PX
    assert ca["blue_px"] <= CA_TOLERANCE_PX


def test_flat_field_residual_of_a_known_falloff():
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] + 0.5
    r2 = ((x - WIDTH / 2) ** 2 + (y - HEIGHT / 2) ** 2) / ((WIDTH / 2) ** 2 + (HEIGHT / 2) ** 2)
    flat = np.repeat((1.0 - 0.1 * r2)[:, :, None], 3, axis=2)
    result = flat_field_residual(flat)
    assert -10.0 < result["corner_percent"] < -8.0  # the corner boxes' centres sit just inside r = 1
    assert flat_field_residual(np.ones((HEIGHT, WIDTH, 3)))["max_percent"] < 1e-9
