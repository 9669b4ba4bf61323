"""Synthetic scenes whose measurements are known analytically, for the lab's self-validation.

Built here with colour-science alone, *not* with lumatune.sim: the lab must be checked against
inputs that share no code with the rest of lumatune.

The chart is the 24-patch ColorChecker (N. Ohta's spectral reflectances) under CIE D65 with the CIE
1931 2-degree observer, perfect white Y = 1; the six greys are made exactly neutral (Y times the D65
white of the output space) so that their white-balance angle is zero by construction.
"""

from __future__ import annotations

import functools
import math
import struct

import colour
import numpy as np
from scipy.special import erf

ROWS, COLUMNS = 4, 6
CELL = 24
"""Patch pitch in pixels; the truth box is the cell less INSET on every side (16 x 16 pixels)."""
INSET = 4
NEUTRALS = slice(18, 24)
BACKGROUND_LINEAR = 0.05
SPACE_NAMES = {"srgb": "sRGB", "p3": "Display P3"}


@functools.cache
def colorchecker_d65(exact_neutrals: bool = True) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Names, XYZ (white Y = 1) and Lab (D65 white) of the 24 patches (greys as measured if not exact)."""
    sds = colour.SDS_COLOURCHECKERS["ColorChecker N Ohta"]
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    illuminant = colour.SDS_ILLUMINANTS["D65"]
    with colour.utilities.suppress_warnings(colour_runtime_warnings=True):  # 5 nm data aligned to 1 nm
        xyz = np.array([colour.sd_to_XYZ(sd, cmfs, illuminant) for sd in sds.values()]) / 100
    white_xy = colour.RGB_COLOURSPACES["sRGB"].whitepoint
    if exact_neutrals:
        xyz[NEUTRALS] = xyz[NEUTRALS, 1:2] * colour.xy_to_XYZ(white_xy)
    lab = colour.XYZ_to_Lab(xyz, illuminant=white_xy)
    return tuple(sds.keys()), xyz, lab


def chart_boxes() -> list[list[int]]:
    """Truth boxes of the patches, row-major."""
    return [
        [c * CELL + INSET, r * CELL + INSET, (c + 1) * CELL - INSET, (r + 1) * CELL - INSET]
        for r in range(ROWS)
        for c in range(COLUMNS)
    ]


def chart_truth(exact_neutrals: bool = True, **extra) -> dict:
    """A version-1 truth document for the chart image of :func:`chart_linear`."""
    names, xyz, lab = colorchecker_d65(exact_neutrals)
    patches = [
        {"name": n, "box": b, "neutral": i >= 18, "XYZ": x.tolist(), "Lab": l.tolist()}
        for i, (n, b, x, l) in enumerate(zip(names, chart_boxes(), xyz, lab, strict=True))
    ]
    return {
        "kind": "lumatune-sim-truth",
        "version": 1,
        "scene": "colorchecker",
        "illuminant": "D65",
        "image_size": [COLUMNS * CELL, ROWS * CELL],
        "patches": patches,
        **extra,
    }


def matrix_rgb_to_xyz(space: str) -> np.ndarray:
    """Normalised primary matrix of the space (SMPTE RP 177), from colour-science."""
    colourspace = colour.RGB_COLOURSPACES[SPACE_NAMES[space]]
    return colour.normalised_primary_matrix(colourspace.primaries, colourspace.whitepoint)


def xyz_to_linear_rgb(xyz: np.ndarray, space: str) -> np.ndarray:
    return np.asarray(xyz) @ np.linalg.inv(matrix_rgb_to_xyz(space)).T


def chart_linear(space: str = "srgb", colours_xyz: np.ndarray | None = None) -> np.ndarray:
    """(96, 144, 3) linear RGB: each 24-pixel cell filled with its patch colour."""
    xyz = colorchecker_d65()[1] if colours_xyz is None else colours_xyz
    rgb = xyz_to_linear_rgb(xyz, space)
    image = np.empty((ROWS * CELL, COLUMNS * CELL, 3))
    for i, (r, c) in enumerate(np.ndindex(ROWS, COLUMNS)):
        image[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL] = rgb[i]
    return image


DITHER_TILE = 16
"""Side of the threshold tile; every 16 x 16 window (each truth box) holds each threshold once."""


def encode(linear: np.ndarray, bits: int | None) -> np.ndarray:
    """sRGB-encode linear RGB: float32 as is, or integer codes dithered so each box's mean is exact.

    Integer codes are ``floor(v * top + t)`` with thresholds ``t`` a fixed permutation of
    ``(k + 0.5) / 256`` tiled every 16 pixels: over any 16 x 16 box the mean code equals ``v * top``
    to 1/512 of a code, the best an integer file can carry.
    """
    encoded = colour.models.eotf_inverse_sRGB(np.asarray(linear, dtype=np.float64))
    if bits is None:
        return encoded.astype(np.float32)
    top = 2**bits - 1
    count = DITHER_TILE * DITHER_TILE
    tile = (np.random.default_rng(0).permutation(count) + 0.5).reshape(DITHER_TILE, DITHER_TILE) / count
    reps = (-(-encoded.shape[0] // DITHER_TILE), -(-encoded.shape[1] // DITHER_TILE))
    thresholds = np.tile(tile, reps)[: encoded.shape[0], : encoded.shape[1], None]
    codes = np.clip(np.floor(encoded * top + thresholds), 0, top)
    return codes.astype(np.uint8 if bits == 8 else np.uint16)


def icc_with_description(text: str, version: int = 2) -> bytes:
    """A minimal ICC profile holding only a ``desc`` tag (v2 textDescription or v4 mluc)."""
    if version == 2:
        ascii_text = text.encode("ascii") + b"\0"
        tag = b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(12) + bytes(67)
    else:
        utf16 = text.encode("utf-16-be")
        tag = b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(utf16), 28) + utf16
    size = 128 + 4 + 12 + len(tag)
    header = struct.pack(">I", size) + bytes(32) + b"acsp" + bytes(128 - 40)
    return header + struct.pack(">I", 1) + struct.pack(">4sII", b"desc", 144, len(tag)) + tag


def gaussian_edge(height: int, width: int, sigma: float, angle_deg: float, low: float, high: float) -> np.ndarray:
    """Point-sampled Gaussian-blurred straight edge: exact MTF exp(-2 pi^2 sigma^2 f^2)."""
    slope = math.tan(math.radians(angle_deg))
    y, x = np.mgrid[0:height, 0:width] + 0.5
    distance = (x - width / 2 - slope * (y - height / 2)) / math.hypot(1, slope)
    return low + (high - low) * 0.5 * (1 + erf(distance / (sigma * math.sqrt(2))))


def gaussian_mtf50(sigma: float) -> float:
    """Frequency (cy/px) where exp(-2 pi^2 sigma^2 f^2) = 0.5."""
    return math.sqrt(math.log(2) / 2) / (math.pi * sigma)


def rotation_about_neutral_normal(angle_deg: float) -> np.ndarray:
    """Rotation by ``angle_deg`` about an axis perpendicular to (1, 1, 1) (Rodrigues' formula)."""
    axis = np.array([1.0, -1.0, 0.0]) / math.sqrt(2)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    theta = math.radians(angle_deg)
    return np.eye(3) + math.sin(theta) * k + (1 - math.cos(theta)) * k @ k


def truth_header(width: int, height: int, **extra) -> dict:
    return {"kind": "lumatune-sim-truth", "version": 1, "image_size": [width, height], **extra}


def grey_patch_scene(levels: list[float], side: int) -> tuple[np.ndarray, dict]:
    """Linear RGB of square neutral patches side by side, and a truth naming them (white Y = 1)."""
    white = colour.xy_to_XYZ(colour.RGB_COLOURSPACES["sRGB"].whitepoint)
    image = np.repeat(np.repeat(np.asarray(levels, dtype=np.float64)[None, :, None], side, 1), side, 0)
    image = np.repeat(image, 3, axis=2)
    patches = []
    for i, level in enumerate(levels):
        xyz = level * white
        lab = colour.XYZ_to_Lab(xyz, illuminant=colour.RGB_COLOURSPACES["sRGB"].whitepoint)
        box = [i * side, 0, (i + 1) * side, side]
        patches.append({"name": f"grey {level}", "box": box, "neutral": True, "XYZ": xyz.tolist(), "Lab": lab.tolist()})
    return image, truth_header(side * len(levels), side, patches=patches)


def wedge_scene(luminances: list[float], top: float, side: int) -> tuple[np.ndarray, dict]:
    """Linear grey wedge (step i at ``top * luminances[i]``) and its truth."""
    image = np.repeat(np.repeat(top * np.asarray(luminances)[None, :, None], side, 1), side, 0)
    steps = [
        {"box": [i * side, 0, (i + 1) * side, side], "relative_luminance": lum} for i, lum in enumerate(luminances)
    ]
    return np.repeat(image, 3, axis=2), truth_header(side * len(luminances), side, wedge={"steps": steps})


def composite_scene(sigma_blur: float = 1.0) -> tuple[np.ndarray, dict]:
    """Chart (top), slanted edge (bottom left) and a 5-step wedge (bottom right), in linear sRGB."""
    chart = chart_linear("srgb")
    width = chart.shape[1]
    bottom = np.full((64, width, 3), BACKGROUND_LINEAR)
    bottom[:, :64] = gaussian_edge(64, 64, sigma_blur, 5.0, 0.05, 0.6)[..., None]
    luminances = [2.0**-i for i in range(5)]
    for i, lum in enumerate(luminances):
        bottom[16:48, 64 + 16 * i : 80 + 16 * i] = 0.8 * lum
    frequency = np.linspace(0, 1, 101)
    truth = chart_truth(
        image_size=[width, chart.shape[0] + 64],
        edge={
            "box": [0, 96, 64, 160],
            "angle_deg": 5.0,
            "mtf": {
                "frequency_cy_px": frequency.tolist(),
                "mtf": np.exp(-2 * (np.pi * sigma_blur * frequency) ** 2).tolist(),
            },
            "mtf50_cy_px": gaussian_mtf50(sigma_blur),
        },
        wedge={
            "steps": [
                {"box": [64 + 16 * i, 112, 80 + 16 * i, 144], "relative_luminance": lum}
                for i, lum in enumerate(luminances)
            ]
        },
    )
    return np.concatenate([chart, bottom], axis=0), truth
