"""``lumatune calibrate lens`` on a virtual-camera checkerboard: the distortion the simulator put in (its truth),
a lensfun entry that lensfunpy reads back to the same distortion, and a tuning that undoes the lens."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lumatune.api import develop
from lumatune.cli import main as cli_main
from lumatune.lab.lens import grid_residual, linear_from_srgb

lensfunpy = pytest.importorskip("lensfunpy")

SIZE = "768x512"
DISTORTION_TOLERANCE = 0.003
"""Distortion at the corner against the simulator's (measured: -5.04 % for -5 %)."""
LENSFUN_AGREEMENT_PX = 0.05
"""lensfun's own evaluation of the written poly5 entry against the calibrated WarpRectilinear terms, at the frame's
corner (only the r^6 term is dropped, 0 here) (measured: 0.01 px; 0.06 px had we normalised by half the
shorter side rather than lensfun's half distance between its outer pixel centres)."""
GRID_RMS_PX = 0.3
"""Grid residual after developing with the calibrated lens block (measured: 0.06 px)."""


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lens-cal")
    shot = folder / "board.dng"
    with pytest.raises(SystemExit) as done:
        cli_main(["sim", "checkerboard", "--size", SIZE, "--distortion", "-5", "--lateral-ca", "1.5", "-o", str(shot)])
    assert done.value.code in (0, None)
    tuning = folder / "lens.toml"
    with pytest.raises(SystemExit) as done:
        cli_main(["calibrate", "lens", str(shot), "-o", str(tuning), "--pattern", "11x7"])
    assert done.value.code in (0, None)
    return shot, tuning, json.loads(shot.with_suffix(".json").read_text())


def _radial(tuning) -> np.ndarray:
    import tomllib

    return np.array(tomllib.loads(tuning.read_text())["lens"]["radial"])


def test_the_calibrated_distortion_is_the_simulated_one(calibrated):
    _, tuning, truth = calibrated
    assert abs(_radial(tuning).sum() - 1.0 - truth["lens"]["distortion"]) <= DISTORTION_TOLERANCE


def test_lensfun_reads_the_entry_back_to_the_same_distortion(calibrated):
    shot, tuning, _ = calibrated
    db = lensfunpy.Database(xml=tuning.with_suffix(".xml").read_text(), load_common=False, load_bundled=False)
    camera = db.cameras[0]
    lens = db.lenses[0]
    width, height = (int(v) for v in SIZE.split("x"))
    modifier = lensfunpy.Modifier(lens, camera.crop_factor, width, height)
    modifier.initialize(lens.min_focal, 8.0, 1000.0, scale=1.0, pixel_format=np.float32,
                        flags=lensfunpy.ModifyFlags.DISTORTION)
    source = modifier.apply_geometry_distortion()[0, 0]  # where the corrected top-left pixel reads the sensor
    half_diagonal = np.hypot(width, height) / 2
    d = (np.array([0.5, 0.5]) - [width / 2, height / 2]) / half_diagonal
    r2 = float(d @ d)
    kr = _radial(tuning)
    ours = np.array([width / 2, height / 2]) + half_diagonal * d * (kr[0] + kr[1] * r2 + kr[2] * r2**2 + kr[3] * r2**3)
    np.testing.assert_allclose(source + 0.5, ours, atol=LENSFUN_AGREEMENT_PX)


def test_the_calibrated_block_undoes_the_lens(calibrated, tmp_path):
    shot, tuning, truth = calibrated
    only_block = tmp_path / "block.toml"  # the raw's own opcodes and lens_ca off: the calibrated terms alone
    only_block.write_text(tuning.read_text().replace("dng_opcodes = true", "dng_opcodes = false")
                          + "\n[lens_ca]\nenabled = false\n")
    corners, pattern = np.array(truth["lens"]["grid"]["corners"]), tuple(truth["lens"]["grid"]["pattern"])
    image = linear_from_srgb(develop(shot, "neutral", only_block))
    assert grid_residual(image, corners, pattern)["rms_px"] <= GRID_RMS_PX
