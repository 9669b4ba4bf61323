"""Look colour: each edit does what it says in Oklab, greys stay grey, and the fast pass agrees with the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.colour.oklab import HUE_ANGLES, HUE_NAMES, oklab_to_rgb, rgb_to_oklab
from lumatune.stages.look_colour import (
    SKIN_HUE,
    ColourParams,
    adjust_colour,
    colour_plan,
)

OKLAB_TOLERANCE = 2e-4
"""Oklab against colour-science: our M1 is rescaled so that the working white is exactly neutral."""


def _oklab_colour(lightness: float, chroma: float, hue_degrees: float) -> np.ndarray:
    h = np.radians(hue_degrees)
    return oklab_to_rgb(np.array([lightness, chroma * np.cos(h), chroma * np.sin(h)])).astype(np.float32)


def _lch(rgb: np.ndarray) -> tuple[float, float, float]:
    lab = rgb_to_oklab(rgb)
    return lab[0], float(np.hypot(lab[1], lab[2])), float(np.degrees(np.arctan2(lab[2], lab[1])) % 360)


def _apply(params: ColourParams, rgb: np.ndarray) -> np.ndarray:
    return adjust_colour(rgb.reshape(1, 1, 3), colour_plan(params))[0, 0]


def test_oklab_matches_colour_science():
    colour = pytest.importorskip("colour")
    from lumatune.colour.spaces import MATRIX_XYZ_TO_REC2020

    xyz = np.array([[0.2, 0.3, 0.4], [0.95047, 1.0, 1.08883], [0.05, 0.02, 0.3]])
    np.testing.assert_allclose(
        rgb_to_oklab(xyz @ MATRIX_XYZ_TO_REC2020.T), colour.XYZ_to_Oklab(xyz), atol=OKLAB_TOLERANCE
    )


def test_default_params_make_no_plan():
    assert colour_plan(ColourParams()) is None
    assert colour_plan(ColourParams(skin_protection=1.0, balance=0.5)) is None


@pytest.mark.parametrize(
    "params",
    [
        ColourParams(saturation=1.5, vibrance=0.8),
        ColourParams(hue_shift=(20.0,) * 8, hue_saturation=(0.5,) * 8, hue_lightness=(1.0,) * 8),
    ],
)
def test_greys_stay_grey(params):
    for value in (0.01, 0.18, 1.5):
        grey = np.full(3, value, np.float32)
        np.testing.assert_allclose(_apply(params, grey), grey, rtol=1e-5)


def test_saturation_scales_chroma_and_keeps_hue_and_lightness():
    colour = _oklab_colour(0.6, 0.08, 150.0)
    lightness, chroma, hue = _lch(colour)
    out_l, out_c, out_h = _lch(_apply(ColourParams(saturation=1.3), colour))
    assert out_c == pytest.approx(1.3 * chroma, rel=1e-4)
    assert out_h == pytest.approx(hue, abs=1e-3) and out_l == pytest.approx(lightness, abs=1e-6)


def test_vibrance_lifts_muted_colours_more_than_vivid_ones():
    muted, vivid = _oklab_colour(0.6, 0.03, 150.0), _oklab_colour(0.6, 0.25, 150.0)
    gain = {name: _lch(_apply(ColourParams(vibrance=0.5), c))[1] / _lch(c)[1] for name, c in
            (("muted", muted), ("vivid", vivid))}
    assert gain["muted"] > gain["vivid"] > 1.0


@pytest.mark.parametrize("index", range(8))
def test_hue_table_acts_at_its_own_hue(index):
    shift, sat = [0.0] * 8, [0.0] * 8
    shift[index], sat[index] = 10.0, 0.5
    params = ColourParams(hue_shift=tuple(shift), hue_saturation=tuple(sat))
    at_node = _oklab_colour(0.6, 0.1, HUE_ANGLES[index])
    _, chroma, hue = _lch(_apply(params, at_node))
    assert (hue - HUE_ANGLES[index]) % 360 == pytest.approx(10.0, abs=0.01), HUE_NAMES[index]
    assert chroma == pytest.approx(0.15, rel=1e-3)
    opposite = _oklab_colour(0.6, 0.1, HUE_ANGLES[(index + 4) % 8])
    np.testing.assert_allclose(_apply(params, opposite), opposite, rtol=1e-5)


def test_hue_lightness_darkens_colour_not_grey():
    blue = _oklab_colour(0.5, 0.15, HUE_ANGLES[HUE_NAMES.index("blue")])
    lightness = [0.0] * 8
    lightness[HUE_NAMES.index("blue")] = -1.0
    out = _apply(ColourParams(hue_lightness=tuple(lightness)), blue)
    from lumatune.colour.spaces import MATRIX_REC2020_TO_XYZ

    y_in, y_out = MATRIX_REC2020_TO_XYZ[1] @ blue, MATRIX_REC2020_TO_XYZ[1] @ out
    assert 0.4 < y_out / y_in < 0.6  # one stop, a little less for the chroma weight


def test_skin_protection_holds_skin_back():
    skin = _oklab_colour(0.7, 0.06, SKIN_HUE)
    free = _lch(_apply(ColourParams(saturation=1.5), skin))[1]
    held = _lch(_apply(ColourParams(saturation=1.5, skin_protection=1.0), skin))[1]
    assert free == pytest.approx(0.09, rel=1e-3)
    assert held == pytest.approx(0.06, rel=0.02)
    sky = _oklab_colour(0.6, 0.06, 250.0)
    assert _lch(_apply(ColourParams(saturation=1.5, skin_protection=1.0), sky))[1] == pytest.approx(0.09, rel=0.01)


def test_split_toning_tints_shadows_and_highlights():
    params = ColourParams(shadows_hue=200.0, shadows_amount=0.1, highlights_hue=60.0, highlights_amount=0.1)
    dark, bright = np.full(3, 0.005, np.float32), np.full(3, 2.0, np.float32)
    _, dark_c, dark_h = _lch(_apply(params, dark))
    _, bright_c, bright_h = _lch(_apply(params, bright))
    assert dark_h == pytest.approx(200.0, abs=0.5) and bright_h == pytest.approx(60.0, abs=0.5)
    assert dark_c > 0.5 * 0.1 * rgb_to_oklab(dark)[0] and bright_c > 0.5 * 0.1 * rgb_to_oklab(bright)[0]


def test_edits_without_lightness_or_split_commute_with_exposure():
    params = ColourParams(saturation=1.2, vibrance=0.4, hue_shift=(5, -5, 10, 0, 0, 8, 0, 0), skin_protection=0.5)
    colour = _oklab_colour(0.5, 0.12, 100.0)
    np.testing.assert_allclose(_apply(params, 4.0 * colour), 4.0 * _apply(params, colour), rtol=1e-5)
