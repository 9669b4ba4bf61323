"""From a registered pair to training samples: scene colour in, target colour out, and where.

Each pair's raw is developed in the ``neutral`` look to display-encoded Rec.2020: neutral has no tone curve,
so decoding gives the scene colour (linear Rec.2020, exposure as recorded) of every pixel up to the sensor
clip, without the gamut clip an sRGB rendering would add. The target is registered to this rendering
(:mod:`lumatune.learn.registration`) and the rendering resampled on the target's pixels, so that each target
pixel has its scene colour and its position in the raw's frame (for the vignette).

Pixels that cannot teach the look are left out: outside the overlap, clipped in the target (any channel at
its top code) or in the scene (any channel at the neutral rendering's white), crushed to black in the target,
and busy ones (all but the calmest :data:`CALM_FRACTION`, by local standard deviation): there a fraction of a pixel
of misregistration, a resized (``f(mean) != mean(f)``), sharpened or JPEG-compressed target and the
resampled rendering disagree for reasons that are not the look. Both images are blurred a little first.

The samples are then drawn so that each colour region counts, not just the sky: the scene colours are
binned (:data:`COLOUR_BINS` per axis of the encoded Rec.2020 cube) and at most :data:`SAMPLES_PER_BIN`
are drawn from each bin (seeded).

References
----------
-   Adobe, "DNG Specification" 1.6, chapter 6 (scene-referred camera colour), as the ``neutral`` look applies it.
-   J. Vazquez-Corral, M. Bertalmio, "Color stabilization along time and across shots of the same scene, for
    one or several cameras of unknown specifications", IEEE TIP 23(10), 2014 (learning a camera's rendering
    from registered pairs, leaving clipped and edge pixels out).
-   R. C. Gonzalez, R. E. Woods, "Digital Image Processing", 4th ed., 2018, 3.5 (local statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lumatune.api import develop
from lumatune.colour.spaces import decode_eotf, encode_oetf
from lumatune.learn.pairs import Pair, PairError
from lumatune.learn.registration import (
    Registration,
    RegistrationError,
    register,
    target_to_reference,
    warp_to_target,
)

__all__ = [
    "SCENE_CLIP",
    "DARK_LEVEL",
    "CALM_FRACTION",
    "busyness",
    "usable_pixels",
    "COLOUR_BINS",
    "SAMPLES_PER_BIN",
    "PreparedPair",
    "Part",
    "Samples",
    "prepare_pair",
    "split_holdout",
    "draw_samples",
]

SCENE_CLIP = 0.995
"""Encoded neutral value at and above which a scene channel counts as clipped (neutral shows white as 1)."""
DARK_LEVEL = 1.5 / 255.0
"""Target pixels with every channel at or below this are crushed to black and teach nothing."""
BLUR_SIGMA = 0.7
"""Gaussian blur (target px) applied to both images before sampling (JPEG blocks, noise, sub-pixel shifts)."""
FLATNESS_WINDOW = 5
"""Side (px) of the window whose standard deviation measures how busy a pixel's surroundings are."""
CALM_FRACTION = 0.4
"""Fraction of the usable overlap kept, the calmest; busier pixels are left out: there a resized, sharpened
or compressed target and the resampled rendering disagree for reasons that are not the look."""
BUSY_FLOOR = 0.004
"""Local standard deviations (encoded units) below this never count as busy, however flat the picture."""
BORDER = 3
"""Pixels next to the overlap's border left out (px)."""
COLOUR_BINS = 8
"""Bins per axis of the scene-colour histogram that balances the samples."""
SAMPLES_PER_BIN = 60
"""Samples drawn at most from each colour bin."""


