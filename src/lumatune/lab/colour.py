"""Colour accuracy on a chart: locate the patches, CIEDE2000 against the reference, AWB angular error.

Patches are averaged in *linear* RGB of the output space (the mean of the light, not of the codes),
converted to CIE XYZ and CIE 1976 L*a*b* with the output space's D65 white as reference white, so an
RGB of (1, 1, 1) is L* = 100, a* = b* = 0, the truth's convention. An optional single exposure scale,
fitted by least squares on the luminance Y of the neutral patches, removes a global exposure
difference before the colour differences are taken.

The chart is located from the truth's boxes, from its four corners (a perspective map of the 4 x 6
grid, each patch sampled in its inner 50 %), or found: by lumatune's own finder
(:mod:`lumatune.lab.chart_finder`), else by colour-checker-detection's segmentation detector when that
optional package is installed.

References
----------
- CIE 015:2018, *Colorimetry*, 4th ed.: 8.2.1 CIE 1976 L*a*b*, 8.3.1 CIE 1976 colour difference.
- CIE 142-2001 / ISO/CIE 11664-6:2014, *CIEDE2000 colour-difference formula*.
- G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula: implementation notes,
  supplementary test data, and mathematical observations", *Color Res. Appl.* 30(1), 2005.
- G. D. Finlayson, R. Zakizadeh, "Reproduction angular error: an improved performance metric for
  illuminant estimation", BMVC 2014 (recovery angular error of the neutral direction).
- R. Hartley, A. Zisserman, *Multiple View Geometry*, 2nd ed., 2004, 4.1 (planar homography).
- colour-checker-detection, ``detect_colour_checkers_segmentation`` (colour-science developers).
"""

from __future__ import annotations

import colour
import cv2
import numpy as np

from lumatune.errors import UnreadableInputError
from lumatune.lab.chart_finder import find_colour_checker
from lumatune.lab.rendering import Rendering, linear_rgb, matrix_rgb_to_xyz

__all__ = [
    "CHART_ROWS",
    "CHART_COLUMNS",
    "INNER_FRACTION",
    "box_pixels",
    "quad_pixels",
    "chart_quads_from_corners",
    "detect_chart_patch_means",
    "fit_exposure_scale",
    "xyz_to_lab",
    "colour_differences",
    "awb_angular_error_deg",
    "angle_between_deg",
    "in_gamut",
]

CHART_ROWS = 4
CHART_COLUMNS = 6
INNER_FRACTION = 0.5
"""Fraction of each grid cell (per side) sampled when the chart is located from its corners."""

FOUND_INNER_FRACTION = 0.4
"""The same for a chart the finder located (a margin for corners less exact than given ones)."""

GAMUT_TOLERANCE = 1e-4
"""Linear RGB slack below 0 and above 1 still counted as in gamut."""


