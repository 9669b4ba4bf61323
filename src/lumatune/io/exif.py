"""EXIF metadata for output images, serialised as a TIFF-structured block.

:func:`build_exif` turns a plain dict of capture metadata into the bytes that JPEG (APP1, after the
``Exif\\0\\0`` marker), PNG (``eXIf``) and AVIF/HEIF carry; :func:`exif_fields` gives the same
fields unpacked, so the TIFF encoder can put the IFD0 fields in its own first IFD and append the
Exif sub-IFD.

Tags written (EXIF 2.32 / TIFF 6.0 names):

- IFD0: *ImageDescription* (0x010E), *Make* (0x010F), *Model* (0x0110), *Orientation* (0x0112,
  always 1: the pipeline applies the orientation to the pixels), *Software* (0x0131), *Artist*
  (0x013B), *Copyright* (0x8298), *ExifIFDPointer* (0x8769).
- Exif IFD: *ExposureTime* (0x829A), *FNumber* (0x829D), *PhotographicSensitivity* (0x8827),
  *SensitivityType* (0x8830) and *ISOSpeed* (0x8833) above ISO 65535, *ExifVersion* (0x9000,
  "0232"), *DateTimeOriginal* (0x9003), *FocalLength* (0x920A), *ColorSpace* (0xA001: 1 for sRGB,
  0xFFFF "uncalibrated" otherwise, the ICC profile then names the space), *LensModel* (0xA434).

Text is written as UTF-8 in the ASCII-typed fields (plain ASCII stays standard; other characters
such as "©" survive for readers that assume UTF-8, as exiftool and most viewers do).

References
----------
- CIPA DC-008-2019 / JEITA CP-3451E, *Exchangeable image file format for digital still cameras:
  Exif Version 2.32*: 4.5.4 (TIFF structure), 4.6 (IFD structure and tags, including ColorSpace,
  SensitivityType and ISOSpeed).
- Adobe, *TIFF Revision 6.0* (1992), section 2: image file header, IFD entries, field types.
"""

from __future__ import annotations

import datetime
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from typing import Any

from lumatune._version import __version__

__all__ = [
    "EXIF_KEYS",
    "TAG_EXIF_IFD_POINTER",
    "ExifField",
    "ExifFields",
    "build_exif",
    "exif_fields",
    "pack_exif",
    "pack_ifd",
]

ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7
"""TIFF 6.0 field types used here."""

TAG_EXIF_IFD_POINTER = 0x8769
ORIENTATION_AS_STORED = 1
EXIF_VERSION = b"0232"
COLOUR_SPACE_SRGB, COLOUR_SPACE_UNCALIBRATED = 1, 0xFFFF
SENSITIVITY_TYPE_ISO_SPEED = 3
MAX_SHORT = 0xFFFF
MAX_TEXT_BYTES = 4096
DATETIME_PATTERN = re.compile(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}")
SHORT_FRACTION_DENOMINATOR = 1000
EXPOSURE_DENOMINATOR = 10_000
RECIPROCAL_TOLERANCE = 1e-4
"""Relative distance of 1/t to an integer under which an exposure time t is written as 1/N s."""

TEXT_TAGS_IFD0 = {
    "image_description": 0x010E,
    "make": 0x010F,
    "model": 0x0110,
    "software": 0x0131,
    "artist": 0x013B,
    "copyright": 0x8298,
}
EXIF_KEYS = (
    *TEXT_TAGS_IFD0,
    "lens_model",
    "exposure_time",
    "f_number",
    "iso",
    "focal_length",
    "datetime_original",
)
"""The keys :func:`build_exif` reads; others are ignored."""


@dataclass(frozen=True)
class ExifField:
    """One TIFF/EXIF field, its value already packed little-endian.

    Attributes
    ----------
    tag
        Tag number.
    type
        TIFF field type (2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 7 UNDEFINED).
    count
        Number of values (bytes for ASCII and UNDEFINED, including the ASCII NUL).
    data
        The values, little-endian.
    """

    tag: int
    type: int
    count: int
    data: bytes


@dataclass(frozen=True)
class ExifFields:
    """The fields of IFD0 (without the Exif IFD pointer) and of the Exif sub-IFD."""

    ifd0: tuple[ExifField, ...]
    exif_ifd: tuple[ExifField, ...]


