"""Bilinear demosaic by normalised convolution (any 2x2 or 6x6 CFA).

References
----------
-   Knutsson, H., & Westin, C.-F. (1993). Normalized and differential convolution. Proc. CVPR, 515-523.
    doi:10.1109/CVPR.1993.341081
"""

from __future__ import annotations

import numpy as np

from lumatune.stages.demosaic._mosaic import BLUE, GREEN, RED, as_cfa, as_mosaic, cfa_plane, pad_mirrored_mosaic

__all__ = ["demosaic_bilinear"]


def demosaic_bilinear(mosaic: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Demosaic by normalised convolution of each channel with a 3x3 tent kernel.

    Each missing sample is the tent-weighted mean of the samples of its channel in the 3x3 neighbourhood;
    measured samples are kept. On a Bayer CFA this is textbook bilinear interpolation; on X-Trans every
    3x3 window holds at least one sample of each channel, so it is defined there too.

    Parameters
    ----------
    mosaic
        Float H x W mosaic (black-subtracted, normalised, white-balanced).
    cfa
        Channel index (0=R, 1=G, 2=B) pattern, 2x2 or 6x6, aligned with ``mosaic[0, 0]``.

    Returns
    -------
    numpy.ndarray
        Float32 H x W x 3 RGB.

    References
    ----------
    -   Knutsson, H., & Westin, C.-F. (1993). Normalized and differential convolution. Proc. CVPR,
        515-523. doi:10.1109/CVPR.1993.341081

    Examples
    --------
    >>> rgb = demosaic_bilinear(np.full((4, 4), 0.5, np.float32), np.array([[0, 1], [1, 2]]))
    >>> rgb.shape, float(rgb.min()), float(rgb.max())
    ((4, 4, 3), 0.5, 0.5)
    """
    mosaic = as_mosaic(mosaic)
    cfa = as_cfa(cfa)
    n = cfa.shape[0]
    padded = pad_mirrored_mosaic(mosaic, cfa, n)  # keeps the CFA period, so every 3x3 window has all colours
    channel = cfa_plane(cfa, padded.shape)
    height, width = mosaic.shape
    tent = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32)
    rgb = np.empty((height, width, 3), dtype=np.float32)
    for c in (RED, GREEN, BLUE):
        weights = (channel == c).astype(np.float32)
        samples = padded * weights
        total = np.zeros((height, width), dtype=np.float32)
        norm = np.zeros((height, width), dtype=np.float32)
        for di in range(3):
            for dj in range(3):
                window = (slice(n - 1 + di, n - 1 + di + height), slice(n - 1 + dj, n - 1 + dj + width))
                total += tent[di, dj] * samples[window]
                norm += tent[di, dj] * weights[window]
        rgb[..., c] = np.where(channel[n:-n, n:-n] == c, mosaic, total / norm)
    return rgb
