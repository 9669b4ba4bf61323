"""Merge a burst or an exposure bracket of Bayer raws into one cleaner raw, frame by frame.

The first frame is the reference; every other frame is read, scaled to the reference's exposure, aligned
(:mod:`lumatune.merge.align`), resampled onto the reference's pixel grid and added to two accumulators (a
weighted sum and its weights), then dropped: memory holds the reference, the accumulators and one frame,
whatever the number of frames.

Robustness (so moving subjects never ghost) follows the spatial route of Wronski et al. (2019) rather than
HDR+'s frequency-domain Wiener merge: for each 2x2 CFA quad, the frame's difference to the reference is
averaged over a :data:`WINDOW` x :data:`WINDOW` neighbourhood in each of the four colour planes, and compared
with the standard deviation that noise alone gives that average (from the noise model: the DNG NoiseProfile
``S x + O`` of the reference, or one estimated from it). The statistic ``z2`` (mean over the planes of the
squared ratio; about 1 where the scene is static) gives the quad its weight: 1 below :data:`Z2_ACCEPT`,
0 above :data:`Z2_REJECT`, linear between. A rejected quad keeps the reference there, so a moving object
appears once, where the reference saw it. Accepted samples are weighted by the ratio of the reference's noise
variance to the frame's (inverse-variance weighting, which for an exposure bracket favours the longer
exposures in the shadows). The weights are per pixel, not per tile, and the displacement field is
interpolated smoothly between tile centres, so no tile seams can appear.

Clipped samples (at or above :data:`~lumatune.merge.frames.CLIP_LEVEL` of white) get no weight: a shorter
frame of a bracket fills the highlights the reference clipped, and the result keeps values above the
reference's white (headroom, see :mod:`lumatune.merge.output`). The robustness test treats a clipped sample
as the lower bound it is (a clipped reference agrees with any brighter frame).

References
----------
.. [1] S. W. Hasinoff et al., "Burst photography for high dynamic range and low-light imaging on mobile
       cameras", ACM TOG 35(6), 2016: a burst of raws aligned and merged into one raw, noise model from the
       DNG NoiseProfile.
.. [2] A. Monod, J. Delon, T. Veit, "An Analysis and Implementation of the HDR+ Burst Denoising Method",
       IPOL 11, 2021: noise variance ``lambda_S I + lambda_R``; the ideal gain ``10 log10 N`` dB.
.. [3] B. Wronski, I. Garcia-Dorado, M. Ernst, D. Kelly, M. Krainin, C.-K. Liang, M. Levoy, P. Milanfar,
       "Handheld multi-frame super-resolution", ACM TOG 38(4), 2019, section 5 (robustness from local
       statistics of the difference to the reference, compared with the expected noise).
.. [4] R. Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 29(6), 1981
       (the resampling kernel, a = -0.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numba import njit, prange

from lumatune.errors import UnsupportedError
from lumatune.merge.align import Reference, align, bin_quads, keys_weights
from lumatune.merge.frames import (
    CLIP_LEVEL,
    check_same_capture,
    exposure_ratio,
    noise_profile_of,
    normalised,
    read_frame,
)
from lumatune.merge.xtrans import XTransAccumulator
from lumatune.raw.image import RawImage
from lumatune.runtime.numba import start_numba_in_background, wait_for_numba

__all__ = ["WINDOW", "Z2_ACCEPT", "Z2_REJECT", "FrameReport", "MergeResult", "merge_frames", "merge_arrays"]

WINDOW = 5
"""Side, in pixels of one colour plane (so 10 raw pixels), of the neighbourhood of the robustness statistic."""

Z2_ACCEPT = 4.0
"""Below this mean squared z-score (2 sigma) a quad takes the frame with full weight."""

_PROFILE_STEP = 7
"""The merged noise profile is fitted on every 7th quad in each direction."""

Z2_REJECT = 9.0
"""Above this mean squared z-score (3 sigma) a quad rejects the frame (the reference stays)."""

RESAMPLING_ERROR = 0.02
"""Relative error allowed for resampling an aliased colour plane at a sharp edge (added to the noise model as
``(RESAMPLING_ERROR * level)**2``), so that low-noise frames are not rejected at every edge."""

_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
"""LLVM fast-math flags of the resampling kernel: all but ``nnan`` and ``ninf``, since NaN marks clipped samples."""


@dataclass(frozen=True)
class FrameReport:
    """What happened to one frame: its exposure relative to the reference, median shift (raw pixels,
    y then x) and the mean robustness weight it got (1 = used everywhere)."""

    path: str
    exposure_ratio: float
    shift_px: tuple[float, float]
    mean_weight: float


@dataclass(frozen=True)
class MergeResult:
    """A merged raw.

    Attributes
    ----------
    reference : RawImage
        The first frame (its metadata describes the result).
    merged : numpy.ndarray
        (H, W) float32 mosaic, black subtracted, 1 = the reference's white level; may exceed 1 (headroom).
    noise_profile : numpy.ndarray
        (3, 2) pairs (S, O) per colour R, G, B: the merged noise variance is about ``S x + O`` at value x.
    max_value : float
        The largest value the frames can represent, in reference units (1 / the smallest exposure ratio).
    frames : list of FrameReport
        One entry per frame after the reference.
    """

    reference: RawImage
    merged: np.ndarray
    noise_profile: np.ndarray
    max_value: float
    frames: list[FrameReport] = field(default_factory=list)


@njit(cache=True, parallel=True)
def _scaled(data, black, white, ratio, clip, mark_clipped, out):
    """Normalised Bayer mosaic ``(data - black) / (white - black) / ratio`` into ``out``; clipped samples NaN if
    ``mark_clipped``."""
    h, w = data.shape
    for r in prange(h):
        b0 = np.float32(black[r % 2, 0])
        b1 = np.float32(black[r % 2, 1])
        g0 = np.float32(1.0) / (np.float32(white) - b0)
        g1 = np.float32(1.0) / (np.float32(white) - b1)
        inv = np.float32(1.0) / np.float32(ratio)
        for c in range(w):
            odd = c & 1
            v = (np.float32(data[r, c]) - (b1 if odd else b0)) * (g1 if odd else g0)
            if mark_clipped and v >= clip:
                out[r, c] = np.nan
            else:
                out[r, c] = v * inv
    return out


@njit(cache=True, parallel=True)
def _binned_below(frame, ceiling, out):
    """Mean of each 2x2 quad of ``min(frame, ceiling)`` (NaN, a clipped sample, counts as ``ceiling``) into ``out``."""
    ph, pw = out.shape
    for y in prange(ph):
        for x in range(pw):
            total = 0.0
            for i in range(2):
                for j in range(2):
                    v = frame[2 * y + i, 2 * x + j]
                    total += ceiling if (np.isnan(v) or v > ceiling) else v
            out[y, x] = total * 0.25
    return out


@njit(cache=True, inline="always")
def _field(f, t0, t1, wt, u0, u1, wu):
    """Bilinear interpolation of a tile field between rows t0, t1 (weight wt) and columns u0, u1 (weight wu)."""
    return (f[t0, u0] * (1 - wu) + f[t0, u1] * wu) * (1 - wt) + (f[t1, u0] * (1 - wu) + f[t1, u1] * wu) * wt


@njit(cache=True, parallel=True, fastmath=_FASTMATH)
def _warp(alt, fdy, fdx, c0, stride, out):
    """Resample a Bayer mosaic onto the reference grid: each colour plane moved by the displacement field.

    The displacement of plane pixel (py, px) (one 2x2 quad) is the bilinear interpolation of the tile field
    there; each of the quad's four planes is sampled at the displaced position with Keys' cubic kernel. A NaN
    (clipped) sample spreads to its neighbourhood, which is what an interpolation across clipping deserves.
    """
    h, w = alt.shape
    ph, pw = h // 2, w // 2
    nty, ntx = fdy.shape
    if h % 2:  # an odd last row or column keeps the frame's own samples
        out[h - 1, :] = alt[h - 1, :]
    if w % 2:
        out[:, w - 1] = alt[:, w - 1]
    for py in prange(ph):
        ty = min(max((py - c0) / stride, 0.0), nty - 1.0)
        t0 = min(int(ty), max(nty - 2, 0))
        t1 = min(t0 + 1, nty - 1)
        wt = ty - t0
        for px in range(pw):
            tx = min(max((px - c0) / stride, 0.0), ntx - 1.0)
            u0 = min(int(tx), max(ntx - 2, 0))
            u1 = min(u0 + 1, ntx - 1)
            wu = tx - u0
            sy = py + _field(fdy, t0, t1, wt, u0, u1, wu)
            sx = px + _field(fdx, t0, t1, wt, u0, u1, wu)
            iy = int(np.floor(sy))
            ix = int(np.floor(sx))
            ky = keys_weights(sy - iy)
            kx = keys_weights(sx - ix)
            inside = iy >= 1 and ix >= 1 and iy + 2 < ph and ix + 2 < pw
            for s in range(4):
                sr = s // 2
                sc = s % 2
                total = 0.0
                for a in range(4):
                    if inside:
                        yy = 2 * (iy - 1 + a) + sr
                    else:
                        yy = 2 * min(max(iy - 1 + a, 0), ph - 1) + sr
                    row = 0.0
                    for b in range(4):
                        if inside:
                            xx = 2 * (ix - 1 + b) + sc
                        else:
                            xx = 2 * min(max(ix - 1 + b, 0), pw - 1) + sc
                        row += kx[b] * alt[yy, xx]
                    total += ky[a] * row
                out[2 * py + sr, 2 * px + sc] = total
    return out


@njit(cache=True, parallel=True)
def _differences(ref, warped, clip, frame_clip, out):
    """Per quad and site, the frame's difference to the reference, clipped samples read as bounds."""
    ph, pw = out.shape[1], out.shape[2]
    for y in prange(ph):
        for x in range(pw):
            for s in range(4):
                r = 2 * y + s // 2
                c = 2 * x + s % 2
                f = ref[r, c]
                a = warped[r, c]
                if np.isnan(a):  # the frame clipped here: its true value is at least frame_clip
                    d = 0.0 if f >= clip else max(frame_clip - f, 0.0)
                elif f >= clip:  # the reference clipped: any brighter frame agrees
                    d = min(a - f, 0.0)
                else:
                    d = a - f
                out[s, y, x] = d


