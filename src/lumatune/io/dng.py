"""Write CFA mosaics as Digital Negative (DNG) files.

The writer puts one uncompressed CFA image in IFD 0 together with the DNG colour tags, and the
capture settings (exposure time, f-number, ISO, focal length, date, lens) in an EXIF IFD: LibRaw
reads ISO and DateTimeOriginal of a DNG only from there, although TIFF/EP allows them in IFD 0.
It is the project's own source of test raws (the virtual camera writes through it), so every tag
it writes is read back in the tests by both LibRaw (rawpy) and tifffile. Tag codes come from the one
tag table (:mod:`lumatune.raw.dng_tags`); opcode lists are built with :mod:`lumatune.raw.opcodes`.

References
----------
.. [1] Adobe, "Digital Negative (DNG) Specification", version 1.6.0.0, 2021: chapter 4 (tags),
       chapter 6 (mapping camera colour space to CIE XYZ) and chapter 7 (opcode lists).
.. [2] ISO 12234-2:2001, "Electronic still-picture imaging — Removable memory — Part 2: TIFF/EP
       image data format".
.. [3] JEITA CP-3451C, "Exchangeable image file format for digital still cameras: Exif 2.3", 2012.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
from pathlib import Path
from typing import Sequence

import numpy as np
import tifffile

from lumatune.errors import UnsupportedError
from lumatune.io.atomic import atomic_output
from lumatune.raw.dng_tags import ASCII, BYTE, DOUBLE, LONG, RATIONAL, SHORT, SRATIONAL, TAGS, UNDEFINED

__all__ = ["BAYER_PATTERNS", "cfa_pattern_array", "write_dng"]

BAYER_PATTERNS: dict[str, np.ndarray] = {
    "RGGB": np.array([[0, 1], [1, 2]], dtype=np.uint8),
    "BGGR": np.array([[2, 1], [1, 0]], dtype=np.uint8),
    "GRBG": np.array([[1, 0], [2, 1]], dtype=np.uint8),
    "GBRG": np.array([[1, 2], [0, 1]], dtype=np.uint8),
}
"""Bayer patterns by name, as (2, 2) arrays of channel indices 0=R, 1=G, 2=B."""

_RATIONAL_MAX_DENOMINATOR = 10**9
"""Largest denominator tried when writing a (S)RATIONAL; precision is 1e-9 where the value allows."""

_DNG_VERSION = (1, 4, 0, 0)

_EXIF_PLACEHOLDER_TAG = 34664
"""Unassigned tag code written in place of ExifIFD (34665), which tifffile will not write."""

_BYTEORDER = "<"
"""Byte order of the files written (little-endian, "II")."""


def cfa_pattern_array(cfa_pattern: str | np.ndarray) -> np.ndarray:
    """Return a CFA pattern as a (2, 2) or (6, 6) uint8 array of channel indices 0=R, 1=G, 2=B.

    Parameters
    ----------
    cfa_pattern
        A Bayer name ("RGGB", "BGGR", "GRBG", "GBRG") or an integer array of shape (2, 2) or (6, 6).

    Returns
    -------
    numpy.ndarray
        The pattern, aligned with pixel (0, 0).

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6, tags CFARepeatPatternDim and CFAPattern.
    """
    if isinstance(cfa_pattern, str):
        try:
            return BAYER_PATTERNS[cfa_pattern.upper()].copy()
        except KeyError:
            raise UnsupportedError(
                f"CFA pattern {cfa_pattern!r}: expected one of {', '.join(BAYER_PATTERNS)}"
            ) from None
    pattern = np.asarray(cfa_pattern)
    if pattern.shape not in {(2, 2), (6, 6)} or not np.isin(pattern, (0, 1, 2)).all():
        raise UnsupportedError(
            f"CFA pattern of shape {pattern.shape}: expected (2, 2) or (6, 6) of values 0, 1, 2"
        )
    return pattern.astype(np.uint8)


def _rational(value: float, *, signed: bool) -> tuple[int, int]:
    """Return (numerator, denominator) of ``value`` with the largest power-of-ten denominator that fits."""
    limit = 2**31 - 1 if signed else 2**32 - 1
    if not signed and value < 0:
        raise UnsupportedError(f"negative value {value} in an unsigned RATIONAL DNG tag")
    denominator = _RATIONAL_MAX_DENOMINATOR
    while denominator > 1 and abs(round(value * denominator)) > limit:
        denominator //= 10
    numerator = round(value * denominator)
    if abs(numerator) > limit:
        raise UnsupportedError(f"value {value} does not fit a 32-bit RATIONAL DNG tag")
    return numerator, denominator


def _rationals(values: Sequence[float] | np.ndarray, *, signed: bool) -> list[int]:
    """Flatten ``values`` into the (numerator, denominator, ...) list tifffile writes."""
    flat: list[int] = []
    for value in np.asarray(values, dtype=np.float64).ravel():
        flat.extend(_rational(float(value), signed=signed))
    return flat


def _matrix_tag(name: str, matrix: np.ndarray | Sequence[Sequence[float]]) -> tuple:
    """Return the extratag of a 3x3 DNG matrix (ColorMatrix, ForwardMatrix, CameraCalibration)."""
    array = np.asarray(matrix, dtype=np.float64)
    if array.shape != (3, 3):
        raise UnsupportedError(f"DNG tag {name}: expected a 3x3 matrix, got shape {array.shape}")
    return (TAGS[name], SRATIONAL, 9, _rationals(array, signed=True), True)


def _vector_tag(name: str, values: Sequence[float] | np.ndarray, *, signed: bool = False) -> tuple:
    """Return the extratag of a 3-vector of rationals (AsShotNeutral, AnalogBalance)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.shape != (3,):
        raise UnsupportedError(f"DNG tag {name}: expected 3 values, got {array.size}")
    return (TAGS[name], SRATIONAL if signed else RATIONAL, 3, _rationals(array, signed=signed), True)


