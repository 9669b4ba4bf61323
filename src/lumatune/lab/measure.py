"""Measure one rendering against a scene's ground truth: every figure the scene allows, as a dict.

What is measured depends on what the truth holds: chart patches give colour accuracy (ΔE2000,
ΔE76, ΔC, ΔL), AWB angular error and per-patch noise; a slanted edge gives the MTF; a step wedge
gives SNR per step and the dynamic range; a truth image gives demosaic artefacts (false colour,
zipper, PSNR, SSIM). The methods and their references are in the sibling modules.

Headline keys (present when the scene allows them): ``de00_mean``, ``de00_max``, ``de76_mean``,
``awb_error_deg`` (neutral patches against (1, 1, 1)), ``awb_error_vs_reference_deg`` (against
the reference greys' own slightly tinted RGB, 0 for a perfect rendering), ``exposure_scale``
(fitted on the neutral patches that are not clipped), ``clipped_patches`` (patches with more than
1 % of their pixels at the largest code in a channel: their colour is the clip's, not the rendering's),
``snr_db`` (of the neutral patch whose reference Y is nearest 0.18, named by ``snr_patch``),
``mtf50``, ``mtf50_truth``, ``mtf_half_nyquist``, ``overshoot_pct``, ``edge_angle_deg``,
``dr_stops_snr1``, ``dr_stops_snr10``, ``false_colour``, ``zipper_pct``, ``psnr_db``, ``ssim``;
tables: ``patches``, ``noise_curve``, ``mtf``, ``wedge``. Non-finite numbers (the SNR of a noiseless
patch, the PSNR of an identical image) become None.

References
----------
See :mod:`lumatune.lab.colour`, :mod:`lumatune.lab.sharpness`, :mod:`lumatune.lab.noise`,
:mod:`lumatune.lab.dynamic_range` and :mod:`lumatune.lab.artefacts`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from lumatune.errors import BadFileError, UnreadableInputError, UnsupportedError
from lumatune.lab import artefacts, colour, dynamic_range, noise, sharpness
from lumatune.lab.rendering import (
    Rendering,
    encode_linear,
    linear_rgb,
    matrix_rgb_to_xyz,
    read_rendering,
    rendering_from_array,
    white_xy,
)
from lumatune.lab.truth import EdgeTruth, Truth, WedgeStep, check_image_size, load_truth

__all__ = ["REFERENCE_GREY_Y", "measure", "load_rendering", "to_jsonable"]

REFERENCE_GREY_Y = 0.18
"""Headline SNR is that of the neutral patch whose reference luminance is nearest this."""


def load_rendering(image: str | Path | np.ndarray | Rendering, space: str = "auto") -> Rendering:
    """A :class:`Rendering` from a file path, an in-memory array of codes, or a Rendering."""
    if isinstance(image, Rendering):
        return image
    if isinstance(image, np.ndarray):
        return rendering_from_array(image, space)
    return read_rendering(image, space)


def to_jsonable(value: Any) -> Any:
    """Plain Python containers and floats; NaN and infinities become None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _patch_pixels(rgb: np.ndarray, truth: Truth, corners: np.ndarray | None) -> list[np.ndarray]:
    if corners is not None:
        expected = colour.CHART_ROWS * colour.CHART_COLUMNS
        if len(truth.patches) != expected:
            count = len(truth.patches)
            raise BadFileError(f"{truth.source}: chart corners need {expected} patches, the truth has {count}")
        return [colour.quad_pixels(rgb, quad) for quad in colour.chart_quads_from_corners(corners)]
    for i, patch in enumerate(truth.patches):
        if patch.box is None:
            raise BadFileError(f"{truth.source}: truth key 'patches[{i}].box' is missing; give the chart corners")
    return [colour.box_pixels(rgb, patch.box) for patch in truth.patches]  # type: ignore[arg-type]


def _clip_code(rendering: Rendering) -> float:
    """The code at and above which a channel counts as clipped."""
    return rendering.clip_level * (1.0 if rendering.bit_depth is None else 2**rendering.bit_depth - 1)


def _clipped_fraction(codes: np.ndarray, clip_code: float) -> float:
    """Fraction of the (n, 3) pixels with any channel at or above ``clip_code``."""
    return float(np.any(codes >= clip_code, axis=1).mean())


def _headline_snr(truth: Truth, stats: list[noise.PatchNoise]) -> dict[str, Any]:
    neutral = [i for i, patch in enumerate(truth.patches) if patch.neutral]
    if not neutral:
        return {}
    i = min(neutral, key=lambda k: abs(truth.patches[k].xyz[1] - REFERENCE_GREY_Y))
    return {"snr_db": stats[i].snr_db, "snr_patch": truth.patches[i].name}


