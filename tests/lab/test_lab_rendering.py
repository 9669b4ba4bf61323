"""Reading renderings: formats, bit depths, ICC descriptions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import tifffile
from lab.lab_synthetic import icc_with_description
from PIL import Image

from lumatune.errors import UnreadableInputError, UnsupportedError
from lumatune.lab.rendering import icc_description, linear_rgb, read_rendering, space_from_icc_description


@pytest.mark.parametrize("version", [2, 4])
def test_icc_description_of_v2_and_v4_profiles(version):
    assert icc_description(icc_with_description("Display P3", version)) == "Display P3"


@pytest.mark.parametrize(
    ("description", "space"),
    [
        (None, "srgb"),
        ("sRGB IEC61966-2.1", "srgb"),
        ("Display P3 (lumatune)", "p3"),
        ("Rec. ITU-R BT.2020 with sRGB transfer (lumatune)", "rec2020"),
    ],
)
def test_space_from_icc_description(description, space):
    assert space_from_icc_description(description, "x.png") == space


@pytest.mark.parametrize("description", ["Adobe RGB (1998)", "ITU-R BT.2020 PQ"])
def test_unknown_profiles_are_unsupported(description):
    with pytest.raises(UnsupportedError, match="--space"):
        space_from_icc_description(description, "x.png")


def test_grey_png_reads_as_rgb_and_decodes_with_the_srgb_eotf(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.full((4, 5), 188, np.uint8)).save(path)
    rendering = read_rendering(path)
    assert rendering.codes.shape == (4, 5, 3) and rendering.bit_depth == 8
    expected = ((188 / 255 + 0.055) / 1.055) ** 2.4  # IEC 61966-2-1 EOTF
    np.testing.assert_allclose(linear_rgb(rendering), expected, rtol=1e-6)


def test_16bit_png_keeps_16_bits_and_channel_order(tmp_path):
    path = tmp_path / "rgb16.png"
    rgb = np.zeros((3, 3, 3), np.uint16)
    rgb[..., 0] = 60000
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    rendering = read_rendering(path)
    assert rendering.bit_depth == 16
    assert rendering.codes[0, 0].tolist() == [60000, 0, 0]


def test_float_tiff_keeps_values_beyond_the_range(tmp_path):
    path = tmp_path / "float.tif"
    tifffile.imwrite(path, np.full((2, 2, 3), -0.01, np.float32), photometric="rgb")
    rendering = read_rendering(path, space="p3")
    assert rendering.bit_depth is None and rendering.space == "p3"
    assert linear_rgb(rendering)[0, 0, 0] == pytest.approx(-0.01 / 12.92)


def test_missing_and_corrupt_images_are_unreadable(tmp_path):
    with pytest.raises(UnreadableInputError, match="no such image"):
        read_rendering(tmp_path / "absent.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(UnreadableInputError):
        read_rendering(tmp_path / "broken.png")


def test_unknown_space_name_is_unsupported(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(path)
    with pytest.raises(UnsupportedError, match="adobe"):
        read_rendering(path, space="adobe")
