"""Small float32 building blocks for the look stages' numba kernels: table lookup, cube root, hue index.

Each is an approximation with a stated error, used only inside compiled kernels whose plain numpy twins
(in the stage files) use the exact functions; the stage tests check the twins agree.

References
----------
-   W. Kahan, "Computing a real cube root", 1991 (the exponent-third bit trick for the first guess).
-   E. Halley's iteration for the cube root, ``y <- y (y^3 + 2x) / (2y^3 + x)`` (cubic convergence).
-   "Diamond angle": a monotone, division-only stand-in for ``atan2`` on the L1 unit circle (a pseudo-angle
    in [0, 4) that a table turns back into degrees), as in Stack Overflow question 1427422 and P. Gibbs'
    notes on fast angle comparisons.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["lookup", "fast_cbrt", "diamond_angle", "diamond_to_degrees", "CBRT_RELATIVE_ERROR"]

CBRT_RELATIVE_ERROR = 1e-6
"""Bound on the relative error of :func:`fast_cbrt` against the exact cube root (measured: 2.4e-7)."""

_CBRT_MAGIC = np.int32(709921077)  # (127 - 127 / 3) << 23: a third of the exponent, the bias kept


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE-754 bits of a float32 as an int32."""
    signature = types.int32(types.float32)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return signature, codegen


@intrinsic
def _bits_float(typingctx, i):
    """The float32 whose IEEE-754 bits are the int32 ``i``."""
    signature = types.float32(types.int32)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return signature, codegen


@njit(cache=True, fastmath=True, inline="always")
def lookup(u, table, last):
    """Linear interpolation in the 1-D ``table`` at ``u`` (table index units, clamped to [0, last]); float32."""
    f = min(max(u, np.float32(0.0)), last)
    k = np.int32(f)
    a = table[k]
    return a + (f - np.float32(k)) * (table[k + 1] - a)


@njit(cache=True, fastmath=True, inline="always")
def fast_cbrt(x):
    """Cube root of a float32 (any sign): bit-trick guess and two Halley steps; |x| below 1e-30 reads as 1e-30."""
    a = max(abs(x), np.float32(1e-30))
    y = _bits_float(np.int32(_float_bits(a) // 3 + _CBRT_MAGIC))
    y3 = y * y * y
    y = y * (y3 + a + a) / (y3 + y3 + a)
    y3 = y * y * y
    y = y * (y3 + a + a) / (y3 + y3 + a)
    return y if x >= 0 else -y


@njit(cache=True, fastmath=True, inline="always")
def diamond_angle(a, b):
    """Pseudo-angle of the vector (a, b) in [0, 4): monotone in the true angle, 0 along +a, 1 along +b."""
    if b >= 0:
        if a >= 0:
            return b / (a + b + np.float32(1e-30))
        return np.float32(1.0) - a / (b - a)
    if a < 0:
        return np.float32(2.0) - b / (-a - b)
    return np.float32(3.0) + a / (a - b)


def diamond_to_degrees(d: np.ndarray) -> np.ndarray:
    """The true angle in degrees [0, 360) of the pseudo-angles ``d`` (numpy, for building tables)."""
    d = np.asarray(d, np.float64) % 4.0
    quadrant = np.floor(d)
    f = d - quadrant
    angle = np.degrees(np.arctan2(f, 1.0 - f))  # angle inside the quadrant, of the point (1 - f, f)
    return (quadrant * 90.0 + angle) % 360.0
