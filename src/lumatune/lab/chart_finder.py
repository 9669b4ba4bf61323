"""Find a ColorChecker Classic (24 patches, 4 x 6) in a photograph with OpenCV alone.

The finder looks for the patches, not the chart's outline: the chart's dark surround separates every
patch from its neighbours, so thresholding the image's log luminance at a ladder of levels turns each
patch into a square blob at some level (the multi-threshold quad search of chessboard and chart
detectors). Square blobs of one size, lying one patch pitch apart, form the chart: their common tilt
and pitch put each on a grid cell, and a least-squares homography from grid cells to blob centres gives
the four outer corners of the patch grid. Which corner holds dark skin (and which grid cells the found
patches fill when a row or column was missed) is decided by the colours: the patch means read at each
hypothesis are compared with the reference chart by the Pearson correlation of log values per channel,
which no white balance or exposure changes.

The returned corners follow :func:`lumatune.lab.colour.chart_quads_from_corners`: image coordinates
(x right, y down, pixel edges at integers), clockwise from the outer corner at dark skin.

References
----------
- McCamy, C. S., Marcus, H., Davidson, J. G., "A color-rendition chart", Journal of Applied Photographic
  Engineering 2(3), 1976 (layout: 4 x 6, dark skin top left, greys on the bottom row).
- X-Rite, ColorChecker Classic colorimetric data (November 2014 revision), as tabulated by colour-science
  (``colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]``), from which the 8-bit sRGB
  reference below was computed (a template for the orientation only).
- Suzuki, S., Abe, K., "Topological structural analysis of digitized binary images by border following",
  CVGIP 30(1), 1985 (``cv2.findContours``).
- Bradski, G., Kaehler, A., *Learning OpenCV*, O'Reilly, 2008, ch. 11 (chessboard corner finding: quads
  from a ladder of binarisations, grouped by neighbourhood).
- Hartley, R., Zisserman, A., *Multiple View Geometry in Computer Vision*, 2nd ed., 2004, 4.1 and 4.4
  (direct linear transform, least squares over many correspondences).
- Finlayson, G. D., Drew, M. S., Funt, B. V., "Color constancy: generalized diagonal transforms suffice",
  JOSA A 11(11), 1994 (white balance as per-channel gains, removed here by a per-channel correlation).
"""

from __future__ import annotations

import cv2
import numpy as np

from lumatune.errors import UnreadableInputError

__all__ = [
    "CHART_ROWS",
    "CHART_COLUMNS",
    "REFERENCE_SRGB",
    "colour_score",
    "find_colour_checker",
    "patch_centres",
]

CHART_ROWS, CHART_COLUMNS = 4, 6

REFERENCE_SRGB = np.array(
    [
        [116, 79, 65], [197, 144, 127], [91, 120, 155], [91, 108, 64], [131, 127, 175], [95, 189, 172],
        [224, 124, 48], [69, 90, 167], [197, 80, 95], [93, 58, 104], [156, 187, 58], [227, 161, 39],
        [40, 62, 145], [61, 147, 70], [178, 54, 57], [236, 200, 15], [191, 79, 146], [0, 133, 165],
        [241, 242, 235], [201, 202, 201], [161, 163, 163], [121, 121, 121], [83, 84, 85], [50, 50, 50],
    ],
    dtype=np.float64,
)
"""8-bit sRGB of the 24 patches, row-major from dark skin: X-Rite's data after November 2014 (D50),
Bradford-adapted to D65, out-of-gamut channels clipped (cyan's red), as colour-science tabulates the chart."""

LOG_FLOOR = 0.01
"""Patch values below this fraction of their channel's brightest are raised to it before logs are taken
(cyan's red is 0 in sRGB; the chart's black is 3 % of its white)."""

WORKING_SIDE = 960
"""Longer side (px) the search runs at; larger images are reduced by area averaging."""

BLUR_SIGMA = 1.0
"""Gaussian blur (working px) against noise before thresholding."""

THRESHOLD_STEP = 0.12
"""Step of the threshold ladder in natural-log luminance (about 13 % in luminance)."""

MIN_PATCH_AREA, MAX_PATCH_AREA = 1 / 2000, 1 / 40
"""Patch blob area as a fraction of the frame (a chart filling a sixth of it has patches near 1/245)."""

MAX_ASPECT = 1.6
"""Longest to shortest side of a patch blob's bounding rectangle (tilt out of the plane, perspective)."""

