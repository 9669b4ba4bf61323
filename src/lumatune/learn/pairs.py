"""Training pairs for a learned look: a raw and the rendering to imitate.

A pair is given as ``RAW`` (the target is the camera's own JPEG preview embedded in the raw, extracted with
rawpy) or ``RAW=IMAGE`` (any rendering of that raw: another developer's export, an edited photo; JPEG, PNG
or TIFF, 8 or 16 bits, sRGB, Display P3 or Rec.2020 by its ICC profile). Targets are held as display-encoded
sRGB (float32, [0, 1]); a wide-gamut target is converted and clipped to sRGB, the space the look is fitted in.

Each unusable pair gives one line naming the file and the problem: no embedded preview, a preview below
:data:`MIN_PREVIEW_SIZE` px, an unreadable file, a camera other than the pairs' main camera (unless mixing
is allowed). :func:`load_pairs` returns the usable pairs and these lines; the fit goes on with what remains.

References
----------
-   LibRaw ``libraw_dcraw_make_mem_thumb`` / rawpy ``RawPy.extract_thumb`` (embedded preview).
-   CIPA DC-008-2019 (Exif 2.32), 4.6.4 (thumbnails and the JPEG interchange format in camera files).
"""

from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rawpy

from lumatune.colour.spaces import decode_eotf, encode_oetf, matrix_rgb_to_xyz, matrix_xyz_to_rgb
from lumatune.errors import LumatuneError, UnreadableInputError
from lumatune.raw import RawImage, open_raw

__all__ = [
    "MIN_PREVIEW_SIZE",
    "MIN_TARGET_SIZE",
    "MIN_PAIRS",
    "PairError",
    "PairSpec",
    "Pair",
    "parse_pair",
    "embedded_preview",
    "read_target",
    "camera_name",
    "load_pair",
    "load_pairs",
]

MIN_PREVIEW_SIZE = 640
"""Smallest long side (px) of an embedded preview worth learning from; below it is a thumbnail."""
MIN_TARGET_SIZE = 96
"""Smallest long side (px) of a target image given as ``RAW=IMAGE`` (registration needs some detail)."""
MIN_PAIRS = 1
"""Usable pairs needed for a fit (one pair is split into a training and a held-out region)."""


class PairError(LumatuneError):
    """One pair cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class PairSpec:
    """A raw file and its target image; ``target`` None means the raw's embedded preview."""

    raw: Path
    target: Path | None = None

    @property
    def label(self) -> str:
        """How messages name the pair."""
        return str(self.raw) if self.target is None else f"{self.raw}={self.target}"


@dataclass(frozen=True)
class Pair:
    """A loaded pair: the raw, the target (display-encoded sRGB float32 (h, w, 3)) and its clip level."""

    spec: PairSpec
    raw: RawImage
    target: np.ndarray
    target_clip: float
    camera: str


def parse_pair(text: str | os.PathLike) -> PairSpec:
    """``RAW`` or ``RAW=IMAGE``; a path that itself holds ``=`` is read whole when it names a file."""
    text = str(text)
    if "=" not in text or Path(text).is_file():
        return PairSpec(Path(text))
    raw, target = text.split("=", 1)
    return PairSpec(Path(raw), Path(target))


def embedded_preview(path: str | os.PathLike, min_size: int = MIN_PREVIEW_SIZE) -> np.ndarray:
    """The largest preview embedded in a raw, as uint8 RGB (h, w, 3).

    Raises
    ------
    PairError : the raw holds no preview, or one whose long side is below ``min_size`` px.
    """
    from PIL import Image  # lazy: PIL (~21 ms)

    path = Path(path)
    try:
        with rawpy.imread(str(path)) as raw:
            thumb = raw.extract_thumb()
    except rawpy.LibRawNoThumbnailError:
        raise PairError(f"{path}: no embedded JPEG preview; give the target as RAW=IMAGE") from None
    except (rawpy.LibRawError, OSError) as error:
        raise PairError(f"{path}: cannot read the embedded preview ({error.__class__.__name__})") from None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            with Image.open(io.BytesIO(thumb.data)) as image:
                rgb = np.asarray(image.convert("RGB"))
        except OSError as error:
            raise PairError(f"{path}: the embedded JPEG preview is unreadable ({error})") from None
    else:
        rgb = np.asarray(thumb.data)
        rgb = np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb[..., :3]
    height, width = rgb.shape[:2]
    if max(height, width) < min_size:
        raise PairError(
            f"{path}: the embedded preview is {width}x{height} px, below {min_size} px; give the target as RAW=IMAGE"
        )
    return np.ascontiguousarray(rgb)


