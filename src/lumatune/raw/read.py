"""RawImage: a camera raw's pixels and metadata, read with rawpy (LibRaw) and, for DNG, tifffile.

This module knows nothing of processing. It returns the visible area of the sensor data as LibRaw decodes
it (uint16, before black level), the CFA pattern in channel indices (0 = R, 1 = G, 2 = B), the levels, the
white balance the camera recorded, LibRaw's colour matrix, orientation, EXIF, and for DNG the colour tags
read from the file itself, because LibRaw hides some of them.

References
----------
- Adobe, *Digital Negative (DNG) Specification*, version 1.6.0.0, 2021: chapters 4 (tags) and 6 (colour).
- LibRaw API, ``libraw_iparams_t`` and ``libraw_image_sizes_t``: https://www.libraw.org/docs/API-datastruct.html
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import logging
import os
import stat
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lumatune.errors import TooLargeError, UnreadableInputError, UnsupportedError
from lumatune.io.dng import GainMap

__all__ = ["DngTags", "GainMap", "RawImage", "open_raw", "MAX_MEGAPIXELS"]

#: Refuse images larger than this many megapixels before unpacking them (a memory cap).
MAX_MEGAPIXELS = float(os.environ.get("LUMATUNE_MAX_MEGAPIXELS", "200"))

_CHANNEL_OF_LETTER = {"R": 0, "G": 1, "B": 2}

#: LibRaw ``sizes.flip`` -> number of counter-clockwise quarter turns that make the image upright.
_QUARTER_TURNS_OF_FLIP = {0: 0, 3: 2, 5: 1, 6: 3}


@dataclass(frozen=True)
class DngTags:
    """The DNG colour and rendering tags lumatune uses, named after the spec's tags (DNG 1.6 ch. 4 and 6).

    Matrices are 3x3 float64; absent tags are ``None``.
    """

    color_matrix_1: np.ndarray | None = None
    color_matrix_2: np.ndarray | None = None
    forward_matrix_1: np.ndarray | None = None
    forward_matrix_2: np.ndarray | None = None
    camera_calibration_1: np.ndarray | None = None
    camera_calibration_2: np.ndarray | None = None
    calibration_illuminant_1: int | None = None
    calibration_illuminant_2: int | None = None
    analog_balance: np.ndarray | None = None
    as_shot_neutral: np.ndarray | None = None
    as_shot_white_xy: np.ndarray | None = None
    baseline_exposure: float = 0.0
    linearization_table: np.ndarray | None = None
    noise_profile: np.ndarray | None = None
    default_crop: tuple[int, int, int, int] | None = None  # origin x, origin y, width, height
    active_area: tuple[int, int, int, int] | None = None  # top, left, bottom, right
    gain_maps: tuple[GainMap, ...] = ()
    unique_camera_model: str | None = None


@dataclass(frozen=True, eq=False)
class RawImage:
    """A camera raw: sensor data of the visible area plus the metadata the pipeline needs.

    Attributes
    ----------
    data : uint16 array, (H, W) for a CFA mosaic or (H, W, 3) for a linear (already demosaiced) raw, in the
        sensor's orientation (not yet rotated), before black-level subtraction.
    cfa : int8 (2, 2) or (6, 6) array of channel indices 0 = R, 1 = G, 2 = B aligned with ``data[0, 0]``,
        or ``None`` for linear raws.
    black_level : float32 array shaped like ``cfa`` (one level per CFA position) or (3,) for linear raws.
    white_level : the sensor's saturation value in ``data`` units.
    as_shot_neutral : camera RGB of the scene white as the camera recorded it (green = 1), or ``None``.
    daylight_neutral : LibRaw's daylight camera neutral, or ``None``.
    libraw_matrix : LibRaw's XYZ -> camera matrix (``rgb_xyz_matrix``), or ``None`` when LibRaw has none.
    dng : the DNG tags, or ``None`` for other formats.
    orientation_turns : counter-clockwise quarter turns that make the image upright.
    exif : make, model, lens_model, exposure_time, f_number, iso, focal_length, datetime_original.
    """

    path: Path
    data: np.ndarray
    cfa: np.ndarray | None
    black_level: np.ndarray
    white_level: float
    as_shot_neutral: np.ndarray | None
    daylight_neutral: np.ndarray | None
    libraw_matrix: np.ndarray | None
    dng: DngTags | None
    orientation_turns: int
    crop_origin: tuple[int, int]  # (row, col) of data[0, 0] in the full raw frame
    full_size: tuple[int, int]  # (rows, cols) of the full raw frame, for opcode coordinates
    exif: dict = field(default_factory=dict)
    camera_asks_auto_wb: bool = False  # LibRaw's as-shot multipliers start with -1 (dcraw: use auto WB)
    linearised: bool = True  # LibRaw applies LinearizationTable while decoding

    @property
    def is_mosaic(self) -> bool:
        """True when the data is a CFA mosaic that needs demosaicing."""
        return self.cfa is not None

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the developed image, after orientation."""
        h, w = self.data.shape[:2]
        return (h, w) if self.orientation_turns % 2 else (w, h)

    def replace(self, **changes) -> RawImage:
        """A copy with some fields changed (the raw itself is immutable)."""
        return dataclasses.replace(self, **changes)