def _ascii_tag(name: str, text: str) -> tuple:
    """Return an ASCII extratag; the text must be 7-bit ASCII (TIFF 6.0)."""
    try:
        encoded = text.encode("ascii")
    except UnicodeEncodeError:
        raise UnsupportedError(f"DNG tag {name}: {text!r} is not 7-bit ASCII") from None
    return (TAGS[name], ASCII, len(encoded) + 1, encoded, True)


def _black_level_tags(black_level: float | Sequence[float] | np.ndarray, pattern: np.ndarray) -> list:
    """Return BlackLevelRepeatDim and BlackLevel for a scalar or per-CFA-channel black level.

    Per-channel levels (3 values R, G, B, written per site of the CFA repeat pattern, or 4 values for
    the 2x2 sites of a Bayer pattern in raster order) are written with BlackLevelRepeatDim equal to
    the pattern's size.
    """
    levels = np.asarray(black_level, dtype=np.float64).ravel()
    if levels.size == 1:
        repeat, per_site = (1, 1), levels
    elif levels.size == 3:
        repeat, per_site = pattern.shape, levels[pattern].ravel()
    elif levels.size == 4 and pattern.shape == (2, 2):
        repeat, per_site = (2, 2), levels
    else:
        raise UnsupportedError(
            f"DNG tag BlackLevel: expected 1, 3 (R, G, B) or 4 (Bayer sites) values, got {levels.size}"
        )
    if np.all(per_site == np.round(per_site)) and per_site.min() >= 0:
        value = (TAGS["BlackLevel"], LONG, per_site.size, [int(v) for v in per_site], True)
    else:
        value = (TAGS["BlackLevel"], RATIONAL, per_site.size, _rationals(per_site, signed=False), True)
    return [(TAGS["BlackLevelRepeatDim"], SHORT, 2, repeat, True), value]


def _cfa_tags(pattern: np.ndarray) -> list:
    """Return CFARepeatPatternDim, CFAPattern, CFAPlaneColor and CFALayout (rectangular)."""
    rows, cols = pattern.shape
    return [
        (TAGS["CFARepeatPatternDim"], SHORT, 2, (rows, cols), True),
        (TAGS["CFAPattern"], BYTE, pattern.size, bytes(pattern.ravel().tolist()), True),
        (TAGS["CFAPlaneColor"], BYTE, 3, b"\x00\x01\x02", True),
        (TAGS["CFALayout"], SHORT, 1, 1, True),
    ]


