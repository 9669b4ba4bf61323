"""Tests of lumatune.io.encode: round trips through independent decoders for every format."""

from __future__ import annotations

import io
import struct
import sys
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import ExifTags, Image, JpegImagePlugin, features

from lumatune import __version__
from lumatune.errors import OutputError, UnsupportedError
from lumatune.io import encode
from lumatune.io.encode import (
    EXIF_APP1_PREFIX,
    adler32_combine,
    jpeg_strip_count,
    quantise,
    save,
)
from lumatune.io.formats import FORMATS, format_from_path
from lumatune.io.exif import exif_fields, pack_exif
from lumatune.io.icc import icc_profile

Base, IFD = ExifTags.Base, ExifTags.IFD
HEIGHT, WIDTH = 37, 53
"""Odd sizes, so row strides and bands do not divide evenly."""
LOSSY_MEAN_ERROR_CODES = 1.5
"""Mean absolute error, 8-bit codes, of JPEG/AVIF/HEIF at quality 95 on a smooth image."""
META = {
    "make": "FUJIFILM",
    "model": "X-T5",
    "exposure_time": 1 / 125,
    "f_number": 2.8,
    "iso": 800,
    "focal_length": 23.0,
    "datetime_original": "2025:02:03 04:05:06",
}
AVIF_MISSING = not features.check("avif")


def smooth_image(height=HEIGHT, width=WIDTH):
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width]).reshape(2, 1, 1)
    return np.stack([x, y, 0.5 + 0.4 * np.sin(6 * x + 3 * y)], axis=-1).astype(np.float32)


def noisy_image(height=HEIGHT, width=WIDTH):
    return np.random.default_rng(7).random((height, width, 3), dtype=np.float32)


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def pillow_exif(path):
    exif = Image.open(path).getexif()
    return exif, exif.get_ifd(IFD.Exif)


def assert_exif_matches_meta(ifd0, exif_ifd):
    assert ifd0[Base.Make] == META["make"]
    assert ifd0[Base.Model] == META["model"]
    assert ifd0[Base.Software] == f"lumatune {__version__}"
    assert ifd0.get(Base.Orientation, 1) == 1
    assert float(exif_ifd[Base.ExposureTime]) == pytest.approx(META["exposure_time"])
    assert float(exif_ifd[Base.FNumber]) == pytest.approx(META["f_number"])
    assert exif_ifd[Base.ISOSpeedRatings] == META["iso"]
    assert float(exif_ifd[Base.FocalLength]) == pytest.approx(META["focal_length"])
    assert exif_ifd[Base.DateTimeOriginal] == META["datetime_original"]


# ---------------------------------------------------------------------------------------------
# format_from_path and quantise


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.jpg", "jpeg"), ("a.JPEG", "jpeg"), ("b/c.tif", "tiff"), ("c.TIFF", "tiff"), ("d.png", "png"),
     ("e.avif", "avif"), ("f.HEIC", "heif"), ("g.heif", "heif")],
)
def test_format_from_path(name, expected):
    assert format_from_path(name) == expected


@pytest.mark.parametrize("name", ["a.bmp", "a", "a.jpg.part"])
def test_unknown_extension_lists_valid_ones(name):
    with pytest.raises(OutputError, match=r"unknown image extension.*\.jpg.*\.tif.*\.png"):
        format_from_path(name)


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_quantise_rounds_clips_and_zeroes_nan(bit_depth):
    maximum = 2**bit_depth - 1
    image = np.random.default_rng(1).uniform(-0.2, 1.2, (150, 7, 3)).astype(np.float32)
    image[0, 0] = [np.nan, -np.inf, np.inf]
    image[0, 1] = [0.5 / maximum, 1.5 / maximum, 1.0]
    expected = np.rint(np.clip(np.nan_to_num(image, nan=0.0), 0, 1) * np.float32(maximum))
    codes = quantise(image, bit_depth)
    assert codes.dtype == (np.uint8 if bit_depth == 8 else np.uint16)
    np.testing.assert_array_equal(codes, expected)
    assert list(codes[0, 0]) == [0, 0, maximum]


