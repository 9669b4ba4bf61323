"""The studio's folder and its warm state: paths confined to the folder, raws kept decoded and binned, renders.

Every path the browser names is relative to the folder; :meth:`Workspace.resolve` refuses absolute paths,
``..``, NUL bytes and anything whose real path (symlinks followed) leaves the folder. The preview is the same
binned develop as ``lumatune develop --preview`` (:func:`lumatune.pipeline.preview.preview_raw`), shrunk further
by an integer block mean only when it is at least twice the size the screen asks for.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import tempfile
import threading
import types
import typing
from collections import OrderedDict
from pathlib import Path

import numpy as np
import rawpy
import tomli_w
from PIL import Image

from lumatune.api import develop, open_raw
from lumatune.config.blocks import BlockSet
from lumatune.config.look import Look, builtin_looks, load_look
from lumatune.config.tuning import Tuning
from lumatune.errors import BadFileError, LumatuneError
from lumatune.io.atomic import atomic_output
from lumatune.io.encode import quantise
from lumatune.jobs.batch import RAW_EXTENSIONS, find_raws
from lumatune.lab.measure import measure
from lumatune.lab.truth import load_truth
from lumatune.pipeline import LOOK_STAGES
from lumatune.pipeline.preview import preview_raw
from lumatune.raw import RawImage
from lumatune.stages.look_colour import HUE_NAMES
from lumatune.stages.params import describe_params, params_to_dict
from lumatune.stages.registry import stages_of_side
from lumatune.stages.white_balance import WhiteBalanceParams

__all__ = [
    "PathRefused", "Workspace", "all_looks", "encode_jpeg", "encode_png", "load_named_look", "look_from_spec",
    "look_schema", "shrink_linear", "spec_of_look", "tuning_for",
]

RAW_CACHE = 3
"""Raws kept decoded and binned in the warm process (the one on screen, the one before, one more)."""
MAX_EDGE_LIMIT = 8192
"""Largest preview edge a request may ask for."""
MAX_SLIDER_INTEGERS = 1000
"""A whole-number parameter with more values than this (a random seed) gets a number field, not a slider."""
SLIDER_STEPS = 100
"""A generated slider's step is the power of ten at or below (max - min) / SLIDER_STEPS."""


class PathRefused(LumatuneError):
    """A path outside the studio's folder (absolute, with ``..``, or leaving it through a link)."""


def look_schema() -> list[dict]:
    """Every look stage, in pipeline order, with one control per parameter from its params definition.

    Each control: ``stage``, ``name`` (``key`` or ``key[i]`` for a list element), ``kind`` (``slider``,
    ``number``, ``toggle``, ``choice``, ``text``), ``default``, ``min``, ``max``, ``step``, ``unit``, ``doc``, ``choices``.
    Parameters the studio cannot edit by a control (free tables, file names, unset optional lists) are left out.
    """
    stages = stages_of_side("look")
    schema = []
    for stage_name in LOOK_STAGES:
        stage = stages[stage_name]
        hints = typing.get_type_hints(stage.params)
        controls = []
        for row in describe_params(stage.params):
            controls += _controls(stage_name, row, hints[row["name"]])
        schema.append({"stage": stage_name, "controls": controls})
    return schema


def _controls(stage: str, row: dict, hint) -> list[dict]:
    base = {"stage": stage, "unit": row.get("unit") or "", "doc": row.get("doc") or "", "choices": row.get("choices")}
    hint_args = [a for a in typing.get_args(hint) if a is not type(None)]
    scalar = hint_args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
    default = row["default"]
    if scalar is bool:
        return [{**base, "name": row["name"], "kind": "toggle", "default": bool(default)}]
    if scalar is str:
        if row.get("choices"):
            return [{**base, "name": row["name"], "kind": "choice", "default": default}]
        if row["name"] == "file":  # a file the look loads: not something to type in a browser
            return []
        return [{**base, "name": row["name"], "kind": "text", "default": default or ""}]
    if scalar in (int, float):
        if default is None:
            return []
        return [_number(base, row["name"], default, row, scalar is int)]
    if typing.get_origin(scalar) is tuple and isinstance(default, list):
        item = typing.get_args(scalar)[0] if typing.get_args(scalar) else float
        if item not in (int, float) or not all(isinstance(v, int | float) for v in default):
            return []
        labels = _element_labels(stage, row, len(default))
        return [{**_number(base, f"{row['name']}[{i}]", v, row, item is int), "label": f"{row['name']} · {label}"}
                for i, (v, label) in enumerate(zip(default, labels))]
    return []


