"""DNG camera profiles: written, read back (by us, by exiftool and by a TIFF reader), and rendering as the
tuning does.

Third-party readers: exiftool (Phil Harvey's Image::ExifTool, which knows DCP files and the DNG profile tags;
``apt-get install libimage-exiftool-perl``) and tifffile, which opens "IIRC" files directly from 2025.8.28
(changelog: "Support DNG DCP files (#306)"). Tag names and meanings: Adobe DNG Specification 1.6.0.0,
chapter 4 and chapter 6 "Camera Profiles".
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from lumatune.calibrate.colour import calibrate_colour, exposure_scale
from lumatune.colour.difference import delta_e00
from lumatune.calibrate.dcp import profile_from_calibration, read_dcp, render_xyz_d65, write_dcp
from lumatune.calibrate.huesat import fit_calibration_hue_sat_maps
from lumatune.colour.spaces import XYZ_to_Lab
from lumatune.errors import BadFileError, OutputError

MATRIX_TOLERANCE = 1e-5
"""SRATIONAL storage (1e-6 steps) of the matrices."""

RENDER_AGREEMENT = 0.02
"""Mean ΔE00 of the DCP rendering against the tuning's on the calibration charts."""


SRATIONAL_ATOL = 0.5e-6 + 1e-12
"""The writer stores matrices as SRATIONAL with denominator 10^6 (half a step of rounding); exiftool prints
them with more digits than that."""

EXIFTOOL_FLOAT_RTOL = 1e-13
"""exiftool prints FLOAT values with 15 significant digits: a float32 comes back within 5e-15 relative."""

TIFFFILE_READS_DCP = (2025, 8, 28)
"""First tifffile version that opens "IIRC" (magic 0x4352) profile files itself."""

EXIFTOOL = shutil.which("exiftool")
requires_exiftool = pytest.mark.skipif(
    EXIFTOOL is None, reason="exiftool is not installed (apt-get install libimage-exiftool-perl)"
)

DCP_TAGS = (
    "FileType", "UniqueCameraModel", "ProfileName", "ProfileEmbedPolicy", "ProfileCopyright",
    "ColorMatrix1", "ColorMatrix2", "ForwardMatrix1", "ForwardMatrix2",
    "CalibrationIlluminant1", "CalibrationIlluminant2",
    "ProfileHueSatMapDims", "ProfileHueSatMapData1", "ProfileHueSatMapData2",
)


