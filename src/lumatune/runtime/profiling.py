"""The memory-bandwidth bound that ``lumatune develop --profile`` prints beside each stage's time.

One float32 read-modify-write pass over the developed image (``x = a x + b`` on every value, both cores) is
the least any stage that touches every pixel once can cost: a stage's time divided by it says how many such
passes the stage is worth, so how far it is from the bound.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

__all__ = ["float32_pass_ms"]


@njit(parallel=True, nogil=True, cache=True)
def _multiply_add(flat, a, b):
    for i in prange(flat.shape[0]):
        flat[i] = flat[i] * a + b


def float32_pass_ms(shape: tuple[int, ...], repeats: int = 3) -> float:
    """Best-of-``repeats`` milliseconds of one read-modify-write pass over a float32 image of ``shape``.

    The pass multiplies by 1 and adds 0, given at run time so the compiler cannot drop it.
    """
    flat = np.ones(int(np.prod(shape)), dtype=np.float32)
    one, zero = np.float32(1.0), np.float32(0.0)
    _multiply_add(flat[:64], one, zero)  # load the kernel outside the timing
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        _multiply_add(flat, one, zero)
        best = min(best, time.perf_counter() - start)
    return best * 1e3
