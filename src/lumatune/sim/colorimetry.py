"""Colorimetry of the virtual camera: camera responses, true colours and the DNG colour matrices.

Everything here works on spectra (a few hundred at most), never on pixels: a scene is a table of
reflectances, so its camera RGB and XYZ are computed once per reflectance and then painted.

References
----------
.. [1] CIE 015:2018, *Colorimetry*: tristimulus values of reflecting samples (section 7.1).
.. [2] Adobe, DNG Specification 1.6.0.0, chapter 6, "Mapping Camera Color Space to CIE XYZ Space":
       ColorMatrix (XYZ to camera, normalised so the illuminant white has largest channel 1) and
       ForwardMatrix (white-balanced camera to XYZ D50, mapping (1, 1, 1) to the D50 white).
.. [3] ISO 17321-1:2012, *Colour characterisation of digital still cameras*: fitting a camera
       matrix on the spectral responses to a training set, preserving white.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lumatune.sim import spectra

__all__ = [
    "CALIBRATION_ILLUMINANTS",
    "D50_XYZ",
    "D65_XYZ",
    "CameraFit",
    "camera_response",
    "dng_colour_tags",
    "fit_camera_to_xyz",
    "relative_xyz",
    "training_reflectances",
    "true_colours",
]

D50_XYZ = np.array([0.9642, 1.0, 0.8249])
"""The D50 white of the DNG/ICC profile connection space (ForwardMatrix target), Y = 1."""

D65_XYZ = np.array([0.3127 / 0.3290, 1.0, (1.0 - 0.3127 - 0.3290) / 0.3290])
"""The D65 white (CIE 015 xy = 0.3127, 0.3290), Y = 1: the adapted white of the ground truth."""

CALIBRATION_ILLUMINANTS = (("A", 17), ("D65", 21))
"""(illuminant, EXIF LightSource code) of ColorMatrix1/ForwardMatrix1 and ColorMatrix2/ForwardMatrix2."""


def camera_response(reflectances: np.ndarray, illuminant: np.ndarray, sensitivities: np.ndarray) -> np.ndarray:
    """Camera RGB (n, 3) of reflectances (n, wavelengths) lit by ``illuminant``, in relative units.

    A perfect white's response is ``illuminant @ sensitivities``; only ratios matter.
    """
    return np.asarray(reflectances, dtype=np.float64) @ (illuminant[:, None] * sensitivities)


def relative_xyz(reflectances: np.ndarray, illuminant: np.ndarray) -> np.ndarray:
    """CIE 1931 XYZ (n, 3) of reflectances lit by ``illuminant``; a perfect white has Y = 1.

    References
    ----------
    .. [1] CIE 015:2018, section 7.1.
    """
    weights = illuminant[:, None] * spectra.cmfs()
    return np.asarray(reflectances, dtype=np.float64) @ weights / weights[:, 1].sum()


@lru_cache(maxsize=1)
def training_reflectances() -> np.ndarray:
    """Reflectances the colour matrices are fitted on: ColorChecker 24, CIE TCS01-14, CQS VS1-15."""
    return np.concatenate([spectra.colorchecker_reflectances()[1], spectra.quality_sample_reflectances()[1]])


@dataclass(frozen=True)
class CameraFit:
    """A camera-to-XYZ matrix fitted under one illuminant.

    Attributes
    ----------
    matrix : numpy.ndarray
        3x3, camera RGB (in the units of :func:`camera_response`) to XYZ (white Y = 1).
    white_rgb : numpy.ndarray
        Camera RGB of a perfect white under the illuminant; ``matrix @ white_rgb`` is ``white_xyz``.
    white_xyz : numpy.ndarray
        XYZ of the illuminant, Y = 1.
    """

    matrix: np.ndarray
    white_rgb: np.ndarray
    white_xyz: np.ndarray


def _orthogonal_basis(vector: np.ndarray) -> np.ndarray:
    """A 3x2 matrix whose orthonormal columns are orthogonal to ``vector``."""
    unit = vector / np.linalg.norm(vector)
    q, _ = np.linalg.qr(np.column_stack([unit, np.eye(3)[:, :2]]))
    return q[:, 1:3]


@lru_cache(maxsize=64)
def fit_camera_to_xyz(camera: str, illuminant: str) -> CameraFit:
    """Fit the camera RGB -> XYZ matrix under an illuminant, white preserved, least ΔE*ab.

    The matrix is ``M = xyz_w u^T / |rgb_w| + C Q^T`` with ``u`` the unit white direction and
    ``Q`` orthogonal to it, so ``M rgb_w = xyz_w`` exactly; the six entries of ``C`` are first
    solved by linear least squares in XYZ, then refined to the least squares of CIELAB
    differences (relative to the illuminant white) over :func:`training_reflectances`.

    References
    ----------
    .. [1] ISO 17321-1:2012, section 4.6 (white-point preserving matrix fit).
    .. [2] Finlayson, G. D., Drew, M. S., "Constrained least-squares regression in color spaces",
           Journal of Electronic Imaging 6(4), 1997.
    """
    from scipy.optimize import least_squares  # lazy: scipy (0.6 s)

    light = spectra.illuminant_spd(illuminant)
    sensitivities = spectra.camera_sensitivities(camera)
    reflectances = training_reflectances()
    rgb = camera_response(reflectances, light, sensitivities)
    xyz = relative_xyz(reflectances, light)
    white_rgb = light @ sensitivities
    white_xyz = relative_xyz(np.ones((1, light.size)), light)[0]
    q = _orthogonal_basis(white_rgb)
    anchored = np.outer(white_xyz, white_rgb) / (white_rgb @ white_rgb)
    free_coordinates = rgb @ q  # (n, 2)
    target_lab = spectra.xyz_to_lab(xyz, white_xyz)

    def matrix(c: np.ndarray) -> np.ndarray:
        return anchored + c.reshape(3, 2) @ q.T

    linear, *_ = np.linalg.lstsq(free_coordinates, xyz - rgb @ anchored.T, rcond=None)

    def lab_residuals(c: np.ndarray) -> np.ndarray:
        return (spectra.xyz_to_lab(rgb @ matrix(c).T, white_xyz) - target_lab).ravel()

    fitted = least_squares(lab_residuals, linear.T.ravel(), method="lm").x
    return CameraFit(matrix(fitted), white_rgb, white_xyz)


def _color_matrix(fit: CameraFit) -> np.ndarray:
    """DNG ColorMatrix (XYZ -> camera) of a fit, scaled so the illuminant white's largest channel is 1."""
    return np.linalg.inv(fit.matrix) / fit.white_rgb.max()