def _element_labels(stage: str, row: dict, count: int) -> list[str]:
    """Names of a list parameter's elements: the hues of the colour stage's per-hue lists, else 1, 2, 3..."""
    if stage == "colour" and count == len(HUE_NAMES):
        return list(HUE_NAMES)
    return [str(i + 1) for i in range(count)]


def _number(base: dict, name: str, default, row: dict, integer: bool) -> dict:
    low, high = row.get("min"), row.get("max")
    if low is None or high is None or (integer and high - low > MAX_SLIDER_INTEGERS):  # a seed: typed, not slid
        return {**base, "name": name, "kind": "number", "default": default, "min": low, "max": high,
                "step": 1 if integer else "any"}
    step = 1 if integer else 10.0 ** math.floor(math.log10((high - low) / SLIDER_STEPS))
    return {**base, "name": name, "kind": "slider", "default": default, "min": low, "max": high, "step": step}


def spec_of_look(look: Look) -> dict:
    """A look as the studio's JSON: name, description, the blocks it holds and the stages it switches off."""
    return {
        "name": look.name,
        "description": look.description,
        "blocks": {name: {k: v for k, v in params_to_dict(p).items() if v is not None} for name, p in look.blocks.params.items()},
        "disabled": sorted(look.blocks.disabled),
    }


def look_from_spec(spec) -> Look:
    """The :class:`Look` a studio JSON spec describes, read by the same reader as ``--look`` (so every key, type
    and bound is checked with the params definitions' one message)."""
    if not isinstance(spec, dict):
        raise BadFileError("look: expected an object with name and blocks")
    blocks = spec.get("blocks", {})
    disabled = spec.get("disabled", [])
    if not isinstance(blocks, dict) or not isinstance(disabled, list):
        raise BadFileError("look: blocks must be an object and disabled a list")
    document = {"version": 1, "name": str(spec.get("name") or "studio"), "description": str(spec.get("description") or "")}
    for name, block in blocks.items():
        if not isinstance(block, dict):
            raise BadFileError(f"look: [{name}] must be an object")
        if block.get("file"):
            raise BadFileError(f"look: [{name}] file: the studio does not load files named in a look")
        document[str(name)] = {**block, **({"enabled": False} if name in disabled else {})}
    for name in disabled:
        document.setdefault(str(name), {"enabled": False})
    try:
        text = tomli_w.dumps(document)
    except (TypeError, ValueError) as error:
        raise BadFileError(f"look: {error}") from None
    with tempfile.TemporaryDirectory(prefix="lumatune-studio-") as folder:
        path = Path(folder) / "look.toml"
        path.write_text(text, encoding="utf-8")
        try:
            look = load_look(path)
        except BadFileError as error:  # the message names the block and key; the temporary file means nothing
            raise BadFileError(str(error).replace(str(path), "look")) from None
    return dataclasses.replace(look, source="studio")


