"""``look learn`` end to end (bad pairs on one line each, the fit goes on, files written and loadable) and
``look diff`` (numbers that say what differs)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from lumatune.errors import LumatuneError, OutputError
from lumatune.cli.learn import diff_command, learn_command

LUT_SIZE = "9"


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    look_app = typer.Typer()
    look_app.command("learn")(learn_command)
    look_app.command("diff")(diff_command)
    app.add_typer(look_app, name="look")
    return app


def _png(path, image):
    import cv2

    cv2.imwrite(str(path), np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)[..., ::-1])
    return path


@pytest.fixture(scope="module")
def learned(app, sim_pairs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("learn-cli")
    a, b, c = sim_pairs["train"][0], sim_pairs["train"][1], sim_pairs["train"][2]
    args = [
        "look", "learn",
        f"{a.dng}={_png(folder / 'a.png', a.target)}",
        f"{b.dng}={_png(folder / 'b.png', b.target)}",
        str(c.dng),  # no embedded preview
        f"{a.dng}={folder / 'b.png'}",  # another shot: no registration
        "-o", str(folder / "camera-look.toml"), "--lut-size", LUT_SIZE,
    ]
    return CliRunner().invoke(app, args), folder


def test_learn_goes_on_with_the_usable_pairs(learned):
    result, _ = learned
    assert result.exit_code == 0, result.output
    # result.output holds stderr too, under click 8.1 (mixed) and 8.2+ (its terminal view)
    problems = [line for line in result.output.splitlines() if line.startswith("lumatune: ")]
    assert len(problems) == 2
    assert "no embedded JPEG preview" in problems[0]
    assert "no registration found" in problems[1]
    assert "2 pairs used" in result.stdout


def test_learned_look_is_an_ordinary_look(learned, sim_pairs):
    import lumatune

    _, folder = learned
    look = lumatune.load_look(folder / "camera-look.toml")
    assert look.blocks.params["tone"].curve == "points"
    image = lumatune.develop(sim_pairs["train"][0].dng, look=folder / "camera-look.toml")
    assert image.shape == sim_pairs["train"][0].secret.shape


def test_report_holds_the_numbers(learned):
    _, folder = learned
    report = json.loads((folder / "camera-look-report.json").read_text())
    held = report["held_out"]
    assert set(held) == {"neutral", "default", "learned"}
    assert held["learned"]["mean"] < held["neutral"]["mean"] / 2
    assert held["learned"]["p95"] >= held["learned"]["mean"]
    assert report["split"].startswith("the right 20%")
    for name in ("camera-look-report.html", "camera-look-report.png", "camera-look-crops.png"):
        assert (folder / name).stat().st_size > 1000


def test_too_few_pairs_is_one_error(app, sim_pairs, tmp_path):
    result = CliRunner().invoke(app, ["look", "learn", str(sim_pairs["train"][0].dng), "-o", str(tmp_path / "x.toml")])
    assert isinstance(result.exception, LumatuneError)
    assert "0 of 1 pairs usable, at least 1 needed" in str(result.exception)
    assert not (tmp_path / "x.toml").exists()


def test_existing_output_is_refused_before_any_work(app, learned):
    _, folder = learned
    result = CliRunner().invoke(app, ["look", "learn", "missing.dng", "-o", str(folder / "camera-look.toml")])
    assert isinstance(result.exception, OutputError)


SAME_LOOK_DE00 = 1e-9
"""CIEDE2000 of a look against itself on the developed scene: float64 rounding at most (seen: 9.6e-15 once)."""


def test_diff_of_a_look_with_itself_is_zero(app):
    result = CliRunner().invoke(app, ["look", "diff", "vibrant", "vibrant", "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.stdout)
    assert numbers["chart_de00"]["mean"] == 0.0
    # two developments of the same raw in the same look: zero, but for float64 rounding (one CI run on the lowest
    # versions read 9.6e-15 at the 95th percentile, not reproduced in 7 test runs and 8 direct calls since; far
    # below any visible difference)
    assert numbers["scene_de00"]["p95"] <= SAME_LOOK_DE00
    assert all(row["a"] == row["b"] for row in numbers["tone"])


def test_diff_says_what_differs():
    from lumatune.looktools.diff import look_diff
    from lumatune.colour.oklab import HUE_NAMES

    numbers = look_diff("neutral", "vibrant", scene_size=(120, 80))
    saturation = {row["hue"]: row["saturation_b"] for row in numbers["hue"]}
    assert [row["hue"] for row in numbers["hue"]] == list(HUE_NAMES)
    assert all(row["saturation_a"] == pytest.approx(1.0, abs=1e-3) for row in numbers["hue"])
    assert saturation["green"] > 1.1  # vibrant: saturation 1.15 and +0.1 on green
    mid = next(row for row in numbers["tone"] if row["ev"] == 0.0)
    assert mid["b"] > mid["a"]  # vibrant is brighter at mid grey (+0.55 EV)
    assert numbers["chart_de00"]["mean"] > 1.0 and numbers["scene_de00"]["mean"] > 1.0
