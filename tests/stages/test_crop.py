"""Crop: the largest centred window of the aspect, following the picture's orientation; bad aspects rejected."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import BadFileError
from lumatune.stages.params import params_from_dict
from lumatune.stages.crop import CropParams, crop, crop_window, parse_aspect


@pytest.mark.parametrize(
    "aspect, ratio", [("3:2", 1.5), ("2:3", 1.5), ("65:24", 65 / 24), ("2.39:1", 2.39), ("1:1", 1.0), ("16:9", 16 / 9)]
)
def test_parse_aspect(aspect, ratio):
    assert parse_aspect(aspect) == pytest.approx(ratio)


@pytest.mark.parametrize("aspect", ["3x2", "3:", ":2", "0:1", "1:20", "-3:2", "wide"])
def test_bad_aspects_name_the_key(aspect):
    with pytest.raises(BadFileError, match=r"\[crop\].*aspect"):
        params_from_dict(CropParams, {"aspect": aspect}, where="look.toml: [crop]")


@pytest.mark.parametrize(
    "shape, aspect, expected",
    [
        ((400, 600), "1:1", (0, 100, 400, 400)),
        ((400, 600), "2.39:1", (74, 0, 251, 600)),
        ((400, 600), "65:24", (89, 0, 222, 600)),
        ((600, 400), "3:2", (0, 0, 600, 400)),  # portrait picture: 3:2 becomes 2:3
        ((600, 400), "16:9", (0, 31, 600, 338)),
    ],
)
def test_window(shape, aspect, expected):
    assert crop_window(*shape, parse_aspect(aspect)) == expected


def test_window_of_a_stored_image_that_turns_upright():
    # stored 600 wide x 400 high, shown upright as portrait (one quarter turn): 16:9 portrait upright
    top, left, rows, cols = crop_window(400, 600, 16 / 9, quarter_turns=1)
    assert (rows, cols) == (338, 600)
    assert top == (400 - 338) // 2 and left == 0


def test_crop_is_a_view():
    image = np.zeros((40, 60, 3), np.float32)
    out = crop(image, crop_window(40, 60, 1.0))
    assert out.shape == (40, 40, 3) and np.shares_memory(out, image)
