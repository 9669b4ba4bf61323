"""Strip-parallel JPEG: the splice must equal Pillow's single encode with a restart marker per MCU row."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from lumatune.errors import OutputError
from lumatune.io import jpeg_strips
from lumatune.io.exif import exif_fields, pack_exif
from lumatune.io.icc import icc_profile
from lumatune.io.jpeg_strips import (
    MCU_HEIGHTS,
    parse_strip,
    renumber_restarts,
    strip_bounds,
    write_jpeg_strips,
)

WIDTH = 53
"""Not a multiple of the MCU width, so every MCU row ends in a padded block."""
HEIGHTS_IN_MCU_ROWS = {"whole": 6, "partial": 5.5, "tall": 28.5}
"""Image heights in MCU rows: a multiple of the MCU height, a short last MCU row, and so many rows
that every strip (up to 3) holds more than 8 MCU rows, so restart numbers wrap round within it."""
QUALITY = 92
EXIF_APP1 = b"Exif\0\0" + pack_exif(exif_fields({"make": "FUJIFILM", "model": "X-T5"}, space="p3"))
RESTART_MARKERS = [bytes((0xFF, 0xD0 + n)) for n in range(8)]


def photo_codes(height, width=WIDTH):
    """uint8 RGB: smooth gradients with mild noise, which JPEG codes with many non-zero coefficients."""
    y, x = np.mgrid[0:height, 0:width] / 64.0
    smooth = np.stack([x, y, 0.5 + 0.4 * np.sin(5 * x + 3 * y)], axis=-1) * 200
    noise = np.random.default_rng(height).normal(0, 6, smooth.shape)
    return np.clip(np.rint(smooth + noise), 0, 255).astype(np.uint8)


def single_pass(codes, subsampling, **extra):
    buffer = io.BytesIO()
    Image.fromarray(codes).save(
        buffer, format="JPEG", quality=QUALITY, subsampling=subsampling, restart_marker_rows=1, **extra
    )
    return buffer.getvalue()


def restart_numbers(data):
    """Numbers of the restart markers in a JPEG's entropy-coded data, in order."""
    scan = data[parse_strip(data, "test").scan_start : -2]
    return [scan[i + 1] - 0xD0 for i in range(len(scan) - 1) if scan[i] == 0xFF and 0xD0 <= scan[i + 1] <= 0xD7]


def height_of(kind, subsampling):
    return int(HEIGHTS_IN_MCU_ROWS[kind] * MCU_HEIGHTS[subsampling])