@njit(cache=True, parallel=True)
def _accumulate(
    ref, warped, mean_diff, ref_mean, scale, offset, ratio, area, z2_accept, z2_reject, model_error, num, den, weight
):
    """Robustness weight per quad (module docstring), then the frame's weighted samples into the sums."""
    ph, pw = mean_diff.shape[1], mean_diff.shape[2]
    gain = np.empty(4)
    for y in prange(ph):
        gain = np.empty(4)
        for x in range(pw):
            z2 = 0.0
            for s in range(4):
                level = max(ref_mean[s, y, x], 0.0)
                var_ref = scale[s] * level + offset[s]
                var_alt = scale[s] * level / ratio + offset[s] / (ratio * ratio)
                z2 += mean_diff[s, y, x] ** 2 / ((var_ref + var_alt) / area + (model_error * level) ** 2)
                gain[s] = var_ref / var_alt
            z2 *= 0.25
            w = min(max((z2_reject - z2) / (z2_reject - z2_accept), 0.0), 1.0)
            weight[y, x] = w
            if w <= 0.0:
                continue
            for s in range(4):
                r = 2 * y + s // 2
                c = 2 * x + s % 2
                a = warped[r, c]
                if not np.isnan(a):
                    k = w * gain[s]
                    num[r, c] += k * a
                    den[r, c] += k


