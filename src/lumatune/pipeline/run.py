"""The one walk over the order table: :func:`run` develops a raw (or runs a selection of stages on any image).

Every path that runs stages comes here: ``develop``, the look tools (:mod:`lumatune.pipeline.pointwise`),
calibration's captures and the look learner; the banded encoder's walk (:mod:`lumatune.pipeline.bands`) starts
here too. Both plan and run each stage with :func:`lumatune.pipeline.steps.plan_step` and
:func:`~lumatune.pipeline.steps.process_step`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from lumatune.pipeline.bands import BandedImage, banded
from lumatune.pipeline.steps import merged_blocks, plan_step, process_step, selected
from lumatune.stages.base import Frame

__all__ = ["orient", "run"]


def orient(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Rotate by counter-clockwise quarter turns so that the image is upright."""
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns)) if quarter_turns % 4 else image


def run(
    frame: Frame,
    tuning,
    look,
    *,
    image: np.ndarray | None = None,
    select: Iterable[str] | None = None,
    profile: dict | None = None,
    in_bands: bool = False,
) -> np.ndarray | BandedImage:
    """Develop ``frame.raw`` through every enabled stage, or run a selection of stages on ``image``.

    Parameters
    ----------
    frame : the raw and the output options; stages write their status into it.
    tuning, look : :class:`~lumatune.config.tuning.Tuning` and :class:`~lumatune.config.look.Look` (anything
        with ``blocks``), or None for none of that side's blocks (the stages' defaults).
    image : what the first stage reads; default ``frame.raw.data``. A stage may overwrite it.
    select : names of the stages to run, walked in table order (disabled ones skipped); default all of them.
        With a selection the result is not turned upright.
    profile : if given, filled with milliseconds per stage.
    in_bands : return a :class:`BandedImage` when the pipeline allows it (see there); else the image.

    Returns
    -------
    numpy.ndarray or BandedImage : the display-encoded, upright float32 image for a whole development;
        the last selected stage's output with a selection.
    """
    blocks = merged_blocks(tuning, look)
    entries = selected(blocks, select)
    image = frame.raw.data if image is None else image
    for index, entry in enumerate(entries):
        if in_bands and entry.rows is not None:
            rows = banded(entry, frame, image, entries[index + 1 :], blocks, profile)
            if rows is not None:
                return rows
        start = time.perf_counter()
        plan = plan_step(entry, blocks, frame, image)
        if plan is not None:
            image = process_step(entry, plan, image)
        if profile is not None:
            profile[entry.name] = (time.perf_counter() - start) * 1e3
    if select is not None:
        return image
    start = time.perf_counter()
    image = orient(image, frame.raw.orientation_turns)
    if profile is not None:
        profile["orient"] = (time.perf_counter() - start) * 1e3
    return image
