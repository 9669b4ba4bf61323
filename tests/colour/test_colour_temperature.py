"""Tests of lumatune.colour.temperature (Robertson 1968 as the DNG SDK) against colour-science."""

from __future__ import annotations

import colour
import colour.temperature.robertson1968 as robertson1968
import numpy as np
import pytest

from lumatune.colour.temperature import (
    ISOTEMPERATURE_LINES_ROBERTSON1968,
    TINT_SCALE,
    cct_tint_to_xy,
    uv_1960_to_xy,
    xy_to_cct_tint,
    xy_to_uv_1960,
)

SAME_TABLE_CCT_RELATIVE = 1e-9
SAME_TABLE_TINT = 1e-9
SAME_TABLE_XY = 1e-12
ROUND_TRIP_CCT_RELATIVE = 2e-4  # the SDK's two directions are not exact inverses of each other
ROUND_TRIP_TINT = 5e-3
TYPO_ROW = 19  # 325 mired: u = 0.24702 in the DNG SDK, 0.24792 in Lindbloom / colour-science
TYPO_MIRED_RANGE = (300.0, 350.0)
TYPO_CCT_RELATIVE = 0.012  # largest effect of the SDK's typo on the CCT (about 30 K near 3000 K)
TYPO_TINT = 1.2
PLANCK_CCT_RELATIVE = 5e-4  # Robertson's table against Planck's law, away from the typo
PLANCK_TINT = 0.5


def _sdk_table() -> tuple:
    return tuple(tuple(row) for row in ISOTEMPERATURE_LINES_ROBERTSON1968)


def _use_sdk_table(monkeypatch) -> None:
    """Make colour-science's Robertson 1968 read the SDK's table.

    colour-science 0.4.7 reads ``DATA_ISOTEMPERATURE_LINES_ROBERTSON1968`` at each call; 0.4.4-0.4.6 read the
    ``ISOTEMPERATURE_LINES_ROBERTSON1968`` list built from it at import, so that list is replaced too.
    """
    monkeypatch.setattr(robertson1968, "DATA_ISOTEMPERATURE_LINES_ROBERTSON1968", _sdk_table())
    if hasattr(robertson1968, "ISOTemperatureLine_Specification_Robertson1968"):
        line = robertson1968.ISOTemperatureLine_Specification_Robertson1968
        monkeypatch.setattr(robertson1968, "ISOTEMPERATURE_LINES_ROBERTSON1968", [line(*row) for row in _sdk_table()])


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    cct = np.exp(rng.uniform(np.log(1700.0), np.log(90000.0), 3000))
    tint = rng.uniform(-100.0, 100.0, 3000)
    return cct, tint


def _colour_science_xy(cct: np.ndarray, tint: np.ndarray) -> np.ndarray:
    uv = colour.temperature.CCT_to_uv_Robertson1968(np.stack([cct, tint / -TINT_SCALE], axis=-1))
    return colour.UCS_uv_to_xy(uv)


def test_table_is_wyszecki_stiles_with_the_sdk_value_at_325_mired():
    reference = np.array(robertson1968.DATA_ISOTEMPERATURE_LINES_ROBERTSON1968)
    differs = ~np.isclose(ISOTEMPERATURE_LINES_ROBERTSON1968, reference, rtol=0, atol=0)
    assert np.argwhere(differs).tolist() == [[TYPO_ROW, 1]]
    assert ISOTEMPERATURE_LINES_ROBERTSON1968[TYPO_ROW, 1] == 0.24702


def test_xy_to_cct_tint_equals_colour_science_with_the_same_table(monkeypatch, samples):
    _use_sdk_table(monkeypatch)
    xy = _colour_science_xy(*samples)
    reference = colour.temperature.uv_to_CCT_Robertson1968(colour.xy_to_UCS_uv(xy))
    cct, tint = xy_to_cct_tint(xy)
    np.testing.assert_allclose(cct, reference[:, 0], rtol=SAME_TABLE_CCT_RELATIVE)
    np.testing.assert_allclose(tint, reference[:, 1] * -TINT_SCALE, atol=SAME_TABLE_TINT)


