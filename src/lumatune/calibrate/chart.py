"""The ColorChecker in a raw: where its patches are, and the linear camera RGB of each, with checks.

The chart is located by one of four means: the four outer corners of its patch grid given in raw pixel
coordinates (a perspective map of the 4 x 6 grid, each patch sampled in its inner part); the patch boxes of a
lumatune virtual-camera truth file beside the raw; lumatune's own finder (:mod:`lumatune.lab.chart_finder`)
run on a linear preview rendered from the raw; or colour-checker-detection's segmentation detector on the
same preview, encoded (offline; its inference detector downloads weights and is never used). Patch camera RGB
is the mean of each CFA channel over the patch, read from the normalised mosaic before any colour processing;
a patch with saturated pixels is an error, as is a chart too dark to measure.

References
----------
- McCamy, C. S., Marcus, H., Davidson, J. G., "A color-rendition chart", Journal of Applied Photographic
  Engineering 2(3), 1976 (layout: 4 rows x 6 columns, dark skin top left, the greys on the bottom row).
- Hartley, R., Zisserman, A., *Multiple View Geometry in Computer Vision*, 2nd ed., 2004, section 4.1
  (planar homography from four point correspondences).
- colour-checker-detection, ``detect_colour_checkers_segmentation`` (colour-science developers).
- ISO 17321-1:2012, section 5 (chart capture: uniform illumination, no clipping, patch averages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lumatune.calibrate.capture import Capture
from lumatune.colour.camera import as_shot_neutral, metadata_matrix_wb_camera_to_xyz_d65
from lumatune.colour.spaces import encode_oetf, matrix_xyz_to_rgb
from lumatune.errors import BadFileError, LumatuneError, UnreadableInputError, UnsupportedError
from lumatune.lab.chart_finder import find_colour_checker
from lumatune.lab.truth import TRUTH_KIND

__all__ = [
    "CHART_ROWS",
    "CHART_COLUMNS",
    "PATCH_COUNT",
    "NEUTRAL_PATCHES",
    "CHART_NAMES",
    "ChartReading",
    "quads_from_corners",
    "quads_from_truth",
    "LOCATE_METHODS",
    "detect_chart_corners",
    "find_chart_corners",
    "is_lumatune_truth",
    "locate_chart",
    "read_chart",
    "patch_means",
    "preview",
]

CHART_NAMES = ("cc24",)
CHART_ROWS, CHART_COLUMNS = 4, 6
PATCH_COUNT = CHART_ROWS * CHART_COLUMNS
NEUTRAL_PATCHES = np.arange(18, 24)
"""Indices of the bottom row, white to black."""

INNER_FRACTION = 0.5
"""Fraction of each grid cell's side sampled when the chart is given by its corners."""

DETECTED_INNER_FRACTION = 0.4
"""The same for a detected chart, whose corners are less exact."""

CLIP_LEVEL = 0.98
"""A pixel at or above this fraction of the white level (black subtracted) counts as saturated."""

MAX_CLIPPED_FRACTION = 0.001
"""A patch with more saturated pixels than this fraction is clipped."""

MIN_WHITE_LEVEL = 0.05
"""The white patch's largest channel must reach this fraction of the white level, or the chart is too dark."""

MIN_PATCH_PIXELS = 16
"""Fewest pixels of the least frequent CFA channel a patch must cover."""

PREVIEW_WIDTH = 1440
"""Width the detector works at (colour-checker-detection's default working width)."""

LOCATE_METHODS = ("auto", "corners", "truth", "builtin", "detect")
"""How a chart may be located: ``auto`` tries corners, a lumatune truth file, the built-in finder and
colour-checker-detection in turn; ``detect`` the two finders; the others one means each."""


@dataclass(frozen=True)
class ChartReading:
    """Linear camera RGB of the 24 patches of one raw.

    Attributes
    ----------
    rgb : (24, 3) mean camera RGB per patch (normalised mosaic units, lens shading corrected).
    noise : (24, 3) standard deviation of each channel over the patch.
    quads : (24, 4, 2) sampled region of each patch, raw pixel coordinates (x, y).
    located_by : "corners", "truth", "finder" (built-in) or "detector" (colour-checker-detection).
    """

    rgb: np.ndarray
    noise: np.ndarray
    quads: np.ndarray
    located_by: str


