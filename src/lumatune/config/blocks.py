"""Shared reading and writing of tuning and look files: TOML, versioned, one block per stage.

A file is a mapping of top-level keys (``version``, a name, a description, ...) and one table per stage,
named as the stage. ``enabled = false`` in a block switches the stage off; it is handled here, once. Unknown
blocks and keys are errors that name the key and its line.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lumatune.errors import BadFileError
from lumatune.stages.params import params_from_dict, params_to_dict

__all__ = ["BlockSet", "read_toml", "parse_blocks", "to_toml", "line_of"]

FILE_VERSION = 1


@dataclass(frozen=True)
class BlockSet:
    """Params per stage name plus the names of stages switched off."""

    params: dict = field(default_factory=dict)
    disabled: frozenset = frozenset()


#: Largest tuning or look file read; the size is checked before reading (``base = "/dev/zero"`` must not hang).
MAX_FILE_BYTES = 64 << 20


def read_toml(path: Path, what: str) -> tuple[dict, str]:
    """The parsed TOML and its text; one-line errors for missing, unreadable, oversized or malformed files."""
    try:
        info = Path(path).stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            raise BadFileError(f"{path}: not a {what} file (not a regular file of at most {MAX_FILE_BYTES} bytes)")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadFileError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:  # ValueError: a NUL byte in the name
        raise BadFileError(f"{path}: cannot read {what} file ({error.__class__.__name__})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise BadFileError(f"{path}: malformed TOML: {error}") from None


def line_of(text: str, key: str, block: str | None = None) -> int | None:
    """1-based line where ``[block]`` or ``key =`` appears (inside ``block`` when given), for messages."""
    lines = text.splitlines()
    start = 0
    if block is not None:
        for i, line in enumerate(lines):
            if re.match(rf"^\s*\[+\s*{re.escape(block)}\s*[\].]", line):
                start = i
                break
        if key == block:
            return start + 1
    for i in range(start, len(lines)):
        if re.match(rf"^\s*\[*\s*\"?{re.escape(key)}\"?\s*[=\]]", lines[i]):
            return i + 1
    return None


def check_version(data: dict, where: str) -> None:
    version = data.get("version", FILE_VERSION)
    if version != FILE_VERSION:
        raise BadFileError(f"{where}: version {version!r} is not supported (this lumatune reads version {FILE_VERSION})")


def parse_blocks(data: dict, stages: dict, *, where: str, text: str, top_keys: set) -> BlockSet:
    """Validate every block against its stage's params; top-level scalars must be in ``top_keys``."""
    params, disabled = {}, set()
    for key, value in data.items():
        if not isinstance(value, dict):
            if key not in top_keys:
                raise BadFileError(f"{where}: unknown key '{key}'{_at(text, key)}")
            continue
        if key not in stages:
            valid = ", ".join(sorted(stages))
            raise BadFileError(f"{where}: unknown block [{key}]{_at(text, key, key)} (valid blocks: {valid})")
        block = dict(value)
        enabled = block.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise BadFileError(f"{where}: [{key}] enabled must be true or false")
        if not enabled and stages[key].required:
            raise BadFileError(f"{where}: [{key}]{_at(text, key, key)} cannot be switched off (the pipeline needs it)")
        if not enabled:
            disabled.add(key)
        params[key] = params_from_dict(
            stages[key].params, block, where=f"{where}: [{key}]", locate=lambda name, block=key: _at(text, name, block)
        )
    return BlockSet(params=params, disabled=frozenset(disabled))


def _at(text: str, key: str, block: str | None = None) -> str:
    line = line_of(text, key, block)
    return f" (line {line})" if line else ""


def to_toml(header: dict, blocks: BlockSet) -> str:
    """TOML text of a header plus the blocks (every field written, so the file documents itself)."""
    import tomli_w  # lazy: tomli_w (~0.5 ms), kept off `import lumatune` and develop --help

    document = {"version": FILE_VERSION, **{k: v for k, v in header.items() if v is not None}}
    for name, params in blocks.params.items():
        block = {k: v for k, v in params_to_dict(params).items() if v is not None}
        if name in blocks.disabled:
            block = {"enabled": False, **block}
        document[name] = block
    for name in sorted(blocks.disabled - set(blocks.params)):
        document[name] = {"enabled": False}
    return tomli_w.dumps(document)
