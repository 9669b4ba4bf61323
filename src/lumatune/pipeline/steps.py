"""Selecting, planning and running the stages of a walk: the helpers :func:`lumatune.pipeline.run` and the banded
walk share.

:func:`plan_step` turns a stage's block into its plan, :func:`process_step` runs it on an image or a band of
rows; :func:`prepare` plans a selection once for callers that run the same stages on many images of one shape
(the banded encoder, the look learner).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from lumatune.config.blocks import BlockSet
from lumatune.pipeline.order import ORDER, OrderEntry
from lumatune.stages.base import Frame

__all__ = ["Prepared", "merged_blocks", "plan_step", "planned", "prepare", "process_step", "selected"]


def merged_blocks(tuning, look) -> BlockSet:
    """One :class:`BlockSet` of the tuning's and the look's blocks (either may be None)."""
    sets = [side.blocks for side in (tuning, look) if side is not None]
    return BlockSet(
        params={name: p for blocks in sets for name, p in blocks.params.items()},
        disabled=frozenset().union(*(blocks.disabled for blocks in sets)),
    )


def selected(blocks: BlockSet, select: Iterable[str] | None) -> list[OrderEntry]:
    """The enabled entries of ``select`` (every stage when None), in table order.

    Raises
    ------
    ValueError : ``select`` names a stage the table does not hold.
    """
    wanted = None if select is None else frozenset(select)
    unknown = wanted - {entry.name for entry in ORDER} if wanted is not None else ()
    if unknown:
        raise ValueError(f"no such stage: {', '.join(sorted(unknown))}")
    return [e for e in ORDER if (wanted is None or e.name in wanted) and e.name not in blocks.disabled]


def plan_step(entry: OrderEntry, blocks: BlockSet, frame: Frame, image: np.ndarray):
    """The stage's plan for ``image`` from its block (the stage's defaults without one), and the block of the stage
    it :attr:`~lumatune.stages.base.Stage.reads` if any; None: nothing to do."""
    stage = entry.stage
    params = blocks.params.get(stage.name) or stage.params()
    if not stage.reads:
        return stage.plan(params, frame, image)
    (other,) = (e.stage for e in ORDER if e.name == stage.reads)
    other_params = None if other.name in blocks.disabled else blocks.params.get(other.name) or other.params()
    return stage.plan(params, frame, image, other_params)


def process_step(entry: OrderEntry, plan, image: np.ndarray, first_row: int | None = None) -> np.ndarray:
    """Run a planned stage on ``image`` (which it may overwrite); with ``first_row``, ``image`` holds the whole
    image's rows from ``first_row`` on (a band), which a stage whose result depends on the row is told."""
    stage = entry.stage
    if first_row is None or stage.process_band is None:
        return stage.process(image, plan)
    return stage.process_band(image, plan, first_row)


@dataclass(frozen=True)
class Prepared:
    """Stages planned once, to run on any image of the shape they were planned for (:func:`prepare`)."""

    steps: tuple[tuple[OrderEntry, object], ...]
    """(entry, plan) of each stage with something to do, in order."""

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Run the planned stages on ``image`` (which a stage may overwrite)."""
        for entry, plan in self.steps:
            image = process_step(entry, plan, image)
        return image

    def before(self, name: str) -> Prepared:
        """The planned stages that come before stage ``name`` in the table."""
        return Prepared(tuple(step for step in self.steps if _position(step[0].name) < _position(name)))

    def after(self, name: str) -> Prepared:
        """The planned stages that come after stage ``name`` in the table."""
        return Prepared(tuple(step for step in self.steps if _position(step[0].name) > _position(name)))

    def plan_of(self, name: str):
        """The plan of stage ``name``, or None when it has nothing to do (or was not selected)."""
        return next((plan for entry, plan in self.steps if entry.name == name), None)


def _position(name: str) -> int:
    return next(index for index, entry in enumerate(ORDER) if entry.name == name)


def planned(
    entries: Iterable[OrderEntry], blocks: BlockSet, frame: Frame, image: np.ndarray, plans: dict | None = None,
    times: dict | None = None,
) -> tuple:
    """(entry, plan) of each of ``entries`` with something to do, planned in order for images like ``image``;
    a stage named in ``plans`` takes the plan given there instead. ``times``, if given, receives each stage's
    planning time (seconds) by name."""
    plans = plans or {}
    steps = []
    for entry in entries:
        clock = time.perf_counter()
        plan = plans[entry.name] if entry.name in plans else plan_step(entry, blocks, frame, image)
        if times is not None:
            times[entry.name] = time.perf_counter() - clock
        if plan is not None:
            steps.append((entry, plan))
    return tuple(steps)


def prepare(
    frame: Frame, tuning, look, image: np.ndarray, *, select: Iterable[str] | None = None, plans: dict | None = None
) -> Prepared:
    """Plan the selected stages once, in order, for images like ``image`` (its shape: plans read no pixels).

    For stages whose plans depend only on the blocks, the frame and the image's shape (the look's point-wise
    and display stages); ``frame`` receives the statuses the plans write, as in :func:`lumatune.pipeline.run`.
    ``plans`` maps a stage name to a plan the caller made (e.g. a LUT stage's plan of a table in memory).
    """
    blocks = merged_blocks(tuning, look)
    return Prepared(planned(selected(blocks, select), blocks, frame, image, plans))
