"""``lumatune sim burst``: frames with the motion the truth records (measured by OpenCV's phase correlation),
independent noise, a moving object where the masks say, and bracketed exposures in the EXIF."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import rawpy
import tifffile

from lumatune.cli import main as cli_main
from lumatune.sim.burst import OBJECT_CAMERA_RGB

SHIFT_TOLERANCE_PX = 0.3
"""OpenCV's phase correlation of the green quads must find the truth's shift this closely, raw pixels (measured
0.17; its sub-pixel peak fit is itself biased by about 0.1 binned pixel)."""


def _green(path) -> np.ndarray:
    with rawpy.imread(str(path)) as raw:
        data = raw.raw_image_visible.astype(np.float64)
        colours = raw.raw_colors_visible
    greens = np.where(colours % 2 == 1, data, 0.0)  # LibRaw: 1 and 3 are the greens
    quads = greens[0::2, 0::2] + greens[0::2, 1::2] + greens[1::2, 0::2] + greens[1::2, 1::2]
    return quads / 2  # two greens per quad


@pytest.fixture(scope="module")
def burst(tmp_path_factory):
    folder = tmp_path_factory.mktemp("burst")
    argv = ["sim", "burst", "-o", str(folder), "--frames", "3", "--size", "256x192", "--iso", "800",
            "--motion", "5", "--rotation", "0", "--seed", "4"]
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    assert exit_.value.code in (0, None)
    return folder


def test_truth_lists_frames_and_arrays(burst):
    truth = json.loads((burst / "truth.json").read_text())
    assert truth["kind"] == "lumatune-sim-burst-truth" and len(truth["frames"]) == 3
    assert truth["reference"] == "frame_00.dng" and truth["frames"][0]["shift_px"] == [0.0, 0.0]
    with np.load(burst / truth["arrays"]) as arrays:
        assert arrays["reference"].shape == (192, 256)
        assert arrays["static_mask"].any() and not arrays["moving_mask"].any()  # no --moving here
        assert not (arrays["moving_mask"] & arrays["static_mask"]).any()


def test_frames_move_as_the_truth_says(burst):
    truth = json.loads((burst / "truth.json").read_text())
    reference = _green(burst / "frame_00.dng")
    window = cv2.createHanningWindow(reference.shape[::-1], cv2.CV_64F)
    for k in (1, 2):
        frame = _green(burst / f"frame_{k:02d}.dng")
        (dx, dy), _ = cv2.phaseCorrelate(reference, frame, window)
        # a camera moved by (dy, dx) sees the scene's content move the other way
        expected_dy, expected_dx = truth["frames"][k]["shift_px"]
        assert 2 * dy == pytest.approx(-expected_dy, abs=SHIFT_TOLERANCE_PX)
        assert 2 * dx == pytest.approx(-expected_dx, abs=SHIFT_TOLERANCE_PX)


def test_noise_is_unbiased_and_independent(burst):
    with np.load(burst / "truth.npz") as arrays:
        clean, static = arrays["reference"], arrays["static_mask"]
    residuals = []
    for k in (0, 1):
        with rawpy.imread(str(burst / f"frame_{k:02d}.dng")) as raw:
            black, white = raw.black_level_per_channel[0], raw.white_level
            values = (raw.raw_image_visible.astype(np.float64) - black) / (white - black)
        residuals.append(values - clean if k == 0 else values)
    residual = residuals[0][static]
    assert abs(np.mean(residual)) < 4 * np.std(residual) / np.sqrt(residual.size)  # the truth is the mean
    # a second frame's noise does not repeat the reference's (its scene moved, so compare high-pass noise)
    high = [r - cv2.GaussianBlur(r, (0, 0), 2) for r in residuals]
    assert abs(np.corrcoef(high[0][static], high[1][static])[0, 1]) < 0.2


def test_bracket_and_moving_object(tmp_path):
    argv = ["sim", "burst", "-o", str(tmp_path), "--bracket", "0,-2,2", "--size", "160x120", "--moving"]
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    assert exit_.value.code in (0, None)
    times = []
    for k in range(3):
        with tifffile.TiffFile(tmp_path / f"frame_{k:02d}.dng") as tif:
            numerator, denominator = tif.pages[0].tags["ExifTag"].value["ExposureTime"]
            times.append(numerator / denominator)
    assert times[1] / times[0] == pytest.approx(0.25, rel=1e-4) and times[2] / times[0] == pytest.approx(4.0, rel=1e-4)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert [f["ev"] for f in truth["frames"]] == [0.0, -2.0, 2.0]
    with np.load(tmp_path / "truth.npz") as arrays:
        moving, clean = arrays["moving_mask"], arrays["reference"]
    # in the reference the object is centred at (0.3 W, 0.55 H) with camera RGB proportional to
    # OBJECT_CAMERA_RGB; there the moving mask is set
    y, x = int(0.55 * 120) // 2 * 2, int(0.3 * 160) // 2 * 2
    red = clean[y - 2 : y + 2 : 2, x - 2 : x + 2 : 2]
    green = clean[y - 2 : y + 2 : 2, x - 1 : x + 3 : 2]
    blue = clean[y - 1 : y + 3 : 2, x - 1 : x + 3 : 2]
    r, g, b = OBJECT_CAMERA_RGB
    assert np.mean(red / green) == pytest.approx(r / g, rel=0.05)
    assert np.mean(blue / green) == pytest.approx(b / g, rel=0.05)
    assert moving[y - 4 : y + 4, x - 4 : x + 4].all()
