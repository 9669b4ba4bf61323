"""Tests of lumatune.sim.scenes and the natural scene: geometry, labels, truth boxes."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import UnsupportedError
from lumatune.sim import scenes
from lumatune.sim.scenes import SCENES, make_scene

SIZE = (192, 128)
COVERAGE_ATOL = 2e-3
"""Largest error of the analytic edge coverage against 64x64 supersampling."""


@pytest.fixture(scope="module", params=list(SCENES))
def scene(request):
    return make_scene(request.param, *SIZE)


def _boxes(scene):
    return [p.box for p in scene.patches] + [s.box for s in scene.wedge] + ([scene.edge.box] if scene.edge else [])


def test_scene_is_consistent(scene):
    width, height = SIZE
    assert scene.labels.shape == (height, width) and scene.labels.dtype == np.uint16
    assert scene.labels.max() < len(scene.reflectances)
    assert scene.reflectances.min() >= 0
    if scene.shading is not None:
        assert scene.shading.shape == (height, width) and scene.shading.dtype == np.float32
        assert scene.shading.min() >= 0
    for x0, y0, x1, y1 in _boxes(scene):
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_patch_boxes_hold_only_their_patch(scene):
    for patch in scene.patches:
        x0, y0, x1, y1 = patch.box
        assert (scene.labels[y0:y1, x0:x1] == patch.label).all(), patch.name
        if scene.shading is not None:
            np.testing.assert_array_equal(scene.shading[y0:y1, x0:x1], patch.shading)


@pytest.mark.parametrize("size", [(96, 288), (160, 960), (960, 160)], ids=str)
def test_natural_chart_card_is_whole_and_uncovered_at_any_aspect_ratio(size):
    scene = make_scene("natural", *size)
    assert len(scene.patches) == 24
    for patch in scene.patches:
        x0, y0, x1, y1 = patch.box
        assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1], patch.name
        assert (scene.labels[y0:y1, x0:x1] == patch.label).all(), patch.name
        np.testing.assert_array_equal(scene.shading[y0:y1, x0:x1], patch.shading)


def test_patch_names_are_unique(scene):
    names = [p.name for p in scene.patches]
    assert len(names) == len(set(names))


def test_colorchecker_has_the_24_patches_six_of_them_neutral():
    scene = make_scene("colorchecker", *SIZE)
    assert len(scene.patches) == 24
    assert [p.name for p in scene.patches if p.neutral][0] == "white 9.5 (.05 D)"
    assert sum(p.neutral for p in scene.patches) == 6


def test_wide_chart_has_over_a_hundred_distinct_reflectances():
    names, table, neutral = scenes.wide_chart_reflectances()
    assert len(names) == len(table) == len(neutral) >= 100
    assert len(np.unique(np.round(table, 6), axis=0)) == len(table)
    assert table.min() >= 0 and table.max() <= 1


def test_wedge_steps_are_half_a_stop_apart_and_span_beyond_any_sensor():
    scene = make_scene("step-wedge", *SIZE)
    luminance = np.array([step.shading for step in scene.wedge])
    np.testing.assert_allclose(np.diff(np.log2(luminance)), -scenes.WEDGE_STEP_EV, rtol=1e-6)
    assert luminance[0] > 1.0  # brighter than a perfect white: clips at ev 0
    assert np.log2(luminance[0] / luminance[-1]) >= 17
    for step in scene.wedge:
        x0, y0, x1, y1 = step.box
        np.testing.assert_array_equal(scene.shading[y0:y1, x0:x1], step.shading)


def test_edge_coverage_is_the_exact_pixel_area():
    slope = np.tan(np.radians(scenes.EDGE_ANGLE_DEG))
    distances = np.linspace(-1.2, 1.2, 41)
    sub = (np.arange(64) + 0.5) / 64 - 0.5
    sx, sy = np.meshgrid(sub, sub)
    brute = np.array([np.mean(d + sx - sy * slope > 0) for d in distances])
    np.testing.assert_allclose(scenes._edge_coverage(distances, slope), brute, atol=COVERAGE_ATOL)


def test_slanted_edge_runs_through_the_box_at_five_degrees():
    scene = make_scene("slanted-edge", 256, 256)
    x0, y0, x1, y1 = scene.edge.box
    dark, light = scenes.EDGE_REFLECTANCES
    coverage = (scene.shading[y0:y1, x0:x1] - dark) / (light - dark)
    edge_x = x1 - coverage.sum(axis=1)  # exact: the area right of the line is x1 - x_edge per row
    slope = np.polyfit(np.arange(y0, y1) + 0.5, edge_x, 1)[0]
    assert np.degrees(np.arctan(slope)) == pytest.approx(scenes.EDGE_ANGLE_DEG, abs=1e-3)
    assert np.interp(128, np.arange(y0, y1) + 0.5, edge_x) == pytest.approx(128, abs=1e-3)


def test_natural_scene_is_the_same_every_time_and_has_clipping_speculars():
    first, second = make_scene("natural", *SIZE), make_scene("natural", *SIZE)
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.shading, second.shading)
    assert first.shading.max() > 2.0  # specular highlights well above a perfect white
    assert len(first.reflectances) > 100


@pytest.mark.parametrize(("name", "size"), [("sky", (64, 64)), ("colorchecker", (16, 64))])
def test_unknown_scene_or_tiny_size_is_refused(name, size):
    with pytest.raises(UnsupportedError):
        make_scene(name, *size)


PLACED_SIZE = (384, 256)
CENTROID_TOLERANCE_PX = 0.5
"""A placed patch's painted pixels (sampled at pixel centres) centre on its exact centre within half a pixel."""

AREA_TOLERANCE = 0.02
"""Relative agreement of a placed chart's painted area with the asked area (pixel sampling of its outline)."""


def test_placed_chart_patches_are_painted_around_their_centres():
    placement = scenes.ChartPlacement((0.45, 0.55), 0.3, 33.0)
    scene = make_scene("colorchecker", *PLACED_SIZE, placement)
    for patch in scene.patches:
        ys, xs = np.nonzero(scene.labels == patch.label)
        np.testing.assert_allclose([xs.mean() + 0.5, ys.mean() + 0.5], patch.centre, atol=CENTROID_TOLERANCE_PX)
        x0, y0, x1, y1 = patch.box
        assert (scene.labels[y0:y1, x0:x1] == patch.label).all(), patch.name
    assert (scene.labels > 0).mean() == pytest.approx(placement.area, rel=AREA_TOLERANCE)


def test_a_quarter_turn_moves_dark_skin_to_the_top_right():
    scene = make_scene("colorchecker", *PLACED_SIZE, scenes.ChartPlacement(angle_deg=90.0))
    dark_skin, white = scene.patches[0].centre, scene.patches[18].centre
    assert dark_skin[0] > white[0] and dark_skin[1] == pytest.approx(white[1])


def test_random_placements_keep_the_whole_chart_in_the_frame():
    rng = np.random.default_rng(5)
    for _ in range(10):
        placement = scenes.random_placement(rng, *PLACED_SIZE)
        labels = make_scene("colorchecker", *PLACED_SIZE, placement).labels
        assert 1 / 6 <= placement.area <= 1 / 3
        assert not (labels[[0, -1], :].any() or labels[:, [0, -1]].any()), placement


def test_only_the_colorchecker_can_be_placed():
    with pytest.raises(UnsupportedError, match="only the colorchecker"):
        make_scene("siemens-star", *PLACED_SIZE, scenes.ChartPlacement())
    with pytest.raises(UnsupportedError, match="area"):
        make_scene("colorchecker", *PLACED_SIZE, scenes.ChartPlacement(area=0.0))
