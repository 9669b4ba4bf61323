"""Preview: a raw binned to a fraction of its size, so browsing develops in a fraction of the time.

Each n x n block of the mosaic (2 x 2 for Bayer, 3 x 3 for X-Trans, which holds every colour in each 3 x 3
block) becomes one RGB pixel whose channels are the means of that block's sites of each colour, like dcraw's
half-size mode (``-h``). The result is a linear raw (no demosaic needed); everything else is unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lumatune.raw import GainMap, RawImage

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
        data=_bin(raw.data, raw.cfa, n),
        cfa=None,
        black_level=_binned_black(raw.black_level, raw.cfa),
        dng=dng,
        crop_origin=(raw.crop_origin[0] // n, raw.crop_origin[1] // n),
        full_size=(raw.full_size[0] // n, raw.full_size[1] // n),
    )
