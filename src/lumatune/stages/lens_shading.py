"""Lens shading: multiply the mosaic by a smooth per-channel gain map (DNG GainMap opcode or a tuning grid).

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 7, opcode 9 "GainMap" (OpcodeList2, applied to the linearised
  active area before demosaicing).
- libcamera, Raspberry Pi ALSC (``rpi.alsc``): per-channel gain tables over the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.errors import BadFileError
from lumatune.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["LensShadingParams", "apply_gain", "gain_from_grid", "STAGE"]


@dataclass(frozen=True)
class LensShadingParams:
    """Where the gain map comes from and how strongly it applies."""

    use_dng_gain_map: bool = param(True, doc="apply the raw's own GainMap opcodes (DNG OpcodeList2)")
    gains: dict | None = param(
        None, doc="calibrated gain grids over the visible frame: {r = [[...]], g = [[...]], b = [[...]]}"
    )
    strength: float = param(1.0, min=0.0, max=1.0, doc="fraction of the correction applied (1 = full)")


def apply_gain(image: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply by a per-pixel gain: (H, W) on a mosaic, (H, W) or (H, W, 3) on a linear raw."""
    return image * (gain[..., None] if gain.ndim < image.ndim else gain)


def _bilinear_rows_cols(grid: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a 2-D grid at map coordinates v (rows) x u (cols), clamped at the edges."""

    def weights(coordinate, size):
        c = np.clip(coordinate, 0, size - 1)
        i0 = np.minimum(np.floor(c).astype(int), max(size - 2, 0))
        w = (c - i0).astype(np.float32)
        i1 = np.minimum(i0 + 1, size - 1)
        return i0, i1, w

    r0, r1, wr = weights(v, grid.shape[0])
    rows = grid[r0] * (1 - wr)[:, None] + grid[r1] * wr[:, None]
    c0, c1, wc = weights(u, grid.shape[1])
    return (rows[:, c0] * (1 - wc) + rows[:, c1] * wc).astype(np.float32)


def gain_from_grid(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A full-resolution gain from a grid whose points span the frame evenly, corner to corner."""
    grid = np.asarray(grid, dtype=np.float32)
    v = np.linspace(0, grid.shape[0] - 1, shape[0])
    u = np.linspace(0, grid.shape[1] - 1, shape[1])
    return _bilinear_rows_cols(grid, v, u)


def _gain_from_dng_maps(frame: Frame, shape: tuple[int, int]) -> np.ndarray | None:
    """Per-pixel gain of the visible area from the DNG GainMap opcodes (coordinates of the active area)."""
    raw = frame.raw
    maps = raw.dng.gain_maps if raw.dng else ()
    if not maps:
        return None
    area = raw.dng.active_area or (0, 0, *raw.full_size)
    area_h, area_w = area[2] - area[0], area[3] - area[1]
    row0, col0 = raw.crop_origin[0] - area[0], raw.crop_origin[1] - area[1]
    gain = np.ones(shape, dtype=np.float32)
    for gm in maps:
        rows = np.arange(max(gm.top, row0), min(gm.bottom, row0 + shape[0]))
        rows = rows[(rows - gm.top) % gm.row_pitch == 0]
        cols = np.arange(max(gm.left, col0), min(gm.right, col0 + shape[1]))
        cols = cols[(cols - gm.left) % gm.col_pitch == 0]
        if rows.size == 0 or cols.size == 0:
            continue
        v = (rows / area_h - gm.map_origin[0]) / (gm.map_spacing[0] or 1.0)
        u = (cols / area_w - gm.map_origin[1]) / (gm.map_spacing[1] or 1.0)
        local = _bilinear_rows_cols(gm.gains[..., 0], v, u)
        gain[np.ix_(rows - row0, cols - col0)] *= local
    return gain


def _gain_from_tuning(params: LensShadingParams, frame: Frame, shape: tuple[int, int]) -> np.ndarray:
    grids = {k.lower(): np.asarray(v, dtype=np.float32) for k, v in params.gains.items()}
    if set(grids) != {"r", "g", "b"} or any(g.ndim != 2 or g.min() <= 0 for g in grids.values()):
        raise BadFileError("lens_shading.gains: needs positive 2-D grids r, g and b")
    per_channel = [gain_from_grid(grids[c], shape) for c in "rgb"]
    cfa = frame.raw.cfa
    if cfa is None:
        return np.stack(per_channel, axis=-1)
    gain = np.empty(shape, dtype=np.float32)
    n = cfa.shape[0]
    for i in range(n):
        for j in range(n):
            gain[i::n, j::n] = per_channel[cfa[i, j]][i::n, j::n]
    return gain


def _plan(params: LensShadingParams, frame: Frame, image: np.ndarray) -> np.ndarray | None:
    shape = image.shape[:2]
    if params.gains is not None:
        gain = _gain_from_tuning(params, frame, shape)
    elif params.use_dng_gain_map:
        gain = _gain_from_dng_maps(frame, shape)
    else:
        gain = None
    if gain is None or params.strength == 0:
        return None
    return 1 + (gain - 1) * np.float32(params.strength) if params.strength != 1 else gain


STAGE = Stage(
    name="lens_shading",
    side="tuning",
    params=LensShadingParams,
    plan=_plan,
    process=apply_gain,
    summary="correct lens shading with a per-channel gain map",
)
