"""Test scenes of the virtual camera, described cheaply as labels + reflectance spectra + shading.

A :class:`Scene` is an integer label image (H x W), a table of reflectance spectra (one per label,
on :data:`lumatune.sim.spectra.WAVELENGTHS`) and an optional per-pixel multiplier (textures,
gradients, anti-aliased edges, light sources brighter than white). The spectral radiance at a pixel
is ``illuminant * reflectances[label] * shading``, so camera RGB and XYZ are computed once per
label and painted, never per pixel and wavelength. Scenes also carry where their measurable parts
are (chart patches, slanted edge, wedge steps), as boxes in pixels already shrunk to a safe
inner area.

References
----------
.. [1] ISO 12233:2017, *Photography - Electronic still picture imaging - Resolution and spatial
       frequency responses*: slanted edge (about 5 degrees, 4:1 contrast), sinusoidal Siemens star.
.. [2] ISO 14524:2009, *Opto-electronic conversion function (OECF)*: step wedge of known densities.
.. [3] McCamy, C. S., Marcus, H., Davidson, J. G., "A color-rendition chart", Journal of Applied
       Photographic Engineering 2(3), 1976 (ColorChecker layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from lumatune.errors import UnsupportedError
from lumatune.sim import spectra
from lumatune.sim.scene_types import BOX_SHRINK, Scene, SceneEdge, ScenePatch, SceneStep, safe_box

__all__ = [
    "SCENES",
    "ChartPlacement",
    "make_scene",
    "random_placement",
]

EDGE_ANGLE_DEG = 5.0
"""Tilt of the slanted edge from vertical (ISO 12233)."""

EDGE_REFLECTANCES = (0.1, 0.8)
"""Dark and light sides of the slanted edge, 8:1 in reflectance, about 4:1 after flare (ISO 12233)."""

WEDGE_STEPS = 36
WEDGE_STEP_EV = 0.5
WEDGE_TOP_EV = 1.0
"""The wedge: 36 steps half a stop apart, the brightest one stop above a perfect white (clipped)."""

STAR_CYCLES = 72
ZONE_PLATE_NYQUIST_RADIUS = 0.5
"""The zone plate reaches 0.5 cy/px at this fraction of the shorter image side from the centre."""

_NEUTRAL_BACKGROUND = 0.18
_CHART_SURROUND = 0.05

CHART_GAP = 0.25
"""Gap between the patches of a chart (and surround beyond the outer patches), in patch sides."""

_CC_COLUMNS, _CC_ROWS = 6, 4

PLACEMENT_FIT = 0.98
"""A random placement's area stays below this fraction of the largest that fits."""

PLACEMENT_MARGIN_PX = 1.0
"""A random placement keeps the chart this far from the frame's edges."""


@dataclass(frozen=True)
class ChartPlacement:
    """Where a ColorChecker lies in the frame.

    Attributes
    ----------
    centre : tuple of float
        Centre of the patch grid as fractions (x, y) of the image width and height.
    area : float
        Area of the chart (patches, gaps and surround) as a fraction of the frame's area.
    angle_deg : float
        Rotation of the chart about its centre, degrees, clockwise as seen in the image (y down); any
        value, so multiples of 90 put the dark-skin patch at each corner.
    """

    centre: tuple[float, float] = (0.5, 0.5)
    area: float = 0.3
    angle_deg: float = 0.0


def _flat(value: float) -> np.ndarray:
    """A spectrally flat (neutral) reflectance."""
    return np.full(spectra.WAVELENGTHS.size, value)


