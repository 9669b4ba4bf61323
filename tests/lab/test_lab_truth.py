"""Truth file loading and validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lab.lab_synthetic import chart_truth

from lumatune.errors import BadFileError, UnreadableInputError
from lumatune.lab.measure import measure
from lumatune.lab.truth import load_truth


def _write(tmp_path, data) -> str:
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_valid_truth_loads_with_its_patches_and_resolves_the_truth_image(tmp_path):
    truth = load_truth(_write(tmp_path, chart_truth(truth_image="scene_truth.tif")))
    assert len(truth.patches) == 24
    assert truth.patches[0].name == "dark skin" and truth.patches[18].neutral
    assert truth.patches[0].box == (4, 4, 20, 20)
    assert truth.truth_image == tmp_path / "scene_truth.tif"
    assert truth.image_size == (144, 96)


def test_unknown_version_is_a_bad_file(tmp_path):
    with pytest.raises(BadFileError, match="version"):
        load_truth(_write(tmp_path, chart_truth(version=2)))


def test_wrong_kind_is_a_bad_file():
    data = chart_truth()
    data["kind"] = "something-else"
    with pytest.raises(BadFileError, match="kind"):
        load_truth(data)


def test_box_outside_the_image_names_the_key():
    data = chart_truth()
    data["patches"][5]["box"] = [140, 0, 150, 10]
    with pytest.raises(BadFileError, match=r"patches\[5\]\.box"):
        load_truth(data)


def test_non_numeric_lab_names_the_key():
    data = chart_truth()
    data["patches"][2]["Lab"] = [50, "a", 0]
    with pytest.raises(BadFileError, match=r"patches\[2\]\.Lab\[1\]"):
        load_truth(data)


def test_missing_and_non_json_files_are_unreadable(tmp_path):
    with pytest.raises(UnreadableInputError, match="cannot read"):
        load_truth(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UnreadableInputError, match="not a JSON"):
        load_truth(tmp_path / "bad.json")


def test_image_of_another_size_is_a_one_line_error():
    with pytest.raises(BadFileError, match=r"image is 100x96 but truth .* describes 144x96") as error:
        measure(np.zeros((96, 100, 3), np.uint8), chart_truth())
    assert "\n" not in str(error.value)


def test_patch_without_box_needs_corners():
    data = chart_truth()
    del data["patches"][3]["box"]
    with pytest.raises(BadFileError, match=r"patches\[3\]\.box"):
        measure(np.zeros((96, 144, 3), np.uint8), data)
