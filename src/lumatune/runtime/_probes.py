"""The smallest compiled kernels, used only to start numba (:mod:`lumatune.runtime.numba`).

Imported lazily, since importing numba costs about 0.4 s; cached on disk like every kernel (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def serial_probe(x):
    """The cheapest compiled call: loading it makes numba fill its typing and lowering registries."""
    return x + 1


@njit(cache=True, parallel=True)
def parallel_probe(values: np.ndarray) -> np.ndarray:
    """A tiny parallel loop: the first parallel kernel in a process makes numba choose its threading layer."""
    out = np.empty_like(values)
    for i in prange(values.size):
        out[i] = values[i] + 1
    return out
