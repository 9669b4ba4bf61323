"""Synthetic bursts for the merge tests, made with numpy only (not with lumatune's simulator).

A periodic random texture with a few rectangles, band-limited by a Gaussian blur done in the Fourier domain,
is moved by known sub-pixel shifts exactly (a phase ramp: the Fourier shift theorem), sampled through a Bayer
pattern and given independent Gaussian noise of known variance.
"""

from __future__ import annotations

import numpy as np

RGGB = np.array([[0, 1], [1, 2]])
CHANNEL_GAINS = (0.8, 1.0, 0.6)


def _gaussian_blur_fft(image: np.ndarray, sigma: float) -> np.ndarray:
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    response = np.exp(-2 * (np.pi * sigma) ** 2 * (fy**2 + fx**2))
    return np.real(np.fft.ifft2(np.fft.fft2(image) * response))


def texture(height: int, width: int, seed: int = 0, blur: float = 1.0) -> np.ndarray:
    """(H, W) float32 periodic scene in about [0.1, 0.8]: blurred noise plus a few rectangles (edges)."""
    rng = np.random.default_rng(seed)
    base = _gaussian_blur_fft(rng.random((height, width)), 2.0)
    scene = 0.1 + 0.45 * (base - base.min()) / (np.ptp(base) + 1e-9)
    for _ in range(6):
        y, x = rng.integers(0, height - 20), rng.integers(0, width - 20)
        scene[y : y + rng.integers(8, 20), x : x + rng.integers(8, 20)] += 0.2
    return _gaussian_blur_fft(scene, blur).astype(np.float32)


def shifted(scene: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The scene with its content moved by (+dy, +dx), exactly (Fourier shift theorem; the scene is periodic)."""
    fy = np.fft.fftfreq(scene.shape[0])[:, None]
    fx = np.fft.fftfreq(scene.shape[1])[None, :]
    ramp = np.exp(-2j * np.pi * (fy * dy + fx * dx))
    return np.real(np.fft.ifft2(np.fft.fft2(scene) * ramp)).astype(np.float32)


def mosaic(scene: np.ndarray, cfa: np.ndarray = RGGB) -> np.ndarray:
    """Sample a grey scene through a CFA pattern (2x2 or 6x6) with per-channel gains (:data:`CHANNEL_GAINS`)."""
    out = np.empty_like(scene)
    n = cfa.shape[0]
    for i in range(n):
        for j in range(n):
            out[i::n, j::n] = scene[i::n, j::n] * CHANNEL_GAINS[cfa[i, j]]
    return out


def noisy(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """``clean`` plus independent Gaussian noise of standard deviation ``sigma``."""
    rng = np.random.default_rng(seed)
    return (clean + rng.normal(0.0, sigma, clean.shape)).astype(np.float32)


def psnr(image: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (peak 1) over a mask, written plainly."""
    return float(-10 * np.log10(np.mean((image[mask].astype(np.float64) - truth[mask]) ** 2)))
