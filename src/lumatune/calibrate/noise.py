"""Noise calibration: a per-channel Poisson-Gaussian noise model per ISO (the ``denoise`` block's table).

The model is the DNG NoiseProfile's: the temporal noise variance of the normalised signal x (black 0, white
1) of each colour channel is ``S x + O`` (S: shot noise; O: read noise, dark-current shot noise and ADC
rounding). Raws are grouped by ISO. Two raws of one scene at one ISO make a pair: the variance of their
difference, halved, is the temporal variance free of the scene and of fixed-pattern noise (PRNU, DSNU), and
the mean of their mean is the signal, in blocks of each CFA channel (EMVA 1288's two-frame method). A block
may hold texture: both moments are linear in the signal, so the block averages still lie on the line. A raw
without a partner is measured on itself: the variance in each block around a fitted plane, blocks with
edges or texture rejected as outliers of the fit (after Foi et al. 2008); fixed-pattern noise (PRNU) and
fine texture then count as noise. S and O are fitted by weighted least squares over the blocks, a range of
signal levels being needed (a step wedge, or flats at several exposures, or darks plus flats).

References
----------
- Adobe DNG Specification 1.6.0.0, tag NoiseProfile (51041).
- EMVA Standard 1288, release 4.0, 2021, sections 2 and 6 (photon transfer; temporal variance from the
  difference of two frames).
- Foi, A., Trimeche, M., Katkovnik, V., Egiazarian, K., "Practical Poissonian-Gaussian noise modeling and
  fitting for single-image raw-data", IEEE Transactions on Image Processing 17(10), 2008.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lumatune.calibrate.capture import Capture, capture_iso, load_captures
from lumatune.errors import UnreadableInputError

__all__ = [
    "NoiseSamples",
    "NoiseFit",
    "NoiseCalibration",
    "pair_noise_samples",
    "single_frame_noise_samples",
    "fit_noise_model",
    "same_scene",
    "calibrate_noise",
]

BLOCK = 8
"""Side, in samples of one CFA position, of the blocks the moments are taken in."""

CLIP_LEVEL = 0.98
"""Blocks with a sample at or above this fraction of full scale are left out (clipping bends the moments)."""

SAME_SCENE_TOLERANCE = 0.05
SAME_SCENE_CORRELATION = 0.95
"""Two raws are a pair when their mean levels agree within this (relative) and their block means correlate."""

MIN_LEVEL_SPAN = 4.0
"""The signal levels measured must span at least this ratio (brightest / darkest usable block)."""

REJECT_SIGMAS = 4.0
"""Blocks whose variance lies this many standard errors above the fitted line are outliers (edges, texture)."""


@dataclass(frozen=True)
class NoiseSamples:
    """Signal level and temporal variance of blocks of one colour channel (normalised units)."""

    level: np.ndarray
    variance: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class NoiseFit:
    """The noise model of one ISO: ``profile`` (3, 2) rows ``(S, O)`` for R, G, B, and how it was measured."""

    iso: float
    profile: np.ndarray
    method: str
    samples: tuple[NoiseSamples, ...]
    paths: tuple


@dataclass(frozen=True, eq=False)
class NoiseCalibration:
    """Noise models per ISO, sorted by ISO."""

    camera: str
    fits: tuple[NoiseFit, ...]

    def block(self) -> dict:
        """The ``[denoise]`` tuning block's noise table: ``{"profiles": [{"iso", "noise_profile"}, ...]}``."""
        return {
            "profiles": [
                {"iso": float(fit.iso), "noise_profile": [[float(f"{v:.6g}") for v in row] for row in fit.profile]}
                for fit in self.fits
            ]
        }


def _planes(mosaic: np.ndarray, cfa: np.ndarray | None) -> list[tuple[int, np.ndarray]]:
    """(channel, plane) for each CFA position (a sub-sampled image of one colour) or each linear channel."""
    if cfa is None:
        return [(c, mosaic[..., c]) for c in range(3)]
    n = cfa.shape[0]
    return [(int(cfa[i, j]), mosaic[i::n, j::n]) for i in range(n) for j in range(n)]


