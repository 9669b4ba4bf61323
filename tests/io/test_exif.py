"""Tests of lumatune.io.exif: EXIF blocks read back with Pillow."""

from __future__ import annotations

import datetime
import math
import struct

import numpy as np
import pytest
from PIL import ExifTags, Image

from lumatune import __version__
from lumatune.io.exif import build_exif

Base, IFD = ExifTags.Base, ExifTags.IFD
META = {
    "make": "NIKON CORPORATION",
    "model": "NIKON Z 6",
    "lens_model": "NIKKOR Z 24-70mm f/4 S",
    "exposure_time": 1 / 250,
    "f_number": 5.6,
    "iso": 400,
    "focal_length": 35.0,
    "datetime_original": "2024:05:01 12:34:56",
    "artist": "Ada Lovelace",
    "copyright": "CC BY 4.0",
    "image_description": "a test",
}


def read(block):
    exif = Image.Exif()
    exif.load(block)
    return exif, exif.get_ifd(IFD.Exif)


def stored_ratio(rational):
    """Numerator and denominator as stored (Pillow's IFDRational)."""
    return rational.numerator, rational.denominator


def ifd_value_offsets(block, ifd_offset):
    """Offsets of the out-of-line values of one IFD in a little-endian TIFF block."""
    (count,) = struct.unpack_from("<H", block, ifd_offset)
    sizes = {2: 1, 3: 2, 4: 4, 5: 8, 7: 1}
    offsets = []
    for i in range(count):
        _, kind, n, value = struct.unpack_from("<HHII", block, ifd_offset + 2 + 12 * i)
        if sizes[kind] * n > 4:
            offsets.append(value)
    return offsets


def test_all_fields_read_back():
    ifd0, exif_ifd = read(build_exif(META))
    assert ifd0[Base.Make] == META["make"]
    assert ifd0[Base.Model] == META["model"]
    assert ifd0[Base.Artist] == META["artist"]
    assert ifd0[Base.Copyright] == META["copyright"]
    assert ifd0[Base.ImageDescription] == META["image_description"]
    assert ifd0[Base.Software] == f"lumatune {__version__}"
    assert ifd0[Base.Orientation] == 1
    assert exif_ifd[Base.LensModel] == META["lens_model"]
    assert stored_ratio(exif_ifd[Base.ExposureTime]) == (1, 250)
    assert stored_ratio(exif_ifd[Base.FNumber]) == (28, 5)
    assert exif_ifd[Base.ISOSpeedRatings] == 400
    assert float(exif_ifd[Base.FocalLength]) == 35.0
    assert exif_ifd[Base.DateTimeOriginal] == META["datetime_original"]
    assert exif_ifd[Base.ExifVersion] == b"0232"
    assert exif_ifd[Base.ColorSpace] == 1


def test_block_is_a_little_endian_tiff_with_even_value_offsets():
    block = build_exif({**META, "make": "odd", "model": "even"})
    assert block[:8] == b"II*\0" + struct.pack("<I", 8)
    exif_ifd_offset = read(block)[0][Base.ExifOffset]
    for offset in ifd_value_offsets(block, 8) + ifd_value_offsets(block, exif_ifd_offset):
        assert offset % 2 == 0
        assert offset < len(block)


def test_orientation_is_always_one():
    ifd0, _ = read(build_exif({"orientation": 6}))
    assert ifd0[Base.Orientation] == 1


def test_empty_meta_writes_software_orientation_and_colour_space():
    ifd0, exif_ifd = read(build_exif({}))
    assert set(ifd0) == {Base.Software, Base.Orientation, Base.ExifOffset}
    assert set(exif_ifd) == {Base.ExifVersion, Base.ColorSpace}


def test_software_can_be_named():
    ifd0, _ = read(build_exif({"software": "my tool 2.0"}))
    assert ifd0[Base.Software] == "my tool 2.0"


@pytest.mark.parametrize(
    ("seconds", "ratio"),
    [
        (1 / 8000, (1, 8000)),
        (float(np.float32(1 / 3)), (1, 3)),
        (0.3, (3, 10)),
        (1.0, (1, 1)),
        (30.0, (30, 1)),
        (2.5, (5, 2)),
    ],
)
def test_exposure_time_is_written_as_cameras_write_it(seconds, ratio):
    _, exif_ifd = read(build_exif({"exposure_time": seconds}))
    assert stored_ratio(exif_ifd[Base.ExposureTime]) == ratio


def test_f_number_from_float32_is_a_short_fraction():
    _, exif_ifd = read(build_exif({"f_number": float(np.float32(1.4))}))
    assert stored_ratio(exif_ifd[Base.FNumber]) == (7, 5)


def test_iso_above_65535_uses_iso_speed():
    _, exif_ifd = read(build_exif({"iso": 204800}))
    assert exif_ifd[Base.ISOSpeedRatings] == 65535
    assert exif_ifd[Base.SensitivityType] == 3
    assert exif_ifd[Base.ISOSpeed] == 204800


def test_iso_as_float_is_rounded():
    _, exif_ifd = read(build_exif({"iso": 99.6}))
    assert exif_ifd[Base.ISOSpeedRatings] == 100


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -1.0, 0, "fast", True, [1]])
@pytest.mark.parametrize("key", ["exposure_time", "f_number", "iso", "focal_length"])
def test_bad_numbers_are_skipped(key, bad):
    tag = {
        "exposure_time": Base.ExposureTime,
        "f_number": Base.FNumber,
        "iso": Base.ISOSpeedRatings,
        "focal_length": Base.FocalLength,
    }[key]
    _, exif_ifd = read(build_exif({**META, key: bad}))
    assert tag not in exif_ifd
    assert exif_ifd[Base.DateTimeOriginal] == META["datetime_original"]


@pytest.mark.parametrize("bad", [None, "", "   ", "nul\0inside", 42, b"bytes", "x" * 5000])
def test_bad_texts_are_skipped(bad):
    ifd0, _ = read(build_exif({"make": bad, "model": "Z 6"}))
    assert Base.Make not in ifd0
    assert ifd0[Base.Model] == "Z 6"


@pytest.mark.parametrize("bad", ["2024-05-01 12:34:56", "2024:05:01", "yesterday", 20240501])
def test_bad_datetimes_are_skipped(bad):
    _, exif_ifd = read(build_exif({"datetime_original": bad}))
    assert Base.DateTimeOriginal not in exif_ifd


def test_datetime_object_is_accepted():
    _, exif_ifd = read(build_exif({"datetime_original": datetime.datetime(2023, 1, 2, 3, 4, 5)}))
    assert exif_ifd[Base.DateTimeOriginal] == "2023:01:02 03:04:05"


def test_unknown_keys_are_ignored():
    assert build_exif({"make": "X", "white_level": 16383}) == build_exif({"make": "X"})


def test_text_is_utf8():
    ifd0, _ = read(build_exif({"copyright": "© 2024 José Núñez"}))
    # Pillow decodes EXIF ASCII fields as Latin-1; undo that to see the bytes written.
    assert ifd0[Base.Copyright].encode("latin-1").decode("utf-8") == "© 2024 José Núñez"


@pytest.mark.parametrize(("space", "code"), [("srgb", 1), ("p3", 0xFFFF), ("rec2020", 0xFFFF)])
def test_colour_space_tag(space, code):
    _, exif_ifd = read(build_exif({}, space=space))
    assert exif_ifd[Base.ColorSpace] == code
