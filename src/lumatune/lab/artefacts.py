"""Demosaic artefacts against a noiseless truth image: false colour, zipper, PSNR and SSIM.

- **False colour**: mean a*b* distance between rendering and truth over the pixels where the truth
  is neutral (truth C*ab below :data:`NEUTRAL_CHROMA`); on an exactly grey zone plate or star this is
  the rendering's mean chroma C*ab, every bit of which is an artefact.
- **Zipper** (Lu and Tan 2003): for each pixel, the 8-neighbour most similar to it *in the truth*
  (smallest ΔE*ab) should stay similar; the pixel zips when the rendering's ΔE*ab to that neighbour
  exceeds the truth's by more than :data:`ZIPPER_THRESHOLD`. Reported as the percentage of pixels.
- **PSNR** on display-encoded RGB in [0, 1]: ``10 log10(1 / MSE)``.
- **SSIM** (Wang et al. 2004): Gaussian window sigma 1.5 (11 x 11), K1 = 0.01, K2 = 0.03, dynamic
  range 1, on display-encoded RGB, averaged over channels and over the image less a 5-pixel border.

References
----------
- W. Lu, Y.-P. Tan, "Color filter array demosaicking: new method and performance measures",
  *IEEE Trans. Image Process.* 12(10), 2003, pp. 1194-1210 (zipper effect measure).
- Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
  visibility to structural similarity", *IEEE Trans. Image Process.* 13(4), 2004, pp. 600-612.
- CIE 015:2018, *Colorimetry*, 8.2.1 (L*a*b*, C*ab) and 8.3.1 (ΔE*ab).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = [
    "NEUTRAL_CHROMA",
    "ZIPPER_THRESHOLD",
    "false_colour",
    "zipper_percentage",
    "psnr_db",
    "ssim",
]

NEUTRAL_CHROMA = 1.0
"""Truth pixels with C*ab below this count as neutral for false colour."""

ZIPPER_THRESHOLD = 2.3
"""ΔE*ab increase that makes a zipper pixel (Lu and Tan 2003; one just-noticeable difference)."""

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
"""Gaussian truncated at 3.5 sigma: radius 5, the 11 x 11 window of Wang et al."""
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_BORDER = 5

NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def false_colour(
    rendering_lab: np.ndarray, truth_lab: np.ndarray, neutral_chroma: float = NEUTRAL_CHROMA
) -> float | None:
    """Mean a*b* distance to the truth where the truth is neutral; None when no truth pixel is neutral.

    For an exactly neutral truth this is the rendering's mean chroma C*ab; measuring the distance
    instead keeps the slight chroma of real neutral surfaces out of the figure.
    """
    neutral = np.hypot(truth_lab[..., 1], truth_lab[..., 2]) < neutral_chroma
    if not neutral.any():
        return None
    difference = rendering_lab[..., 1:] - truth_lab[..., 1:]
    return float(np.hypot(difference[..., 0], difference[..., 1])[neutral].mean())


def _shifted_difference(lab: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """ΔE*ab from each interior pixel to its neighbour at (dy, dx): shape (H-2, W-2)."""
    h, w = lab.shape[:2]
    centre = lab[1 : h - 1, 1 : w - 1]
    return np.linalg.norm(lab[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] - centre, axis=-1)


def zipper_percentage(rendering_lab: np.ndarray, truth_lab: np.ndarray, threshold: float = ZIPPER_THRESHOLD) -> float:
    """Percentage of interior pixels showing the zipper effect (Lu and Tan 2003).

    Ties between equally similar truth neighbours go to the first in raster order.
    """
    best_truth = np.full(truth_lab.shape[:2], np.inf)[1:-1, 1:-1]
    increase = np.zeros_like(best_truth)
    for dy, dx in NEIGHBOUR_OFFSETS:
        truth_difference = _shifted_difference(truth_lab, dy, dx)
        closer = truth_difference < best_truth
        best_truth = np.where(closer, truth_difference, best_truth)
        increase = np.where(closer, _shifted_difference(rendering_lab, dy, dx) - truth_difference, increase)
    return float((increase > threshold).mean() * 100)


def psnr_db(image: np.ndarray, reference: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; infinite for identical images."""
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


def _ssim_channel(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    def blur(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a, SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect")

    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    b = SSIM_BORDER
    return float(ssim_map[b:-b, b:-b].mean())


def ssim(image: np.ndarray, reference: np.ndarray, data_range: float = 1.0) -> float:
    """Mean structural similarity of two (H, W) or (H, W, C) images (Wang et al. 2004)."""
    image = np.asarray(image, np.float64)
    reference = np.asarray(reference, np.float64)
    if image.ndim == 2:
        return _ssim_channel(image, reference, data_range)
    return float(np.mean([_ssim_channel(image[..., c], reference[..., c], data_range) for c in range(image.shape[2])]))
