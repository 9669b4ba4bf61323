"""The pipeline: one order table, and ``run()`` which develops a raw through it.

Hard rules (checked by tests/test_pipeline.py): raw-domain stages come before demosaic; the colour matrix
comes before the tone/display transform; tone is the last scene -> display stage, and only display-domain
stages (sharpen, grain, vignette, crop, frame) follow it.

References
----------
darktable ``src/common/iop_order.c`` (one versioned order table with the reason beside each entry).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from lumatune.stages import (
    colour_matrix,
    crop,
    demosaic,
    denoise,
    exposure,
    frame,
    grain,
    highlights,
    hue_sat_map,
    lens_shading,
    levels,
    linearise,
    look_colour,
    lut,
    mono,
    sharpen,
    tone,
    vignette,
    white_balance,
)
from lumatune.stages.base import Frame, Stage

__all__ = ["ORDER", "STAGES", "BandedImage", "OrderEntry", "orient", "run", "stages_of_side"]


@dataclass(frozen=True)
class OrderEntry:
    stage: Stage
    domain: str  # "raw" (mosaic, camera RGB), "scene" (linear working space) or "display" (encoded)
    why: str


ORDER: tuple[OrderEntry, ...] = (
    OrderEntry(linearise.STAGE, "raw", "stored values must be linear before any arithmetic on them"),
    OrderEntry(levels.STAGE, "raw", "black subtraction is only valid on linear data; 0..1 scale for all after"),
    OrderEntry(lens_shading.STAGE, "raw", "gain maps are defined on the linearised, black-subtracted mosaic"),
    OrderEntry(white_balance.STAGE, "raw", "demosaicing works best on balanced channels (fewer colour artefacts)"),
    OrderEntry(denoise.STAGE, "raw", "noise is still per pixel and follows the sensor's model; demosaic would spread it"),
    OrderEntry(demosaic.STAGE, "raw", "needs the balanced mosaic; everything after works on full RGB"),
    OrderEntry(highlights.STAGE, "raw", "clipping is defined per camera channel, so fix it before the matrix mixes them"),
    OrderEntry(colour_matrix.STAGE, "scene", "camera RGB -> linear Rec.2020: every look stage works in one space"),
    OrderEntry(hue_sat_map.STAGE, "scene", "the calibration's non-linear colour fix belongs right after its matrix"),
    OrderEntry(exposure.STAGE, "scene", "a linear gain on scene-referred data, before any non-linear step"),
    OrderEntry(look_colour.STAGE, "scene", "saturation and hue edits act on scene colours, before tone compresses them"),
    OrderEntry(lut.STAGE, "scene", "a table grades the scene (or its colorimetric rendering) before the tone curve"),
    OrderEntry(mono.STAGE, "scene", "black and white from the graded colours; the tone curve then shapes the greys"),
    OrderEntry(tone.STAGE, "display", "the look's display transform: tone curve, gamut, OETF; display stages follow"),
    OrderEntry(sharpen.STAGE, "display", "sharpening taste acts on what is seen: display-encoded luma"),
    OrderEntry(grain.STAGE, "display", "grain sits on top of the finished tones and is not sharpened"),
    OrderEntry(vignette.STAGE, "display", "an artistic darkening of the finished picture's corners"),
    OrderEntry(crop.STAGE, "display", "framing: a view of the finished picture"),
    OrderEntry(frame.STAGE, "display", "border and caption go around the cropped picture; encode follows"),
)

STAGES: dict[str, Stage] = {entry.stage.name: entry.stage for entry in ORDER}


def stages_of_side(side: str) -> dict[str, Stage]:
    """The stages whose blocks live in a tuning file ("tuning") or a look file ("look")."""
    return {name: stage for name, stage in STAGES.items() if stage.side == side}


def orient(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Rotate by counter-clockwise quarter turns so that the image is upright."""
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns)) if quarter_turns % 4 else image


