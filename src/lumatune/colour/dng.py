"""The DNG colour model: camera RGB -> CIE XYZ from a raw's colour tags, as DNG 1.6 chapter 6 and the DNG SDK.

Tags used (DNG Specification 1.6.0.0, chapter 4; argument names follow them in snake case):

-   *CalibrationIlluminant1/2*: EXIF LightSource code of the illuminant each calibration was made under;
    turned into a correlated colour temperature by :func:`illuminant_to_cct` (``cct_1``, ``cct_2``).
-   *ColorMatrix1/2*: XYZ -> reference camera RGB under each calibration illuminant (required: ColorMatrix1).
-   *ForwardMatrix1/2*: white-balanced reference camera RGB -> XYZ of the D50 profile connection space.
-   *CameraCalibration1/2*: reference camera -> this individual camera (per-unit calibration).
-   *AnalogBalance*: the gains applied in the analogue domain before digitisation.
-   *AsShotNeutral*: the camera neutral, the raw RGB of the scene white (``camera_neutral``).
-   *AsShotWhiteXY*: the scene white as xy instead; :func:`xy_to_camera_neutral` turns it into a neutral.

The model (chapter 6). Each ColorMatrix is first scaled so that D50 maps to a camera maximum of 1 (the SDK's
``NormalizeColorMatrix``; this fixes how two matrices of different scale interpolate). With
``CM = AB @ CC @ ColorMatrix`` interpolated linearly in 1/CCT between the two
calibrations (clamped outside them), the white xy of a camera neutral is found by iteration from D50:
``xy = xy(inv(CM(cct(xy))) @ neutral)`` until it stops moving (the SDK's ``NeutralToXY``). Then camera RGB
-> XYZ(D50) is either ``FM @ inv(diag(inv(AB @ CC) @ neutral)) @ inv(AB @ CC)`` when a ForwardMatrix exists,
or ``inv(CM @ Bradford(D50 -> white))`` scaled so the neutral maps to D50 with Y = 1 (``SetWhiteXY``).
A single calibration (no ColorMatrix2, or an unknown / equal CCT) uses the first set only, as the SDK.

What the matrices take and give. :func:`matrix_camera_to_xyz_d50` is the SDK's ``CameraToPCS``: it takes
camera RGB *before* white balance and maps the camera neutral, scaled so its largest channel is 1, to the
D50 white with Y = 1. :func:`matrix_wb_camera_to_xyz_d65` is what the develop pipeline needs: it takes camera
RGB *after* white balance by division by ``camera_neutral`` (exactly as passed), i.e.
``M_wb @ (raw / camera_neutral) == Bradford(D50 -> D65) @ CameraToPCS @ raw``, so (1, 1, 1) maps to the D65
white with ``Y = max(camera_neutral)`` (Y = 1 for the usual neutral whose largest channel is 1). The
chromatic adaptation from the scene white to D65 is built in (to D50 by the DNG model, then linear Bradford
D50 -> D65), as raw developers do.

Not covered: CalibrationIlluminant3 / IlluminantData (DNG 1.6 triple-illuminant profiles; pass the CCT of
the IlluminantData xy yourself for LightSource 255), ReductionMatrix (cameras with more than 3 colours).

References
----------
-   Adobe Systems. (2021). Digital Negative (DNG) Specification, Version 1.6.0.0, chapter 6, "Mapping Camera
    Color Space to CIE XYZ Space".
-   Adobe Systems. DNG SDK 1.6, ``source/dng_color_spec.cpp`` (``FindXYZtoCamera``, ``SetWhiteXY``,
    ``NeutralToXY``, ``MapWhiteMatrix``) and ``source/dng_camera_profile.cpp`` (``IlluminantToTemperature``,
    ``NormalizeForwardMatrix``).
-   colour-hdri, ``colour_hdri/models/dng.py`` (the same model in Python).
-   CIPA DC-008-2019 (Exif 2.32), tag LightSource.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lumatune.colour.interpolate import interpolate_by_ct
from lumatune.colour.spaces import (
    MATRIX_D50_TO_D65_BRADFORD,
    MATRIX_XYZ_TO_REC2020,
    XY_D50,
    XYZ_to_xy,
    matrix_chromatic_adaptation_Bradford,
    xy_to_XYZ,
)
from lumatune.colour.temperature import xy_to_cct_tint
from lumatune.errors import UnsupportedError

__all__ = [
    "CCT_OF_LIGHT_SOURCE",
    "illuminant_to_cct",
    "interpolate_matrix_by_cct",
    "camera_neutral_to_xy",
    "xy_to_camera_neutral",
    "matrix_camera_to_xyz_d50",
    "matrix_wb_camera_to_xyz_d65",
    "matrix_wb_camera_to_rec2020",
    "matrix_wb_camera_to_xyz_d65_from_libraw",
]

CCT_OF_LIGHT_SOURCE: dict[int, float] = {
    1: 5500.0,  # Daylight
    2: (3800.0 + 4500.0) / 2,  # Fluorescent
    3: 2850.0,  # Tungsten (incandescent light)
    4: 5500.0,  # Flash
    9: 5500.0,  # Fine weather
    10: 6500.0,  # Cloudy weather
    11: 7500.0,  # Shade
    12: (5700.0 + 7100.0) / 2,  # Daylight fluorescent (D 5700 - 7100 K)
    13: (4600.0 + 5500.0) / 2,  # Day white fluorescent (N 4600 - 5500 K)
    14: (3800.0 + 4500.0) / 2,  # Cool white fluorescent (W 3800 - 4500 K)
    15: (3250.0 + 3800.0) / 2,  # White fluorescent (WW 3250 - 3800 K)
    16: (2600.0 + 3250.0) / 2,  # Warm white fluorescent (L 2600 - 3250 K)
    17: 2850.0,  # Standard light A
    18: 5500.0,  # Standard light B
    19: 6500.0,  # Standard light C
    20: 5500.0,  # D55
    21: 6500.0,  # D65
    22: 7500.0,  # D75
    23: 5000.0,  # D50
    24: 3200.0,  # ISO studio tungsten
}
"""CCT (K) of each EXIF LightSource code, exactly as the DNG SDK's ``IlluminantToTemperature`` (which rounds:
Standard light A is 2850 K, not 2856 K; D65 6500 K, not 6504 K), so profile interpolation matches Adobe's."""

