"""Each built-in look has the character its documentation claims, measured on the virtual camera's chart."""

from __future__ import annotations

import pytest

from lumatune.config.look import builtin_looks
from lumatune.looktools.character import character_table

BUILTINS = ("neutral", "default", "natural", "authentic", "vibrant", "mono", "mono-hc", "cinema", "slide")
MONO_CHROMA = 1e-4
"""Largest mean C*ab of a black-and-white look (float output: only rounding remains). Measured 1.2e-5
(2026-12-07; was 1.0): float32 rounding of equal R, G, B on a ~100-unit L* scale is 100 x 2^-24 = 6e-6 per
rounding; a few roundings and 8x margin."""
NATURAL_DE00_MARGIN = 0.977 * 1.15
"""natural may be at most this much less accurate (mean CIEDE2000) than the colorimetric neutral: measured
0.977 (2.065 against 1.088, 2026-12-07; was 2.0), 15 % margin for library versions."""
VIBRANT_CHROMA_GAIN = 1.230 * 0.97
"""vibrant's mean chroma over natural's: measured 1.230 (59.94 against 48.73, 2026-12-07; was 1.15), 3 % margin
(a ratio of two renderings by the same libraries: version changes move both)."""


@pytest.fixture(scope="module")
def character():
    return {row["look"]: row for row in character_table(BUILTINS)}


def test_the_builtins_are_all_here():
    assert set(BUILTINS) == set(builtin_looks())


def test_neutral_is_colorimetric(character):
    assert character["neutral"]["mid_contrast"] == pytest.approx(1.0, abs=0.03)
    assert character["neutral"]["white_slope"] == pytest.approx(1.0, abs=0.03)
    assert character["neutral"]["de00"] < 2.0


def test_natural_stays_accurate(character):
    assert character["natural"]["de00"] <= character["neutral"]["de00"] + NATURAL_DE00_MARGIN
    assert character["natural"]["mid_contrast"] < 1.2  # gentle


def test_authentic_has_more_contrast_deeper_shadows_restrained_colour_and_a_vignette(character):
    authentic, natural = character["authentic"], character["natural"]
    assert authentic["mid_contrast"] > natural["mid_contrast"] + 0.3
    assert authentic["shadow_L"] < natural["shadow_L"] - 5
    assert authentic["chroma"] < natural["chroma"]
    assert authentic["vignette_ev"] < -0.5


def test_vibrant_is_more_colourful_brighter_and_lifted(character):
    vibrant, natural = character["vibrant"], character["natural"]
    assert vibrant["chroma"] >= VIBRANT_CHROMA_GAIN * natural["chroma"]
    assert vibrant["shadow_L"] > natural["shadow_L"] + 2
    assert vibrant["mid_grey_L"] > natural["mid_grey_L"] + 2
    assert vibrant["vignette_ev"] == 0.0


def test_mono_looks_have_no_colour_and_hc_has_contrast_and_grain(character):
    assert character["mono"]["chroma"] < MONO_CHROMA and character["mono-hc"]["chroma"] < MONO_CHROMA
    assert character["mono-hc"]["mid_contrast"] > character["mono"]["mid_contrast"] + 0.5
    assert character["mono-hc"]["shadow_L"] < character["mono"]["shadow_L"] - 5
    assert character["mono-hc"]["grain_std"] > 0.03


def test_cinema_is_wide_soft_and_split_toned(character):
    cinema, natural = character["cinema"], character["natural"]
    assert cinema["crop"] == "2.39:1"
    assert cinema["white_slope"] < 0.5 * natural["white_slope"]
    shadow_a, shadow_b = cinema["shadow_ab"]
    highlight_a, highlight_b = cinema["highlight_ab"]
    assert shadow_a < -1 and shadow_b < -1  # teal
    assert highlight_b > 5 and highlight_a > 0  # orange


def test_slide_has_dense_blacks_contrast_and_saturation(character):
    slide, natural = character["slide"], character["natural"]
    assert slide["shadow_L"] < natural["shadow_L"] - 8
    assert slide["mid_contrast"] > natural["mid_contrast"] + 0.4
    assert slide["chroma"] > 1.2 * natural["chroma"]
