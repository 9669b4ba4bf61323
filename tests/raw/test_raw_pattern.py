"""The CFA pattern of the visible area, computed from LibRaw's pattern and margins, matches rawpy's full plane."""

from __future__ import annotations

import numpy as np
import pytest
import rawpy
from realraws import requires_shared, shared_raws

from lumatune.raw.read import _visible_pattern
from synthetic import write_chart_dng


def _has_pattern(path) -> bool:
    with rawpy.imread(str(path)) as raw:
        return raw.raw_pattern is not None


def _check(path):
    with rawpy.imread(str(path)) as raw:
        n = raw.raw_pattern.shape[0]
        np.testing.assert_array_equal(_visible_pattern(raw), raw.raw_colors_visible[:n, :n])


@pytest.mark.parametrize("cfa", ["RGGB", "GBRG", "BGGR"])
def test_visible_pattern_of_synthetic_dngs(tmp_path, cfa):
    _check(write_chart_dng(tmp_path / "chart.dng", cfa=cfa))


@requires_shared
@pytest.mark.parametrize("path", [p for p in shared_raws() if _has_pattern(p)], ids=lambda p: p.name)
def test_visible_pattern_of_real_raws(path):
    _check(path)