_MAX_PASSES = 30
_CONVERGED = 1e-7
_MAX_CONDITION = 1e10
_MIN_NEUTRAL = 0.001
_NORMALISED_BAND = 0.01


def illuminant_to_cct(light_source: int) -> float | None:
    """Return the CCT in kelvin of an EXIF LightSource / DNG CalibrationIlluminant code, None if unknown.

    0 (unknown), 255 (other: the CCT comes from the IlluminantData tag) and unassigned codes give None.

    References
    ----------
    DNG SDK ``dng_camera_profile::IlluminantToTemperature``; Exif 2.32, tag LightSource.
    """
    return CCT_OF_LIGHT_SOURCE.get(int(light_source))


def _is_calibrated_pair(cct_1: float | None, cct_2: float | None) -> bool:
    """Whether two calibration CCTs are known, positive and distinct, so that interpolation applies."""
    return cct_1 is not None and cct_2 is not None and cct_1 > 0 and cct_2 > 0 and cct_1 != cct_2


def interpolate_matrix_by_cct(
    M1: ArrayLike, M2: ArrayLike | None, cct1: float | None, cct2: float | None, cct: float
) -> np.ndarray:
    """Interpolate two calibration matrices at ``cct``, linearly in 1/CCT, clamped outside [cct1, cct2].

    ``M1`` alone is returned (as the DNG SDK's single-illuminant model) when ``M2`` is None or the two CCTs
    are not known, positive and distinct. The CCTs may come in either order.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6; DNG SDK ``dng_color_spec::FindXYZtoCamera``.
    """
    if M2 is None or not _is_calibrated_pair(cct1, cct2):
        return np.array(M1, dtype=np.float64)
    return interpolate_by_ct(sorted([(cct1, M1), (cct2, M2)], key=lambda entry: entry[0]), cct)


def _matrix(name: str, value: ArrayLike | None, default: np.ndarray | None = None) -> np.ndarray | None:
    """Return tag ``name`` as a finite 3x3 float64 matrix (``default`` when absent) or raise UnsupportedError."""
    if value is None:
        return default
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise UnsupportedError(f"{name} must be a finite 3x3 matrix (3-colour camera), got {matrix.tolist()}")
    return matrix


def _positive_vector(name: str, value: ArrayLike) -> np.ndarray:
    """Return ``value`` as 3 finite positive float64 values or raise UnsupportedError naming ``name``."""
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)) or np.any(vector <= 0):
        raise UnsupportedError(f"{name} must be 3 finite values > 0, got {vector.tolist()}")
    return vector


