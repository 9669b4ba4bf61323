"""lumatune.raw: camera raws as read, knowing nothing of processing.

- :mod:`~lumatune.raw.image`: :class:`RawImage` and :class:`DngTags` (plain dataclasses).
- :mod:`~lumatune.raw.read`: :func:`open_raw` (LibRaw through rawpy).
- :mod:`~lumatune.raw.dng_read`: :func:`read_dng_tags` (DNG tags read from the file with tifffile).
- :mod:`~lumatune.raw.dng_tags` and :mod:`~lumatune.raw.opcodes`: the one DNG tag table and the one opcode-list
  codec, shared with the DNG writer (:mod:`lumatune.io.dng`).
- :mod:`~lumatune.raw.info`: what ``lumatune info`` prints about a raw.
"""

from lumatune.raw.dng_read import MAX_BASELINE_EXPOSURE_EV, read_dng_tags
from lumatune.raw.image import MAX_MEGAPIXELS, DngTags, RawImage
from lumatune.raw.opcodes import GainMap
from lumatune.raw.read import open_raw

__all__ = [
    "DngTags",
    "GainMap",
    "MAX_BASELINE_EXPOSURE_EV",
    "MAX_MEGAPIXELS",
    "RawImage",
    "open_raw",
    "read_dng_tags",
]