@dataclass(frozen=True)
class PreparedPair:
    """A registered pair on the target's pixels (the target turned upright like the raw).

    Attributes
    ----------
    pair : the loaded pair.
    registration : where the target lies in the neutral rendering.
    scene : (h, w, 3) float32 scene colour, linear Rec.2020, from the neutral rendering.
    target : (h, w, 3) float32 display-encoded sRGB target, turned upright.
    usable : (h, w) bool, pixels that can teach the look (see the module notes).
    position : (h, w, 2) float32 (x, y) in the raw's developed frame, as fractions of its width and height.
    frame : (height, width) of the neutral rendering (upright; half size for a preview): the vignette's frame.
    preview : whether the neutral rendering was a binned preview (the target is at most half the raw's size).
    """

    pair: Pair
    registration: Registration
    scene: np.ndarray
    target: np.ndarray
    usable: np.ndarray
    position: np.ndarray
    frame: tuple[int, int]
    preview: bool

    @property
    def label(self) -> str:
        return self.pair.spec.label


@dataclass(frozen=True)
class Part:
    """The pixels of one prepared pair that go to training or to the held-out set."""

    prepared: PreparedPair
    mask: np.ndarray


@dataclass(frozen=True)
class Samples:
    """Pooled samples: scene colour (n, 3) linear Rec.2020, target (n, 3) display sRGB, position (n, 2) in the
    raw's frame (fractions), the index of each sample's frame in ``frames``, and the frames' (height, width)."""

    scene: np.ndarray
    target: np.ndarray
    position: np.ndarray
    frame_index: np.ndarray
    frames: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return int(self.scene.shape[0])


def _uses_preview(pair: Pair) -> bool:
    """A binned preview (half size) is enough when the target is at most half the raw's developed size."""
    height, width = pair.raw.output_size
    return pair.raw.cfa is not None and max(pair.target.shape[:2]) * 2 <= max(height, width)


def busyness(image: np.ndarray) -> np.ndarray:
    """Largest over the channels of the local standard deviation in a :data:`FLATNESS_WINDOW` window."""
    window = (FLATNESS_WINDOW, FLATNESS_WINDOW)
    mean = cv2.blur(image, window)
    variance = cv2.blur(image * image, window) - mean * mean
    return np.sqrt(np.maximum(variance, 0.0)).max(axis=-1)


def _positions(registration: Registration, shape: tuple[int, int], reference_shape: tuple[int, int]) -> np.ndarray:
    """(h, w, 2) float32 (x, y) of each target pixel in the reference frame, as fractions of its width and height."""
    xy = target_to_reference(registration, shape)
    return ((xy + 0.5) / np.array([reference_shape[1], reference_shape[0]])).astype(np.float32)


def usable_pixels(scene_encoded: np.ndarray, target: np.ndarray, valid: np.ndarray, target_clip: float) -> np.ndarray:
    """The pixels that can teach the look (blurred inputs; see the module notes)."""
    inside = cv2.erode(valid.astype(np.uint8), np.ones((2 * BORDER + 1,) * 2, np.uint8)) > 0
    unclipped = (target.max(axis=-1) < target_clip - 1e-6) & (scene_encoded.max(axis=-1) < SCENE_CLIP)
    lit = target.max(axis=-1) > DARK_LEVEL
    busy = np.maximum(busyness(target), busyness(scene_encoded))
    keep = inside & unclipped & lit
    if not keep.any():
        return keep
    limit = max(float(np.quantile(busy[keep], CALM_FRACTION)), BUSY_FLOOR)
    return keep & (busy <= limit)


