"""The stages' one fast-math policy (:data:`FASTMATH`) and small float32 building blocks for their numba
kernels: table lookup, cube root, log2 and exp2, hue index.

Kernels compile with ``fastmath=FASTMATH``, or ``fastmath=False`` with a comment where they must give the same
floats as their plain twin, bit for bit. A compiled twin ``X_fast`` takes the same arguments as its plain
numpy twin ``X`` and may overwrite its input (the pipeline never reads an image again after handing it to
the next stage).

Each building block is an approximation with a stated error, used only inside compiled kernels whose plain
numpy twins (in the stage files) use the exact functions; ``tests/stages/test_twins.py`` checks the twins agree.

References
----------
-   W. Kahan, "Computing a real cube root", 1991 (the exponent-third bit trick for the first guess).
-   E. Halley's iteration for the cube root, ``y <- y (y^3 + 2x) / (2y^3 + x)`` (cubic convergence: a 3.5 %
    first guess becomes 3e-5).
-   S. L. Moshier, Cephes Math Library (``logf.c``, ``exp2f.c``), 1984-2000: the float32 polynomials of
    :func:`fast_log2` and :func:`fast_exp2` (range reduction to a mantissa near 1 and a fraction in [-1/2, 1/2]).
-   "Diamond angle": a monotone, division-only stand-in for ``atan2`` on the L1 unit circle (a pseudo-angle
    in [0, 4) that a table turns back into degrees), as in Stack Overflow question 1427422 and P. Gibbs'
    notes on fast angle comparisons.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "CBRT_RELATIVE_ERROR",
    "EXP2_RELATIVE_ERROR",
    "FASTMATH",
    "LOG2_ABSOLUTE_ERROR",
    "LOG_TABLE_SHIFT",
    "clamp01",
    "diamond_angle",
    "diamond_to_degrees",
    "fast_cbrt",
    "fast_exp2",
    "fast_log2",
    "log_grid",
    "lookup",
    "lookup_log",
]

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
"""LLVM fast-math flags of the stages' kernels: every one but ``nnan`` and ``ninf``, so that NaN and infinity
(from a hostile tuning overflowing float32) keep IEEE comparisons and are clamped before they index a table."""


CBRT_RELATIVE_ERROR = 5e-5
"""Bound on the relative error of :func:`fast_cbrt` against the exact cube root (measured: 3.0e-5)."""

_CBRT_MAGIC = np.int32(709921077)  # (127 - 127 / 3) << 23: a third of the exponent, the bias kept


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE-754 bits of a float32 as an int32."""
    signature = types.int32(types.float32)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return signature, codegen


_I32, _F32 = ir.IntType(32), ir.FloatType()


@intrinsic
def _exponent(typingctx, x):
    """The unbiased binary exponent of a positive normal float32, as a float32.

    In int32 (numba widens integer arithmetic to 64 bits, which halves the width of a vectorised loop)."""

    def codegen(context, builder, sig, args):
        biased = builder.and_(builder.lshr(builder.bitcast(args[0], _I32), _I32(23)), _I32(0xFF))
        return builder.sitofp(builder.sub(biased, _I32(127)), _F32)

    return types.float32(types.float32), codegen


@intrinsic
def _significand(typingctx, x):
    """The significand of a positive normal float32, in [1, 2) (its exponent field set to that of 1)."""

    def codegen(context, builder, sig, args):
        bits = builder.and_(builder.bitcast(args[0], _I32), _I32(0x007FFFFF))
        return builder.bitcast(builder.or_(bits, _I32(0x3F800000)), _F32)

    return types.float32(types.float32), codegen


@intrinsic
def _times_pow2(typingctx, p, n):
    """``p 2^n`` for an integral float32 ``n``, by adding ``n`` to the exponent field (int32; no range check)."""

    def codegen(context, builder, sig, args):
        shift = builder.shl(builder.fptosi(args[1], _I32), _I32(23))
        return builder.bitcast(builder.add(builder.bitcast(args[0], _I32), shift), _F32)

    return types.float32(types.float32, types.float32), codegen


LOG2_ABSOLUTE_ERROR = 1.5e-7
"""Bound on the absolute error of :func:`fast_log2`, plus the float32 rounding of the result (``2^-24 |log2 x|``):
measured 1.0e-7 on [1/2, 2), 1.0e-6 on [2^-30, 2^30] (half a unit in the last place of 30)."""
EXP2_RELATIVE_ERROR = 2e-7
"""Bound on the relative error of :func:`fast_exp2` (measured: 1.0e-7 on [-125, 125])."""


@njit(cache=True, fastmath=FASTMATH, inline="always")
def fast_log2(x):
    """``log2(x)`` of a positive normal float32: exponent plus Cephes' ``logf`` polynomial of the significand
    folded into [sqrt(1/2), sqrt(2)). No branches (vectorises); 0, negatives, NaN and denormals give garbage,
    +inf gives 128: callers clamp."""
    e = _exponent(x)
    m = _significand(x)
    high = m > np.float32(1.4142135)
    m = m * np.float32(0.5) if high else m
    e = e + np.float32(1.0) if high else e
    t = m - np.float32(1.0)
    z = t * t
    p = np.float32(7.0376836292e-2)
    p = p * t - np.float32(1.1514610310e-1)
    p = p * t + np.float32(1.1676998740e-1)
    p = p * t - np.float32(1.2420140846e-1)
    p = p * t + np.float32(1.4249322787e-1)
    p = p * t - np.float32(1.6668057665e-1)
    p = p * t + np.float32(2.0000714765e-1)
    p = p * t - np.float32(2.4999993993e-1)
    p = p * t + np.float32(3.3333331174e-1)
    return (t - np.float32(0.5) * z + p * t * z) * np.float32(1.4426950408889634) + e