def run(frame: Frame, tuning, look, *, profile: dict | None = None, in_bands: bool = False) -> np.ndarray | BandedImage:
    """Develop ``frame.raw`` through every enabled stage; returns the display-encoded, upright float32 image
    (or, with ``in_bands``, possibly a :class:`BandedImage` that makes its rows on demand).

    Parameters
    ----------
    frame : the raw and the output options; stages write their status into it.
    tuning, look : :class:`~lumatune.config.tuning.Tuning` and :class:`~lumatune.config.look.Look`.
    profile : if given, filled with milliseconds per stage.
    in_bands : return a :class:`BandedImage` when the pipeline allows it (see there); else the image.
    """
    params = {**tuning.blocks.params, **look.blocks.params}
    disabled = tuning.blocks.disabled | look.blocks.disabled
    entries = [entry for entry in ORDER if entry.stage.name not in disabled]
    image = frame.raw.data
    for index, entry in enumerate(entries):
        stage = entry.stage
        stage_params = params.get(stage.name) or stage.params()
        if in_bands and stage.name == "demosaic":
            banded = _banded(frame, image, [(e.stage, params.get(e.stage.name) or e.stage.params()) for e in
                                            entries[index:]], profile)
            if banded is not None:
                return banded
        start = time.perf_counter()
        plan = stage.plan(stage_params, frame, image)
        if plan is not None:
            image = stage.process(image, plan)
        if profile is not None:
            profile[stage.name] = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    image = orient(image, frame.raw.orientation_turns)
    if profile is not None:
        profile["orient"] = (time.perf_counter() - start) * 1e3
    return image


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

    def __init__(self, demosaic_rows, steps: list, margin: int, profile: dict | None):
        self.demosaic_rows, self.steps, self.margin, self.profile = demosaic_rows, steps, margin, profile
        self.shape = (*demosaic_rows.shape, 3)
        self.dtype = np.dtype(np.float32)
        self.row_alignment = demosaic_rows.alignment
        """Bands start on multiples of this (the CFA period)."""
        self.bands = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        from lumatune.runtime.numba import numba_threads

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
        first = max(0, (start - self.margin) // align * align)  # the widened band starts on the CFA period too
        last = min(self.shape[0], stop + self.margin)
        times = {}
        clock = time.perf_counter()
        band = self.demosaic_rows(first, last, threads)
        times["demosaic"], clock = time.perf_counter() - clock, time.perf_counter()
        for stage, plan in self.steps:
            band = stage.process(band, plan) if stage.process_band is None else stage.process_band(band, plan, first)
            times[stage.name], clock = time.perf_counter() - clock, time.perf_counter()
        band = band[start - first : stop - first] if (first, last) != (start, stop) else band
        with self._lock:
            self.bands += 1
            if self.profile is not None:
                for name, seconds in times.items():
                    self.profile[name] = self.profile.get(name, 0.0) + seconds * 1e3
        return band



def _banded(frame: Frame, mosaic: np.ndarray, stages: list, profile: dict | None) -> BandedImage | None:
    """A :class:`BandedImage` for the demosaic and the ``(stage, params)`` after it, or None (with ``frame`` as
    it was) when one of them cannot work in bands: a method without a banded form, a stage with something to do
    and no band margin for it, or a raw that must be turned upright."""
    from lumatune.stages.demosaic import rows_demosaic

    (demosaic_stage, demosaic_params), rest = stages[0], stages[1:]
    demosaic_plan = demosaic_stage.plan(demosaic_params, frame, mosaic)
    if demosaic_plan is None or frame.raw.orientation_turns % 4:
        return None
    saved = {**vars(frame), "notes": list(frame.notes)}  # plans write statuses: undo them if we fall back
    placeholder = np.broadcast_to(np.float32(0.0), (*mosaic.shape, 3))  # the plans read its shape, no pixels
    steps, margin = [], 0
    for stage, params in rest:
        plan = stage.plan(params, frame, placeholder)
        if plan is None:
            continue
        stage_margin = stage.band_margin(plan) if stage.band_margin is not None else None
        if stage_margin is None:
            vars(frame).update(saved)
            return None
        steps.append((stage, plan))
        margin += stage_margin  # each neighbourhood stage reads its reach beyond what the next one needs
    demosaic_rows = rows_demosaic(mosaic, *demosaic_plan)  # last: for X-Trans it pads a copy of the mosaic
    if demosaic_rows is None:
        vars(frame).update(saved)
        return None
    return BandedImage(demosaic_rows, steps, margin, profile)
