"""Lateral chromatic aberration on the mosaic: the red and blue sites of a Bayer mosaic moved onto green's geometry.

A DNG's per-plane warps (WarpRectilinear or WarpRectilinear2 with one coefficient set per colour plane, in
OpcodeList3) describe lateral colour as a different magnification of each plane. The specification applies
them after demosaicing; but a demosaic that interpolates colour differences (Menon 2007 here) assumes that the
planes' edges coincide, and fed planes 1.5 px apart it moves the red and blue edges by other amounts than the
optics did (measured on the virtual camera, after the demosaic: red magnified 1.0054 and blue 0.9971 where the
mosaic's own planes are 1.0032 and 0.9967; a full correction after it left 0.24 px RMS, this stage 0.21 px, a
capture without lateral colour 0.03 px). This stage therefore moves each red and blue site's plane, before
demosaicing, by ``W_c(W_G^-1(p))`` (``W_c`` the plane's
warp, ``W_G`` green's): the planes then share green's geometry, and the lens stage applies green's warp to all
three (one position per pixel, a third of the work). The composition is exact: ``W_c`` in all.

Bayer mosaics only (an X-Trans plane is no lattice; the lens stage corrects those after demosaicing), and only
the raw's own DNG warps. The maps are computed on a grid every :data:`GRID_STEP` sites (the inverse of green's
warp by fixed-point iteration), interpolated bilinearly, and each plane is resampled with Keys' bicubic kernel by
the lens stage's compiled kernel. (OpenCV's ``remap`` was tried: its 1/32-pixel fixed-point positions left a
bias of 5 % of the aberration.)

References
----------
-   Adobe, *DNG Specification* 1.6.0.0, chapter 7 (WarpRectilinear, WarpRectilinear2: one set per plane).
-   D. Menon, S. Andriani, G. Calvagno, "Demosaicing with directional filtering and a posteriori decision",
    IEEE TIP 16(1), 2007 (colour-difference interpolation).
-   RawTherapee and darktable correct lateral CA on the raw mosaic before demosaicing for the same reason
    (``CA_correct_RT``, ``cacorrect``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.stages.base import Frame, Stage
from lumatune.stages.lens import (
    KIND_GAIN_MAP,
    KIND_VIGNETTE,
    bicubic_read,
    resample_by_maps,
    dng_warp_program,
    frame_geometry,
    source_positions,
)
from lumatune.stages.params import param

__all__ = ["GRID_STEP", "LensCaParams", "LensCaPlan", "STAGE", "apply_lens_ca", "apply_lens_ca_fast", "lens_ca_plan"]

GRID_STEP = 8
"""Sites of a plane between the grid points at which the exact map is computed."""

_INVERSE_STEPS = 30
"""Fixed-point steps inverting green's warp (each multiplies the error by at most the warp's distortion)."""


@dataclass(frozen=True)
class LensCaParams:
    """Lateral chromatic aberration corrected on the mosaic, before demosaicing (DNG per-plane warps)."""

    before_demosaic: bool = param(
        True, doc="move the red and blue sites of a Bayer mosaic onto green's geometry before demosaicing"
    )


@dataclass(frozen=True, eq=False)
class LensCaPlan:
    """Per moved plane: its (row, column) site in the CFA and the coarse map of where each site reads."""

    sites: tuple[tuple[int, int], ...]
    maps: tuple[np.ndarray, ...]  # float64 (1, 3, grid rows, grid columns): x, y in the plane's site indices, 1
    size: tuple[int, int]  # (rows, columns) of each plane


def _coarse_map(program, plane, site, geometry, plane_size) -> np.ndarray:
    """(1, 3, grid rows, grid columns): where the plane's sites every :data:`GRID_STEP` (and one step past the
    end) read their own plane, in site indices (x, y), and a gain of 1: ``W_plane(W_green^-1(p))``."""
    (x0, y0), _ = geometry
    rows, cols = plane_size
    gi = np.arange((rows - 1) // GRID_STEP + 2, dtype=np.float64) * GRID_STEP
    gj = np.arange((cols - 1) // GRID_STEP + 2, dtype=np.float64) * GRID_STEP
    py, px = np.meshgrid(2 * gi + site[0] + 0.5 + y0, 2 * gj + site[1] + 0.5 + x0, indexing="ij")
    qx, qy = px.copy(), py.copy()
    for _ in range(_INVERSE_STEPS):
        gx, gy, _ = source_positions(program, 1, qx, qy)
        qx, qy = qx + (px - gx), qy + (py - gy)
    sx, sy, _ = source_positions(program, plane, qx, qy)
    x, y = (sx - x0 - site[1] - 0.5) / 2.0, (sy - y0 - site[0] - 0.5) / 2.0
    return np.stack([x, y, np.ones_like(x)])[None]


def lens_ca_plan(params: LensCaParams, frame: Frame, shape: tuple[int, ...]) -> LensCaPlan | None:
    """The plan for a Bayer mosaic of ``shape``, or None (no per-plane DNG warp, not Bayer, or switched off).

    Sets ``frame.lateral_ca_on_mosaic`` so that the lens stage gives every plane green's warp.
    """
    raw = frame.raw
    if not params.before_demosaic or raw.cfa is None or raw.cfa.shape != (2, 2) or len(shape) != 2:
        return None
    program = dng_warp_program(frame)
    if program is None:
        return None
    warps = program[(program[:, 0, 0] != KIND_VIGNETTE) & (program[:, 0, 0] != KIND_GAIN_MAP)]
    if warps.size == 0 or all(np.array_equal(warps[:, c], warps[:, 1]) for c in (0, 2)):
        return None
    geometry = frame_geometry(raw, shape)
    sites, maps = [], []
    for plane in (0, 2):
        site = tuple(int(v) for v in np.argwhere(raw.cfa == plane)[0])
        plane_size = ((shape[0] - site[0] + 1) // 2, (shape[1] - site[1] + 1) // 2)
        sites.append(site)
        maps.append(np.ascontiguousarray(_coarse_map(warps, plane, site, geometry, plane_size)))
    frame.lateral_ca_on_mosaic = True
    frame.notes.append("lens_ca: lateral chromatic aberration of the DNG warps corrected on the mosaic (red, blue)")
    return LensCaPlan(tuple(sites), tuple(maps), tuple(shape[:2]))


def _positions(maps: np.ndarray, plane_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every site's (x, y) read position, bilinear between the grid points (plain numpy)."""
    rows, cols = plane_shape
    i, j = np.arange(rows)[:, None], np.arange(cols)[None, :]
    gi, gj = i // GRID_STEP, j // GRID_STEP
    fy, fx = (i - gi * GRID_STEP) / GRID_STEP, (j - gj * GRID_STEP) / GRID_STEP
    out = []
    for q in (0, 1):
        m = maps[0, q]
        top = m[gi, gj] * (1 - fx) + m[gi, gj + 1] * fx
        bottom = m[gi + 1, gj] * (1 - fx) + m[gi + 1, gj + 1] * fx
        out.append(top * (1 - fy) + bottom * fy)
    return out[0], out[1]


