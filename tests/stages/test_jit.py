"""The kernels' float32 building blocks (lumatune.stages._jit) against numpy's float64 functions, within the
bounds the module states."""

from __future__ import annotations

import numpy as np
from numba import njit

from lumatune.stages._jit import (
    CBRT_RELATIVE_ERROR,
    EXP2_RELATIVE_ERROR,
    LOG2_ABSOLUTE_ERROR,
    fast_cbrt,
    fast_exp2,
    fast_log2,
)


@njit(cache=True)
def _map(function_id, x):
    out = np.empty_like(x)
    for i in range(x.size):
        v = x[i]
        out[i] = fast_log2(v) if function_id == 0 else fast_exp2(v) if function_id == 1 else fast_cbrt(v)
    return out


def test_fast_log2_within_its_bound():
    x = np.geomspace(2.0**-30, 2.0**30, 200_001).astype(np.float32)
    exact = np.log2(x.astype(np.float64))
    bound = LOG2_ABSOLUTE_ERROR + 2.0**-24 * np.abs(exact)  # plus float32's rounding of the result
    assert np.all(np.abs(_map(0, x) - exact) <= bound)


def test_fast_exp2_within_its_bound():
    y = np.linspace(-125.0, 125.0, 200_001).astype(np.float32)
    exact = np.exp2(y.astype(np.float64))
    assert np.all(np.abs(_map(1, y) / exact - 1.0) <= EXP2_RELATIVE_ERROR)


def test_fast_cbrt_within_its_bound_for_both_signs():
    x = np.geomspace(1e-20, 1e20, 100_001).astype(np.float32)
    x = np.concatenate([x, -x])
    exact = np.cbrt(x.astype(np.float64))
    assert np.all(np.abs(_map(2, x) / exact - 1.0) <= CBRT_RELATIVE_ERROR)
