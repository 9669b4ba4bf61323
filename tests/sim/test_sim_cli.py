"""Tests of ``lumatune sim`` (lumatune.cli.sim.sim_command), mounted on a local typer app."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import rawpy
import typer
from typer.testing import CliRunner

from lumatune.errors import UnsupportedError
from lumatune.cli.sim import parse_size, sim_command
from lumatune.sim.scenes import SCENES
from lumatune.sim.spectra import CAMERAS

app = typer.Typer()
app.command("sim")(sim_command)
app.command("other")(lambda: None)  # two commands, so "sim" stays a sub-command as in lumatune.cli


def _run(*args: str):
    return CliRunner().invoke(app, ["sim", *args])


def test_list_names_scenes_illuminants_and_cameras():
    result = _run("--list")
    assert result.exit_code == 0
    for name in [*SCENES, *CAMERAS, "D65", "LED-B3", "<N>K", "XTRANS"]:
        assert name in result.output


def test_writes_the_dng_and_the_truth_beside_it(tmp_path):
    result = _run("colorchecker", "-o", str(tmp_path / "cc.dng"), "--size", "96x64", "--iso", "400", "--cfa", "GBRG")
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "cc.json").read_text())
    assert (truth["iso"], truth["cfa"], truth["image_size"]) == (400, "GBRG", [96, 64])
    with rawpy.imread(str(tmp_path / "cc.dng")) as raw:
        assert raw.raw_image.shape == (64, 96)


def test_chart_placement_is_written_to_the_truth(tmp_path):
    args = ("--chart-centre", "0.4,0.6", "--chart-area", "0.25", "--chart-angle", "200")
    result = _run("colorchecker", "-o", str(tmp_path / "cc.dng"), "--size", "192x128", *args)
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "cc.json").read_text())
    assert truth["placement"] == {"centre": [0.4, 0.6], "area": 0.25, "angle_deg": 200.0}
    assert all(len(patch["centre"]) == 2 for patch in truth["patches"]) and len(truth["patches"]) == 24


def test_output_folder_gets_the_scene_name(tmp_path):
    assert _run("flat-field", "-o", str(tmp_path), "--size", "64x64").exit_code == 0
    assert (tmp_path / "flat-field.dng").is_file() and (tmp_path / "flat-field.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "colorchecker"),
        ((), "no scene"),
        (("colorchecker", "--size", "64"), "WIDTHxHEIGHT"),
        (("colorchecker", "--chart-centre", "0.5"), "X,Y"),
        (("flat-field", "--chart-angle", "10"), "only the colorchecker"),
    ],
)
def test_bad_input_raises_a_lumatune_error(tmp_path, args, message):
    result = _run(*args, "-o", str(tmp_path / "x.dng"))
    assert isinstance(result.exception, UnsupportedError)
    assert message in str(result.exception)
    assert list(tmp_path.iterdir()) == []


def test_importing_the_command_loads_no_simulator():
    code = "import sys, lumatune.cli.sim; print(sorted({'colour', 'cv2', 'scipy'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_parse_size():
    assert parse_size(" 640 x 480 ") == (640, 480)
    with pytest.raises(UnsupportedError):
        parse_size("0x480")
