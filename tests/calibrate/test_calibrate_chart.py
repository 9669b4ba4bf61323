"""Locating the ColorChecker in a raw and reading its patches, with the bad-input errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lumatune.calibrate.capture import load_captures
from lumatune.calibrate.chart import (
    NEUTRAL_PATCHES,
    detect_chart_corners,
    patch_means,
    quads_from_corners,
    quads_from_truth,
    read_chart,
)
from lumatune.errors import UnreadableInputError, UnsupportedError

PATCH_RGB_TOLERANCE = 0.01
"""Relative agreement of patch means read from the raw with the simulator's noiseless patch values."""

CORNER_TOLERANCE_PX = 12.0
"""How far a detected chart corner may lie from the patch grid's true outer corner (detector quads include the gaps)."""


def _grid_corners(truth_path) -> np.ndarray:
    """Outer corners of the patch grid from the truth boxes (each box is its patch shrunk by 20 % per side)."""
    boxes = np.array([p["box"] for p in json.loads(truth_path.read_text())["patches"]], dtype=float)
    x0, y0, x1, y1 = boxes.T
    half_w, half_h = (x1 - x0) / 0.6 / 2, (y1 - y0) / 0.6 / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return np.array(
        [
            [cx[0] - half_w[0], cy[0] - half_h[0]],
            [cx[5] + half_w[5], cy[5] - half_h[5]],
            [cx[23] + half_w[23], cy[23] + half_h[23]],
            [cx[18] - half_w[18], cy[18] + half_h[18]],
        ]
    )


def test_quads_from_corners_follow_the_grid_clockwise_from_dark_skin():
    corners = np.array([[10.0, 20.0], [70.0, 20.0], [70.0, 60.0], [10.0, 60.0]])
    quads = quads_from_corners(corners, inner=0.5)
    centres = quads.mean(axis=1)
    assert centres.shape == (24, 2)
    np.testing.assert_allclose(centres[0], [15.0, 25.0])  # first cell, 10 px wide
    np.testing.assert_allclose(centres[5], [65.0, 25.0])
    np.testing.assert_allclose(centres[23], [65.0, 55.0])
    np.testing.assert_allclose(np.ptp(quads[0][:, 0]), 5.0)


def test_patch_means_average_each_cfa_channel():
    cfa = np.array([[0, 1], [1, 2]])
    mosaic = np.empty((8, 8), dtype=np.float32)
    mosaic[0::2, 0::2], mosaic[0::2, 1::2], mosaic[1::2, 0::2], mosaic[1::2, 1::2] = 0.1, 0.2, 0.2, 0.3
    quad = np.array([[[0, 0], [8, 0], [8, 8], [0, 8]]], dtype=float)
    means, stds, clipped, fewest = patch_means(mosaic, cfa, quad)
    np.testing.assert_allclose(means[0], [0.1, 0.2, 0.3], rtol=1e-6)
    assert stds.max() < 1e-6 and clipped[0] == 0 and fewest[0] == 16


def test_chart_read_from_truth_boxes_matches_the_simulator(chart_raws, tmp_path):
    from lumatune.sim import simulate

    result = simulate("colorchecker", illuminant="D65", size=(240, 160), seed=1)
    capture = load_captures([chart_raws["D65"]])[0]
    reading = read_chart(capture)
    assert reading.located_by == "truth"
    np.testing.assert_allclose(reading.rgb, result.patch_camera_rgb, rtol=PATCH_RGB_TOLERANCE)
    corners = read_chart(capture, corners=_grid_corners(chart_raws["D65"].with_suffix(".json")))
    assert corners.located_by == "corners"
    np.testing.assert_allclose(corners.rgb, result.patch_camera_rgb, rtol=PATCH_RGB_TOLERANCE)


def test_truth_quads_are_the_truth_boxes(chart_raws):
    quads = quads_from_truth(chart_raws["A"].with_suffix(".json"))
    box = json.loads(chart_raws["A"].with_suffix(".json").read_text())["patches"][7]["box"]
    np.testing.assert_allclose(quads[7][0], box[:2])
    np.testing.assert_allclose(quads[7][2], box[2:])


def test_detector_finds_the_chart_in_the_raw(chart_raws):
    pytest.importorskip("colour_checker_detection", reason="colour-checker-detection is an optional extra")
    capture = load_captures([chart_raws["D65"]])[0]
    corners = detect_chart_corners(capture)
    truth = _grid_corners(chart_raws["D65"].with_suffix(".json"))
    assert np.abs(corners - truth).max() < CORNER_TOLERANCE_PX
    reading = read_chart(capture, locate="detect")
    assert reading.located_by == "finder"  # the built-in finder comes first; the package is the fallback
    assert np.all(np.diff(reading.rgb[NEUTRAL_PATCHES].sum(axis=1)) < 0)


