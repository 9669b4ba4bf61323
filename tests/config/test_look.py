"""Look and tuning files: built-ins load, inheritance merges, bad files give one clear error."""

from __future__ import annotations

import pytest

from lumatune.errors import BadFileError
from lumatune.config.look import builtin_looks, load_look
from lumatune.config.tuning import load_tuning


def test_builtins_load_and_round_trip_through_toml(tmp_path):
    assert {"neutral", "default"} <= set(builtin_looks())
    for name in builtin_looks():
        look = load_look(name)
        assert look.description
        copy = tmp_path / f"{name}.toml"
        copy.write_text(look.to_toml())
        assert load_look(copy).blocks == look.blocks


def test_neutral_has_no_tone_curve():
    assert load_look("neutral").blocks.params["tone"].curve == "none"


def test_inheritance_overrides_key_by_key(tmp_path):
    path = tmp_path / "brighter.toml"
    path.write_text('version = 1\nbase = "default"\n[exposure]\nev = 1.5\n')
    look = load_look(path)
    assert look.blocks.params["exposure"].ev == 1.5
    assert look.blocks.params["tone"] == load_look("default").blocks.params["tone"]


def test_inheritance_loop_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('version = 1\nbase = "b.toml"\n')
    (tmp_path / "b.toml").write_text('version = 1\nbase = "a.toml"\n')
    with pytest.raises(BadFileError, match="inheritance loop"):
        load_look(tmp_path / "a.toml")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("version = 1\n[tone]\ncurve = 'sigmoid'\ncontrst = 2\n", "unknown key 'contrst' (line 4)"),
        ("version = 1\n[tonne]\n", "unknown block [tonne] (line 2)"),
        ("version = 1\n[tone\n", "malformed TOML"),
        ("version = 7\n", "version 7 is not supported"),
        ("version = 1\n[tone]\ncontrast = 99\n", "out of range"),
        ("version = 1\ncolour = 3\n", "unknown key 'colour' (line 2)"),
    ],
)
def test_bad_look_files(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BadFileError, match=fragment.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_look(path)


def test_unknown_look_name_lists_builtins():
    with pytest.raises(BadFileError, match="built-in looks: .*neutral"):
        load_look("no-such-look")


def test_tuning_blocks_and_disabled_stages(tmp_path):
    path = tmp_path / "cam.toml"
    path.write_text('version = 1\ncamera = "X"\n[white_balance]\nmethod = "auto"\n[lens_shading]\nenabled = false\n')
    tuning = load_tuning(path)
    assert tuning.blocks.params["white_balance"].method == "auto"
    assert "lens_shading" in tuning.blocks.disabled
    (tmp_path / "t2.toml").write_text(tuning.to_toml())
    assert load_tuning(tmp_path / "t2.toml").blocks == tuning.blocks


def test_look_block_in_tuning_is_rejected(tmp_path):
    path = tmp_path / "cam.toml"
    path.write_text("version = 1\n[tone]\ncurve = 'none'\n")
    with pytest.raises(BadFileError, match=r"unknown block \[tone\]"):
        load_tuning(path)


def test_required_stage_cannot_be_switched_off(tmp_path):
    path = tmp_path / "off.toml"
    path.write_text("version = 1\n[tone]\nenabled = false\n")
    with pytest.raises(BadFileError, match=r"\[tone\] \(line 2\) cannot be switched off"):
        load_look(path)
