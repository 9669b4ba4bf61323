"""Tests of lumatune.io.icc: the generated display profiles, checked through LittleCMS (Pillow)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageCms

from lumatune.errors import OutputError
from lumatune.io.icc import (
    PCS_ILLUMINANT_D50_XYZ,
    SPACES,
    build_profile,
    icc_profile,
    matrix_bradford,
    matrix_rgb_to_xyz,
)

CMS_TOLERANCE_CODES = 1
"""LittleCMS against the analytic conversion, 8-bit code values (table TRC, rounding)."""
S15FIXED16_STEP = 1 / 65536
MATRIX_TOLERANCE = 1e-6
REQUIRED_TAGS = {b"desc", b"cprt", b"wtpt", b"chad", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC"}


def srgb_encode(linear):
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def srgb_decode(encoded):
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def lcms_profile(space):
    return ImageCms.ImageCmsProfile(io.BytesIO(icc_profile(space)))


def tag_table(profile):
    (count,) = struct.unpack_from(">I", profile, 128)
    entries = (struct.unpack_from(">4sII", profile, 132 + 12 * i) for i in range(count))
    return {signature: (offset, size) for signature, offset, size in entries}


def s15fixed16_xyz(profile, signature):
    offset, _ = tag_table(profile)[signature]
    return np.array(struct.unpack_from(">3i", profile, offset + 8)) / 65536


def lattice_pixels():
    """All 8-bit colours on a 16-step lattice (4096 colours), as a 64 x 64 image."""
    levels = np.linspace(0, 255, 16).round().astype(np.uint8)
    lattice = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return lattice.reshape(64, 64, 3)


def convert_with_lcms(codes, source, target):
    transform = ImageCms.buildTransform(
        lcms_profile(source), lcms_profile(target), "RGB", "RGB", ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    return np.asarray(ImageCms.applyTransform(Image.fromarray(codes), transform)).astype(int)


def convert_analytically(codes, source, target):
    M = np.linalg.inv(matrix_rgb_to_xyz(SPACES[target])) @ matrix_rgb_to_xyz(SPACES[source])
    linear = srgb_decode(codes / 255.0) @ M.T
    return np.rint(srgb_encode(linear) * 255).astype(int)


@pytest.mark.parametrize("space", sorted(SPACES))
def test_profile_opens_in_lcms_and_names_its_space(space):
    profile = lcms_profile(space)
    description = ImageCms.getProfileDescription(profile)
    expected_name = {"srgb": "sRGB", "p3": "Display P3", "rec2020": "BT.2020"}[space]
    assert expected_name in description
    assert profile.profile.version == pytest.approx(2.4)
    assert profile.profile.device_class == "mntr"
    assert profile.profile.xcolor_space == "RGB "
    assert profile.profile.connection_space == "XYZ "


@pytest.mark.parametrize("space", sorted(SPACES))
def test_profile_layout(space):
    profile = icc_profile(space)
    assert struct.unpack_from(">I", profile)[0] == len(profile)
    assert profile[36:40] == b"acsp"
    table = tag_table(profile)
    assert set(table) == REQUIRED_TAGS
    for offset, size in table.values():
        assert offset % 4 == 0
        assert offset + size <= len(profile)


@pytest.mark.parametrize("space", sorted(SPACES))
def test_colorants_add_up_to_the_pcs_white(space):
    profile = icc_profile(space)
    white = sum(s15fixed16_xyz(profile, tag) for tag in (b"rXYZ", b"gXYZ", b"bXYZ"))
    np.testing.assert_allclose(white, PCS_ILLUMINANT_D50_XYZ, atol=3 * S15FIXED16_STEP)


@pytest.mark.parametrize("source", ["p3", "rec2020"])
def test_conversion_to_srgb_matches_the_analytic_matrix(source):
    codes = lattice_pixels()
    converted = convert_with_lcms(codes, source, "srgb")
    difference = np.abs(converted - convert_analytically(codes, source, "srgb"))
    assert difference.max() <= CMS_TOLERANCE_CODES


def test_srgb_to_p3_matches_the_analytic_matrix():
    codes = lattice_pixels()
    difference = np.abs(convert_with_lcms(codes, "srgb", "p3") - convert_analytically(codes, "srgb", "p3"))
    assert difference.max() <= CMS_TOLERANCE_CODES


def test_p3_conversion_really_changes_colours():
    codes = lattice_pixels()
    assert np.abs(convert_with_lcms(codes, "p3", "srgb") - codes).max() > 10 * CMS_TOLERANCE_CODES


def test_srgb_profile_agrees_with_lcms_builtin_srgb():
    codes = lattice_pixels()
    builtin = ImageCms.createProfile("sRGB")
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    transform = ImageCms.buildTransform(lcms_profile("srgb"), builtin, "RGB", "RGB", intent)
    converted = np.asarray(ImageCms.applyTransform(Image.fromarray(codes), transform)).astype(int)
    assert np.abs(converted - codes).max() <= CMS_TOLERANCE_CODES


def test_matrices_agree_with_colour_science():
    colour = pytest.importorskip("colour")
    names = {"srgb": "sRGB", "p3": "Display P3", "rec2020": "ITU-R BT.2020"}
    for space, name in names.items():
        reference = colour.RGB_COLOURSPACES[name]
        expected = colour.normalised_primary_matrix(reference.primaries, reference.whitepoint)
        np.testing.assert_allclose(matrix_rgb_to_xyz(SPACES[space]), expected, atol=MATRIX_TOLERANCE)
    d65 = colour.xy_to_XYZ(colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])
    expected = colour.adaptation.matrix_chromatic_adaptation_VonKries(d65, PCS_ILLUMINANT_D50_XYZ, "Bradford")
    np.testing.assert_allclose(matrix_bradford(d65, PCS_ILLUMINANT_D50_XYZ), expected, atol=MATRIX_TOLERANCE)


def test_profiles_are_cached_and_deterministic():
    assert icc_profile("p3") is icc_profile("p3")
    assert build_profile(SPACES["p3"]) == icc_profile("p3")
    assert icc_profile("p3") != icc_profile("srgb")


def test_unknown_space_is_an_output_error():
    with pytest.raises(OutputError, match="adobe"):
        icc_profile("adobe")