def prepare_pair(pair: Pair) -> PreparedPair:
    """Develop the raw in ``neutral``, register the target to it and mark the usable pixels.

    Raises
    ------
    PairError : no registration found, or no usable pixel left.
    """

    preview = _uses_preview(pair)
    neutral = develop(pair.raw, look="neutral", space="rec2020", preview=preview)
    try:
        registration = register(pair.target, neutral)
    except RegistrationError as error:
        raise PairError(f"{pair.spec.label}: {error}") from None
    target = np.ascontiguousarray(np.rot90(pair.target, registration.turns))
    encoded, valid = warp_to_target(neutral, registration, target.shape[:2])
    encoded = cv2.GaussianBlur(encoded, (0, 0), BLUR_SIGMA)
    blurred_target = cv2.GaussianBlur(target, (0, 0), BLUR_SIGMA)
    usable = usable_pixels(encoded, blurred_target, valid, pair.target_clip)
    if not usable.any():
        raise PairError(f"{pair.spec.label}: no usable pixels (all clipped, black or busy)")
    scene = decode_eotf(np.clip(encoded, 0.0, 1.0), "rec2020")
    return PreparedPair(
        pair=pair,
        registration=registration,
        scene=np.ascontiguousarray(scene, np.float32),
        target=np.ascontiguousarray(blurred_target, np.float32),
        usable=usable,
        position=_positions(registration, target.shape[:2], neutral.shape[:2]),
        frame=(int(neutral.shape[0]), int(neutral.shape[1])),
        preview=preview,
    )


def split_holdout(prepared: list[PreparedPair], fraction: float, seed: int = 0) -> tuple[list[Part], list[Part], str]:
    """Training and held-out parts, and a sentence saying how they were split.

    With enough pairs that ``round(fraction * n)`` is at least one and leaves one for training, that many
    whole pairs (chosen by ``seed``) are held out; otherwise each pair's right-hand ``fraction`` of the
    target (a vertical band, :data:`BORDER` px of gap on its left) is held out.
    """
    count = len(prepared)
    held_count = round(fraction * count)
    if 1 <= held_count < count:
        order = np.random.default_rng(seed).permutation(count)
        held = set(order[:held_count].tolist())
        train = [Part(p, p.usable) for i, p in enumerate(prepared) if i not in held]
        tested = [Part(p, p.usable) for i, p in enumerate(prepared) if i in held]
        names = ", ".join(prepared[i].pair.spec.raw.name for i in sorted(held))
        return train, tested, f"{held_count} of {count} pairs held out ({names})"
    train, tested = [], []
    for p in prepared:
        width = p.usable.shape[1]
        cut = round((1.0 - fraction) * width)
        columns = np.arange(width)[None, :]
        train.append(Part(p, p.usable & (columns < cut - BORDER)))
        tested.append(Part(p, p.usable & (columns >= cut)))
    return train, tested, f"the right {fraction:.0%} of each target held out ({count} pair{'s' * (count > 1)})"


def draw_samples(parts: list[Part], seed: int = 0, per_bin: int = SAMPLES_PER_BIN) -> Samples:
    """Pool the parts' usable pixels and draw at most ``per_bin`` per scene-colour bin (seeded)."""

    scene, target, position, frame_index = [], [], [], []
    frames = tuple(part.prepared.frame for part in parts)
    for index, part in enumerate(parts):
        m = part.mask
        scene.append(part.prepared.scene[m])
        target.append(part.prepared.target[m])
        position.append(part.prepared.position[m])
        frame_index.append(np.full(int(m.sum()), index, np.int32))
    scene, target = np.concatenate(scene), np.concatenate(target)
    position, frame_index = np.concatenate(position), np.concatenate(frame_index)
    bins = np.minimum((encode_oetf(np.clip(scene, 0, 1), "rec2020") * COLOUR_BINS).astype(np.int64), COLOUR_BINS - 1)
    key = (bins[:, 0] * COLOUR_BINS + bins[:, 1]) * COLOUR_BINS + bins[:, 2]
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(key))
    order = shuffled[np.argsort(key[shuffled], kind="stable")]
    sorted_keys = key[order]
    starts = np.searchsorted(sorted_keys, sorted_keys, side="left")
    rank = np.arange(len(order)) - starts
    chosen = np.sort(order[rank < per_bin])
    return Samples(
        scene=np.ascontiguousarray(scene[chosen]),
        target=np.ascontiguousarray(target[chosen]),
        position=np.ascontiguousarray(position[chosen]),
        frame_index=frame_index[chosen],
        frames=frames,
    )