def _inverse(matrix: np.ndarray, name: str) -> np.ndarray:
    """Return the inverse of ``matrix`` or raise UnsupportedError when it is singular or ill-conditioned."""
    if not np.all(np.isfinite(matrix)) or np.linalg.cond(matrix) > _MAX_CONDITION:
        raise UnsupportedError(f"{name} is singular or not finite, cannot invert it")
    return np.linalg.inv(matrix)


def _normalised_color_matrix(name: str, value: ArrayLike) -> np.ndarray:
    """Return ColorMatrix ``value`` checked invertible and scaled so that D50 maps to a camera maximum of 1.

    As the SDK's ``NormalizeColorMatrix`` (applied when a profile is read): the scale is left alone when
    already within 1 %, and the SDK's rounding to 4 decimals is not reproduced.
    """
    if value is None:
        raise UnsupportedError(f"{name} is missing")
    matrix = _matrix(name, value)
    _inverse(matrix, name)
    largest = np.max(matrix @ xy_to_XYZ(XY_D50))
    return matrix / largest if largest > 0 and abs(largest - 1.0) > _NORMALISED_BAND else matrix


def _normalised_forward_matrix(name: str, value: ArrayLike | None) -> np.ndarray | None:
    """Return ForwardMatrix ``value`` with rows scaled so that camera (1, 1, 1) maps to the D50 white."""
    matrix = _matrix(name, value)
    if matrix is None:
        return None
    white = matrix.sum(axis=1)
    if np.any(white <= 0):
        raise UnsupportedError(f"{name} maps camera white (1, 1, 1) to non-positive XYZ {white.tolist()}")
    return (xy_to_XYZ(XY_D50) / white)[:, None] * matrix


@dataclass(frozen=True)
class _ColorSpec:
    """The DNG SDK's ``dng_color_spec``: validated tags, each ColorMatrix premultiplied by AB @ CC."""

    cct_1: float | None
    cct_2: float | None
    xyz_to_camera_1: np.ndarray
    xyz_to_camera_2: np.ndarray | None
    forward_matrix_1: np.ndarray | None
    forward_matrix_2: np.ndarray | None
    camera_calibration_1: np.ndarray
    camera_calibration_2: np.ndarray | None
    analog_balance: np.ndarray

    def at(self, first: np.ndarray | None, second: np.ndarray | None, cct: float) -> np.ndarray | None:
        """Interpolate a pair of this spec's matrices at ``cct``; a lone matrix of the pair is used as is."""
        if first is None or second is None:
            return first if second is None else second
        return interpolate_matrix_by_cct(first, second, self.cct_1, self.cct_2, cct)


def _color_spec(
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None,
    cct_1: float | None,
    cct_2: float | None,
    forward_matrix_1: ArrayLike | None,
    forward_matrix_2: ArrayLike | None,
    camera_calibration_1: ArrayLike | None,
    camera_calibration_2: ArrayLike | None,
    analog_balance: ArrayLike | None,
) -> _ColorSpec:
    """Validate the colour tags and build the spec (single-illuminant fallback and CCT order as the SDK)."""
    identity = np.eye(3)
    balance = np.diag(_positive_vector("AnalogBalance", np.ones(3) if analog_balance is None else analog_balance))
    calibration_1 = _matrix("CameraCalibration1", camera_calibration_1, identity)
    xyz_to_camera_1 = balance @ calibration_1 @ _normalised_color_matrix("ColorMatrix1", color_matrix_1)
    _inverse(calibration_1, "CameraCalibration1")
    forward_1 = _normalised_forward_matrix("ForwardMatrix1", forward_matrix_1)
    if color_matrix_2 is None or not _is_calibrated_pair(cct_1, cct_2):
        return _ColorSpec(cct_1, cct_1, xyz_to_camera_1, None, forward_1, None, calibration_1, None, balance)
    calibration_2 = _matrix("CameraCalibration2", camera_calibration_2, identity)
    xyz_to_camera_2 = balance @ calibration_2 @ _normalised_color_matrix("ColorMatrix2", color_matrix_2)
    _inverse(calibration_2, "CameraCalibration2")
    forward_2 = _normalised_forward_matrix("ForwardMatrix2", forward_matrix_2)
    return _ColorSpec(
        cct_1, cct_2, xyz_to_camera_1, xyz_to_camera_2, forward_1, forward_2, calibration_1, calibration_2, balance
    )


