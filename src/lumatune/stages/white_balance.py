"""White balance: scale each CFA channel so that the scene white becomes neutral.

The camera neutral (camera RGB of the white, green = 1) comes from the raw's as-shot record (DNG
AsShotNeutral or AsShotWhiteXY, or the maker notes LibRaw reads), LibRaw's daylight multipliers, a grey-world estimate, or a
manual value. A raw without an as-shot record falls back as dcraw/LibRaw do: to the grey-world estimate when
the camera asks for auto white balance (LibRaw's -1), else to the daylight multipliers, else grey world. Gains are ``1 / neutral`` scaled so the smallest is 1, so that a saturated sensor
pixel stays at or above 1 in every channel and the highlight stage can find it (dcraw's convention).

References
----------
- Adobe DNG Specification 1.6.0.0, chapter 6, "Camera Neutral" (AsShotNeutral, AsShotWhiteXY).
- G. Buchsbaum, "A spatial processor model for object colour perception", J. Franklin Inst. 310(1), 1980
  (grey world).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.colour.camera import as_shot_neutral, white_cct
from lumatune.errors import BadFileError
from lumatune.stages._cfa import affine_per_position_fast, channel_values_per_position
from lumatune.stages.params import param
from lumatune.stages.base import Frame, Stage, WhiteBalanceStatus

__all__ = [
    "WhiteBalanceParams",
    "apply_white_balance",
    "apply_white_balance_fast",
    "grey_world_neutral",
    "white_balance_gains",
    "STAGE",
]

#: Pixels above this fraction of saturation, or below this fraction, are left out of the grey-world mean.
_AUTO_CLIP = 0.95
_AUTO_DARK = 0.002


@dataclass(frozen=True)
class WhiteBalanceParams:
    """How the scene white is found."""

    method: str = param(
        "as_shot",
        choices=("as_shot", "auto", "daylight", "manual"),
        doc="as_shot: the camera's record (falls back as LibRaw does: auto or daylight); auto: grey world",
    )
    neutral: tuple[float, float, float] | None = param(
        None, min=1e-4, doc="camera RGB of the white for method = manual (green = 1)"
    )


def white_balance_gains(camera_neutral: np.ndarray) -> np.ndarray:
    """Per-channel gains ``1 / neutral``, scaled so that the smallest gain is 1."""
    gains = 1.0 / np.asarray(camera_neutral, dtype=np.float64)
    return gains / gains.min()


def grey_world_neutral(image: np.ndarray, cfa: np.ndarray | None) -> np.ndarray:
    """Camera neutral by the grey-world assumption: the mean of each channel over well-exposed pixels."""
    means = []
    for channel in range(3):
        values = _channel_samples(image, cfa, channel)
        usable = values[(values > _AUTO_DARK) & (values < _AUTO_CLIP)]
        means.append(float(usable.mean()) if usable.size else 1.0)
    means = np.asarray(means)
    return means / means[1] if means[1] > 0 else np.ones(3)


def _channel_samples(image: np.ndarray, cfa: np.ndarray | None, channel: int) -> np.ndarray:
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / 250_000)))  # ~250k samples are plenty
    if cfa is None:
        return image[::step, ::step, channel].ravel()
    n = cfa.shape[0]
    positions = np.argwhere(cfa == channel)
    return np.concatenate([image[i::n * step, j::n * step].ravel() for i, j in positions])


def apply_white_balance(image: np.ndarray, plan: tuple[np.ndarray | None, np.ndarray]) -> np.ndarray:
    """Multiply each channel by its gain (per CFA position on a mosaic); a new array."""
    cfa, gains = plan
    if cfa is None:
        return image * gains.astype(np.float32)
    out = image.copy()
    n = cfa.shape[0]
    for i in range(n):
        for j in range(n):
            out[i::n, j::n] *= np.float32(gains[cfa[i, j]])
    return out


def apply_white_balance_fast(image: np.ndarray, plan: tuple[np.ndarray | None, np.ndarray]) -> np.ndarray:
    """:func:`apply_white_balance` in one parallel pass, in place on a writeable C-ordered float32 image (any other
    image goes to the plain twin), the same floats."""
    cfa, gains = plan
    if image.dtype != np.float32 or not image.flags.writeable or not image.flags.c_contiguous:
        return apply_white_balance(image, plan)
    if cfa is None:  # linear raw: the channels are a 1 x 3 pattern along each row
        per_position, rows = gains.astype(np.float32)[None, :], image.reshape(image.shape[0], -1)
    else:
        per_position, rows = channel_values_per_position(cfa, gains), image
    affine_per_position_fast(rows, np.zeros_like(per_position), per_position, out=rows)
    return image


def _neutral(params: WhiteBalanceParams, frame: Frame, image: np.ndarray) -> tuple[np.ndarray, str]:
    raw = frame.raw
    if params.method == "manual":
        if params.neutral is None:
            raise BadFileError("white_balance: method = 'manual' needs neutral = [r, g, b]")
        return np.asarray(params.neutral, dtype=np.float64), "manual"
    recorded = as_shot_neutral(raw) if params.method == "as_shot" else None
    if recorded is not None:
        return recorded, "as_shot"
    fallback_to_daylight = params.method == "as_shot" and not raw.camera_asks_auto_wb
    if (params.method == "daylight" or fallback_to_daylight) and raw.daylight_neutral is not None:
        return raw.daylight_neutral, "daylight"
    if params.method != "auto":
        frame.notes.append(f"no {params.method} white balance in the raw: using auto (grey world)")
    return grey_world_neutral(image, raw.cfa), "auto"


def _plan(params: WhiteBalanceParams, frame: Frame, image: np.ndarray):
    neutral, source = _neutral(params, frame, image)
    neutral = np.asarray(neutral, dtype=np.float64) / neutral[1]

    frame.white_balance = WhiteBalanceStatus(
        camera_neutral=neutral, gains=white_balance_gains(neutral), source=source, cct=white_cct(frame.raw, neutral)
    )
    return frame.raw.cfa, frame.white_balance.gains


STAGE = Stage(
    name="white_balance",
    side="tuning",
    params=WhiteBalanceParams,
    plan=_plan,
    process=apply_white_balance_fast,
    summary="scale the channels so the scene white is neutral",
)
