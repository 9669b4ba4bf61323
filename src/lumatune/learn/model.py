"""The learned look as data: the look blocks it sets, rendered exactly as the pipeline renders them.

A :class:`LearnedLook` holds what the fit found, in the look file's own terms: ``[exposure] ev``, a ``[tone]``
curve of ``points`` (sRGB-encoded in and out, input 1 at scene white 1, per channel: ``hue_preservation =
0``), a ``[colour]`` block (saturation, vibrance, the eight-hue table), a 3-D ``[lut]`` over display-encoded
Rec.2020 (the colorimetric rendering of the graded scene, so that its wide gamut is kept) and a
``[vignette]``. :func:`render_samples` runs the look as written (``neutral`` plus those blocks, :func:`look_of`)
through the pipeline's own walk (:func:`lumatune.pipeline.prepare`, the point-wise stages), so that the fit sees
what ``lumatune develop`` will do; only the vignette, which depends on where a sample lies in its
frame, is applied per sample, with the stage's own weight at the sample's pixel (:func:`vignette_weights`).
:func:`write_look` writes the look TOML (``base = "neutral"``) and its ``.cube``.

References
----------
-   Adobe Systems, "Cube LUT Specification" 1.0, 2013.
-   darktable ``src/common/iop_order.c`` (exposure -> colour -> LUT -> tone -> vignette, as lumatune's order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from lumatune.colour.spaces import matrix_rec2020_to, matrix_rgb_to_xyz
from lumatune.config.blocks import BlockSet
from lumatune.config.look import Look, load_look
from lumatune.io.atomic import atomic_output
from lumatune.io.lut import Lut, write_cube
from lumatune.pipeline import POINTWISE, Prepared, bare_frame, prepare
from lumatune.stages.exposure import ExposureParams
from lumatune.stages.look_colour import ColourParams
from lumatune.stages.lut import LutPlan
from lumatune.stages.params import params_to_dict
from lumatune.stages.tone import ToneParams
from lumatune.stages.vignette import VignetteParams, vignette_plan, vignette_weight_at

__all__ = [
    "LUT_SPACE",
    "TONE_WHITE",
    "LearnedLook",
    "look_of",
    "lut_plan_of",
    "pointwise_walk",
    "tone_params_of",
    "as_image",
    "from_image",
    "render_samples",
    "vignette_weights",
    "vignetted",
    "identity_lut",
    "look_text",
    "write_look",
]

LUT_SPACE = "rec2020"
"""The learned LUT's input and output: display-encoded Rec.2020 (sRGB curve), the colorimetric rendering."""
TONE_WHITE = 1.0
"""Scene value at the tone curve's input 1: the neutral rendering's white, whatever the raw's clip level."""
IMAGE_WIDTH = 256
"""Samples per row of the images the stage kernels render samples in."""
_DIGITS = 5  # decimals written for curve points and table values


@dataclass(frozen=True)
class LearnedLook:
    """What the fit found; a block left at None is not part of the look.

    Attributes
    ----------
    ev : ``[exposure] ev`` on top of the raw's own exposure.
    points : ``[tone] points`` ((input, output) pairs, sRGB-encoded), or () for no curve.
    colour : the ``[colour]`` params, or None.
    lut : (n, n, n, 3) float32 table over display-encoded Rec.2020 ``[r, g, b]``, or None.
    vignette : the ``[vignette]`` params, or None.
    stages : the fitted stages, in order.
    """

    ev: float = 0.0
    points: tuple[tuple[float, float], ...] = ()
    colour: ColourParams | None = None
    lut: np.ndarray | None = field(default=None, repr=False)
    vignette: VignetteParams | None = None
    stages: tuple[str, ...] = ()

    def replace(self, **changes) -> LearnedLook:
        return dataclasses.replace(self, **changes)


def tone_params_of(look: LearnedLook) -> ToneParams:
    """The ``[tone]`` params: the points curve per channel, or the colorimetric display transform."""
    if not look.points:
        return ToneParams(curve="none")
    return ToneParams(curve="points", points=look.points, white=TONE_WHITE, hue_preservation=0.0)


