"""Write calibrated blocks into a tuning file: a new file, or an update of one calibration's blocks in place.

Each calibration returns the block of the stage it calibrates (``colour_matrix``, ``lens_shading``,
``denoise``), as libcamera's tuning tool does per algorithm. The blocks are validated by the same loader that
reads tuning files, so what is written can be read back; an existing file is only replaced with
``overwrite``, or updated (its other blocks kept) with ``update``, and only when it is for the same camera.

References
----------
libcamera ``utils/raspberrypi/ctt`` (``CalibrationAlgorithm.run() -> dict`` per tuning block).
"""

from __future__ import annotations

import os
from pathlib import Path

from lumatune.config.blocks import check_version, parse_blocks, read_toml
from lumatune.errors import OutputError, UnsupportedError
from lumatune.io.atomic import atomic_output
from lumatune.config.tuning import Tuning

__all__ = ["tuning_from_blocks", "write_tuning_blocks"]

_TOP_KEYS = {"version", "camera", "description"}


def tuning_from_blocks(blocks: dict[str, dict], *, camera: str | None = None, description: str | None = None) -> Tuning:
    """A validated :class:`~lumatune.config.tuning.Tuning` from raw block mappings (stage name -> keys).

    Raises
    ------
    BadFileError : a block or key the tuning stages do not accept.
    """
    from lumatune.stages.registry import stages_of_side  # lazy: the stages load numba (0.4 s), `import lumatune` must not

    parsed = parse_blocks(blocks, stages_of_side("tuning"), where="calibrated tuning", text="", top_keys=_TOP_KEYS)
    return Tuning(blocks=parsed, camera=camera, description=description, source="calibrate")


def _existing_blocks(path: Path, camera: str) -> tuple[dict, str | None]:
    data, _ = read_toml(path, "tuning")
    check_version(data, str(path))
    if data.get("camera") not in (None, camera):
        raise UnsupportedError(f"{path}: tuning is for camera '{data['camera']}', these raws are from '{camera}'")
    return {k: v for k, v in data.items() if isinstance(v, dict)}, data.get("description")


def write_tuning_blocks(
    path: str | os.PathLike,
    blocks: dict[str, dict],
    *,
    camera: str,
    description: str | None = None,
    update: bool = False,
    overwrite: bool = False,
) -> Tuning:
    """Write ``blocks`` as a tuning TOML file atomically; return the tuning written.

    Parameters
    ----------
    blocks : stage name -> block keys, e.g. ``{"colour_matrix": {"ccms": [...]}}``.
    camera : the camera the blocks were calibrated for (written as ``camera``).
    update : keep the other blocks of an existing file (which must be for the same camera).
    overwrite : replace an existing file.

    Raises
    ------
    OutputError : the file exists and neither ``update`` nor ``overwrite`` is given.
    UnsupportedError : ``update`` of a tuning for another camera.
    """
    path = Path(path)
    merged: dict = {}
    if path.exists() and update:
        merged, old_description = _existing_blocks(path, camera)
        description = description or old_description
    elif path.exists() and not overwrite:
        raise OutputError(f"{path}: exists (use --update to replace only the calibrated blocks, or --overwrite)")
    for name, block in blocks.items():
        merged[name] = {**merged.get(name, {}), **block} if update else block
    tuning = tuning_from_blocks(merged, camera=camera, description=description)
    with atomic_output(path, overwrite or update) as temp:
        temp.write_text(tuning.to_toml(), encoding="utf-8")
    return tuning
