"""Fuzz target: the DNG tag reader and the opcode-list parser.

``lumatune.raw.read_dng_tags`` reads the colour tags of whatever file it is given (through tifffile), and the
opcode-list parser (``lumatune.raw.opcodes.parse_opcode_list``, the one the reader runs on OpcodeList2) reads
bytes straight from a tag. For any input they must return or raise a :class:`lumatune.errors.LumatuneError`; any
other exception, a hang (``-timeout``) or a memory blow-up (``-rss_limit_mb``) is a crash.

Run: ``python fuzz/fuzz_dng_tags.py [libFuzzer options] CORPUS_DIR [SEED_DIR ...]`` (see ``fuzz/run.py``).

References
----------
- Google, atheris: https://github.com/google/atheris; LLVM libFuzzer: https://llvm.org/docs/LibFuzzer.html
- Adobe DNG Specification 1.6.0.0, chapters 4 and 7.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["lumatune", "tifffile"]):
    from lumatune.errors import LumatuneError
    from lumatune.raw import read_dng_tags
    from lumatune.raw.opcodes import parse_opcode_list

_FILE = Path(tempfile.mkdtemp(prefix="lumatune-fuzz-")) / "input.dng"


def TestOneInput(data: bytes) -> None:
    _FILE.write_bytes(data)
    for parse in (lambda: read_dng_tags(_FILE), lambda: parse_opcode_list(data)):
        try:
            parse()
        except LumatuneError:
            pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