def lut_plan_of(table: np.ndarray) -> LutPlan:
    """The LUT stage's plan for an in-memory table over display-encoded :data:`LUT_SPACE`."""

    to_space = matrix_rec2020_to(LUT_SPACE)
    return LutPlan(
        table=np.ascontiguousarray(table, np.float32),
        domain_min=np.zeros(3),
        domain_max=np.ones(3),
        strength=1.0,
        space=LUT_SPACE,
        to_space=to_space,
        from_space=np.linalg.inv(to_space),
        luminance=matrix_rgb_to_xyz(LUT_SPACE)[1],
    )


def identity_lut(size: int) -> np.ndarray:
    """(size, size, size, 3) lattice whose entries are their own coordinates ``[r, g, b]``."""
    grid = np.linspace(0.0, 1.0, size, dtype=np.float32)
    return np.ascontiguousarray(np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1))


def vignette_weights(params: VignetteParams, position: np.ndarray, frame_index: np.ndarray, frames) -> np.ndarray:
    """(n,) weight of the vignette at each sample: the stage's own weight at the sample's place in its full-size
    frame (:func:`lumatune.stages.vignette.vignette_weight_at`), as ``develop`` computes it for that pixel."""
    weights = np.zeros(len(position), np.float32)
    for index, shape in enumerate(frames):
        chosen = frame_index == index
        if chosen.any():
            row, column = position[chosen, 1] * shape[0] - 0.5, position[chosen, 0] * shape[1] - 0.5
            weights[chosen] = vignette_weight_at(row, column, shape, vignette_plan(params, shape))
    return weights


