"""Crashes the fuzz targets (``fuzz/``) and the hostile-input probes found, each kept as a regression test.

Each test names the target or probe that found it and the fix.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from robustness.hostile import patch_entry
from synthetic import write_chart_dng

from lumatune.cli import main as cli_main
from lumatune.config.look import load_look
from lumatune.config.tuning import load_tuning
from lumatune.errors import BadFileError, UnreadableInputError
from lumatune.raw import read_dng_tags
from lumatune.raw.opcodes import parse_opcode_list

CHILD_TIMEOUT_S = 120

READ_GROWTH_BYTES = 100_000_000
"""Growth of resident memory while one small file's tags are read: under 0.01 MB measured (572 MB with tifffile
2024.5.22)."""

PEAK_BYTES_OF_A_SMALL_DNG = 10_000_000
"""Python allocations while reading the tags of a small TIFF: 0.12 MB measured (tifffile 2026.3), with a wide margin."""


def test_dng_tag_with_no_values(tmp_path):
    """fuzz_dng_tags: a WhiteLevel of count 0 made ``min()`` of an empty array raise ValueError.
    Fix: raw.py refuses a tag with no values, naming it."""
    path = write_chart_dng(tmp_path / "chart.dng")
    path.write_bytes(patch_entry(path.read_bytes(), "WhiteLevel", count=0))
    with pytest.raises(UnreadableInputError, match="DNG tag WhiteLevel has no values"):
        read_dng_tags(path)


@pytest.mark.parametrize("size", [0, 40, 75])
def test_gain_map_opcode_shorter_than_its_header(size):
    """fuzz_dng_tags: ``io.dng.parse_opcode_list`` unpacked 76 header bytes from a shorter GainMap (struct.error).
    Fix: the length is checked first. That parser is gone; the one left (``raw.opcodes``, the reader's) is held
    to the same input."""
    opcode = struct.pack(">I4BII", 9, 1, 3, 0, 0, 0, size) + bytes(size)
    with pytest.raises(UnreadableInputError, match=f"GainMap \\(opcode 1\\) has {size} parameter bytes, fewer than 76"):
        parse_opcode_list(struct.pack(">I", 1) + opcode)


@pytest.mark.parametrize("points", [(0, 0, 1), (2**32 - 1, 2**32 - 1, 0), (3, 3, 0)])
def test_gain_map_opcode_with_an_empty_map(points):
    """fuzz_dng_tags (10-minute run): MapPlanes 0 with huge MapPointsV/H made ``reshape`` raise ValueError
    ("array is too big"). Fix: an empty map is refused (the specification asks for at least one point); held now
    against the one parser left (``raw.opcodes``, the reader's)."""
    header = struct.pack(">10I4dI", 0, 0, 8, 8, 0, 1, 1, 1, points[0], points[1], 1.0, 1.0, 0.0, 0.0, points[2])
    opcode = struct.pack(">I4BII", 9, 1, 3, 0, 0, 0, len(header)) + header
    with pytest.raises(UnreadableInputError, match="has a zero plane count, pitch or map size"):
        parse_opcode_list(struct.pack(">I", 1) + opcode)


@pytest.mark.parametrize("body", ['base = "a\\u0000.toml"', '[lut]\nfile = "a\\u0000.cube"'])
def test_look_path_with_a_nul_byte(tmp_path, body):
    """fuzz_look_tuning (10-minute run): a LUT file name (then a base name) holding a NUL byte made ``stat`` raise
    ValueError. Fix: io/lut.py and look.py report it as a bad look."""
    look = tmp_path / "look.toml"
    look.write_text(f"version = 1\n{body}\n")
    with pytest.raises(BadFileError):
        load_look(look)


@pytest.mark.parametrize(
    "gains, problem",
    [
        ("[1, 2]", "expected a table"),
        ("{r = [[nan, 1.0], [1.0, 1.0]], g = [[1.0]], b = [[1.0]]}", "nan is not a finite number"),
        ("{r = [[1e308, 1e308, nan, -1001]], g = [[1.0]], b = [[1.0]]}", "nan is not a finite number"),
    ],
)
def test_table_param_of_the_wrong_type_or_not_finite(tmp_path, gains, problem):
    """fuzz_look_tuning (round-trip oracle): ``[lens_shading] gains`` took a list, and NaN inside a table, at load
    time; developing then raised AttributeError, or with NaN pixels crashed the tone kernel (SIGSEGV).
    Fix: params.py checks that table fields are tables and that every number inside is finite."""
    path = tmp_path / "tuning.toml"
    path.write_text(f"version = 1\n[lens_shading]\ngains = {gains}\n")
    with pytest.raises(BadFileError, match=problem):
        load_tuning(path)


@pytest.mark.parametrize("grid", ["[[1.0, 1.0], [1.0]]", "[[]]", '[["a"]]'])
def test_ragged_or_empty_gain_grid_is_a_bad_file_not_a_bug(tmp_path, capsys, grid):
    """Found reducing the crash above: a ragged, empty or text grid made ``np.asarray`` raise ValueError (exit 70
    'internal error'). Fix: stages/lens_shading.py reports it as a bad tuning."""
    tuning = tmp_path / "tuning.toml"
    tuning.write_text(f"version = 1\n[lens_shading]\ngains = {{r = {grid}, g = [[1.0]], b = [[1.0]]}}\n")
    raw = write_chart_dng(tmp_path / "chart.dng")
    with pytest.raises(SystemExit) as exit_:
        cli_main(["develop", str(raw), "-o", str(tmp_path / "out.jpg"), "--tuning", str(tuning)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and "needs positive 2-D grids" in err and "internal error" not in err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("target", ["/dev/zero", "."])
def test_look_base_that_is_not_a_file(tmp_path, target):
    """Writing the look fuzz target: ``base = "/dev/zero"`` read forever (a hang and a memory blow-up).
    Fix: blocks.read_toml checks for a regular file of bounded size before reading."""
    look = tmp_path / "look.toml"
    look.write_text(f'version = 1\nname = "x"\nbase = "{target}"\n')
    with pytest.raises(BadFileError, match="not a regular file"):
        load_look(look)


EXTREME_TUNINGS = {
    "manual white balance neutral 1e300": '[white_balance]\nmethod = "manual"\nneutral = [1e300, 1, 1]\n',
    "denoise noise profile scale 1e300": "[denoise]\nstrength = 1.0\nprofiles = [{iso = 100, noise_profile = [[1e300, 0]]}]\n",
}


@pytest.mark.parametrize("case", list(EXTREME_TUNINGS))
def test_extreme_tuning_values_do_not_crash_the_process(tmp_path, case):
    """Hostile-tuning probe: these tunings load (the values are within their declared ranges) but overflowed
    float32 to inf/NaN, and the display kernel's table lookup (stages/_jit.lookup) indexed with int32(NaN):
    SIGSEGV. Fixed there (NaN reads as 0). Run in a child, so that a crash is a failure here, not of pytest."""
    tuning = tmp_path / "tuning.toml"
    tuning.write_text("version = 1\n" + EXTREME_TUNINGS[case])
    raw = write_chart_dng(tmp_path / "chart.dng")
    result = subprocess.run(
        [sys.executable, "-m", "lumatune", "develop", str(raw), "-o", str(tmp_path / "out.jpg"), "--tuning", str(tuning)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False,
    )
    assert result.returncode in (0, 1), f"exit {result.returncode}: {result.stderr[-500:]}"


def test_dng_claiming_to_be_scanimage_does_not_make_tifffile_load_virtual_frames(tmp_path):
    """fuzz_dng_tags (CI, tifffile 2024.5.22): an ImageDescription beginning ``state.`` makes tifffile take the file
    for ScanImage and build a page object, with its own tuple of strip offsets, for every page-sized step of the
    file: a few kilobytes used more than 2 GB. Fix: ``raw.dng_read.open_tiff`` opens raws without tifffile's
    format loaders. Without it this file (8 MB, 2,000 strips a page) allocates ~45 MB in Python objects."""
    import tifffile

    path = tmp_path / "scanimage.dng"
    page = np.zeros((2000, 1), np.uint8)
    with tifffile.TiffWriter(path) as writer:
        for _ in range(5):  # equidistant pages: what tifffile's ScanImage loader extrapolates from
            writer.write(page, description="state.acq.numberOfFrames=5", rowsperstrip=1, metadata=None,
                         extratags=[(50706, "B", 4, (1, 4, 0, 0), True)])  # DNGVersion
    with open(path, "ab") as f:
        f.write(bytes(8_000_000))
    tracemalloc.start()
    try:
        read_dng_tags(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES_OF_A_SMALL_DNG, f"{peak / 1e6:.0f} MB allocated reading a 5-page TIFF's tags"


def _tiff_with_text_image_length(width: int) -> bytes:
    """A little-endian TIFF whose IFD 0 holds ImageWidth ``width`` (LONG), ImageLength as ASCII text (TIFF 6.0 allows
    only SHORT or LONG) and DNGVersion; no strips."""
    entries = [(256, 4, 1, struct.pack("<I", width)), (257, 2, 4, b"abc\0"), (50706, 1, 4, bytes((1, 4, 0, 0)))]
    ifd = struct.pack("<H", len(entries))
    ifd += b"".join(struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries)
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def test_text_image_length_does_not_make_tifffile_build_a_huge_string(tmp_path):
    """fuzz_dng_tags (lowest versions): tifffile before 2024.7.21 multiplied a text ImageLength by ImageWidth, so
    an 885-byte file built a 20 GB string (16.8 GB resident after 53 s here). Fix: tifffile >= 2024.7.21, which
    refuses it. Here the string would be 600 MB; read in a child, whose peak resident memory during the read is
    compared with its memory before (Linux: ``clear_refs`` resets the peak, so imports and compiles do not count)."""
    path = tmp_path / "text-length.dng"
    path.write_bytes(_tiff_with_text_image_length(200_000_000))
    child = (
        "import re, sys\n"
        "from lumatune.raw import read_dng_tags\n"
        "def kib(key): return int(re.search(key + r':\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = kib('VmRSS')\n"
        "tags = read_dng_tags(sys.argv[1])\n"
        "print(tags, (kib('VmHWM') - before) * 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, text=True,
                            timeout=CHILD_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stderr[-800:]
    tags, growth = result.stdout.split()[-2:]
    assert tags == "None", result.stdout  # not a TIFF tifffile can read: LibRaw decides
    assert int(growth) < READ_GROWTH_BYTES, result.stdout
