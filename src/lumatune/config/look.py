"""Look: the aesthetic side of the pipeline (exposure, tone, colour, ...), one block per stage, as TOML.

Built-in looks are TOML files in ``lumatune/config/looks/``, written in the same format users write. A look may
inherit another with ``base = "name"``: the base's blocks are read first and the look's keys override them.
A ``[lut] file`` is relative to the look file that names it, and is read when the look loads, so a missing or
malformed table fails before any image. A ``.cube`` or Hald CLUT ``.png`` given as a look is the ``neutral``
look plus that table, applied to the display-encoded sRGB rendering (see :mod:`lumatune.stages.lut`).

Example::

    version = 1
    name = "brighter"
    base = "default"
    description = "the default look, half a stop brighter"

    [exposure]
    ev = 0.5
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lumatune.config.blocks import BlockSet, check_version, parse_blocks, read_toml, to_toml
from lumatune.errors import BadFileError

__all__ = ["Look", "load_look", "builtin_looks"]

_TOP_KEYS = {"version", "name", "description", "base"}


@dataclass(frozen=True)
class Look:
    """Aesthetic parameters: stage name -> params, the stages switched off, and what the look is."""

    name: str
    description: str = ""
    blocks: BlockSet = field(default_factory=BlockSet)
    source: str = ""

    def to_toml(self) -> str:
        """The look as a TOML file, with every parameter written out."""
        return to_toml({"name": self.name, "description": self.description}, self.blocks)


def builtin_looks() -> dict[str, Path]:
    """Built-in look name -> its TOML file."""
    folder = resources.files("lumatune.config") / "looks"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def load_look(name_or_path: str | os.PathLike) -> Look:
    """A built-in look by name, a look TOML file by path, or a LUT file (``.cube``, Hald ``.png``) as a look."""
    from lumatune.io.lut import LUT_SUFFIXES  # lazy: lumatune.io.lut (1-5 ms), kept off `import lumatune` and develop --help
    from lumatune.stages.registry import stages_of_side  # lazy: the stages load numba (0.4 s), `import lumatune` must not

    if Path(str(name_or_path)).suffix.lower() in LUT_SUFFIXES:
        return _lut_look(Path(str(name_or_path)))
    data, where, text = _look_data(str(name_or_path), chain=())
    blocks = parse_blocks(data, stages_of_side("look"), where=where, text=text, top_keys=_TOP_KEYS)
    blocks = _with_lut_loaded(blocks)
    name = data.get("name") or Path(str(name_or_path)).stem
    return Look(name=str(name), description=str(data.get("description", "")), blocks=blocks, source=where)


def _lut_look(path: Path) -> Look:
    """The neutral look plus the table in ``path``, which expects display-encoded sRGB."""
    from lumatune.stages.registry import stages_of_side  # lazy: the stages load numba (0.4 s), `import lumatune` must not

    data, _, _ = _look_data("neutral", chain=())
    data = {**data, "lut": {"file": str(path.resolve()), "space": "srgb", "strength": 1.0}}
    blocks = parse_blocks(data, stages_of_side("look"), where=str(path), text="", top_keys=_TOP_KEYS)
    blocks = _with_lut_loaded(blocks)
    description = f"neutral + the LUT {path.name} (on the sRGB rendering)"
    return Look(name=path.stem, description=description, blocks=blocks, source=str(path))


def _with_lut_loaded(blocks: BlockSet) -> BlockSet:
    """The blocks with the look's LUT read into its params (the stage reads no file), so that a missing or
    malformed table fails here, before any image."""
    from lumatune.io.lut import load_lut  # lazy: lumatune.io.lut (1-5 ms), kept off `import lumatune` and develop --help

    params = blocks.params.get("lut")
    if params is None or not params.file or "lut" in blocks.disabled:
        return blocks
    loaded = dataclasses.replace(params, table=load_lut(params.file))
    return dataclasses.replace(blocks, params={**blocks.params, "lut": loaded})


def _with_lut_path_resolved(data: dict, folder: Path) -> dict:
    """``[lut] file`` made relative to the folder of the look file that names it."""
    block = data.get("lut")
    if not isinstance(block, dict) or not isinstance(block.get("file"), str) or not block["file"]:
        return data
    if Path(block["file"]).is_absolute():
        return data
    return {**data, "lut": {**block, "file": str(folder / block["file"])}}


def _locate(name_or_path: str) -> Path:
    builtins = builtin_looks()
    if name_or_path in builtins:
        return builtins[name_or_path]
    path = Path(name_or_path)
    if "\0" in name_or_path:  # no file has such a name, and os calls raise ValueError on it
        raise BadFileError(f"{name_or_path!r}: a look path cannot hold a NUL byte")
    if path.suffix.lower() == ".toml" or path.exists():
        return path
    valid = ", ".join(sorted(builtins))
    raise BadFileError(f"unknown look '{name_or_path}' (built-in looks: {valid}; or give a .toml file)")


def _look_data(name_or_path: str, chain: tuple) -> tuple[dict, str, str]:
    """The look's TOML data with its bases merged in (block by block, key by key)."""
    path = _locate(name_or_path)
    key = str(path.resolve())
    if key in chain:
        raise BadFileError(f"{path}: inheritance loop through base = '{name_or_path}'")
    data, text = read_toml(path, "look")
    check_version(data, str(path))
    data = _with_lut_path_resolved(data, path.parent)
    base = data.get("base")
    if base is None:
        return data, str(path), text
    if not isinstance(base, str):
        raise BadFileError(f"{path}: base must be the name or path of a look")
    base_ref = base if base in builtin_looks() else str((path.parent / base)) if not Path(base).is_absolute() else base
    base_data, _, _ = _look_data(base_ref, chain + (key,))
    merged = {k: v for k, v in base_data.items() if isinstance(v, dict)}
    for k, v in data.items():
        merged[k] = {**merged.get(k, {}), **v} if isinstance(v, dict) and isinstance(merged.get(k), dict) else v
    merged.pop("base", None)
    return merged, str(path), text