@njit(cache=True, fastmath=FASTMATH, inline="always")
def fast_exp2(y):
    """``2^y`` for ``y`` in [-125, 125] (float32): integer part into the exponent field, Cephes' ``exp2f``
    polynomial for the fraction in [-1/2, 1/2]. No branches (vectorises); callers clamp ``y``."""
    i = np.floor(y + np.float32(0.5))
    f = y - i
    p = np.float32(1.535336188319500e-4)
    p = p * f + np.float32(1.339887440266574e-3)
    p = p * f + np.float32(9.618437357674640e-3)
    p = p * f + np.float32(5.550332471162809e-2)
    p = p * f + np.float32(2.402264791363012e-1)
    p = p * f + np.float32(6.931472028550421e-1)
    p = p * f + np.float32(1.0)
    return _times_pow2(p, i)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def lookup(u, table, last):
    """Linear interpolation in the 1-D ``table`` at ``u`` (table index units, clamped to [0, last]); float32.

    NaN reads as 0 and +inf as ``last``: the comparisons are written so that NaN takes the safe branch, and the
    kernels are compiled without the no-NaN assumption (:data:`FASTMATH`), so no index ever leaves the table.
    """
    f = (u if u < last else last) if u > np.float32(0.0) else np.float32(0.0)  # not min/max: NaN must read 0
    k = np.int32(f)
    a = table[k]
    return a + (f - np.float32(k)) * (table[k + 1] - a)


LOG_TABLE_SHIFT = 15
"""A log-grid table has 2^(23 - 15) = 256 intervals per octave: the top 8 mantissa bits pick the interval."""


def log_grid(low_exponent: int, high_exponent: int) -> tuple[np.ndarray, int]:
    """Knots 0, then ``2^e (1 + m/2^k)`` from ``2^low_exponent`` to ``2^high_exponent``; and the second knot's index.

    A table sampled at these knots is read by :func:`lookup_log` with integer operations only: the float's
    bits shifted right by :data:`LOG_TABLE_SHIFT` are the interval, the bits below are the linear fraction.
    """
    first = int(np.float32(2.0**low_exponent).view(np.int32)) >> LOG_TABLE_SHIFT
    last = int(np.float32(2.0**high_exponent).view(np.int32)) >> LOG_TABLE_SHIFT
    knots = (np.arange(first, last + 1, dtype=np.int32) << LOG_TABLE_SHIFT).view(np.float32)
    return np.concatenate([[0.0], knots.astype(np.float64)]), first


@njit(cache=True, fastmath=FASTMATH, inline="always")
def lookup_log(x, table, first, inv_low):
    """Linear interpolation at ``x`` in a table sampled on :func:`log_grid` (``first`` from it, ``inv_low`` the
    reciprocal of its first non-zero knot).

    Between 0 and the first non-zero knot it interpolates linearly, at and below 0 it reads ``table[0]``,
    above the last knot (and for NaN) ``table[-1]``: integer clamps, so no index leaves the table.
    """
    bits = _float_bits(x)
    segment = (bits >> LOG_TABLE_SHIFT) - first + 1
    top = table.shape[0] - 2
    if segment < 1:  # below the first non-zero knot, zero and negatives included (their bits are negative)
        f = x * inv_low
        f = (f if f < np.float32(1.0) else np.float32(1.0)) if f > np.float32(0.0) else np.float32(0.0)
        return table[0] + f * (table[1] - table[0])
    if segment > top:
        return table[top + 1]
    f = np.float32(bits & ((1 << LOG_TABLE_SHIFT) - 1)) * np.float32(2.0**-LOG_TABLE_SHIFT)
    a = table[segment]
    return a + f * (table[segment + 1] - a)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def clamp01(v):
    """``v`` clamped to [0, 1], NaN to 0."""
    return (v if v < np.float32(1.0) else np.float32(1.0)) if v > np.float32(0.0) else np.float32(0.0)


@intrinsic
def _cbrt_guess(typingctx, a):
    """Kahan's first guess of the cube root of a positive float32: a third of its bits plus the magic number
    (:data:`_CBRT_MAGIC`), in int32 (unsigned division by 3), so that a loop calling it vectorises."""

    def codegen(context, builder, sig, args):
        third = builder.udiv(builder.bitcast(args[0], _I32), _I32(3))
        return builder.bitcast(builder.add(third, _I32(int(_CBRT_MAGIC))), _F32)

    return types.float32(types.float32), codegen


@njit(cache=True, fastmath=FASTMATH, inline="always")
def fast_cbrt(x):
    """Cube root of a float32 (any sign): bit-trick guess (3.5 % off) and one Halley step (3e-5 off).

    |x| below 1e-30 reads as 1e-30. One step keeps the colour stage's round trip within 1e-4 relative,
    invisible at 16 bits; a second step (2e-7) would cost a third of the stage's time.
    """
    a = max(abs(x), np.float32(1e-30))
    y = _cbrt_guess(a)
    y3 = y * y * y
    y = y * (y3 + a + a) / (y3 + y3 + a)
    return y if x >= 0 else -y


@njit(cache=True, fastmath=FASTMATH, inline="always")
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