def _patch_rows(truth: Truth, columns: dict[str, Any], neutral_columns: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per patch from per-patch columns; ``neutral_columns`` only on neutral patches."""
    rows = []
    for i, patch in enumerate(truth.patches):
        row = {"name": patch.name, "neutral": patch.neutral} | {key: value[i] for key, value in columns.items()}
        if patch.neutral:
            row |= {key: value[i] for key, value in neutral_columns.items()}
        rows.append(row)
    return rows


def _noise_columns(stats: list[noise.PatchNoise]) -> dict[str, list[float]]:
    keys = ("snr_db", "mean_y", "std_y", "lightness_std", "chroma_std")
    return {key: [getattr(s, key) for s in stats] for key in keys}


def _patch_clipped_fractions(rendering: Rendering, truth: Truth, corners: np.ndarray | None) -> list[float]:
    """Per patch, the fraction of its pixels with a channel at the largest code."""
    clip_code = _clip_code(rendering)
    return [_clipped_fraction(codes, clip_code) for codes in _patch_pixels(rendering.codes, truth, corners)]


def _measure_chart(
    rgb: np.ndarray,
    rendering: Rendering,
    truth: Truth,
    fit_exposure: bool,
    exposure_scale: float | None,
    corners: np.ndarray | None,
    detect: bool,
) -> dict[str, Any]:
    """Colour, AWB and per-patch noise; a given ``exposure_scale`` replaces the fitted one."""
    matrix, white = matrix_rgb_to_xyz(rendering.space), white_xy(rendering.space)
    pixels = None if detect else _patch_pixels(rgb, truth, corners)
    if pixels is None:
        means = colour.detect_chart_patch_means(rendering)
    else:
        means = np.array([p.mean(axis=0) for p in pixels])
    reference_xyz = np.array([p.xyz for p in truth.patches])
    reference_lab = np.array([p.lab for p in truth.patches])
    neutral = np.array([p.neutral for p in truth.patches])
    if pixels is None:
        clipped_fractions, clipped = None, np.zeros_like(neutral)
    else:
        clipped_fractions = _patch_clipped_fractions(rendering, truth, corners)
        clipped = np.array(clipped_fractions) > dynamic_range.CLIPPED_FRACTION
    fit_on = neutral if neutral.any() else np.ones_like(neutral)
    if (fit_on & ~clipped).any():
        fit_on = fit_on & ~clipped
    measured_y = noise.luminance(means, matrix)
    if exposure_scale is not None:
        scale = exposure_scale
    elif fit_exposure:
        scale = colour.fit_exposure_scale(measured_y[fit_on], reference_xyz[fit_on, 1])
    else:
        scale = 1.0
    lab = colour.xyz_to_lab(means @ matrix.T * scale, white)
    differences = colour.colour_differences(lab, reference_lab)
    awb = {
        "awb_error_deg": colour.awb_angular_error_deg(means),
        "awb_error_vs_reference_deg": colour.angle_between_deg(means, reference_xyz @ np.linalg.inv(matrix).T),
    }
    stats = [] if pixels is None else [noise.patch_noise(p, matrix, white, scale) for p in pixels]
    columns = {
        "in_gamut": colour.in_gamut(reference_xyz, rendering.space),
        "reference_lab": reference_lab,
        "lab": lab,
        "linear_rgb": means,
        **differences,
        **(_noise_columns(stats) if stats else {}),
        **({} if clipped_fractions is None else {"clipped_fraction": clipped_fractions}),
    }
    result: dict[str, Any] = {
        "exposure_scale": scale,
        "de00_mean": differences["de00"].mean(),
        "de00_max": differences["de00"].max(),
        "de76_mean": differences["de76"].mean(),
        "patches": _patch_rows(truth, columns, awb),
    }
    if neutral.any():
        result |= {key: angles[neutral].mean() for key, angles in awb.items()}
    if clipped_fractions is not None:
        result["clipped_patches"] = int(clipped.sum())
    if stats:
        result |= _headline_snr(truth, stats)
        result["noise_curve"] = noise.noise_curve(stats)
    return result


def _measure_edge(rgb: np.ndarray, edge: EdgeTruth, matrix: np.ndarray) -> dict[str, Any]:
    x0, y0, x1, y1 = edge.box
    sfr = sharpness.slanted_edge_sfr(noise.luminance(rgb[y0:y1, x0:x1], matrix))
    result: dict[str, Any] = {
        "mtf50": sfr.mtf50_cy_px,
        "mtf_half_nyquist": sfr.mtf_half_nyquist,
        "overshoot_pct": sfr.overshoot_pct,
        "edge_angle_deg": sfr.edge_angle_deg,
        "mtf": {"frequency_cy_px": sfr.frequency_cy_px, "mtf": sfr.mtf},
    }
    if edge.mtf50_cy_px is not None:
        result["mtf50_truth"] = edge.mtf50_cy_px
    return result


def _measure_wedge(
    rgb: np.ndarray, rendering: Rendering, wedge: tuple[WedgeStep, ...], matrix: np.ndarray
) -> dict[str, Any]:
    clip_code = _clip_code(rendering)
    luminances = [noise.luminance(colour.box_pixels(rgb, step.box), matrix) for step in wedge]
    clipped = [_clipped_fraction(colour.box_pixels(rendering.codes, step.box), clip_code) for step in wedge]
    steps = dynamic_range.wedge_step_stats(luminances, clipped, [step.relative_luminance for step in wedge])
    return {
        "wedge": [
            {
                "relative_luminance": s.relative_luminance,
                "mean_y": s.mean_y,
                "std_y": s.std_y,
                "clipped": s.clipped,
                "snr": s.snr,
                "snr_db": noise.snr_db(s.snr) if math.isfinite(s.snr) else s.snr,
            }
            for s in steps
        ],
        "dr_stops_snr1": dynamic_range.dynamic_range_stops(steps, 1.0),
        "dr_stops_snr10": dynamic_range.dynamic_range_stops(steps, 10.0),
    }


def _read_truth_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    try:
        xyz = tifffile.imread(path)
    except (OSError, ValueError) as error:
        raise UnreadableInputError(f"{path}: cannot read the truth image ({error})") from None
    if xyz.shape != shape:
        raise BadFileError(f"{path}: truth image has shape {xyz.shape}, the rendering {shape}")
    return np.asarray(xyz, dtype=np.float64)


def _measure_artefacts(rgb: np.ndarray, space: str, truth_image: Path, scale: float) -> dict[str, Any]:
    matrix, white = matrix_rgb_to_xyz(space), white_xy(space)
    truth_xyz = _read_truth_image(truth_image, rgb.shape)
    rendering_rgb = rgb.astype(np.float64) * scale
    rendering_lab = colour.xyz_to_lab(rendering_rgb @ matrix.T, white)
    truth_lab = colour.xyz_to_lab(truth_xyz, white)
    truth_encoded = encode_linear(np.clip(truth_xyz @ np.linalg.inv(matrix).T, 0, 1))
    rendering_encoded = encode_linear(np.clip(rendering_rgb, 0, 1))
    return {
        "false_colour": artefacts.false_colour(rendering_lab, truth_lab),
        "zipper_pct": artefacts.zipper_percentage(rendering_lab, truth_lab),
        "psnr_db": artefacts.psnr_db(rendering_encoded, truth_encoded),
        "ssim": artefacts.ssim(rendering_encoded, truth_encoded),
    }


def _positive_scale(value: Any) -> float:
    """``value`` as a finite positive float, or UnsupportedError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise UnsupportedError(f"exposure scale {value!r}: must be a finite positive number")
    return float(value)


def measure(
    image: str | Path | np.ndarray | Rendering,
    truth: str | Path | Mapping[str, Any] | Truth,
    *,
    space: str = "auto",
    fit_exposure: bool = True,
    exposure_scale: float | None = None,
    chart_corners: np.ndarray | None = None,
    detect_chart: bool = False,
) -> dict[str, Any]:
    """Measure a rendered image against the scene's ground truth.

    Parameters
    ----------
    image
        Path of a TIFF/PNG/JPEG, or display-encoded codes (uint8, uint16 or float in [0, 1]).
    truth
        Path of the truth JSON, its parsed dict, or a :class:`~lumatune.lab.truth.Truth`.
    space
        ``"auto"`` (embedded ICC description, else sRGB), ``"srgb"``, ``"p3"`` or ``"rec2020"``.
    fit_exposure
        Fit one exposure scale on the neutral patches' luminance before colour differences.
    exposure_scale
        A known exposure scale applied to the rendering's linear RGB instead of fitting one, for
        instance the one fitted on a chart captured and rendered the same way: the only way to take
        an exposure difference out of PSNR and SSIM on a scene without a chart.
    chart_corners
        (4, 2) outer corners of the patch grid (see
        :func:`~lumatune.lab.colour.chart_quads_from_corners`) instead of the truth's boxes.
    detect_chart
        Find the chart with colour-checker-detection instead (no per-patch noise then).

    Returns
    -------
    dict
        JSON-able results; see the module docstring for the keys.

    Raises
    ------
    BadFileError
        The truth is invalid or does not match the image.
    UnreadableInputError, UnsupportedError
        The image cannot be read or decoded, or ``exposure_scale`` is not a positive number.
    """
    if exposure_scale is not None:
        exposure_scale = _positive_scale(exposure_scale)
    rendering = load_rendering(image, space)
    truth = load_truth(truth)
    check_image_size(truth, rendering.width, rendering.height, rendering.source)
    rgb = linear_rgb(rendering)
    matrix = matrix_rgb_to_xyz(rendering.space)
    result: dict[str, Any] = {
        "image": rendering.source,
        "truth": truth.source,
        "space": rendering.space,
        "bit_depth": rendering.bit_depth,
        "image_size": [rendering.width, rendering.height],
    }
    if truth.patches:
        corners = None if chart_corners is None else np.asarray(chart_corners, dtype=np.float64)
        result.update(_measure_chart(rgb, rendering, truth, fit_exposure, exposure_scale, corners, detect_chart))
    if truth.edge is not None:
        result.update(_measure_edge(rgb, truth.edge, matrix))
    if truth.wedge:
        result.update(_measure_wedge(rgb, rendering, truth.wedge, matrix))
    if truth.truth_image is not None:
        scale = result.get("exposure_scale", 1.0 if exposure_scale is None else exposure_scale)
        result.update(_measure_artefacts(rgb, rendering.space, truth.truth_image, scale))
    return to_jsonable(result)
