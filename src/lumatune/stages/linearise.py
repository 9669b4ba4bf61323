"""Linearisation: map stored raw values through the DNG LinearizationTable.

References
----------
Adobe DNG Specification 1.6.0.0, chapter 5, "Linearization" (tag LinearizationTable, 50712).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["LineariseParams", "linearise_table", "STAGE"]


@dataclass(frozen=True)
class LineariseParams:
    """Linearisation applies the raw's own table; a tuning can only switch it off."""

    use_dng_table: bool = param(True, doc="apply the DNG LinearizationTable when LibRaw has not applied it")


def linearise_table(data: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Look each stored value up in ``table`` (values past its end take the last entry), as float32."""
    index = np.minimum(data, table.size - 1)
    return np.take(table.astype(np.float32), index)


def _plan(params: LineariseParams, frame: Frame, image: np.ndarray):
    dng = frame.raw.dng
    if not params.use_dng_table or dng is None or dng.linearization_table is None:
        return None
    if frame.raw.linearised:
        return None  # LibRaw already mapped the values through the table while decoding
    return dng.linearization_table


STAGE = Stage(
    name="linearise",
    side="tuning",
    params=LineariseParams,
    plan=_plan,
    process=linearise_table,
    summary="map stored values through the DNG LinearizationTable",
)