def _exiftool(path) -> dict:
    """exiftool's numeric (-n) dump of the DCP tags, binary-valued tags included (-b); -m (ignore minor errors)
    makes it decode arrays of more than 500 values (a 36x9 table holds 972 floats) instead of a placeholder."""
    command = [EXIFTOOL, "-j", "-n", "-b", "-m", *(f"-{tag}" for tag in DCP_TAGS), str(path)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    (tags,) = json.loads(output)
    return tags


def _numbers(value) -> np.ndarray:
    return np.array(str(value).split(), dtype=np.float64)


@pytest.fixture(scope="module")
def calibration(chart_raws):
    return calibrate_colour([chart_raws["D65"], chart_raws["A"]])


def test_profile_round_trip(calibration, tmp_path):
    maps, _ = fit_calibration_hue_sat_maps(calibration)
    profile = profile_from_calibration(calibration, hue_sat_maps=maps)
    path = write_dcp(tmp_path / "camera.dcp", profile)
    assert path.read_bytes()[:4] == b"IIRC"
    back = read_dcp(path)
    assert back.unique_camera_model == calibration.camera and back.illuminants == (17, 21)
    for written, read in zip(
        profile.color_matrices + profile.forward_matrices, back.color_matrices + back.forward_matrices
    ):
        np.testing.assert_allclose(read, written, atol=MATRIX_TOLERANCE)
    np.testing.assert_array_equal(back.hue_sat_maps[1].table, profile.hue_sat_maps[1].table)
    with pytest.raises(OutputError):
        write_dcp(path, profile)


def test_a_tiff_reader_sees_the_profile_tags(calibration, tmp_path):
    import tifffile

    path = write_dcp(tmp_path / "camera.dcp", profile_from_calibration(calibration))
    as_tiff = tmp_path / "camera.tif"
    as_tiff.write_bytes(b"II*\x00" + path.read_bytes()[4:])
    with tifffile.TiffFile(as_tiff) as tif:
        tags = tif.pages[0].tags
        assert tags[50708].value == calibration.camera
        assert tags[50778].value == 17 and tags[50779].value == 21
        assert len(tags[50721].value) == 18  # nine SRATIONALs as numerator, denominator pairs


def test_rendering_through_the_profile_matches_the_tuning(calibration, tmp_path):
    back = read_dcp(write_dcp(tmp_path / "camera.dcp", profile_from_calibration(calibration)))
    greys = np.arange(24) >= 18
    for fit in calibration.fits:
        shot = fit.shots[0]
        xyz = render_xyz_d65(back, shot.chart.rgb, shot.pipeline_neutral)
        scale = exposure_scale(xyz[greys, 1], shot.reference_xyz[greys, 1])
        de00 = delta_e00(XYZ_to_Lab(xyz * scale), XYZ_to_Lab(shot.reference_xyz))
        assert abs(de00.mean() - fit.de00_fitted.mean()) < RENDER_AGREEMENT


def test_a_file_that_is_not_a_profile_is_refused(tmp_path):
    path = tmp_path / "x.dcp"
    path.write_bytes(b"II*\x00\x08\x00\x00\x00")
    with pytest.raises(BadFileError, match="IIRC"):
        read_dcp(path)
    path.write_bytes(b"IIRC\x08\x00\x00\x00\x05\x00")
    with pytest.raises(BadFileError, match="truncated"):
        read_dcp(path)


@pytest.fixture(scope="module")
def profile_with_maps(calibration):
    maps, _ = fit_calibration_hue_sat_maps(calibration)
    return profile_from_calibration(calibration, name="lumatune exiftool check", hue_sat_maps=maps)


def _check_against_exiftool(tags: dict, profile) -> None:
    assert tags["FileType"] == "DCP"
    assert tags["UniqueCameraModel"] == profile.unique_camera_model
    assert tags["ProfileName"] == profile.name
    assert tags["ProfileEmbedPolicy"] == 0  # "allow copying", DNG 1.6 tag 50941
    assert (tags["CalibrationIlluminant1"], tags["CalibrationIlluminant2"]) == profile.illuminants
    for i in (1, 2):
        for name, written in (("ColorMatrix", profile.color_matrices), ("ForwardMatrix", profile.forward_matrices)):
            read = _numbers(tags[f"{name}{i}"]).reshape(3, 3)
            np.testing.assert_allclose(read, written[i - 1], rtol=0, atol=SRATIONAL_ATOL)
    if profile.hue_sat_maps:
        table = profile.hue_sat_maps[0].table  # (value, hue, saturation, 3)
        # ProfileHueSatMapDims is HueDivisions, SaturationDivisions, ValueDivisions (DNG 1.6, tag 50937).
        dims = tuple(_numbers(tags["ProfileHueSatMapDims"]).astype(int))
        assert dims == (table.shape[1], table.shape[2], table.shape[0])
        for i in (1, 2):
            expected = np.asarray(profile.hue_sat_maps[i - 1].table, dtype=np.float32).astype(np.float64)
            # Data order: value outermost, then hue, then saturation; (shift, sat scale, value scale) per entry.
            np.testing.assert_allclose(
                _numbers(tags[f"ProfileHueSatMapData{i}"]), expected.ravel(), rtol=EXIFTOOL_FLOAT_RTOL, atol=0
            )


@requires_exiftool
def test_exiftool_reads_every_profile_tag_we_write(profile_with_maps, tmp_path):
    path = write_dcp(tmp_path / "camera.dcp", profile_with_maps)
    _check_against_exiftool(_exiftool(path), profile_with_maps)


@requires_exiftool
def test_exiftool_reads_the_dcp_of_the_calibrate_command(chart_raws, calibration, tmp_path):
    """``lumatune calibrate colour ... --dcp`` (the command a tuning engineer runs), read by exiftool."""
    from typer.testing import CliRunner

    from lumatune.cli.calibrate import app

    dcp = tmp_path / "camera.dcp"
    result = CliRunner().invoke(
        app,
        ["colour", str(chart_raws["D65"]), str(chart_raws["A"]), "-o", str(tmp_path / "cam.toml"), "--dcp", str(dcp)],
    )
    assert result.exit_code == 0, result.output
    tags = _exiftool(dcp)
    _check_against_exiftool(tags, profile_from_calibration(calibration))
    assert "ProfileHueSatMapDims" not in tags  # no --hue-sat-map, no table


def test_tifffile_opens_the_dcp_itself(profile_with_maps, tmp_path):
    import tifffile

    version = tuple(int(part) for part in tifffile.__version__.split(".")[:3])
    if version < TIFFFILE_READS_DCP:
        pytest.skip(f"tifffile {tifffile.__version__} predates DCP support (2025.8.28)")
    path = write_dcp(tmp_path / "camera.dcp", profile_with_maps)
    with tifffile.TiffFile(path) as tif:
        tags = {tag.name: tag.value for tag in tif.pages[0].tags}
    assert tags["UniqueCameraModel"] == profile_with_maps.unique_camera_model
    assert tags["ProfileName"] == profile_with_maps.name
    assert (tags["CalibrationIlluminant1"], tags["CalibrationIlluminant2"]) == profile_with_maps.illuminants
    pairs = np.asarray(tags["ForwardMatrix2"], dtype=np.float64).reshape(9, 2)
    np.testing.assert_allclose(
        (pairs[:, 0] / pairs[:, 1]).reshape(3, 3), profile_with_maps.forward_matrices[1], rtol=0, atol=SRATIONAL_ATOL
    )
    table = profile_with_maps.hue_sat_maps[1].table
    np.testing.assert_array_equal(
        np.asarray(tags["ProfileHueSatMapData2"], dtype=np.float32), np.asarray(table, np.float32).ravel()
    )