def shrink_linear(raw: RawImage, factor: int) -> RawImage:
    """A linear (binned) raw reduced by the mean of each ``factor`` x ``factor`` block (area resampling)."""
    if factor <= 1 or raw.cfa is not None:
        return raw
    h, w = raw.data.shape[0] // factor * factor, raw.data.shape[1] // factor * factor
    data = raw.data[:h, :w].reshape(h // factor, factor, w // factor, factor, -1).mean(axis=(1, 3), dtype=np.float32)
    dng = raw.dng
    if dng is not None:
        area = dng.active_area
        maps = tuple(dataclasses.replace(m, top=m.top // factor, left=m.left // factor, bottom=m.bottom // factor,
                                         right=m.right // factor) for m in dng.gain_maps)
        dng = dataclasses.replace(dng, gain_maps=maps, active_area=tuple(v // factor for v in area) if area else None)
    return raw.replace(
        data=np.ascontiguousarray(data), dng=dng,
        crop_origin=(raw.crop_origin[0] // factor, raw.crop_origin[1] // factor),
        full_size=(raw.full_size[0] // factor, raw.full_size[1] // factor),
    )


def tuning_for(wb) -> Tuning | None:
    """None (everything from the raw's metadata), or a tuning whose white balance is the picked grey."""
    if wb is None:
        return None
    numbers = isinstance(wb, list | tuple) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in wb)
    if not numbers or len(wb) != 3 or not all(math.isfinite(v) and v > 0 for v in wb):
        raise BadFileError(f"wb: expected three positive numbers (camera RGB of the grey), got {wb!r}")
    params = WhiteBalanceParams(method="manual", neutral=tuple(float(v) / float(wb[1]) for v in wb))
    return Tuning(blocks=BlockSet(params={"white_balance": params}), description="studio: white balance picked on grey")


def encode_png(image: np.ndarray) -> bytes:
    """8-bit PNG of a display-encoded float image, with the encoder's own rounding (``rint(clip(x) * 255)``)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(quantise(np.ascontiguousarray(image, dtype=np.float32), 8))).save(
        buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(quantise(np.ascontiguousarray(image, dtype=np.float32), 8))).save(
        buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class Workspace:
    """The folder the studio serves, and the raws it keeps warm."""

    def __init__(self, folder: str | Path) -> None:
        root = Path(folder)
        if not root.is_dir():
            raise BadFileError(f"{folder}: no such folder")
        self.root = root.resolve()
        self._raws: OrderedDict[Path, tuple[RawImage, RawImage]] = OrderedDict()
        self._lock = threading.Lock()  # one develop at a time: each already uses every core
        self._cache_lock = threading.RLock()
        self._newest: dict[str, int] = {}

    # --- paths ---------------------------------------------------------------------------------------------
    def resolve(self, relative, *, must_exist: bool = True) -> Path:
        """The real path of ``relative`` under the folder; :class:`PathRefused` for anything that leaves it."""
        if not isinstance(relative, str) or not relative:
            raise PathRefused("path: expected a file name relative to the folder")
        if "\0" in relative or relative.startswith(("/", "\\")) or Path(relative).is_absolute() or ":" in relative[:3]:
            raise PathRefused(f"{relative!r}: absolute paths are refused (paths are relative to the folder)")
        if any(part == ".." for part in Path(relative.replace("\\", "/")).parts):
            raise PathRefused(f"{relative!r}: '..' is refused (only files under the folder)")
        real = (self.root / relative).resolve()
        if real != self.root and self.root not in real.parents:
            raise PathRefused(f"{relative!r}: leads outside the folder (through a link)")
        if must_exist and not real.is_file():
            raise PathRefused(f"{relative!r}: no such file in the folder")
        return real

    def output_path(self, relative: str) -> Path:
        """Where to write ``relative``: under the folder, in an existing folder, never through a link."""
        target = self.resolve(relative, must_exist=False)
        if (self.root / relative).is_symlink():
            raise PathRefused(f"{relative!r}: is a link; the studio does not write through links")
        if not target.parent.is_dir():
            raise PathRefused(f"{relative!r}: its folder does not exist")
        return target

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def raw_files(self) -> list[str]:
        """Raw files under the folder (as ``lumatune batch`` finds them), whose real paths stay in it."""
        found, _ = find_raws(self.root)
        inside = []
        for rel in found:
            try:
                self.resolve(rel.as_posix())
            except PathRefused:
                continue
            inside.append(rel.as_posix())
        return inside

    def user_looks(self) -> list[str]:
        """Look TOML files in the folder (not in sub-folders), by relative path."""
        return sorted(p.name for p in self.root.glob("*.toml") if p.is_file() and not p.is_symlink())

    # --- raws ------------------------------------------------------------------------------------------------
    def raws(self, relative: str) -> tuple[RawImage, RawImage]:
        """(raw, binned preview raw) of a file, decoded once and kept while it is among the last few used."""
        path = self.resolve(relative)
        if path.suffix.lower() not in RAW_EXTENSIONS:
            raise BadFileError(f"{relative}: not a raw file")
        with self._cache_lock:  # requests run in several threads; one decode of a file at a time
            cached = self._raws.get(path)
            if cached is None:
                raw = open_raw(path)
                cached = (raw, preview_raw(raw))
                self._raws[path] = cached
                while len(self._raws) > RAW_CACHE:
                    self._raws.popitem(last=False)
            self._raws.move_to_end(path)
            return cached

    def info(self, relative: str) -> dict:
        """File name, camera, lens and exposure from the raw's EXIF (read without keeping the raw)."""
        path = self.resolve(relative)
        if path.suffix.lower() not in RAW_EXTENSIONS:
            raise BadFileError(f"{relative}: not a raw file")
        with self._cache_lock:
            cached = self._raws.get(path)
        raw = cached[0] if cached else open_raw(path)
        exif = raw.exif or {}
        return {
            "path": relative, "name": Path(relative).name,
            "camera": " ".join(str(exif.get(k) or "") for k in ("make", "model")).strip(),
            "lens": str(exif.get("lens_model") or ""),
            "exposure_time": exif.get("exposure_time"), "f_number": exif.get("f_number"), "iso": exif.get("iso"),
            "focal_length": exif.get("focal_length"), "date": exif.get("datetime_original"),
            "size": [int(raw.full_size[1]), int(raw.full_size[0])],
        }

    # --- renders ----------------------------------------------------------------------------------------------
    def claim(self, channel: str) -> int:
        """A new request on ``channel`` (main, compare, before...): its number; older ones become stale."""
        number = self._newest.get(channel, 0) + 1
        self._newest[channel] = number
        return number

    def stale(self, channel: str, number: int) -> bool:
        return self._newest.get(channel, 0) != number

    def render(self, relative: str, look: Look, *, max_edge: int, wb=None, ev: float = 0.0,
               ticket: tuple[str, int] | None = None) -> np.ndarray | None:
        """The binned develop of a file, shrunk by the largest whole factor that keeps its long side at least
        ``max_edge`` (the screen's pixels); None when a newer request on the same channel
        came while this one waited (it is dropped, not developed)."""
        max_edge = _checked_edge(max_edge)
        tuning = tuning_for(wb)
        with self._lock:
            if ticket is not None and self.stale(*ticket):
                return None
            _, binned = self.raws(relative)
            factor = max(1, max(binned.data.shape[:2]) // max_edge)  # the largest that keeps >= max_edge
            return develop(shrink_linear(binned, factor), look, tuning, ev=float(ev))

    def render_crop(self, relative: str, look: Look, *, cx: float, cy: float, width: int, height: int, wb=None,
                    ev: float = 0.0) -> np.ndarray:
        """A full-resolution (100 %) develop of a ``width`` x ``height`` window of the mosaic centred at the
        fractions (cx, cy) of the image."""
        if not all(isinstance(v, int | float) and 0 <= v <= 1 for v in (cx, cy)):
            raise BadFileError("zoom: cx and cy must be fractions of the image in [0, 1]")
        width, height = _checked_edge(width), _checked_edge(height)
        tuning = tuning_for(wb)
        with self._lock:
            raw, _ = self.raws(relative)
            period = raw.cfa.shape[0] if raw.cfa is not None else 1
            h, w = raw.data.shape[:2]
            width, height = min(width, w) // period * period, min(height, h) // period * period
            top = int(np.clip(cy * h - height / 2, 0, h - height)) // period * period
            left = int(np.clip(cx * w - width / 2, 0, w - width)) // period * period
            window = raw.replace(
                data=np.ascontiguousarray(raw.data[top : top + height, left : left + width]),
                crop_origin=(raw.crop_origin[0] + top, raw.crop_origin[1] + left),
            )
            if raw.dng is not None:
                window = window.replace(dng=dataclasses.replace(raw.dng, active_area=None, default_crop=None))
            return develop(window, look, tuning, ev=float(ev))

    def grey_at(self, relative: str, x: float, y: float, radius: float = 0.01) -> list[float]:
        """Camera RGB (black subtracted, green = 1) of the binned raw around the fractions (x, y): the white
        balance that makes that spot grey."""
        if not all(isinstance(v, int | float) and 0 <= v <= 1 for v in (x, y)):
            raise BadFileError("wb: x and y must be fractions of the image in [0, 1]")
        _, binned = self.raws(relative)
        h, w = binned.data.shape[:2]
        r = max(2, int(radius * max(h, w)))
        cy, cx = int(y * (h - 1)), int(x * (w - 1))
        patch = binned.data[max(0, cy - r) : cy + r + 1, max(0, cx - r) : cx + r + 1].reshape(-1, 3)
        rgb = patch.astype(np.float64).mean(axis=0) - np.asarray(binned.black_level, np.float64).reshape(-1)[:3]
        if not np.all(rgb > 0):
            raise BadFileError("wb: the picked spot is black; pick a brighter grey")
        return [float(v / rgb[1]) for v in rgb]

    def truth_path(self, relative: str) -> Path | None:
        """The virtual camera's truth JSON beside a raw (same name, ``.json``), if there is one in the folder."""
        try:
            return self.resolve(Path(relative).with_suffix(".json").as_posix())
        except PathRefused:
            return None

    def has_truth(self, relative: str) -> bool:
        return self.truth_path(relative) is not None

    def embedded_thumb(self, relative: str, edge: int) -> bytes | None:
        """The raw's embedded JPEG preview (LibRaw's ``extract_thumb``) reduced to ``edge``, or None."""
        path = self.resolve(relative)
        try:
            with rawpy.imread(str(path)) as raw:
                thumb = raw.extract_thumb()
        except (rawpy.LibRawError, OSError, ValueError):
            return None
        if thumb.format != rawpy.ThumbFormat.JPEG:
            return None
        try:
            image = Image.open(io.BytesIO(thumb.data))
            image.thumbnail((edge, edge))
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=85)
        except (OSError, ValueError):
            return None
        return buffer.getvalue()

    def lab(self, relative: str, look: Look, wb=None) -> dict:
        """CIEDE2000 of every chart patch of a virtual-camera raw developed full size in ``look``, measured by
        :func:`lumatune.lab.measure.measure` against the truth JSON beside the raw; boxes as image fractions."""
        truth = self.truth_path(relative)
        if truth is None:
            raise BadFileError(f"{relative}: no truth JSON beside it (the lab view is for the virtual camera's raws)")
        with self._lock:
            raw, _ = self.raws(relative)
            image = develop(raw, look, tuning_for(wb))
        try:
            truth_data = json.loads(truth.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadFileError(f"{truth.name}: cannot read the truth ({error.__class__.__name__})") from None
        if isinstance(truth_data, dict):
            truth_data.pop("truth_image", None)  # the chart only: the truth image is for artefact measures
        result = measure(np.asarray(quantise(np.ascontiguousarray(image), 16)), truth_data, space="srgb")
        if "patches" not in result:
            raise BadFileError(f"{relative}: its truth holds no chart patches")
        h, w = image.shape[:2]
        boxes = [p.box for p in load_truth(truth_data).patches]
        patches = [
            {"name": row["name"], "de00": row["de00"], "neutral": row["neutral"],
             "box": None if box is None else [box[0] / w, box[1] / h, box[2] / w, box[3] / h]}
            for row, box in zip(result["patches"], boxes)
        ]
        return {"de00_mean": result["de00_mean"], "de00_max": result["de00_max"], "patches": patches,
                "exposure_scale": result.get("exposure_scale"), "size": [w, h]}

    def write_text(self, relative: str, text: str, overwrite: bool = False) -> Path:
        target = self.output_path(relative)
        with atomic_output(target, overwrite=overwrite) as temp:
            Path(temp).write_text(text, encoding="utf-8")
        return target


def _checked_edge(value) -> int:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not 16 <= value <= MAX_EDGE_LIMIT:
        raise BadFileError(f"size: expected a number of pixels in [16, {MAX_EDGE_LIMIT}], got {value!r}")
    return int(value)


def all_looks(workspace: Workspace) -> list[dict]:
    """Built-in looks (neutral and default first) and the folder's look files, by name and source."""
    names = builtin_looks()
    first = [n for n in ("neutral", "default") if n in names]
    looks = [{"name": n, "ref": n, "user": False} for n in first + sorted(set(names) - set(first))]
    looks += [{"name": Path(f).stem, "ref": f, "user": True} for f in workspace.user_looks()]
    return looks


def load_named_look(workspace: Workspace, ref) -> Look:
    """A built-in look by name, or a look file of the folder by relative path."""
    if isinstance(ref, str) and ref in builtin_looks():
        return load_look(ref)
    return load_look(workspace.resolve(ref))

