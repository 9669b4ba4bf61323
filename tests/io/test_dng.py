"""Tests of lumatune.io.dng: LibRaw (rawpy) and tifffile read back what the DNG writer writes."""

from __future__ import annotations

import datetime as dt
import struct

import numpy as np
import pytest
import rawpy
import tifffile

from synthetic import XTRANS

from lumatune.errors import OutputError, UnreadableInputError, UnsupportedError
from lumatune.io import dng
from lumatune.io.dng import BAYER_PATTERNS, cfa_pattern_array, write_dng
from lumatune.raw.opcodes import GainMap, Opcode, encode_opcode_list, gain_map_opcode, parse_opcode_list

RATIONAL_ATOL = 1e-6
"""Largest error allowed on a value written as a (S)RATIONAL (the spec asks for 1e-4 or better)."""

FLOAT32_RTOL = 1e-6
"""Relative tolerance on values LibRaw hands back as float32."""

NEUTRAL_GREY_RTOL = 0.01
"""Largest relative spread of R, G, B when LibRaw develops a neutral patch with the as-shot white."""

XTRANS_MIN_SIZE = 512
"""LibRaw's X-Trans demosaic refuses images smaller than its 512-pixel tile."""

COLOR_MATRIX_1 = np.array([[0.7, -0.2, -0.05], [-0.4, 1.2, 0.2], [-0.1, 0.2, 0.6]])
COLOR_MATRIX_2 = np.array([[0.9, -0.3, 0.01], [-0.35, 1.1, 0.25], [-0.05, 0.15, 0.45]])
FORWARD_MATRIX = np.array([[0.6, 0.25, 0.1142], [0.2, 0.85, -0.05], [0.01, -0.2, 1.0142]])
D65_XYZ = np.array([0.95047, 1.0, 1.08883])
WHITE_LEVEL = 4095


def _neutral(color_matrix: np.ndarray) -> np.ndarray:
    """Camera neutral of D65 under ``color_matrix``, largest channel 1 (DNG convention)."""
    neutral = color_matrix @ D65_XYZ
    return neutral / neutral.max()


