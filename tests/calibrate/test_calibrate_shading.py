"""Lens-shading calibration from flats: the falloff is gone on held-out flats; non-flats are refused."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.calibrate.capture import load_captures
from lumatune.calibrate.shading import calibrate_shading, flatness, shading_grid_shape
from lumatune.errors import UnreadableInputError

FLAT_AFTER = 0.01
"""Largest departure of any channel from flat after correction (the issue's 1 %)."""

FALLOFF_BEFORE = 0.1
"""The simulated lens loses more than this towards the corners (so the test can fail)."""


def test_grid_follows_the_aspect_ratio():
    assert shading_grid_shape(1000, 1500) == (17, 25)
    assert shading_grid_shape(160, 240, columns=13) == (9, 13)


def test_shading_is_removed_on_a_held_out_flat(flat_raws):
    from lumatune.calibrate.tuningfile import tuning_from_blocks

    calibration = calibrate_shading(flat_raws[:2])
    assert all(np.all(calibration.gains[c] >= 1.0) for c in "rgb")
    params = tuning_from_blocks({"lens_shading": calibration.block()}).blocks.params["lens_shading"]
    before = load_captures([flat_raws[2]], correct_shading=False)[0]
    after = load_captures([flat_raws[2]], lens_shading=params)[0]
    assert flatness(before.mosaic, before.raw.cfa).min() > FALLOFF_BEFORE
    assert flatness(after.mosaic, after.raw.cfa).max() < FLAT_AFTER


def test_a_chart_is_not_a_flat(chart_raws):
    with pytest.raises(UnreadableInputError, match="not a flat field"):
        calibrate_shading([chart_raws["D65"]])


def test_an_underexposed_flat_is_refused(sim_folder):
    from lumatune.sim import simulate, write_sim

    dng, _ = write_sim(sim_folder / "flat-dark.dng", simulate("flat-field", size=(240, 160), ev=-6), overwrite=True)
    with pytest.raises(UnreadableInputError, match="underexposed"):
        calibrate_shading([dng])