def text_field(tag: int, value: Any) -> ExifField | None:
    """Return an ASCII-typed field holding UTF-8 text, or None for a missing or bad value."""
    if not isinstance(value, str) or "\0" in value or not value.strip():
        return None
    data = value.strip().encode("utf-8") + b"\0"
    if len(data) > MAX_TEXT_BYTES:
        return None
    return ExifField(tag, ASCII, len(data), data)


def short_field(tag: int, value: int) -> ExifField:
    """Return a one-value SHORT field."""
    return ExifField(tag, SHORT, 1, struct.pack("<H", value))


def positive_number(value: Any) -> float | None:
    """Return a finite positive real as float, or None (bools, NaN, infinities, zero, negatives)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None


def short_fraction(value: float) -> Fraction:
    """Return the closest fraction with a denominator up to 1000 (f/5.6 -> 28/5, 4.38 mm -> 219/50)."""
    return Fraction(value).limit_denominator(SHORT_FRACTION_DENOMINATOR)


def exposure_fraction(seconds: float) -> Fraction:
    """Return an exposure time as a fraction: 1/N s when 1/t is (nearly) an integer, as cameras write it.

    Floats read from raws (often float32) are not exact: 1/3 s arrives as 0.33333334.
    """
    reciprocal = 1.0 / seconds
    nearest = round(reciprocal)
    if nearest >= 1 and abs(reciprocal - nearest) <= RECIPROCAL_TOLERANCE * nearest:
        return Fraction(1, nearest)
    return Fraction(seconds).limit_denominator(EXPOSURE_DENOMINATOR)


def rational_field(
    tag: int, value: Any, to_fraction: Callable[[float], Fraction] = short_fraction
) -> ExifField | None:
    """Return a RATIONAL field for a positive number, or None for a bad value or one too large."""
    number = positive_number(value)
    if number is None:
        return None
    fraction = to_fraction(number)
    if fraction.numerator > 0xFFFFFFFF or fraction.denominator > 0xFFFFFFFF:
        return None
    return ExifField(tag, RATIONAL, 1, struct.pack("<II", fraction.numerator, fraction.denominator))


def iso_fields(value: Any) -> list[ExifField]:
    """Return the sensitivity fields: PhotographicSensitivity, plus ISOSpeed above 65535 (Exif 2.32 4.6)."""
    iso = positive_number(value)
    if iso is None or round(iso) < 1:
        return []
    iso = round(iso)
    fields = [short_field(0x8827, min(iso, MAX_SHORT))]
    if iso > MAX_SHORT and iso <= 0xFFFFFFFF:
        fields += [
            short_field(0x8830, SENSITIVITY_TYPE_ISO_SPEED),
            ExifField(0x8833, LONG, 1, struct.pack("<I", iso)),
        ]
    return fields


def datetime_field(tag: int, value: Any) -> ExifField | None:
    """Return a DateTime field from "YYYY:MM:DD HH:MM:SS" or a :class:`datetime.datetime`, else None."""
    if isinstance(value, datetime.datetime):
        value = value.strftime("%Y:%m:%d %H:%M:%S")
    if not isinstance(value, str) or not DATETIME_PATTERN.fullmatch(value):
        return None
    return text_field(tag, value)


def exif_fields(meta: Mapping[str, Any], *, space: str = "srgb") -> ExifFields:
    """Return the EXIF fields for capture metadata, skipping missing and bad values.

    Parameters
    ----------
    meta
        Optional keys (see :data:`EXIF_KEYS`): ``make``, ``model``, ``lens_model``, ``artist``,
        ``copyright``, ``image_description``, ``software`` (str; ``software`` defaults to
        "lumatune <version>"), ``exposure_time`` (s), ``f_number``, ``iso``, ``focal_length`` (mm),
        ``datetime_original`` ("YYYY:MM:DD HH:MM:SS" or datetime). None, empty, non-finite,
        zero or negative values are skipped; other keys are ignored.
    space
        Output space name; ColorSpace is 1 (sRGB) for "srgb", 0xFFFF (uncalibrated) otherwise.

    Returns
    -------
    ExifFields
        IFD0 fields (Orientation always 1) and Exif sub-IFD fields, each sorted by tag.

    References
    ----------
    CIPA DC-008-2019 (Exif 2.32), 4.6.
    """
    texts = {**meta, "software": meta.get("software") or f"lumatune {__version__}"}
    ifd0 = [text_field(tag, texts.get(key)) for key, tag in TEXT_TAGS_IFD0.items()]
    ifd0.append(short_field(0x0112, ORIENTATION_AS_STORED))

    colour_space = COLOUR_SPACE_SRGB if space == "srgb" else COLOUR_SPACE_UNCALIBRATED
    exif_ifd = [
        ExifField(0x9000, UNDEFINED, len(EXIF_VERSION), EXIF_VERSION),
        short_field(0xA001, colour_space),
        rational_field(0x829A, meta.get("exposure_time"), exposure_fraction),
        rational_field(0x829D, meta.get("f_number")),
        rational_field(0x920A, meta.get("focal_length")),
        datetime_field(0x9003, meta.get("datetime_original")),
        text_field(0xA434, meta.get("lens_model")),
        *iso_fields(meta.get("iso")),
    ]
    return ExifFields(
        ifd0=tuple(sorted((f for f in ifd0 if f), key=lambda f: f.tag)),
        exif_ifd=tuple(sorted((f for f in exif_ifd if f), key=lambda f: f.tag)),
    )


def pack_ifd(fields: tuple[ExifField, ...], offset: int, next_ifd: int = 0) -> bytes:
    """Serialise one little-endian IFD placed at ``offset`` bytes from the TIFF header.

    Values longer than four bytes follow the IFD's entries and next-IFD offset, each on a word
    (even) boundary, as TIFF 6.0 section 2 requires.

    Parameters
    ----------
    fields
        The fields, sorted by tag.
    offset
        Position of the IFD from the start of the TIFF header (even).
    next_ifd
        Offset of the next IFD, 0 for none.

    Returns
    -------
    bytes
        Entry count, entries, next-IFD offset and the out-of-line values.

    References
    ----------
    Adobe, TIFF Revision 6.0, section 2 (Image File Directory).
    """
    entries, values = [], b""
    values_start = offset + 2 + 12 * len(fields) + 4
    for field in fields:
        if len(field.data) <= 4:
            entries.append(struct.pack("<HHI4s", field.tag, field.type, field.count, field.data))
        else:
            value_offset = values_start + len(values)
            entries.append(struct.pack("<HHII", field.tag, field.type, field.count, value_offset))
            values += field.data + bytes(len(field.data) % 2)
    return struct.pack("<H", len(fields)) + b"".join(entries) + struct.pack("<I", next_ifd) + values


def pack_exif(fields: ExifFields) -> bytes:
    """Serialise EXIF fields as a little-endian TIFF structure: header, IFD0, then the Exif IFD.

    Parameters
    ----------
    fields
        The fields, from :func:`exif_fields`.

    Returns
    -------
    bytes
        Starts with the TIFF header ``II*\\0``; JPEG writers prefix ``Exif\\0\\0`` themselves.

    References
    ----------
    CIPA DC-008-2019 (Exif 2.32), 4.5.4 and 4.6; Adobe, TIFF Revision 6.0, section 2.
    """
    header = b"II*\0" + struct.pack("<I", 8)
    placeholder = ExifField(TAG_EXIF_IFD_POINTER, LONG, 1, bytes(4))
    ifd0 = tuple(sorted((*fields.ifd0, placeholder), key=lambda f: f.tag))
    exif_ifd_offset = len(header) + len(pack_ifd(ifd0, len(header)))
    pointer = ExifField(TAG_EXIF_IFD_POINTER, LONG, 1, struct.pack("<I", exif_ifd_offset))
    ifd0 = tuple(pointer if f.tag == TAG_EXIF_IFD_POINTER else f for f in ifd0)
    return header + pack_ifd(ifd0, len(header)) + pack_ifd(fields.exif_ifd, exif_ifd_offset)


def build_exif(meta: Mapping[str, Any], *, space: str = "srgb") -> bytes:
    """Return a TIFF-structured EXIF block (little-endian) for capture metadata.

    Parameters
    ----------
    meta
        Capture metadata, see :func:`exif_fields`.
    space
        Output space name, for the ColorSpace tag.

    Returns
    -------
    bytes
        Starts with the TIFF header ``II*\\0``; JPEG writers prefix ``Exif\\0\\0`` themselves.

    References
    ----------
    CIPA DC-008-2019 (Exif 2.32), 4.5.4 and 4.6; Adobe, TIFF Revision 6.0, section 2.

    Examples
    --------
    >>> block = build_exif({"make": "Nikon", "iso": 200})
    >>> block[:4]
    b'II*\\x00'
    """
    return pack_exif(exif_fields(meta, space=space))