@pytest.mark.parametrize("subsampling", [0, 2], ids=["444", "420"])
@pytest.mark.parametrize("kind", sorted(HEIGHTS_IN_MCU_ROWS))
@pytest.mark.parametrize("strips", [1, 2, 3])
def test_splice_is_byte_identical_to_a_single_encode(tmp_path, subsampling, kind, strips):
    codes = photo_codes(height_of(kind, subsampling))
    path = tmp_path / "out.jpg"
    write_jpeg_strips(path, codes, strips, quality=QUALITY, subsampling=subsampling)
    data = path.read_bytes()
    assert data == single_pass(codes, subsampling)
    mcu_rows = -(-codes.shape[0] // MCU_HEIGHTS[subsampling])
    assert restart_numbers(data) == [n % 8 for n in range(mcu_rows - 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg"]


@pytest.mark.parametrize("subsampling", [0, 2], ids=["444", "420"])
def test_splice_decodes_like_a_single_encode(tmp_path, subsampling):
    codes = photo_codes(height_of("tall", subsampling))
    path = tmp_path / "out.jpg"
    write_jpeg_strips(path, codes, 3, quality=QUALITY, subsampling=subsampling)
    reference = single_pass(codes, subsampling)
    pillow = np.asarray(Image.open(path).convert("RGB"))
    assert pillow.shape == codes.shape
    np.testing.assert_array_equal(pillow, np.asarray(Image.open(io.BytesIO(reference)).convert("RGB")))
    # a second decoder, OpenCV's own libjpeg build
    opencv = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(opencv, cv2.imdecode(np.frombuffer(reference, np.uint8), cv2.IMREAD_COLOR))


def test_profile_and_exif_survive_the_splice(tmp_path):
    codes = photo_codes(height_of("tall", 0))
    path = tmp_path / "out.jpg"
    icc = icc_profile("p3")
    write_jpeg_strips(path, codes, 3, quality=QUALITY, subsampling=0, icc_profile=icc, exif=EXIF_APP1)
    assert path.read_bytes() == single_pass(codes, 0, icc_profile=icc, exif=EXIF_APP1)
    image = Image.open(path)
    assert image.info["icc_profile"] == icc
    exif = image.getexif()
    assert exif[ExifTags.Base.Make] == "FUJIFILM"
    assert exif[ExifTags.Base.Model] == "X-T5"
    assert image.size == (WIDTH, codes.shape[0])


@pytest.mark.parametrize(
    ("height", "mcu_height", "strips"),
    [(8, 8, 1), (45, 8, 2), (45, 8, 3), (100, 16, 4), (100, 16, 7), (4000, 8, 3), (4000, 16, 4)],
)
def test_strip_bounds_cut_on_mcu_rows(height, mcu_height, strips):
    bounds = strip_bounds(height, mcu_height, strips)
    assert len(bounds) == strips + 1
    assert bounds[0] == 0
    assert bounds[-1] == height
    assert np.all(np.diff(bounds) > 0)
    assert all(row % mcu_height == 0 for row in bounds[:-1])
    heights = np.diff(bounds[:-1])
    assert heights.size == 0 or heights.max() - heights.min() <= mcu_height


def test_more_strips_than_mcu_rows_is_refused():
    with pytest.raises(ValueError, match="cannot cut 20 rows"):
        strip_bounds(20, 8, 4)


def test_taller_than_jpeg_allows_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="65501 rows is more than JPEG's 65500"):
        write_jpeg_strips(tmp_path / "out.jpg", np.zeros((65501, 1, 3), np.uint8), 2, quality=90, subsampling=0)
    assert list(tmp_path.iterdir()) == []


def test_failing_strip_leaves_no_file(tmp_path, monkeypatch):
    def broken(data, name):
        raise OutputError(f"{name}: broken")

    monkeypatch.setattr(jpeg_strips, "parse_strip", broken)
    with pytest.raises(OutputError, match="broken"):
        write_jpeg_strips(tmp_path / "out.jpg", photo_codes(64), 2, quality=QUALITY, subsampling=0)
    assert list(tmp_path.iterdir()) == []


def test_progressive_jpeg_is_not_spliced():
    buffer = io.BytesIO()
    Image.fromarray(photo_codes(16)).save(buffer, format="JPEG", progressive=True)
    with pytest.raises(OutputError, match=r"not baseline \(SOF 0xFFC2\)"):
        parse_strip(buffer.getvalue(), "p.jpg")


def test_segment_lengths_are_followed_not_searched():
    """An APP segment whose payload looks like SOF0 and SOS must not be taken for them."""
    data = single_pass(photo_codes(16), 0)
    decoy = bytes((0xFF, 0xC0, 0, 17, 8, 0x12, 0x34)) + bytes(12) + bytes((0xFF, 0xDA, 0, 2))
    app15 = bytes((0xFF, 0xEF)) + struct.pack(">H", 2 + len(decoy)) + decoy
    with_decoy = data[:2] + app15 + data[2:]
    layout = parse_strip(with_decoy, "decoy.jpg")
    reference = parse_strip(data, "plain.jpg")
    assert layout.lines_offset == reference.lines_offset + len(app15)
    assert layout.scan_start == reference.scan_start + len(app15)
    assert struct.unpack_from(">H", with_decoy, layout.lines_offset)[0] == 16


def test_strip_without_restart_interval_is_not_spliced():
    buffer = io.BytesIO()
    Image.fromarray(photo_codes(16)).save(buffer, format="JPEG")
    with pytest.raises(OutputError, match=r"no restart interval \(DRI\)"):
        parse_strip(buffer.getvalue(), "p.jpg")


def test_missing_restart_markers_are_an_output_error():
    entropy = np.frombuffer(b"\x12\xff\x00\x34\xff\xd3\x56", np.uint8).copy()
    with pytest.raises(OutputError, match="holds 1 restart markers, expected 2"):
        renumber_restarts(entropy, 0, 2, "s.jpg")


def test_renumbering_shifts_modulo_eight_and_skips_stuffed_bytes():
    entropy = np.frombuffer(b"\xff\x00\xff\xd0\xd0\xff\xd7\xff\x00", np.uint8).copy()
    renumber_restarts(entropy, 1003, 2, "s.jpg")  # 1003 = 3 (mod 8)
    assert entropy.tobytes() == b"\xff\x00" + RESTART_MARKERS[3] + b"\xd0" + RESTART_MARKERS[2] + b"\xff\x00"