def test_cct_tint_to_xy_equals_colour_science_with_the_same_table(monkeypatch, samples):
    _use_sdk_table(monkeypatch)
    cct, tint = samples
    np.testing.assert_allclose(cct_tint_to_xy(cct, tint), _colour_science_xy(cct, tint), atol=SAME_TABLE_XY)


def test_stock_colour_science_differs_only_near_the_typo(samples):
    xy = _colour_science_xy(*samples)
    reference = colour.temperature.uv_to_CCT_Robertson1968(colour.xy_to_UCS_uv(xy))
    cct, tint = xy_to_cct_tint(xy)
    mired = 1e6 / reference[:, 0]
    away = (mired < TYPO_MIRED_RANGE[0] - 1) | (mired > TYPO_MIRED_RANGE[1] + 1)
    np.testing.assert_allclose(cct[away], reference[away, 0], rtol=SAME_TABLE_CCT_RELATIVE)
    np.testing.assert_allclose(tint[away], reference[away, 1] * -TINT_SCALE, atol=SAME_TABLE_TINT)
    np.testing.assert_allclose(cct[~away], reference[~away, 0], rtol=TYPO_CCT_RELATIVE)
    np.testing.assert_allclose(tint[~away], reference[~away, 1] * -TINT_SCALE, atol=TYPO_TINT)


def test_round_trip(samples):
    cct, tint = samples
    cct_back, tint_back = xy_to_cct_tint(cct_tint_to_xy(cct, tint))
    np.testing.assert_allclose(cct_back, cct, rtol=ROUND_TRIP_CCT_RELATIVE)
    np.testing.assert_allclose(tint_back, tint, atol=ROUND_TRIP_TINT)


@pytest.mark.parametrize("kelvin", [2000.0, 2500.0, 4000.0, 5000.0, 6500.0, 10000.0, 20000.0])
def test_planckian_locus_has_its_temperature_and_no_tint(kelvin):
    uv = colour.temperature.CCT_to_uv_Planck1900(kelvin)
    cct, tint = xy_to_cct_tint(colour.UCS_uv_to_xy(uv))
    assert cct == pytest.approx(kelvin, rel=PLANCK_CCT_RELATIVE)
    assert tint == pytest.approx(0.0, abs=PLANCK_TINT)


def test_green_whites_have_positive_tint():
    locus = cct_tint_to_xy(5000.0)
    greener = uv_1960_to_xy(xy_to_uv_1960(locus) + [0.0, 0.005])
    assert float(xy_to_cct_tint(greener)[1]) > 10.0
    assert float(xy_to_cct_tint(colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])[1]) > 0.0


def test_cct_is_clamped_to_the_table():
    assert float(xy_to_cct_tint([0.24, 0.23])[0]) == pytest.approx(100000.0)
    assert float(xy_to_cct_tint([0.6, 0.39])[0]) == pytest.approx(1e6 / 600.0)


def test_shapes():
    cct, tint = xy_to_cct_tint(np.full((4, 5, 2), [0.3127, 0.329]))
    assert cct.shape == tint.shape == (4, 5)
    assert np.shape(xy_to_cct_tint([0.3127, 0.329])[0]) == ()
    assert cct_tint_to_xy([3000.0, 4000.0], 5.0).shape == (2, 2)
    assert cct_tint_to_xy(4000.0).shape == (2,)


def test_uv_conversions_match_colour_science():
    xy = np.array([[0.3127, 0.329], [0.44758, 0.40745]])
    np.testing.assert_allclose(xy_to_uv_1960(xy), colour.xy_to_UCS_uv(xy), atol=SAME_TABLE_XY)
    np.testing.assert_allclose(uv_1960_to_xy(xy_to_uv_1960(xy)), xy, atol=SAME_TABLE_XY)


@pytest.mark.parametrize("cct", [0.0, -1000.0, float("nan")])
def test_invalid_cct_raises(cct):
    with pytest.raises(ValueError):
        cct_tint_to_xy(cct)
