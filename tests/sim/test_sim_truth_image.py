"""The truth is self-consistent: the written truth image, measured by the lab against its own JSON, is exact.

A patch box that strays off its patch (an object painted over the chart, a box placed for another
image size) shows up here as a large ΔE2000 even though each file looks plausible on its own.
"""

from __future__ import annotations

import colour
import numpy as np
import pytest
import tifffile

from lumatune.lab.measure import measure
from lumatune.lab.rendering import matrix_rgb_to_xyz
from lumatune.sim import Optics, simulate, write_sim
from lumatune.sim.scenes import SCENES, make_scene

SIZES = [(288, 192), (100, 400)]
"""A landscape frame and a narrow portrait one (objects move relative to the chart with the aspect ratio)."""

SELF_DE00 = 0.01
"""Largest ΔE2000 of a patch of the truth image against the truth's own Lab (float32 rounding only)."""

PATCHED_SCENES = [name for name in SCENES if make_scene(name, *SIZES[0]).patches]


def _truth_image_as_srgb_codes(tif_path) -> np.ndarray:
    """The float32 XYZ truth image as float sRGB codes (negative and > 1 values kept, no clipping)."""
    xyz = tifffile.imread(tif_path).astype(np.float64)
    linear = xyz @ np.linalg.inv(matrix_rgb_to_xyz("srgb")).T
    return colour.models.eotf_inverse_sRGB(linear).astype(np.float32)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", PATCHED_SCENES)
def test_truth_image_matches_its_own_patches(tmp_path, scene, size):
    dng, truth = write_sim(tmp_path / f"{scene}.dng", simulate(scene, size=size))
    result = measure(_truth_image_as_srgb_codes(tmp_path / f"{scene}_truth.tif"), truth, fit_exposure=False)
    assert len(result["patches"]) > 0
    worst = max(result["patches"], key=lambda p: p["de00"])
    assert worst["de00"] < SELF_DE00, f"{worst['name']}: ΔE00 {worst['de00']:.3f}"


def test_truth_image_matches_its_patches_through_lens_geometry(tmp_path):
    optics = Optics(distortion_k1=0.05, lateral_ca=(5e-4, -5e-4))
    dng, truth = write_sim(tmp_path / "cc.dng", simulate("colorchecker", size=SIZES[0], optics=optics))
    result = measure(_truth_image_as_srgb_codes(tmp_path / "cc_truth.tif"), truth, fit_exposure=False)
    assert len(result["patches"]) == 24 and result["de00_max"] < SELF_DE00
