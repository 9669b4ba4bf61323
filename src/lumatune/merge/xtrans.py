"""Merging for colour filter arrays other than 2x2 Bayer (Fujifilm X-Trans, 6x6): the same steps as
:mod:`lumatune.merge.merge`, with what the irregular pattern needs.

- Alignment runs on 3x3-block means (every 3x3 block of X-Trans holds 5 green, 2 red and 2 blue samples, so the
  blocks are alike), with the same pyramid and Lucas-Kanade refinement; one binned pixel is 3 raw pixels.
- A colour has no regular sub-grid to resample, so each output sample is a kernel regression of the frame's
  samples of its own colour around the displaced position (Gaussian weights, sigma :data:`KERNEL_SIGMA`), as in
  the kernel merge of Wronski et al. (2019).
- Robustness: the difference to the reference is averaged per colour over a :data:`WINDOW` x :data:`WINDOW`
  neighbourhood and compared with the noise model, as for Bayer, but per pixel.

References
----------
.. [1] B. Wronski et al., "Handheld multi-frame super-resolution", ACM TOG 38(4), 2019: kernel regression of
       raw samples of one colour, robustness from local statistics.
.. [2] S. W. Hasinoff et al., ACM TOG 35(6), 2016 (alignment); A. Monod, J. Delon, T. Veit, IPOL 2021.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numba import njit, prange

from lumatune.merge.align import Reference, align

__all__ = ["KERNEL_SIGMA", "WINDOW", "XTransAccumulator", "bin_blocks"]

KERNEL_SIGMA = 0.8
"""Standard deviation, raw pixels, of the Gaussian weights of the kernel regression."""

WINDOW = 9
"""Side, raw pixels, of the neighbourhood of the robustness statistic (about 20 samples of red or blue)."""

Z2_ACCEPT = 4.0
Z2_REJECT = 9.0
RESAMPLING_ERROR = 0.02


def bin_blocks(mosaic: np.ndarray, ceiling: float) -> np.ndarray:
    """Mean of each 3x3 block of ``min(mosaic, ceiling)`` (NaN counts as ``ceiling``): (H // 3, W // 3)."""
    h, w = mosaic.shape[0] // 3 * 3, mosaic.shape[1] // 3 * 3
    clipped = np.where(np.isnan(mosaic[:h, :w]), ceiling, np.minimum(mosaic[:h, :w], ceiling))
    return clipped.reshape(h // 3, 3, w // 3, 3).mean(axis=(1, 3)).astype(np.float32)


@njit(cache=True, parallel=True)
def _regress(alt, cfa, fdy, fdx, c0, stride, sigma, out):
    """Each sample: kernel regression of the frame's same-colour samples around its displaced position."""
    h, w = alt.shape
    n = cfa.shape[0]
    nty, ntx = fdy.shape
    inv = -0.5 / (sigma * sigma)
    for r in prange(h):
        ty = min(max(((r - 1.0) / 3.0 - c0) / stride, 0.0), nty - 1.0)
        t0 = min(int(ty), max(nty - 2, 0))
        t1 = min(t0 + 1, nty - 1)
        wt = ty - t0
        for c in range(w):
            tx = min(max(((c - 1.0) / 3.0 - c0) / stride, 0.0), ntx - 1.0)
            u0 = min(int(tx), max(ntx - 2, 0))
            u1 = min(u0 + 1, ntx - 1)
            wu = tx - u0
            dy = (fdy[t0, u0] * (1 - wu) + fdy[t0, u1] * wu) * (1 - wt)
            dy += (fdy[t1, u0] * (1 - wu) + fdy[t1, u1] * wu) * wt
            dx = (fdx[t0, u0] * (1 - wu) + fdx[t0, u1] * wu) * (1 - wt)
            dx += (fdx[t1, u0] * (1 - wu) + fdx[t1, u1] * wu) * wt
            sy = r + 3.0 * dy
            sx = c + 3.0 * dx
            colour = cfa[r % n, c % n]
            iy = int(np.floor(sy))
            ix = int(np.floor(sx))
            total = 0.0
            weights = 0.0
            for y in range(max(iy - 2, 0), min(iy + 4, h)):
                for x in range(max(ix - 2, 0), min(ix + 4, w)):
                    if cfa[y % n, x % n] != colour:
                        continue
                    k = math.exp(((y - sy) ** 2 + (x - sx) ** 2) * inv)
                    total += k * alt[y, x]
                    weights += k
            out[r, c] = total / weights if weights > 0 else np.nan
    return out


@njit(cache=True, parallel=True)
def _differences(ref, warped, clip, frame_clip, out):
    h, w = ref.shape
    for r in prange(h):
        for c in range(w):
            f = ref[r, c]
            a = warped[r, c]
            if np.isnan(a):
                d = 0.0 if f >= clip else max(frame_clip - f, 0.0)
            elif f >= clip:
                d = min(a - f, 0.0)
            else:
                d = a - f
            out[r, c] = d


@njit(cache=True, parallel=True)
def _accumulate(warped, means, counts, ref_means, colour_of, scale, offset, ratio, z2s, model_error, num, den):
    h, w = warped.shape
    n = colour_of.shape[0]
    for r in prange(h):
        for c in range(w):
            z2 = 0.0
            for k in range(3):
                level = max(ref_means[k, r, c], 0.0)
                var = scale[k] * level + offset[k] + scale[k] * level / ratio + offset[k] / (ratio * ratio)
                z2 += means[k, r, c] ** 2 / (var / max(counts[k, r, c], 1.0) + (model_error * level) ** 2)
            z2 /= 3.0
            weight = min(max((z2s[1] - z2) / (z2s[1] - z2s[0]), 0.0), 1.0)
            a = warped[r, c]
            if weight <= 0.0 or np.isnan(a):
                continue
            k = colour_of[r % n, c % n]
            level = max(ref_means[k, r, c], 0.0)
            var_ref = scale[k] * level + offset[k]
            var_alt = scale[k] * level / ratio + offset[k] / (ratio * ratio)
            g = weight * var_ref / var_alt
            num[r, c] += g * a
            den[r, c] += g


class XTransAccumulator:
    """The reference and the running sums of a merge of non-Bayer mosaics (see the module docstring)."""

    def __init__(self, reference: np.ndarray, cfa: np.ndarray, profile: np.ndarray, clip: float, robust: bool = True):
        self.ref, self.cfa, self.profile, self.clip = reference, np.asarray(cfa, dtype=np.int64), profile, clip
        h, w = reference.shape
        unclipped = reference < clip
        self.num = np.where(unclipped, reference, 0).astype(np.float32)
        self.den = unclipped.astype(np.float32)
        tiled = np.tile(self.cfa, (h // cfa.shape[0] + 1, w // cfa.shape[1] + 1))[:h, :w]
        self.masks = [(tiled == k).astype(np.float32) for k in range(3)]
        self.counts = np.stack([self._box(m) * WINDOW * WINDOW for m in self.masks])
        self.ref_means = np.stack([self._mean(reference, k) for k in range(3)])
        self.scale = np.ascontiguousarray(profile[:, 0], dtype=np.float64)
        self.offset = np.ascontiguousarray(profile[:, 1], dtype=np.float64)
        self.z2 = np.array([Z2_ACCEPT, Z2_REJECT] if robust else [1e30, 2e30])
        self.aligners: dict[float, Reference] = {}
        self.max_value = 1.0

    @staticmethod
    def _box(plane: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(plane, -1, (WINDOW, WINDOW), normalize=True, borderType=cv2.BORDER_REFLECT)

    def _mean(self, values: np.ndarray, colour: int) -> np.ndarray:
        """Mean of ``values`` over the samples of one colour in each pixel's neighbourhood."""
        mask = self.masks[colour]
        return self._box(values * mask) / np.maximum(self._box(mask), 1e-6)

    def add(self, frame: np.ndarray, ratio: float) -> tuple[float, float, float]:
        """Align, resample and accumulate one frame; (median shift y, x in raw pixels, mean weight)."""
        common = min(self.clip, self.clip / ratio)
        if common not in self.aligners:
            self.aligners[common] = Reference(bin_blocks(self.ref, common))
        field = align(self.aligners[common], bin_blocks(frame, common))
        warped = np.empty_like(frame)
        _regress(frame, self.cfa, field.dy, field.dx, (field.tile - 1) * 0.5, float(field.stride), KERNEL_SIGMA, warped)
        diffs = np.empty_like(frame)
        _differences(self.ref, warped, self.clip, self.clip / ratio, diffs)
        means = np.stack([self._mean(diffs, k) for k in range(3)])
        before = float(self.den.sum())
        _accumulate(
            warped, means, self.counts, self.ref_means, self.cfa, self.scale, self.offset, float(ratio), self.z2,
            RESAMPLING_ERROR, self.num, self.den,
        )
        self.max_value = max(self.max_value, 1.0 / ratio)
        dy, dx = field.median_shift()
        gained = (float(self.den.sum()) - before) / self.den.size
        return 3 * dy, 3 * dx, gained

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The merged mosaic and a noise profile scaled by the mean weight sum (var_ref / sum of weights)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            merged = np.where(self.den > 0, self.num / self.den, self.ref).astype(np.float32)
        used = self.den[self.den > 0]
        factor = float(np.mean(1.0 / used)) if used.size else 1.0
        return merged, self.profile * factor
