"""Frame: border size and colour, the EXIF caption under the upright picture, template checks."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.errors import BadFileError
from lumatune.stages.params import params_from_dict
from lumatune.stages.frame import FrameParams, add_frame, caption_text, frame_plan

EXIF = {"make": "Acme", "model": "Acme X100", "focal_length": 35.0, "f_number": 2.8, "exposure_time": 0.004,
        "iso": 200, "lens_model": "Acme 35mm", "datetime_original": "2024:06:01 12:00:00"}


def _image(shape=(100, 150)):
    return np.full((*shape, 3), 0.5, np.float32)


def test_nothing_to_do_without_border_or_caption():
    assert frame_plan(FrameParams(), (100, 150, 3), EXIF, 0) is None


def test_border_width_and_colour():
    plan = frame_plan(FrameParams(width=0.1, colour="#ff8000"), (100, 150, 3), EXIF, 0)
    out = add_frame(_image(), plan)
    assert out.shape == (120, 170, 3)
    np.testing.assert_allclose(out[0, 0], [1.0, 128 / 255, 0.0])
    np.testing.assert_allclose(out[10:110, 10:160], 0.5)


def test_caption_text_from_exif():
    assert caption_text("exif", EXIF) == "Acme X100   35 mm   f/2.8   1/250 s   ISO 200"
    assert caption_text("{lens} {date}", EXIF) == "Acme 35mm 2024-06-01"
    assert caption_text("exif", {"model": "Z", "iso": 100}) == "Z   ISO 100"
    assert caption_text("{focal_length}", {"focal_length": 8.70095}) == "8.7 mm"


def test_caption_is_drawn_in_the_bottom_strip():
    plan = frame_plan(FrameParams(width=0.02, caption="exif", caption_colour="#000000", caption_size=0.06), (200, 300, 3), EXIF, 0)
    out = add_frame(_image((200, 300)), plan)
    strip = out[4 + 200 :]
    assert strip.shape[0] == plan.bottom > plan.border
    assert strip.min() < 0.2  # dark text on the white strip
    assert out[:4].min() == 1.0  # the top border has no text


def test_caption_ends_up_under_the_upright_picture():
    plan = frame_plan(FrameParams(width=0.02, caption="exif", caption_colour="#000000", caption_size=0.06), (300, 200, 3), EXIF, 1)
    out = add_frame(_image((300, 200)), plan)
    upright = np.rot90(out, 1)
    assert upright.shape[0] == 4 + 200 + plan.bottom  # upright height: the picture's width plus borders
    assert upright[4 + 200 :].min() < 0.2 and upright[:4].min() == 1.0


@pytest.mark.parametrize(
    "block, fragment",
    [
        ({"caption": "{camera} {speed}"}, r"unknown field \{speed\}"),
        ({"colour": "white"}, "is not a colour"),
        ({"caption": "{camera"}, "caption"),
        ({"width": 0.5}, "out of range"),
    ],
)
def test_bad_frame_blocks(block, fragment):
    with pytest.raises(BadFileError, match=fragment):
        params_from_dict(FrameParams, block, where="look.toml: [frame]")
