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
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lumatune.errors import TooLargeError, UnreadableInputError, UnsupportedError

__all__ = ["DngTags", "GainMap", "RawImage", "open_raw", "MAX_MEGAPIXELS"]

#: Refuse images larger than this many megapixels before unpacking them (a memory cap).
MAX_MEGAPIXELS = float(os.environ.get("LUMATUNE_MAX_MEGAPIXELS", "200"))

_CHANNEL_OF_LETTER = {"R": 0, "G": 1, "B": 2}

#: LibRaw ``sizes.flip`` -> number of counter-clockwise quarter turns that make the image upright.
_QUARTER_TURNS_OF_FLIP = {0: 0, 3: 2, 5: 1, 6: 3}


@dataclass(frozen=True)
class GainMap:
    """One GainMap opcode (DNG 1.6, chapter 7, opcode ID 9), in the raw's full-image pixel coordinates."""

    top: int
    left: int
    bottom: int
    right: int
    plane: int
    planes: int
    row_pitch: int
    col_pitch: int
    map_origin: tuple[float, float]
    map_spacing: tuple[float, float]
    gains: np.ndarray  # (map_points_v, map_points_h, map_planes) float32


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
    UnreadableInputError : missing, empty, a directory, truncated, or not a raw.
    UnsupportedError : a sensor layout lumatune does not handle (e.g. CMYG, Foveon).
    TooLargeError : the declared image exceeds :data:`MAX_MEGAPIXELS`.
    """
    path = Path(path)
    _check_readable(path)
    import rawpy  # imported here so that `lumatune --help` stays fast

    raw = rawpy.RawPy()
    try:
        raw.open_file(str(path))
        _check_size(path, raw.sizes)
        raw.unpack()
    except (rawpy.LibRawError, OSError) as error:
        raise UnreadableInputError(f"{path}: not a raw file LibRaw can read ({_libraw_reason(error)})") from None
    with raw:
        return _raw_image_from_libraw(path, raw)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableInputError(f"{path}: is a directory, not a raw file")
    if not os.access(path, os.R_OK):
        raise UnreadableInputError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise UnreadableInputError(f"{path}: empty file")


def _check_size(path: Path, sizes) -> None:
    megapixels = sizes.raw_width * sizes.raw_height / 1e6
    if megapixels > MAX_MEGAPIXELS:
        raise TooLargeError(
            f"{path}: declares {sizes.raw_width}x{sizes.raw_height} pixels ({megapixels:.0f} MP), over the "
            f"{MAX_MEGAPIXELS:.0f} MP cap (set LUMATUNE_MAX_MEGAPIXELS to raise it)"
        )


def _libraw_reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _raw_image_from_libraw(path: Path, raw) -> RawImage:
    sizes = raw.sizes
    dng = read_dng_tags(path) if _is_tiff(path) else None
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
    make, model = _libraw_make_model(path)
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
    n = pattern.shape[0]
    colours = np.asarray(raw.raw_colors_visible[:n, :n])
    return np.vectorize(lambda i: _CHANNEL_OF_LETTER[letters[i]])(colours).astype(np.int8)


def _black_pattern(raw, n: int) -> np.ndarray:
    """Black level per CFA position (n x n), from LibRaw's per-colour-index levels."""
    per_index = np.asarray(raw.black_level_per_channel, dtype=np.float32)
    colours = np.asarray(raw.raw_colors_visible[:n, :n])
    return per_index[colours]


def _neutral_from_multipliers(multipliers) -> np.ndarray | None:
    """Camera neutral (G = 1) from LibRaw's WB multipliers, or None when they carry no white balance."""
    m = np.asarray(multipliers[:3], dtype=np.float64)
    if not np.all(np.isfinite(m)) or np.any(m <= 0) or np.allclose(m, m[1]):
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