def _random_mosaic(shape=(48, 64), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(64, WHITE_LEVEL, shape).astype(np.uint16)


def _flat_mosaic(pattern: np.ndarray, levels: np.ndarray, black: int, shape=(48, 64)) -> np.ndarray:
    """A mosaic whose every site holds ``levels[channel] + black``."""
    rows, cols = pattern.shape
    tiled = np.tile(pattern, (shape[0] // rows, shape[1] // cols))
    return (np.asarray(levels)[tiled] + black).round().astype(np.uint16)


def _rational_values(value) -> np.ndarray:
    """tifffile's flat (num, den, ...) tuple as floats."""
    pairs = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    return pairs[:, 0] / pairs[:, 1]


def _tags(path) -> dict:
    with tifffile.TiffFile(path) as tiff:
        return {tag.name: tag.value for tag in tiff.pages[0].tags}


@pytest.mark.parametrize("name", sorted(BAYER_PATTERNS))
def test_rawpy_reads_every_bayer_pattern(tmp_path, name):
    pattern = BAYER_PATTERNS[name]
    black = [60, 62, 64, 66]
    neutral = _neutral(COLOR_MATRIX_1)
    mosaic = _random_mosaic()
    path = write_dng(
        tmp_path / "a.dng",
        mosaic,
        cfa_pattern=name,
        black_level=black,
        white_level=WHITE_LEVEL,
        color_matrix_1=COLOR_MATRIX_1,
        as_shot_neutral=neutral,
    )
    with rawpy.imread(str(path)) as raw:
        np.testing.assert_array_equal(raw.raw_image, mosaic)
        libraw_pattern = np.where(raw.raw_pattern == 3, 1, raw.raw_pattern)
        np.testing.assert_array_equal(libraw_pattern, pattern)
        assert raw.color_desc == b"RGBG"
        black_per_site = np.asarray(raw.black_level_per_channel)[raw.raw_pattern]
        np.testing.assert_array_equal(black_per_site.ravel(), black)
        assert raw.white_level == WHITE_LEVEL
        whitebalance = np.asarray(raw.camera_whitebalance[:3])
        np.testing.assert_allclose(whitebalance / whitebalance[1], neutral[1] / neutral, rtol=FLOAT32_RTOL)
        assert raw.postprocess().shape == (*mosaic.shape, 3)


def test_libraw_develops_a_neutral_patch_to_grey(tmp_path):
    pattern = cfa_pattern_array("RGGB")
    neutral = _neutral(COLOR_MATRIX_1)
    black = 64
    mosaic = _flat_mosaic(pattern, 0.3 * neutral * (WHITE_LEVEL - black), black)
    path = write_dng(
        tmp_path / "grey.dng",
        mosaic,
        black_level=black,
        white_level=WHITE_LEVEL,
        color_matrix_1=COLOR_MATRIX_1,
        as_shot_neutral=neutral,
    )
    with rawpy.imread(str(path)) as raw:
        rgb = raw.postprocess(use_camera_wb=True, gamma=(1, 1), no_auto_bright=True, output_bps=16)
    mean = rgb[8:-8, 8:-8].reshape(-1, 3).mean(axis=0)
    assert np.ptp(mean) / mean.mean() < NEUTRAL_GREY_RTOL


def test_xtrans_pattern_round_trips_through_libraw(tmp_path):
    size = XTRANS_MIN_SIZE + 6
    mosaic = _random_mosaic((size, size))
    path = write_dng(
        tmp_path / "x.dng",
        mosaic,
        cfa_pattern=XTRANS,
        black_level=[60, 61, 62],
        white_level=WHITE_LEVEL,
        color_matrix_1=COLOR_MATRIX_1,
        as_shot_neutral=_neutral(COLOR_MATRIX_1),
    )
    with rawpy.imread(str(path)) as raw:
        np.testing.assert_array_equal(raw.raw_image, mosaic)
        np.testing.assert_array_equal(raw.raw_pattern, XTRANS)
        assert raw.postprocess(half_size=True).shape == (size // 2, size // 2, 3)
    tags = _tags(path)
    assert tags["BlackLevelRepeatDim"] == (6, 6)
    np.testing.assert_array_equal(tags["BlackLevel"], np.array([60, 61, 62])[XTRANS].ravel())


def test_tifffile_reads_back_every_tag(tmp_path):
    mosaic = _random_mosaic()
    noise_profile = [[2.5e-5, 1.25e-7], [2.0e-5, 1.0e-7], [3.0e-5, 1.5e-7]]
    linearization = np.arange(0, 4096, 16, dtype=np.uint16)
    opcodes = encode_opcode_list([gain_map_opcode(np.full((3, 4), 1.5, np.float32), (64, 48))])
    path = write_dng(
        tmp_path / "all.dng",
        mosaic,
        cfa_pattern="GBRG",
        black_level=64,
        white_level=WHITE_LEVEL,
        color_matrix_1=COLOR_MATRIX_1,
        calibration_illuminant_1=17,
        color_matrix_2=COLOR_MATRIX_2,
        calibration_illuminant_2=21,
        forward_matrix_1=FORWARD_MATRIX,
        forward_matrix_2=FORWARD_MATRIX.T,
        camera_calibration_1=np.eye(3) * 1.01,
        camera_calibration_2=np.eye(3) * 0.99,
        analog_balance=[1.0, 1.0, 1.0],
        as_shot_neutral=[0.4123456, 1.0, 0.7654321],
        baseline_exposure=-0.35,
        noise_profile=noise_profile,
        linearization_table=linearization,
        default_crop=(2, 4, 60, 40),
        opcode_list_2=opcodes,
        make="Acme",
        model="Sim 1",
        unique_camera_model="Acme Sim 1 (test)",
        orientation=6,
    )
    tags = _tags(path)
    assert tags["DNGVersion"] == bytes([1, 4, 0, 0])
    assert tags["DNGBackwardVersion"] == bytes([1, 3, 0, 0])
    assert (tags["Make"], tags["Model"], tags["UniqueCameraModel"]) == ("Acme", "Sim 1", "Acme Sim 1 (test)")
    assert tags["Software"] == "lumatune"
    assert tags["Orientation"] == 6
    assert tags["PhotometricInterpretation"] == 32803
    assert tags["CFARepeatPatternDim"] == (2, 2)
    assert tags["CFAPattern"] == bytes(BAYER_PATTERNS["GBRG"].ravel().tolist())
    assert tags["CFAPlaneColor"] == b"\x00\x01\x02"
    assert tags["CFALayout"] == 1
    assert tags["BlackLevelRepeatDim"] == (1, 1)
    assert tags["BlackLevel"] == 64
    assert tags["WhiteLevel"] == WHITE_LEVEL
    assert (tags["CalibrationIlluminant1"], tags["CalibrationIlluminant2"]) == (17, 21)
    matrices = {
        "ColorMatrix1": COLOR_MATRIX_1,
        "ColorMatrix2": COLOR_MATRIX_2,
        "ForwardMatrix1": FORWARD_MATRIX,
        "ForwardMatrix2": FORWARD_MATRIX.T,
        "CameraCalibration1": np.eye(3) * 1.01,
        "CameraCalibration2": np.eye(3) * 0.99,
    }
    for name, matrix in matrices.items():
        np.testing.assert_allclose(_rational_values(tags[name]), matrix.ravel(), atol=RATIONAL_ATOL, rtol=0)
    np.testing.assert_allclose(_rational_values(tags["AnalogBalance"]), 1.0, atol=RATIONAL_ATOL, rtol=0)
    np.testing.assert_allclose(
        _rational_values(tags["AsShotNeutral"]), [0.4123456, 1.0, 0.7654321], atol=RATIONAL_ATOL, rtol=0
    )
    np.testing.assert_allclose(_rational_values(tags["BaselineExposure"]), -0.35, atol=RATIONAL_ATOL, rtol=0)
    np.testing.assert_array_equal(tags["NoiseProfile"], np.ravel(noise_profile))
    np.testing.assert_array_equal(tags["LinearizationTable"], linearization)
    assert (tags["DefaultCropOrigin"], tags["DefaultCropSize"]) == ((2, 4), (60, 40))
    assert tags["OpcodeList2"] == opcodes


def test_capture_settings_reach_rawpy_and_tifffile(tmp_path):
    taken = dt.datetime(2024, 5, 6, 7, 8, 9)
    path = write_dng(
        tmp_path / "exif.dng",
        _random_mosaic(),
        color_matrix_1=COLOR_MATRIX_1,
        exposure_time=1 / 125,
        f_number=5.6,
        iso=400,
        focal_length=35.0,
        datetime_original=taken,
        lens_model="Sim 35mm f/2",
    )
    with rawpy.imread(str(path)) as raw:
        other = raw.other
        assert other.iso_speed == 400
        np.testing.assert_allclose(other.shutter_speed, 1 / 125, rtol=FLOAT32_RTOL)
        np.testing.assert_allclose(other.aperture, 5.6, rtol=FLOAT32_RTOL)
        np.testing.assert_allclose(other.focal_length, 35.0, rtol=FLOAT32_RTOL)
        assert other.timestamp == taken
        assert raw.lens.model == "Sim 35mm f/2"
    exif = _tags(path)["ExifTag"]
    assert exif["ISOSpeedRatings"] == 400
    assert exif["DateTimeOriginal"] == "2024:05:06 07:08:09"
    assert exif["LensModel"] == "Sim 35mm f/2"
    np.testing.assert_allclose(_rational_values(exif["ExposureTime"]), 1 / 125, atol=RATIONAL_ATOL, rtol=0)
    np.testing.assert_allclose(_rational_values(exif["FNumber"]), 5.6, atol=RATIONAL_ATOL, rtol=0)
    np.testing.assert_allclose(_rational_values(exif["FocalLength"]), 35.0, atol=RATIONAL_ATOL, rtol=0)


def test_no_exif_ifd_without_capture_settings(tmp_path):
    path = write_dng(tmp_path / "bare.dng", _random_mosaic(), color_matrix_1=COLOR_MATRIX_1)
    assert "ExifTag" not in _tags(path)


def test_gain_map_opcodes_round_trip():
    gains = np.random.default_rng(3).uniform(1.0, 2.5, (5, 7, 1)).astype(np.float32)
    opcodes = [
        gain_map_opcode(gains * k, (640, 480), top=top, left=left, row_pitch=2, col_pitch=2, flags=1)
        for k, (top, left) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)], start=1)
    ]
    other = struct.pack(">I4BII", 7, 1, 3, 0, 0, 0, 3) + b"abc"  # an opcode the parser keeps as bytes
    entries = parse_opcode_list(encode_opcode_list([*opcodes, other]))
    assert len(entries) == 5
    for k, (entry, (top, left)) in enumerate(zip(entries, [(0, 0), (0, 1), (1, 0), (1, 1)]), start=1):
        assert isinstance(entry, GainMap)
        assert (entry.top, entry.left, entry.bottom, entry.right) == (top, left, 480, 640)
        assert (entry.plane, entry.planes, entry.row_pitch, entry.col_pitch) == (0, 1, 2, 2)
        assert entry.map_spacing == (1 / 4, 1 / 6)
        assert entry.map_origin == (0.0, 0.0)
        assert entry.flags == 1
        np.testing.assert_array_equal(entry.gains, gains * k)
    assert entries[4] == Opcode(7, (1, 3, 0, 0), 0, b"abc")


def test_truncated_opcode_list_is_refused():
    data = encode_opcode_list([gain_map_opcode(np.ones((2, 2), np.float32), (8, 8))])
    with pytest.raises(UnreadableInputError, match="cut short inside opcode 1 of 1"):
        parse_opcode_list(data[:-3])


def test_existing_file_is_kept_without_overwrite(tmp_path):
    path = tmp_path / "a.dng"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="exists"):
        write_dng(path, _random_mosaic(), color_matrix_1=COLOR_MATRIX_1)
    assert path.read_bytes() == b"keep me"
    write_dng(path, _random_mosaic(), color_matrix_1=COLOR_MATRIX_1, overwrite=True)
    with rawpy.imread(str(path)) as raw:
        np.testing.assert_array_equal(raw.raw_image, _random_mosaic())


def test_nothing_left_behind_on_failure(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dng, "_append_exif_ifd", fail)
    with pytest.raises(OutputError, match="No space left"):
        write_dng(tmp_path / "a.dng", _random_mosaic(), color_matrix_1=COLOR_MATRIX_1, iso=100)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_dng(tmp_path / "no" / "a.dng", _random_mosaic(), color_matrix_1=COLOR_MATRIX_1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mosaic": np.zeros((8, 8), np.float32)}, "uint16"),
        ({"cfa_pattern": "RGBW"}, "RGGB"),
        ({"color_matrix_1": np.eye(2)}, "ColorMatrix1"),
        ({"default_crop": (0, 0, 100, 100)}, "DefaultCrop"),
        ({"make": "Café"}, "ASCII"),
        ({"color_matrix_2": np.eye(3)}, "CalibrationIlluminant2"),
    ],
)
def test_bad_values_are_refused_before_writing(tmp_path, kwargs, message):
    arguments = {"mosaic": _random_mosaic(), "color_matrix_1": COLOR_MATRIX_1} | kwargs
    with pytest.raises(UnsupportedError, match=message):
        write_dng(tmp_path / "a.dng", **arguments)
    assert list(tmp_path.iterdir()) == []
