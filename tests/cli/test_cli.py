"""The command line: outputs, formats, and one-line errors with non-zero exits on bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from synthetic import write_chart_dng

from lumatune.cli import main as cli_main
from lumatune.config.look import builtin_looks
from lumatune.errors import UnreadableInputError


def _run(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code or 0, capsys.readouterr().err


@pytest.fixture()
def dng(tmp_path):
    return write_chart_dng(tmp_path / "chart.dng")


@pytest.mark.parametrize("suffix, mode", [(".jpg", "RGB"), (".png", None), (".tif", None)])
def test_format_follows_extension(tmp_path, dng, capsys, suffix, mode):
    out = tmp_path / f"out{suffix}"
    code, err = _run(["develop", str(dng), "-o", str(out)], capsys)
    assert code == 0 and err == "" and out.exists()
    if suffix == ".jpg":
        with Image.open(out) as image:
            assert image.format == "JPEG" and image.size == (96, 72)
    elif suffix == ".png":
        assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    else:
        assert tifffile.imread(out).dtype == np.uint16


def test_several_inputs_into_a_folder_and_existing_outputs(tmp_path, dng, capsys):
    second = write_chart_dng(tmp_path / "second.dng", cfa="BGGR")
    out = tmp_path / "out"
    out.mkdir()
    code, err = _run(["develop", str(dng), str(second), "-o", str(out), "--jobs", "2"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["chart.jpg", "second.jpg"]
    stamp = (out / "chart.jpg").stat().st_mtime_ns
    code, err = _run(["develop", str(dng), "-o", str(out)], capsys)
    assert code == 1 and "exists (use --overwrite)" in err and err.count("\n") == 1
    assert (out / "chart.jpg").stat().st_mtime_ns == stamp
    code, _ = _run(["develop", str(dng), "-o", str(out), "--overwrite"], capsys)
    assert code == 0


def test_good_inputs_still_develop_when_one_fails(tmp_path, dng, capsys):
    bad = tmp_path / "bad.dng"
    bad.write_bytes(b"not a raw at all" * 10)
    out = tmp_path / "out"
    out.mkdir()
    code, err = _run(["develop", str(bad), str(dng), "-o", str(out)], capsys)
    assert code == 3 and "bad.dng" in err and err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["chart.jpg"]


def _bad_inputs(tmp_path):
    empty = tmp_path / "empty.cr2"
    empty.touch()
    jpeg = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 32), "red").save(jpeg)
    truncated = tmp_path / "truncated.dng"
    full = write_chart_dng(tmp_path / "full.dng").read_bytes()
    truncated.write_bytes(full[: len(full) // 3])
    return {
        "empty": (empty, "empty file"),
        "jpeg": (jpeg, "not a raw"),
        "missing": (tmp_path / "nope.nef", "no such file"),
        "directory": (tmp_path, "is a directory"),
        "truncated": (truncated, ""),
    }


@pytest.mark.parametrize("case", ["empty", "jpeg", "missing", "directory", "truncated"])
def test_bad_input_gives_one_line_and_no_output(tmp_path, capsys, case):
    path, fragment = _bad_inputs(tmp_path)[case]
    out = tmp_path / "result.jpg"
    code, err = _run(["develop", str(path), "-o", str(out)], capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith("lumatune: ") and fragment in err
    assert "Traceback" not in err and not out.exists()
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers == []


def test_missing_output_folder_and_bad_look(tmp_path, dng, capsys):
    code, err = _run(["develop", str(dng), "-o", str(tmp_path / "no" / "such" / "x.jpg")], capsys)
    assert code == 1 and "output folder does not exist" in err
    look = tmp_path / "bad.toml"
    look.write_text("version = 1\n[tone]\ncontrast = 'high'\n")
    code, err = _run(["develop", str(dng), "-o", str(tmp_path / "x.jpg"), "--look", str(look)], capsys)
    assert code == 1 and "bad.toml" in err and "contrast" in err and "line 3" in err


def test_debug_shows_the_traceback(tmp_path, capsys):
    with pytest.raises(UnreadableInputError):
        cli_main(["--debug", "develop", str(tmp_path / "missing.dng"), "-o", str(tmp_path / "x.jpg")])


def test_demo_writes_index_contact_sheet_and_every_look(tmp_path, capsys):
    code, err = _run(["demo", str(tmp_path / "demo")], capsys)
    assert code == 0, err
    files = {p.name for p in (tmp_path / "demo").iterdir()}
    assert {"index.html", "contact-sheet.jpg", "natural.dng", "colorchecker.dng"} <= files
    for look in builtin_looks():
        assert f"natural-{look}.jpg" in files and f"colorchecker-{look}.jpg" in files
    html = (tmp_path / "demo" / "index.html").read_text()
    assert "contact-sheet.jpg" in html and "natural-default.jpg" in html
    assert os.path.getsize(tmp_path / "demo" / "contact-sheet.jpg") > 20_000


def test_profile_prints_every_step_and_the_bandwidth_bound(tmp_path, dng, capsys):
    out = tmp_path / "p.jpg"
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["develop", str(dng), "-o", str(out), "--profile"])
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    for step in ("read (wait)", "numba start (wait)", "levels", "demosaic", "tone", "encode", "total"):
        assert f" {step} " in printed, step
    bound = printed.split("both cores:")[1].split("ms")[0]
    assert float(bound) > 0
    assert out.exists()


HOT_PATH = """
import sys
from lumatune.cli import main
try:
    main(["develop", "--help"])
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)), file=sys.stderr)  # stdout holds the help
"""

OTHER_COMMANDS = ("batch", "calibrate", "demo", "info", "lab", "learn", "looks", "sim")
HEAVY = ("colour", "cv2", "matplotlib", "numba", "scipy")


def test_develop_imports_no_other_command_and_nothing_heavy():
    """``lumatune develop`` mounts only itself; numba starts in the background later, not at import."""
    result = subprocess.run([sys.executable, "-c", HOT_PATH], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(result.stderr.split())
    assert "lumatune.cli.develop" in loaded
    assert not {f"lumatune.cli.{name}" for name in OTHER_COMMANDS} & loaded
    assert not set(HEAVY) & loaded


def test_jobs_import_no_command_line():
    """The jobs are the engine under the command line (and the studio): no typer, no lumatune.cli."""
    code = "import sys, lumatune.jobs.batch, lumatune.jobs.cluster, lumatune.jobs.demo, lumatune.jobs.develop_files;" \
        " print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(result.stdout.split())
    assert "typer" not in loaded and not any(name.startswith("lumatune.cli") for name in loaded)
