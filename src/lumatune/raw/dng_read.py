"""DNG tags read from the file itself (with tifffile), because LibRaw hides some of them.

:func:`read_dng_tags` reads the colour tags of IFD 0 and the levels, crop and opcode list of the raw IFD,
refusing a tag whose type, count or value the specification does not allow, with a message naming the tag.

References
----------
- Adobe, *Digital Negative (DNG) Specification*, version 1.6.0.0, 2021: chapters 4 (tags), 6 (colour) and
  7 (opcode lists).
- Adobe DNG SDK 1.6, ``dng_shared::Parse_ifd0`` (``CheckTagType``, ``CheckTagCount``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import tifffile

from lumatune.errors import UnreadableInputError, UnsupportedError
from lumatune.raw.dng_tags import ALLOWED_TYPES, RATIONAL, SRATIONAL, TAGS, TYPE_NAMES, UNDEFINED
from lumatune.raw.image import DngTags
from lumatune.raw.native import NATIVE_LOCK
from lumatune.raw.opcodes import GainMap, parse_opcode_list

__all__ = ["MAX_BASELINE_EXPOSURE_EV", "is_tiff", "open_tiff", "read_dng_tags", "try_read_dng_tags"]

_TAGS_READ = (*ALLOWED_TYPES, "NewSubfileType", "PhotometricInterpretation", "DNGVersion", "UniqueCameraModel",
              "OpcodeList1", "OpcodeList2", "OpcodeList3")
"""The tags read here: one that tifffile drops (it cannot parse it) is an error naming the tag."""

_NAME_OF_TAG_READ = {TAGS[name]: name for name in _TAGS_READ}

#: Largest BaselineExposure believed, in EV: beyond it the tag is corrupt (a gain of 65536).
MAX_BASELINE_EXPOSURE_EV = 16.0

#: Smallest |determinant| of a 3x3 colour matrix that is not taken as singular.
_SINGULAR_DETERMINANT = 1e-8

#: Most entries of a LinearizationTable (one per 16-bit code value).
_MAX_LINEARIZATION_ENTRIES = 65536


_NO_FORMAT_LOADERS = {"is_lsm": False, "is_ndpi": False, "is_scanimage": False}
"""tifffile's loaders for microscopy formats, which it starts on its own from what IFD 0 says (an ImageDescription
beginning ``state.`` makes it ScanImage): they build page objects for the whole file, and a hostile file of a few
kilobytes so made tifffile use more than 2 GB (found by ``fuzz/fuzz_dng_tags.py``). A DNG is none of them."""


def open_tiff(path: str | os.PathLike) -> tifffile.TiffFile:
    """``tifffile.TiffFile`` for a raw (a DNG or another TIFF-based raw): only the TIFF structure, none of tifffile's
    format-specific page loaders (:data:`_NO_FORMAT_LOADERS`)."""
    return tifffile.TiffFile(path, **_NO_FORMAT_LOADERS)


def is_tiff(path: Path) -> bool:
    """True when the file starts with a TIFF header ("II*\\0" or "MM\\0*", TIFF 6.0 section 2), as a DNG does."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head in (b"II*\0", b"MM\0*")


def read_dng_tags(path: str | os.PathLike) -> DngTags | None:
    """Read the DNG colour tags (IFD 0) and the raw IFD's tags (the full-resolution NewSubfileType 0 IFD).

    Returns ``None`` when the file is not a DNG (or its TIFF structure cannot be parsed at all).

    Raises
    ------
    UnreadableInputError : a tag lumatune uses is malformed: a type or count the specification does not allow,
        a value that is not a number (a zero denominator), a singular matrix, a non-positive white balance,
        an absurd BaselineExposure, black level not below white level, a broken opcode list. The message
        names the tag.
    UnsupportedError : colour matrices of a four-colour camera.

    References
    ----------
    Adobe DNG Specification 1.6.0.0, chapter 4 (tag definitions: types and counts) and chapter 7 (opcode
    lists); Adobe DNG SDK 1.6, ``dng_shared::Parse_ifd0`` (``CheckTagType``, ``CheckTagCount``).
    """
    return try_read_dng_tags(Path(path))[0]


