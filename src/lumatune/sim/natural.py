"""The ``natural`` scene: a procedural everyday still life, lively enough to show looks on.

A summer garden behind a wooden table: a sky with clouds (bright enough to clip a little), hazy
hills, a tree line and a meadow with flowers (fine texture), a gingham cloth (fine periodic
detail, moire bait), glossy fruit and a cup with specular highlights that clip, and a small
ColorChecker card whose patches are ground-truth patches. The card is painted last and kept inside
the left part of the frame, so that at any aspect ratio no object hides a patch (a truth box must
cover only its patch). Colours are reflectance spectra: real
ones (ColorChecker skin, foliage, saturated patches) where they exist, smooth Mallett-Yuksel
spectra of chosen sRGB colours elsewhere. Textures come from band-limited value noise with a fixed
seed, so the scene is the same at every run; its geometry scales with the image height.

References
----------
.. [1] Perlin, K., "An image synthesizer", SIGGRAPH 1985 (procedural noise textures).
.. [2] Blinn, J. F., "Models of light reflection for computer synthesized pictures", SIGGRAPH 1977
       (specular highlights).
.. [3] Mallett, I., Yuksel, C., "Spectral Primary Decomposition for Rendering with sRGB
       Reflectance", EGSR 2019.
"""

from __future__ import annotations

import cv2
import numpy as np

from lumatune.sim import spectra
from lumatune.sim.scene_types import Scene, ScenePatch, safe_box

__all__ = ["natural"]

_SEED = 1976
HORIZON = 0.40
MEADOW_TOP = 0.62
TABLE_TOP = 0.76
_SKY_STEPS = 24
_CLOUD_STEPS = 16
_GLOSS_STEPS = 16
_CARD_GAP = 0.25
"""Gap between the chart card's patches (and around them), in patch widths."""
_CARD_MAX_WIDTH = 0.4
"""The chart card takes at most this fraction of the image width."""
_LIGHT = np.array([-0.45, -0.6, 0.66]) / np.linalg.norm([-0.45, -0.6, 0.66])
"""Direction towards the sun (x right, y down, z towards the camera)."""


def _linear(srgb: tuple[float, float, float]) -> np.ndarray:
    """Linear sRGB of an sRGB-encoded colour (IEC 61966-2-1 decoding)."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _colour(srgb: tuple[float, float, float]) -> np.ndarray:
    """A smooth reflectance spectrum of an sRGB-encoded colour."""
    return spectra.srgb_reflectances(_linear(srgb))[0]


class _Palette:
    """The growing table of reflectance spectra; each spectrum's index is its label."""

    def __init__(self) -> None:
        self._spectra: list[np.ndarray] = []

    def add(self, *spectra_: np.ndarray) -> int:
        """Append spectra, return the label of the first."""
        first = len(self._spectra)
        self._spectra.extend(np.atleast_2d(s) for s in spectra_)
        return first

    def table(self) -> np.ndarray:
        return np.concatenate(self._spectra)


def _placement_rng(stream: int) -> np.random.Generator:
    """A generator for object placement, independent of the image size and of texture draws."""
    return np.random.default_rng([_SEED, stream])


def _noise(rng: np.random.Generator, height: int, width: int, cell: float, octaves: int = 4) -> np.ndarray:
    """Fractal value noise (H, W) float32, about unit standard deviation, features ``cell`` px wide."""
    total = np.zeros((height, width), dtype=np.float32)
    weight = 0.0
    for octave in range(octaves):
        size = max(cell / 2**octave, 1.0)
        grid = rng.standard_normal((int(height / size) + 3, int(width / size) + 3)).astype(np.float32)
        total += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) * np.float32(0.55**octave)
        weight += 0.55 ** (2 * octave)
    return total / np.float32(np.sqrt(weight))


def _noise_1d(rng: np.random.Generator, width: int, cell: float, octaves: int = 5) -> np.ndarray:
    """Fractal value noise along x (W,) float32."""
    return _noise(rng, 1, width, cell, octaves)[0]


