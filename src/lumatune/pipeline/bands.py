"""The developed image made a band of rows at a time: the walk from the demosaic on, for the encoders' strips."""

from __future__ import annotations

import threading
import time

import numpy as np

from lumatune.config.blocks import BlockSet
from lumatune.pipeline.order import OrderEntry
from lumatune.pipeline.steps import plan_step, planned, process_step
from lumatune.runtime.numba import numba_threads
from lumatune.stages.base import Frame

__all__ = ["BandedImage", "banded"]


class BandedImage:
    """The developed image whose rows are made on demand: ``image[a:b]`` demosaics rows a..b (``a`` a multiple of
    :attr:`row_alignment`), widened by the rows the stages after it read around a band (their ``band_margin``:
    sharpening's blur), runs those stages and returns rows a..b, the same floats as the whole image's; on the
    calling thread alone, so several threads can each develop their own band at once.

    This is how ``lumatune develop`` writes a JPEG or TIFF: each strip or band of the encoder develops, quantises
    and compresses its own rows on one core, bands on every core, and the whole float image (288 MB for 24 MP)
    never exists.
    ``numpy.asarray(image)`` develops all rows. Stage times, when profiled, are summed over the bands.
    """

    rows_on_demand = True
    """Tells the encoders (:func:`lumatune.io.encode.save`) to ask for rows rather than for the whole image."""

    def __init__(self, demosaic_rows, steps: tuple, margins: list[int], profile: dict | None):
        self.demosaic_rows, self.steps, self.profile = demosaic_rows, steps, profile
        self.margin = sum(margins)
        self.shape = (*demosaic_rows.shape, 3)
        self.dtype = np.dtype(np.float32)
        self.row_alignment = demosaic_rows.alignment
        """Bands start on multiples of this (the CFA period)."""
        self.bands = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        with numba_threads(1):
            return self._develop(rows, threads=1)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every row, on every core (for consumers that need the whole image)."""
        image = self._develop(slice(None), threads=None)
        return image if dtype is None else image.astype(dtype)

    def _develop(self, rows: slice, threads: int | None) -> np.ndarray:
        start, stop, step = rows.indices(self.shape[0])
        if step != 1:
            raise IndexError("a BandedImage is sliced by contiguous rows only")
        if start % self.row_alignment:
            raise ValueError(f"band start row {start} is not a multiple of the CFA period {self.row_alignment}")
        align = self.row_alignment
        ranges, low, high = [], start, stop  # the rows each stage must hand on: what the stages after it read
        for entry, plan in reversed(self.steps):
            ranges.append((low, high))
            low, high = entry.band_reach(plan, low, high)
            low, high = max(0, min(low, start)), min(self.shape[0], max(high, stop))
        first = low // align * align  # the widened band starts on the CFA period too
        last = high
        times = {}
        clock = time.perf_counter()
        band = self.demosaic_rows(first, last, threads)
        times["demosaic"], clock = time.perf_counter() - clock, time.perf_counter()
        for (entry, plan), needed in zip(self.steps, reversed(ranges)):
            band = process_step(entry, plan, band, first)
            keep = max(first, needed[0]), min(last, needed[1])  # the other rows only fed this stage's reach
            if keep != (first, last):
                band, first, last = band[keep[0] - first : keep[1] - first], *keep
            times[entry.name], clock = time.perf_counter() - clock, time.perf_counter()
        band = band[start - first : stop - first] if (first, last) != (start, stop) else band
        with self._lock:
            self.bands += 1
            if self.profile is not None:
                for name, seconds in times.items():
                    self.profile[name] = self.profile.get(name, 0.0) + seconds * 1e3
        return band


def banded(
    entry: OrderEntry, frame: Frame, mosaic: np.ndarray, rest: list[OrderEntry], blocks: BlockSet, profile: dict | None
) -> BandedImage | None:
    """A :class:`BandedImage` for the stage that makes rows on demand (``entry.rows``: the demosaic) and the
    enabled ``rest`` after it, or None (with ``frame`` as it was) when one of them cannot work in bands: a
    method without a banded form, a stage with something to do and no band margin for it, or a raw that must be
    turned upright."""
    planning = {}
    clock = time.perf_counter()
    first_plan = plan_step(entry, blocks, frame, mosaic)
    planning[entry.name] = time.perf_counter() - clock
    if first_plan is None or frame.raw.orientation_turns % 4:
        return None
    saved = {**vars(frame), "notes": list(frame.notes)}  # plans write statuses: undo them if we fall back
    placeholder = np.broadcast_to(np.float32(0.0), (*mosaic.shape, 3))  # the plans read its shape, no pixels
    steps = planned(rest, blocks, frame, placeholder, times=planning)
    margins = [step.band_margin(plan) for step, plan in steps]
    if None in margins:
        vars(frame).update(saved)
        return None
    rows = entry.rows(mosaic, *first_plan)  # last: for X-Trans it pads a copy of the mosaic
    if rows is None:
        vars(frame).update(saved)
        return None
    if profile is not None:  # a stage's time includes its plan, as when it runs on the whole image
        for name, seconds in planning.items():
            profile[name] = profile.get(name, 0.0) + seconds * 1e3
    return BandedImage(rows, steps, margins, profile)  # each stage reads its reach beyond the next one's
