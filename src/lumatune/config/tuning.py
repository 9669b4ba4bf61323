"""Tuning: the camera side of the pipeline, one block per stage (like a libcamera tuning file), as TOML.

An empty tuning means "everything from the raw's own metadata": levels, as-shot white balance, the DNG or
LibRaw colour matrix, the raw's gain map. A calibrated tuning (``lumatune calibrate``) fills blocks in.

Example::

    version = 1
    camera = "Canon EOS D30"

    [white_balance]
    method = "auto"

    [demosaic]
    method = "menon2007"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lumatune.config.blocks import BlockSet, check_version, parse_blocks, read_toml, to_toml

__all__ = ["Tuning", "load_tuning", "default_tuning"]

_TOP_KEYS = {"version", "camera", "description"}


@dataclass(frozen=True)
class Tuning:
    """Camera-side parameters: stage name -> params, and the stages switched off."""

    blocks: BlockSet = field(default_factory=BlockSet)
    camera: str | None = None
    description: str | None = None
    source: str = "metadata"

    def to_toml(self) -> str:
        """The tuning as a TOML file."""
        return to_toml({"camera": self.camera, "description": self.description}, self.blocks)


def default_tuning() -> Tuning:
    """The tuning that takes everything from the raw's metadata."""
    return Tuning()


def load_tuning(path: str | os.PathLike) -> Tuning:
    """Read and validate a tuning TOML file (unknown blocks or keys are errors naming the key and line)."""
    from lumatune.stages.registry import stages_of_side  # lazy: the stages load numba (0.4 s), `import lumatune` must not

    path = Path(path)
    data, text = read_toml(path, "tuning")
    check_version(data, str(path))
    blocks = parse_blocks(data, stages_of_side("tuning"), where=str(path), text=text, top_keys=_TOP_KEYS)
    return Tuning(blocks=blocks, camera=data.get("camera"), description=data.get("description"), source=str(path))