def test_quantise_mono_becomes_rgb():
    grey = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    codes = quantise(grey, 8)
    assert codes.shape == (3, 4, 3)
    for channel in range(3):
        np.testing.assert_array_equal(codes[..., channel], np.rint(grey * 255))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((4, 4, 4), np.float32),
        np.zeros((4,), np.float32),
        np.zeros((0, 4, 3), np.float32),
    ],
)
def test_quantise_rejects_non_float_or_badly_shaped(image):
    with pytest.raises(ValueError, match="image must be float"):
        quantise(image, 8)


def plain_quantise(image, bit_depth):
    """The reference: one pass over the whole image, no bands, no threads."""
    scaled = np.fmin(np.fmax(image, np.float32(0)), np.float32(1)) * np.float32(2**bit_depth - 1)
    return np.rint(scaled).astype(np.uint8 if bit_depth == 8 else np.uint16)


@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("layout", ["contiguous", "reversed channels", "float64"])
def test_quantise_equals_one_plain_pass(bit_depth, layout):
    image = np.random.default_rng(3).uniform(-0.1, 1.1, (HEIGHT, WIDTH, 3)).astype(np.float32)
    image[5, 7] = np.nan
    image[6, 7] = [0.5 / 255, 1.5 / 255, 2.5 / 255]  # halves: rint rounds them to even
    image = {"contiguous": image, "reversed channels": image[:, :, ::-1], "float64": image.astype(np.float64)}[layout]
    codes = quantise(image, bit_depth)
    assert codes.dtype == plain_quantise(image, bit_depth).dtype
    np.testing.assert_array_equal(codes, plain_quantise(image.astype(np.float32), bit_depth))


def test_adler32_combine_matches_zlib():
    data = np.random.default_rng(2).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    for split in (0, 1, 65521, 100_000, len(data)):
        first, second = data[:split], data[split:]
        assert adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second)) == zlib.adler32(data)


# ---------------------------------------------------------------------------------------------
# lossless round trips


@pytest.mark.parametrize("bit_depth", [16, 8])
def test_tiff_round_trip(tmp_path, bit_depth):
    image = noisy_image()
    path = save(image, tmp_path / "out.tif", bit_depth=bit_depth, space="p3", exif=META)
    expected = quantise(image, bit_depth)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        pixels = page.asarray()
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.tags["InterColorProfile"].value == icc_profile("p3")
        assert page.tags["Make"].value == META["make"]
        assert page.tags["Model"].value == META["model"]
        assert page.tags["Orientation"].value == 1
        exif_ifd = page.tags["ExifTag"].value
    assert pixels.dtype == expected.dtype
    np.testing.assert_array_equal(pixels, expected)
    assert exif_ifd["ExposureTime"] == (1, 125)
    assert exif_ifd["FNumber"] == (14, 5)
    assert exif_ifd["ISOSpeedRatings"] == META["iso"]
    assert exif_ifd["FocalLength"] == (23, 1)
    assert exif_ifd["DateTimeOriginal"] == META["datetime_original"]
    # a second, independent reader: libtiff through OpenCV, and Pillow's EXIF parser
    np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1], expected)
    assert_exif_matches_meta(*pillow_exif(path))


def test_sixteen_bit_output_keeps_sixteen_bits(tmp_path):
    image = noisy_image()
    for name in ("out.tif", "out.png"):
        path = save(image, tmp_path / name)
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert pixels.dtype == np.uint16
        assert np.any(pixels % 257 != 0), f"{name} holds 8-bit values scaled up"


