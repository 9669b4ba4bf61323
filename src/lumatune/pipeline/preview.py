"""Preview: a raw binned to a fraction of its size, so browsing develops in a fraction of the time.

Each n x n block of the mosaic (2 x 2 for Bayer, 3 x 3 for X-Trans, which holds every colour in each 3 x 3
block) becomes one RGB pixel whose channels are the means of that block's sites of each colour, like dcraw's
half-size mode (``-h``). The result is a linear raw (no demosaic needed); everything else is unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit, prange

from lumatune.raw.image import RawImage
from lumatune.raw.opcodes import GainMap

__all__ = ["preview_raw"]


def _block(cfa: np.ndarray) -> int:
    return 2 if cfa.shape[0] == 2 else 3


def _bin(values: np.ndarray, cfa: np.ndarray, n: int) -> np.ndarray:
    """(H//n, W//n, 3) means of each block's sites of each colour; ``values`` is (H, W)."""
    h, w = values.shape[0] // n * n, values.shape[1] // n * n
    period = cfa.shape[0]
    out = np.zeros((h // n, w // n, 3), dtype=np.float32)
    counts = np.zeros((period // n, period // n, 3), dtype=np.float32)
    for i in range(n):
        for j in range(n):
            plane = values[i:h:n, j:w:n].astype(np.float32)
            for bi in range(period // n):
                for bj in range(period // n):
                    channel = cfa[bi * n + i, bj * n + j]
                    out[bi :: period // n, bj :: period // n, channel] += plane[bi :: period // n, bj :: period // n]
                    counts[bi, bj, channel] += 1
    for bi in range(period // n):
        for bj in range(period // n):
            out[bi :: period // n, bj :: period // n] /= counts[bi, bj]
    return out


@njit(parallel=True, nogil=True, cache=True)
def _bin_kernel(values, weights, n, out):
    phases = weights.shape[0]
    for bi in prange(out.shape[0]):
        row_weights = weights[bi % phases]
        for bj in range(out.shape[1]):
            w = row_weights[bj % phases]
            for c in range(3):
                acc = np.float32(0.0)
                for i in range(n):
                    for j in range(n):
                        acc += w[c, i, j] * np.float32(values[bi * n + i, bj * n + j])
                out[bi, bj, c] = acc
    return out


@njit(parallel=True, nogil=True, cache=True)
def _bin2_kernel(values, weights, out):
    """:func:`_bin_kernel` for 2 x 2 blocks of a 2 x 2 pattern (Bayer): one phase, the 12 weights in registers."""
    w = weights[0, 0]
    for bi in prange(out.shape[0]):
        top, bottom = values[2 * bi], values[2 * bi + 1]
        for bj in range(out.shape[1]):
            v00, v01 = np.float32(top[2 * bj]), np.float32(top[2 * bj + 1])
            v10, v11 = np.float32(bottom[2 * bj]), np.float32(bottom[2 * bj + 1])
            for c in range(3):
                out[bi, bj, c] = ((w[c, 0, 0] * v00 + w[c, 0, 1] * v01) + w[c, 1, 0] * v10) + w[c, 1, 1] * v11
    return out


def _bin_weights(cfa: np.ndarray, n: int) -> np.ndarray:
    """(P, P, 3, n, n) weights, P = period / n: for each block phase and colour, 1 / (sites of that colour in
    the block) at the colour's sites and 0 elsewhere."""
    phases = cfa.shape[0] // n
    weights = np.zeros((phases, phases, 3, n, n), np.float32)
    for bi in range(phases):
        for bj in range(phases):
            block = cfa[bi * n : bi * n + n, bj * n : bj * n + n]
            for c in range(3):
                weights[bi, bj, c] = (block == c) / np.sum(block == c)
    return weights


def _bin_fast(values: np.ndarray, cfa: np.ndarray, n: int) -> np.ndarray:
    """:func:`_bin` in one parallel pass (a weighted sum per block and colour)."""
    out = np.empty((values.shape[0] // n, values.shape[1] // n, 3), np.float32)
    if n == 2 and cfa.shape[0] == 2:
        return _bin2_kernel(values, _bin_weights(cfa, n), out)
    return _bin_kernel(values, _bin_weights(cfa, n), n, out)


def _binned_black(black: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Per-channel black level: the mean black of the sites of each colour."""
    return np.array([black[cfa == c].mean() for c in range(3)], dtype=np.float32)


def _binned_gain_maps(raw: RawImage, n: int) -> tuple[GainMap, ...]:
    """One gain map for all channels at the binned pitch (the first map of the raw; preview accuracy)."""
    maps = raw.dng.gain_maps if raw.dng else ()
    if not maps:
        return ()
    first = maps[0]
    return (dataclasses.replace(first, top=first.top // n, left=first.left // n, bottom=first.bottom // n,
                                right=first.right // n, row_pitch=1, col_pitch=1),)


def preview_raw(raw: RawImage) -> RawImage:
    """A half-size (Bayer) or third-size (X-Trans) linear version of a mosaic raw; linear raws are returned as is."""
    if raw.cfa is None:
        return raw
    n = _block(raw.cfa)
    dng = raw.dng
    if dng is not None:
        area = dng.active_area
        dng = dataclasses.replace(
            dng,
            gain_maps=_binned_gain_maps(raw, n),
            active_area=tuple(v // n for v in area) if area else None,
            default_crop=None,
        )
    return raw.replace(
        data=_bin_fast(raw.data, raw.cfa, n),
        cfa=None,
        black_level=_binned_black(raw.black_level, raw.cfa),
        dng=dng,
        crop_origin=(raw.crop_origin[0] // n, raw.crop_origin[1] // n),
        full_size=(raw.full_size[0] // n, raw.full_size[1] // n),
    )