def try_read_dng_tags(path: Path) -> tuple[DngTags | None, str | None]:
    """The DNG tags, or ``(None, why)`` when tifffile cannot parse the file or it has no DNGVersion."""
    parsed, problem = _parse_tiff(path)
    if parsed is None:
        return None, problem
    main, raw_ifd, complaints = parsed
    if TAGS["DNGVersion"] not in main:
        return None, "no DNGVersion tag"
    for code, message in complaints:
        if code in _NAME_OF_TAG_READ and code not in main and code not in raw_ifd:  # tifffile dropped it
            raise _bad_tag(path, _NAME_OF_TAG_READ[code], f"cannot be read ({message})")
    read = _TagReader(path)
    _check_bits_per_sample(read, raw_ifd)
    _check_levels(read, raw_ifd)
    lists = tuple(_opcode_list(path, raw_ifd.get(TAGS[f"OpcodeList{n}"]), n) for n in (1, 2, 3))
    return DngTags(
        color_matrix_1=read.matrix(main, "ColorMatrix1"),
        color_matrix_2=read.matrix(main, "ColorMatrix2"),
        forward_matrix_1=read.matrix(main, "ForwardMatrix1"),
        forward_matrix_2=read.matrix(main, "ForwardMatrix2"),
        camera_calibration_1=read.matrix(main, "CameraCalibration1"),
        camera_calibration_2=read.matrix(main, "CameraCalibration2"),
        calibration_illuminant_1=read.integer(main, "CalibrationIlluminant1"),
        calibration_illuminant_2=read.integer(main, "CalibrationIlluminant2"),
        analog_balance=read.positive(main, "AnalogBalance", 3),
        as_shot_neutral=read.positive(main, "AsShotNeutral", 3),
        as_shot_white_xy=_white_xy(read, main),
        baseline_exposure=_baseline_exposure(read, main),
        linearization_table=_linearization_table(read, raw_ifd),
        noise_profile=_noise_profile(read, raw_ifd if TAGS["NoiseProfile"] in raw_ifd else main),
        default_crop=_default_crop(read, raw_ifd),
        active_area=_active_area(read, raw_ifd),
        gain_maps=tuple(opcode for opcode in lists[1] if isinstance(opcode, GainMap)),
        unique_camera_model=_text(main.get(TAGS["UniqueCameraModel"])),
        opcode_lists=lists,
    ), None


class _TiffComplaints(logging.Handler):
    """Collects what tifffile logs while it parses (it drops a tag it cannot read and logs why)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _parse_tiff(path: Path):
    """``((ifd0 entries, raw IFD entries, [(tag code, complaint)]), None)`` or ``(None, why)``.

    Entries map a tag code to ``(field type, count, value)``. tifffile's log messages are collected instead of
    printed, so that a damaged file still gives one line.
    """
    logger = logging.getLogger("tifffile")
    complaints = _TiffComplaints()
    with NATIVE_LOCK:
        propagate = logger.propagate
        logger.addHandler(complaints)
        logger.propagate = False
        try:
            with open_tiff(path) as tif:
                ifd0 = tif.pages[0]
                main = _entries(ifd0)
                raw_ifd = _raw_ifd_entries(ifd0) or main
        except Exception as error:  # tifffile raises many types on broken files; LibRaw decides readability
            last = complaints.messages[-1] if complaints.messages else f"{type(error).__name__}: {error}"
            return None, _tifffile_reason(last)
        finally:
            logger.removeHandler(complaints)
            logger.propagate = propagate
    return (main, raw_ifd, [(_tag_code_in(m), _tifffile_reason(m)) for m in complaints.messages]), None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _tifffile_reason(message: str) -> str:
    """tifffile's complaint without the object names it puts in front (``<tifffile.TiffTag 50721 @334>``)."""
    reason = message.rsplit("> ", 1)[-1].split(", due to", 1)[0].rstrip("')\"")
    return _one_line(reason)


def _tag_code_in(message: str) -> int | None:
    """The tag code tifffile names in a message such as ``<tifffile.TiffTag 50721 @334> invalid ...``."""
    marker = "TiffTag "
    start = message.find(marker)
    if start < 0:
        return None
    digits = message[start + len(marker) :].split(" ", 1)[0]
    return int(digits) if digits.isdigit() else None


def _entries(page) -> dict:
    return {code: (int(tag.dtype), int(tag.count), tag.value) for code, tag in page.tags.items()}


