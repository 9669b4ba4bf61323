"""The one interpolator of colour-temperature tables (matrices, gains, shading maps).

A colour-temperature table is a list of ``(ct, value)`` pairs: ``ct`` in kelvin, strictly increasing,
``value`` an array of one shape shared by all entries. Values are interpolated linearly in reciprocal
colour temperature (1/CCT, i.e. in mired), which is the rule of the DNG colour model and of libcamera's
``Interpolator``, and held constant beyond the first and the last entry.

References
----------
-   Adobe Systems. (2021). Digital Negative (DNG) Specification, Version 1.6.0.0, chapter 6, "Mapping
    Camera Color Space to CIE XYZ Space" (interpolation of ColorMatrix1/2 "based on the inverse of the
    correlated color temperature").
-   libcamera, ``src/ipa/libipa/interpolator.h`` (colour-temperature-keyed tables read by one
    interpolator).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from lumatune.errors import BadFileError

__all__ = ["interpolate_by_ct"]


def _validated_table(table: Sequence[tuple[float, ArrayLike]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return the cts and values of ``table`` after checking that it is a well-formed CT table."""
    if len(table) == 0:
        raise BadFileError("colour-temperature table is empty")
    cts = np.array([float(ct) for ct, _ in table])
    values = [np.asarray(value, dtype=np.float64) for _, value in table]
    if not (np.all(np.isfinite(cts)) and np.all(cts > 0)):
        raise BadFileError(f"colour-temperature table: ct values must be finite and > 0, got {cts.tolist()}")
    if np.any(np.diff(cts) <= 0):
        raise BadFileError(f"colour-temperature table: ct values must be strictly increasing, got {cts.tolist()}")
    if any(value.shape != values[0].shape for value in values):
        shapes = [value.shape for value in values]
        raise BadFileError(f"colour-temperature table: entries have different shapes {shapes}")
    return cts, values


def interpolate_by_ct(table: Sequence[tuple[float, ArrayLike]], ct: float) -> np.ndarray:
    """Interpolate a colour-temperature table at ``ct``, linearly in 1/ct, clamped at both ends.

    Parameters
    ----------
    table
        ``[(ct_0, value_0), (ct_1, value_1), ...]`` with ``ct`` in kelvin, strictly increasing, and values
        of one shape.
    ct
        Colour temperature to interpolate at, in kelvin (finite, > 0).

    Returns
    -------
    numpy.ndarray
        A new float64 array of the values' shape: ``value_0`` for ``ct <= ct_0``, the last value for ``ct``
        beyond the last entry, else ``g * value_i + (1 - g) * value_{i+1}`` with
        ``g = (1/ct - 1/ct_{i+1}) / (1/ct_i - 1/ct_{i+1})``.

    Raises
    ------
    BadFileError
        The table is empty, its cts are not finite, positive and strictly increasing, or its values differ
        in shape.
    ValueError
        ``ct`` is not finite and positive.

    References
    ----------
    DNG Specification 1.6.0.0, chapter 6 (``dng_color_spec::FindXYZtoCamera`` of the DNG SDK computes the
    same weight ``g``); libcamera ``libipa::Interpolator``.

    Examples
    --------
    >>> interpolate_by_ct([(2850.0, [1.0]), (6500.0, [0.0])], 4000.0).round(4)
    array([0.488])
    """
    cts, values = _validated_table(table)
    if not (np.isfinite(ct) and ct > 0):
        raise ValueError(f"colour temperature must be finite and > 0, got {ct}")
    if ct <= cts[0]:
        return values[0].copy()
    if ct >= cts[-1]:
        return values[-1].copy()
    upper = int(np.searchsorted(cts, ct, side="right"))
    lower = upper - 1
    g = (1.0 / ct - 1.0 / cts[upper]) / (1.0 / cts[lower] - 1.0 / cts[upper])
    return g * values[lower] + (1.0 - g) * values[upper]