def _box(plane: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return cv2.boxFilter(plane, -1, (WINDOW, WINDOW), dst=out, normalize=True, borderType=cv2.BORDER_REFLECT)


class _Accumulator:
    """The reference and the running sums of a merge (everything a merge keeps between frames)."""

    def __init__(self, reference: np.ndarray, cfa: np.ndarray, profile: np.ndarray, robust: bool = True):
        if reference.shape[0] < 2 * WINDOW or reference.shape[1] < 2 * WINDOW:
            raise UnsupportedError(f"image of {reference.shape[1]}x{reference.shape[0]} pixels is too small to merge")
        self.ref = reference
        unclipped = reference < CLIP_LEVEL
        self.num = np.where(unclipped, reference, np.float32(0.0))
        self.den = unclipped.astype(np.float32)
        ph, pw = reference.shape[0] // 2, reference.shape[1] // 2
        self.ref_mean = np.empty((4, ph, pw), dtype=np.float32)
        for site in range(4):
            plane = np.ascontiguousarray(reference[site // 2 : 2 * ph : 2, site % 2 : 2 * pw : 2])
            _box(plane, self.ref_mean[site])
        channels = cfa.ravel()
        self.scale = np.ascontiguousarray(profile[channels, 0], dtype=np.float64)
        self.offset = np.ascontiguousarray(profile[channels, 1], dtype=np.float64)
        self.profile = profile
        self.cfa = cfa
        self.floor: np.ndarray | None = None
        self.max_value = 1.0
        self.aligners: dict[float, Reference] = {}
        # buffers reused by every frame (fresh memory costs page faults on every first touch)
        self.frame = np.empty_like(reference)
        self.warped = np.empty_like(reference)
        self.diffs = np.empty((4, reference.shape[0] // 2, reference.shape[1] // 2), dtype=np.float32)
        self.boxed = np.empty(self.diffs.shape[1:], dtype=np.float32)
        self.weight = np.empty(self.diffs.shape[1:], dtype=np.float32)
        self.binned = np.empty(self.diffs.shape[1:], dtype=np.float32)
        # weights on a sparse grid of quads, for the merged noise profile (see _merged_profile)
        self.grid = tuple(np.arange(0, n // 2, _PROFILE_STEP) for n in reference.shape)
        self.k_sum = np.stack([self._at(unclipped, s).astype(np.float64) for s in range(4)])
        self.k2_sum = self.k_sum.copy()
        # without robustness every aligned sample is taken: plain (inverse-variance) averaging, for comparison
        self.z2 = (Z2_ACCEPT, Z2_REJECT) if robust else (1e30, 2e30)

    def add(self, frame: np.ndarray, ratio: float, path: str) -> FrameReport:
        """Align, resample and accumulate one frame (normalised, scaled to the reference, clipped = NaN)."""
        common = min(CLIP_LEVEL, CLIP_LEVEL / ratio)
        field_ = align(self._aligner(common), _binned_below(frame, np.float32(common), self.binned))
        warped = _warp(frame, field_.dy, field_.dx, (field_.tile - 1) * 0.5, float(field_.stride), self.warped)
        diffs, weight = self.diffs, self.weight
        _differences(self.ref, warped, CLIP_LEVEL, CLIP_LEVEL / ratio, diffs)
        for s in range(4):
            _box(diffs[s], self.boxed)
            diffs[s] = self.boxed
        _accumulate(
            self.ref, warped, diffs, self.ref_mean, self.scale, self.offset, float(ratio), float(WINDOW * WINDOW),
            *self.z2, RESAMPLING_ERROR, self.num, self.den, weight,
        )
        self._track_weights(warped, weight, ratio, _resampling_variance(field_))
        if ratio < 1.0:
            self._raise_floor(warped, CLIP_LEVEL / ratio)
        self.max_value = max(self.max_value, 1.0 / ratio)
        dy, dx = field_.median_shift()
        return FrameReport(path, float(ratio), (2 * dy, 2 * dx), float(weight.mean()))

    def _at(self, mosaic: np.ndarray, site: int) -> np.ndarray:
        """The samples of ``mosaic`` at site ``site`` of the quads of the profile grid."""
        rows, cols = self.grid
        return mosaic[np.ix_(2 * rows + site // 2, 2 * cols + site % 2)]

    def _track_weights(self, warped: np.ndarray, weight: np.ndarray, ratio: float, smoothing: float) -> None:
        """Add this frame's weights k and ``k^2 var / var_ref * smoothing`` on the profile grid."""
        rows, cols = self.grid
        w = weight[np.ix_(rows, cols)].astype(np.float64)
        for s in range(4):
            level = np.maximum(self.ref_mean[s][np.ix_(rows, cols)], 0.0)
            var_ref = self.scale[s] * level + self.offset[s]
            var_alt = self.scale[s] * level / ratio + self.offset[s] / ratio**2
            k = np.where(np.isnan(self._at(warped, s)), 0.0, w * var_ref / var_alt)
            self.k_sum[s] += k
            self.k2_sum[s] += k * k * var_alt / var_ref * smoothing

    def _aligner(self, common: float) -> Reference:
        """The reference prepared for alignment with both frames clipped at ``common`` (cached per level)."""
        if common not in self.aligners:
            self.aligners[common] = Reference(bin_quads(np.minimum(self.ref, np.float32(common))))
        return self.aligners[common]

    def _raise_floor(self, warped: np.ndarray, bound: float) -> None:
        """Where this frame clipped as well as the reference, the value is at least ``bound``."""
        if self.floor is None:
            self.floor = np.minimum(self.ref, np.float32(CLIP_LEVEL))
        both = np.isnan(warped) & (self.ref >= CLIP_LEVEL)
        self.floor[both] = np.maximum(self.floor[both], np.float32(bound))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The merged mosaic and its fitted noise profile (3, 2)."""
        den = self.den
        with np.errstate(invalid="ignore", divide="ignore"):
            merged = np.where(den > 0, self.num / den, self.ref if self.floor is None else self.floor)
        merged = merged.astype(np.float32)
        return merged, self._merged_profile(merged)

    def _merged_profile(self, merged: np.ndarray) -> np.ndarray:
        """Least-squares line ``S' x + O'`` through the predicted variance of the merged samples, per colour.

        A merged sample ``sum(k_i a_i) / sum(k_i)`` of samples with variances ``var_i`` (the reference's
        ``S x + O`` scaled by the exposure ratio, and lowered by the resampling's smoothing) has the variance
        ``sum(k_i^2 var_i) / sum(k_i)^2``; it is evaluated on a sparse grid of quads and fitted by a line.
        """
        out = np.empty((3, 2))
        for channel in range(3):
            xs, vs = [], []
            for site in range(4):
                if self.cfa[site // 2, site % 2] != channel:
                    continue
                x = self._at(merged, site).ravel().astype(np.float64)
                k, k2 = self.k_sum[site].ravel(), self.k2_sum[site].ravel()
                ok = (k > 0) & np.isfinite(x)
                s, o = self.profile[channel]
                xs.append(x[ok])
                vs.append((s * np.clip(x[ok], 0, None) + o) * k2[ok] / k[ok] ** 2)
            x, v = np.concatenate(xs), np.concatenate(vs)
            if x.size < 2 or np.ptp(x) == 0:
                factor = float(np.mean(v / (self.profile[channel, 0] * np.clip(x, 0, None) + self.profile[channel, 1])))
                out[channel] = self.profile[channel] * (factor if np.isfinite(factor) else 1.0)
                continue
            slope, intercept = np.polyfit(x, v, 1)
            out[channel] = (max(slope, 1e-12), max(intercept, 1e-14))
        return out


def _keys_variance(fraction: np.ndarray) -> np.ndarray:
    """Sum of the squared Keys weights at a fractional position: the variance left of white noise resampled."""
    t = np.asarray(fraction, dtype=np.float64)
    t2, t3 = t * t, t * t * t
    weights = (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1.0, -1.5 * t3 + 2.0 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)
    return sum(w * w for w in weights)


def _resampling_variance(field_) -> float:
    """Mean factor by which resampling with the frame's displacement field scales white noise variance."""
    fy = field_.dy - np.floor(field_.dy)
    fx = field_.dx - np.floor(field_.dx)
    return float(np.mean(_keys_variance(fy) * _keys_variance(fx)))


def merge_arrays(
    frames: Sequence[np.ndarray],
    cfa: np.ndarray,
    noise_profile: np.ndarray,
    ratios: Sequence[float] | None = None,
    *,
    robust: bool = True,
) -> np.ndarray:
    """Merge normalised Bayer mosaics held in memory (the first is the reference); for tests and research.

    Parameters
    ----------
    frames
        (H, W) float mosaics, black subtracted, 1 = white, each in its own exposure.
    cfa
        (2, 2) channel indices 0 = R, 1 = G, 2 = B.
    noise_profile
        (3, 2) NoiseProfile pairs (S, O) of the frames.
    ratios
        Each frame's exposure relative to the first (default all 1).
    robust
        Reject what disagrees with the reference (False: plain averaging of the aligned frames).

    Returns
    -------
    numpy.ndarray
        The merged mosaic, in the reference's units.
    """
    ratios = [1.0] * len(frames) if ratios is None else list(ratios)
    accumulator = _Accumulator(
        np.asarray(frames[0], dtype=np.float32), np.asarray(cfa), np.asarray(noise_profile, dtype=np.float64), robust
    )
    for frame, ratio in zip(frames[1:], ratios[1:], strict=True):
        values = np.asarray(frame, dtype=np.float32)
        accumulator.frame[...] = np.where(values >= CLIP_LEVEL, np.float32(np.nan), values / np.float32(ratio))
        accumulator.add(accumulator.frame, ratio, "array")
    return accumulator.result()[0]


def merge_frames(
    paths: Sequence[str | Path], progress: Callable[[int], None] | None = None, *, robust: bool = True
) -> MergeResult:
    """Merge raw files (the first is the reference), reading one frame at a time.

    Parameters
    ----------
    paths
        Two or more raws of one camera, size and CFA pattern (Bayer, any 2x2 pattern, or X-Trans).
    progress
        Called with the number of frames merged so far.
    robust
        Reject what disagrees with the reference (False: plain averaging of the aligned frames, for comparison).

    Raises
    ------
    UnsupportedError
        Fewer than two frames, frames that do not belong together, a linear raw.
    UnreadableInputError
        A frame cannot be read.
    """
    if len(paths) < 2:
        raise UnsupportedError("merging needs two frames or more (got one)" if paths else "merging needs two frames")
    start_numba_in_background()  # numba's one-off start-up (0.3-0.5 s) overlaps reading the reference
    reference = read_frame(paths[0])
    wait_for_numba()
    if reference.cfa.shape != (2, 2):
        return _merge_other_cfa(paths, reference, progress, robust)
    ref_values = _scaled(
        reference.data, np.asarray(reference.black_level, dtype=np.float32), np.float32(reference.white_level),
        np.float32(1.0), np.float32(CLIP_LEVEL), False, np.empty(reference.data.shape, dtype=np.float32),
    )
    profile = noise_profile_of(reference, ref_values)
    accumulator = _Accumulator(ref_values, np.asarray(reference.cfa, dtype=np.int64), profile, robust)
    reference = reference.replace(data=reference.data[:2, :2].copy())  # the pixels live in the accumulator now
    reports = []
    for index, path in enumerate(paths[1:], start=1):
        raw = read_frame(path)
        check_same_capture(reference, raw, shape=ref_values.shape)
        ratio = exposure_ratio(reference, raw)
        frame = _scaled(
            raw.data, np.asarray(raw.black_level, dtype=np.float32), np.float32(raw.white_level),
            np.float32(ratio), np.float32(CLIP_LEVEL), True, accumulator.frame,
        )
        del raw
        reports.append(accumulator.add(frame, ratio, str(path)))
        if progress is not None:
            progress(index)
    merged, merged_profile = accumulator.result()
    return MergeResult(reference, merged, merged_profile, accumulator.max_value, reports)


def _merge_other_cfa(paths, reference: RawImage, progress, robust: bool) -> MergeResult:
    """:func:`merge_frames` for a CFA that is not 2x2 Bayer (X-Trans), through :mod:`lumatune.merge.xtrans`."""
    ref_values = normalised(reference)
    shape = ref_values.shape
    accumulator = XTransAccumulator(ref_values, reference.cfa, noise_profile_of(reference, ref_values), CLIP_LEVEL,
                                    robust)
    reference = reference.replace(data=reference.data[:6, :6].copy())
    reports = []
    for index, path in enumerate(paths[1:], start=1):
        raw = read_frame(path)
        check_same_capture(reference, raw, shape=shape)
        ratio = exposure_ratio(reference, raw)
        values = normalised(raw)
        del raw
        frame = np.where(values >= CLIP_LEVEL, np.float32(np.nan), values / np.float32(ratio)).astype(np.float32)
        dy, dx, weight = accumulator.add(frame, ratio)
        reports.append(FrameReport(str(path), float(ratio), (dy, dx), weight))
        if progress is not None:
            progress(index)
    merged, profile = accumulator.result()
    return MergeResult(reference, merged, profile, accumulator.max_value, reports)


def ideal_gain_db(frames: int) -> float:
    """The PSNR gain of averaging ``frames`` equal frames with independent noise: ``10 log10 N`` dB."""
    return 10.0 * math.log10(frames)