def _checked_white(xy: np.ndarray, source: str) -> np.ndarray:
    """Return ``xy`` if it is a physically possible chromaticity, else raise UnsupportedError naming ``source``."""
    if not (np.all(np.isfinite(xy)) and xy[0] > 0 and xy[1] > 0 and xy[0] + xy[1] < 1):
        raise UnsupportedError(f"{source} gives no physical white (xy = {np.round(xy, 4).tolist()})")
    return xy


def _cct(xy: np.ndarray) -> float:
    """Return the CCT in kelvin of white ``xy`` (Robertson, as the DNG SDK)."""
    return float(xy_to_cct_tint(xy)[0])


def _xyz_to_camera(spec: _ColorSpec, cct: float) -> np.ndarray:
    """Return AB @ CC @ ColorMatrix interpolated at ``cct`` (the SDK's ``FindXYZtoCamera``)."""
    return spec.at(spec.xyz_to_camera_1, spec.xyz_to_camera_2, cct)


def _neutral_to_xy(spec: _ColorSpec, neutral: np.ndarray) -> np.ndarray:
    """Iterate xy <- xy(inv(CM(cct(xy))) @ neutral) from D50 as the SDK's ``NeutralToXY`` (30 passes at most)."""
    last = XY_D50
    for attempt in range(_MAX_PASSES):
        cct = _cct(last)
        xyz = _inverse(_xyz_to_camera(spec, cct), f"ColorMatrix interpolated at {cct:.0f} K") @ neutral
        following = _checked_white(XYZ_to_xy(xyz), f"camera neutral {neutral.tolist()}")
        if np.sum(np.abs(following - last)) < _CONVERGED:
            return following
        if attempt == _MAX_PASSES - 1:  # a two-value oscillation: settle between the two estimates
            following = (following + last) / 2.0
        last = following
    return last


def camera_neutral_to_xy(
    camera_neutral: ArrayLike,
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None = None,
    cct_1: float | None = None,
    cct_2: float | None = None,
    camera_calibration_1: ArrayLike | None = None,
    camera_calibration_2: ArrayLike | None = None,
    analog_balance: ArrayLike | None = None,
) -> np.ndarray:
    """Return the CIE 1931 xy of the white whose camera RGB is ``camera_neutral`` (e.g. AsShotNeutral).

    Starting from D50, repeat ``xy = xy(inv(CM) @ neutral)`` with ``CM = AB @ CC @ ColorMatrix``
    interpolated in 1/CCT at the CCT of the current xy, until xy moves by less than 1e-7 (|dx| + |dy|); after
    30 passes the mean of the last two estimates is returned, as the DNG SDK does.

    Raises
    ------
    UnsupportedError
        A tag is malformed or singular, the neutral is not 3 positive values, or it gives no physical white.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6, "Translating Camera Neutral Coordinates to White Balance xy
    Coordinates"; DNG SDK ``dng_color_spec::NeutralToXY``.
    """
    spec = _color_spec(
        color_matrix_1,
        color_matrix_2,
        cct_1,
        cct_2,
        None,
        None,
        camera_calibration_1,
        camera_calibration_2,
        analog_balance,
    )
    return _neutral_to_xy(spec, _positive_vector("camera neutral", camera_neutral))


def xy_to_camera_neutral(
    xy: ArrayLike,
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None = None,
    cct_1: float | None = None,
    cct_2: float | None = None,
    camera_calibration_1: ArrayLike | None = None,
    camera_calibration_2: ArrayLike | None = None,
    analog_balance: ArrayLike | None = None,
) -> np.ndarray:
    """Return the camera neutral of white ``xy`` (e.g. AsShotWhiteXY), scaled so its largest channel is 1.

    ``neutral = CM(cct(xy)) @ XYZ(xy)``, normalised to a maximum of 1 and clipped to [0.001, 1] as the SDK.

    Raises
    ------
    UnsupportedError
        A tag is malformed or singular, or ``xy`` is not a physical chromaticity.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6, "Translating White Balance xy Coordinates to Camera Neutral
    Coordinates"; DNG SDK ``dng_color_spec::SetWhiteXY`` (``fCameraWhite``).
    """
    spec = _color_spec(
        color_matrix_1,
        color_matrix_2,
        cct_1,
        cct_2,
        None,
        None,
        camera_calibration_1,
        camera_calibration_2,
        analog_balance,
    )
    white = _checked_white(np.asarray(xy, dtype=np.float64).reshape(2), "white xy")
    neutral = _xyz_to_camera(spec, _cct(white)) @ xy_to_XYZ(white)
    return np.clip(neutral / np.max(neutral), _MIN_NEUTRAL, 1.0)