def _exif_datetime(value: str | _dt.datetime) -> str:
    """Return an EXIF date string "YYYY:MM:DD HH:MM:SS"."""
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y:%m:%d %H:%M:%S")
    return value


def _exif_entries(
    exposure_time: float | None,
    f_number: float | None,
    iso: int | None,
    focal_length: float | None,
    datetime_original: str | _dt.datetime | None,
    lens_model: str | None,
    byteorder: str,
) -> list[tuple[int, int, int, bytes]]:
    """Return the EXIF IFD entries (tag, type, count, value bytes) of the capture settings given.

    LibRaw reads ISO and DateTimeOriginal of a DNG only from the EXIF IFD, so all capture settings
    go there (with ExifVersion), not in IFD 0.
    """

    def rational(code: int, value: float) -> tuple[int, int, int, bytes]:
        return (code, RATIONAL, 1, struct.pack(f"{byteorder}2I", *_rational(value, signed=False)))

    def ascii_entry(name: str, text: str) -> tuple[int, int, int, bytes]:
        encoded = _ascii_tag(name, text)[3] + b"\x00"
        return (TAGS[name], ASCII, len(encoded), encoded)

    entries = [(TAGS["ExifVersion"], UNDEFINED, 4, b"0231")]
    if exposure_time is not None:
        entries.append(rational(TAGS["ExposureTime"], exposure_time))
    if f_number is not None:
        entries.append(rational(TAGS["FNumber"], f_number))
    if iso is not None:
        entries.append((TAGS["ISOSpeedRatings"], SHORT, 1, struct.pack(f"{byteorder}H", int(iso))))
    if datetime_original is not None:
        entries.append(ascii_entry("DateTimeOriginal", _exif_datetime(datetime_original)))
    if focal_length is not None:
        entries.append(rational(TAGS["FocalLength"], focal_length))
    if lens_model is not None:
        entries.append(ascii_entry("LensModel", lens_model))
    return entries if len(entries) > 1 else []


def _encode_ifd(entries: list[tuple[int, int, int, bytes]], offset: int, byteorder: str) -> bytes:
    """Return a classic-TIFF IFD placed at file ``offset`` (even), its out-of-line values after it."""
    entries = sorted(entries)
    data_offset = offset + 2 + 12 * len(entries) + 4
    table, data = [struct.pack(f"{byteorder}H", len(entries))], b""
    for code, dtype, count, value in entries:
        if len(value) <= 4:
            field = value.ljust(4, b"\x00")
        else:
            field = struct.pack(f"{byteorder}I", data_offset + len(data))
            data += value + b"\x00" * (len(value) % 2)
        table.append(struct.pack(f"{byteorder}HHI", code, dtype, count) + field)
    table.append(struct.pack(f"{byteorder}I", 0))
    return b"".join(table) + data


def _append_exif_ifd(path: Path, entries: list[tuple[int, int, int, bytes]]) -> None:
    """Append an EXIF IFD to the classic TIFF at ``path`` and point IFD 0's ExifIFD tag at it.

    tifffile refuses to write the ExifIFD tag (34665) itself, so IFD 0 must hold a LONG entry with
    the unassigned code 34664 (:data:`_EXIF_PLACEHOLDER_TAG`); its code and value are overwritten.
    The IFD stays sorted because no tag lies between the two codes.
    """
    with open(path, "r+b") as file:
        byteorder = "<" if file.read(2) == b"II" else ">"
        file.seek(4)
        (ifd0,) = struct.unpack(f"{byteorder}I", file.read(4))
        file.seek(ifd0)
        (count,) = struct.unpack(f"{byteorder}H", file.read(2))
        table = file.read(12 * count)
        codes = [struct.unpack_from(f"{byteorder}H", table, 12 * i)[0] for i in range(count)]
        entry_offset = ifd0 + 2 + 12 * codes.index(_EXIF_PLACEHOLDER_TAG)
        end = file.seek(0, os.SEEK_END)
        exif_offset = end + end % 2
        file.write(b"\x00" * (exif_offset - end) + _encode_ifd(entries, exif_offset, byteorder))
        file.seek(entry_offset)
        file.write(struct.pack(f"{byteorder}HHII", TAGS["ExifIFD"], LONG, 1, exif_offset))


