"""Lens shading: multiply the mosaic by a smooth per-channel gain map (DNG GainMap opcode or a tuning grid).

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 7, opcode 9 "GainMap" (OpcodeList2, applied to the linearised
  active area before demosaicing).
- libcamera, Raspberry Pi ALSC (``rpi.alsc``): per-channel gain tables over the frame.

The fast path never builds the gain at full resolution: bilinear interpolation is separable, so each map is
kept as its grid interpolated down the rows (:class:`GainPart`) and one parallel pass interpolates along each
row and multiplies (:func:`apply_gain_parts_fast`); :func:`gain_map` builds the full map for the plain twin.
``strength`` applies to each map: ``1 + (g - 1) s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lumatune.errors import BadFileError
from lumatune.stages._jit import FASTMATH
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = [
    "STAGE",
    "GainPart",
    "LensShadingParams",
    "apply_gain",
    "apply_gain_parts",
    "apply_gain_parts_fast",
    "gain_from_grid",
    "gain_map",
    "parts_from_gain_maps",
]


@dataclass(frozen=True)
class LensShadingParams:
    """Where the gain map comes from and how strongly it applies."""

    use_dng_gain_map: bool = param(True, doc="apply the raw's own GainMap opcodes (DNG OpcodeList2)")
    gains: dict | None = param(
        None, doc="calibrated gain grids over the visible frame: {r = [[...]], g = [[...]], b = [[...]]}"
    )
    strength: float = param(1.0, min=0.0, max=1.0, doc="fraction of the correction applied (1 = full)")


def apply_gain(image: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply by a per-pixel gain: (H, W) on a mosaic, (H, W) or (H, W, 3) on a linear raw (in place)."""
    image *= gain[..., None] if gain.ndim < image.ndim else gain
    return image


