"""open_raw: a camera raw's pixels and metadata, read with rawpy (LibRaw) and, for DNG, the tags from the file.

This module knows nothing of processing. It returns the visible area of the sensor data as LibRaw decodes
it (uint16, before black level), the CFA pattern in channel indices (0 = R, 1 = G, 2 = B), the levels, the
white balance the camera recorded, LibRaw's colour matrix, orientation, EXIF, and for DNG the colour tags
read from the file itself (:mod:`lumatune.raw.dng_read`), because LibRaw hides some of them.

References
----------
- Adobe, *Digital Negative (DNG) Specification*, version 1.6.0.0, 2021: chapters 4 (tags) and 6 (colour).
- LibRaw API, ``libraw_iparams_t`` and ``libraw_image_sizes_t``: https://www.libraw.org/docs/API-datastruct.html
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rawpy

from lumatune.errors import TooLargeError, UnreadableInputError, UnsupportedError
from lumatune.raw.dng_read import is_tiff, try_read_dng_tags
from lumatune.raw.image import MAX_MEGAPIXELS, DngTags, RawImage
from lumatune.raw.native import NATIVE_LOCK, NativeStderr, native_complaint

__all__ = ["open_raw"]

_CHANNEL_OF_LETTER = {"R": 0, "G": 1, "B": 2}

#: LibRaw ``sizes.flip`` -> number of counter-clockwise quarter turns that make the image upright.
_QUARTER_TURNS_OF_FLIP = {0: 0, 3: 2, 5: 1, 6: 3}


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
    with rawpy.RawPy() as raw:
        with NATIVE_LOCK, NativeStderr() as native:
            try:
                raw.open_file(str(path))
                _check_size(path, raw.sizes)
                raw.unpack()
                failure = None
            except (rawpy.LibRawError, OSError) as error:
                failure = error
        complaint = native_complaint(native.text, path)
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
        with NATIVE_LOCK, NativeStderr():
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


def _dng_tags_checked(path: Path, identity: _LibRawIdentity | None) -> DngTags | None:
    """The DNG tags of a file LibRaw has opened; an error when they cannot be trusted.

    A file LibRaw takes for a DNG whose tags tifffile cannot read is refused (its colour would be guessed),
    and so is a TIFF that LibRaw reads without finding a camera make: an ordinary image, not a raw.
    """
    tiff = is_tiff(path)
    dng, problem = try_read_dng_tags(path) if tiff else (None, None)
    if dng is None and identity is not None and identity.dng_version:
        raise UnreadableInputError(f"{path}: DNG tags cannot be read ({problem or 'not a TIFF structure'})")
    if dng is None and tiff and identity is not None and not identity.make:
        raise UnreadableInputError(f"{path}: a TIFF image without camera metadata, not a camera raw")
    return dng
