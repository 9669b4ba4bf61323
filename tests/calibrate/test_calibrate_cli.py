"""``lumatune calibrate`` commands: one tuning file built block by block, reports, and nothing written on errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lumatune.cli.calibrate import app, parse_corners
from lumatune.errors import BadFileError, OutputError, UnsupportedError
from lumatune.config.tuning import load_tuning

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)


def test_colour_shading_noise_build_one_tuning(chart_raws, flat_raws, wedge_raws, tmp_path):
    tuning = tmp_path / "camera.toml"
    result = _invoke(
        "colour",
        chart_raws["D65"],
        chart_raws["A"],
        "-o",
        tuning,
        "--dcp",
        tmp_path / "camera.dcp",
        "--report",
        tmp_path / "colour.html",
    )
    assert result.exit_code == 0, result.output
    assert "fitted" in result.output and (tmp_path / "camera.dcp").is_file()
    assert "ΔE00" in (tmp_path / "colour.html").read_text(encoding="utf-8")
    assert _invoke("shading", *flat_raws[:2], "-o", tuning, "--update").exit_code == 0
    result = _invoke("noise", *wedge_raws, "-o", tuning, "--update", "--report", tmp_path / "noise.html")
    assert result.exit_code == 0, result.output
    loaded = load_tuning(tuning)
    assert set(loaded.blocks.params) == {"colour_matrix", "lens_shading", "denoise"}
    assert len(loaded.blocks.params["colour_matrix"].ccms) == 2
    assert loaded.blocks.params["denoise"].profiles[0]["iso"] == 800


def test_existing_tuning_needs_update_or_overwrite(flat_raws, tmp_path):
    tuning = tmp_path / "camera.toml"
    tuning.write_text("version = 1\n")
    result = _invoke("shading", *flat_raws[:2], "-o", tuning)
    assert isinstance(result.exception, OutputError)
    assert tuning.read_text() == "version = 1\n"


def test_update_refuses_a_tuning_of_another_camera(flat_raws, tmp_path):
    tuning = tmp_path / "camera.toml"
    tuning.write_text('version = 1\ncamera = "another camera"\n')
    result = _invoke("shading", *flat_raws[:2], "-o", tuning, "--update")
    assert isinstance(result.exception, UnsupportedError)


@pytest.mark.parametrize("raws", ["mixed cameras", "not a flat"])
def test_bad_input_writes_nothing(chart_raws, raws, tmp_path):
    tuning, report = tmp_path / "camera.toml", tmp_path / "report.html"
    if raws == "mixed cameras":
        result = _invoke("colour", chart_raws["D65"], chart_raws["other-camera"], "-o", tuning, "--report", report)
    else:
        result = _invoke("shading", chart_raws["D65"], "-o", tuning, "--report", report)
    assert result.exit_code != 0 and result.exception is not None
    assert "\n" not in str(result.exception).strip()
    assert not tuning.exists() and not report.exists()


def test_corners_parse():
    assert parse_corners("1,2,3,4,5,6,7,8").tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    with pytest.raises(BadFileError, match="8 numbers"):
        parse_corners("1,2,3")


def test_a_foreign_json_beside_the_raw_does_not_stop_auto(chart_raws, tmp_path):
    raw = tmp_path / "shot.dng"
    raw.write_bytes(chart_raws["D65"].read_bytes())
    raw.with_suffix(".json").write_text('{"software": "another program", "patches": [1, 2]}')
    report = tmp_path / "report.html"
    result = _invoke("colour", raw, "-o", tmp_path / "camera.toml", "--report", report)
    assert result.exit_code == 0, result.output
    assert "shot.dng: patches located by finder" in report.read_text(encoding="utf-8")


def test_no_chart_is_one_line_on_stderr(flat_raws, tmp_path, capsys, monkeypatch):
    import sys

    from lumatune.cli import main as cli_main

    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    with pytest.raises(SystemExit) as exit_:
        cli_main(["calibrate", "colour", str(flat_raws[0]), "-o", str(tmp_path / "camera.toml")])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert err.startswith("lumatune: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "no ColorChecker found" in err and "built-in finder" in err
    assert not (tmp_path / "camera.toml").exists()


def test_unknown_locate_is_refused(chart_raws, tmp_path):
    result = _invoke("colour", chart_raws["D65"], "-o", tmp_path / "camera.toml", "--locate", "guess")
    assert isinstance(result.exception, BadFileError) and "builtin" in str(result.exception)