def _homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x3 homography mapping four source points to four target points (direct linear transform)."""
    rows = []
    for (x, y), (u, v) in zip(source, target):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.asarray(rows, dtype=np.float64))
    return vt[-1].reshape(3, 3) / vt[-1, -1]


def quads_from_corners(corners: np.ndarray, inner: float = INNER_FRACTION) -> np.ndarray:
    """Sampling quadrilaterals of the 24 patches from the four outer corners of the patch grid.

    Parameters
    ----------
    corners : (4, 2) raw pixel coordinates (x, y), clockwise from the outer corner at the dark-skin patch:
        dark skin, bluish green (end of the first row), black (last patch), white (start of the last row).
    inner : fraction of each cell's side sampled, centred in the cell.

    Returns
    -------
    numpy.ndarray
        (24, 4, 2) quadrilaterals in row-major patch order.
    """
    corners = np.asarray(corners, dtype=np.float64).reshape(4, 2)
    grid = np.array([[0, 0], [CHART_COLUMNS, 0], [CHART_COLUMNS, CHART_ROWS], [0, CHART_ROWS]], dtype=np.float64)
    homography = _homography(grid, corners)
    lo, hi = 0.5 - inner / 2, 0.5 + inner / 2
    cell = np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    row, column = np.divmod(np.arange(PATCH_COUNT), CHART_COLUMNS)
    points = cell[None] + np.stack([column, row], axis=1)[:, None, :]
    mapped = np.concatenate([points, np.ones(points.shape[:2] + (1,))], axis=2) @ homography.T
    return mapped[..., :2] / mapped[..., 2:]


def quads_from_truth(path: Path) -> np.ndarray:
    """Patch quadrilaterals from a lumatune virtual-camera truth file (its ``patches[].box``).

    Raises
    ------
    BadFileError : the file is not a chart truth with 24 patch boxes.
    """
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BadFileError(f"{path}: cannot read the truth file ({error.__class__.__name__})") from None
    patches = truth.get("patches") if isinstance(truth, dict) else None
    if not isinstance(patches, list) or len(patches) != PATCH_COUNT:
        raise BadFileError(f"{path}: truth holds no 24-patch ColorChecker (key 'patches')")
    try:
        boxes = np.array([patch["box"] for patch in patches], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise BadFileError(f"{path}: truth key 'patches[].box' is missing or malformed") from None
    x0, y0, x1, y1 = boxes.T
    return np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)


def _inside(quad: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Whether the pixel centres (xs + 0.5, ys + 0.5) lie inside a convex quadrilateral."""
    edges = np.roll(quad, -1, axis=0) - quad
    cross = edges[:, 0, None, None] * (ys + 0.5 - quad[:, 1, None, None]) - edges[:, 1, None, None] * (
        xs + 0.5 - quad[:, 0, None, None]
    )
    return np.all(cross >= 0, axis=0) | np.all(cross <= 0, axis=0)