MIN_FILL = 0.8
"""Blob area over its bounding rectangle's area: patches are solid quadrilaterals."""

SAME_BLOB = 0.3
"""Blobs whose centres lie closer than this fraction of their side are one patch seen at two levels."""

NEIGHBOUR_RANGE = (1.0, 1.55)
"""Distance of a row or column neighbour in patch sides (the pitch is 1.25 sides; a diagonal is 1.77)."""

SAME_SIZE = 1.35
"""Largest ratio of the sides of two neighbouring patches."""

GRID_SNAP = 0.3
"""Largest distance (in pitches) of a blob from its grid cell's centre."""

MIN_PATCHES = 10
"""Fewest patches found before a chart is fitted."""

MIN_CORRELATION = 0.85
"""Least mean per-channel correlation of log patch colours with the reference for a found chart (measured:
0.98 and more for the chart in 40 random virtual-camera shots; 0.32 and less for its wrong orientations and
for the virtual camera's other scenes)."""

SAMPLE_FRACTION = 0.3
"""Side of the square read at each patch centre, in pitches, when scoring a hypothesis."""

_GRID_CORNERS = np.float32([[0, 0], [CHART_COLUMNS, 0], [CHART_COLUMNS, CHART_ROWS], [0, CHART_ROWS]])


def _srgb_to_linear(codes: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding of values in [0, 1]."""
    return np.where(codes <= 0.04045, codes / 12.92, ((codes + 0.055) / 1.055) ** 2.4)


def _working_image(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image reduced to :data:`WORKING_SIDE` (float32) and the (x, y) scale back to the input."""
    height, width = image.shape[:2]
    factor = min(1.0, WORKING_SIDE / max(width, height))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = cv2.resize(np.asarray(image, dtype=np.float32), size, interpolation=cv2.INTER_AREA)
    return small, np.array([width / size[0], height / size[1]])


def _log_luminance(image: np.ndarray) -> np.ndarray:
    """Blurred natural log of the channel sum, each channel first scaled by its 99th percentile."""
    scale = np.maximum(np.percentile(image.reshape(-1, 3), 99, axis=0), 1e-12).astype(np.float32)
    total = (np.clip(image, 0, None) / scale).sum(axis=2)
    floor = max(float(np.percentile(total, 99)) * 1e-4, 1e-12)
    return cv2.GaussianBlur(np.log(total + floor), (0, 0), BLUR_SIGMA)


def _blob_squares(mask: np.ndarray, area_range: tuple[float, float]) -> list[tuple[float, float, float]]:
    """(x, y, side) of the solid, square-ish blobs of a binary image (OpenCV pixel-centre coordinates)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    squares = []
    for contour in contours:
        area = cv2.contourArea(contour)
        if not area_range[0] <= area <= area_range[1]:
            continue
        (x, y), (w, h), _ = cv2.minAreaRect(contour)
        if max(w, h) > MAX_ASPECT * min(w, h) or area < MIN_FILL * w * h:
            continue
        moments = cv2.moments(contour)
        squares.append((moments["m10"] / moments["m00"], moments["m01"] / moments["m00"], float(np.sqrt(area))))
    return squares


def _candidates(luminance: np.ndarray) -> np.ndarray:
    """(n, 3) patch candidates (x, y, side), one per patch, from a ladder of thresholds."""
    frame = luminance.size
    low, high = np.percentile(luminance, [1, 99])
    found = []
    for level in np.arange(low + THRESHOLD_STEP / 2, high, THRESHOLD_STEP):
        mask = (luminance > level).astype(np.uint8)
        found += _blob_squares(mask, (MIN_PATCH_AREA * frame, MAX_PATCH_AREA * frame))
    return _merge_duplicates(np.array(found, dtype=np.float64).reshape(-1, 3))


def _merge_duplicates(found: np.ndarray) -> np.ndarray:
    """One candidate per patch: the median of the blobs within :data:`SAME_BLOB` sides of each other."""
    merged, left = [], np.ones(len(found), dtype=bool)
    for i in np.argsort(-found[:, 2]):
        if not left[i]:
            continue
        near = left & (np.hypot(*(found[:, :2] - found[i, :2]).T) < SAME_BLOB * found[i, 2])
        merged.append(np.median(found[near], axis=0))
        left &= ~near
    return np.array(merged).reshape(-1, 3)


def _neighbours(candidates: np.ndarray) -> np.ndarray:
    """(n, n) bool: pairs of similar size one pitch apart (row or column neighbours)."""
    sides = candidates[:, 2]
    distance = np.hypot(*(candidates[:, None, :2] - candidates[None, :, :2]).transpose(2, 0, 1))
    mean_side = (sides[:, None] + sides[None, :]) / 2
    ratio = np.maximum(sides[:, None], sides[None, :]) / np.minimum(sides[:, None], sides[None, :])
    low, high = NEIGHBOUR_RANGE
    return (distance >= low * mean_side) & (distance <= high * mean_side) & (ratio <= SAME_SIZE)


def _largest_group(adjacent: np.ndarray) -> np.ndarray:
    """Indices of the largest connected component of a neighbour graph."""
    best, seen = np.array([], dtype=int), np.zeros(len(adjacent), dtype=bool)
    for start in range(len(adjacent)):
        if seen[start]:
            continue
        group, frontier = {start}, [start]
        while frontier:
            new = set(np.flatnonzero(adjacent[frontier].any(axis=0))) - group
            group |= new
            frontier = list(new)
        seen[list(group)] = True
        if len(group) > len(best):
            best = np.array(sorted(group))
    return best


def _grid_indices(centres: np.ndarray, adjacent: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Integer (column, row) of each centre on the grid of the patches' common tilt, which fit it, the pitch.

    The tilt comes from the neighbour vectors' directions modulo 90 degrees (the argument of the mean of
    ``exp(4 i phi)``), the pitch from their median length, the grid's phase from the circular mean of the
    positions modulo one pitch.
    """
    first, second = np.nonzero(np.triu(adjacent))
    vectors = centres[second] - centres[first]
    tilt = np.angle(np.exp(4j * np.arctan2(vectors[:, 1], vectors[:, 0])).mean()) / 4
    pitch = float(np.median(np.hypot(*vectors.T)))
    rotation = np.array([[np.cos(tilt), np.sin(tilt)], [-np.sin(tilt), np.cos(tilt)]])
    position = centres @ rotation.T / pitch
    position -= np.angle(np.exp(2j * np.pi * position).mean(axis=0)) / (2 * np.pi)
    cells = np.round(position)
    fits = np.all(np.abs(position - cells) <= GRID_SNAP, axis=1)
    return cells.astype(int), fits, pitch


def patch_centres(corners: np.ndarray) -> np.ndarray:
    """(24, 2) patch centres of a chart from the four outer corners of its patch grid (homography)."""
    homography = cv2.getPerspectiveTransform(_GRID_CORNERS, np.asarray(corners, dtype=np.float32))
    row, column = np.divmod(np.arange(CHART_ROWS * CHART_COLUMNS), CHART_COLUMNS)
    cells = np.stack([column + 0.5, row + 0.5], axis=1).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(cells, homography).reshape(-1, 2)


def _windows(span: np.ndarray, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """Grid origins (in found-cell units) that overlap a span of found cells with a chart of ``shape`` cells.

    A span smaller than the chart may start at any cell of it; a larger one (patches of something else beside
    the chart) holds the chart at any position inside it.
    """
    low, high = np.minimum(span - shape, 0), np.maximum(span - shape, 0)
    return [(x, y) for x in range(low[0], high[0] + 1) for y in range(low[1], high[1] + 1)]


def _hypotheses(cells: np.ndarray, centres: np.ndarray) -> list[np.ndarray]:
    """Candidate chart corners (clockwise from dark skin) for every placement of the chart on the found cells.

    For each grid origin of :func:`_windows`, the found cells inside the chart give a homography from cell
    centres to blob centres (least squares, at least :data:`MIN_PATCHES` cells); each of the two turns that
    keep the chart's long side along the grid's long side gives an ordering of its corners.
    """
    cells = cells - cells.min(axis=0)
    span = cells.max(axis=0) + 1
    result = []
    for shape, turns in (((CHART_COLUMNS, CHART_ROWS), (0, 2)), ((CHART_ROWS, CHART_COLUMNS), (1, 3))):
        outline = np.float32([[0, 0], [shape[0], 0], shape, [0, shape[1]]]).reshape(-1, 1, 2)
        for origin in _windows(span, shape):
            local = cells - origin
            inside = np.all((local >= 0) & (local < shape), axis=1)
            if inside.sum() < MIN_PATCHES:
                continue
            source = (local[inside] + 0.5).astype(np.float32)
            homography, _ = cv2.findHomography(source, centres[inside].astype(np.float32), 0)
            if homography is not None:
                corners = cv2.perspectiveTransform(outline, homography).reshape(4, 2)
                result += [np.roll(corners, -turn, axis=0) for turn in turns]
    return result


def _sample(image: np.ndarray, centres: np.ndarray, half: float) -> np.ndarray:
    """(n, 3) mean of the square of half side ``half`` around each centre (pixel-centre coordinates)."""
    height, width = image.shape[:2]
    means = np.full((len(centres), 3), np.nan)
    for i, (x, y) in enumerate(centres):
        x0, x1 = int(round(x - half)), int(round(x + half)) + 1
        y0, y1 = int(round(y - half)), int(round(y + half)) + 1
        if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
            means[i] = image[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
    return means


def _floored_log(values: np.ndarray) -> np.ndarray:
    """Natural log of (n, 3) values, each channel raised to at least :data:`LOG_FLOOR` of its maximum."""
    return np.log(np.maximum(values, LOG_FLOOR * np.maximum(values.max(axis=0), 1e-12)))


def colour_score(means: np.ndarray) -> float:
    """Mean over channels of the Pearson correlation of log patch values with the reference's.

    A per-channel gain (white balance, exposure) adds a constant to a channel's logs, which leaves its
    correlation unchanged.
    """
    if not np.all(np.isfinite(means)):
        return -1.0
    measured = _floored_log(means)
    reference = _floored_log(_srgb_to_linear(REFERENCE_SRGB / 255))
    scores = [np.corrcoef(measured[:, c], reference[:, c])[0, 1] for c in range(3)]
    return float(np.nan_to_num(np.mean(scores), nan=-1.0))


def _best_hypothesis(image: np.ndarray, hypotheses: list[np.ndarray], pitch: float) -> tuple[np.ndarray, float]:
    """The hypothesis whose patch colours correlate best with the reference, and its score."""
    scores = [colour_score(_sample(image, patch_centres(c), SAMPLE_FRACTION * pitch / 2)) for c in hypotheses]
    best = int(np.argmax(scores))
    return hypotheses[best], scores[best]


def find_colour_checker(image: np.ndarray) -> np.ndarray:
    """The four outer corners of a ColorChecker Classic's patch grid in an RGB image.

    Parameters
    ----------
    image : (H, W, 3) linear RGB, any white balance and exposure; the chart should fill at least a sixth of
        the frame and may be turned by any angle in its plane.

    Returns
    -------
    numpy.ndarray
        (4, 2) float64 corners (x, y) in pixels of ``image`` (pixel edges at integers), clockwise from the
        outer corner at dark skin: dark skin, bluish green, black, white.

    Raises
    ------
    UnreadableInputError
        No chart: the message says how far the search got (without a file name; the caller adds it).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] < 3 or min(image.shape[:2]) < 32:
        raise UnreadableInputError(f"an RGB image of at least 32 x 32 pixels is needed, got shape {image.shape}")
    small, scale = _working_image(np.nan_to_num(image[..., :3]))
    candidates = _candidates(_log_luminance(small))
    adjacent = _neighbours(candidates)
    group = _largest_group(adjacent)
    if len(group) < MIN_PATCHES:
        raise UnreadableInputError(
            f"no grid of patches found ({len(group)} neighbouring patch-like squares, {MIN_PATCHES} needed)"
        )
    cells, fits, pitch = _grid_indices(candidates[group, :2], adjacent[np.ix_(group, group)])
    if fits.sum() < MIN_PATCHES:
        raise UnreadableInputError(f"no grid of patches found (only {fits.sum()} squares on one grid)")
    hypotheses = _hypotheses(cells[fits], candidates[group][fits, :2])
    if not hypotheses:
        raise UnreadableInputError(f"the {fits.sum()} patches found do not lie on a 4 x 6 grid")
    corners, score = _best_hypothesis(small, hypotheses, pitch)
    if score < MIN_CORRELATION:
        raise UnreadableInputError(
            f"a grid of patches was found but its colours are not a ColorChecker's "
            f"(correlation {score:.2f} < {MIN_CORRELATION})"
        )
    return (corners + 0.5) * scale
