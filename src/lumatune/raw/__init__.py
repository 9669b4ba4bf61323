"""lumatune.raw: the raw reader (RawImage, DngTags, open_raw) and ``info``.

The implementation lives in :mod:`lumatune.raw.read`; the public names are re-exported here."""

from lumatune.raw.read import (
    DngTags,
    GainMap,
    MAX_BASELINE_EXPOSURE_EV,
    MAX_MEGAPIXELS,
    RawImage,
    open_raw,
    read_dng_tags,
)

__all__ = [
    "DngTags",
    "GainMap",
    "MAX_BASELINE_EXPOSURE_EV",
    "MAX_MEGAPIXELS",
    "RawImage",
    "open_raw",
    "read_dng_tags",
]
