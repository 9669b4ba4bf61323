"""Frame: a border around the picture and an optional caption line from the EXIF data under it.

The border is ``width`` times the picture's short side on every edge; with a caption the bottom edge grows
to hold one line of text ``caption_size`` times the short side high, centred. The caption is a template
whose fields come from the raw's EXIF data: ``{camera}`` (make and model), ``{lens}``, ``{focal_length}``
("35 mm"), ``{aperture}`` ("f/2.8"), ``{shutter}`` ("1/250 s"), ``{iso}`` ("ISO 200") and ``{date}``;
``"exif"`` stands for the usual line, camera, focal length, aperture, shutter and ISO. A field the raw does
not have is left out. Colours are ``"#rrggbb"`` in the output's encoding.

The stage runs before orientation (``pipeline.orient`` turns the result upright), so it lays the frame out
on the upright picture and turns the canvas back: the caption always ends up under the upright picture.

References
----------
-   darktable ``src/iop/borders.c`` (frame size relative to the image, colour) and ``watermark.c`` (EXIF
    variables in overlay text).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np

from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage

__all__ = ["STAGE", "FrameParams", "FramePlan", "add_frame", "caption_text"]

CAPTION_FIELDS = ("camera", "lens", "focal_length", "aperture", "shutter", "iso", "date")
EXIF_CAPTION = "{camera}   {focal_length}   {aperture}   {shutter}   {iso}"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_CAPTION_STRIP = 2.4  # bottom strip height in text heights when there is a caption


def _check_colour(name: str, value: str) -> None:
    if not _HEX.match(value):
        raise ValueError(f"{name} '{value}' is not a colour '#rrggbb'")


def _template(caption: str) -> str:
    return EXIF_CAPTION if caption == "exif" else caption


@dataclass(frozen=True)
class FrameParams:
    """Border and caption."""

    width: float = param(0.0, min=0.0, max=0.25, doc="border width as a fraction of the short side; 0: none")
    colour: str = param("#ffffff", doc="border colour, #rrggbb")
    caption: str = param("", doc="'exif', a template with {camera} {lens} {focal_length} {aperture} ...; empty: none")
    caption_colour: str = param("#303030", doc="caption text colour, #rrggbb")
    caption_size: float = param(0.025, min=0.005, max=0.1, doc="caption text height as a fraction of the short side")

    def __post_init__(self):
        _check_colour("colour", self.colour)
        _check_colour("caption_colour", self.caption_colour)
        try:
            names = [name for _, name, spec, _ in string.Formatter().parse(_template(self.caption)) if name is not None]
        except ValueError as error:
            raise ValueError(f"caption: {error}") from None
        unknown = [name for name in names if name not in CAPTION_FIELDS]
        if unknown:
            raise ValueError(f"caption: unknown field {{{unknown[0]}}} (fields: {', '.join(CAPTION_FIELDS)})")


@dataclass(frozen=True)
class FramePlan:
    border: int  # pixels on every side
    bottom: int  # pixels under the picture (border, or the caption strip)
    colour: np.ndarray  # (3,) float32
    caption: str
    caption_colour: np.ndarray
    text_height: int
    quarter_turns: int


def _colour(text: str) -> np.ndarray:
    return np.array([int(text[i : i + 2], 16) / 255.0 for i in (1, 3, 5)], np.float32)


def _shutter(seconds: float) -> str:
    if seconds >= 1 or seconds <= 0:
        return f"{seconds:g} s"
    return f"1/{round(1.0 / seconds)} s"


def caption_fields(exif: dict) -> dict[str, str]:
    """The caption's fields from an EXIF dict (keys of :attr:`lumatune.raw.RawImage.exif`); missing ones empty."""
    make, model = str(exif.get("make", "")).strip(), str(exif.get("model", "")).strip()
    camera = model if model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    fields = {
        "camera": camera,
        "lens": str(exif.get("lens_model", "")).strip(),
        "focal_length": f"{float(exif['focal_length']):.3g} mm" if exif.get("focal_length") else "",
        "aperture": f"f/{round(float(exif['f_number']), 1):g}" if exif.get("f_number") else "",
        "shutter": _shutter(float(exif["exposure_time"])) if exif.get("exposure_time") else "",
        "iso": f"ISO {int(exif['iso'])}" if exif.get("iso") else "",
        "date": str(exif.get("datetime_original", ""))[:10].replace(":", "-"),
    }
    return fields


def caption_text(template: str, exif: dict) -> str:
    """The caption line: the template filled from ``exif``, runs of spaces left by missing fields closed up."""
    text = _template(template).format(**caption_fields(exif))
    return re.sub(r"\s{3,}", "   ", text).strip()


def _text_mask(text: str, width: int, height: int, text_height: int) -> np.ndarray:
    """A float32 (height, width) coverage mask of ``text`` centred in the strip."""
    from PIL import Image, ImageDraw, ImageFont  # lazy: PIL (~18 ms)

    try:
        font = ImageFont.load_default(size=text_height)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    strip = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(strip)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (width - (right - left)) / 2 - left
    y = (height - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=255, font=font)
    return np.asarray(strip, np.float32) / 255.0


def add_frame(image: np.ndarray, plan: FramePlan) -> np.ndarray:
    """A new image: the picture on a canvas of the border colour, with the caption under it."""
    upright = np.rot90(image, plan.quarter_turns)
    height, width = upright.shape[:2]
    b = plan.border
    canvas = np.empty((height + b + plan.bottom, width + 2 * b, 3), np.float32)
    canvas[...] = plan.colour
    canvas[b : b + height, b : b + width] = upright
    if plan.caption:
        strip = canvas[b + height :]
        mask = _text_mask(plan.caption, strip.shape[1], strip.shape[0], plan.text_height)[..., None]
        strip += mask * (plan.caption_colour - strip)
    return np.rot90(canvas, -plan.quarter_turns)


def frame_plan(params: FrameParams, shape: tuple[int, ...], exif: dict, quarter_turns: int) -> FramePlan | None:
    """The plan for a stored image of ``shape``, or None when there is neither border nor caption."""
    caption = caption_text(params.caption, exif) if params.caption else ""
    if params.width == 0 and not caption:
        return None
    short = min(shape[:2])
    border = round(params.width * short)
    text_height = max(6, round(params.caption_size * short))
    bottom = max(border, round(_CAPTION_STRIP * text_height)) if caption else border
    return FramePlan(
        border=border,
        bottom=bottom,
        colour=_colour(params.colour),
        caption=caption,
        caption_colour=_colour(params.caption_colour),
        text_height=text_height,
        quarter_turns=quarter_turns % 4,
    )


def _plan(params: FrameParams, frame: Frame, image: np.ndarray) -> FramePlan | None:
    return frame_plan(params, image.shape, frame.raw.exif, frame.raw.orientation_turns)


STAGE = Stage(
    name="frame",
    side="look",
    params=FrameParams,
    plan=_plan,
    process=add_frame,
    summary="border and EXIF caption",
)