def test_detection_without_the_package_names_the_fix(chart_raws, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    capture = load_captures([chart_raws["D65"]])[0]
    with pytest.raises(UnsupportedError, match="pip install --no-deps colour-checker-detection"):
        detect_chart_corners(capture)


@pytest.mark.parametrize(("ev", "problem"), [(2.0, "clipped"), (-6.0, "underexposed")])
def test_badly_exposed_charts_are_refused(sim_folder, ev, problem):
    from lumatune.sim import simulate, write_sim

    dng, _ = write_sim(sim_folder / f"cc-ev{ev}.dng", simulate("colorchecker", size=(240, 160), ev=ev), overwrite=True)
    with pytest.raises(UnreadableInputError, match=problem):
        read_chart(load_captures([dng])[0])


def test_corners_on_something_else_find_no_chart(flat_raws):
    capture = load_captures([flat_raws[0]])[0]
    corners = np.array([[20.0, 20.0], [220.0, 20.0], [220.0, 140.0], [20.0, 140.0]])
    with pytest.raises(UnreadableInputError, match="no ColorChecker"):
        read_chart(capture, corners=corners)


ROTATED_SIZE = (768, 512)
ROTATED_PLACEMENT = {"centre": (0.45, 0.55), "area": 0.25, "angle_deg": -150.0}
"""A chart turned upside down and tilted 30 degrees: dark skin at the bottom right."""

CENTRE_LIMIT = 0.2
"""Largest patch-centre error of a found chart, in patch pitches (issue 13)."""


@pytest.fixture(scope="module")
def rotated_raw(sim_folder):
    """A rotated chart under illuminant A, with its truth beside it."""
    from lumatune.sim import simulate, write_sim
    from lumatune.sim.scenes import ChartPlacement

    result = simulate(
        "colorchecker", size=ROTATED_SIZE, placement=ChartPlacement(**ROTATED_PLACEMENT), illuminant="A"
    )
    return write_sim(sim_folder / "cc-rotated.dng", result, overwrite=True, with_truth_image=False)[0], result


def _alone(raw, folder, truth: str | None = None):
    """A copy of ``raw`` in ``folder`` with ``truth`` (JSON text) beside it, or nothing."""
    folder.mkdir(exist_ok=True)
    copy = folder / raw.name
    copy.write_bytes(raw.read_bytes())
    if truth is not None:
        copy.with_suffix(".json").write_text(truth)
    return copy


def test_builtin_finder_reads_a_rotated_chart_at_its_true_patches(rotated_raw, tmp_path):
    raw, result = rotated_raw
    reading = read_chart(load_captures([_alone(raw, tmp_path / "alone")])[0])
    assert reading.located_by == "finder"
    truth = np.array([patch["centre"] for patch in result.truth["patches"]])
    pitch = np.hypot(*(truth[1] - truth[0]))
    assert np.hypot(*(reading.quads.mean(axis=1) - truth).T).max() <= CENTRE_LIMIT * pitch
    np.testing.assert_allclose(reading.rgb, result.patch_camera_rgb, rtol=PATCH_RGB_TOLERANCE)


def test_auto_passes_over_a_foreign_json_to_the_finder(rotated_raw, tmp_path):
    raw, _ = rotated_raw
    capture = load_captures([_alone(raw, tmp_path / "foreign", '{"exposure": [1, 2, 3]}')])[0]
    assert read_chart(capture).located_by == "finder"


def test_truth_without_its_marker_is_read_only_when_asked(rotated_raw, tmp_path):
    raw, _ = rotated_raw
    old = json.loads(raw.with_suffix(".json").read_text())
    del old["kind"]
    capture = load_captures([_alone(raw, tmp_path / "old", json.dumps(old))])[0]
    assert read_chart(capture, locate="truth").located_by == "truth"
    assert read_chart(capture).located_by == "finder"


def test_when_every_means_fails_the_error_names_each(flat_raws, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    capture = load_captures([_alone(flat_raws[0], tmp_path / "flat", "[1, 2]")])[0]
    with pytest.raises(UnreadableInputError) as error:
        read_chart(capture)
    message = str(error.value)
    assert "\n" not in message and "no ColorChecker found" in message
    assert "truth file: flat-1.json is not a lumatune truth file" in message
    assert "built-in finder: no grid of patches found" in message
    assert "colour-checker-detection: not installed" in message
    with pytest.raises(UnreadableInputError, match="built-in finder: .*; colour-checker-detection: not installed"):
        read_chart(capture, locate="detect")


def test_overlay_outlines_the_24_patches():
    import cv2

    from lumatune.calibrate.report import OVERLAY_WIDTH, chart_overlay

    image = np.full((100, 200, 3), 0.5, dtype=np.float32)
    quads = quads_from_corners(np.array([[20.0, 10.0], [180.0, 10.0], [180.0, 90.0], [20.0, 90.0]]))
    canvas = chart_overlay(image, quads)
    yellow = (canvas[..., 0] > 100) & (canvas[..., 1] > 100) & (canvas[..., 2] < 60)
    count, _ = cv2.connectedComponents(yellow.astype(np.uint8), connectivity=8)
    assert canvas.shape[1] == OVERLAY_WIDTH and count - 1 == 24  # one closed outline per patch, background apart
