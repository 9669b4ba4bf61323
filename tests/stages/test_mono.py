"""Mono: greys keep their value, colours lose their chroma, filters weigh colours as they should, tints tint."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.colour.spaces import MATRIX_REC2020_TO_XYZ
from lumatune.errors import BadFileError
from lumatune.stages.params import params_from_dict
from lumatune.colour.oklab import rgb_to_oklab
from lumatune.stages.mono import (
    FILTERS,
    MonoParams,
    MonoPlan,
    mono_weights,
    tint_colour,
    to_mono,
)

LUMINANCE = MATRIX_REC2020_TO_XYZ[1]


def _plan(**kw) -> MonoPlan:
    params = MonoParams(**kw)
    return MonoPlan(weights=mono_weights(params), tint=tint_colour(params.tone_hue, params.tone_amount))


@pytest.mark.parametrize("filter", [*FILTERS, "mix"])
def test_weights_sum_to_one_and_greys_keep_their_value(filter):
    plan = _plan(filter=filter, mix=(0.5, 0.3, 0.2))
    assert plan.weights.sum() == pytest.approx(1.0)
    grey = np.full((1, 1, 3), 0.3, np.float32)
    np.testing.assert_allclose(to_mono(grey, plan), grey, rtol=1e-6)


def test_output_is_neutral():
    out = to_mono(np.random.default_rng(0).random((8, 8, 3), dtype=np.float32), _plan(filter="orange"))
    assert np.ptp(out, axis=-1).max() < 1e-6


def test_plain_filter_is_luminance():
    np.testing.assert_allclose(_plan(filter="none").weights, LUMINANCE / LUMINANCE.sum(), rtol=1e-9)


def test_red_filter_darkens_blue_and_lightens_red_relative_to_luminance():
    blue, red = np.array([0.02, 0.05, 0.6], np.float32), np.array([0.6, 0.1, 0.05], np.float32)
    plain, filtered = _plan(filter="none").weights, _plan(filter="red").weights
    assert blue @ filtered < 0.5 * (blue @ plain)
    assert red @ filtered > 1.5 * (red @ plain)


def test_green_filter_lightens_foliage_over_a_red_one():
    foliage = np.array([0.05, 0.12, 0.03], np.float32)
    assert foliage @ _plan(filter="green").weights > foliage @ _plan(filter="red").weights


def test_tint_has_unit_luminance_and_the_asked_hue():
    tint = tint_colour(70.0, 0.05)
    assert LUMINANCE @ tint == pytest.approx(1.0)
    lab = rgb_to_oklab(tint * 0.2)
    assert np.degrees(np.arctan2(lab[2], lab[1])) == pytest.approx(70.0, abs=0.1)
    assert np.hypot(lab[1], lab[2]) / lab[0] == pytest.approx(0.05, rel=1e-3)


def test_off_makes_no_plan_and_zero_mix_is_rejected():
    from lumatune.stages.mono import STAGE

    assert STAGE.plan(MonoParams(), None, None) is None
    with pytest.raises(BadFileError, match="sum to 0"):
        params_from_dict(MonoParams, {"filter": "mix", "mix": [1, -1, 0]}, where="[mono]")


