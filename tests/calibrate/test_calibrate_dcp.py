"""DNG camera profiles: written, read back (by us and by a TIFF reader), and rendering as the tuning does."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.calibrate.colour import calibrate_colour, delta_e00, exposure_scale
from lumatune.calibrate.dcp import profile_from_calibration, read_dcp, render_xyz_d65, write_dcp
from lumatune.calibrate.huesat import fit_calibration_hue_sat_maps
from lumatune.colour.spaces import XYZ_to_Lab
from lumatune.errors import BadFileError, OutputError

MATRIX_TOLERANCE = 1e-5
"""SRATIONAL storage (1e-6 steps) of the matrices."""

RENDER_AGREEMENT = 0.02
"""Mean ΔE00 of the DCP rendering against the tuning's on the calibration charts."""


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
