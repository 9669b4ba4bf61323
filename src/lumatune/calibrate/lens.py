"""Lens calibration from checkerboard shots (OpenCV): distortion and lateral colour into the tuning's ``lens`` block
and a lensfun XML entry.

Each shot is developed without lens correction and without the colour matrix (look ``neutral``, linear camera
planes, demosaiced as ``develop`` does, so that the lateral colour measured is the one the lens stage will
correct after the same demosaic), the board's inner corners are found in
green (``findChessboardCornersSB``), and ``calibrateCamera`` fits OpenCV's Brown-Conrady model with the focal
length fixed at the half diagonal ``m`` (so that its normalised radius is the DNG opcodes' one), the principal
point fixed at the centre unless three shots or more are given. OpenCV's model maps an ideal point to the
distorted one, as DNG's WarpRectilinear maps a corrected pixel to the sensor, so ``kr = (1, k1, k2, k3)`` and
``kt = (p1, p2)``. Lateral colour: the corners found in red and blue, against green's, give each plane's
magnification about the centre (least squares).

The lensfun entry (database version 1) writes the distortion as ``poly5`` (k1, k2 rescaled from the half
diagonal to lensfun's half shorter side) and the lateral colour as ``linear`` TCA (kr, kb).

References
----------
-   Z. Zhang, "A flexible new technique for camera calibration", IEEE TPAMI 22(11), 2000; OpenCV 4 ``calib3d``
    (``calibrateCamera``, ``findChessboardCornersSB``).
-   D. C. Brown, "Decentering distortion of lenses", Photogrammetric Engineering 32(3), 1966.
-   Adobe, *DNG Specification* 1.6.0.0, chapter 7 (WarpRectilinear).
-   lensfun, database format version 1 (``<distortion model="poly5">``, ``<tca model="linear">``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

import cv2
import numpy as np

from lumatune.errors import UnreadableInputError

__all__ = ["LensCalibration", "calibrate_lens"]


@dataclass(frozen=True)
class LensCalibration:
    """A calibrated lens: DNG WarpRectilinear terms about ``centre``, per-plane magnification, fit quality."""

    camera: str
    make: str
    model: str
    lens: str
    focal_mm: float | None
    size: tuple[int, int]
    radial: tuple[float, float, float, float]
    tangential: tuple[float, float]
    centre: tuple[float, float]
    magnification: tuple[float, float]
    rms_px: float
    shots: int

    def block(self) -> dict:
        """The tuning's ``lens`` block (see :class:`lumatune.stages.lens.LensParams`)."""
        return {
            "radial": [round(v, 8) for v in self.radial],
            "magnification": [round(v, 8) for v in self.magnification],
            "centre": [round(v, 6) for v in self.centre],
        }

    def lensfun_xml(self) -> str:
        """A lensfun database (version 1) with this camera and lens: poly5 distortion and linear TCA."""
        width, height = self.size
        # r_ours = r_lensfun * this: lensfun normalises by half the shorter side between the outer pixel centres
        to_lensfun = ((min(width, height) - 1) / 2.0) / (math.hypot(width, height) / 2.0)
        k1, k2 = self.radial[1] * to_lensfun**2, self.radial[2] * to_lensfun**4
        focal = f"{self.focal_mm:g}" if self.focal_mm else "50"
        return "\n".join([
            '<lensdatabase version="1">',
            "    <camera>",
            f"        <maker>{escape(self.make)}</maker>",
            f"        <model>{escape(self.model)}</model>",
            "        <mount>lumatune-calibrated</mount>",
            "        <cropfactor>1</cropfactor>",
            "    </camera>",
            "    <lens>",
            f"        <maker>{escape(self.make)}</maker>",
            f"        <model>{escape(self.lens)}</model>",
            "        <mount>lumatune-calibrated</mount>",
            "        <cropfactor>1</cropfactor>",
            f"        <aspect-ratio>{width / height:.6g}</aspect-ratio>",
            "        <calibration>",
            f'            <distortion model="poly5" focal="{focal}" k1="{k1:.8g}" k2="{k2:.8g}" />',
            f'            <tca model="linear" focal="{focal}" kr="{self.magnification[0]:.8g}" '
            f'kb="{self.magnification[1]:.8g}" />',
            "        </calibration>",
            "    </lens>",
            "</lensdatabase>",
            "",
        ])


def _corners(channel: np.ndarray, pattern: tuple[int, int], path) -> np.ndarray:
    """The board's inner corners (rows x columns, 2) in one linear channel, OpenCV's pixel centres at integers."""
    low, high = np.percentile(channel, (1.0, 99.0))
    grey = np.clip((channel - low) / max(high - low, 1e-12) * 255.0, 0, 255).astype(np.uint8)
    found, corners = cv2.findChessboardCornersSB(grey, pattern, flags=cv2.CALIB_CB_ACCURACY)
    if not found:
        raise UnreadableInputError(f"{path}: no checkerboard of {pattern[0]}x{pattern[1]} inner corners found")
    points = corners.reshape(pattern[1], pattern[0], 2).astype(np.float64)
    if points[0, 0, 1] > points[-1, 0, 1]:
        points = points[::-1]
    if points[0, 0, 0] > points[0, -1, 0]:
        points = points[:, ::-1]
    return points.reshape(-1, 2)