def _pixel_centres(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates relative to the image centre: x (1, W) and y (H, 1), float32."""
    x = np.arange(width, dtype=np.float32) + 0.5 - width / 2
    y = np.arange(height, dtype=np.float32) + 0.5 - height / 2
    return x[None, :], y[:, None]


def _patch_rectangles(
    width: int, height: int, cols: int, rows: int, *, fill: float = 0.92, gap: float = 0.25
) -> list[tuple[float, float, float, float]]:
    """Rectangles of a grid of square patches centred in the image, in raster order.

    The chart (patches plus ``gap`` patch-widths between and around them) fills ``fill`` of the
    image along its limiting side.
    """
    size = min(width * fill / (cols + (cols + 1) * gap), height * fill / (rows + (rows + 1) * gap))
    pitch = size * (1 + gap)
    left = (width - (cols * pitch - size * gap)) / 2
    top = (height - (rows * pitch - size * gap)) / 2
    return [
        (left + c * pitch, top + r * pitch, left + c * pitch + size, top + r * pitch + size)
        for r in range(rows)
        for c in range(cols)
    ]


def _chart(
    name: str, width: int, height: int, names: list[str], reflectances: np.ndarray, neutral: list[bool], cols: int
) -> Scene:
    """Patches in a grid on a dark surround, the chart on a mid-grey background."""
    rows = -(-len(names) // cols)
    rects = _patch_rectangles(width, height, cols, rows)
    labels = np.zeros((height, width), dtype=np.uint16)
    corners = np.array(rects)
    gap = corners[1, 0] - corners[0, 2]  # charts have at least two columns
    x0, y0 = np.maximum(np.round(corners[:, :2].min(axis=0) - gap), 0).astype(int)
    x1, y1 = np.round(corners[:, 2:].max(axis=0) + gap).astype(int)
    surround = (x0, y0, min(x1, width), min(y1, height))
    labels[surround[1] : surround[3], surround[0] : surround[2]] = 1
    patches = []
    for index, (patch_name, rect, is_neutral) in enumerate(zip(names, rects, neutral)):
        x0, y0, x1, y1 = (round(v) for v in rect)
        labels[y0:y1, x0:x1] = index + 2
        patches.append(ScenePatch(patch_name, safe_box(*rect), is_neutral, index + 2))
    table = np.concatenate([[_flat(_NEUTRAL_BACKGROUND), _flat(_CHART_SURROUND)], reflectances])
    return Scene(name, labels, table, None, tuple(patches))


def _chart_outline() -> tuple[float, float]:
    """Width and height of a ColorChecker's surround, in patch sides."""
    return _CC_COLUMNS + (_CC_COLUMNS + 1) * CHART_GAP, _CC_ROWS + (_CC_ROWS + 1) * CHART_GAP


def _chart_pitch(width: int, height: int, area: float) -> float:
    """Patch pitch (px) of a ColorChecker whose surround covers ``area`` of the frame."""
    outline_width, outline_height = _chart_outline()
    return float(np.sqrt(area * width * height / (outline_width * outline_height)) * (1 + CHART_GAP))


def _chart_frame(width: int, height: int, placement: ChartPlacement) -> tuple[np.ndarray, np.ndarray, float]:
    """Grid centre (px), rotation matrix (chart units -> image) and pitch (px) of a placed chart."""
    angle = np.radians(placement.angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([placement.centre[0] * width, placement.centre[1] * height])
    return centre, rotation, _chart_pitch(width, height, placement.area)


def _placed_labels(width: int, height: int, placement: ChartPlacement) -> np.ndarray:
    """Labels of a placed ColorChecker: 0 background, 1 surround, 2 + i patch i (pixel centres sampled)."""
    centre, rotation, pitch = _chart_frame(width, height, placement)
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    offset = np.stack([xs - centre[0], ys - centre[1]], axis=-1) @ rotation / pitch  # R^-1 = R^T
    u, v = offset[..., 0] + _CC_COLUMNS / 2, offset[..., 1] + _CC_ROWS / 2
    half = 0.5 / (1 + CHART_GAP)
    margin = CHART_GAP / (1 + CHART_GAP) - (0.5 - half)
    labels = np.zeros((height, width), dtype=np.uint16)
    labels[(u >= -margin) & (u < _CC_COLUMNS + margin) & (v >= -margin) & (v < _CC_ROWS + margin)] = 1
    column, row = np.floor(u), np.floor(v)
    inside = (np.abs(u - column - 0.5) < half) & (np.abs(v - row - 0.5) < half)
    inside &= (column >= 0) & (column < _CC_COLUMNS) & (row >= 0) & (row < _CC_ROWS)
    labels[inside] = (row[inside] * _CC_COLUMNS + column[inside] + 2).astype(np.uint16)
    return labels


def placed_patch_centres(width: int, height: int, placement: ChartPlacement) -> np.ndarray:
    """(24, 2) exact patch centres (x, y) of a placed ColorChecker, row-major from dark skin."""
    centre, rotation, pitch = _chart_frame(width, height, placement)
    row, column = np.divmod(np.arange(_CC_COLUMNS * _CC_ROWS), _CC_COLUMNS)
    grid = np.stack([column + 0.5 - _CC_COLUMNS / 2, row + 0.5 - _CC_ROWS / 2], axis=1)
    return centre + grid @ rotation.T * pitch


def _placed_box(centre: np.ndarray, pitch: float, angle_deg: float) -> tuple[int, int, int, int]:
    """The safe box of a rotated patch: the axis-aligned square centred in its safe inner square."""
    angle = np.radians(angle_deg)
    half = pitch / (1 + CHART_GAP) * (0.5 - BOX_SHRINK) / (abs(np.cos(angle)) + abs(np.sin(angle)))
    return safe_box(centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half, 0.0)


def _placed_colorchecker(width: int, height: int, placement: ChartPlacement) -> Scene:
    names, reflectances = spectra.colorchecker_reflectances()
    pitch = _chart_frame(width, height, placement)[2]
    patches = tuple(
        ScenePatch(name, _placed_box(c, pitch, placement.angle_deg), i >= 18, i + 2, centre=(float(c[0]), float(c[1])))
        for i, (name, c) in enumerate(zip(names, placed_patch_centres(width, height, placement)))
    )
    table = np.concatenate([[_flat(_NEUTRAL_BACKGROUND), _flat(_CHART_SURROUND)], reflectances])
    return Scene("colorchecker", _placed_labels(width, height, placement), table, None, patches)


def colorchecker(width: int, height: int, placement: ChartPlacement | None = None) -> Scene:
    """The ColorChecker Classic 24 (BabelColor average spectra), 6 x 4 patches on a dark surround.

    Without ``placement`` the chart is upright and centred, filling 92 % of the frame's limiting side;
    with one it is moved, scaled and rotated (labels sampled at pixel centres), and each patch carries
    its exact centre.

    References
    ----------
    .. [1] McCamy et al., 1976; Pascale, BabelColor, 2006.
    """
    if placement is not None:
        return _placed_colorchecker(width, height, placement)
    names, reflectances = spectra.colorchecker_reflectances()
    neutral = [index >= 18 for index in range(len(names))]
    return _chart("colorchecker", width, height, list(names), reflectances, neutral, cols=6)


def _rotated_extent(area: float, angle_deg: float, width: int, height: int) -> np.ndarray:
    """Half width and half height (px) of the axis-aligned bounds of a placed chart's surround."""
    pitch = _chart_pitch(width, height, area)
    half = np.array(_chart_outline()) * pitch / (1 + CHART_GAP) / 2
    angle = np.radians(angle_deg)
    rotation = np.abs([[np.cos(angle), np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ half


def random_placement(
    rng: np.random.Generator,
    width: int,
    height: int,
    area: tuple[float, float] = (1 / 6, 1 / 3),
    tilt_deg: float = 45.0,
) -> ChartPlacement:
    """A random placement wholly inside the frame: area, tilt in [-tilt, tilt] plus a multiple of 90 degrees.

    The angle is drawn first; the area uniformly between ``area[0]`` and the smaller of ``area[1]`` and the
    largest area whose turned chart still fits the frame; the centre uniformly among the positions that keep
    the chart inside.

    Raises
    ------
    UnsupportedError
        The frame cannot hold a chart of ``area[0]`` at the drawn angle.
    """
    angle = float(rng.uniform(-tilt_deg, tilt_deg) + 90 * rng.integers(4))
    frame = np.array([width, height])
    room = frame - 2 * PLACEMENT_MARGIN_PX
    fits = area[0] * float(np.min(room / (2 * _rotated_extent(area[0], angle, width, height)))) ** 2
    if fits <= area[0]:
        raise UnsupportedError(f"a {width}x{height} frame cannot hold a chart of {area[0]:.3f} of it at {angle:.0f} deg")
    fraction = float(rng.uniform(area[0], min(area[1], fits * PLACEMENT_FIT)))
    half = _rotated_extent(fraction, angle, width, height) + PLACEMENT_MARGIN_PX
    x, y = rng.uniform(half, frame - half)
    return ChartPlacement((float(x / width), float(y / height)), fraction, angle)


_WIDE_GREYS = (0.03, 0.06, 0.12, 0.2, 0.3, 0.45, 0.6, 0.8)
_WIDE_HUES = 12
_WIDE_COLUMNS, _WIDE_ROWS = 12, 10
_WIDE_SEED = 20240601


def wide_chart_reflectances() -> tuple[list[str], np.ndarray, list[bool]]:
    """Names, reflectances and neutrality of the 120 patches of ``chart-wide``.

    The ColorChecker 24, the CIE TCS01-14 and CQS VS1-15 samples, 8 neutral greys, 12 saturated
    hues (Mallett-Yuksel spectra of sRGB hues) and additive or subtractive mixtures of random
    pairs of those, drawn with a fixed seed.
    """
    cc_names, cc = spectra.colorchecker_reflectances()
    qs_names, qs = spectra.quality_sample_reflectances()
    hues = np.arange(_WIDE_HUES) * 360.0 / _WIDE_HUES
    hue_rgb = np.clip(np.abs(((hues[:, None] / 60.0 + [0, 4, 2]) % 6) - 3) - 1, 0, 1) * 0.9 + 0.02
    names = [*cc_names, *qs_names, *(f"grey {g:.2f}" for g in _WIDE_GREYS), *(f"hue {h:.0f}" for h in hues)]
    table = np.concatenate([cc, qs, [_flat(g) for g in _WIDE_GREYS], spectra.srgb_reflectances(hue_rgb)])
    neutral = [i in range(18, 24) for i in range(len(cc))] + [False] * len(qs) + [True] * len(_WIDE_GREYS)
    neutral += [False] * _WIDE_HUES
    chromatic = [i for i, is_neutral in enumerate(neutral) if not is_neutral]
    rng = np.random.default_rng(_WIDE_SEED)
    mixtures, pairs = [], set()
    while len(names) + len(mixtures) < _WIDE_COLUMNS * _WIDE_ROWS:
        a, b = sorted(rng.choice(chromatic, size=2, replace=False))
        if (a, b) in pairs:
            continue
        pairs.add((a, b))
        if len(mixtures) % 2:
            mixtures.append((f"mix {names[a]} * {names[b]}", np.sqrt(table[a] * table[b])))
        else:
            mixtures.append((f"mix {names[a]} + {names[b]}", (table[a] + table[b]) / 2))
    names += [name for name, _ in mixtures]
    table = np.concatenate([table, [spectrum for _, spectrum in mixtures]])
    return names, table, neutral + [False] * len(mixtures)


def chart_wide(width: int, height: int) -> Scene:
    """A 12 x 10 chart of 120 reflectances (see :func:`wide_chart_reflectances`)."""
    names, table, neutral = wide_chart_reflectances()
    return _chart("chart-wide", width, height, names, table, neutral, cols=_WIDE_COLUMNS)


def _edge_coverage(distance: np.ndarray, slope: float) -> np.ndarray:
    """Fraction of each pixel right of a line, from the horizontal distance of the pixel centre.

    The line crosses each pixel row with horizontal ``slope`` (px per px); the coverage is the
    exact area ``integral over the pixel height of clamp(d + 1/2 - slope y, 0, 1)``.
    """

    def integral(u: np.ndarray) -> np.ndarray:
        inside = np.clip(u, 0.0, 1.0)
        return np.where(u < 1.0, inside * inside / 2, u - 0.5)

    a = distance + 0.5
    if abs(slope) < 1e-9:
        return np.clip(a, 0.0, 1.0)
    half = abs(slope) / 2
    return (integral(a + half) - integral(a - half)) / (2 * half)


def slanted_edge(width: int, height: int) -> Scene:
    """A straight dark/light edge through the centre, tilted 5 degrees from vertical (ISO 12233).

    The edge is rendered with exact pixel-area coverage (a 100 % fill-factor pixel), so the
    capture's edge spread is the optics' PSF convolved with the pixel aperture.

    References
    ----------
    .. [1] ISO 12233:2017, section 6.2 (slanted-edge test chart).
    """
    x, y = _pixel_centres(width, height)
    slope = np.tan(np.radians(EDGE_ANGLE_DEG))
    coverage = _edge_coverage(x - y * slope, slope).astype(np.float32)
    dark, light = EDGE_REFLECTANCES
    shading = (dark + (light - dark) * coverage).astype(np.float32)
    labels = np.zeros((height, width), dtype=np.uint16)
    half_width = max(4, round(min(width, height) * 0.15))
    half_height = max(4, round(height * 0.3))
    box = (width // 2 - half_width, height // 2 - half_height, width // 2 + half_width, height // 2 + half_height)
    return Scene("slanted-edge", labels, _flat(1.0)[None], shading, edge=SceneEdge(box, EDGE_ANGLE_DEG))


def _neutral_pattern(name: str, shading: np.ndarray) -> Scene:
    """A neutral scene whose reflectance is ``shading`` (one flat spectrum of 1)."""
    labels = np.zeros(shading.shape, dtype=np.uint16)
    return Scene(name, labels, _flat(1.0)[None], shading.astype(np.float32))


def siemens_star(width: int, height: int) -> Scene:
    """A sinusoidal Siemens star of 72 cycles between the edge's dark and light reflectances.

    References
    ----------
    .. [1] ISO 12233:2017, annex E (sinusoidal Siemens star, s-SFR).
    """
    x, y = _pixel_centres(width, height)
    radius = 0.46 * min(width, height)
    dark, light = EDGE_REFLECTANCES
    mean, amplitude = (light + dark) / 2, (light - dark) / 2
    star = mean + amplitude * np.sin(STAR_CYCLES * np.arctan2(y, x))
    inside = x * x + y * y <= radius * radius
    return _neutral_pattern("siemens-star", np.where(inside, star, _NEUTRAL_BACKGROUND))


def zone_plate(width: int, height: int) -> Scene:
    """A circular zone plate cos(pi f r^2 / r0): frequency f r / r0 cy/px at radius r.

    It reaches 0.5 cy/px (Nyquist) at ``r0`` = half the shorter side and goes beyond towards the
    corners, to show aliasing and demosaic artefacts.
    """
    x, y = _pixel_centres(width, height)
    r0 = ZONE_PLATE_NYQUIST_RADIUS * min(width, height)
    dark, light = EDGE_REFLECTANCES
    phase = np.pi * 0.5 * (x * x + y * y) / r0
    return _neutral_pattern("zone-plate", (light + dark) / 2 + (light - dark) / 2 * np.cos(phase))


def step_wedge(width: int, height: int) -> Scene:
    """A 6 x 6 transmission step wedge: 36 neutral steps 1/2 stop apart, spanning 17.5 stops.

    The brightest step is one stop above a perfect white (it clips at ev 0), the darkest 2^-16.5 of
    it, below the read noise of any sensor; the surround is opaque (zero).

    References
    ----------
    .. [1] ISO 14524:2009, section 5 (test chart of neutral patches of known luminance).
    """
    cols = rows = int(np.ceil(np.sqrt(WEDGE_STEPS)))
    rects = _patch_rectangles(width, height, cols, rows, fill=0.96, gap=0.2)
    labels = np.zeros((height, width), dtype=np.uint16)
    shading = np.zeros((height, width), dtype=np.float32)
    steps = []
    for index, rect in enumerate(rects[:WEDGE_STEPS]):
        luminance = float(np.float32(2.0 ** (WEDGE_TOP_EV - index * WEDGE_STEP_EV)))
        x0, y0, x1, y1 = (round(v) for v in rect)
        shading[y0:y1, x0:x1] = luminance
        steps.append(SceneStep(safe_box(*rect), 0, luminance))
    return Scene("step-wedge", labels, _flat(1.0)[None], shading, wedge=tuple(steps))


FLAT_FIELD_REFLECTANCE = 0.9


def flat_field(width: int, height: int) -> Scene:
    """A uniform neutral field of reflectance 0.9 (for lens shading and noise), its centre a patch."""
    labels = np.zeros((height, width), dtype=np.uint16)
    centre = safe_box(width * 0.4, height * 0.4, width * 0.6, height * 0.6, 0.0)
    patch = ScenePatch("flat field", centre, True, 0)
    return Scene("flat-field", labels, _flat(FLAT_FIELD_REFLECTANCE)[None], None, (patch,))


def _natural(width: int, height: int) -> Scene:
    from lumatune.sim.natural import natural  # lazy: cv2 (~50 ms measured) stays out of importing `lumatune sim`

    return natural(width, height)


def _checkerboard(width: int, height: int) -> Scene:
    from lumatune.sim.lens import checkerboard  # lazy: cv2 (~50 ms), as for the natural scene

    return checkerboard(width, height)


SCENES: dict[str, Callable[[int, int], Scene]] = {
    "colorchecker": colorchecker,
    "chart-wide": chart_wide,
    "slanted-edge": slanted_edge,
    "siemens-star": siemens_star,
    "zone-plate": zone_plate,
    "step-wedge": step_wedge,
    "flat-field": flat_field,
    "natural": _natural,
    "checkerboard": _checkerboard,
}
"""Scene name -> function ``(width, height) -> Scene``."""

MIN_SIZE = 32
"""Smallest scene side, px."""


def make_scene(name: str, width: int, height: int, placement: ChartPlacement | None = None) -> Scene:
    """Build the scene ``name`` at ``width`` x ``height`` pixels.

    ``placement`` moves, scales and rotates the chart of the "colorchecker" scene.

    Raises
    ------
    UnsupportedError
        Unknown scene, a side smaller than :data:`MIN_SIZE`, or a placement for another scene.
    """
    if name not in SCENES:
        raise UnsupportedError(f"scene {name!r}: expected one of {', '.join(SCENES)}")
    if min(width, height) < MIN_SIZE:
        raise UnsupportedError(f"scene size {width}x{height}: each side must be at least {MIN_SIZE} px")
    if placement is None:
        return SCENES[name](width, height)
    if name != "colorchecker":
        raise UnsupportedError(f"scene {name!r}: only the colorchecker scene can be placed")
    if not 0 < placement.area <= 1 or not np.isfinite(placement.angle_deg):
        raise UnsupportedError(
            f"chart area {placement.area}, angle {placement.angle_deg}: expected an area in (0, 1] and a finite angle"
        )
    return colorchecker(width, height, placement)