def _camera_to_pcs(spec: _ColorSpec, neutral: np.ndarray, white: np.ndarray) -> np.ndarray:
    """Return camera RGB -> XYZ(D50) for ``neutral`` (max 1) of white xy ``white`` (the SDK's ``CameraToPCS``)."""
    cct = _cct(white)
    forward_matrix = spec.at(spec.forward_matrix_1, spec.forward_matrix_2, cct)
    if forward_matrix is not None:
        calibration = spec.at(spec.camera_calibration_1, spec.camera_calibration_2, cct)
        individual_to_reference = _inverse(spec.analog_balance @ calibration, "AnalogBalance @ CameraCalibration")
        reference_neutral = individual_to_reference @ neutral
        if np.any(reference_neutral <= 0):
            raise UnsupportedError(f"camera neutral {neutral.tolist()} is not positive in reference camera space")
        return forward_matrix @ np.diag(1.0 / reference_neutral) @ individual_to_reference
    pcs_to_camera = _xyz_to_camera(spec, cct) @ matrix_chromatic_adaptation_Bradford(XY_D50, white)
    pcs_to_camera /= np.max(pcs_to_camera @ xy_to_XYZ(XY_D50))
    return _inverse(pcs_to_camera, f"ColorMatrix interpolated at {cct:.0f} K")