def _raw_ifd_entries(ifd0) -> dict | None:
    """Entries of the full-resolution raw IFD: IFD 0 or one of its SubIFDs with NewSubfileType 0."""
    for page in [ifd0] + list(getattr(ifd0, "pages", None) or []):
        entries = _entries(page)
        subfile = entries.get(TAGS["NewSubfileType"], (0, 0, 0))[2]
        photometric = entries.get(TAGS["PhotometricInterpretation"], (0, 0, None))[2]
        if isinstance(subfile, int) and subfile == 0 and photometric in (32803, 34892):
            return entries
    return None


def _bad_tag(path: Path, name: str, problem: str) -> UnreadableInputError:
    return UnreadableInputError(f"{path}: DNG tag {name} {problem}")


class _TagReader:
    """Reads numeric DNG tags, refusing types, counts and values the specification does not allow."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def numbers(self, entries: dict, name: str, counts: tuple[int, ...] | None = None) -> np.ndarray | None:
        """The tag's values as float64 (rationals divided), or None when absent."""
        entry = entries.get(TAGS[name])
        if entry is None:
            return None
        dtype, _count, value = entry
        allowed = ALLOWED_TYPES[name]
        if dtype not in allowed:
            expected = " or ".join(TYPE_NAMES[t] for t in allowed)
            raise _bad_tag(self.path, name, f"has type {TYPE_NAMES.get(dtype, dtype)}, not {expected}")
        try:
            array = np.asarray(value, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise _bad_tag(self.path, name, "does not hold numbers") from None
        if dtype in (RATIONAL, SRATIONAL):
            if array.size % 2:
                raise _bad_tag(self.path, name, "holds an odd number of rational parts")
            with np.errstate(divide="ignore", invalid="ignore"):
                array = array[0::2] / array[1::2]
        if array.size == 0:
            raise _bad_tag(self.path, name, "has no values")
        if counts is not None and array.size not in counts:
            expected = " or ".join(str(c) for c in counts)
            plural = "" if array.size == 1 else "s"
            raise _bad_tag(self.path, name, f"has {array.size} value{plural}, not {expected}")
        if not np.all(np.isfinite(array)):
            raise _bad_tag(self.path, name, "holds a value that is not a number (a zero denominator)")
        return array

    def matrix(self, entries: dict, name: str) -> np.ndarray | None:
        array = self.numbers(entries, name)
        if array is None:
            return None
        if array.size in (12, 16):
            raise UnsupportedError(f"{self.path}: DNG tag {name} is for a four-colour camera (not supported)")
        if array.size != 9:
            raise _bad_tag(self.path, name, f"has {array.size} values, not 9")
        matrix = array.reshape(3, 3)
        if abs(np.linalg.det(matrix)) <= _SINGULAR_DETERMINANT:
            raise _bad_tag(self.path, name, "is a singular matrix")
        return matrix

    def positive(self, entries: dict, name: str, size: int) -> np.ndarray | None:
        array = self.numbers(entries, name, counts=(size,))
        if array is not None and np.any(array <= 0):
            raise _bad_tag(self.path, name, f"must be positive, holds {_values_text(array)}")
        return array

    def integer(self, entries: dict, name: str) -> int | None:
        array = self.numbers(entries, name, counts=(1,))
        return None if array is None else int(array[0])


def _values_text(array: np.ndarray) -> str:
    return ", ".join(f"{v:g}" for v in array[:6]) + (", ..." if array.size > 6 else "")


def _check_bits_per_sample(read: _TagReader, raw_ifd: dict) -> None:
    """BitsPerSample of the raw IFD: 1 to 32 (LibRaw reads 0 as something else and decodes noise)."""
    bits = read.numbers(raw_ifd, "BitsPerSample")
    if bits is not None and (bits.size == 0 or np.any(bits < 1) or np.any(bits > 32)):
        raise _bad_tag(read.path, "BitsPerSample", f"is {_values_text(bits)}, not 1 to 32")


def _check_levels(read: _TagReader, raw_ifd: dict) -> None:
    """BlackLevel and WhiteLevel of the raw IFD: finite, white above zero and above every black level."""
    black = read.numbers(raw_ifd, "BlackLevel")
    white = read.numbers(raw_ifd, "WhiteLevel")
    if black is not None and np.any(black < 0):
        raise _bad_tag(read.path, "BlackLevel", f"is negative ({_values_text(black)})")
    if white is None:
        return
    if np.any(white <= 0):
        raise _bad_tag(read.path, "WhiteLevel", f"must be above 0, holds {_values_text(white)}")
    if black is not None and black.max() >= white.min():
        raise _bad_tag(read.path, "BlackLevel", f"{black.max():g} is not below WhiteLevel {white.min():g}")


def _white_xy(read: _TagReader, entries: dict) -> np.ndarray | None:
    xy = read.numbers(entries, "AsShotWhiteXY", counts=(2,))
    if xy is not None and not (np.all(xy > 0) and xy.sum() < 1):
        raise _bad_tag(read.path, "AsShotWhiteXY", f"({_values_text(xy)}) is not a chromaticity")
    return xy


def _baseline_exposure(read: _TagReader, entries: dict) -> float:
    value = read.numbers(entries, "BaselineExposure", counts=(1,))
    if value is None:
        return 0.0
    if abs(value[0]) > MAX_BASELINE_EXPOSURE_EV:
        raise _bad_tag(read.path, "BaselineExposure", f"{value[0]:g} EV is absurd (limit +-{MAX_BASELINE_EXPOSURE_EV:g})")
    return float(value[0])


def _linearization_table(read: _TagReader, entries: dict) -> np.ndarray | None:
    table = read.numbers(entries, "LinearizationTable")
    if table is not None and not 2 <= table.size <= _MAX_LINEARIZATION_ENTRIES:
        raise _bad_tag(read.path, "LinearizationTable", f"has {table.size} entries (2 to {_MAX_LINEARIZATION_ENTRIES})")
    return None if table is None else table.astype(np.float32)


def _noise_profile(read: _TagReader, entries: dict) -> np.ndarray | None:
    """(S, O) pairs: the variance of a normalised signal x is S x + O, with S > 0 and O >= 0."""
    profile = read.numbers(entries, "NoiseProfile")
    if profile is None:
        return None
    if profile.size < 2 or profile.size % 2:
        raise _bad_tag(read.path, "NoiseProfile", f"has {profile.size} values, not pairs")
    pairs = profile.reshape(-1, 2)
    if np.any(pairs[:, 0] <= 0) or np.any(pairs[:, 1] < 0):
        raise _bad_tag(read.path, "NoiseProfile", f"holds a negative or zero scale ({_values_text(profile)})")
    return pairs


def _default_crop(read: _TagReader, entries: dict) -> tuple[int, int, int, int] | None:
    """(x, y, width, height); a crop larger than the image is ignored later, as LibRaw's visible area rules."""
    origin = read.numbers(entries, "DefaultCropOrigin", counts=(2,))
    size = read.numbers(entries, "DefaultCropSize", counts=(2,))
    if origin is not None and np.any(origin < 0):
        raise _bad_tag(read.path, "DefaultCropOrigin", f"is negative ({_values_text(origin)})")
    if size is not None and np.any(size < 1):
        raise _bad_tag(read.path, "DefaultCropSize", f"is empty ({_values_text(size)})")
    if origin is None or size is None:
        return None
    return int(round(origin[0])), int(round(origin[1])), int(round(size[0])), int(round(size[1]))


def _active_area(read: _TagReader, entries: dict) -> tuple[int, int, int, int] | None:
    area = read.numbers(entries, "ActiveArea", counts=(4,))
    if area is None:
        return None
    top, left, bottom, right = (int(v) for v in area)
    if bottom <= top or right <= left:
        raise _bad_tag(read.path, "ActiveArea", f"({top}, {left}, {bottom}, {right}) is empty")
    return top, left, bottom, right


def _text(entry) -> str | None:
    value = entry[2] if entry else None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    return value.strip("\0 ").strip() if isinstance(value, str) else None


def _opcode_list(path: Path, entry, number: int) -> tuple:
    """The opcodes of OpcodeList1, 2 or 3 (DNG 1.6 chapter 7) as parsed; a damaged list is an error."""
    if entry is None:
        return ()
    dtype, _count, value = entry
    if dtype != UNDEFINED or not isinstance(value, bytes | bytearray):
        raise _bad_tag(path, f"OpcodeList{number}", f"has type {TYPE_NAMES.get(dtype, dtype)}, not UNDEFINED")
    return tuple(parse_opcode_list(value, name=f"{path}: DNG tag OpcodeList{number}"))
