"""Lens measurements on developed images, with OpenCV: distortion residual, lateral colour, flat field.

- **Distortion residual**: the checkerboard's inner corners found by OpenCV (``findChessboardCornersSB``,
  sub-pixel) against the truth's undistorted corners after the best similarity transform (scale, rotation,
  shift: a lens correction may zoom, which is not a distortion): RMS and largest distance in pixels.
- **Lateral chromatic aberration**: the corners found in the red and in the blue channel against those found in
  the green channel: RMS distance in pixels (ISO 19084 measures the same displacement on edges).
- **Flat field**: a flat scene's linear image averaged in a grid of boxes, each against the central box: the
  largest deviation in percent.

Independent of the stages and of :mod:`lumatune.colour`: the images come in as linear RGB arrays (the caller
decodes its files; :func:`linear_from_srgb` uses colour-science).

References
----------
-   OpenCV 4 ``calib3d``: ``findChessboardCornersSB`` (Duda and Frese, "Accurate detection and localization of
    checkerboard corners for calibration", BMVC 2018).
-   S. Umeyama, "Least-squares estimation of transformation parameters between two point patterns", IEEE TPAMI
    13(4), 1991 (the similarity fit).
-   ISO 17850:2015 (geometric distortion measured on a grid); ISO 19084:2015 (chromatic displacement).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "FLAT_FIELD_BOXES",
    "find_corners",
    "flat_field_residual",
    "grid_residual",
    "lateral_ca",
    "linear_from_srgb",
    "similarity_fit",
]

FLAT_FIELD_BOXES = (7, 5)
"""Columns and rows of the boxes a flat field is averaged in (the outer ones touch the frame's edges)."""

_FLAT_FIELD_BOX_FRACTION = 0.06
"""Side of each flat-field box as a fraction of the frame's shorter side."""


def linear_from_srgb(encoded: np.ndarray) -> np.ndarray:
    """Linear RGB from sRGB-encoded values in [0, 1] (IEC 61966-2-1, through colour-science)."""
    import colour  # lazy: colour-science (~1 s), for the lab only

    return np.asarray(colour.models.eotf_sRGB(np.clip(encoded, 0.0, 1.0)), dtype=np.float64)


def _to_uint8(channel: np.ndarray) -> np.ndarray:
    low, high = np.percentile(channel, (1.0, 99.0))
    return np.clip((channel - low) / max(high - low, 1e-12) * 255.0, 0, 255).astype(np.uint8)


def find_corners(channel: np.ndarray, pattern: tuple[int, int]) -> np.ndarray | None:
    """The (rows x cols, 2) inner corners (x, y; pixel edges at integers) of a checkerboard of ``pattern`` =
    (columns, rows) inner corners in one channel, in row-major order from the top-left; None when not found."""
    grey = _to_uint8(np.asarray(channel, np.float64))
    found, corners = cv2.findChessboardCornersSB(grey, pattern, flags=cv2.CALIB_CB_ACCURACY)
    if not found:
        found, corners = cv2.findChessboardCorners(grey, pattern)
        if not found:
            return None
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 1e-4)
        corners = cv2.cornerSubPix(grey, corners, (5, 5), (-1, -1), criteria)
    points = corners.reshape(pattern[1], pattern[0], 2).astype(np.float64) + 0.5  # OpenCV: pixel centres at integers
    if points[0, 0, 1] > points[-1, 0, 1]:
        points = points[::-1]
    if points[0, 0, 0] > points[0, -1, 0]:
        points = points[:, ::-1]
    return points.reshape(-1, 2)


def similarity_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` points mapped by the least-squares similarity transform onto ``target`` (Umeyama 1991)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, singular, vt = np.linalg.svd(t.T @ s / len(source))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(singular) @ d) / (s**2).sum(axis=1).mean()
    return mu_t + scale * s @ rotation.T


def grid_residual(rgb: np.ndarray, truth_corners: np.ndarray, pattern: tuple[int, int]) -> dict:
    """Distortion residual of a checkerboard image (linear RGB): corners found in green against the truth's.

    Returns
    -------
    dict : ``rms_px``, ``max_px`` (after the similarity fit), ``corners`` found; ``rms_px`` None when not found.
    """
    found = find_corners(rgb[..., 1], pattern)
    if found is None:
        return {"rms_px": None, "max_px": None, "corners": 0}
    distance = np.linalg.norm(similarity_fit(np.asarray(truth_corners, np.float64), found) - found, axis=1)
    return {"rms_px": float(np.sqrt(np.mean(distance**2))), "max_px": float(distance.max()), "corners": len(found)}


def lateral_ca(rgb: np.ndarray, pattern: tuple[int, int]) -> dict:
    """RMS distance (px) of the checkerboard corners found in red and in blue from those found in green."""
    green = find_corners(rgb[..., 1], pattern)
    out = {}
    for name, channel in (("red_px", 0), ("blue_px", 2)):
        other = find_corners(rgb[..., channel], pattern) if green is not None else None
        out[name] = None if other is None else float(np.sqrt(np.mean(np.sum((other - green) ** 2, axis=1))))
    return out


def flat_field_residual(rgb: np.ndarray) -> dict:
    """Largest deviation (percent) of the mean of :data:`FLAT_FIELD_BOXES` boxes of a flat field's linear image
    (the mean of its channels) from the central box, and the mean of the four corner boxes' deviations."""
    luminance = np.asarray(rgb, np.float64).mean(axis=-1)
    height, width = luminance.shape
    side = max(2, int(_FLAT_FIELD_BOX_FRACTION * min(height, width)))
    cols, rows = FLAT_FIELD_BOXES
    xs = np.linspace(0, width - side, cols).astype(int)
    ys = np.linspace(0, height - side, rows).astype(int)
    means = np.array([[luminance[y : y + side, x : x + side].mean() for x in xs] for y in ys])
    relative = (means / means[rows // 2, cols // 2] - 1.0) * 100.0
    corners = [relative[0, 0], relative[0, -1], relative[-1, 0], relative[-1, -1]]
    return {"max_percent": float(np.abs(relative).max()), "corner_percent": float(np.mean(corners))}
