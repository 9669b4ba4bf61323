"""Ground truth of a scene: load and validate the JSON the virtual camera writes beside each raw.

The schema (``kind = "lumatune-sim-truth"``, ``version = 1``) gives, in pixels of the developed
output image (x right, y down, boxes ``[x0, y0, x1, y1]`` half-open), the chart patches with their
D65 CIE XYZ and Lab, the slanted edge with the optics' analytic MTF, the step wedge with each step's
``relative_luminance`` (scene luminance relative to a perfect white, Y = 1, like the patches' XYZ; the
brightest steps exceed 1 and clip), the sensor noise model and an optional noiseless XYZ truth image.

A chart the virtual camera placed (moved, scaled, turned) also gives each patch's exact ``centre``
``[x, y]`` and the ``placement`` it was drawn with; its boxes are axis-aligned squares inside the turned
patches. The ``kind`` is the marker by which ``lumatune calibrate --locate auto`` tells a truth file from
another program's JSON beside a raw.

``box`` and ``image_size`` may be left out of a hand-written truth file for a real photograph of a
chart (the chart is then located from its corners or detected); when present they are checked.

References
----------
ISO 17321-1:2012, *Graphic technology and photography - Colour characterisation of digital still
cameras*: reference data of the chart patches under a reference illuminant.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lumatune.errors import BadFileError, UnreadableInputError

__all__ = [
    "TRUTH_KIND",
    "TRUTH_VERSION",
    "Box",
    "Patch",
    "EdgeTruth",
    "WedgeStep",
    "Truth",
    "load_truth",
    "truth_from_dict",
    "check_image_size",
]

TRUTH_KIND = "lumatune-sim-truth"
TRUTH_VERSION = 1

Box = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in output pixels, half-open."""


@dataclass(frozen=True)
class Patch:
    """One chart patch: reference colour (D65, white Y = 1) and where to sample it."""

    name: str
    box: Box | None
    neutral: bool
    xyz: tuple[float, float, float]
    lab: tuple[float, float, float]


@dataclass(frozen=True)
class EdgeTruth:
    """The slanted edge: its box and the analytic MTF of the optics at output pixel pitch."""

    box: Box
    angle_deg: float | None
    mtf_frequency_cy_px: tuple[float, ...]
    mtf: tuple[float, ...]
    mtf50_cy_px: float | None


@dataclass(frozen=True)
class WedgeStep:
    """One step of the grey wedge: its box and its scene luminance relative to a perfect white (Y = 1)."""

    box: Box
    relative_luminance: float


@dataclass(frozen=True)
class Truth:
    """A validated ground-truth description of a scene.

    Attributes
    ----------
    source
        The file it was read from, or ``"<dict>"``; used in error messages.
    image_size
        ``(width, height)`` of the output image, or None when the file does not fix it.
    truth_image
        Resolved path of the float32 linear XYZ truth image, or None.
    metadata
        The whole parsed JSON, for reports (camera, ISO, seed ...).
    """

    source: str
    scene: str
    image_size: tuple[int, int] | None
    patches: tuple[Patch, ...]
    edge: EdgeTruth | None
    wedge: tuple[WedgeStep, ...]
    noise: Mapping[str, Any] | None
    truth_image: Path | None
    metadata: Mapping[str, Any]


def _fail(source: str, key: str, problem: str) -> BadFileError:
    return BadFileError(f"{source}: truth key '{key}' {problem}")


