"""Look files with the look blocks: LUT paths, .cube files as looks, and one-line errors for bad blocks."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import BadFileError
from lumatune.io.lut import Lut, write_cube
from lumatune.config.look import load_look


def _identity_cube(path):
    g = np.linspace(0, 1, 3, dtype=np.float32)
    return write_cube(path, Lut(table=np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1)))


def test_lut_path_is_relative_to_the_look_file(tmp_path):
    (tmp_path / "luts").mkdir()
    _identity_cube(tmp_path / "luts" / "grade.cube")
    (tmp_path / "graded.toml").write_text('version = 1\nbase = "natural"\n[lut]\nfile = "luts/grade.cube"\n')
    look = load_look(tmp_path / "graded.toml")
    assert look.blocks.params["lut"].file == str(tmp_path / "luts" / "grade.cube")
    assert look.blocks.params["tone"] == load_look("natural").blocks.params["tone"]


def test_missing_lut_fails_when_the_look_loads(tmp_path):
    (tmp_path / "graded.toml").write_text('version = 1\n[lut]\nfile = "absent.cube"\n')
    with pytest.raises(BadFileError, match="absent.cube: no such LUT file"):
        load_look(tmp_path / "graded.toml")


def test_cube_file_is_neutral_plus_the_lut(tmp_path):
    path = _identity_cube(tmp_path / "film.cube")
    look = load_look(path)
    assert look.name == "film"
    assert look.blocks.params["tone"].curve == "none"
    assert look.blocks.params["lut"].file == str(path.resolve()) and look.blocks.params["lut"].space == "srgb"


def test_malformed_cube_as_a_look_is_one_line(tmp_path):
    path = tmp_path / "bad.cube"
    path.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(BadFileError, match="expected 8 table lines") as caught:
        load_look(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("version = 1\n[colour]\nsaturaton = 1.2\n", "unknown key 'saturaton' (line 3)"),
        ("version = 1\n[colour]\nhue_shift = [1, 2]\n", "expected 8 values"),
        ("version = 1\n[vignette]\namount = -3\n", "out of range"),
        ("version = 1\n[grain]\nseed = 1.5\n", "whole number"),
        ("version = 1\n[crop]\naspect = '3x2'\n", "not W:H"),
        ("version = 1\n[mono]\nfilter = 'purple'\n", "not one of"),
        ("version = 1\n[lut]\nspace = 'log'\n", "not one of"),
        ("version = 1\n[tone]\ncurve = 'points'\n", "at least two points"),
    ],
)
def test_bad_look_blocks(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadFileError) as caught:
        load_look(path)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_look_may_switch_a_builtin_block_off(tmp_path):
    (tmp_path / "plain.toml").write_text('version = 1\nbase = "authentic"\n[vignette]\nenabled = false\n')
    look = load_look(tmp_path / "plain.toml")
    assert "vignette" in look.blocks.disabled