def box_pixels(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels of a half-open box ``(x0, y0, x1, y1)`` as an (n, channels) array."""
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1].reshape(-1, image.shape[2])


def quad_pixels(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Pixels whose centres lie inside a convex quadrilateral, as an (n, channels) array.

    Parameters
    ----------
    image
        (H, W, C) image; pixel (x, y) covers [x, x+1) x [y, y+1), its centre is (x+0.5, y+0.5).
    quad
        (4, 2) corners (x, y) in order around the quadrilateral, either direction.
    """
    quad = np.asarray(quad, dtype=np.float64)
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1 = min(int(np.ceil(quad[:, 0].max())), image.shape[1])
    y1 = min(int(np.ceil(quad[:, 1].max())), image.shape[0])
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    edges = np.roll(quad, -1, axis=0) - quad
    cross = edges[:, 0, None, None] * (ys - quad[:, 1, None, None]) - edges[:, 1, None, None] * (
        xs - quad[:, 0, None, None]
    )
    inside = np.all(cross >= 0, axis=0) | np.all(cross <= 0, axis=0)
    return image[y0:y1, x0:x1][inside]


def chart_quads_from_corners(
    corners: np.ndarray, rows: int = CHART_ROWS, columns: int = CHART_COLUMNS, inner: float = INNER_FRACTION
) -> np.ndarray:
    """Sampling quadrilaterals of the patches of a chart seen in perspective.

    Parameters
    ----------
    corners
        (4, 2) image coordinates (x, y) of the outer corners of the patch grid: top-left of the
        first patch (dark skin), top-right of the last patch of the first row, bottom-right of the
        last patch (black), bottom-left of the first patch of the last row (white).
    rows, columns
        Grid size (4 x 6 for the ColorChecker Classic).
    inner
        Fraction of each cell's side that is sampled, centred in the cell.

    Returns
    -------
    numpy.ndarray
        (rows * columns, 4, 2) quadrilaterals in row-major patch order.
    """
    grid = np.float32([[0, 0], [columns, 0], [columns, rows], [0, rows]])
    homography = cv2.getPerspectiveTransform(grid, np.asarray(corners, dtype=np.float32)).astype(np.float64)
    lo, hi = 0.5 - inner / 2, 0.5 + inner / 2
    cell = np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    row, column = np.divmod(np.arange(rows * columns), columns)
    points = cell[None] + np.stack([column, row], axis=1)[:, None, :]
    homogeneous = np.concatenate([points, np.ones(points.shape[:2] + (1,))], axis=2) @ homography.T
    return homogeneous[..., :2] / homogeneous[..., 2:]


def detect_chart_patch_means(rendering: Rendering) -> np.ndarray:
    """Find a ColorChecker Classic on a photograph; return the (24, 3) mean linear RGB of its patches.

    The built-in finder (:func:`lumatune.lab.chart_finder.find_colour_checker`) runs on the linear image
    and each patch is averaged in linear RGB over the inner :data:`FOUND_INNER_FRACTION` of its cell. When
    it finds nothing, colour-checker-detection is tried if installed (see :func:`_detector_patch_means`).

    Raises
    ------
    UnreadableInputError
        No chart was found; the message names each finder tried and why it failed.
    """
    linear = linear_rgb(rendering)
    try:
        corners = find_colour_checker(linear)
    except UnreadableInputError as error:
        return _detector_patch_means(rendering, f"built-in finder: {error}")
    quads = chart_quads_from_corners(corners, inner=FOUND_INNER_FRACTION)
    return np.array([quad_pixels(linear, quad).mean(axis=0) for quad in quads], dtype=np.float64)


def _detector_patch_means(rendering: Rendering, tried: str) -> np.ndarray:
    """Patch means from colour-checker-detection's segmentation detector, after the built-in finder failed.

    The detector samples the display-encoded image (it segments what a person would see); the patch
    means it returns are then decoded with the sRGB EOTF. On noisy patches this mean of codes differs
    slightly from the mean of the light (Jensen's inequality); use corners for exact work.
    """
    failed = f"{rendering.source}: no ColorChecker found: {tried}; colour-checker-detection"
    try:
        import colour_checker_detection  # lazy: optional colour_checker_detection (not a dependency)
    except ImportError:
        raise UnreadableInputError(f"{failed}: not installed") from None
    scale = 1.0 if rendering.bit_depth is None else 2**rendering.bit_depth - 1
    encoded = (rendering.codes.astype(np.float32) / np.float32(scale)).clip(0, 1)
    found = colour_checker_detection.detect_colour_checkers_segmentation(encoded)
    if len(found) == 0:
        raise UnreadableInputError(f"{failed}: no chart found")
    means = np.asarray(found[0], dtype=np.float64)[:, :3]
    if means.shape[0] != CHART_ROWS * CHART_COLUMNS:
        raise UnreadableInputError(f"{failed}: returned {means.shape[0]} patches, not 24")
    return np.asarray(colour.models.eotf_sRGB(means))


def fit_exposure_scale(measured_y: np.ndarray, reference_y: np.ndarray) -> float:
    """Scale ``k`` minimising ``sum((k * measured_y - reference_y) ** 2)``: ``k = <m, r> / <m, m>``."""
    measured_y = np.asarray(measured_y, dtype=np.float64)
    energy = float(measured_y @ measured_y)
    if energy <= 0:
        return 1.0
    return float(measured_y @ np.asarray(reference_y, dtype=np.float64)) / energy


def xyz_to_lab(xyz: np.ndarray, white_xy: np.ndarray) -> np.ndarray:
    """CIE 1976 L*a*b* of XYZ (white Y = 1) relative to the white of chromaticity ``white_xy``."""
    return np.asarray(colour.XYZ_to_Lab(np.asarray(xyz, dtype=np.float64), illuminant=white_xy))


def colour_differences(measured_lab: np.ndarray, reference_lab: np.ndarray) -> dict[str, np.ndarray]:
    """Per-patch CIEDE2000, CIE 1976 ΔE*ab, signed chroma ΔC*ab and signed lightness ΔL*.

    Signs are measured minus reference: ΔC > 0 is over-saturated, ΔL > 0 too light.
    """
    measured_lab = np.asarray(measured_lab, dtype=np.float64)
    reference_lab = np.asarray(reference_lab, dtype=np.float64)
    return {
        "de00": np.asarray(colour.delta_E(measured_lab, reference_lab, method="CIE 2000")),
        "de76": np.linalg.norm(measured_lab - reference_lab, axis=-1),
        "dc": np.hypot(*measured_lab[..., 1:].T) - np.hypot(*reference_lab[..., 1:].T),
        "dl": measured_lab[..., 0] - reference_lab[..., 0],
    }


def awb_angular_error_deg(rgb: np.ndarray) -> np.ndarray:
    """Angle in degrees between each linear RGB and the neutral direction (1, 1, 1).

    Measured in the output space's linear RGB, whose white is the neutral; a perfectly white-balanced
    grey has 0 degrees. Exposure does not change it. Real chart greys are not exactly neutral (the
    ColorChecker white has b* near 2.5), so a perfect rendering of them shows a small angle;
    :func:`angle_between_deg` against the reference colour's own RGB isolates the rendering's error.
    """
    rgb = np.atleast_2d(np.asarray(rgb, dtype=np.float64))
    return angle_between_deg(rgb, np.ones_like(rgb))


def angle_between_deg(rgb: np.ndarray, reference_rgb: np.ndarray) -> np.ndarray:
    """Angle in degrees between pairs of RGB vectors (rows).

    Computed as ``atan2(|a x b|, a . b)``, which is well conditioned at every angle; ``arccos`` of the
    normalised dot product loses half the digits near 0 (a cosine rounded to 1 - 2**-53 reads as
    1.2e-6 degrees), so parallel vectors would not give 0 (W. Kahan, "How futile are mindless
    assessments of roundoff in floating-point computation?", 2006, section 12).
    """
    rgb = np.atleast_2d(np.asarray(rgb, dtype=np.float64))
    reference_rgb = np.atleast_2d(np.asarray(reference_rgb, dtype=np.float64))
    sine_norm = np.linalg.norm(np.cross(rgb, reference_rgb), axis=1)
    cosine_norm = np.sum(rgb * reference_rgb, axis=1)
    return np.degrees(np.arctan2(sine_norm, cosine_norm))


def in_gamut(reference_xyz: np.ndarray, space: str) -> np.ndarray:
    """Whether each reference colour is reproducible in the output space (linear RGB within [0, 1])."""
    rgb = np.asarray(reference_xyz, dtype=np.float64) @ np.linalg.inv(matrix_rgb_to_xyz(space)).T
    return np.all((rgb >= -GAMUT_TOLERANCE) & (rgb <= 1 + GAMUT_TOLERANCE), axis=-1)
