"""Image filters shared by the look stages (OpenCV, float32 planes): the Gaussian blur of sharpen and grain.

References
----------
OpenCV ``cv::GaussianBlur`` and ``cv::getGaussianKernel`` (sampled Gaussian, ``BORDER_REFLECT_101``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["blur_reach", "gaussian_blur"]


def gaussian_blur(plane: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 plane (OpenCV, kernel out to 4 sigma, mirrored border)."""
    import cv2  # lazy: cv2 (~17 ms)

    size = 2 * blur_reach(sigma) + 1
    return cv2.GaussianBlur(plane, (size, size), sigma, borderType=cv2.BORDER_REFLECT_101)


def blur_reach(sigma: float) -> int:
    """Pixels the Gaussian of :func:`gaussian_blur` reaches on each side: 4 sigma, rounded up."""
    return int(np.ceil(4.0 * sigma))