def _validate_mosaic(mosaic: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Return ``mosaic`` as a C-contiguous uint16 array, or raise UnsupportedError."""
    array = np.asarray(mosaic)
    if array.ndim != 2 or array.dtype != np.uint16:
        raise UnsupportedError(
            f"DNG mosaic: expected a 2-D uint16 array, got {array.dtype} with shape {array.shape}"
        )
    if array.shape[0] < pattern.shape[0] or array.shape[1] < pattern.shape[1]:
        raise UnsupportedError(f"DNG mosaic of shape {array.shape} is smaller than its CFA pattern")
    return np.ascontiguousarray(array)


def _dng_tags(
    pattern: np.ndarray,
    shape: tuple[int, int],
    *,
    black_level,
    white_level,
    color_matrix_1,
    calibration_illuminant_1,
    color_matrix_2,
    calibration_illuminant_2,
    forward_matrix_1,
    forward_matrix_2,
    camera_calibration_1,
    camera_calibration_2,
    analog_balance,
    as_shot_neutral,
    baseline_exposure,
    noise_profile,
    linearization_table,
    default_crop,
    opcode_list_2,
    make,
    model,
    unique_camera_model,
    orientation,
    opcode_lists: dict | None = None,
) -> list:
    """Return the DNG extratags of IFD 0 (everything but the EXIF capture tags)."""
    if color_matrix_2 is not None and calibration_illuminant_2 is None:
        raise UnsupportedError("DNG tag ColorMatrix2 given without CalibrationIlluminant2")
    opcode_lists = {n: v for n, v in (opcode_lists or {}).items() if v is not None}
    backward = (1, 3, 0, 0) if opcode_list_2 is not None or opcode_lists else (1, 1, 0, 0)
    tags = [
        (TAGS["DNGVersion"], BYTE, 4, bytes(_DNG_VERSION), True),
        (TAGS["DNGBackwardVersion"], BYTE, 4, bytes(backward), True),
        _ascii_tag("Make", make),
        _ascii_tag("Model", model),
        _ascii_tag("UniqueCameraModel", unique_camera_model or f"{make} {model}"),
        (TAGS["Orientation"], SHORT, 1, int(orientation), True),
        *_cfa_tags(pattern),
        *_black_level_tags(black_level, pattern),
        (TAGS["WhiteLevel"], LONG, 1, int(white_level), True),
        _matrix_tag("ColorMatrix1", color_matrix_1),
        (TAGS["CalibrationIlluminant1"], SHORT, 1, int(calibration_illuminant_1), True),
        (TAGS["BaselineExposure"], SRATIONAL, 1, _rationals([baseline_exposure], signed=True), True),
    ]
    optional_matrices = {
        "ColorMatrix2": color_matrix_2,
        "ForwardMatrix1": forward_matrix_1,
        "ForwardMatrix2": forward_matrix_2,
        "CameraCalibration1": camera_calibration_1,
        "CameraCalibration2": camera_calibration_2,
    }
    tags += [_matrix_tag(name, m) for name, m in optional_matrices.items() if m is not None]
    if calibration_illuminant_2 is not None:
        tags.append((TAGS["CalibrationIlluminant2"], SHORT, 1, int(calibration_illuminant_2), True))
    if analog_balance is not None:
        tags.append(_vector_tag("AnalogBalance", analog_balance))
    if as_shot_neutral is not None:
        tags.append(_vector_tag("AsShotNeutral", as_shot_neutral))
    if noise_profile is not None:
        profile = np.asarray(noise_profile, dtype="<f8").ravel()
        if profile.size not in {2, 6}:
            raise UnsupportedError(
                f"DNG tag NoiseProfile: expected 1 or 3 (S, O) pairs, got {profile.size} values"
            )
        tags.append((TAGS["NoiseProfile"], DOUBLE, profile.size, profile.tolist(), True))
    if linearization_table is not None:
        table = np.asarray(linearization_table, dtype=np.uint16).ravel()
        tags.append((TAGS["LinearizationTable"], SHORT, table.size, table.tolist(), True))
    tags += _crop_tags(default_crop, shape)
    if opcode_list_2 is not None:
        tags.append((TAGS["OpcodeList2"], UNDEFINED, len(opcode_list_2), bytes(opcode_list_2), True))
    for number, data in sorted(opcode_lists.items()):
        tags.append((TAGS[f"OpcodeList{number}"], UNDEFINED, len(data), bytes(data), True))
    return tags


def _crop_tags(default_crop, shape: tuple[int, int]) -> list:
    """Return DefaultCropOrigin/Size for a crop (x, y, width, height) inside the mosaic, if given."""
    if default_crop is None:
        return []
    x, y, width, height = (int(v) for v in default_crop)
    rows, cols = shape
    if x < 0 or y < 0 or width <= 0 or height <= 0 or x + width > cols or y + height > rows:
        raise UnsupportedError(
            f"DNG DefaultCrop {tuple(default_crop)} does not fit a {cols}x{rows} mosaic"
        )
    return [
        (TAGS["DefaultCropOrigin"], LONG, 2, (x, y), True),
        (TAGS["DefaultCropSize"], LONG, 2, (width, height), True),
    ]


def write_dng(
    path: str | os.PathLike,
    mosaic: np.ndarray,
    *,
    cfa_pattern: str | np.ndarray = "RGGB",
    black_level: float | Sequence[float] | np.ndarray = 0,
    white_level: int | None = None,
    color_matrix_1: np.ndarray | Sequence[Sequence[float]],
    calibration_illuminant_1: int = 21,
    color_matrix_2: np.ndarray | Sequence[Sequence[float]] | None = None,
    calibration_illuminant_2: int | None = None,
    forward_matrix_1: np.ndarray | Sequence[Sequence[float]] | None = None,
    forward_matrix_2: np.ndarray | Sequence[Sequence[float]] | None = None,
    camera_calibration_1: np.ndarray | Sequence[Sequence[float]] | None = None,
    camera_calibration_2: np.ndarray | Sequence[Sequence[float]] | None = None,
    analog_balance: Sequence[float] | None = None,
    as_shot_neutral: Sequence[float] | None = None,
    baseline_exposure: float = 0.0,
    noise_profile: Sequence[float] | Sequence[Sequence[float]] | None = None,
    linearization_table: Sequence[int] | None = None,
    default_crop: tuple[int, int, int, int] | None = None,
    opcode_list_2: bytes | None = None,
    opcode_list_1: bytes | None = None,
    opcode_list_3: bytes | None = None,
    make: str = "lumatune",
    model: str = "Virtual Camera",
    unique_camera_model: str | None = None,
    exposure_time: float | None = None,
    f_number: float | None = None,
    iso: int | None = None,
    focal_length: float | None = None,
    datetime_original: str | _dt.datetime | None = None,
    lens_model: str | None = None,
    orientation: int = 1,
    overwrite: bool = False,
) -> Path:
    """Write a CFA mosaic and its colour metadata as an uncompressed DNG file.

    Parameters
    ----------
    path
        Destination file; its folder must exist. Written atomically (temporary file, then rename).
    mosaic
        The raw CFA image, 2-D uint16, in sensor counts (black level included).
    cfa_pattern
        "RGGB", "BGGR", "GRBG", "GBRG" or a (2, 2) / (6, 6) array of 0=R, 1=G, 2=B (X-Trans).
    black_level
        One level, three (R, G, B) or four (Bayer 2x2 sites in raster order); several are written
        per site of the CFA repeat pattern (BlackLevelRepeatDim = the pattern's size).
    white_level
        WhiteLevel; 65535 when omitted.
    color_matrix_1, color_matrix_2
        ColorMatrix1/2: XYZ to reference camera space, 3x3, under the calibration illuminants.
    calibration_illuminant_1, calibration_illuminant_2
        EXIF LightSource codes of the matrices (17 = Standard light A, 21 = D65).
    forward_matrix_1, forward_matrix_2
        ForwardMatrix1/2: white-balanced camera space to XYZ D50.
    camera_calibration_1, camera_calibration_2, analog_balance
        Per-unit calibration matrices and the analog white balance.
    as_shot_neutral
        AsShotNeutral: the neutral (white) in camera space, three values.
    baseline_exposure
        BaselineExposure in EV.
    noise_profile
        NoiseProfile: one (S, O) pair for all planes or three pairs R, G, B; the variance of a
        normalised signal x is S * x + O.
    linearization_table
        LinearizationTable, uint16 values.
    default_crop
        (x, y, width, height) written as DefaultCropOrigin and DefaultCropSize.
    opcode_list_2
        OpcodeList2 as bytes (see :func:`lumatune.raw.opcodes.encode_opcode_list`), applied to the linearised mosaic.
    opcode_list_1, opcode_list_3
        OpcodeList1 (applied to the raw as read) and OpcodeList3 (after demosaicing: lens warps), as bytes.
    make, model, unique_camera_model
        Make, Model and UniqueCameraModel ("make model" when omitted).
    exposure_time, f_number, iso, focal_length, datetime_original, lens_model
        Capture settings (seconds, f-number, ISO speed, mm, datetime or "YYYY:MM:DD HH:MM:SS",
        text), written in an EXIF IFD each only when given.
    orientation
        TIFF Orientation (1 = top-left).
    overwrite
        Replace an existing file; otherwise an existing ``path`` raises OutputError.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    OutputError
        The folder is missing, the file exists without ``overwrite`` or the write fails.
    UnsupportedError
        A value cannot be written (wrong shape or dtype, non-ASCII text, crop outside the image).

    References
    ----------
    .. [1] Adobe, DNG Specification 1.6.0.0, chapter 4: DNGVersion, DNGBackwardVersion,
           UniqueCameraModel, CFAPlaneColor, CFALayout, LinearizationTable, BlackLevelRepeatDim,
           BlackLevel, WhiteLevel, DefaultCropOrigin, DefaultCropSize, ColorMatrix1/2,
           CameraCalibration1/2, AnalogBalance, AsShotNeutral, BaselineExposure,
           CalibrationIlluminant1/2, ForwardMatrix1/2, OpcodeList2, NoiseProfile.
    .. [2] ISO 12234-2 (TIFF/EP): CFARepeatPatternDim, CFAPattern.
    .. [3] JEITA CP-3451C (EXIF 2.3): ExifIFD, ExposureTime, FNumber, ISOSpeedRatings,
           DateTimeOriginal, FocalLength, LensModel.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> mosaic = np.full((8, 8), 1000, dtype=np.uint16)
    >>> write_dng(folder / "a.dng", mosaic, color_matrix_1=np.eye(3), white_level=4095).name
    'a.dng'
    """
    destination = Path(path)
    pattern = cfa_pattern_array(cfa_pattern)
    data = _validate_mosaic(mosaic, pattern)
    tags = _dng_tags(
        pattern,
        data.shape,
        black_level=black_level,
        white_level=65535 if white_level is None else white_level,
        color_matrix_1=color_matrix_1,
        calibration_illuminant_1=calibration_illuminant_1,
        color_matrix_2=color_matrix_2,
        calibration_illuminant_2=calibration_illuminant_2,
        forward_matrix_1=forward_matrix_1,
        forward_matrix_2=forward_matrix_2,
        camera_calibration_1=camera_calibration_1,
        camera_calibration_2=camera_calibration_2,
        analog_balance=analog_balance,
        as_shot_neutral=as_shot_neutral,
        baseline_exposure=baseline_exposure,
        noise_profile=noise_profile,
        linearization_table=linearization_table,
        default_crop=default_crop,
        opcode_list_2=opcode_list_2,
        opcode_lists={1: opcode_list_1, 3: opcode_list_3},
        make=make,
        model=model,
        unique_camera_model=unique_camera_model,
        orientation=orientation,
    )
    exif = _exif_entries(
        exposure_time, f_number, iso, focal_length, datetime_original, lens_model, _BYTEORDER
    )
    if exif:
        tags.append((_EXIF_PLACEHOLDER_TAG, LONG, 1, 0, True))

    with atomic_output(destination, overwrite) as temp:
        with tifffile.TiffWriter(temp, bigtiff=False, byteorder=_BYTEORDER) as tiff:
            tiff.write(
                data,
                photometric=tifffile.PHOTOMETRIC.CFA,
                subfiletype=0,
                software="lumatune",
                metadata=None,
                extratags=tags,
            )
        if exif:
            _append_exif_ifd(temp, exif)
    return destination
