"""Hue/saturation map stage: identity tables change nothing; a hue shift moves hue by the table's amount."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.colour.prophoto import hsv_to_rgb, rgb_to_hsv
from lumatune.stages.hue_sat_map import HueSatMap, apply_hue_sat_map

TOLERANCE = 1e-9


def _table(hue_shift=0.0, sat=1.0, val=1.0, hues=36, sats=9):
    table = np.empty((1, hues, sats, 3))
    table[...] = (hue_shift, sat, val)
    return HueSatMap(table)


def test_hsv_round_trip():
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (500, 3))
    np.testing.assert_allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, atol=TOLERANCE)


def test_identity_table_changes_nothing():
    rng = np.random.default_rng(2)
    xyz = rng.uniform(0.05, 0.9, (200, 3))
    np.testing.assert_allclose(apply_hue_sat_map(xyz, _table()), xyz, atol=1e-9)


def test_uniform_hue_shift_rotates_hue_and_keeps_greys():
    from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50

    rgb = np.array([[0.6, 0.3, 0.2], [0.4, 0.4, 0.4]])
    xyz = rgb @ MATRIX_PROPHOTO_TO_XYZ_D50.T
    shifted = apply_hue_sat_map(xyz, _table(hue_shift=30.0)) @ np.linalg.inv(MATRIX_PROPHOTO_TO_XYZ_D50).T
    before, after = rgb_to_hsv(rgb), rgb_to_hsv(shifted)
    np.testing.assert_allclose((after[0, 0] - before[0, 0]) * 60, 30.0, atol=1e-6)
    np.testing.assert_allclose(shifted[1], rgb[1], atol=1e-9)


# --- against an independent implementation of the DNG SDK's RefBaselineHueSatMap (tests/dng_hue_sat_reference.py)

SEMANTICS_SAMPLES = 300
"""Pixels per random table: the reference is per-pixel Python (colorsys), so keep it small."""

FLOAT64_OPS = 1000
"""Generous count of float64 roundings between input and output (two 3x3 products, an inverse, HSV both ways,
the bilinear weights): the semantics agree when the difference is within ``FLOAT64_OPS * eps * cond(M)``."""

PROPHOTO_MATRIX_ATOL = 3e-4
"""lumatune builds ProPhoto -> XYZ from the CIE D50 chromaticity (0.34567, 0.35850), colour-science from the
ROMM standard's rounded (0.3457, 0.3585): the matrices differ by 2.0e-4 (measured 2026-12-07); 1.5x margin."""


def _semantics_atol() -> float:
    from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50

    return FLOAT64_OPS * np.finfo(np.float64).eps * np.linalg.cond(MATRIX_PROPHOTO_TO_XYZ_D50)


def _lumatune_in_prophoto(rgb: np.ndarray, table: np.ndarray) -> np.ndarray:
    """lumatune's map on ProPhoto RGB, through its own ProPhoto matrix (so only the map's semantics differ)."""
    from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50 as to_xyz

    return apply_hue_sat_map(rgb @ to_xyz.T, HueSatMap(table)) @ np.linalg.inv(to_xyz).T


def test_prophoto_matrix_matches_colour_science():
    from dng_hue_sat_reference import prophoto_to_xyz_d50

    from lumatune.colour.prophoto import MATRIX_PROPHOTO_TO_XYZ_D50

    np.testing.assert_allclose(MATRIX_PROPHOTO_TO_XYZ_D50, prophoto_to_xyz_d50(), atol=PROPHOTO_MATRIX_ATOL)


@pytest.mark.parametrize("hues, sats, seed", [(36, 9, 11), (6, 3, 12), (90, 2, 13), (4, 17, 14)])
def test_random_tables_match_the_dng_sdk_semantics(hues, sats, seed):
    """Random maps and colours: lumatune equals the independent RefBaselineHueSatMap (ValueDivisions = 1).

    Values stay below 1 / max value scale, where the SDK's ``min(v * scale, 1)`` does not bite (lumatune is
    scene-referred and does not clip value; the SDK renders clipped [0, 1] data).
    """
    from dng_hue_sat_reference import hue_sat_map_prophoto, random_table

    rng = np.random.default_rng(seed)
    table = random_table(rng, hues, sats)
    table[0, :, 0] = table[0, 0, 0]  # hue is undefined on greys: the zero-saturation column must not vary
    rgb = rng.uniform(0, 1, (SEMANTICS_SAMPLES, 3)) * rng.uniform(0.02, 0.8, (SEMANTICS_SAMPLES, 1))
    rgb[:8] = [[0.5, 0.5, 0.5], [0.7, 0.0, 0.0], [0.0, 0.0, 0.6], [0.6, 0.0, 0.01],  # grey, primaries,
               [0.6, 0.0, 0.599], [0.3, 0.2, 0.1], [0.0, 0.4, 0.4], [0.01, 0.0, 0.8]]  # hue near 6 (wrap)
    expected = hue_sat_map_prophoto(rgb, table)
    np.testing.assert_allclose(_lumatune_in_prophoto(rgb, table), expected, rtol=0, atol=_semantics_atol())


def test_table_order_is_hue_then_saturation():
    """One non-zero node: a colour at exactly that (hue, saturation) gets its shift; ProfileHueSatMapData
    order (hue outer, saturation inner) cannot be transposed without this failing."""
    from dng_hue_sat_reference import hue_sat_map_prophoto

    table = np.zeros((1, 6, 3, 3))
    table[..., 1:] = 1.0
    table[0, 2, 1] = (20.0, 1.1, 0.9)  # hue node 2 (= 2 on the [0, 6) scale, green), saturation 1/2
    rgb = np.array([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]])  # green at saturation 1/2; red at 1/2
    expected = hue_sat_map_prophoto(rgb, table)
    assert not np.allclose(expected[0], rgb[0]) and np.allclose(expected[1], rgb[1])
    np.testing.assert_allclose(_lumatune_in_prophoto(rgb, table), expected, rtol=0, atol=_semantics_atol())


def test_value_divisions_beyond_one_are_refused_not_misread():
    """lumatune implements the "2.5D" table only; a 3-D table (trilinear in the SDK) must be refused."""
    from dng_hue_sat_reference import random_table

    table = random_table(np.random.default_rng(5), 6, 3, vals=2)
    with pytest.raises(ValueError, match="value division"):
        apply_hue_sat_map(np.full((2, 3), 0.3), HueSatMap(table))