def apply_lens_ca(mosaic: np.ndarray, plan: LensCaPlan) -> np.ndarray:
    """Resample the planned planes of the (H, W) mosaic with Keys' bicubic kernel (plain numpy) and return it."""
    mosaic = np.array(mosaic, np.float32)
    for site, maps in zip(plan.sites, plan.maps):
        plane = mosaic[site[0] :: 2, site[1] :: 2].astype(np.float64)
        xs, ys = _positions(maps, plane.shape)
        xs, ys = np.clip(xs, 0, plane.shape[1] - 1), np.clip(ys, 0, plane.shape[0] - 1)
        mosaic[site[0] :: 2, site[1] :: 2] = bicubic_read(plane, xs, ys)
    return mosaic


def apply_lens_ca_fast(mosaic: np.ndarray, plan: LensCaPlan) -> np.ndarray:
    """:func:`apply_lens_ca` compiled: the lens stage's bicubic kernel on each plane (overwrites ``mosaic``)."""
    mosaic = np.asarray(mosaic, np.float32)
    for site, maps in zip(plan.sites, plan.maps):
        plane = np.ascontiguousarray(mosaic[site[0] :: 2, site[1] :: 2])[:, :, None]
        mosaic[site[0] :: 2, site[1] :: 2] = resample_by_maps(plane, np.empty_like(plane), maps, GRID_STEP)[:, :, 0]
    return mosaic


def _plan(params: LensCaParams, frame: Frame, image: np.ndarray) -> LensCaPlan | None:
    return lens_ca_plan(params, frame, image.shape)


STAGE = Stage(
    name="lens_ca",
    side="tuning",
    params=LensCaParams,
    plan=_plan,
    process=apply_lens_ca_fast,
    summary="lateral chromatic aberration of the DNG warps, corrected on the Bayer mosaic before demosaicing",
)
