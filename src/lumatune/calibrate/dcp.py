"""DNG Camera Profiles (``.dcp``): write the calibrated colour model for other raw developers, read it back,
render chart patches through it.

A DCP is a TIFF-like file with the magic "IIRC" (byte order "II", 0x4352) whose single IFD holds the
profile tags of the DNG specification: UniqueCameraModel, ProfileName, ColorMatrix1/2 (XYZ -> camera under
each calibration illuminant, normalised so the illuminant's white has largest channel 1),
CalibrationIlluminant1/2 (EXIF LightSource codes), ForwardMatrix1/2 (white-balanced camera -> XYZ D50,
(1, 1, 1) -> D50) and, optionally, ProfileHueSatMapDims and ProfileHueSatMapData1/2.

From a calibration, with ``M`` the fitted white-balanced camera -> XYZ (D65) matrix under illuminant L, camera
white ``n`` (max 1) and ``B`` the Bradford adaptation from L's white to D65: the camera -> XYZ of the scene is
``B^-1 M diag(1/n)`` (its inverse, normalised, is the ColorMatrix) and ``ForwardMatrix = Bradford(D65 -> D50)
M``. Rendering follows the DNG colour model of :mod:`lumatune.colour.dng` (white's xy from the ColorMatrices,
ForwardMatrix interpolated in 1/CCT), then the hue/saturation table, then Bradford D50 -> D65.

References
----------
- Adobe DNG Specification 1.6.0.0: chapter 4 (tags 50708, 50721, 50722, 50778, 50779, 50936-50942,
  50964, 50965), chapter 6 ("Camera Profiles", "Mapping Camera Color Space to CIE XYZ Space").
- Adobe, DNG SDK ``dng_camera_profile.cpp`` (``ParseExtended``: the "IIRC" magic of profile files).
- TIFF Revision 6.0, section 2 (IFD layout, field types).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lumatune.calibrate.colour import ColourCalibration, IlluminantFit
from lumatune.calibrate.huesat import HueSatMap, apply_hue_sat_map
from lumatune.calibrate.reference import illuminant_white_xyz
from lumatune.colour.dng import CCT_OF_LIGHT_SOURCE, matrix_camera_to_xyz_d50
from lumatune.colour.spaces import (
    MATRIX_D50_TO_D65_BRADFORD,
    MATRIX_D65_TO_D50_BRADFORD,
    XY_D65,
    matrix_chromatic_adaptation_Bradford,
)
from lumatune.errors import BadFileError, UnsupportedError
from lumatune.io.atomic import atomic_output

__all__ = [
    "CameraProfile",
    "LIGHT_SOURCE_OF_ILLUMINANT",
    "profile_from_calibration",
    "write_dcp",
    "read_dcp",
    "render_xyz_d65",
]

MAGIC = b"IIRC"

_ASCII, _SHORT, _LONG, _SRATIONAL, _FLOAT = 2, 3, 4, 10, 11
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8}
_TAG = {
    "UniqueCameraModel": 50708,
    "ColorMatrix1": 50721,
    "ColorMatrix2": 50722,
    "CalibrationIlluminant1": 50778,
    "CalibrationIlluminant2": 50779,
    "ProfileName": 50936,
    "ProfileHueSatMapDims": 50937,
    "ProfileHueSatMapData1": 50938,
    "ProfileHueSatMapData2": 50939,
    "ProfileEmbedPolicy": 50941,
    "ProfileCopyright": 50942,
    "ForwardMatrix1": 50964,
    "ForwardMatrix2": 50965,
}
_RATIONAL_DENOMINATOR = 1_000_000

LIGHT_SOURCE_OF_ILLUMINANT = {"A": 17, "D50": 23, "D55": 20, "D65": 21, "D75": 22, "F2": 14, "F7": 12, "F11": 14}
"""EXIF LightSource code of each named illuminant (Exif 2.32, tag LightSource)."""

_KELVIN_CODES = (17, 24, 23, 20, 21, 22)
"""Codes a "<N>K" illuminant is given: the one nearest in mired."""


@dataclass(frozen=True, eq=False)
class CameraProfile:
    """The tags of a DNG camera profile (one or two calibration illuminants)."""

    unique_camera_model: str
    name: str
    illuminants: tuple[int, ...]
    color_matrices: tuple[np.ndarray, ...]
    forward_matrices: tuple[np.ndarray, ...]
    hue_sat_maps: tuple[HueSatMap, ...] = ()
    copyright: str = ""


def _light_source(illuminant: str, ct: float) -> int:
    if illuminant in LIGHT_SOURCE_OF_ILLUMINANT:
        return LIGHT_SOURCE_OF_ILLUMINANT[illuminant]
    return min(_KELVIN_CODES, key=lambda code: abs(1e6 / CCT_OF_LIGHT_SOURCE[code] - 1e6 / ct))


def _matrices(fit: IlluminantFit) -> tuple[np.ndarray, np.ndarray]:
    """(ColorMatrix, ForwardMatrix) of one fitted illuminant."""
    white = illuminant_white_xyz(fit.illuminant)
    to_d65 = matrix_chromatic_adaptation_Bradford(white[:2] / white.sum(), XY_D65)
    neutral = fit.neutral / fit.neutral.max()
    camera_to_scene_xyz = np.linalg.inv(to_d65) @ fit.matrix @ np.diag(1.0 / neutral)
    color_matrix = np.linalg.inv(camera_to_scene_xyz)
    color_matrix /= (color_matrix @ white).max()
    return color_matrix, MATRIX_D65_TO_D50_BRADFORD @ fit.matrix


def profile_from_calibration(
    calibration: ColourCalibration, *, name: str = "lumatune calibrated", hue_sat_maps: tuple[HueSatMap, ...] = ()
) -> CameraProfile:
    """The DCP of a colour calibration: its lowest and highest colour temperature fits (a DCP holds two).

    Parameters
    ----------
    hue_sat_maps : one table per fit of the calibration (same order), or empty.
    """
    if hue_sat_maps and len(hue_sat_maps) != len(calibration.fits):
        raise UnsupportedError(f"{len(hue_sat_maps)} hue/saturation tables for {len(calibration.fits)} illuminants")
    kept = [0, len(calibration.fits) - 1] if len(calibration.fits) > 2 else list(range(len(calibration.fits)))
    fits = [calibration.fits[i] for i in kept]
    hue_sat_maps = tuple(hue_sat_maps[i] for i in kept) if hue_sat_maps else ()
    codes = tuple(_light_source(fit.illuminant, fit.ct) for fit in fits)
    if len(set(codes)) != len(codes):
        raise UnsupportedError(f"illuminants {', '.join(f.illuminant for f in fits)} share one DCP light source code")
    pairs = [_matrices(fit) for fit in fits]
    return CameraProfile(
        unique_camera_model=calibration.camera,
        name=name,
        illuminants=codes,
        color_matrices=tuple(p[0] for p in pairs),
        forward_matrices=tuple(p[1] for p in pairs),
        hue_sat_maps=tuple(hue_sat_maps),
    )


def _ascii(text: str) -> bytes:
    try:
        return text.encode("ascii") + b"\x00"
    except UnicodeEncodeError:
        raise UnsupportedError(f"DCP text {text!r} is not 7-bit ASCII") from None


def _srationals(matrix: np.ndarray) -> bytes:
    values = [round(float(v) * _RATIONAL_DENOMINATOR) for v in np.asarray(matrix, dtype=np.float64).ravel()]
    if any(abs(v) >= 2**31 for v in values):
        raise UnsupportedError("DCP matrix entry too large for an SRATIONAL")
    return b"".join(struct.pack("<ii", v, _RATIONAL_DENOMINATOR) for v in values)


def _ascii_entry(name: str, text: str) -> tuple[int, int, int, bytes]:
    data = _ascii(text)
    return _TAG[name], _ASCII, len(data), data


def _entries(profile: CameraProfile) -> list[tuple[int, int, int, bytes]]:
    entries = [
        _ascii_entry("UniqueCameraModel", profile.unique_camera_model),
        _ascii_entry("ProfileName", profile.name),
        (_TAG["ProfileEmbedPolicy"], _LONG, 1, struct.pack("<I", 0)),
    ]
    if profile.copyright:
        entries.append(_ascii_entry("ProfileCopyright", profile.copyright))
    for i, (code, cm, fm) in enumerate(zip(profile.illuminants, profile.color_matrices, profile.forward_matrices), 1):
        entries.append((_TAG[f"ColorMatrix{i}"], _SRATIONAL, 9, _srationals(cm)))
        entries.append((_TAG[f"ForwardMatrix{i}"], _SRATIONAL, 9, _srationals(fm)))
        entries.append((_TAG[f"CalibrationIlluminant{i}"], _SHORT, 1, struct.pack("<H", code)))
    for i, hsm in enumerate(profile.hue_sat_maps, 1):
        if i == 1:
            entries.append((_TAG["ProfileHueSatMapDims"], _LONG, 3, struct.pack("<3I", *hsm.dims)))
        data = np.asarray(hsm.table, dtype="<f4").tobytes()
        entries.append((_TAG[f"ProfileHueSatMapData{i}"], _FLOAT, hsm.table.size, data))
    return entries


def _encode(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """ "IIRC" header and one IFD at offset 8, out-of-line values after it (word aligned)."""
    entries = sorted(entries)
    offset = 8
    data_offset = offset + 2 + 12 * len(entries) + 4
    table, data = [struct.pack("<H", len(entries))], b""
    for code, dtype, count, value in entries:
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_offset + len(data))
            data += value + b"\x00" * (len(value) % 2)
        table.append(struct.pack("<HHI", code, dtype, count) + field)
    table.append(struct.pack("<I", 0))
    return MAGIC + struct.pack("<I", offset) + b"".join(table) + data


def write_dcp(path: str | os.PathLike, profile: CameraProfile, *, overwrite: bool = False) -> Path:
    """Write a DNG camera profile atomically.

    Raises
    ------
    OutputError : the file exists without ``overwrite``, or cannot be written.
    UnsupportedError : non-ASCII text or a matrix entry out of range.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 4 and "Camera Profiles"; TIFF 6.0, section 2.
    """
    path = Path(path)
    content = _encode(_entries(profile))
    with atomic_output(path, overwrite) as temp:
        temp.write_bytes(content)
    return path


def _read_ifd(data: bytes, path: Path) -> dict[int, tuple[int, int, bytes]]:
    if len(data) < 8 or data[:4] != MAGIC:
        raise BadFileError(f"{path}: not a DNG camera profile (no 'IIRC' header)")
    (offset,) = struct.unpack_from("<I", data, 4)
    try:
        (count,) = struct.unpack_from("<H", data, offset)
        tags = {}
        for i in range(count):
            code, dtype, n, field = struct.unpack_from("<HHI4s", data, offset + 2 + 12 * i)
            size = _TYPE_SIZE.get(dtype, 1) * n
            if size <= 4:
                value = field[:size]
            else:
                (where,) = struct.unpack("<I", field)
                value = data[where : where + size]
                if len(value) != size:
                    raise struct.error
            tags[code] = (dtype, n, value)
    except struct.error:
        raise BadFileError(f"{path}: truncated DNG camera profile") from None
    return tags


def _numbers(tags: dict, name: str, path: Path) -> np.ndarray | None:
    if _TAG[name] not in tags:
        return None
    dtype, n, value = tags[_TAG[name]]
    if dtype == _SRATIONAL:
        pairs = np.frombuffer(value, dtype="<i4").reshape(-1, 2).astype(np.float64)
        if np.any(pairs[:, 1] == 0):
            raise BadFileError(f"{path}: tag {name} has a zero denominator")
        return pairs[:, 0] / pairs[:, 1]
    formats = {_SHORT: "<u2", _LONG: "<u4", _FLOAT: "<f4"}
    if dtype not in formats:
        raise BadFileError(f"{path}: tag {name} has an unexpected type {dtype}")
    return np.frombuffer(value, dtype=formats[dtype]).astype(np.float64)


def _text(tags: dict, name: str) -> str:
    if _TAG[name] not in tags:
        return ""
    return tags[_TAG[name]][2].split(b"\x00")[0].decode("ascii", errors="replace")


def read_dcp(path: str | os.PathLike) -> CameraProfile:
    """Read a DNG camera profile written by :func:`write_dcp` (or another tool: the same tags).

    Raises
    ------
    BadFileError : not a DCP, truncated, ColorMatrix1 missing or a tag malformed.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BadFileError(f"{path}: cannot read the camera profile ({error.__class__.__name__})") from None
    tags = _read_ifd(data, path)
    illuminants, color_matrices, forward_matrices = [], [], []
    for i in (1, 2):
        cm = _numbers(tags, f"ColorMatrix{i}", path)
        if cm is None:
            if i == 1:
                raise BadFileError(f"{path}: the camera profile has no ColorMatrix1")
            break
        if cm.size != 9:
            raise BadFileError(f"{path}: ColorMatrix{i} has {cm.size} values, not 9")
        code = _numbers(tags, f"CalibrationIlluminant{i}", path)
        fm = _numbers(tags, f"ForwardMatrix{i}", path)
        illuminants.append(int(code[0]) if code is not None else 0)
        color_matrices.append(cm.reshape(3, 3))
        if fm is not None:
            forward_matrices.append(fm.reshape(3, 3))
    maps: list[HueSatMap] = []
    dims = _numbers(tags, "ProfileHueSatMapDims", path)
    if dims is not None:
        hues, sats, vals = (int(v) for v in dims[:3])
        for i in range(1, len(color_matrices) + 1):
            table = _numbers(tags, f"ProfileHueSatMapData{i}", path)
            if table is not None:
                if table.size != hues * sats * max(vals, 1) * 3:
                    raise BadFileError(f"{path}: ProfileHueSatMapData{i} does not match ProfileHueSatMapDims")
                maps.append(HueSatMap(table.reshape(max(vals, 1), hues, sats, 3).astype(np.float32)))
    return CameraProfile(
        unique_camera_model=_text(tags, "UniqueCameraModel"),
        name=_text(tags, "ProfileName"),
        illuminants=tuple(illuminants),
        color_matrices=tuple(color_matrices),
        forward_matrices=tuple(forward_matrices),
        hue_sat_maps=tuple(maps),
        copyright=_text(tags, "ProfileCopyright"),
    )