def _blocks(plane: np.ndarray) -> np.ndarray:
    """(blocks, BLOCK * BLOCK) samples of the whole blocks of a plane."""
    h, w = (plane.shape[0] // BLOCK) * BLOCK, (plane.shape[1] // BLOCK) * BLOCK
    tiles = plane[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).swapaxes(1, 2)
    return tiles.reshape(-1, BLOCK * BLOCK).astype(np.float64)


def _merge(parts: dict[int, list[NoiseSamples]]) -> tuple[NoiseSamples, ...]:
    """One NoiseSamples per channel R, G, B from the parts gathered per channel."""

    def joined(channel: int, key: str) -> np.ndarray:
        pieces = [getattr(s, key) for s in parts.get(channel, [])]
        return np.concatenate(pieces) if pieces else np.empty(0)

    return tuple(NoiseSamples(*(joined(c, key) for key in ("level", "variance", "weight"))) for c in range(3))


def pair_noise_samples(first: np.ndarray, second: np.ndarray, cfa: np.ndarray | None) -> tuple[NoiseSamples, ...]:
    """Per channel, block means and temporal variances from two frames of one scene (EMVA 1288, 2 frames).

    The variance of ``first - second`` over a block, halved, estimates the temporal noise variance at the
    block's mean level, with the scene and the fixed patterns cancelled.
    """
    parts: dict[int, list[NoiseSamples]] = {}
    for (channel, a), (_, b) in zip(_planes(first, cfa), _planes(second, cfa)):
        blocks_a, blocks_b = _blocks(a), _blocks(b)
        usable = (blocks_a.max(axis=1) < CLIP_LEVEL) & (blocks_b.max(axis=1) < CLIP_LEVEL)
        difference = (blocks_a - blocks_b)[usable]
        level = 0.5 * (blocks_a + blocks_b)[usable].mean(axis=1)
        variance = 0.5 * difference.var(axis=1, ddof=1)
        weight = np.full(level.size, BLOCK * BLOCK - 1.0)
        parts.setdefault(channel, []).append(NoiseSamples(level, variance, weight))
    return _merge(parts)


def single_frame_noise_samples(mosaic: np.ndarray, cfa: np.ndarray | None) -> tuple[NoiseSamples, ...]:
    """Per channel, block means and noise variances from one frame (Foi et al. 2008, simplified).

    In each block of each CFA position a plane (mean and linear trend, e.g. lens shading) is removed and
    the residual variance taken; blocks holding an edge or texture give variances far above the noise line
    and are rejected while fitting (:func:`fit_noise_model`).
    """
    parts: dict[int, list[NoiseSamples]] = {}
    y, x = np.divmod(np.arange(BLOCK * BLOCK, dtype=np.float64), BLOCK)
    design = np.column_stack([np.ones_like(x), x - x.mean(), y - y.mean()])
    projector = np.eye(design.shape[0]) - design @ np.linalg.pinv(design)
    for channel, plane in _planes(mosaic, cfa):
        blocks = _blocks(plane)
        blocks = blocks[blocks.max(axis=1) < CLIP_LEVEL]
        residual = blocks @ projector.T
        dof = BLOCK * BLOCK - design.shape[1]
        variance = (residual**2).sum(axis=1) / dof
        parts.setdefault(channel, []).append(
            NoiseSamples(blocks.mean(axis=1), variance, np.full(len(blocks), float(dof)))
        )
    return _merge(parts)


def fit_noise_model(samples: NoiseSamples) -> tuple[float, float]:
    """``(S, O)`` of ``variance = S level + O`` by iteratively reweighted least squares with outlier rejection.

    Each block's variance estimate has a relative variance of ``2 / weight`` (degrees of freedom), so its
    weight is ``weight / predicted_variance**2``, re-evaluated from the current fit; blocks more than
    :data:`REJECT_SIGMAS` standard errors above the line (edges, texture) are dropped.

    References
    ----------
    Foi et al., 2008, section IV (weighted fit of the variance function); EMVA 1288, section 6.
    """
    level, variance, weight = samples.level, samples.variance, samples.weight
    design = np.column_stack([level, np.ones_like(level)])
    predicted = np.full_like(variance, np.median(variance))
    keep = np.ones(level.size, dtype=bool)
    for _ in range(10):
        w = np.sqrt(weight[keep]) / np.maximum(predicted[keep], 1e-15)
        (slope, offset), *_ = np.linalg.lstsq(design[keep] * w[:, None], variance[keep] * w, rcond=None)
        predicted = np.maximum(slope * level + offset, 1e-15)
        keep = variance <= predicted * (1 + REJECT_SIGMAS * np.sqrt(2 / weight))
    return float(slope), float(offset)


def same_scene(first: Capture, second: Capture) -> bool:
    """Whether two raws show the same scene at the same exposure (so their difference is pure noise).

    Their block means must correlate (:data:`SAME_SCENE_CORRELATION`) and agree in total exposure within
    :data:`SAME_SCENE_TOLERANCE`.
    """
    if first.mosaic.shape != second.mosaic.shape:
        return False
    a = _blocks(_planes(first.mosaic, first.raw.cfa)[0][1]).mean(axis=1)
    b = _blocks(_planes(second.mosaic, second.raw.cfa)[0][1]).mean(axis=1)
    if a.sum() <= 0 or abs(b.sum() / a.sum() - 1) > SAME_SCENE_TOLERANCE or a.std() == 0 or b.std() == 0:
        return False
    return bool(np.corrcoef(a, b)[0, 1] > SAME_SCENE_CORRELATION)


def _group_samples(captures: list[Capture]) -> tuple[tuple[NoiseSamples, ...], str]:
    """Samples of one ISO group: pairs of same-scene raws where possible, single frames otherwise."""
    per_channel: dict[int, list[NoiseSamples]] = {}
    methods = set()
    remaining = list(captures)
    while remaining:
        first = remaining.pop(0)
        partner = next((c for c in remaining if same_scene(first, c)), None)
        if partner is not None:
            remaining.remove(partner)
            samples, method = pair_noise_samples(first.mosaic, partner.mosaic, first.raw.cfa), "pairs"
        else:
            samples, method = single_frame_noise_samples(first.mosaic, first.raw.cfa), "single frame"
        methods.add(method)
        for channel, s in enumerate(samples):
            per_channel.setdefault(channel, []).append(s)
    return _merge(per_channel), " + ".join(sorted(methods))


def _fit_group(iso: float, captures: list[Capture]) -> NoiseFit:
    samples, method = _group_samples(captures)
    profile = []
    for channel, s in enumerate(samples):
        usable = s.level > 0
        if usable.sum() < 8 or s.level[usable].max() < MIN_LEVEL_SPAN * s.level[usable].min():
            raise UnreadableInputError(
                f"{captures[0].path}: ISO {iso:g} raws give too narrow a range of signal levels to fit a noise "
                f"model (need a {MIN_LEVEL_SPAN:g}x span: a step wedge, or flats at several exposures)"
            )
        slope, offset = fit_noise_model(NoiseSamples(s.level[usable], s.variance[usable], s.weight[usable]))
        if slope <= 0:
            raise UnreadableInputError(
                f"{captures[0].path}: ISO {iso:g}: noise does not grow with the signal (channel {'rgb'[channel]})"
            )
        profile.append((slope, max(offset, 0.0)))
    return NoiseFit(iso, np.array(profile), method, samples, tuple(c.path for c in captures))


def calibrate_noise(paths: Sequence[str | os.PathLike]) -> NoiseCalibration:
    """Fit the per-channel noise model of each ISO from raws of one camera.

    Parameters
    ----------
    paths : raws; those of one ISO are fitted together; two raws of one scene and exposure are used as a
        pair (temporal noise only), others on their own.

    Raises
    ------
    UnreadableInputError : unreadable raw, a raw without ISO, too narrow a range of levels.
    UnsupportedError : raws of different cameras.
    """
    captures = load_captures(paths, correct_shading=False)
    groups: dict[float, list[Capture]] = {}
    for capture in captures:
        iso = capture_iso(capture.raw)
        if iso is None:
            raise UnreadableInputError(f"{capture.path}: the raw records no ISO; a noise model is per ISO")
        groups.setdefault(iso, []).append(capture)
    fits = tuple(_fit_group(iso, group) for iso, group in sorted(groups.items()))
    return NoiseCalibration(camera=captures[0].camera, fits=fits)
