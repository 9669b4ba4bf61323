"""The virtual camera's lens corrections: distortion, lateral colour and vignetting that a DNG's opcodes undo.

A :class:`VirtualLens` is defined by its correction, as a camera maker writes it: one WarpRectilinear per colour
plane and a FixVignetteRadial, in OpcodeList3 (:func:`opcode_list_3`). The capture is rendered through the
inverse of that correction, so that the opcodes undo it exactly:

- distortion: the scene point at normalised radius ``r`` (1 at the corner, centre of the frame) is imaged at
  ``r (1 + D r^2)`` for green, ``D`` the distortion at the corner (-0.05: barrel 5 %, +0.03: pincushion 3 %);
- lateral colour: red is imaged ``(1 + a)`` and blue ``(1 - a)`` times as far from the centre as green, with
  ``a m`` = ``lateral_ca_px`` pixels at the corner (``m`` the half diagonal);
- vignetting: the sensor receives ``1 / (1 + k r^2)`` of the light at sensor radius ``r``, ``k = 2^-EV - 1``
  so that the corner is ``vignetting_ev`` stops darker.

The sensor pixel at ``s`` shows the scene point ``d`` with ``warp(d) = s`` (the DNG warp maps the corrected
image to the sensor), found by Newton's method on the radius. The scene, and the truth, keep the undistorted
geometry: :func:`checkerboard` gives a grid scene whose inner corners the truth lists (:func:`lens_truth`).

References
----------
-   Adobe, *DNG Specification* 1.6.0.0, chapter 7: WarpRectilinear (1) and FixVignetteRadial (3) in OpcodeList3.
-   ISO 17850:2015, *Photography - Digital cameras - Geometric distortion (GD) measurements* (distortion in
    percent of the ideal radius, measured on a grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from lumatune.errors import UnsupportedError
from lumatune.raw.opcodes import FixVignetteRadial, WarpRectilinear, encode_opcode, encode_opcode_list
from lumatune.sim.scene_types import Scene
from lumatune.sim.spectra import WAVELENGTHS

__all__ = [
    "CHECKER_REFLECTANCES",
    "CHECKER_SQUARES",
    "VirtualLens",
    "apply_lens",
    "checkerboard",
    "checker_corners",
    "lens_truth",
    "opcode_list_3",
    "relative_illumination",
]

CHECKER_SQUARES = 12
"""Squares along the checkerboard's longer side."""

CHECKER_REFLECTANCES = (0.1, 0.8)
"""Dark and light squares (the slanted edge's reflectances)."""

CHECKER_FILL = 0.94
"""Fraction of the frame's shorter side the board spans (it stays inside the barrel-distorted frame)."""

_NEWTON_STEPS = 12


@dataclass(frozen=True)
class VirtualLens:
    """Distortion at the corner (fraction), lateral colour at the corner (px) and vignetting at the corner (EV)."""

    distortion: float = 0.0
    lateral_ca_px: float = 0.0
    vignetting_ev: float = 0.0

    def __post_init__(self) -> None:
        if not (-0.2 <= self.distortion <= 0.2 and 0 <= abs(self.lateral_ca_px) <= 20 and -4 <= self.vignetting_ev <= 0):
            raise UnsupportedError(
                "virtual lens: distortion must be within +-20 %, lateral CA within 20 px, vignetting in [-4, 0] EV"
            )

    @property
    def active(self) -> bool:
        return bool(self.distortion or self.lateral_ca_px or self.vignetting_ev)


def _half_diagonal(width: int, height: int) -> float:
    return 0.5 * math.hypot(width, height)


def _plane_coefficients(lens: VirtualLens, width: int, height: int) -> np.ndarray:
    """(3, 4) WarpRectilinear kr0..kr3 of the red, green and blue planes."""
    a = lens.lateral_ca_px / _half_diagonal(width, height)
    return np.array([[s, lens.distortion * s, 0.0, 0.0] for s in (1.0 + a, 1.0, 1.0 - a)])


def _vignette_k(lens: VirtualLens) -> float:
    return 2.0 ** (-lens.vignetting_ev) - 1.0


def opcode_list_3(lens: VirtualLens, width: int, height: int) -> bytes | None:
    """OpcodeList3 that corrects the lens: FixVignetteRadial (sensor coordinates, so first), then WarpRectilinear."""
    if not lens.active:
        return None
    opcodes = []
    if lens.vignetting_ev:
        opcodes.append(FixVignetteRadial(np.array([_vignette_k(lens), 0, 0, 0, 0.0]), (0.5, 0.5)))
    if lens.distortion or lens.lateral_ca_px:
        opcodes.append(WarpRectilinear(_plane_coefficients(lens, width, height), np.zeros((3, 2)), (0.5, 0.5)))
    return encode_opcode_list([encode_opcode(op) for op in opcodes])


def _scene_radius(r_sensor: np.ndarray, kr: np.ndarray) -> np.ndarray:
    """The corrected-image radius d with d (kr0 + kr1 d^2) = r_sensor (Newton's method from d = r)."""
    d = r_sensor / kr[0]
    for _ in range(_NEWTON_STEPS):
        value = d * (kr[0] + kr[1] * d * d) - r_sensor
        d = d - value / (kr[0] + 3.0 * kr[1] * d * d)
    return d


