"""Colour calibration: CIEDE2000, the white-preserving fit, the dual-illuminant table, held-out gain."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.calibrate.colour import (
    D65_WHITE,
    calibrate_colour,
    fit_wb_matrix_de00,
    patch_de00,
    white_balanced,
)
from lumatune.colour.difference import delta_e00
from lumatune.calibrate.reference import chart_reference_xyz, illuminant_cct
from lumatune.errors import UnsupportedError

DE00_AGREEMENT = 1e-9
"""Our CIEDE2000 against colour-science's: the same float64 formula (Sharma 2005) through libm's atan2, cos,
exp and sqrt, whose results may differ by an ulp between platforms and be amplified near hue wrap-around;
measured identical (2026-12-07)."""

WHITE_PRESERVED_ATOL = 64 * float(np.finfo(np.float64).eps)
"""M @ (1, 1, 1) = D65 white by construction (the last column is the white minus the others), so only the
roundings of re-adding three entries of magnitude up to ~2 remain, in whatever order BLAS sums them: 64 eps
= 1.4e-14 (was 1e-12 and 1e-9 in two places); measured exactly 0 (2026-12-07)."""

RECOVERY_DE00 = 0.02
"""Mean ΔE00 left when the patches come from an exact white-preserving matrix."""

NEUTRAL_RECOVERY = 2e-3
"""Relative error of the recovered camera white."""

CT_TOLERANCE = 0.02
"""Relative agreement of a table key with the illuminant's CCT."""


def test_delta_e00_matches_colour_science():
    import colour

    rng = np.random.default_rng(3)
    a = rng.uniform([0, -90, -90], [100, 90, 90], (500, 3))
    b = a + rng.normal(0, 8, (500, 3))
    np.testing.assert_allclose(delta_e00(a, b), colour.delta_E(a, b, method="CIE 2000"), atol=DE00_AGREEMENT)


def test_fit_recovers_a_white_preserving_matrix_and_the_white():
    reference = chart_reference_xyz("D65")
    truth = np.array([[0.62, 0.25, 0.08], [0.27, 0.92, -0.19], [0.03, -0.25, 1.31]])
    truth[:, 2] = D65_WHITE - truth[:, :2].sum(axis=1)  # (1, 1, 1) -> D65
    neutral = np.array([0.52, 1.0, 0.71])
    wb = reference @ np.linalg.inv(truth).T
    rgb = wb * (neutral / neutral.max())
    matrix, fitted_neutral = fit_wb_matrix_de00(rgb, reference, neutral * np.array([1.02, 1, 0.97]))
    np.testing.assert_allclose(matrix @ np.ones(3), D65_WHITE, atol=WHITE_PRESERVED_ATOL)
    np.testing.assert_allclose(fitted_neutral, neutral / neutral[1], rtol=NEUTRAL_RECOVERY)
    assert patch_de00(matrix, white_balanced(rgb, fitted_neutral), reference).mean() < RECOVERY_DE00


def test_dual_illuminant_calibration_beats_the_metadata_on_its_charts(chart_raws):
    calibration = calibrate_colour([chart_raws["D65"], chart_raws["A"]])
    assert [fit.illuminant for fit in calibration.fits] == ["A", "D65"]
    for fit in calibration.fits:
        assert abs(fit.ct / illuminant_cct(fit.illuminant) - 1) < CT_TOLERANCE
        np.testing.assert_allclose(fit.matrix @ np.ones(3), D65_WHITE, atol=WHITE_PRESERVED_ATOL)
        assert fit.de00_fitted.mean() < fit.de00_metadata.mean()
    block = calibration.block()
    assert [entry["ct"] for entry in block["ccms"]] == sorted(entry["ct"] for entry in block["ccms"])
    assert all(len(entry["matrix"]) == 9 for entry in block["ccms"])


def test_calibrated_tuning_beats_the_metadata_on_a_held_out_chart(chart_raws):
    import lumatune
    from lumatune.calibrate.tuningfile import tuning_from_blocks
    from lumatune.lab.measure import measure

    calibration = calibrate_colour([chart_raws["D65"], chart_raws["A"]], illuminants=["D65", "A"])
    tuning = tuning_from_blocks({"colour_matrix": calibration.block()})
    held_out = chart_raws["D50-held-out"]
    truth = held_out.with_suffix(".json")
    metadata = measure(lumatune.develop(held_out, look="neutral", space="rec2020"), truth, space="rec2020")
    tuned = measure(lumatune.develop(held_out, look="neutral", space="rec2020", tuning=tuning), truth, space="rec2020")
    assert tuned["de00_mean"] < metadata["de00_mean"]


def test_two_cameras_in_one_calibration_are_refused(chart_raws):
    with pytest.raises(UnsupportedError, match="differs from"):
        calibrate_colour([chart_raws["D65"], chart_raws["other-camera"]])


def test_illuminant_list_must_match_the_raws(chart_raws):
    with pytest.raises(UnsupportedError, match="one per raw"):
        calibrate_colour([chart_raws["D65"], chart_raws["A"]], illuminants=["D65", "A", "D50"])