def _smoothstep(x: np.ndarray, low: float, high: float) -> np.ndarray:
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _quantise(values: np.ndarray, steps: int) -> np.ndarray:
    """Indices 0..steps-1 of values in [0, 1]."""
    return np.clip((values * steps).astype(np.int32), 0, steps - 1)


def _sky(labels, shading, palette: _Palette, rng) -> None:
    """Sky gradient with clouds over rows [0, HORIZON): labels mix sky and cloud, shading smooths."""
    height, width = labels.shape
    rows = int(HORIZON * height)
    zenith, horizon = _colour((0.33, 0.53, 0.84)), _colour((0.74, 0.82, 0.92))
    cloud = np.full(spectra.WAVELENGTHS.size, 0.95)
    t_levels = (np.arange(_SKY_STEPS) + 0.5) / _SKY_STEPS
    c_levels = (np.arange(_CLOUD_STEPS) + 0.5) / _CLOUD_STEPS
    sky_luminance = 0.55 + 0.3 * t_levels
    mixes = [
        (1 - c) * ((1 - t) * zenith + t * horizon) * lum + c * cloud * (0.72 + 0.45 * c)
        for t, lum in zip(t_levels, sky_luminance)
        for c in c_levels
    ]
    base = palette.add(*mixes)
    t = (np.arange(rows, dtype=np.float32)[:, None] + 0.5) / rows
    t = np.broadcast_to(t**1.5, (rows, width))
    stretch = cv2.resize(_noise(rng, rows, width // 3 + 1, 0.12 * height, 5), (width, rows))
    density = _smoothstep(stretch + 0.35 * _noise(rng, rows, width, 0.02 * height, 3), 0.2, 1.1)
    density *= _smoothstep(1.0 - t, 0.0, 0.35)  # thinner clouds towards the horizon
    ti, ci = _quantise(t, _SKY_STEPS), _quantise(density, _CLOUD_STEPS)
    labels[:rows] = base + ti * _CLOUD_STEPS + ci
    exact = (1 - density) * (0.55 + 0.3 * t) + density * (0.72 + 0.45 * density)
    levels = (1 - c_levels[ci]) * sky_luminance[ti] + c_levels[ci] * (0.72 + 0.45 * c_levels[ci])
    shading[:rows] = exact / levels


def _ridge(rng, width: int, height: int, level: float, amplitude: float, cell: float) -> np.ndarray:
    """Row (int) of a ridge line across the image, per column."""
    line = level + amplitude * _noise_1d(rng, width, cell * height)
    return np.clip((line * height).astype(np.int32), 0, height - 1)


def _fill_below(labels, shading, top: np.ndarray, bottom: int, label_image, shade_image, row0: int) -> None:
    """Write label/shade images (rows row0..bottom) where the row is at or below ``top`` per column."""
    rows = np.arange(row0, bottom)[:, None]
    mask = rows >= top[None, :]
    labels[row0:bottom][mask] = label_image[mask]
    shading[row0:bottom][mask] = shade_image[mask]


def _hills(labels, shading, palette: _Palette, rng) -> None:
    """Hazy blue-green hills behind the trees, down to the meadow."""
    height, width = labels.shape
    top = _ridge(rng, width, height, HORIZON - 0.1, 0.03, 0.35)
    row0 = int(top.min())
    label = palette.add(_colour((0.52, 0.62, 0.68)))
    bottom = int(MEADOW_TOP * height)
    texture = 0.5 + 0.04 * _noise(rng, bottom - row0, width, 0.01 * height, 3)
    _fill_below(labels, shading, top, bottom, np.full(texture.shape, label), texture, row0)


def _foliage(labels, shading, palette: _Palette, rng) -> None:
    """A tree line of leafy crowns: several greens, deep shadows, fine leaf texture."""
    height, width = labels.shape
    names, checker = spectra.colorchecker_reflectances()
    foliage = checker[names.index("foliage")]
    greens = [
        foliage * 0.8,
        foliage,
        _colour((0.20, 0.34, 0.12)),
        _colour((0.32, 0.45, 0.14)),
        _colour((0.45, 0.55, 0.18)),
        checker[names.index("yellow green")] * 0.7,
    ]
    base = palette.add(*greens)
    crown = _canopy(rng, width, height)
    row0, row1 = int(crown.min()), int(MEADOW_TOP * height)
    rows = row1 - row0
    clumps = _noise(rng, rows, width, 0.035 * height, 4)
    leaves = _noise(rng, rows, width, 3.0, 2)
    hue = _noise(rng, rows, width, 0.12 * height, 3)
    index = _quantise(0.5 + 0.3 * hue + 0.12 * clumps, len(greens))
    light = np.clip(0.5 + 0.45 * clumps, 0.05, 1.0)
    outline = cv2.GaussianBlur(crown.astype(np.float32)[None, :], (0, 0), 0.02 * height)[0]
    depth = (np.arange(rows, dtype=np.float32)[:, None] + row0 - outline[None, :]) / (0.2 * height)
    light *= np.clip(1.0 - 0.55 * depth, 0.35, 1.0)  # darker under the crowns
    shade = (0.12 + 0.88 * light) * (0.8 + 0.2 * np.tanh(leaves))
    _fill_below(labels, shading, crown, row1, base + index, shade.astype(np.float32), row0)
    _trunks(labels, shading, palette, crown, row1)


def _canopy(rng, width: int, height: int) -> np.ndarray:
    """Row of the tree line per column: the upper outline of round crowns, leafy edge.

    Scattered tall trees stand in front of a continuous row of bushes, so the line never drops
    to the meadow.
    """
    x = np.arange(width, dtype=np.float64) + 0.5
    top = np.full(width, MEADOW_TOP * height)

    def crown(cx: float, cy: float, radius: float) -> None:
        near = np.abs(x - cx) < radius
        top[near] = np.minimum(top[near], cy - np.sqrt(radius**2 - (x[near] - cx) ** 2))

    place = _placement_rng(1)
    for _ in range(int(5 * width / height)):
        radius = place.uniform(0.05, 0.10) * height
        crown(place.uniform(-0.05, 1.05) * width, place.uniform(0.25, 0.33) * height + radius, radius)
    spacing = 0.07 * height
    for cx in np.arange(-spacing, width + spacing, spacing):
        radius = place.uniform(0.05, 0.08) * height
        crown(cx + place.uniform(-0.3, 0.3) * spacing, place.uniform(0.40, 0.45) * height + radius, radius)
    top += 0.004 * height * _noise_1d(rng, width, 0.01 * height, 3)
    return np.clip(top, 0, height - 1).astype(np.int32)


def _trunks(labels, shading, palette: _Palette, crown: np.ndarray, bottom: int) -> None:
    """A few dark trunks under the crowns."""
    height, width = labels.shape
    label = palette.add(_colour((0.30, 0.22, 0.16)))
    place = _placement_rng(2)
    for centre in place.uniform(0.05, 0.95, 4):
        half = max(1, int(0.009 * height * place.uniform(0.7, 1.4)))
        x = int(centre * width)
        x0, x1 = max(x - half, 0), min(x + half, width)
        top = int(crown[x0:x1].max() + 0.12 * height) if x1 > x0 else bottom
        if top >= bottom:
            continue
        across = np.linspace(-1.0, 1.0, x1 - x0, dtype=np.float32)
        labels[top:bottom, x0:x1] = label
        shading[top:bottom, x0:x1] = 0.25 + 0.35 * np.clip(-across, 0, 1)


def _meadow(labels, shading, palette: _Palette, rng) -> None:
    """Grass with vertical blades and scattered flowers."""
    height, width = labels.shape
    row0, row1 = int(MEADOW_TOP * height), int(TABLE_TOP * height)
    rows = row1 - row0
    grasses = [_colour(c) for c in ((0.30, 0.45, 0.13), (0.42, 0.55, 0.16), (0.55, 0.60, 0.22), (0.25, 0.38, 0.12))]
    base = palette.add(*grasses)
    blades = cv2.resize(_noise(rng, max(rows // 12, 2), width, 2.5, 2), (width, rows), interpolation=cv2.INTER_CUBIC)
    patches = _noise(rng, rows, width, 0.05 * height, 3)
    index = _quantise(0.5 + 0.25 * patches + 0.1 * blades, len(grasses))
    depth = np.arange(rows, dtype=np.float32)[:, None] / rows
    labels[row0:row1] = base + index
    shading[row0:row1] = np.clip((0.55 + 0.25 * np.tanh(blades) + 0.1 * patches) * (0.75 + 0.25 * depth), 0.1, 1.0)
    _flowers(labels, shading, palette, row0, row1)


def _flowers(labels, shading, palette: _Palette, row0: int, row1: int) -> None:
    """Small saturated discs: poppies, buttercups, cornflowers, daisies."""
    height, width = labels.shape
    names, checker = spectra.colorchecker_reflectances()
    colours = [
        checker[names.index("red")],
        checker[names.index("yellow")],
        _colour((0.45, 0.35, 0.85)),
        np.full(spectra.WAVELENGTHS.size, 0.85),
    ]
    base = palette.add(*colours)
    count = 220
    place = _placement_rng(3)
    xs, ys = place.uniform(0, width, count), place.uniform(row0, row1, count)
    kinds = place.integers(0, len(colours), count)
    sizes = place.uniform(0.7, 1.3, count)
    for x, y, kind, size in zip(xs, ys, kinds, sizes):
        radius = (0.0025 + 0.004 * (y - row0) / (row1 - row0)) * height * size
        _disc(labels, shading, x, y, radius, base + kind, 0.9)


def _disc(labels, shading, x: float, y: float, radius: float, label: int, shade: float) -> None:
    """A flat disc."""
    height, width = labels.shape
    x0, x1 = max(int(x - radius), 0), min(int(x + radius) + 1, width)
    y0, y1 = max(int(y - radius), 0), min(int(y + radius) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= radius * radius
    labels[y0:y1, x0:x1][inside] = label
    shading[y0:y1, x0:x1][inside] = shade


def _table(labels, shading, palette: _Palette, rng) -> None:
    """Wooden table top with grain over rows [TABLE_TOP, 1)."""
    height, width = labels.shape
    row0 = int(TABLE_TOP * height)
    rows = height - row0
    woods = [_colour(c) for c in ((0.55, 0.36, 0.20), (0.62, 0.42, 0.24), (0.48, 0.30, 0.16))]
    base = palette.add(*woods)
    warp = _noise(rng, rows, width, 0.08 * height, 3)
    y = np.arange(rows, dtype=np.float32)[:, None] / height
    grain = np.sin(2 * np.pi * (y * 38.0 + 0.35 * warp)) + 0.3 * _noise(rng, rows, width, 2.0, 2)
    labels[row0:] = base + _quantise(0.5 + 0.3 * grain, len(woods))
    falloff = 0.7 + 0.3 * (1.0 - y / (1.0 - TABLE_TOP))
    shading[row0:] = (0.8 + 0.08 * grain) * falloff


def _gingham(labels, shading, palette: _Palette) -> None:
    """A red and white gingham cloth on the left of the table, with a fine weave."""
    height, width = labels.shape
    y0, x1 = int((TABLE_TOP + 0.03) * height), int(0.36 * width)
    names, checker = spectra.colorchecker_reflectances()
    red = checker[names.index("red")]
    white = np.full(spectra.WAVELENGTHS.size, 0.82)
    base = palette.add(white, (red + white) / 2, red * 0.85)
    yy = np.arange(y0, height)[:, None]
    xx = np.arange(0, x1)[None, :]
    check = max(int(0.022 * height), 2)
    stripes = ((yy // check) % 2) + ((xx // check) % 2)
    labels[y0:, :x1] = base + stripes
    weave = 0.93 + 0.07 * np.cos(np.pi * (xx + yy) * 2 / 3)  # 3-px diagonal weave, near Nyquist
    shading[y0:, :x1] = (0.92 * weave).astype(np.float32)


def _gloss_labels(palette: _Palette, body: np.ndarray) -> int:
    """Labels mixing a body colour with a neutral specular, 16 steps of specular share."""
    white = np.ones(spectra.WAVELENGTHS.size)
    shares = (np.arange(_GLOSS_STEPS) + 0.5) / _GLOSS_STEPS
    shares[0] = 0.0
    return palette.add(*[(1 - w) * body + w * white for w in shares])


def _paint_gloss(labels, shading, base: int, diffuse: np.ndarray, specular: np.ndarray, where, mask) -> None:
    """Radiance diffuse * body + specular * white, as mixed label times shading."""
    total = diffuse + specular
    share = specular / np.maximum(total, 1e-6)
    index = np.where(share < 0.5 / _GLOSS_STEPS, 0, _quantise(share, _GLOSS_STEPS))
    labels[where][mask] = (base + index)[mask]
    shading[where][mask] = total[mask].astype(np.float32)


def _shadow(shading, x: float, y: float, rx: float, ry: float, strength: float = 0.55) -> None:
    """A soft elliptical contact shadow darkening what is already painted."""
    height, width = shading.shape
    x0, x1 = max(int(x - 1.6 * rx), 0), min(int(x + 1.6 * rx) + 1, width)
    y0, y1 = max(int(y - 1.6 * ry), 0), min(int(y + 1.6 * ry) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.sqrt(((xx - x) / rx) ** 2 + ((yy - y) / ry) ** 2)
    shading[y0:y1, x0:x1] *= 1.0 - strength * (1.0 - _smoothstep(d, 0.6, 1.5))


def _sphere(
    labels, shading, base: int, x: float, y: float, radius: float, squash: float = 1.0, gloss: float = 5.0
) -> None:
    """A glossy ellipsoid lit by the sun: Lambert diffuse, Blinn-Phong specular that clips."""
    height, width = labels.shape
    rx, ry = radius * squash, radius
    _shadow(shading, x + 0.35 * rx, y + 0.85 * ry, 1.1 * rx, 0.35 * ry)
    x0, x1 = max(int(x - rx), 0), min(int(x + rx) + 1, width)
    y0, y1 = max(int(y - ry), 0), min(int(y + ry) + 1, height)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    nx, ny = (xx + 0.5 - x) / rx, (yy + 0.5 - y) / ry
    r2 = nx * nx + ny * ny
    inside = r2 <= 1.0
    nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    lambert = np.clip(nx * _LIGHT[0] + ny * _LIGHT[1] + nz * _LIGHT[2], 0.0, 1.0)
    half = _LIGHT + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    n_dot_h = np.clip(nx * half[0] + ny * half[1] + nz * half[2], 0.0, 1.0)
    diffuse = 0.12 + 0.88 * lambert
    specular = gloss * n_dot_h**80
    _paint_gloss(labels, shading, base, diffuse, specular, (slice(y0, y1), slice(x0, x1)), inside)


def _cup(labels, shading, base: int, x: float, top: float, bottom: float, half_width: float) -> None:
    """A glossy cylindrical cup seen from slightly above: diffuse body, specular streak, dark inside."""
    height, width = labels.shape
    rim = 0.28 * half_width  # half height of the elliptical rim and base
    _shadow(shading, x + 0.6 * half_width, bottom, 1.3 * half_width, 0.3 * half_width)
    x0, x1 = max(int(x - half_width), 0), min(int(x + half_width) + 1, width)
    y0, y1 = max(int(top - rim), 0), min(int(bottom + rim) + 1, height)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u = (xx + 0.5 - x) / half_width
    arc = rim * np.sqrt(np.clip(1.0 - u * u, 0.0, 1.0))
    inside = (np.abs(u) <= 1.0) & (yy + 0.5 >= top - arc) & (yy + 0.5 <= bottom + arc)
    nz = np.sqrt(np.clip(1.0 - u * u, 0.0, 1.0))
    lambert = np.clip(u * _LIGHT[0] + nz * _LIGHT[2], 0.0, 1.0)
    diffuse = 0.15 + 0.85 * lambert
    specular = 4.0 * np.exp(-(((u + 0.42) / 0.07) ** 2)) * (yy + 0.5 > top + arc)
    opening = u * u + ((yy + 0.5 - top) / rim) ** 2 <= 0.8
    diffuse = np.where(opening, 0.08 + 0.25 * np.clip(yy + 0.5 - top, 0, None) / rim, diffuse)
    _paint_gloss(labels, shading, base, diffuse, specular, (slice(y0, y1), slice(x0, x1)), inside)


def _still_life(labels, shading, palette: _Palette) -> None:
    """Fruit and a cup on the table."""
    height, width = labels.shape
    names, checker = spectra.colorchecker_reflectances()

    def cc(name: str) -> np.ndarray:
        return checker[names.index(name)]

    h = height
    fruit = [
        (cc("red") * 0.9, 0.50, 0.83, 0.080, 1.0),
        (cc("orange"), 0.615, 0.86, 0.072, 1.0),
        (cc("yellow"), 0.725, 0.88, 0.060, 1.35),
        (cc("yellow green"), 0.57, 0.945, 0.048, 1.0),
        (0.6 * cc("purple") + 0.4 * cc("blue flower") * 0.6, 0.43, 0.94, 0.046, 1.0),
        (0.5 * cc("light skin") + 0.5 * cc("orange") * 0.9, 0.26, 0.90, 0.058, 1.0),
    ]
    for body, u, v, r, squash in fruit:
        _sphere(labels, shading, _gloss_labels(palette, body), u * width, v * h, r * h, squash)
    cup = _gloss_labels(palette, cc("purplish blue") * 0.9 + cc("blue") * 0.1)
    _cup(labels, shading, cup, 0.87 * width, 0.70 * h, 0.90 * h, 0.055 * h)


def _chart_card(labels, shading, palette: _Palette) -> tuple[ScenePatch, ...]:
    """A small ColorChecker standing at the back left of the table; its patches are truth.

    Painted over everything else, its patches 3 % of the image height, the card at most
    :data:`_CARD_MAX_WIDTH` of the image width (narrow portrait frames).
    """
    height, width = labels.shape
    names, checker = spectra.colorchecker_reflectances()
    card = palette.add(np.full(spectra.WAVELENGTHS.size, 0.04))
    first = palette.add(*checker)
    patch = min(0.03 * height, _CARD_MAX_WIDTH * width / (6 + 7 * _CARD_GAP))
    gap = _CARD_GAP * patch
    x0, x1 = 0.03 * width, 0.03 * width + 6 * patch + 7 * gap
    y0 = TABLE_TOP * height - 4 * patch - 5 * gap
    labels[int(y0) : int(TABLE_TOP * height), int(x0) : int(x1)] = card
    shading[int(y0) : int(TABLE_TOP * height), int(x0) : int(x1)] = 1.0
    patches = []
    for index, name in enumerate(names):
        row, col = divmod(index, 6)
        px0, py0 = x0 + gap + col * (patch + gap), y0 + gap + row * (patch + gap)
        labels[round(py0) : round(py0 + patch), round(px0) : round(px0 + patch)] = first + index
        patches.append(ScenePatch(name, safe_box(px0, py0, px0 + patch, py0 + patch), index >= 18, first + index))
    return tuple(patches)


def natural(width: int, height: int) -> Scene:
    """The ``natural`` scene at ``width`` x ``height`` (see the module docstring)."""
    rng = np.random.default_rng(_SEED)
    palette = _Palette()
    labels = np.zeros((height, width), dtype=np.uint16)
    shading = np.ones((height, width), dtype=np.float32)
    _sky(labels, shading, palette, rng)
    _hills(labels, shading, palette, rng)
    _foliage(labels, shading, palette, rng)
    _meadow(labels, shading, palette, rng)
    _table(labels, shading, palette, rng)
    _gingham(labels, shading, palette)
    _still_life(labels, shading, palette)
    patches = _chart_card(labels, shading, palette)  # last: nothing may cover a truth patch
    return Scene("natural", labels, palette.table(), shading, patches)
