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
    """Multiply by a per-pixel gain: (H, W) on a mosaic, (H, W) or (H, W, 3) on a linear raw (in place)."""
    image *= gain[..., None] if gain.ndim < image.ndim else gain
    return image


def _interpolation_weights(coordinate: np.ndarray, size: int) -> np.ndarray:
    """(n, size) matrix of linear-interpolation weights at fractional grid coordinates, clamped at the ends."""
    c = np.clip(coordinate, 0, size - 1)
    i0 = np.minimum(np.floor(c).astype(int), max(size - 2, 0))
    w = (c - i0).astype(np.float32)
    weights = np.zeros((c.size, size), dtype=np.float32)
    rows = np.arange(c.size)
    weights[rows, i0] = 1 - w
    weights[rows, np.minimum(i0 + 1, size - 1)] += w
    return weights


def _bilinear_rows_cols(grid: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of a 2-D grid at map coordinates v (rows) x u (cols), clamped at the edges.

    Bilinear interpolation is separable, so it is two small matrix products: ``W_v @ grid @ W_u.T``.
    """
    grid = np.asarray(grid, dtype=np.float32)
    return _interpolation_weights(v, grid.shape[0]) @ grid @ _interpolation_weights(u, grid.shape[1]).T


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


def _gain_from_dng_maps(frame: Frame, shape: tuple[int, int]) -> np.ndarray | None:
    """Per-pixel gain of the visible area from the DNG GainMap opcodes (coordinates of the active area)."""
    raw = frame.raw
    maps = raw.dng.gain_maps if raw.dng else ()
    if not maps:
        return None
    area = raw.dng.active_area or (0, 0, *raw.full_size)
    area_h, area_w = area[2] - area[0], area[3] - area[1]
    row0, col0 = raw.crop_origin[0] - area[0], raw.crop_origin[1] - area[1]
    gain = None
    for gm in maps:
        rows = _pitched(gm.top, gm.bottom, gm.row_pitch, row0, shape[0])
        cols = _pitched(gm.left, gm.right, gm.col_pitch, col0, shape[1])
        if rows.size == 0 or cols.size == 0:
            continue
        # DNG SDK (dng_gain_map): pixel centres relative to the whole image, clamped to [0, 1]
        v = (np.clip((rows + 0.5) / area_h, 0, 1) - gm.map_origin[0]) / (gm.map_spacing[0] or 1.0)
        u = (np.clip((cols + 0.5) / area_w, 0, 1) - gm.map_origin[1]) / (gm.map_spacing[1] or 1.0)
        local = _bilinear_rows_cols(gm.gains[..., 0], v, u)
        if gain is None and local.shape == shape:  # one map over every pixel: it is the gain
            gain = local
            continue
        if gain is None:
            gain = np.ones(shape, dtype=np.float32)
        step = (gm.row_pitch, gm.col_pitch)
        gain[rows[0] - row0 : rows[-1] - row0 + 1 : step[0], cols[0] - col0 : cols[-1] - col0 + 1 : step[1]] *= local
    return gain


def _gain_from_tuning(params: LensShadingParams, frame: Frame, shape: tuple[int, int]) -> np.ndarray:
    try:
        grids = {k.lower(): np.asarray(v, dtype=np.float32) for k, v in params.gains.items()}
    except (TypeError, ValueError):  # ragged or non-numeric grids
        grids = {}
    if set(grids) != {"r", "g", "b"} or any(g.ndim != 2 or g.size == 0 or not (g > 0).all() for g in grids.values()):
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