@pytest.mark.parametrize("bit_depth", [16, 8])
def test_png_round_trip(tmp_path, bit_depth):
    image = noisy_image()
    path = save(image, tmp_path / "out.png", bit_depth=bit_depth, space="rec2020", exif=META)
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    np.testing.assert_array_equal(pixels, quantise(image, bit_depth))
    assert Image.open(path).info["icc_profile"] == icc_profile("rec2020")
    assert_exif_matches_meta(*pillow_exif(path))


def png_chunks(data):
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        chunks.append((kind, body, crc))
        position += 12 + length
    return chunks


def test_png_structure_checked_by_hand(tmp_path):
    """Chunk order and CRCs, zlib stream (its Adler-32 is checked by zlib), Up filter undone."""
    codes = quantise(noisy_image(), 16)
    data = save(noisy_image(), tmp_path / "out.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = png_chunks(data)
    kinds = [kind for kind, _, _ in chunks]
    assert kinds[:4] == [b"IHDR", b"iCCP", b"eXIf", b"IDAT"]
    assert kinds[-1] == b"IEND"
    assert set(kinds[3:-1]) == {b"IDAT"}
    for kind, body, crc in chunks:
        assert zlib.crc32(kind + body) == crc
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (WIDTH, HEIGHT, 16, 2, 0, 0, 0)
    name, _, profile = chunks[1][1].partition(b"\0")
    assert name == b"ICC profile"
    assert profile[0] == 0  # compression method: zlib
    assert zlib.decompress(profile[1:]) == icc_profile("srgb")
    filtered = np.frombuffer(zlib.decompress(b"".join(b for k, b, _ in chunks if k == b"IDAT")), np.uint8)
    rows = filtered.reshape(HEIGHT, 1 + WIDTH * 6)
    assert np.all(rows[:, 0] == 2)
    raw = np.cumsum(rows[:, 1:], axis=0, dtype=np.uint8)  # undo Up: running sum modulo 256
    np.testing.assert_array_equal(raw.view(">u2").reshape(HEIGHT, WIDTH, 3), codes)


# ---------------------------------------------------------------------------------------------
# lossy round trips


def lossy_round_trip(tmp_path, name, quality=95):
    image = smooth_image()
    path = save(image, tmp_path / name, quality=quality, space="p3", exif=META)
    decoded = Image.open(path)
    pixels = np.asarray(decoded.convert("RGB")).astype(float)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    assert np.abs(pixels - quantise(image, 8)).mean() < LOSSY_MEAN_ERROR_CODES
    assert decoded.info["icc_profile"] == icc_profile("p3")
    assert_exif_matches_meta(*pillow_exif(path))
    return decoded


def test_jpeg_round_trip(tmp_path):
    decoded = lossy_round_trip(tmp_path, "out.jpg")
    assert JpegImagePlugin.get_sampling(decoded) == 0  # 4:4:4 at quality >= 90


@pytest.mark.parametrize(("quality", "subsampling"), [(95, 0), (80, 2)])
def test_large_jpeg_is_spliced_from_strips_identical_to_one_encode(tmp_path, monkeypatch, quality, subsampling):
    """With strips forced on a small image, save() writes what one encode with a restart marker per
    MCU row writes, profile and EXIF included."""
    monkeypatch.setattr(encode, "available_cores", lambda: 2)
    monkeypatch.setattr(encode, "JPEG_MIN_STRIP_PIXELS", 1)
    image = smooth_image(height=150)
    codes = quantise(image, 8)
    assert jpeg_strip_count(*codes.shape[:2], subsampling) == 4
    path = save(image, tmp_path / "out.jpg", quality=quality, space="p3", exif=META)
    reference = io.BytesIO()
    Image.fromarray(codes).save(
        reference,
        format="JPEG",
        quality=quality,
        subsampling=subsampling,
        restart_marker_rows=1,
        icc_profile=icc_profile("p3"),
        exif=EXIF_APP1_PREFIX + pack_exif(exif_fields(META, space="p3")),
    )
    assert path.read_bytes() == reference.getvalue()
    assert Image.open(path).info["icc_profile"] == icc_profile("p3")
    assert_exif_matches_meta(*pillow_exif(path))
    assert names(tmp_path) == ["out.jpg"]


@pytest.mark.parametrize(
    ("height", "width", "subsampling", "workers", "expected"),
    [
        (64, 64, 0, 2, 1),  # small: one encode
        (4000, 6000, 0, 2, 4),  # 24 MP: two strips per core
        (4000, 6000, 2, 8, 16),
        (40, 100_000, 2, 8, 3),  # no more strips than MCU rows
        (1024, 512, 0, 8, 2),  # no strip under JPEG_MIN_STRIP_PIXELS
    ],
)
def test_jpeg_strip_count(monkeypatch, height, width, subsampling, workers, expected):
    monkeypatch.setattr(encode, "available_cores", lambda: workers)
    assert jpeg_strip_count(height, width, subsampling) == expected


def test_jpeg_below_quality_90_subsamples_chroma(tmp_path):
    path = save(smooth_image(), tmp_path / "out.jpg", quality=80)
    assert JpegImagePlugin.get_sampling(Image.open(path)) == 2  # 4:2:0


@pytest.mark.skipif(AVIF_MISSING, reason="Pillow built without AVIF")
def test_avif_round_trip(tmp_path):
    lossy_round_trip(tmp_path, "out.avif")


def test_heif_round_trip(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is optional")
    pillow_heif.register_heif_opener()
    lossy_round_trip(tmp_path, "out.heic")


def test_heif_without_pillow_heif_is_unsupported(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes `import pillow_heif` fail
    with pytest.raises(UnsupportedError, match="install pillow-heif"):
        save(smooth_image(), tmp_path / "out.heic")
    assert names(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# every format: ICC, EXIF defaults, mono


@pytest.mark.parametrize("extension", [".jpg", ".tif", ".png"] + ([] if AVIF_MISSING else [".avif"]))
@pytest.mark.parametrize("space", ["srgb", "p3", "rec2020"])
def test_every_format_embeds_the_profile_of_its_space(tmp_path, extension, space):
    path = save(smooth_image(), tmp_path / f"out{extension}", space=space)
    assert Image.open(path).info["icc_profile"] == icc_profile(space)


@pytest.mark.parametrize("extension", [".jpg", ".tif", ".png"])
def test_without_meta_exif_still_has_orientation_and_software(tmp_path, extension):
    path = save(smooth_image(), tmp_path / f"out{extension}")
    ifd0, exif_ifd = pillow_exif(path)
    assert ifd0[Base.Orientation] == 1
    assert ifd0[Base.Software] == f"lumatune {__version__}"
    assert exif_ifd[Base.ColorSpace] == 1


def test_mono_is_written_as_rgb_with_equal_channels(tmp_path):
    grey = smooth_image()[..., 0]
    pixels = cv2.imread(str(save(grey, tmp_path / "out.png")), cv2.IMREAD_UNCHANGED)
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 1])
    np.testing.assert_array_equal(pixels[..., 1], pixels[..., 2])


# ---------------------------------------------------------------------------------------------
# refusals and failures


def test_existing_file_is_refused_without_overwrite(tmp_path):
    target = tmp_path / "out.jpg"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError, match=r"exists \(use --overwrite\)"):
        save(smooth_image(), target)
    assert target.read_bytes() == b"precious"
    save(smooth_image(), target, overwrite=True)
    assert Image.open(target).format == "JPEG"
    assert names(tmp_path) == ["out.jpg"]


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(OutputError, match="output folder does not exist"):
        save(smooth_image(), tmp_path / "missing" / "out.png")


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_failing_encoder_leaves_no_file(tmp_path, monkeypatch, format_name):
    def crash(path, codes, quality, icc, exif):
        path.write_bytes(b"partial output")
        raise RuntimeError("encoder crashed")

    monkeypatch.setitem(encode.ENCODERS, format_name, crash)
    monkeypatch.setattr(encode, "check_encoder_available", lambda path, format: None)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        save(smooth_image(), tmp_path / f"out{FORMATS[format_name][0]}")
    assert names(tmp_path) == []


def test_bad_image_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="image must be float"):
        save(np.zeros((8, 8, 3), np.uint8), tmp_path / "out.png")
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bit_depth": 16}, r"jpeg cannot be written at 16 bits \(valid: 8\)"),
        ({"quality": 0}, "quality 0 is not an integer in 1..100"),
        ({"quality": 101}, "quality 101"),
        ({"quality": 90.5}, "quality 90.5"),
        ({"space": "adobe"}, r"unknown output space 'adobe' \(valid: srgb, p3, rec2020\)"),
        ({"format": "png"}, "extension is for jpeg, not for format 'png'"),
    ],
)
def test_bad_options_are_output_errors(tmp_path, options, message):
    with pytest.raises(OutputError, match=message):
        save(smooth_image(), tmp_path / "out.jpg", **options)
    assert names(tmp_path) == []