def _libraw_make_model(path: Path) -> tuple[str, str]:
    """Make and model as LibRaw identifies them (``libraw_iparams_t``), through rawpy's bundled libraw_r."""
    lib = _libraw_library()
    if lib is None:
        return "", ""
    handle = lib.libraw_init(0)
    try:
        if lib.libraw_open_file(handle, os.fsencode(path)) != 0:
            return "", ""
        params = lib.libraw_get_iparams(handle)
        if not params:
            return "", ""
        # libraw_iparams_t begins: char guard[4]; char make[64]; char model[64]; ...
        raw_bytes = ctypes.string_at(params, 4 + 64 + 64)
        make = raw_bytes[4:68].split(b"\0", 1)[0].decode("latin-1").strip()
        model = raw_bytes[68:132].split(b"\0", 1)[0].decode("latin-1").strip()
        return make, model
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
    "DNGVersion": 50706,
    "UniqueCameraModel": 50708,
    "LinearizationTable": 50712,
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


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4)
    return head in (b"II*\0", b"MM\0*")


def read_dng_tags(path: str | os.PathLike) -> DngTags | None:
    """Read the DNG colour tags (IFD 0) and the raw IFD's tags (the full-resolution NewSubfileType 0 IFD).

    Returns ``None`` when the file is not a DNG. Malformed tags (wrong counts, NaN, singular matrices) are
    dropped, so the pipeline falls back to other metadata rather than failing.

    References
    ----------
    Adobe DNG Specification 1.6.0.0, chapter 4 (tag definitions) and chapter 7 (opcode lists).
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            ifd0 = tif.pages[0]
            if _TAG["DNGVersion"] not in ifd0.tags:
                return None
            main = _tag_values(ifd0)
            raw_ifd = _raw_ifd_tags(tif) or main
    except Exception:  # tifffile raises many types on broken files; LibRaw is the authority on readability
        return None

    def value(name: str, where: dict = main):
        return where.get(_TAG[name])

    return DngTags(
        color_matrix_1=_matrix(value("ColorMatrix1")),
        color_matrix_2=_matrix(value("ColorMatrix2")),
        forward_matrix_1=_matrix(value("ForwardMatrix1")),
        forward_matrix_2=_matrix(value("ForwardMatrix2")),
        camera_calibration_1=_matrix(value("CameraCalibration1")),
        camera_calibration_2=_matrix(value("CameraCalibration2")),
        calibration_illuminant_1=_int_or_none(value("CalibrationIlluminant1")),
        calibration_illuminant_2=_int_or_none(value("CalibrationIlluminant2")),
        analog_balance=_vector(value("AnalogBalance"), positive=True),
        as_shot_neutral=_vector(value("AsShotNeutral"), positive=True),
        as_shot_white_xy=_vector(value("AsShotWhiteXY"), size=2, positive=True),
        baseline_exposure=_baseline_exposure(value("BaselineExposure")),
        linearization_table=_table(value("LinearizationTable", raw_ifd)),
        noise_profile=_noise_profile(value("NoiseProfile", raw_ifd) or value("NoiseProfile")),
        default_crop=_default_crop(value("DefaultCropOrigin", raw_ifd), value("DefaultCropSize", raw_ifd)),
        active_area=_active_area(value("ActiveArea", raw_ifd)),
        gain_maps=_gain_maps(value("OpcodeList2", raw_ifd)),
        unique_camera_model=_text(value("UniqueCameraModel")),
    )


def _raw_ifd_tags(tif) -> dict | None:
    """Tags of the full-resolution raw IFD: IFD 0 or one of its SubIFDs with NewSubfileType 0."""
    candidates = [tif.pages[0]] + list(getattr(tif.pages[0], "pages", None) or [])
    for page in candidates:
        tags = _tag_values(page)
        if int(tags.get(254, 0)) == 0 and tags.get(262) in (32803, 34892):
            return tags
    return None


def _tag_values(page) -> dict:
    """Tag code -> value, with RATIONAL/SRATIONAL tags (tifffile gives numerator, denominator pairs) divided."""
    values = {}
    for code, tag in page.tags.items():
        value = tag.value
        if int(tag.dtype) in (5, 10) and isinstance(value, tuple) and len(value) == 2 * tag.count:
            pairs = np.asarray(value, dtype=np.float64).reshape(-1, 2)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = pairs[:, 0] / pairs[:, 1]
        values[code] = value
    return values


def _rationals(value) -> np.ndarray | None:
    if value is None:
        return None
    try:
        array = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    return array if np.all(np.isfinite(array)) else None


def _matrix(value) -> np.ndarray | None:
    array = _rationals(value)
    if array is None or array.size != 9:
        return None
    matrix = array.reshape(3, 3)
    return matrix if abs(np.linalg.det(matrix)) > 1e-8 else None


def _vector(value, size: int = 3, positive: bool = False) -> np.ndarray | None:
    array = _rationals(value)
    if array is None or array.size != size or (positive and np.any(array <= 0)):
        return None
    return array


def _int_or_none(value) -> int | None:
    try:
        return int(np.asarray(value).ravel()[0]) if value is not None else None
    except (TypeError, ValueError, IndexError):
        return None


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    return value.strip("\0 ").strip() if isinstance(value, str) else None


def _baseline_exposure(value) -> float:
    array = _rationals(value)
    if array is None or array.size != 1 or abs(array[0]) > 16:
        return 0.0
    return float(array[0])


def _table(value) -> np.ndarray | None:
    array = _rationals(value)
    if array is None or array.size < 2:
        return None
    return array.astype(np.float32)


def _noise_profile(value) -> np.ndarray | None:
    array = _rationals(value)
    if array is None or array.size < 2 or array.size % 2:
        return None
    return array.reshape(-1, 2)


def _default_crop(origin, size) -> tuple[int, int, int, int] | None:
    o, s = _rationals(origin), _rationals(size)
    if o is None or s is None or o.size != 2 or s.size != 2 or np.any(s <= 0) or np.any(o < 0):
        return None
    return int(round(o[0])), int(round(o[1])), int(round(s[0])), int(round(s[1]))


def _active_area(value) -> tuple[int, int, int, int] | None:
    a = _rationals(value)
    if a is None or a.size != 4:
        return None
    top, left, bottom, right = (int(v) for v in a)
    return (top, left, bottom, right) if bottom > top and right > left else None


def _gain_maps(opcode_list) -> tuple[GainMap, ...]:
    """GainMap opcodes (ID 9) of an OpcodeList (big-endian, DNG 1.6 chapter 7); other opcodes are skipped."""
    if not isinstance(opcode_list, bytes | bytearray) or len(opcode_list) < 4:
        return ()
    try:
        return tuple(_parse_gain_maps(bytes(opcode_list)))
    except (struct.error, ValueError):
        return ()


def _parse_gain_maps(blob: bytes):
    (count,) = struct.unpack_from(">I", blob, 0)
    offset = 4
    for _ in range(count):
        opcode_id, _version, _flags, size = struct.unpack_from(">IIII", blob, offset)
        offset += 16
        body = blob[offset : offset + size]
        offset += size
        if opcode_id != 9:
            continue
        top, left, bottom, right, plane, planes, row_pitch, col_pitch = struct.unpack_from(">8I", body, 0)
        points_v, points_h = struct.unpack_from(">II", body, 32)
        spacing_v, spacing_h, origin_v, origin_h = struct.unpack_from(">4d", body, 40)
        (map_planes,) = struct.unpack_from(">I", body, 72)
        n = points_v * points_h * map_planes
        gains = np.frombuffer(body, dtype=">f4", count=n, offset=76).astype(np.float32)
        if not np.all(np.isfinite(gains)) or row_pitch < 1 or col_pitch < 1:
            raise ValueError("bad GainMap")
        yield GainMap(
            top=top, left=left, bottom=bottom, right=right, plane=plane, planes=planes,
            row_pitch=row_pitch, col_pitch=col_pitch, map_origin=(origin_v, origin_h),
            map_spacing=(spacing_v, spacing_h), gains=gains.reshape(points_v, points_h, map_planes),
        )
