"""Linearisation: the stored raw values as the DNG specification reads them, before any arithmetic on them.

First the GainMap opcodes of OpcodeList1, which apply to the raw image as read from the file: the stored
values are multiplied by the map's gain and, as the DNG SDK stores its stage-1 image, rounded and clipped to
the stored type's range. Then the LinearizationTable maps each stored value to a linear one.

References
----------
Adobe DNG Specification 1.6.0.0, chapter 5, "Linearization" (tag LinearizationTable, 50712); chapter 7,
OpcodeList1 ("applied to the raw image, as read directly from the file") and opcode 9 "GainMap".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.raw.opcodes import GainMap
from lumatune.stages.base import Frame, Stage
from lumatune.stages.lens_shading import GainPart, apply_gain_parts_fast, parts_from_gain_maps
from lumatune.stages.params import param

__all__ = ["LinearisePlan", "LineariseParams", "apply_stored_gain", "linearise", "linearise_table", "STAGE"]


@dataclass(frozen=True)
class LineariseParams:
    """Linearisation applies the raw's own opcodes and table; a tuning can only switch them off."""

    use_dng_table: bool = param(True, doc="apply the DNG LinearizationTable when LibRaw has not applied it")
    use_dng_opcode_list_1: bool = param(
        True, doc="apply the GainMap opcodes of the raw's OpcodeList1 (to the stored values, before the table)"
    )


@dataclass(frozen=True, eq=False)
class LinearisePlan:
    """What to do to the stored values: OpcodeList1's gain (None: none), then the table (None: none)."""

    gain: list[GainPart] | None
    table: np.ndarray | None


def linearise_table(data: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Look each stored value up in ``table`` (values past its end take the last entry), as float32."""
    index = np.minimum(data, table.size - 1)
    return np.take(table.astype(np.float32), index)


def apply_stored_gain(data: np.ndarray, parts: list[GainPart]) -> np.ndarray:
    """Stored values times the gain of ``parts``, a new array of ``data``'s type: integers are rounded to the
    nearest and clipped to the type's range (the DNG SDK's stage-1 image), floats kept as they are."""
    values = apply_gain_parts_fast(np.array(data, dtype=np.float32, order="C"), parts)
    if not np.issubdtype(data.dtype, np.integer):
        return values.astype(data.dtype, copy=False)
    top = np.iinfo(data.dtype).max
    return np.clip(np.rint(values), 0, top).astype(data.dtype)


def linearise(data: np.ndarray, plan: LinearisePlan) -> np.ndarray:
    """OpcodeList1's gain, then the table (:class:`LinearisePlan`)."""
    if plan.gain:
        data = apply_stored_gain(data, plan.gain)
    return data if plan.table is None else linearise_table(data, plan.table)


def _opcode_list_1_gain(frame: Frame, shape: tuple[int, int]) -> list[GainPart] | None:
    raw = frame.raw
    maps = tuple(op for op in raw.dng.opcode_lists[0] if isinstance(op, GainMap)) if raw.dng else ()
    if not maps:
        return None
    return parts_from_gain_maps(frame, maps, (0, 0, *raw.full_size), shape) or None


def _plan(params: LineariseParams, frame: Frame, image: np.ndarray) -> LinearisePlan | None:
    dng = frame.raw.dng
    if dng is None:
        return None
    gain = _opcode_list_1_gain(frame, image.shape[:2]) if params.use_dng_opcode_list_1 else None
    # LibRaw may have mapped the values through the table already while decoding (frame.raw.linearised)
    table = dng.linearization_table if params.use_dng_table and not frame.raw.linearised else None
    return None if gain is None and table is None else LinearisePlan(gain, table)


STAGE = Stage(
    name="linearise",
    side="tuning",
    params=LineariseParams,
    plan=_plan,
    process=linearise,
    summary="apply OpcodeList1's GainMaps to the stored values, then the DNG LinearizationTable",
)