def _forward_matrix(fit: CameraFit) -> np.ndarray:
    """DNG ForwardMatrix: white-balanced camera -> XYZ D50, ``FM @ (1, 1, 1) = D50``.

    White-balanced camera values are ``rgb / neutral``; ``FM = CAT(white -> D50) M diag(white_rgb)``.
    """
    adaptation = spectra.bradford_matrix(fit.white_xyz, D50_XYZ)
    return adaptation @ fit.matrix @ np.diag(fit.white_rgb)


def dng_colour_tags(camera: str) -> dict:
    """ColorMatrix1/2, ForwardMatrix1/2 and CalibrationIlluminant1/2 (A, D65) of a camera.

    Returns
    -------
    dict
        Keyword arguments of :func:`lumatune.io.dng.write_dng`.

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, chapter 6 and tags ColorMatrix1/2, ForwardMatrix1/2,
           CalibrationIlluminant1/2.
    """
    (first, first_code), (second, second_code) = CALIBRATION_ILLUMINANTS
    fit_1, fit_2 = fit_camera_to_xyz(camera, first), fit_camera_to_xyz(camera, second)
    return {
        "color_matrix_1": _color_matrix(fit_1),
        "calibration_illuminant_1": first_code,
        "color_matrix_2": _color_matrix(fit_2),
        "calibration_illuminant_2": second_code,
        "forward_matrix_1": _forward_matrix(fit_1),
        "forward_matrix_2": _forward_matrix(fit_2),
    }


def true_colours(reflectances: np.ndarray, illuminant: str) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth XYZ and Lab of reflectances under ``illuminant``, adapted to D65.

    XYZ are relative (perfect white Y = 1) and adapted from the illuminant's white to D65 with the
    Bradford transform, the transform the DNG colour model uses; Lab is relative to D65 (white
    L = 100).

    References
    ----------
    .. [1] CIE 015:2018, sections 7.1 and 8.2.1.
    .. [2] Lam, 1985 (Bradford chromatic adaptation).
    """
    light = spectra.illuminant_spd(illuminant)
    white_xyz = relative_xyz(np.ones((1, light.size)), light)[0]
    xyz = relative_xyz(reflectances, light) @ spectra.bradford_matrix(white_xyz, D65_XYZ).T
    return xyz, spectra.xyz_to_lab(xyz, D65_XYZ)