def matrix_camera_to_xyz_d50(
    camera_neutral: ArrayLike,
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None = None,
    cct_1: float | None = None,
    cct_2: float | None = None,
    forward_matrix_1: ArrayLike | None = None,
    forward_matrix_2: ArrayLike | None = None,
    camera_calibration_1: ArrayLike | None = None,
    camera_calibration_2: ArrayLike | None = None,
    analog_balance: ArrayLike | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Return camera RGB (before white balance) -> XYZ(D50), the CCT and the xy of the white of the neutral.

    The matrix maps ``camera_neutral / max(camera_neutral)`` to the D50 white with Y = 1. With a
    ForwardMatrix: ``FM @ inv(diag(inv(AB @ CC) @ neutral)) @ inv(AB @ CC)`` (FM normalised so (1, 1, 1)
    maps to D50); without: ``inv(CM @ Bradford(D50 -> white))`` scaled as above. FM, CM and CC are
    interpolated at the white's CCT. Unlike the SDK, which rebuilds the neutral from the white's xy, the
    ForwardMatrix path uses the given neutral, so the neutral maps to D50 exactly.

    Returns
    -------
    tuple
        ``(M 3x3, cct_of_white in K, xy_of_white)``.

    Raises
    ------
    UnsupportedError
        A tag is malformed or singular, or the neutral is not positive or gives no physical white.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6, "Camera to XYZ (D50) Transform"; DNG SDK
    ``dng_color_spec::SetWhiteXY``, ``MapWhiteMatrix``, ``dng_camera_profile::NormalizeForwardMatrix``.
    """
    spec = _color_spec(
        color_matrix_1,
        color_matrix_2,
        cct_1,
        cct_2,
        forward_matrix_1,
        forward_matrix_2,
        camera_calibration_1,
        camera_calibration_2,
        analog_balance,
    )
    neutral = _positive_vector("camera neutral", camera_neutral)
    neutral = neutral / np.max(neutral)
    white = _neutral_to_xy(spec, neutral)
    return _camera_to_pcs(spec, neutral, white), _cct(white), white


def matrix_wb_camera_to_xyz_d65(
    camera_neutral: ArrayLike,
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None = None,
    cct_1: float | None = None,
    cct_2: float | None = None,
    forward_matrix_1: ArrayLike | None = None,
    forward_matrix_2: ArrayLike | None = None,
    camera_calibration_1: ArrayLike | None = None,
    camera_calibration_2: ArrayLike | None = None,
    analog_balance: ArrayLike | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Return white-balanced camera RGB -> XYZ(D65), the CCT and the xy of the white of ``camera_neutral``.

    White-balanced means ``raw / camera_neutral`` (element-wise, the neutral exactly as passed here):
    ``M_wb = Bradford(D50 -> D65) @ CameraToXYZ_D50 @ diag(camera_neutral)``. So (1, 1, 1) maps to the D65
    white with ``Y = max(camera_neutral)`` (1 for a neutral whose largest channel is 1, as AsShotNeutral is),
    and the adaptation from the scene white to D65 is built in.

    Returns
    -------
    tuple
        ``(M 3x3, cct_of_white in K, xy_of_white)``.

    Raises
    ------
    UnsupportedError
        As :func:`matrix_camera_to_xyz_d50`; the caller falls back to another matrix.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6; Lindbloom, Chromatic Adaptation (Bradford D50 -> D65).
    """
    camera_to_xyz_d50, cct, white = matrix_camera_to_xyz_d50(
        camera_neutral,
        color_matrix_1,
        color_matrix_2,
        cct_1,
        cct_2,
        forward_matrix_1,
        forward_matrix_2,
        camera_calibration_1,
        camera_calibration_2,
        analog_balance,
    )
    neutral = np.asarray(camera_neutral, dtype=np.float64)
    return MATRIX_D50_TO_D65_BRADFORD @ camera_to_xyz_d50 @ np.diag(neutral), cct, white


def matrix_wb_camera_to_rec2020(
    camera_neutral: ArrayLike,
    color_matrix_1: ArrayLike,
    color_matrix_2: ArrayLike | None = None,
    cct_1: float | None = None,
    cct_2: float | None = None,
    forward_matrix_1: ArrayLike | None = None,
    forward_matrix_2: ArrayLike | None = None,
    camera_calibration_1: ArrayLike | None = None,
    camera_calibration_2: ArrayLike | None = None,
    analog_balance: ArrayLike | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Return white-balanced camera RGB -> linear Rec.2020, the CCT and xy of the white; see the D65 variant.

    ``XYZ(D65) -> Rec.2020 @`` :func:`matrix_wb_camera_to_xyz_d65`; (1, 1, 1) maps to
    ``max(camera_neutral) * (1, 1, 1)``.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6; ITU-R BT.2020-2.
    """
    wb_camera_to_xyz, cct, white = matrix_wb_camera_to_xyz_d65(
        camera_neutral,
        color_matrix_1,
        color_matrix_2,
        cct_1,
        cct_2,
        forward_matrix_1,
        forward_matrix_2,
        camera_calibration_1,
        camera_calibration_2,
        analog_balance,
    )
    return MATRIX_XYZ_TO_REC2020 @ wb_camera_to_xyz, cct, white


def matrix_wb_camera_to_xyz_d65_from_libraw(
    rgb_xyz_matrix: ArrayLike, camera_neutral: ArrayLike
) -> tuple[np.ndarray, float, np.ndarray]:
    """Return white-balanced camera RGB -> XYZ(D65), CCT and white xy from LibRaw's ``rgb_xyz_matrix``.

    LibRaw's ``rgb_xyz_matrix`` (dcraw's ``cam_xyz``, rawpy ``RawPy.rgb_xyz_matrix``) is Adobe's ColorMatrix
    for the camera, XYZ -> camera RGB, calibrated under D65 (dcraw's ``adobe_coeff`` table is ColorMatrix2 of
    Adobe DNG Converter, stored x 10000); its scale, Adobe's normalisation that D50 maps to a camera maximum
    of 1, does not matter here. It is used as a single ColorMatrix1 (6500 K) in the DNG model. A 4x3 matrix
    whose 4th row is zero (3-colour cameras) is accepted.

    Raises
    ------
    UnsupportedError
        The matrix is all zeros (LibRaw knows no matrix for the camera), singular, not finite, or of a
        4-colour camera; or the neutral is not positive.

    References
    ----------
    LibRaw ``imgdata.color.cam_xyz``; dcraw ``adobe_coeff()``; DNG Specification 1.6.0.0, chapter 6.
    """
    matrix = np.asarray(rgb_xyz_matrix, dtype=np.float64)
    if matrix.shape == (4, 3) and not np.any(matrix[3]):
        matrix = matrix[:3]
    try:
        return matrix_wb_camera_to_xyz_d65(camera_neutral, matrix, cct_1=CCT_OF_LIGHT_SOURCE[21])
    except UnsupportedError as error:
        raise UnsupportedError(f"LibRaw rgb_xyz_matrix used as ColorMatrix1: {error}") from error
