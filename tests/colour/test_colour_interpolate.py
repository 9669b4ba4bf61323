"""Tests of lumatune.colour.interpolate (the colour-temperature table interpolator)."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.colour.interpolate import interpolate_by_ct
from lumatune.errors import BadFileError

EXACT = 1e-12

TABLE = [
    (2850.0, np.array([[1.0, 2.0], [3.0, 4.0]])),
    (4000.0, np.array([[0.0, 1.0], [1.0, 0.0]])),
    (6500.0, np.array([[-1.0, 5.0], [2.0, 2.0]])),
]


@pytest.mark.parametrize("index", range(len(TABLE)))
def test_entries_are_returned_at_their_ct(index):
    ct, value = TABLE[index]
    np.testing.assert_allclose(interpolate_by_ct(TABLE, ct), value, atol=EXACT)


@pytest.mark.parametrize(("ct", "index"), [(1000.0, 0), (2849.9, 0), (6500.1, -1), (50000.0, -1)])
def test_clamped_outside_the_table(ct, index):
    np.testing.assert_allclose(interpolate_by_ct(TABLE, ct), TABLE[index][1], atol=EXACT)


@pytest.mark.parametrize("ct", [3000.0, 3500.0, 4500.0, 6000.0])
def test_linear_in_reciprocal_ct(ct):
    (ct_a, a), (ct_b, b) = [(c, v) for c, v in zip(TABLE, TABLE[1:], strict=False) if c[0] <= ct <= v[0]][0]
    weight = (1.0 / ct - 1.0 / ct_b) / (1.0 / ct_a - 1.0 / ct_b)
    np.testing.assert_allclose(interpolate_by_ct(TABLE, ct), weight * a + (1.0 - weight) * b, atol=EXACT)


def test_mired_midpoint_is_the_mean():
    midpoint_ct = 2.0 / (1.0 / 2850.0 + 1.0 / 4000.0)
    np.testing.assert_allclose(interpolate_by_ct(TABLE, midpoint_ct), (TABLE[0][1] + TABLE[1][1]) / 2, atol=EXACT)


def test_single_entry_is_constant_and_result_is_a_copy():
    table = [(5000.0, np.array([1.0, 2.0, 3.0]))]
    result = interpolate_by_ct(table, 3000.0)
    result[0] = 99.0
    np.testing.assert_array_equal(table[0][1], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "table",
    [
        [],
        [(4000.0, [1.0]), (4000.0, [2.0])],
        [(6500.0, [1.0]), (2850.0, [2.0])],
        [(0.0, [1.0]), (2850.0, [2.0])],
        [(float("nan"), [1.0])],
        [(2850.0, [1.0, 2.0]), (6500.0, [1.0])],
    ],
)
def test_malformed_tables_raise_bad_file_error(table):
    with pytest.raises(BadFileError):
        interpolate_by_ct(table, 4000.0)


@pytest.mark.parametrize("ct", [0.0, -5.0, float("nan"), float("inf")])
def test_invalid_query_raises_value_error(ct):
    with pytest.raises(ValueError):
        interpolate_by_ct(TABLE, ct)