def test_exif_bytes_instead_of_metadata_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="exif must be a mapping"):
        save(smooth_image(), tmp_path / "out.jpg", exif=b"II*\0")
    assert names(tmp_path) == []


def test_matching_format_is_accepted(tmp_path):
    assert save(smooth_image(), tmp_path / "out.tiff", format="tiff", bit_depth=8) == tmp_path / "out.tiff"
    assert tifffile.imread(tmp_path / "out.tiff").dtype == np.uint8


@pytest.mark.parametrize("strips", [1, 3])
def test_jpeg_from_quantised_rows_equals_jpeg_from_codes(tmp_path, monkeypatch, strips):
    """Strips that quantise their own rows (RGBX, no copy in Pillow) write the same bytes as whole RGB codes."""
    monkeypatch.setattr(encode, "jpeg_strip_count", lambda height, width, subsampling: strips)
    image = np.random.default_rng(7).uniform(-0.05, 1.05, (70, 90, 3)).astype(np.float32)
    image[3, 4] = np.nan
    lazy, whole = tmp_path / "lazy.jpg", tmp_path / "whole.jpg"
    fields = encode.exif_fields({}, space="srgb")
    encode.write_jpeg(lazy, encode.QuantisedRows(image), 95, b"", fields)
    encode.write_jpeg(whole, encode.quantise(image, 8), 95, b"", fields)
    assert lazy.read_bytes() == whole.read_bytes()
    rgbx = encode.QuantisedRows(image)[10:20]
    assert rgbx.shape == (10, 90, 4) and np.all(rgbx[..., 3] == 255)
    np.testing.assert_array_equal(rgbx[..., :3], encode.quantise(image[10:20], 8))


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_tiff_from_quantised_rows_equals_tiff_from_codes(tmp_path, monkeypatch, bit_depth):
    """Bands quantised in the writer's threads make the same file, byte for byte, as whole code arrays."""
    monkeypatch.setattr(encode, "TIFF_BAND_ROWS", 16)
    monkeypatch.setattr(encode, "TIFF_ROWS_PER_STRIP", 8)  # 70 rows: 5 bands, 9 strips, the last short
    image = np.random.default_rng(10).uniform(-0.05, 1.05, (70, 90, 3)).astype(np.float32)
    fields = encode.exif_fields({"make": "Test"}, space="srgb")
    lazy, whole = tmp_path / "lazy.tif", tmp_path / "whole.tif"
    encode.write_tiff(lazy, encode.QuantisedRows(image, bit_depth, rgbx=False), 95, b"icc", fields)
    encode.write_tiff(whole, encode.quantise(image, bit_depth), 95, b"icc", fields)
    assert lazy.read_bytes() == whole.read_bytes()
    import tifffile

    np.testing.assert_array_equal(tifffile.imread(lazy), encode.quantise(image, bit_depth))