def _knots(coordinate: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation on ``size`` knots at fractional coordinates, clamped at the ends: the knot below, the
    knot above and the weight of the one above (float32)."""
    c = np.clip(coordinate, 0, size - 1)
    low = np.minimum(np.floor(c).astype(np.int64), max(size - 2, 0))
    return low, np.minimum(low + 1, size - 1), (c - low).astype(np.float32)


def _interpolate_rows(grid: np.ndarray, coordinate: np.ndarray) -> np.ndarray:
    """The rows of a 2-D grid linearly interpolated at fractional row coordinates, clamped at the ends (float32).

    Each output row blends two grid rows, element by element: not as a product with a matrix of weights, whose
    float32 sums OpenBLAS rounds differently with its thread count (measured with numpy 1.26: a raw's gain, and
    so its output, depended on how many cores the process had).
    """
    grid = np.asarray(grid, dtype=np.float32)
    low, high, w = _knots(coordinate, grid.shape[0])
    w = w[:, None]
    return (np.float32(1) - w) * grid[low] + w * grid[high]


def _bilinear_rows_cols(grid: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a 2-D grid at map coordinates v (rows) x u (cols), clamped at the edges: separable,
    down the rows, then along them."""
    return np.ascontiguousarray(_interpolate_rows(_interpolate_rows(grid, v).T, u).T)


def gain_from_grid(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A full-resolution gain from a grid whose points span the frame evenly, corner to corner."""
    grid = np.asarray(grid, dtype=np.float32)
    v = np.linspace(0, grid.shape[0] - 1, shape[0])
    u = np.linspace(0, grid.shape[1] - 1, shape[1])
    return _bilinear_rows_cols(grid, v, u)


def _pitched(first: int, stop: int, pitch: int, offset: int, size: int) -> np.ndarray:
    """Coordinates ``first, first + pitch, ...`` below ``stop`` that fall in ``[offset, offset + size)``."""
    start = first if first >= offset else first + -(-(offset - first) // pitch) * pitch
    return np.arange(start, min(stop, offset + size), pitch)


@dataclass(frozen=True)
class GainPart:
    """The gain on the pixels ``rows = row0, row0 + row_step, ...`` x ``cols = col0, col0 + col_step, ...``
    (channels ``channels[0]`` to ``channels[1] - 1`` of an RGB image; a mosaic has one): a grid bilinearly
    interpolated, kept separable. ``row_values`` (rows x grid columns) is the grid interpolated down the rows;
    along a row, column k blends ``row_values[:, col_lo[k]]`` and ``[:, col_hi[k]]`` by ``col_w[k]``. With
    strength ``s`` the gain is ``1 + (g - 1) s``."""

    row0: int
    row_step: int
    col0: int
    col_step: int
    channels: tuple[int, int]
    row_values: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    col_w: np.ndarray
    strength: float = 1.0

    def gain(self) -> np.ndarray:
        """This part's gain on its rows x cols (float32; plain numpy)."""
        cols = self.row_values[:, self.col_lo] * (1 - self.col_w) + self.row_values[:, self.col_hi] * self.col_w
        return (1 + (cols - 1) * np.float32(self.strength)).astype(np.float32)


def _part(grid: np.ndarray, v: np.ndarray, u: np.ndarray, rows: tuple[int, int], cols: tuple[int, int],
          channels: tuple[int, int], strength: float) -> GainPart:
    """The part for ``grid`` at map coordinates v (its rows) x u (its columns), clamped at the grid's edges."""
    grid = np.asarray(grid, dtype=np.float32)
    col_lo, col_hi, col_w = _knots(u, grid.shape[1])
    return GainPart(
        row0=rows[0], row_step=rows[1], col0=cols[0], col_step=cols[1], channels=channels,
        row_values=np.ascontiguousarray(_interpolate_rows(grid, v)), col_lo=col_lo, col_hi=col_hi, col_w=col_w,
        strength=strength,
    )


def parts_from_gain_maps(frame: Frame, maps, area: tuple[int, int, int, int], shape: tuple[int, int],
                         strength: float = 1.0) -> list[GainPart]:
    """The gain of GainMap opcodes ``maps`` on the raw's data of ``shape``, one part per map; ``area`` (top, left,
    bottom, right of the stored image) is the image the opcodes' coordinates refer to: the active area for
    OpcodeList2, the whole stored image for OpcodeList1 (DNG 1.6, chapter 7)."""
    raw = frame.raw
    area_h, area_w = area[2] - area[0], area[3] - area[1]
    row0, col0 = raw.crop_origin[0] - area[0], raw.crop_origin[1] - area[1]
    parts = []
    for gm in maps:
        rows = _pitched(gm.top, gm.bottom, gm.row_pitch, row0, shape[0])
        cols = _pitched(gm.left, gm.right, gm.col_pitch, col0, shape[1])
        if rows.size == 0 or cols.size == 0:
            continue
        # DNG SDK (dng_gain_map): pixel centres relative to the whole image, clamped to [0, 1]
        v = (np.clip((rows + 0.5) / area_h, 0, 1) - gm.map_origin[0]) / (gm.map_spacing[0] or 1.0)
        u = (np.clip((cols + 0.5) / area_w, 0, 1) - gm.map_origin[1]) / (gm.map_spacing[1] or 1.0)
        parts.append(_part(gm.gains[..., 0], v, u, (int(rows[0] - row0), gm.row_pitch),
                           (int(cols[0] - col0), gm.col_pitch), (0, 3), strength))
    return parts


def _parts_from_dng_maps(frame: Frame, shape: tuple[int, int], strength: float) -> list[GainPart]:
    """The visible area's gain from OpcodeList2's GainMap opcodes (coordinates of the active area)."""
    raw = frame.raw
    maps = raw.dng.gain_maps if raw.dng else ()
    if not maps:
        return []
    area = raw.dng.active_area or (0, 0, *raw.full_size)
    return parts_from_gain_maps(frame, maps, area, shape, strength)


def _parts_from_tuning(params: LensShadingParams, frame: Frame, shape: tuple[int, int]) -> list[GainPart]:
    """The calibrated grids (spanning the frame corner to corner): one part per CFA position, or per channel."""
    try:
        grids = {k.lower(): np.asarray(v, dtype=np.float32) for k, v in params.gains.items()}
    except (TypeError, ValueError):  # ragged or non-numeric grids
        grids = {}
    if set(grids) != {"r", "g", "b"} or any(g.ndim != 2 or g.size == 0 or not (g > 0).all() for g in grids.values()):
        raise BadFileError("lens_shading.gains: needs positive 2-D grids r, g and b")
    per_channel = [grids[c] for c in "rgb"]

    def part(grid, first_row, first_col, step, channels):
        v = np.linspace(0, grid.shape[0] - 1, shape[0])[first_row::step]
        u = np.linspace(0, grid.shape[1] - 1, shape[1])[first_col::step]
        return _part(grid, v, u, (first_row, step), (first_col, step), channels, params.strength)

    cfa = frame.raw.cfa
    if cfa is None:
        return [part(grid, 0, 0, 1, (c, c + 1)) for c, grid in enumerate(per_channel)]
    n = cfa.shape[0]
    return [part(per_channel[cfa[i, j]], i, j, n, (0, 1)) for i in range(min(n, shape[0])) for j in range(min(n, shape[1]))]


def gain_map(parts: list[GainPart], shape: tuple[int, ...]) -> np.ndarray:
    """The full-resolution gain the parts describe: (H, W) for a mosaic, (H, W, 3) for an RGB image."""
    gain = np.ones(shape[:2] + ((3,) if len(shape) == 3 else ()), dtype=np.float32)
    for part in parts:
        rows = slice(part.row0, part.row0 + part.row_values.shape[0] * part.row_step, part.row_step)
        cols = slice(part.col0, part.col0 + part.col_w.shape[0] * part.col_step, part.col_step)
        if gain.ndim == 2:
            gain[rows, cols] *= part.gain()
        else:
            gain[rows, cols, part.channels[0] : part.channels[1]] *= part.gain()[..., None]
    return gain


def apply_gain_parts(image: np.ndarray, parts: list[GainPart]) -> np.ndarray:
    """Multiply ``image`` by the parts' gain in place (the plain twin of :func:`apply_gain_parts_fast`)."""
    return apply_gain(image, gain_map(parts, image.shape))


def apply_gain_parts_fast(image: np.ndarray, parts: list[GainPart]) -> np.ndarray:
    """Multiply ``image`` (float32, C order; (H, W) or (H, W, 3)) by the parts' gain in place, one parallel pass
    per part and no full-resolution gain map (96 MB for 24 MP); other images take :func:`apply_gain_parts`."""
    if image.dtype != np.float32 or not image.flags.c_contiguous or not image.flags.writeable:
        return apply_gain_parts(image, parts)
    pixels = image.reshape(image.shape[0], image.shape[1], -1)
    for part in parts:
        contiguous = part.col_step == 1 and pixels.shape[2] == 1  # a mosaic, every column of its rows
        _apply_part(pixels, part.row0, part.row_step, part.col0, part.col_step, part.channels[0],
                    min(part.channels[1], pixels.shape[2]), part.row_values, _knot_runs(part), part.col_w,
                    np.float32(part.strength), contiguous)
    return image


def _knot_runs(part: GainPart) -> np.ndarray:
    """(runs, 3) int64: first column, grid column below and grid column above of each run of the part's columns
    that lie between the same two grid columns. Along a run the gain is one straight line: the kernel reads the
    grid twice per run instead of twice per pixel, and its loop over the run vectorises."""
    if part.col_lo.size == 0:
        return np.zeros((0, 3), np.int64)
    changes = (np.diff(part.col_lo) != 0) | (np.diff(part.col_hi) != 0)
    starts = np.flatnonzero(np.concatenate([[True], changes]))
    return np.stack([starts, part.col_lo[starts], part.col_hi[starts]], axis=1).astype(np.int64)


@njit(parallel=True, nogil=True, cache=True, fastmath=FASTMATH)
def _apply_part(image, row0, row_step, col0, col_step, first_channel, last_channel, row_values, runs, col_w,
                strength, contiguous):
    one = np.float32(1.0)
    columns, count = col_w.shape[0], runs.shape[0]
    for a in prange(row_values.shape[0]):
        values, row = row_values[a], image[row0 + a * row_step]
        gains = np.empty(columns, np.float32)  # this row's gains first, then one multiply per pixel
        for r in range(count):
            start = runs[r, 0]
            stop = runs[r + 1, 0] if r + 1 < count else columns
            lo, hi = values[runs[r, 1]], values[runs[r, 2]]
            span, weights = gains[start:stop], col_w[start:stop]  # views from 0: a loop the compiler vectorises
            for k in range(span.shape[0]):
                span[k] = one + ((lo + weights[k] * (hi - lo)) - one) * strength
        if contiguous:
            line = row[col0 : col0 + columns, 0]
            for k in range(columns):
                line[k] *= gains[k]
        else:
            for c in range(first_channel, last_channel):
                for k in range(columns):
                    row[col0 + k * col_step, c] *= gains[k]


def _plan(params: LensShadingParams, frame: Frame, image: np.ndarray) -> list[GainPart] | None:
    if params.strength == 0:
        return None
    shape = image.shape[:2]
    if params.gains is not None:
        parts = _parts_from_tuning(params, frame, shape)
    elif params.use_dng_gain_map:
        parts = _parts_from_dng_maps(frame, shape, params.strength)
    else:
        parts = []
    return parts or None


STAGE = Stage(
    name="lens_shading",
    side="tuning",
    params=LensShadingParams,
    plan=_plan,
    process=apply_gain_parts_fast,
    summary="correct lens shading with a per-channel gain map",
)