def _weight_of_first(cct: float, cct_1: float, cct_2: float) -> float:
    """Weight of the first calibration at ``cct``, linear in 1/CCT, clamped (DNG SDK ``FindXYZtoCamera``)."""
    low, high = sorted((cct_1, cct_2))
    cct = min(max(cct, low), high)
    g = (1 / cct - 1 / cct_2) / (1 / cct_1 - 1 / cct_2)
    return float(np.clip(g, 0.0, 1.0))


def render_xyz_d65(
    profile: CameraProfile, camera_rgb: np.ndarray, camera_neutral: np.ndarray, *, use_hue_sat_map: bool = True
) -> np.ndarray:
    """Render camera RGB (before white balance) through a camera profile to XYZ (D65), as a raw developer does.

    The camera neutral scaled to a maximum of 1 maps to the D65 white with Y = 1.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6 ("Camera to XYZ (D50) Transform", HueSatMap after it).
    """
    ccts = [CCT_OF_LIGHT_SOURCE.get(code) for code in profile.illuminants]
    two = len(profile.color_matrices) == 2
    camera_to_d50, cct, _ = matrix_camera_to_xyz_d50(
        camera_neutral,
        profile.color_matrices[0],
        profile.color_matrices[1] if two else None,
        ccts[0],
        ccts[1] if two else None,
        profile.forward_matrices[0] if profile.forward_matrices else None,
        profile.forward_matrices[1] if len(profile.forward_matrices) == 2 else None,
    )
    xyz_d50 = np.asarray(camera_rgb, dtype=np.float64) @ camera_to_d50.T
    if use_hue_sat_map and profile.hue_sat_maps:
        maps = profile.hue_sat_maps
        if len(maps) == 2 and ccts[0] and ccts[1] and ccts[0] != ccts[1]:
            g = _weight_of_first(cct, ccts[0], ccts[1])
            table = HueSatMap(g * maps[0].table + (1 - g) * maps[1].table)
        else:
            table = maps[0]
        xyz_d50 = apply_hue_sat_map(xyz_d50, table)
    return xyz_d50 @ MATRIX_D50_TO_D65_BRADFORD.T