def _developed(path, tuning) -> tuple[np.ndarray, object]:
    """The shot developed linear (look neutral, no lens correction), and its raw."""
    import colour  # lazy: colour-science (~1 s), for calibration only

    from lumatune.api import develop
    from lumatune.raw import open_raw

    raw = open_raw(path)
    image = develop(raw, "neutral", tuning)
    return np.asarray(colour.models.eotf_sRGB(np.clip(image, 0.0, 1.0)), dtype=np.float64), raw


def _magnification(points: np.ndarray, green: np.ndarray, centre: np.ndarray) -> float:
    """Least-squares s with points - centre = s (green - centre)."""
    g, p = green - centre, points - centre
    return float(np.sum(g * p) / np.sum(g * g))


def calibrate_lens(paths: Sequence[str | os.PathLike], pattern: tuple[int, int]) -> LensCalibration:
    """Calibrate distortion and lateral colour from checkerboard raws of one camera, lens and focal length.

    Parameters
    ----------
    paths : the shots (one is enough for a board filling the frame square to the camera; more constrain better).
    pattern : inner corners of the board, (columns, rows).

    Raises
    ------
    UnreadableInputError : a shot without the board, shots of different sizes.
    UnsupportedError : shots from different cameras.
    """
    from lumatune.calibrate.tuningfile import tuning_from_blocks  # lazy: the stages load numba (0.4 s)

    # camera planes as demosaiced (no matrix mixing them), no lens correction
    off = {"enabled": False}
    tuning = tuning_from_blocks({"lens": off, "lens_ca": off, "colour_matrix": off, "hue_sat_map": off})
    objects, greens, magnifications, size, first = [], [], [], None, None
    grid = np.zeros((pattern[0] * pattern[1], 3), np.float32)
    grid[:, :2] = np.stack(np.meshgrid(np.arange(pattern[0]), np.arange(pattern[1])), axis=-1).reshape(-1, 2)
    for path in paths:
        image, raw = _developed(path, tuning)
        height, width = image.shape[:2]
        if size is not None and (width, height) != size:
            raise UnreadableInputError(f"{path}: size {width}x{height} differs from the first shot's")
        size, first = (width, height), first or raw
        green = _corners(image[..., 1], pattern, path)
        centre = np.array([width / 2.0 - 0.5, height / 2.0 - 0.5])
        magnifications.append([_magnification(_corners(image[..., c], pattern, path), green, centre) for c in (0, 2)])
        objects.append(grid)
        greens.append(green.astype(np.float32).reshape(-1, 1, 2))
    width, height = size
    m = math.hypot(width, height) / 2.0
    camera = np.array([[m, 0, width / 2.0 - 0.5], [0, m, height / 2.0 - 0.5], [0, 0, 1]])
    flags = cv2.CALIB_USE_INTRINSIC_GUESS | cv2.CALIB_FIX_FOCAL_LENGTH | cv2.CALIB_FIX_ASPECT_RATIO
    if len(paths) < 3:
        flags |= cv2.CALIB_FIX_PRINCIPAL_POINT | cv2.CALIB_FIX_K3
    rms, camera, coefficients, _, _ = cv2.calibrateCamera(objects, greens, size, camera, np.zeros(5), flags=flags)
    k1, k2, p1, p2, k3 = (float(v) for v in np.ravel(coefficients)[:5])
    scale = m / camera[0, 0]
    exif = first.exif
    make, model = str(exif.get("make") or "unknown"), str(exif.get("model") or "camera")
    return LensCalibration(
        camera=f"{make} {model}", make=make, model=model, lens=str(exif.get("lens_model") or "unknown lens"),
        focal_mm=exif.get("focal_length"), size=size,
        radial=(1.0, k1 * scale**2, k2 * scale**4, k3 * scale**6), tangential=(p1 * scale, p2 * scale),
        centre=((camera[0, 2] + 0.5) / width, (camera[1, 2] + 0.5) / height),
        magnification=tuple(float(v) for v in np.mean(magnifications, axis=0)), rms_px=float(rms), shots=len(paths),
    )


def write_lensfun_xml(calibration: LensCalibration, path: Path, overwrite: bool) -> None:
    """Write the lensfun entry atomically."""
    from lumatune.io.atomic import atomic_output

    with atomic_output(path, overwrite) as temp:
        temp.write_text(calibration.lensfun_xml(), encoding="utf-8")
