"""A look's point-wise stages on any array of scene colours: what a LUT can hold, what charts and learners read."""

from __future__ import annotations

import types

import numpy as np

from lumatune.pipeline.order import POINTWISE
from lumatune.pipeline.run import run
from lumatune.stages.base import Frame

__all__ = ["bare_frame", "render_colours"]


def bare_frame(space: str = "srgb", scene_clip: float = 1.0) -> Frame:
    """A frame without a raw behind it (no DNG, no EXIF, upright): for running stages on colours or test images.

    Parameters
    ----------
    space : output space ("srgb", "p3", "rec2020").
    scene_clip : the scene value at which the sensor would clip (see :class:`~lumatune.stages.base.Frame`).
    """
    raw = types.SimpleNamespace(dng=None, exif={}, orientation_turns=0)
    return Frame(raw=raw, output_space=space, scene_clip=scene_clip)


def render_colours(look, rgb: np.ndarray, *, space: str = "srgb", scene_clip: float = 1.0) -> np.ndarray:
    """Run the look's point-wise stages (:data:`~lumatune.pipeline.order.POINTWISE`) on linear Rec.2020 scene
    colours ``rgb`` (..., 3).

    Parameters
    ----------
    look : a :class:`~lumatune.config.look.Look`.
    rgb : scene-referred linear Rec.2020 (D65), white-balanced, with the sensor clip at ``scene_clip``.
    space : output space ("srgb", "p3", "rec2020").

    Returns
    -------
    numpy.ndarray : display-encoded RGB of ``space``, float32, the shape of ``rgb``.
    """
    shape = np.shape(rgb)
    image = np.ascontiguousarray(np.asarray(rgb, np.float32).reshape(-1, 1, 3)).copy()
    image = run(bare_frame(space, scene_clip), None, look, image=image, select=POINTWISE)
    return np.asarray(image, np.float32).reshape(shape)