def open_raw(path: str | os.PathLike) -> RawImage:
    """Read a camera raw of any format LibRaw reads.

    Parameters
    ----------
    path : the raw file. It is only read, never modified.

    Raises
    ------
    UnreadableInputError : missing, empty, not a regular file, a link loop, truncated or corrupt data, a DNG
        tag that is malformed (wrong type or count, not a number, a singular matrix, impossible levels, a
        broken opcode list), or not a camera raw.
    UnsupportedError : a sensor layout lumatune does not handle (e.g. CMYG, Foveon).
    TooLargeError : the declared image exceeds :data:`MAX_MEGAPIXELS` (checked before LibRaw allocates it).
    """
    path = Path(path)
    _check_readable(path)
    import rawpy  # imported here so that `lumatune --help` stays fast

    with rawpy.RawPy() as raw:
        with _NATIVE_LOCK, _NativeStderr() as native:
            try:
                raw.open_file(str(path))
                _check_size(path, raw.sizes)
                raw.unpack()
                failure = None
            except (rawpy.LibRawError, OSError) as error:
                failure = error
        complaint = _native_complaint(native.text, path)
        if complaint:
            raise UnreadableInputError(f"{path}: raw data is truncated or corrupt ({complaint})")
        if failure is not None:
            raise UnreadableInputError(f"{path}: not a raw file LibRaw can read ({_libraw_reason(failure)})")
        return _raw_image_from_libraw(path, raw)


