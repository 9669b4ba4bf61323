"""The virtual lens: written into the DNG as OpcodeList3 (read back here with tifffile and unpacked by hand from the
DNG 1.6 layouts), its truth in the undistorted geometry, and ``develop`` undoing it (whole image and in bands)."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
import tifffile

from lumatune.api import develop
from lumatune.lab.lens import grid_residual, linear_from_srgb
from lumatune.sim.camera import simulate, write_sim
from lumatune.sim.lens import VirtualLens
from lumatune.sim.optics import Optics

SIZE = (480, 320)
LENS = VirtualLens(distortion=-0.05, lateral_ca_px=1.5, vignetting_ev=-1.2)

GRID_RMS_PX = 0.3
"""The issue's bound after ``develop`` (measured at this size: 0.07 px; uncorrected: 1.1 px)."""


@pytest.fixture(scope="module")
def barrel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lens")
    result = simulate("checkerboard", size=SIZE, lens=LENS, optics=Optics(shading=False))
    dng, truth = write_sim(folder / "barrel.dng", result)
    return dng, result.truth


def _opcode_list_3(dng) -> bytes:
    with tifffile.TiffFile(dng) as tif:
        return bytes(tif.pages[0].tags[51022].value)


def test_the_lens_is_written_as_opcode_list_3(barrel):
    data = _opcode_list_3(barrel[0])
    (count,) = struct.unpack_from(">I", data, 0)
    assert count == 2
    vignette_id, *_version, _flags, size = struct.unpack_from(">I4BII", data, 4)
    k = struct.unpack_from(">7d", data, 20)
    assert (vignette_id, size) == (3, 56)
    assert 1 + k[0] + k[1] + k[2] + k[3] + k[4] == pytest.approx(2**1.2)  # the gain at the corner (r = 1)
    offset = 20 + size
    warp_id, *_version, _flags, size = struct.unpack_from(">I4BII", data, offset)
    planes = struct.unpack_from(">I", data, offset + 16)[0]
    coefficients = np.array(struct.unpack_from(">18d", data, offset + 20)).reshape(3, 6)
    assert (warp_id, planes) == (1, 3)
    at_corner = coefficients[:, :4].sum(axis=1)  # f(1) = kr0 + kr1 + kr2 + kr3
    assert at_corner[1] == pytest.approx(1 + LENS.distortion)
    half_diagonal = math.hypot(*SIZE) / 2
    assert (at_corner[0] - at_corner[2]) / at_corner[1] * half_diagonal == pytest.approx(2 * LENS.lateral_ca_px)


def test_the_truth_keeps_the_undistorted_grid(barrel):
    grid = barrel[1]["lens"]["grid"]
    corners = np.array(grid["corners"])
    assert len(corners) == grid["pattern"][0] * grid["pattern"][1]
    steps = np.diff(corners[: grid["pattern"][0], 0])
    np.testing.assert_allclose(steps, steps[0])  # evenly spaced: no distortion in the truth


def test_develop_undoes_the_virtual_lens_whole_and_in_bands(barrel):
    dng, truth = barrel
    corners, pattern = np.array(truth["lens"]["grid"]["corners"]), tuple(truth["lens"]["grid"]["pattern"])
    whole = develop(dng, "neutral")
    rows = develop(dng, "neutral", in_bands=True)
    assert rows.margin > 0  # the lens stage's band margin: the warp reads rows beyond each band
    banded = np.concatenate([rows[start : start + 64] for start in range(0, len(rows), 64)])
    np.testing.assert_array_equal(banded, whole)
    assert grid_residual(linear_from_srgb(whole), corners, pattern)["rms_px"] <= GRID_RMS_PX


def test_sim_command_writes_the_lens_and_refuses_an_absurd_one(tmp_path, capsys):
    from lumatune.cli import main as cli_main

    out = tmp_path / "pin.dng"
    with pytest.raises(SystemExit) as done:
        cli_main(["sim", "checkerboard", "--size", "96x64", "--distortion", "3", "--lateral-ca", "1.5",
                  "--vignetting", "-1.2", "-o", str(out)])
    assert done.value.code in (0, None)
    assert _opcode_list_3(out)[:4] == struct.pack(">I", 2)
    with pytest.raises(SystemExit) as done:
        cli_main(["sim", "checkerboard", "--size", "96x64", "--distortion", "50", "-o", str(tmp_path / "x.dng")])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "distortion must be within" in err and len(err.strip().splitlines()) == 1


LATERAL_CA_PX = 0.15
"""The issue's bound after ``develop``, on the benchmark's capture (benchmarks/lens.py: 1536 x 1024, default PSF):
measured 0.136 px (red) and 0.120 px (blue) for this lens, so a margin of 0.014 px; without lens_ca's correction
1.2 px, with red and blue resampled alone on the mosaic 0.21 px."""


def test_develop_leaves_lateral_ca_within_the_issues_bound(tmp_path):
    from lumatune.lab.lens import lateral_ca

    result = simulate("checkerboard", size=(1536, 1024), lens=LENS, optics=Optics(shading=False))
    dng, _ = write_sim(tmp_path / "barrel.dng", result, with_truth_image=False)
    pattern = tuple(result.truth["lens"]["grid"]["pattern"])
    ca = lateral_ca(linear_from_srgb(develop(dng, "neutral")), pattern)
    assert max(ca["red_px"], ca["blue_px"]) <= LATERAL_CA_PX