def as_image(colours: np.ndarray) -> np.ndarray:
    """(n, 3) colours as a contiguous float32 (rows, :data:`IMAGE_WIDTH`, 3) image, zero-padded (a copy).

    The stages' kernels run their rows in parallel: one sample per row would spend the time scheduling.
    """
    colours = np.asarray(colours, np.float32).reshape(-1, 3)
    rows = max(1, -(-len(colours) // IMAGE_WIDTH))
    image = np.zeros((rows * IMAGE_WIDTH, 3), np.float32)
    image[: len(colours)] = colours
    return image.reshape(rows, IMAGE_WIDTH, 3)


def from_image(image: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` colours of an image made by :func:`as_image`, as (count, 3)."""
    return image.reshape(-1, 3)[:count]


@lru_cache(maxsize=1)
def _neutral() -> Look:
    return load_look("neutral")


def look_of(look: LearnedLook) -> Look:
    """The look as ``develop`` reads the written file: ``neutral`` (its base) with the learned blocks on top.

    The LUT is not among the blocks (it is a table in memory, see :func:`pointwise_walk`), nor the vignette (it
    is applied per sample, see :func:`render_samples`).
    """
    neutral = _neutral()
    exposure = dataclasses.replace(neutral.blocks.params.get("exposure") or ExposureParams(), ev=float(look.ev))
    params = {**neutral.blocks.params, "exposure": exposure}
    if look.points:
        params["tone"] = tone_params_of(look)
    if look.colour is not None:
        params["colour"] = look.colour
    return Look(name="learned", blocks=BlockSet(params=params, disabled=neutral.blocks.disabled))


def pointwise_walk(look: LearnedLook, image: np.ndarray) -> Prepared:
    """The look's point-wise stages (:data:`lumatune.pipeline.POINTWISE`) planned once for images like ``image``:
    linear Rec.2020 scene colours after the raw's own exposure (no DNG: the bare frame has no BaselineExposure)
    in, display-encoded sRGB out."""
    plans = {"lut": lut_plan_of(look.lut)} if look.lut is not None else None
    return prepare(bare_frame("srgb", 1.0), None, look_of(look), image, select=POINTWISE, plans=plans)


def render_samples(look: LearnedLook, scene: np.ndarray, position=None, frame_index=None, frames=()) -> np.ndarray:
    """The look on scene colours: display-encoded sRGB (n, 3) float32, as ``lumatune develop`` renders them.

    Parameters
    ----------
    look : the learned look.
    scene : (n, 3) linear Rec.2020 scene colours after the raw's own exposure (what ``neutral`` shows).
    position, frame_index, frames : where each sample lies (see :class:`~lumatune.learn.samples.Samples`);
        needed only when the look has a vignette.
    """
    image = as_image(scene)
    out = from_image(pointwise_walk(look, image)(image), len(scene))
    if look.vignette is not None and look.vignette.amount != 0:
        out = vignetted(out, look.vignette.amount, vignette_weights(look.vignette, position, frame_index, frames))
    return np.asarray(out, np.float32)


def vignetted(display: np.ndarray, amount: float, weights: np.ndarray) -> np.ndarray:
    """Display values (n, 3) darkened (``amount`` < 0) or lightened by the vignette's per-sample ``weights``,
    as :func:`lumatune.stages.vignette.apply_vignette` does."""
    w = (np.float32(amount) * weights)[:, None]
    return display * (1 + w) if amount < 0 else display + w * (1 - display)


def _rounded(values, digits: int = _DIGITS) -> list:
    return [round(float(v), digits) for v in values]


def _toml_value(value) -> str:
    """A TOML value: text, a boolean, a number, a list of them, or a list of lists (one line each)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if value and isinstance(value[0], list):
        return "[\n" + "".join(f"    {_toml_value(v)},\n" for v in value) + "]"
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def _toml(document: dict) -> str:
    lines = [f"{key} = {_toml_value(value)}" for key, value in document.items() if not isinstance(value, dict)]
    for block, keys in document.items():
        if isinstance(keys, dict):
            lines += ["", f"[{block}]"] + [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def look_text(look: LearnedLook, *, name: str, description: str, lut_file: str | None, comments=()) -> str:
    """The look TOML: ``base = "neutral"`` plus the blocks the fit set (every value written out)."""

    document: dict = {"version": 1, "name": name, "description": description, "base": "neutral"}
    document["exposure"] = {"ev": round(float(look.ev), 4)}
    if look.points:
        document["tone"] = {
            "curve": "points",
            "points": [_rounded(p) for p in look.points],
            "white": TONE_WHITE,
            "hue_preservation": 0.0,
        }
    if look.colour is not None:
        colour = params_to_dict(look.colour)
        document["colour"] = {
            key: (_rounded(colour[key], 4) if isinstance(colour[key], list) else round(float(colour[key]), 4))
            for key in ("saturation", "vibrance", "hue_shift", "hue_saturation", "hue_lightness")
        }
    if look.lut is not None and lut_file:
        document["lut"] = {"file": lut_file, "space": LUT_SPACE, "strength": 1.0}
    if look.vignette is not None:
        document["vignette"] = {key: round(float(v), 4) for key, v in params_to_dict(look.vignette).items()}
    return "".join(f"# {line}\n" for line in comments) + _toml(document)


def write_look(
    look: LearnedLook, path: str | Path, *, description: str = "", comments=(), overwrite: bool = False
) -> list[Path]:
    """Write the look TOML at ``path`` and, when it has a LUT, its ``.cube`` beside it; returns the files.

    Raises
    ------
    OutputError : a file exists and ``overwrite`` is false, or the folder is missing.
    """

    path = Path(path)
    written = []
    lut_file = None
    if look.lut is not None:
        cube = path.with_suffix(".cube")
        write_cube(cube, Lut(table=look.lut, title=f"lumatune learned look {path.stem}"), overwrite=overwrite)
        written.append(cube)
        lut_file = cube.name
    text = look_text(look, name=path.stem, description=description, lut_file=lut_file, comments=comments)
    with atomic_output(path, overwrite=overwrite) as temp:
        Path(temp).write_text(text, encoding="utf-8")
    return [path, *written]
