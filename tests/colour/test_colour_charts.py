"""The stored ColorChecker 24 data equal colour-science's (the stages' colour package imports no colour-science)."""

from __future__ import annotations

import numpy as np

from lumatune.colour.charts import colorchecker24_rec2020
from lumatune.colour.spaces import MATRIX_D50_TO_D65_BRADFORD, MATRIX_XYZ_TO_REC2020

CHART_AGREEMENT = 1e-12
"""Rec.2020 of the stored chart vs colour-science's conversion of its own data: float64 rounding only."""


def test_colorchecker24_matches_colour_science():
    import colour

    checker = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyz = colour.xyY_to_XYZ(np.array(list(checker.data.values()))) @ MATRIX_D50_TO_D65_BRADFORD.T
    names, rec2020 = colorchecker24_rec2020()
    assert names == list(checker.data)
    np.testing.assert_allclose(rec2020, xyz @ MATRIX_XYZ_TO_REC2020.T, rtol=0, atol=CHART_AGREEMENT)