def _quad_window(quad: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1 = min(int(np.ceil(quad[:, 0].max())), shape[1])
    y1 = min(int(np.ceil(quad[:, 1].max())), shape[0])
    return x0, y0, x1, y1


def _channel_map(cfa: np.ndarray | None, x0: int, y0: int, x1: int, y1: int) -> np.ndarray | None:
    if cfa is None:
        return None
    n = cfa.shape[0]
    return cfa[np.arange(y0, y1)[:, None] % n, np.arange(x0, x1)[None, :] % n]


def patch_means(
    mosaic: np.ndarray, cfa: np.ndarray | None, quads: np.ndarray, clip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and standard deviation of each colour channel over each quadrilateral.

    Parameters
    ----------
    mosaic : (H, W) CFA mosaic or (H, W, 3) linear raw.
    cfa : the CFA pattern aligned with ``mosaic[0, 0]``, or None for a linear raw.
    quads : (n, 4, 2) regions, pixel coordinates (x, y).
    clip : optional boolean map of saturated pixels, shaped like ``mosaic[..., 0]`` / ``mosaic``.

    Returns
    -------
    tuple
        ``(means (n, 3), stds (n, 3), clipped fraction (n,), fewest pixels of a channel (n,))``.
    """
    count = len(quads)
    means, stds = np.zeros((count, 3)), np.zeros((count, 3))
    clipped, fewest = np.zeros(count), np.zeros(count, dtype=int)
    for i, quad in enumerate(np.asarray(quads, dtype=np.float64)):
        x0, y0, x1, y1 = _quad_window(quad, mosaic.shape[:2])
        if x1 <= x0 or y1 <= y0:
            continue
        inside = _inside(quad, *np.meshgrid(np.arange(x0, x1), np.arange(y0, y1)))
        window = mosaic[y0:y1, x0:x1]
        channels = _channel_map(cfa, x0, y0, x1, y1)
        sizes = []
        for c in range(3):
            values = window[inside & (channels == c)] if channels is not None else window[..., c][inside]
            sizes.append(values.size)
            if values.size:
                means[i, c], stds[i, c] = float(values.mean()), float(values.std())
        fewest[i] = min(sizes)
        if clip is not None and inside.any():
            saturated = clip[y0:y1, x0:x1][inside]
            clipped[i] = float((saturated.any(axis=-1) if saturated.ndim == 2 else saturated).mean())
    return means, stds, clipped, fewest


def _saturation_map(capture: Capture) -> np.ndarray:
    """Pixels at or above :data:`CLIP_LEVEL` of the white level, judged on the raw data itself."""
    raw = capture.raw
    data = raw.data.astype(np.float32)
    black = np.asarray(raw.black_level, dtype=np.float32)
    if raw.cfa is not None:
        n = black.shape[0]
        black = np.tile(black, (-(-data.shape[0] // n), -(-data.shape[1] // n)))[: data.shape[0], : data.shape[1]]
    return (data - black) >= CLIP_LEVEL * (raw.white_level - black)


def _linear_preview(capture: Capture) -> tuple[np.ndarray, int]:
    """A small linear sRGB rendering of the raw (one pixel per CFA repeat, 99.5th percentile at 1), its block."""

    raw, mosaic = capture.raw, capture.mosaic
    if raw.cfa is None:
        rgb, block = mosaic, 1
    else:
        block = raw.cfa.shape[0]
        h, w = (mosaic.shape[0] // block) * block, (mosaic.shape[1] // block) * block
        tiles = mosaic[:h, :w].reshape(h // block, block, w // block, block)
        rgb = np.stack([_block_mean(tiles, raw.cfa == c) for c in range(3)], axis=-1)
    neutral = as_shot_neutral(raw)
    if neutral is None:
        neutral = np.ones(3)
    neutral = np.asarray(neutral, dtype=np.float64) / np.max(neutral)
    matrix, _, _ = metadata_matrix_wb_camera_to_xyz_d65(raw, neutral)
    linear = (rgb / neutral) @ (matrix_xyz_to_rgb("srgb") @ matrix).T
    return np.clip(linear / max(float(np.percentile(linear, 99.5)), 1e-6), 0, 1).astype(np.float32), block


def preview(capture: Capture) -> tuple[np.ndarray, int]:
    """A small sRGB-encoded rendering of the raw (float32 in [0, 1], one pixel per CFA repeat) and that repeat.

    Raw pixel coordinates divided by the repeat are preview coordinates (pixel edges at integers).
    """

    linear, block = _linear_preview(capture)
    return encode_oetf(linear, "srgb"), block


def _block_mean(tiles: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Mean over the CFA positions ``positions`` (n, n bool) of each n x n tile of (H/n, n, W/n, n) tiles."""
    rows, cols = np.nonzero(positions)
    return np.mean([tiles[:, r, :, c] for r, c in zip(rows, cols)], axis=0)


def detect_chart_corners(capture: Capture) -> np.ndarray:
    """The four outer corners of the chart's patch grid found by colour-checker-detection's segmentation.

    The detector runs offline on a preview rendered from the raw with its metadata colour model; its
    quadrilateral (working-image coordinates, oriented by its own reference colours) is mapped back to raw
    pixel coordinates.

    Raises
    ------
    UnsupportedError : colour-checker-detection is not installed (install it with
        ``pip install --no-deps colour-checker-detection``; it works with opencv-python-headless).
    UnreadableInputError : no chart found.
    """
    try:
        from colour_checker_detection import detect_colour_checkers_segmentation  # lazy: optional colour_checker_detection (not a dependency)
    except ImportError:
        raise UnsupportedError(
            f"{capture.path}: chart detection needs colour-checker-detection "
            "(pip install --no-deps colour-checker-detection) or give --corners"
        ) from None
    image, block = preview(capture)
    portrait = image.shape[0] > image.shape[1]
    if portrait:
        image = np.ascontiguousarray(np.rot90(image, k=-1))
    found = detect_colour_checkers_segmentation(image, additional_data=True)
    if not found:
        raise UnreadableInputError(f"{capture.path}: no ColorChecker found in the raw (segmentation detector)")
    quad = np.asarray(found[0].quadrilateral, dtype=np.float64) * (image.shape[1] / PREVIEW_WIDTH)
    if portrait:
        quad = np.stack([quad[:, 1], image.shape[1] - quad[:, 0]], axis=1)
    # The detector maps its quadrilateral's points to (W, 0), (W, H), (0, H), (0, 0) of a chart image whose
    # first patch (dark skin) is top left: its last point is the dark-skin corner.
    ordered = np.roll(quad, 1, axis=0)
    return ordered * block


def find_chart_corners(capture: Capture) -> np.ndarray:
    """The four outer corners of the chart's patch grid found by the built-in finder, raw pixel coordinates.

    The finder (:func:`lumatune.lab.chart_finder.find_colour_checker`) runs on a linear preview with one pixel
    per CFA repeat; preview coordinates (pixel edges at integers) times the repeat are raw coordinates.

    Raises
    ------
    UnreadableInputError : no chart found (the message says why).
    """
    linear, block = _linear_preview(capture)
    try:
        return find_colour_checker(linear) * block
    except UnreadableInputError as error:
        raise UnreadableInputError(f"{capture.path}: {error}") from None


def is_lumatune_truth(path: Path) -> bool:
    """Whether ``path`` is a JSON file marked as a lumatune virtual-camera truth (its ``kind``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == TRUTH_KIND


def _reason(error: LumatuneError, capture: Capture) -> str:
    """A finder's error message without the raw's path in front."""
    return str(error).removeprefix(f"{capture.path}: ")


def _truth_quads(capture: Capture) -> tuple[np.ndarray | None, str]:
    """Patch quads from a lumatune truth file beside the raw, or None and why not (for ``auto``)."""
    truth = capture.path.with_suffix(".json")
    if not truth.is_file():
        return None, "none beside it"
    if not is_lumatune_truth(truth):
        return None, f"{truth.name} is not a lumatune truth file"
    if capture.raw.orientation_turns % 4:
        return None, "the raw is rotated"
    try:
        return quads_from_truth(truth), ""
    except BadFileError as error:
        return None, str(error).removeprefix(f"{truth}: ")


def _found_quads(
    capture: Capture, finders: dict[str, tuple[str, Callable[[Capture], np.ndarray]]]
) -> tuple[np.ndarray | None, str, list[str]]:
    """The first finder that finds the chart: its quads and name; else None and each finder's failure."""
    failures = []
    for label, (located_by, finder) in finders.items():
        try:
            return quads_from_corners(finder(capture), DETECTED_INNER_FRACTION), located_by, failures
        except UnsupportedError:
            failures.append(f"{label}: not installed")
        except UnreadableInputError as error:
            failures.append(f"{label}: {_reason(error, capture)}")
    return None, "", failures


FINDERS = {
    "built-in finder": ("finder", find_chart_corners),
    "colour-checker-detection": ("detector", detect_chart_corners),
}
"""The chart finders ``auto`` and ``detect`` try, in order: message label -> (located_by, function)."""


def locate_chart(capture: Capture, corners: np.ndarray | None = None, locate: str = "auto") -> tuple[np.ndarray, str]:
    """Patch quadrilaterals in raw pixel coordinates and how they were found.

    Parameters
    ----------
    capture : the raw.
    corners : (4, 2) outer corners of the patch grid (see :func:`quads_from_corners`), if given.
    locate : one of :data:`LOCATE_METHODS`. "auto": the corners if given, else a truth file beside the raw
        that carries lumatune's truth marker, else the built-in finder, else colour-checker-detection when
        installed. "truth" reads the JSON beside the raw even without the marker (older truth files);
        "builtin" runs the built-in finder only; "detect" the built-in finder, then colour-checker-detection.

    Raises
    ------
    UnreadableInputError : no chart found by the means asked; the message names each one tried and why it failed.
    """
    truth = capture.path.with_suffix(".json")
    if corners is not None and locate in ("auto", "corners"):
        return quads_from_corners(corners), "corners"
    if locate == "corners":
        raise UnreadableInputError(f"{capture.path}: no chart corners given")
    if locate == "truth":
        if not truth.is_file() or capture.raw.orientation_turns % 4:
            raise UnreadableInputError(f"{capture.path}: no virtual-camera truth file {truth.name} beside it")
        return quads_from_truth(truth), "truth"
    tried = []
    if locate == "auto":
        quads, why = _truth_quads(capture)
        if quads is not None:
            return quads, "truth"
        tried.append(f"truth file: {why}")
    finders = {"built-in finder": FINDERS["built-in finder"]} if locate == "builtin" else FINDERS
    quads, located_by, failures = _found_quads(capture, finders)
    if quads is not None:
        return quads, located_by
    raise UnreadableInputError(f"{capture.path}: no ColorChecker found: {'; '.join(tried + failures)}")


def _check_chart(capture: Capture, rgb: np.ndarray, clipped: np.ndarray, fewest: np.ndarray, located_by: str) -> None:
    where = f"{capture.path}: chart located by {located_by}"
    if np.any(fewest < MIN_PATCH_PIXELS):
        raise UnreadableInputError(f"{where}: patches fall outside the image or are too small to measure")
    if np.any(clipped > MAX_CLIPPED_FRACTION):
        names = ", ".join(str(i + 1) for i in np.flatnonzero(clipped > MAX_CLIPPED_FRACTION))
        raise UnreadableInputError(f"{capture.path}: chart is clipped (saturated pixels in patch {names}); expose less")
    white = rgb[NEUTRAL_PATCHES[0]].max()
    if white < MIN_WHITE_LEVEL:
        raise UnreadableInputError(
            f"{capture.path}: chart is underexposed (white patch at {white:.1%} of full scale, "
            f"needs {MIN_WHITE_LEVEL:.0%}); expose more"
        )
    greys = rgb[NEUTRAL_PATCHES].sum(axis=1)
    if np.any(np.diff(greys) >= 0) or np.any(rgb[NEUTRAL_PATCHES] <= 0):
        raise UnreadableInputError(f"{where}: no ColorChecker there (the bottom row is not six greys, light to dark)")


def read_chart(capture: Capture, corners: np.ndarray | None = None, locate: str = "auto") -> ChartReading:
    """Locate the chart in a calibration raw and read the linear camera RGB of its 24 patches.

    Raises
    ------
    UnreadableInputError : no chart found, a clipped or underexposed chart, patches outside the image.
    """
    quads, located_by = locate_chart(capture, corners, locate)
    rgb, noise, clipped, fewest = patch_means(capture.mosaic, capture.raw.cfa, quads, _saturation_map(capture))
    _check_chart(capture, rgb, clipped, fewest, located_by)
    return ChartReading(rgb=rgb, noise=noise, quads=quads, located_by=located_by)