def _check_readable(path: Path) -> None:
    """One-line errors for what LibRaw must never be handed: no file, a link loop, a pipe (it would block)."""
    try:
        info = path.stat()
    except OSError as error:
        raise UnreadableInputError(f"{path}: {_stat_problem(path, error)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableInputError(f"{path}: is a directory, not a raw file")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableInputError(f"{path}: not a regular file (a pipe, device or socket)")
    if info.st_size == 0:
        raise UnreadableInputError(f"{path}: empty file")
    if not os.access(path, os.R_OK):
        raise UnreadableInputError(f"{path}: permission denied")


def _stat_problem(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    if error.errno == errno.ENOENT and path.is_symlink():
        return "broken symbolic link"
    if error.errno == errno.ENOENT:
        return "no such file"
    if error.errno == errno.EACCES:
        return "permission denied"
    return error.strerror or type(error).__name__


class _NativeStderr:
    """Capture what native code (LibRaw, libjpeg) writes on file descriptor 2 while it runs.

    LibRaw reports truncated or corrupt data only by printing (its default data callback) and libjpeg prints
    its warnings ("Premature end of JPEG file"); caught here, they become part of a one-line error instead of
    stray lines on the terminal or a silently half-grey image. Redirecting a descriptor is process-wide, so
    callers hold :data:`_NATIVE_LOCK`.
    """

    text = ""

    def __enter__(self) -> _NativeStderr:
        sys.stderr.flush()
        self._sink = tempfile.TemporaryFile()
        try:
            self._saved = os.dup(2)
        except OSError:  # no standard error at all: nothing to capture
            self._saved = None
        else:
            os.dup2(self._sink.fileno(), 2)
        return self

    def __exit__(self, *exc_info) -> bool:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
        self._sink.seek(0)
        self.text = self._sink.read(_NATIVE_MESSAGE_BYTES).decode("utf-8", "replace").strip()
        self._sink.close()
        return False


#: Serialises native decoding while standard error is redirected (and tifffile's logger is borrowed).
_NATIVE_LOCK = threading.RLock()

_NATIVE_MESSAGE_BYTES = 4096


def _native_complaint(text: str, path: Path) -> str:
    """The first line a native decoder printed, without the file name LibRaw puts in front of it."""
    for line in text.splitlines():
        line = line.strip().removeprefix(f"{path}:").strip()
        if line:
            return line
    return ""


def _check_size(path: Path, sizes) -> None:
    megapixels = sizes.raw_width * sizes.raw_height / 1e6
    if megapixels > MAX_MEGAPIXELS:
        raise TooLargeError(
            f"{path}: declares {sizes.raw_width}x{sizes.raw_height} pixels ({megapixels:.0f} MP), over the "
            f"{MAX_MEGAPIXELS:.0f} MP cap (set LUMATUNE_MAX_MEGAPIXELS to raise it)"
        )


def _libraw_reason(error: Exception) -> str:
    """LibRaw's message (rawpy hands it over as bytes) on one line."""
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    text = str(reason).strip() or type(error).__name__
    return text.splitlines()[0]


def _raw_image_from_libraw(path: Path, raw) -> RawImage:
    sizes = raw.sizes
    identity = _libraw_identity(path)
    dng = _dng_tags_checked(path, identity)
    try:
        data = np.array(raw.raw_image_visible, copy=True)
    except Exception as error:  # LibRaw raises plain RuntimeError-like errors on broken data
        raise UnreadableInputError(f"{path}: raw data could not be decoded ({_libraw_reason(error)})") from None
    if data.size == 0:
        raise UnreadableInputError(f"{path}: raw data is empty")
    if data.ndim == 3:
        cfa = None
        data = data[..., :3]
        black = np.asarray(raw.black_level_per_channel[:3], dtype=np.float32)
    else:
        cfa = _cfa_of(path, raw)
        black = _black_pattern(raw, cfa.shape[0])
    white = float(raw.white_level)
    if white <= float(black.max()):
        raise UnreadableInputError(f"{path}: white level {white:g} is not above the black level {black.max():g}")
    make, model = (identity.make, identity.model) if identity else ("", "")
    crop_origin = (sizes.top_margin, sizes.left_margin)
    if dng is not None and dng.default_crop is not None:
        data, cfa, crop_origin = _apply_default_crop(data, cfa, crop_origin, dng.default_crop)
    return RawImage(
        path=path,
        data=data,
        cfa=cfa,
        black_level=black,
        white_level=white,
        as_shot_neutral=_as_shot_neutral(raw, dng),
        daylight_neutral=_neutral_from_multipliers(raw.daylight_whitebalance),
        libraw_matrix=_libraw_matrix(raw),
        dng=dng,
        orientation_turns=_QUARTER_TURNS_OF_FLIP.get(sizes.flip, 0),
        crop_origin=crop_origin,
        full_size=(sizes.raw_height, sizes.raw_width),
        exif=_exif_of(raw, make, model),
        camera_asks_auto_wb=bool(raw.camera_whitebalance[0] == -1),
    )


def _apply_default_crop(data, cfa, origin, crop):
    """Crop to DefaultCropOrigin/Size (relative to the active area); the CFA phase follows the crop."""
    x, y, w, h = crop
    if x + w > data.shape[1] or y + h > data.shape[0] or (w, h) == (data.shape[1], data.shape[0]):
        return data, cfa, origin
    data = data[y : y + h, x : x + w]
    if cfa is not None:
        cfa = np.roll(cfa, (-y, -x), axis=(0, 1))
    return data, cfa, (origin[0] + y, origin[1] + x)


def _cfa_of(path: Path, raw) -> np.ndarray:
    letters = raw.color_desc.decode("ascii", "replace")
    if set(letters) - set("RGB"):
        raise UnsupportedError(f"{path}: colour filter array {letters!r} is not RGB (CMYG sensors are not supported)")
    pattern = raw.raw_pattern
    if pattern is None:
        raise UnsupportedError(f"{path}: sensor has no colour filter pattern lumatune understands")
    colours = _visible_pattern(raw)
    return np.vectorize(lambda i: _CHANNEL_OF_LETTER[letters[i]])(colours).astype(np.int8)


def _visible_pattern(raw) -> np.ndarray:
    """LibRaw's colour index per CFA position, aligned with the visible area's pixel (0, 0).

    ``raw.raw_colors_visible[:n, :n]``, without rawpy building the full-size colour plane (24 MB for 24 MP):
    the pattern repeats from the raw area's origin, and the visible area starts at the margins.
    """
    return np.roll(np.asarray(raw.raw_pattern), (-raw.sizes.top_margin, -raw.sizes.left_margin), axis=(0, 1))


def _black_pattern(raw, n: int) -> np.ndarray:
    """Black level per CFA position (n x n), from LibRaw's per-colour-index levels."""
    per_index = np.asarray(raw.black_level_per_channel, dtype=np.float32)
    return per_index[_visible_pattern(raw)[:n, :n]]


def _neutral_from_multipliers(multipliers) -> np.ndarray | None:
    """Camera neutral (G = 1) from LibRaw's WB multipliers, or None when they carry no white balance.

    Equal multipliers are a real white balance (the camera's data is already balanced: Kodak DC50), zeros or
    negatives are not (-1 in the red slot is dcraw's "use auto white balance").
    """
    m = np.asarray(multipliers[:3], dtype=np.float64)
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        return None
    neutral = m[1] / m
    return neutral


def _as_shot_neutral(raw, dng: DngTags | None) -> np.ndarray | None:
    if dng is not None and dng.as_shot_neutral is not None:
        return dng.as_shot_neutral / dng.as_shot_neutral[1]
    return _neutral_from_multipliers(raw.camera_whitebalance)


def _libraw_matrix(raw) -> np.ndarray | None:
    m = np.asarray(raw.rgb_xyz_matrix[:3], dtype=np.float64)
    if not np.all(np.isfinite(m)) or abs(np.linalg.det(m)) < 1e-6:
        return None
    return m


def _exif_of(raw, make: str, model: str) -> dict:
    other, lens = raw.other, raw.lens
    exif = {
        "make": make or None,
        "model": model or None,
        "lens_model": lens.model or None,
        "exposure_time": other.shutter_speed or None,
        "f_number": other.aperture or None,
        "iso": other.iso_speed or None,
        "focal_length": other.focal_length or None,
        "datetime_original": _exif_datetime(other.timestamp),
        "artist": other.artist or None,
    }
    return {key: value for key, value in exif.items() if value is not None}


def _exif_datetime(timestamp) -> str | None:
    """EXIF DateTimeOriginal text, or None when LibRaw has no date (it reports the Unix epoch then)."""
    if not timestamp or timestamp.year <= 1970:
        return None
    return timestamp.strftime("%Y:%m:%d %H:%M:%S")


@dataclass(frozen=True)
class _LibRawIdentity:
    """What LibRaw's parser says a file is (``libraw_iparams_t``)."""

    make: str
    model: str
    dng_version: int  # 0 when LibRaw does not take the file for a DNG


def _libraw_identity(path: Path) -> _LibRawIdentity | None:
    """Make, model and DNG version as LibRaw identifies them, through rawpy's bundled libraw_r.

    ``None`` when the library cannot be loaded or the file not opened.
    """
    lib = _libraw_library()
    if lib is None:
        return None
    handle = lib.libraw_init(0)
    try:
        with _NATIVE_LOCK, _NativeStderr():
            opened = lib.libraw_open_file(handle, os.fsencode(path)) == 0
        params = lib.libraw_get_iparams(handle) if opened else None
        if not params:
            return None
        # libraw_iparams_t (LibRaw >= 0.20): char guard[4], make[64], model[64], software[64],
        # normalized_make[64], normalized_model[64]; unsigned maker_index, raw_count, dng_version; ...
        raw_bytes = ctypes.string_at(params, 4 + 5 * 64 + 3 * 4)
        make = raw_bytes[4:68].split(b"\0", 1)[0].decode("latin-1").strip()
        model = raw_bytes[68:132].split(b"\0", 1)[0].decode("latin-1").strip()
        (dng_version,) = struct.unpack_from("=I", raw_bytes, 4 + 5 * 64 + 2 * 4)
        return _LibRawIdentity(make=make, model=model, dng_version=dng_version)
    finally:
        lib.libraw_close(handle)


_LIBRAW = None


def _libraw_library():
    global _LIBRAW
    if _LIBRAW is None:
        import rawpy

        folder = Path(rawpy.__file__).parent
        candidates = sorted(folder.glob("libraw_r.so*")) + sorted(folder.glob("libraw*.dll"))
        candidates += sorted(folder.glob("libraw*.dylib"))
        try:
            lib = ctypes.CDLL(str(candidates[0])) if candidates else ctypes.CDLL("libraw_r.so")
        except OSError:
            _LIBRAW = False
            return None
        lib.libraw_init.restype = ctypes.c_void_p
        lib.libraw_init.argtypes = [ctypes.c_uint]
        lib.libraw_open_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.libraw_get_iparams.restype = ctypes.c_void_p
        lib.libraw_get_iparams.argtypes = [ctypes.c_void_p]
        lib.libraw_close.argtypes = [ctypes.c_void_p]
        _LIBRAW = lib
    return _LIBRAW or None


# --- DNG tags, read from the file itself -----------------------------------------------------------------

_TAG = {
    "NewSubfileType": 254,
    "BitsPerSample": 258,
    "PhotometricInterpretation": 262,
    "DNGVersion": 50706,
    "UniqueCameraModel": 50708,
    "LinearizationTable": 50712,
    "BlackLevel": 50714,
    "WhiteLevel": 50717,
    "ColorMatrix1": 50721,
    "ColorMatrix2": 50722,
    "CameraCalibration1": 50723,
    "CameraCalibration2": 50724,
    "AnalogBalance": 50727,
    "AsShotNeutral": 50728,
    "AsShotWhiteXY": 50729,
    "BaselineExposure": 50730,
    "DefaultCropOrigin": 50719,
    "DefaultCropSize": 50720,
    "CalibrationIlluminant1": 50778,
    "CalibrationIlluminant2": 50779,
    "ActiveArea": 50829,
    "ForwardMatrix1": 50964,
    "ForwardMatrix2": 50965,
    "OpcodeList2": 51009,
    "NoiseProfile": 51041,
}
_NAME_OF_TAG = {code: name for name, code in _TAG.items()}

# TIFF field types (TIFF 6.0 section 2, plus DOUBLE).
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED, _SRATIONAL, _DOUBLE = 1, 2, 3, 4, 5, 7, 10, 12
_TYPE_NAMES = {
    1: "BYTE", 2: "ASCII", 3: "SHORT", 4: "LONG", 5: "RATIONAL", 6: "SBYTE", 7: "UNDEFINED", 8: "SSHORT",
    9: "SLONG", 10: "SRATIONAL", 11: "FLOAT", 12: "DOUBLE",
}

#: The field types DNG 1.6 chapter 4 allows for each tag read here (the DNG SDK ignores other types).
_TAG_TYPES = {
    "BitsPerSample": (_SHORT,),
    "LinearizationTable": (_SHORT,),
    "BlackLevel": (_SHORT, _LONG, _RATIONAL),
    "WhiteLevel": (_SHORT, _LONG),
    "ColorMatrix1": (_SRATIONAL,),
    "ColorMatrix2": (_SRATIONAL,),
    "CameraCalibration1": (_SRATIONAL,),
    "CameraCalibration2": (_SRATIONAL,),
    "ForwardMatrix1": (_SRATIONAL,),
    "ForwardMatrix2": (_SRATIONAL,),
    "AnalogBalance": (_RATIONAL,),
    "AsShotNeutral": (_SHORT, _RATIONAL),
    "AsShotWhiteXY": (_RATIONAL,),
    "BaselineExposure": (_SRATIONAL,),
    "DefaultCropOrigin": (_SHORT, _LONG, _RATIONAL),
    "DefaultCropSize": (_SHORT, _LONG, _RATIONAL),
    "CalibrationIlluminant1": (_SHORT,),
    "CalibrationIlluminant2": (_SHORT,),
    "ActiveArea": (_SHORT, _LONG),
    "NoiseProfile": (_DOUBLE,),
}

#: Largest BaselineExposure believed, in EV: beyond it the tag is corrupt (a gain of 65536).
MAX_BASELINE_EXPOSURE_EV = 16.0

#: Smallest |determinant| of a 3x3 colour matrix that is not taken as singular.
_SINGULAR_DETERMINANT = 1e-8

#: Most entries of a LinearizationTable (one per 16-bit code value).
_MAX_LINEARIZATION_ENTRIES = 65536


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4)
    return head in (b"II*\0", b"MM\0*")


def _dng_tags_checked(path: Path, identity: _LibRawIdentity | None) -> DngTags | None:
    """The DNG tags of a file LibRaw has opened; an error when they cannot be trusted.

    A file LibRaw takes for a DNG whose tags tifffile cannot read is refused (its colour would be guessed),
    and so is a TIFF that LibRaw reads without finding a camera make: an ordinary image, not a raw.
    """
    tiff = _is_tiff(path)
    dng, problem = _read_dng(path) if tiff else (None, None)
    if dng is None and identity is not None and identity.dng_version:
        raise UnreadableInputError(f"{path}: DNG tags cannot be read ({problem or 'not a TIFF structure'})")
    if dng is None and tiff and identity is not None and not identity.make:
        raise UnreadableInputError(f"{path}: a TIFF image without camera metadata, not a camera raw")
    return dng


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
    return _read_dng(Path(path))[0]


def _read_dng(path: Path) -> tuple[DngTags | None, str | None]:
    """The DNG tags, or ``(None, why)`` when tifffile cannot parse the file or it has no DNGVersion."""
    parsed, problem = _parse_tiff(path)
    if parsed is None:
        return None, problem
    main, raw_ifd, complaints = parsed
    if _TAG["DNGVersion"] not in main:
        return None, "no DNGVersion tag"
    for code, message in complaints:
        if code in _NAME_OF_TAG and code not in main and code not in raw_ifd:  # tifffile dropped it
            raise _bad_tag(path, _NAME_OF_TAG[code], f"cannot be read ({message})")
    read = _TagReader(path)
    _check_bits_per_sample(read, raw_ifd)
    _check_levels(read, raw_ifd)
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
        noise_profile=_noise_profile(read, raw_ifd if _TAG["NoiseProfile"] in raw_ifd else main),
        default_crop=_default_crop(read, raw_ifd),
        active_area=_active_area(read, raw_ifd),
        gain_maps=_gain_maps(path, raw_ifd.get(_TAG["OpcodeList2"])),
        unique_camera_model=_text(main.get(_TAG["UniqueCameraModel"])),
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
    import tifffile

    logger = logging.getLogger("tifffile")
    complaints = _TiffComplaints()
    with _NATIVE_LOCK:
        propagate = logger.propagate
        logger.addHandler(complaints)
        logger.propagate = False
        try:
            with tifffile.TiffFile(path) as tif:
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
        subfile = entries.get(_TAG["NewSubfileType"], (0, 0, 0))[2]
        photometric = entries.get(_TAG["PhotometricInterpretation"], (0, 0, None))[2]
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
        entry = entries.get(_TAG[name])
        if entry is None:
            return None
        dtype, _count, value = entry
        allowed = _TAG_TYPES[name]
        if dtype not in allowed:
            expected = " or ".join(_TYPE_NAMES[t] for t in allowed)
            raise _bad_tag(self.path, name, f"has type {_TYPE_NAMES.get(dtype, dtype)}, not {expected}")
        try:
            array = np.asarray(value, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise _bad_tag(self.path, name, "does not hold numbers") from None
        if dtype in (_RATIONAL, _SRATIONAL):
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


_OPCODE_HEADER = struct.Struct(">IIII")  # id, DNG version, flags, parameter bytes
_GAIN_MAP_HEADER = struct.Struct(">10I4dI")  # area, plane(s), pitches, map points, spacing, origin, planes


def _gain_maps(path: Path, entry) -> tuple[GainMap, ...]:
    """The GainMap opcodes (ID 9) of OpcodeList2; other opcodes are skipped, a damaged list is an error."""
    if entry is None:
        return ()
    dtype, _count, value = entry
    if dtype != _UNDEFINED or not isinstance(value, bytes | bytearray):
        raise _bad_tag(path, "OpcodeList2", f"has type {_TYPE_NAMES.get(dtype, dtype)}, not UNDEFINED")
    try:
        return tuple(_parse_gain_maps(bytes(value)))
    except ValueError as error:
        raise _bad_tag(path, "OpcodeList2", str(error)) from None


def _parse_gain_maps(blob: bytes):
    """Walk an opcode list (big-endian, DNG 1.6 chapter 7), checking every size before reading."""
    if len(blob) < 4:
        raise ValueError(f"has {len(blob)} bytes, too few for its opcode count")
    (count,) = struct.unpack_from(">I", blob, 0)
    if count * _OPCODE_HEADER.size > len(blob) - 4:
        raise ValueError(f"claims {count} opcodes in {len(blob)} bytes")
    offset = 4
    for index in range(count):
        if offset + _OPCODE_HEADER.size > len(blob):
            raise ValueError(f"is cut short at opcode {index + 1} of {count}")
        opcode_id, _version, _flags, size = _OPCODE_HEADER.unpack_from(blob, offset)
        offset += _OPCODE_HEADER.size
        if offset + size > len(blob):
            raise ValueError(f"is cut short inside opcode {index + 1} of {count} (id {opcode_id}, {size} bytes)")
        body = blob[offset : offset + size]
        offset += size
        if opcode_id == 9:
            yield _gain_map(body, index + 1)


def _gain_map(body: bytes, number: int) -> GainMap:
    """One GainMap's parameters, refusing what no sensor could need: empty areas, zero pitches, NaN."""
    where = f"GainMap (opcode {number})"
    if len(body) < _GAIN_MAP_HEADER.size:
        raise ValueError(f"{where} has {len(body)} parameter bytes, fewer than {_GAIN_MAP_HEADER.size}")
    fields = _GAIN_MAP_HEADER.unpack_from(body, 0)
    top, left, bottom, right, plane, planes, row_pitch, col_pitch, points_v, points_h = fields[:10]
    spacing_v, spacing_h, origin_v, origin_h, map_planes = fields[10:]
    if bottom <= top or right <= left:
        raise ValueError(f"{where} area ({top}, {left}, {bottom}, {right}) is empty")
    if min(planes, row_pitch, col_pitch, points_v, points_h, map_planes) < 1:
        raise ValueError(f"{where} has a zero plane count, pitch or map size")
    spacing_ok = [s > 0 if n > 1 else s >= 0 for s, n in ((spacing_v, points_v), (spacing_h, points_h))]
    if not (np.isfinite([spacing_v, spacing_h, origin_v, origin_h]).all() and all(spacing_ok)):
        raise ValueError(f"{where} spacing ({spacing_v:g}, {spacing_h:g}) or origin ({origin_v:g}, {origin_h:g}) is wrong")
    n = points_v * points_h * map_planes
    if _GAIN_MAP_HEADER.size + 4 * n > len(body):
        raise ValueError(f"{where} declares {points_v}x{points_h}x{map_planes} gains in {len(body)} bytes")
    gains = np.frombuffer(body, dtype=">f4", count=n, offset=_GAIN_MAP_HEADER.size).astype(np.float32)
    if not np.all(np.isfinite(gains)) or np.any(gains < 0):
        raise ValueError(f"{where} holds a gain that is negative or not a number")
    return GainMap(
        top=top, left=left, bottom=bottom, right=right, plane=plane, planes=planes,
        row_pitch=row_pitch, col_pitch=col_pitch, map_origin=(origin_v, origin_h),
        map_spacing=(spacing_v, spacing_h), gains=gains.reshape(points_v, points_h, map_planes),
    )