def _to_srgb(codes: np.ndarray, space: str) -> np.ndarray:
    """Display-encoded ``space`` values -> display-encoded sRGB, clipped to its gamut (float32)."""

    if space == "srgb":
        return codes
    linear = decode_eotf(codes, space).astype(np.float64) @ (matrix_xyz_to_rgb("srgb") @ matrix_rgb_to_xyz(space)).T
    return encode_oetf(np.clip(linear, 0.0, 1.0).astype(np.float32), "srgb")


def read_target(path: str | os.PathLike, min_size: int = MIN_TARGET_SIZE) -> tuple[np.ndarray, float]:
    """A rendered image as display-encoded sRGB float32 (h, w, 3), and the level at which a channel clipped.

    Raises
    ------
    PairError : unreadable, or smaller than ``min_size`` px on its long side.
    """
    from lumatune.lab.rendering import read_rendering  # lazy: colour-science (1.3 s)

    try:
        rendering = read_rendering(path)
    except LumatuneError as error:
        raise PairError(str(error)) from None
    if max(rendering.width, rendering.height) < min_size:
        raise PairError(f"{path}: {rendering.width}x{rendering.height} px is below {min_size} px")
    scale = 1.0 if rendering.bit_depth is None else 1.0 / (2**rendering.bit_depth - 1)
    codes = np.clip(rendering.codes.astype(np.float32) * np.float32(scale), 0.0, 1.0)
    return _to_srgb(codes, rendering.space), float(rendering.clip_level)


def camera_name(raw: RawImage) -> str:
    """Make and model as the raw's EXIF gives them ("unknown camera" when absent)."""
    make, model = str(raw.exif.get("make", "") or "").strip(), str(raw.exif.get("model", "") or "").strip()
    if model.lower().startswith(make.lower()):
        make = ""
    return " ".join(part for part in (make, model) if part) or "unknown camera"


def load_pair(spec: PairSpec) -> Pair:
    """Read the raw and its target.

    Raises
    ------
    PairError : the raw or the target cannot be used (one line naming the file).
    """
    try:
        raw = open_raw(spec.raw)
    except LumatuneError as error:
        raise PairError(str(error)) from None
    if spec.target is None:
        target = embedded_preview(spec.raw).astype(np.float32) / np.float32(255.0)
        clip = 1.0 - 0.5 / 255.0
    else:
        target, clip = read_target(spec.target)
    return Pair(spec=spec, raw=raw, target=np.ascontiguousarray(target), target_clip=clip, camera=camera_name(raw))


def load_pairs(specs: list[PairSpec], *, allow_mixed: bool = False) -> tuple[list[Pair], list[str]]:
    """Load every pair; returns the usable ones and one line per unusable one.

    Without ``allow_mixed``, pairs whose camera differs from the most common camera among the readable
    pairs (the first one's on a tie) are refused: a look learned across cameras mixes their colour science.
    """
    pairs, problems = [], []
    for spec in specs:
        try:
            pairs.append(load_pair(spec))
        except (PairError, UnreadableInputError) as error:
            problems.append(str(error))
    if allow_mixed or not pairs:
        return pairs, problems
    counts = Counter(pair.camera for pair in pairs)
    main = max(counts, key=lambda camera: (counts[camera], -[p.camera for p in pairs].index(camera)))
    kept = []
    for pair in pairs:
        if pair.camera == main:
            kept.append(pair)
        else:
            problems.append(
                f"{pair.spec.label}: camera {pair.camera} differs from the other pairs' {main} (use --allow-mixed)"
            )
    return kept, problems
