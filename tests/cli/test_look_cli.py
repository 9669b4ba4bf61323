"""Look commands: export bakes the look exactly, chart and compare write their files, errors write nothing."""

from __future__ import annotations

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from lumatune.errors import BadFileError, OutputError
from lumatune.io.lut import read_cube
from lumatune.config.look import load_look
from lumatune.cli.looks import compare, look_chart, look_export, look_measure
from lumatune.looktools.bake import bake_look_lut
from lumatune.looktools.character import _without_spatial
from lumatune.stages.lut import tetrahedral

BAKE_TOLERANCE = 1e-5
"""neutral baked into a LUT is the identity (float32 decode, matrix, encode round trip)."""
LUT_VS_PIPELINE = (5e-4, 3e-3)
"""Mean and 99th percentile of |baked 65-point LUT on the neutral rendering - the look itself|, on pixels that
neither rendering clips. The rest is interpolation across the kinks of the look's gamut clip and steep toes,
which a lattice cannot follow (up to 0.04 on a few saturated pixels; a 33-point LUT has about 3x the error)."""


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    look_app = typer.Typer()
    look_app.command("export")(look_export)
    look_app.command("chart")(look_chart)
    look_app.command("measure")(look_measure)
    app.add_typer(look_app, name="look")
    app.command("compare")(compare)
    return app


@pytest.fixture(scope="module")
def scene_raw(tmp_path_factory):
    from lumatune.raw import open_raw
    from lumatune.sim import simulate, write_sim

    folder = tmp_path_factory.mktemp("scene")
    dng, _ = write_sim(folder / "natural.dng", simulate("natural", size=(240, 160), seed=1))
    return open_raw(dng), dng


def test_neutral_bakes_to_the_identity():
    lut = bake_look_lut(load_look("neutral"), size=9)
    g = np.linspace(0, 1, 9)
    np.testing.assert_allclose(lut.table, np.stack(np.meshgrid(g, g, g, indexing="ij"), -1), atol=BAKE_TOLERANCE)


@pytest.mark.parametrize("name", ["authentic", "vibrant", "cinema", "mono-hc"])
def test_baked_lut_on_the_neutral_rendering_gives_the_look(scene_raw, name):
    from lumatune.api import develop

    raw, _ = scene_raw
    look = load_look(name)
    neutral = develop(raw, "neutral")
    graded = develop(raw, _without_spatial(look))
    from_lut = tetrahedral(neutral, bake_look_lut(look, size=65).table, np.zeros(3), np.ones(3))
    inside = np.all((neutral > 0.02) & (neutral < 0.97) & (graded > 0.02) & (graded < 0.97), axis=-1)
    assert inside.mean() > 0.5
    error = np.abs(from_lut - graded)[inside]
    assert error.mean() < LUT_VS_PIPELINE[0] and np.quantile(error, 0.99) < LUT_VS_PIPELINE[1]


def test_export_writes_the_bake_and_cube_look_reproduces_it(app, tmp_path, scene_raw):
    from lumatune.api import develop

    out = tmp_path / "authentic.cube"
    result = CliRunner().invoke(app, ["look", "export", "authentic", "-o", str(out), "--size", "17"])
    assert result.exit_code == 0, result.output
    lut = read_cube(out)
    np.testing.assert_allclose(lut.table, bake_look_lut(load_look("authentic"), size=17).table, atol=1e-6)
    raw, _ = scene_raw
    neutral = develop(raw, "neutral")
    expected = tetrahedral(neutral, lut.table, np.zeros(3), np.ones(3))
    np.testing.assert_allclose(develop(raw, out), expected, atol=2e-4)


@pytest.mark.parametrize(
    "args, error",
    [
        (["look", "export", "natural", "-o", "{tmp}/x.lut"], OutputError),
        (["look", "export", "no-such-look", "-o", "{tmp}/x.cube"], BadFileError),
        (["look", "chart", "natural", "-o", "{tmp}/x.gif"], OutputError),
        (["compare", "{raw}", "--looks", "natural,nope", "-o", "{tmp}/s.jpg"], BadFileError),
    ],
)
def test_errors_write_nothing(app, tmp_path, scene_raw, args, error):
    args = [a.format(tmp=tmp_path, raw=scene_raw[1]) for a in args]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, error)
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_to_overwrite(app, tmp_path):
    out = tmp_path / "a.cube"
    out.write_text("keep")
    result = CliRunner().invoke(app, ["look", "export", "natural", "-o", str(out), "--size", "2"])
    assert isinstance(result.exception, OutputError) and out.read_text() == "keep"


def test_chart_writes_a_png(app, tmp_path):
    out = tmp_path / "chart.png"
    result = CliRunner().invoke(app, ["look", "chart", "cinema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(out) as image:
        assert image.width > 1000 and image.height > 400


def test_compare_writes_a_labelled_sheet(app, tmp_path, scene_raw):
    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(
        app, ["compare", str(scene_raw[1]), "--looks", "natural,mono", "-o", str(out), "--width", "200"]
    )
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(out) as image:
        sheet = np.asarray(image.convert("RGB"), np.float32)
    assert sheet.shape[1] == 16 + 2 * (200 + 16)
    left, right = sheet[60:150, 16:216], sheet[60:150, 232:432]
    assert np.ptp(left, axis=-1).mean() > 5 * np.ptp(right, axis=-1).mean()  # colour vs black and white