def _number(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(source, key, f"must be a finite number, got {value!r}")
    return float(value)


def _numbers(source: str, key: str, value: Any, length: int | None = None) -> tuple[float, ...]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = f"{length} numbers" if length is not None else "a list of numbers"
        raise _fail(source, key, f"must be {size}, got {value!r}")
    return tuple(_number(source, f"{key}[{i}]", v) for i, v in enumerate(value))


def _box(source: str, key: str, value: Any, image_size: tuple[int, int] | None) -> Box:
    if not isinstance(value, list) or len(value) != 4 or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _fail(source, key, f"must be 4 integers [x0, y0, x1, y1], got {value!r}")
    x0, y0, x1, y1 = value
    if not (0 <= x0 < x1 and 0 <= y0 < y1):
        raise _fail(source, key, f"is empty or negative: {value}")
    if image_size is not None and (x1 > image_size[0] or y1 > image_size[1]):
        raise _fail(source, key, f"{value} lies outside the {image_size[0]}x{image_size[1]} image")
    return (x0, y0, x1, y1)


def _image_size(source: str, data: Mapping[str, Any]) -> tuple[int, int] | None:
    if "image_size" not in data:
        return None
    value = data["image_size"]
    if not isinstance(value, list) or len(value) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise _fail(source, "image_size", f"must be [width, height] positive integers, got {value!r}")
    return (value[0], value[1])


def _patches(source: str, data: Mapping[str, Any], size: tuple[int, int] | None) -> tuple[Patch, ...]:
    items = data.get("patches", [])
    if not isinstance(items, list):
        raise _fail(source, "patches", "must be a list")
    patches = []
    for i, item in enumerate(items):
        key = f"patches[{i}]"
        if not isinstance(item, dict):
            raise _fail(source, key, "must be an object")
        for required in ("name", "XYZ", "Lab"):
            if required not in item:
                raise _fail(source, f"{key}.{required}", "is missing")
        box = _box(source, f"{key}.box", item["box"], size) if "box" in item else None
        patches.append(
            Patch(
                name=str(item["name"]),
                box=box,
                neutral=bool(item.get("neutral", False)),
                xyz=_numbers(source, f"{key}.XYZ", item["XYZ"], 3),  # type: ignore[arg-type]
                lab=_numbers(source, f"{key}.Lab", item["Lab"], 3),  # type: ignore[arg-type]
            )
        )
    return tuple(patches)


def _edge(source: str, data: Mapping[str, Any], size: tuple[int, int] | None) -> EdgeTruth | None:
    if "edge" not in data:
        return None
    edge = data["edge"]
    if not isinstance(edge, dict) or "box" not in edge:
        raise _fail(source, "edge.box", "is missing")
    mtf = edge.get("mtf", {})
    frequency = _numbers(source, "edge.mtf.frequency_cy_px", mtf.get("frequency_cy_px", []))
    values = _numbers(source, "edge.mtf.mtf", mtf.get("mtf", []), len(frequency))
    angle = edge.get("angle_deg")
    mtf50 = edge.get("mtf50_cy_px")
    return EdgeTruth(
        box=_box(source, "edge.box", edge["box"], size),
        angle_deg=None if angle is None else _number(source, "edge.angle_deg", angle),
        mtf_frequency_cy_px=frequency,
        mtf=values,
        mtf50_cy_px=None if mtf50 is None else _number(source, "edge.mtf50_cy_px", mtf50),
    )


def _wedge(source: str, data: Mapping[str, Any], size: tuple[int, int] | None) -> tuple[WedgeStep, ...]:
    if "wedge" not in data:
        return ()
    steps = data["wedge"].get("steps") if isinstance(data["wedge"], dict) else None
    if not isinstance(steps, list) or not steps:
        raise _fail(source, "wedge.steps", "must be a non-empty list")
    wedge = []
    for i, step in enumerate(steps):
        key = f"wedge.steps[{i}]"
        if not isinstance(step, dict) or "box" not in step or "relative_luminance" not in step:
            raise _fail(source, key, "must have 'box' and 'relative_luminance'")
        luminance = _number(source, f"{key}.relative_luminance", step["relative_luminance"])
        if luminance <= 0:
            raise _fail(source, f"{key}.relative_luminance", f"must be > 0, got {luminance}")
        wedge.append(WedgeStep(_box(source, f"{key}.box", step["box"], size), luminance))
    return tuple(wedge)


def truth_from_dict(data: Mapping[str, Any], *, source: str = "<dict>", base_dir: Path | None = None) -> Truth:
    """Validate a parsed truth document.

    Parameters
    ----------
    data
        The parsed JSON object.
    source
        Name used in error messages (the file path).
    base_dir
        Folder that a relative ``truth_image`` path is resolved against (the JSON's folder);
        the current folder when None.

    Raises
    ------
    BadFileError
        Wrong ``kind``, a ``version`` other than 1, or a key of the wrong type or out of the image.
    """
    if not isinstance(data, Mapping):
        raise BadFileError(f"{source}: a truth file must hold a JSON object")
    if data.get("kind") != TRUTH_KIND:
        raise _fail(source, "kind", f"must be {TRUTH_KIND!r}, got {data.get('kind')!r}")
    if data.get("version") != TRUTH_VERSION:
        raise _fail(source, "version", f"must be {TRUTH_VERSION}, got {data.get('version')!r}")
    size = _image_size(source, data)
    truth_image = data.get("truth_image")
    if truth_image is not None and not isinstance(truth_image, str):
        raise _fail(source, "truth_image", f"must be a file name, got {truth_image!r}")
    noise = data.get("noise")
    if noise is not None and not isinstance(noise, dict):
        raise _fail(source, "noise", "must be an object")
    return Truth(
        source=source,
        scene=str(data.get("scene", "")),
        image_size=size,
        patches=_patches(source, data, size),
        edge=_edge(source, data, size),
        wedge=_wedge(source, data, size),
        noise=noise,
        truth_image=None if truth_image is None else (base_dir or Path()) / truth_image,
        metadata=dict(data),
    )


def load_truth(source: str | Path | Mapping[str, Any] | Truth) -> Truth:
    """Read and validate a truth JSON file (or pass a dict or a :class:`Truth` through).

    Raises
    ------
    UnreadableInputError
        The file is missing or is not JSON.
    BadFileError
        The JSON does not follow the truth schema (see :func:`truth_from_dict`).
    """
    if isinstance(source, Truth):
        return source
    if isinstance(source, Mapping):
        return truth_from_dict(source)
    path = Path(source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UnreadableInputError(f"{path}: cannot read the truth file ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableInputError(f"{path}: not a JSON truth file ({error})") from None
    return truth_from_dict(data, source=str(path), base_dir=path.parent)


def check_image_size(truth: Truth, width: int, height: int, image_name: str) -> None:
    """Raise :class:`BadFileError` when the rendering and the truth disagree on the image size."""
    if truth.image_size is not None and truth.image_size != (width, height):
        expected = f"{truth.image_size[0]}x{truth.image_size[1]}"
        raise BadFileError(f"{image_name}: image is {width}x{height} but truth {truth.source} describes {expected}")
