"""The HTML report and the ``lab`` commands, end to end on a composite synthetic scene."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from lab.lab_synthetic import composite_scene, encode
from PIL import Image
from typer.testing import CliRunner

from lumatune.errors import BadFileError, OutputError
from lumatune.cli.lab import app, parse_corners
from lumatune.lab.measure import measure
from lumatune.lab.report import write_report

MTF50_TOLERANCE = 0.05
PERFECT_DE00 = 0.05


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    image, truth = composite_scene()
    (folder / "scene.json").write_text(json.dumps(truth))
    Image.fromarray(encode(image, 8)).save(folder / "perfect.png")
    tinted = np.clip(image * np.array([1.08, 1.0, 0.92]), 0, 1)
    Image.fromarray(encode(tinted, 8)).save(folder / "tinted.png")
    return folder


def test_composite_scene_measures_everything_it_holds(scene):
    result = measure(scene / "perfect.png", scene / "scene.json")
    in_gamut = [p["de00"] for p in result["patches"] if p["in_gamut"]]
    assert max(in_gamut) <= PERFECT_DE00
    assert result["mtf50"] == pytest.approx(result["mtf50_truth"], rel=MTF50_TOLERANCE)
    assert len(result["wedge"]) == 5
    json.dumps(result, allow_nan=False)  # plain JSON, no NaN or numpy types


def test_report_is_one_self_contained_html_file(scene, tmp_path):
    results = [(name, measure(scene / f"{name}.png", scene / "scene.json")) for name in ("perfect", "tinted")]
    out = write_report(results, scene / "scene.json", tmp_path / "report.html")
    html = out.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 5  # 2 ΔE, a*b*, MTF, noise
    assert "<td>tinted</td>" in html and "http" not in html.replace("http-equiv", "")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left behind
    with pytest.raises(OutputError, match="--overwrite"):
        write_report(results, scene / "scene.json", out)


def test_cli_measure_json(scene):
    args = ["measure", str(scene / "tinted.png"), "--truth", str(scene / "scene.json"), "--json"]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    result = json.loads(run.output)
    assert result["awb_error_deg"] > 2.0 and result["space"] == "srgb"


def test_cli_compare_prints_one_row_per_rendering(scene):
    images = [str(scene / "perfect.png"), str(scene / "tinted.png")]
    run = CliRunner().invoke(app, ["compare", *images, "--truth", str(scene / "scene.json")], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "perfect.png" in run.output and "tinted.png" in run.output and "MTF50" in run.output


def test_cli_report_refuses_to_overwrite_unless_asked(scene, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old")
    args = ["report", str(scene / "perfect.png"), "--truth", str(scene / "scene.json"), "-o", str(out)]
    run = CliRunner().invoke(app, args)
    assert isinstance(run.exception, OutputError) and out.read_text() == "old"
    run = CliRunner().invoke(app, [*args, "--overwrite"])
    assert run.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


def test_cli_errors_are_lumatune_errors(scene, tmp_path):
    (tmp_path / "v2.json").write_text(json.dumps({"kind": "lumatune-sim-truth", "version": 2}))
    run = CliRunner().invoke(app, ["measure", str(scene / "perfect.png"), "--truth", str(tmp_path / "v2.json")])
    assert isinstance(run.exception, BadFileError)


def test_parse_corners():
    assert parse_corners("1,2 3,4 5,6 7,8") == [[1, 2], [3, 4], [5, 6], [7, 8]]
    with pytest.raises(BadFileError, match="--corners"):
        parse_corners("1,2 3,4")


def test_report_plots_share_scales_and_leave_out_empty_panels(scene):
    import matplotlib.pyplot as plt

    from lumatune.lab.report import plot_delta_e, plot_noise, render_report_html
    from lumatune.lab.truth import load_truth

    results = [(name, measure(scene / f"{name}.png", scene / "scene.json")) for name in ("perfect", "tinted")]
    top = 1.08 * max(p["de00"] for _, r in results for p in r["patches"])
    chart_only = [(label, {k: v for k, v in r.items() if k != "wedge"}) for label, r in results]
    figures = [plot_delta_e(label, r, top) for label, r in results]
    noise_both, noise_chart = plot_noise(results), plot_noise(chart_only)
    assert all(figure.axes[0].get_ylim()[1] == top for figure in figures)
    assert len(noise_both.axes) == 2 and len(noise_chart.axes) == 1  # no empty wedge panel
    plt.close("all")
    html = render_report_html(results, load_truth(scene / "scene.json"))
    assert "<b>ΔE00 mean</b>:" in html and "<b>MTF50 cy/px</b>:" in html  # column definitions
