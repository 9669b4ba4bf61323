"""Bad input to ``lumatune lab`` through the real command: exit code 1 and one line on stderr, no traceback."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest
from lab.lab_synthetic import chart_linear, chart_truth, encode
from PIL import Image

from lumatune.cli import main as cli_main

EXIT_FAILED = 1


def _run(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code or 0, capsys.readouterr().err


def _assert_one_line_failure(code: int, err: str, *fragments: str) -> None:
    assert code == EXIT_FAILED
    assert err.startswith("lumatune: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err


@pytest.fixture()
def chart(tmp_path):
    """A rendered chart (PNG) and its truth (JSON) that match."""
    Image.fromarray(encode(chart_linear("srgb"), 8)).save(tmp_path / "chart.png")
    (tmp_path / "chart.json").write_text(json.dumps(chart_truth()))
    return tmp_path / "chart.png", tmp_path / "chart.json"


def test_the_matching_pair_measures(chart, capsys):
    image, truth = chart
    code, err = _run(["lab", "measure", str(image), "--truth", str(truth), "--json"], capsys)
    assert code == 0 and err == ""


def test_image_of_another_size_than_its_truth(chart, tmp_path, capsys):
    _, truth = chart
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "small.png")
    code, err = _run(["lab", "measure", str(tmp_path / "small.png"), "--truth", str(truth)], capsys)
    _assert_one_line_failure(code, err, "50x40", "144x96")


def test_truth_of_another_version(chart, tmp_path, capsys):
    image, _ = chart
    (tmp_path / "v2.json").write_text(json.dumps(chart_truth(version=2)))
    code, err = _run(["lab", "compare", str(image), "--truth", str(tmp_path / "v2.json")], capsys)
    _assert_one_line_failure(code, err, "v2.json", "'version'", "got 2")


def test_truth_that_is_not_json(chart, tmp_path, capsys):
    image, _ = chart
    (tmp_path / "bad.json").write_text("{")
    code, err = _run(["lab", "measure", str(image), "--truth", str(tmp_path / "bad.json")], capsys)
    _assert_one_line_failure(code, err, "bad.json", "not a JSON truth file")


def test_image_that_is_not_an_image(chart, tmp_path, capsys):
    _, truth = chart
    (tmp_path / "junk.png").write_bytes(b"not a png")
    code, err = _run(["lab", "measure", str(tmp_path / "junk.png"), "--truth", str(truth)], capsys)
    _assert_one_line_failure(code, err, "junk.png", "cannot read")


def test_image_where_no_chart_is_found(chart, tmp_path, capsys, monkeypatch):
    _, truth = chart
    detector = types.ModuleType("colour_checker_detection")
    detector.detect_colour_checkers_segmentation = lambda image: ()
    monkeypatch.setitem(sys.modules, "colour_checker_detection", detector)
    Image.fromarray(np.full((96, 144, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    code, err = _run(["lab", "measure", str(tmp_path / "grey.png"), "--truth", str(truth), "--detect"], capsys)
    _assert_one_line_failure(code, err, "grey.png", "no ColorChecker found")


def test_chart_detection_without_its_package(chart, capsys, monkeypatch):
    image, truth = chart
    monkeypatch.setitem(sys.modules, "colour_checker_detection", None)
    code, err = _run(["lab", "measure", str(image), "--truth", str(truth), "--detect"], capsys)
    _assert_one_line_failure(code, err, "built-in finder", "colour-checker-detection: not installed")


def test_report_into_a_missing_folder_writes_nothing(chart, tmp_path, capsys):
    image, truth = chart
    out = tmp_path / "missing" / "report.html"
    code, err = _run(["lab", "report", str(image), "--truth", str(truth), "-o", str(out)], capsys)
    _assert_one_line_failure(code, err, "report.html")
    assert not out.parent.exists()
