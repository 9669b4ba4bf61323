"""Fuzz target: the DNG tag reader and the opcode-list parser.

``lumatune.raw.read_dng_tags`` reads the colour tags of whatever file it is given (through tifffile), and the
opcode-list parser (``lumatune.raw.opcodes.parse_opcode_list``, the one the reader runs on OpcodeList1/2/3) reads
bytes straight from a tag; the lens opcodes it returns are turned into the lens stage's program and walked at a
few positions (``lumatune.stages.lens``). For any input they must return or raise a
:class:`lumatune.errors.LumatuneError`; any other exception, a hang (``-timeout``) or a memory blow-up
(``-rss_limit_mb``) is a crash.

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
    from lumatune.raw.opcodes import FixVignetteRadial, WarpFisheye, WarpRectilinear, WarpRectilinear2, parse_opcode_list
    from lumatune.stages.lens import opcode_rows, source_positions

import numpy as np

_LENS = (FixVignetteRadial, WarpFisheye, WarpRectilinear, WarpRectilinear2)
_POSITIONS = np.array([0.0, 0.5, 13.0, 48.0, 96.0])

_FILE = Path(tempfile.mkdtemp(prefix="lumatune-fuzz-")) / "input.dng"


def TestOneInput(data: bytes) -> None:
    _FILE.write_bytes(data)
    for parse in (lambda: read_dng_tags(_FILE), lambda: parse_opcode_list(data)):
        try:
            parsed = parse()
        except LumatuneError:
            continue
        for opcode in parsed if isinstance(parsed, list) else ():
            if isinstance(opcode, _LENS):  # a parsed lens opcode must give a program that evaluates
                rows = opcode_rows(opcode, (96.0, 72.0))[None]
                for plane in range(3):
                    source_positions(rows, plane, _POSITIONS, _POSITIONS[::-1])


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
