"""The small public API: open a raw, develop it, save the result.

>>> import lumatune
>>> raw = lumatune.open_raw("photo.dng")                      # doctest: +SKIP
>>> image = lumatune.develop(raw, look="default")             # doctest: +SKIP
>>> lumatune.save(image, "photo.jpg", exif=raw.exif)          # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from lumatune.config.look import Look, load_look
from lumatune.config.tuning import Tuning, default_tuning, load_tuning
from lumatune.errors import BadFileError
from lumatune.raw import RawImage, open_raw
from lumatune.runtime.numba import numba_ready
from lumatune.stages.base import Frame

__all__ = ["develop", "save", "open_raw"]

OUTPUT_SPACES = ("srgb", "p3", "rec2020")


def develop(
    raw: RawImage | str | os.PathLike,
    look: Look | str | os.PathLike = "default",
    tuning: Tuning | str | os.PathLike | None = None,
    *,
    space: str = "srgb",
    ev: float = 0.0,
    preview: bool = False,
    profile: dict | None = None,
    in_bands: bool = False,
    notes: list | None = None,
) -> np.ndarray:
    """Develop a raw into a display-encoded float32 RGB image (H, W, 3) in ``space``, upright.

    Parameters
    ----------
    raw : a :class:`RawImage` or the path of a raw file.
    look : a built-in look name, a look TOML path, or a :class:`Look`.
    tuning : a tuning TOML path or a :class:`Tuning`; ``None`` takes everything from the raw's metadata.
    space : output space, "srgb", "p3" or "rec2020".
    ev : exposure change in EV on top of the look's.
    preview : develop a half-size (Bayer) or third-size (X-Trans) preview, binned from the mosaic: fast.
    profile : if given, filled with milliseconds per stage.
    in_bands : return a :class:`~lumatune.pipeline.BandedImage` (rows developed on demand, e.g. by the JPEG or TIFF
        writer's strips, on every core) when the look and the raw allow it; :func:`save` takes either.
    notes : if given, receives the stages' notes (what they found and did, e.g. each lens opcode).
    """
    from lumatune import pipeline  # lazy: numba (0.4 s); ``import lumatune`` must not load it, the CLI overlaps it

    if space not in OUTPUT_SPACES:
        raise BadFileError(f"unknown output space '{space}' (valid: {', '.join(OUTPUT_SPACES)})")
    if not isinstance(raw, RawImage):
        raw = open_raw(raw)
    if preview:
        from lumatune.pipeline.preview import preview_raw  # lazy: numba (0.4 s)

        raw = preview_raw(raw)
    if not isinstance(look, Look):
        look = load_look(look)
    if tuning is None:
        tuning = default_tuning()
    elif not isinstance(tuning, Tuning):
        tuning = load_tuning(tuning)
    frame = Frame(raw=raw, output_space=space, user_ev=float(ev), kernels_ready=numba_ready)
    image = pipeline.run(frame, tuning, look, profile=profile, in_bands=in_bands)
    if notes is not None:
        notes.extend(frame.notes)
    return image


def save(image: np.ndarray, path: str | os.PathLike, **options):
    """Encode a developed image (see :func:`lumatune.io.encode.save` for the options) atomically."""
    from lumatune.io.encode import save as encode_save  # lazy: numba (0.15 s)

    return encode_save(image, path, **options)
