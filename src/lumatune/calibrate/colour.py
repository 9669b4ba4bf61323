"""Colour calibration: fit the ``colour_matrix`` block (one matrix per illuminant) from ColorChecker raws.

For each raw the chart's linear camera RGB is read before any colour processing; the camera white is taken
from the chart's greys; the patches are white-balanced the way the pipeline does (divided by
``neutral / max(neutral)``) and a 3x3 matrix to XYZ (D65) is fitted with the white point preserved
(white-balanced (1, 1, 1) -> the D65 white, Y = 1, exactly), by minimising the mean CIEDE2000 over the
patches after the one exposure scale the lab fits on the greys. The least-squares solution in XYZ starts
the search. Shots under two or more illuminants give a table keyed by colour temperature, which the
colour matrix stage interpolates in 1/CCT (dual-illuminant tuning, as DNG ColorMatrix1/2).

The key of each entry is the colour temperature the pipeline itself will estimate for a shot under that
light (the white balance stage's CCT from the raw's colour model), so that the interpolation at develop
time lands exactly on the calibrated matrices for the calibrated lights; raws without a colour model use
the illuminant's nominal CCT.

References
----------
- ISO 17321-1:2012, *Graphic technology and photography - Colour characterisation of digital still
  cameras (DSCs) - Part 1*, section 4.6 (white-point preserving matrix fit on chart data).
- Finlayson, G. D., Drew, M. S., "Constrained least-squares regression in color spaces", Journal of
  Electronic Imaging 6(4), 1997 (white-point preserving regression).
- CIE 142-2001 / ISO/CIE 11664-6:2014 (CIEDE2000); Sharma, G., Wu, W., Dalal, E. N., Color Res. Appl.
  30(1), 2005 (implementation notes).
- Adobe DNG Specification 1.6.0.0, chapter 6 (dual-illuminant profiles interpolated in 1/CCT).
- libcamera ``utils/raspberrypi/ctt/ctt_ccm.py`` (CCM fit per colour temperature minimising ΔE).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lumatune.calibrate.capture import Capture, load_captures
from lumatune.calibrate.chart import NEUTRAL_PATCHES, ChartReading, read_chart
from lumatune.calibrate.reference import ILLUMINANT_CCT, chart_reference_xyz, illuminant_cct
from lumatune.colour.camera import as_shot_neutral, metadata_matrix_wb_camera_to_xyz_d65, white_cct
from lumatune.colour.difference import delta_e00
from lumatune.colour.spaces import XY_D65, XYZ_to_Lab, xy_to_XYZ
from lumatune.errors import UnreadableInputError, UnsupportedError

__all__ = [
    "ColourShot",
    "IlluminantFit",
    "ColourCalibration",
    "exposure_scale",
    "camera_neutral_from_greys",
    "white_balanced",
    "fit_wb_matrix_de00",
    "patch_de00",
    "estimate_illuminant",
    "calibrate_colour",
]

D65_WHITE = xy_to_XYZ(XY_D65)
"""XYZ of the D65 white, Y = 1: where white-balanced (1, 1, 1) must land."""

BRIGHT_GREYS = NEUTRAL_PATCHES[:4]
"""Greys used for the camera white (white .. neutral 5): the two darkest carry too much noise."""

SNAP_MIRED = 10.0
"""An estimated white within this many mired of a standard illuminant is taken as that illuminant."""

SNAP_ILLUMINANTS = ("A", "D50", "D55", "D65", "D75")


def exposure_scale(measured_y: np.ndarray, reference_y: np.ndarray) -> float:
    """Least-squares scale ``k`` of ``k * measured_y ~ reference_y`` (the lab's exposure fit on the greys)."""
    energy = float(measured_y @ measured_y)
    return float(measured_y @ reference_y) / energy if energy > 0 else 1.0


def camera_neutral_from_greys(rgb: np.ndarray, reference_xyz: np.ndarray) -> np.ndarray:
    """Camera RGB of the illuminant's white (green = 1) from the chart's bright greys.

    Each grey's RGB is divided by its reference luminance, then the greys are averaged weighted by that
    luminance (the brighter, the less noisy).
    """
    greys = BRIGHT_GREYS
    weights = reference_xyz[greys, 1]
    neutral = (rgb[greys] / weights[:, None]).T @ weights / weights.sum()
    return neutral / neutral[1]


def white_balanced(rgb: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """Camera RGB white-balanced as the pipeline does: divided by ``neutral / max(neutral)``."""
    neutral = np.asarray(neutral, dtype=np.float64)
    return rgb / (neutral / neutral.max())


def _basis_orthogonal_to_ones() -> np.ndarray:
    """3x2 orthonormal basis of the plane orthogonal to (1, 1, 1)."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(3), np.eye(3)[:, :2]]))
    return q[:, 1:3]


_Q = _basis_orthogonal_to_ones()
_ANCHOR = np.outer(D65_WHITE, np.ones(3)) / 3.0


def _matrix(free: np.ndarray) -> np.ndarray:
    """The white-preserving matrix ``anchor + C Q^T``: any C gives ``M @ (1, 1, 1) = D65 white``."""
    return _ANCHOR + free.reshape(3, 2) @ _Q.T


def patch_de00(
    matrix: np.ndarray, wb_rgb: np.ndarray, reference_xyz: np.ndarray, neutral: np.ndarray | None = None
) -> np.ndarray:
    """Per-patch CIEDE2000 of white-balanced camera RGB through ``matrix`` against the reference.

    One exposure scale is fitted on the neutral patches' luminance first (by default the bottom-row greys of
    every chart in the set), as the lab does; Lab is relative to D65 (white L = 100).
    """
    xyz = wb_rgb @ matrix.T
    if neutral is None:
        neutral = np.isin(np.arange(len(xyz)) % 24, NEUTRAL_PATCHES)
    scale = exposure_scale(xyz[neutral, 1], reference_xyz[neutral, 1])
    return delta_e00(XYZ_to_Lab(xyz * scale), XYZ_to_Lab(reference_xyz))


def _least_squares_start(wb_rgb: np.ndarray, reference_xyz: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """Free coordinates of the white-preserving matrix solving least squares in XYZ (the search's start)."""
    anchored = wb_rgb @ _ANCHOR.T
    scale = exposure_scale(anchored[neutral, 1], reference_xyz[neutral, 1])
    start, *_ = np.linalg.lstsq(wb_rgb @ _Q * scale, reference_xyz - anchored * scale, rcond=None)
    return start.T.ravel()


def fit_wb_matrix_de00(
    rgb: np.ndarray, reference_xyz: np.ndarray, neutral: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Camera white and white-balanced camera RGB -> XYZ (D65) matrix, white preserved, least mean CIEDE2000.

    The camera white (the neutral) is fitted with the matrix: chart greys are not spectrally flat, so the
    white that renders them as their reference (slightly tinted) colours is the illuminant's, and the white
    point preserved is that one.

    Parameters
    ----------
    rgb : (n, 3) camera RGB of the patches of one or more charts (24 per chart, greys last in each).
    reference_xyz : (n, 3) their reference XYZ under D65 (perfect white Y = 1).
    neutral : starting camera white, green = 1 (e.g. :func:`camera_neutral_from_greys`).

    Returns
    -------
    tuple
        ``(M, neutral)``: 3x3 ``M`` with ``M @ (1, 1, 1)`` the D65 white (Y = 1), to be applied to
        :func:`white_balanced` RGB; the fitted camera white, green = 1.

    References
    ----------
    ISO 17321-1:2012, 4.6; Finlayson and Drew, 1997 (start: least squares in XYZ with the white fixed).
    """
    from scipy.optimize import minimize  # lazy: scipy (0.4 s)

    greys = np.isin(np.arange(len(rgb)) % 24, NEUTRAL_PATCHES)
    log_start = np.log(np.asarray(neutral, dtype=np.float64)[[0, 2]] / neutral[1])

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _matrix(x[:6]), np.array([np.exp(x[6]), 1.0, np.exp(x[7])])

    def cost(x: np.ndarray) -> float:
        matrix, white = unpack(x)
        return float(patch_de00(matrix, white_balanced(rgb, white), reference_xyz, greys).mean())

    start = _least_squares_start(white_balanced(rgb, neutral), reference_xyz, greys)
    x = np.concatenate([start, log_start])
    x = minimize(cost, x, method="Nelder-Mead", options={"maxiter": 8000, "xatol": 1e-8, "fatol": 1e-9}).x
    x = minimize(cost, x, method="Powell", options={"xtol": 1e-8, "ftol": 1e-10}).x
    return unpack(x)


@dataclass(frozen=True, eq=False)
class ColourShot:
    """One chart raw of a colour calibration.

    Attributes
    ----------
    capture : the raw.
    chart : the patch readings.
    illuminant : the illuminant's name (given, or estimated from the chart's greys).
    ct : colour temperature the pipeline estimates for this shot's white (K), or the illuminant's nominal one.
    neutral : camera RGB of the white from the chart's greys (green = 1).
    pipeline_neutral : the neutral the pipeline's white balance uses for this raw (as-shot, else ``neutral``).
    reference_xyz : (24, 3) reference colours under the illuminant, adapted to D65.
    metadata_matrix : the matrix the raw's own metadata gives (white-balanced camera RGB -> XYZ D65).
    metadata_source : "dng", "libraw" or "srgb".
    """

    capture: Capture
    chart: ChartReading
    illuminant: str
    ct: float
    neutral: np.ndarray
    pipeline_neutral: np.ndarray
    reference_xyz: np.ndarray
    metadata_matrix: np.ndarray
    metadata_source: str


@dataclass(frozen=True, eq=False)
class IlluminantFit:
    """The matrix fitted under one illuminant and how well it and the metadata render its charts.

    ``neutral`` is the camera white fitted with the matrix (green = 1).

    ``de00_fitted`` and ``de00_metadata`` are (shots, 24) CIEDE2000 per patch, rendered as the pipeline
    does (white balance by ``pipeline_neutral``; the metadata matrix, or this fitted matrix).
    """

    illuminant: str
    ct: float
    matrix: np.ndarray
    neutral: np.ndarray
    shots: tuple[ColourShot, ...]
    de00_fitted: np.ndarray
    de00_metadata: np.ndarray


@dataclass(frozen=True, eq=False)
class ColourCalibration:
    """The result of a colour calibration: one fit per illuminant, sorted by colour temperature."""

    camera: str
    fits: tuple[IlluminantFit, ...]
    notes: tuple[str, ...] = field(default=())

    def block(self) -> dict:
        """The ``[colour_matrix]`` tuning block: ``{"ccms": [{"ct": ..., "matrix": [9 numbers]}, ...]}``."""
        return {
            "ccms": [
                {"ct": round(float(fit.ct), 1), "matrix": [round(float(v), 6) for v in fit.matrix.ravel()]}
                for fit in self.fits
            ]
        }


def estimate_illuminant(capture: Capture, neutral: np.ndarray) -> str:
    """Name of the light a chart was shot under, from its white through the raw's colour model.

    A white within :data:`SNAP_MIRED` of a standard illuminant (A, D50, D55, D65, D75) is that illuminant;
    other whites are "<CCT>K" (a Planckian radiator below 4000 K, CIE daylight above).

    Raises
    ------
    UnsupportedError : the raw has no colour model to estimate the white with.
    """

    cct = white_cct(capture.raw, neutral)
    if cct is None:
        raise UnsupportedError(f"{capture.path}: cannot estimate the illuminant (no colour model); give --illuminant")
    mired = 1e6 / cct
    nearest = min(SNAP_ILLUMINANTS, key=lambda name: abs(1e6 / ILLUMINANT_CCT[name] - mired))
    if abs(1e6 / ILLUMINANT_CCT[nearest] - mired) <= SNAP_MIRED:
        return nearest
    return f"{round(cct, -1):.0f}K"


def _shot(capture: Capture, chart: ChartReading, illuminant: str) -> ColourShot:
    provisional = chart_reference_xyz("D65" if illuminant == "auto" else illuminant)
    neutral = camera_neutral_from_greys(chart.rgb, provisional)
    if illuminant == "auto":
        illuminant = estimate_illuminant(capture, neutral)
    reference = chart_reference_xyz(illuminant)
    recorded = as_shot_neutral(capture.raw)
    pipeline_neutral = np.asarray(recorded, dtype=np.float64) if recorded is not None else neutral
    pipeline_neutral = pipeline_neutral / pipeline_neutral[1]
    metadata, source, _ = metadata_matrix_wb_camera_to_xyz_d65(capture.raw, pipeline_neutral)
    ct = white_cct(capture.raw, pipeline_neutral) or illuminant_cct(illuminant)
    return ColourShot(capture, chart, illuminant, float(ct), neutral, pipeline_neutral, reference, metadata, source)


def _fit_illuminant(shots: list[ColourShot]) -> IlluminantFit:
    rgb = np.concatenate([shot.chart.rgb / shot.chart.rgb[NEUTRAL_PATCHES[0], 1] for shot in shots])
    reference = np.concatenate([shot.reference_xyz for shot in shots])
    matrix, neutral = fit_wb_matrix_de00(rgb, reference, shots[0].neutral)
    fitted, metadata = [], []
    for shot in shots:
        rendered = white_balanced(shot.chart.rgb, shot.pipeline_neutral)
        fitted.append(patch_de00(matrix, rendered, shot.reference_xyz))
        metadata.append(patch_de00(shot.metadata_matrix, rendered, shot.reference_xyz))
    ct = float(np.mean([s.ct for s in shots]))
    return IlluminantFit(shots[0].illuminant, ct, matrix, neutral, tuple(shots), np.array(fitted), np.array(metadata))


def _illuminant_per_raw(illuminants: Sequence[str], count: int) -> list[str]:
    if len(illuminants) == 1:
        return list(illuminants) * count
    if len(illuminants) != count:
        raise UnsupportedError(
            f"--illuminant: give one name for all raws or one per raw ({count}), not {len(illuminants)}"
        )
    return list(illuminants)


def calibrate_colour(
    paths: Sequence[str | os.PathLike],
    *,
    illuminants: Sequence[str] = ("auto",),
    corners: np.ndarray | None = None,
    locate: str = "auto",
    lens_shading=None,
) -> ColourCalibration:
    """Fit the colour matrix block from ColorChecker raws of one camera.

    Parameters
    ----------
    paths : chart raws; shots under the same illuminant are fitted together.
    illuminants : "auto" (estimated from each chart's greys through the raw's colour model), one name for all
        raws, or one per raw (see :data:`lumatune.calibrate.reference.ILLUMINANTS`, or "<N>K").
    corners : (4, 2) outer corners of the patch grid in raw pixels, the same for every raw; else the chart is
        found (see :func:`lumatune.calibrate.chart.locate_chart`).
    locate : "auto", "corners", "truth" or "detect".
    lens_shading : LensShadingParams to correct the raws with before reading the patches (default: the
        raw's own GainMap).

    Raises
    ------
    UnreadableInputError : unreadable raw, no chart, a clipped or underexposed chart.
    UnsupportedError : raws of different cameras, an unknown illuminant, two illuminants of one CCT.
    """
    captures = load_captures(paths, lens_shading=lens_shading)
    names = _illuminant_per_raw(list(illuminants), len(captures))
    shots = [_shot(c, read_chart(c, corners, locate), name) for c, name in zip(captures, names)]
    groups: dict[str, list[ColourShot]] = {}
    for shot in shots:
        groups.setdefault(shot.illuminant, []).append(shot)
    fits = sorted((_fit_illuminant(group) for group in groups.values()), key=lambda fit: fit.ct)
    for low, high in zip(fits, fits[1:]):
        if abs(1e6 / low.ct - 1e6 / high.ct) < 1.0:
            raise UnsupportedError(
                f"illuminants {low.illuminant} and {high.illuminant} have the same colour temperature "
                f"({low.ct:.0f} K): a tuning interpolates by temperature, calibrate them separately"
            )
    if not fits:
        raise UnreadableInputError("no chart raws given")
    return ColourCalibration(camera=captures[0].camera, fits=tuple(fits))