def apply_lens(image: np.ndarray, lens: VirtualLens) -> np.ndarray:
    """The (H, W, 3) scene image (undistorted geometry) as the sensor sees it through the lens's warp (bicubic)."""
    height, width = image.shape[:2]
    if not (lens.distortion or lens.lateral_ca_px):
        return image
    m = _half_diagonal(width, height)
    x = (np.arange(width, dtype=np.float64) + 0.5 - width / 2.0)[None, :] / m
    y = (np.arange(height, dtype=np.float64) + 0.5 - height / 2.0)[:, None] / m
    r = np.hypot(x, y)
    out = np.empty_like(image)
    for plane, kr in enumerate(_plane_coefficients(lens, width, height)):
        ratio = _scene_radius(r, kr) / np.maximum(r, 1e-12)
        map_x = (width / 2.0 + m * x * ratio - 0.5).astype(np.float32)
        map_y = (height / 2.0 + m * y * ratio - 0.5).astype(np.float32)
        out[:, :, plane] = cv2.remap(np.ascontiguousarray(image[:, :, plane]), map_x, map_y, cv2.INTER_CUBIC,
                                     borderMode=cv2.BORDER_REFLECT_101)
    return out


def relative_illumination(width: int, height: int, lens: VirtualLens) -> np.ndarray | None:
    """(H, W) float32 light the sensor receives, 1 at the centre, ``2^vignetting_ev`` at the corners (or None)."""
    if not lens.vignetting_ev:
        return None
    m = _half_diagonal(width, height)
    x = (np.arange(width, dtype=np.float64) + 0.5 - width / 2.0)[None, :] / m
    y = (np.arange(height, dtype=np.float64) + 0.5 - height / 2.0)[:, None] / m
    return (1.0 / (1.0 + _vignette_k(lens) * (x * x + y * y))).astype(np.float32)


def _square(width: int, height: int) -> float:
    return CHECKER_FILL * min(width, height) / round(CHECKER_SQUARES * min(width, height) / max(width, height))


def checker_corners(width: int, height: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The checkerboard's inner corners (x, y), row by row, pixel edges at integers; and (columns, rows) of them."""
    side = _square(width, height)
    cols = int((CHECKER_FILL * width) // side)
    rows = int((CHECKER_FILL * height) // side)
    xs = width / 2.0 + (np.arange(1, cols) - cols / 2.0) * side
    ys = height / 2.0 + (np.arange(1, rows) - rows / 2.0) * side
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    return grid, (cols - 1, rows - 1)


def _box_average_square_wave(edges: np.ndarray, origin: float, side: float) -> np.ndarray:
    """Mean over each pixel [e, e + 1) of the +-1 square wave that is +1 on [origin, origin + side) and flips every
    ``side`` (exact: the wave's integral is a triangle wave)."""

    def integral(t):
        u = (t - origin) / side
        period = np.floor(u / 2.0)
        phase = u - 2.0 * period
        return side * np.where(phase < 1.0, phase, 2.0 - phase)

    return integral(edges + 1.0) - integral(edges)


def checkerboard(width: int, height: int) -> Scene:
    """A checkerboard of ~:data:`CHECKER_SQUARES` squares across, centred, on a mid-grey surround, rendered with
    exact pixel-area coverage (the board is separable: the mean of s(x) s(y) over a pixel is the product of means)."""
    side = _square(width, height)
    cols = int((CHECKER_FILL * width) // side)
    rows = int((CHECKER_FILL * height) // side)
    x0, y0 = width / 2.0 - cols * side / 2.0, height / 2.0 - rows * side / 2.0
    sx = _box_average_square_wave(np.arange(width, dtype=np.float64), x0, side)
    sy = _box_average_square_wave(np.arange(height, dtype=np.float64), y0, side)
    inside_x = np.clip(np.minimum(np.arange(width) + 1.0, x0 + cols * side) - np.maximum(np.arange(width), x0), 0, 1)
    inside_y = np.clip(np.minimum(np.arange(height) + 1.0, y0 + rows * side) - np.maximum(np.arange(height), y0), 0, 1)
    dark, light = CHECKER_REFLECTANCES
    board = (light + dark) / 2 + (light - dark) / 2 * sy[:, None] * sx[None, :]
    coverage = inside_y[:, None] * inside_x[None, :]
    shading = board * coverage + 0.18 * (1.0 - coverage)  # pixels astride the board's outer edge: exact only inside
    labels = np.zeros((height, width), dtype=np.uint16)
    return Scene("checkerboard", labels, np.ones((1, len(WAVELENGTHS))), shading.astype(np.float32))


def lens_truth(lens: VirtualLens, scene: Scene, width: int, height: int) -> dict:
    """The lens and, for the checkerboard, its inner corners in the undistorted geometry (the truth's ``lens``)."""
    truth = {
        "distortion": lens.distortion,
        "lateral_ca_px": lens.lateral_ca_px,
        "vignetting_ev": lens.vignetting_ev,
        "opcode_list": 3,
    }
    if scene.name == "checkerboard":
        corners, pattern = checker_corners(width, height)
        truth["grid"] = {"pattern": list(pattern), "corners": np.round(corners, 6).tolist()}
    return truth
