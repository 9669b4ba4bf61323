"""Tests of lumatune.colour.spaces: every constant and curve against colour-science."""

from __future__ import annotations

import colour
import numpy as np
import pytest

from lumatune.colour import spaces
from lumatune.errors import UnsupportedError

FLOAT64_EPS = float(np.finfo(np.float64).eps)
MATRIX_TOLERANCE = 1e-12
"""lumatune and colour-science derive the RGB <-> XYZ matrices from the same primaries and white through different
3x3 products and inverses (BLAS/LAPACK, FMA or not): measured at most 1 eps apart (2026-12-07). The difference
is bounded by a few roundings times the condition number (< 3 for these spaces); 1e-12 (4500 eps) leaves room
for any BLAS without hiding a wrong primary or white (those move entries by > 1e-5)."""
IEC_ROUNDED_MATRIX_TOLERANCE = 1e-4  # IEC 61966-2-1 prints the sRGB matrix to 4 decimals
XY_TOLERANCE = 1e-12
"""Illuminant chromaticities are the same published decimals in both (measured equal); 1e-12 allows a
re-derivation from XYZ by one division."""
INVERSE_PRODUCT_ATOL = 3 * 16 * FLOAT64_EPS * 2.42
"""M^-1 M = I up to n (3) x a few (16) roundings x cond(M) (2.42 for Rec.2020): 2.6e-14; measured 1 eps."""
CURVE_FLOAT32_TOLERANCE = 5e-7  # float32 evaluation against float64 colour-science, values up to ~1.2
ROUND_TRIP_FLOAT32_TOLERANCE = 2e-6
LAB_TOLERANCE = 1e-9

COLOUR_SCIENCE_SPACES = {"srgb": "ITU-R BT.709", "p3": "Display P3", "rec2020": "ITU-R BT.2020"}
OBSERVER = "CIE 1931 2 Degree Standard Observer"


@pytest.mark.parametrize("space", spaces.SPACES)
def test_rgb_xyz_matrices_match_colour_science(space):
    reference = colour.RGB_COLOURSPACES[COLOUR_SCIENCE_SPACES[space]]
    np.testing.assert_allclose(spaces.matrix_rgb_to_xyz(space), reference.matrix_RGB_to_XYZ, atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(spaces.matrix_xyz_to_rgb(space), reference.matrix_XYZ_to_RGB, atol=MATRIX_TOLERANCE)


def test_srgb_matrix_agrees_with_the_iec_rounded_matrix():
    np.testing.assert_allclose(
        spaces.matrix_rgb_to_xyz("srgb"),
        colour.RGB_COLOURSPACES["sRGB"].matrix_RGB_to_XYZ,
        atol=IEC_ROUNDED_MATRIX_TOLERANCE,
    )


@pytest.mark.parametrize("space", spaces.SPACES)
def test_matrix_rec2020_to_matches_colour_science(space):
    reference = colour.matrix_RGB_to_RGB(
        colour.RGB_COLOURSPACES["ITU-R BT.2020"], colour.RGB_COLOURSPACES[COLOUR_SCIENCE_SPACES[space]]
    )
    np.testing.assert_allclose(spaces.matrix_rec2020_to(space), reference, atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(spaces.matrix_rec2020_to(space) @ np.ones(3), np.ones(3), atol=MATRIX_TOLERANCE)


def test_rec2020_constants_are_the_rec2020_matrices():
    np.testing.assert_array_equal(spaces.MATRIX_REC2020_TO_XYZ, spaces.matrix_rgb_to_xyz("rec2020"))
    product = spaces.MATRIX_XYZ_TO_REC2020 @ spaces.MATRIX_REC2020_TO_XYZ
    np.testing.assert_allclose(product, np.eye(3), atol=INVERSE_PRODUCT_ATOL)


def test_returned_matrices_are_copies():
    spaces.matrix_rgb_to_xyz("srgb")[0, 0] = 99.0
    assert spaces.matrix_rgb_to_xyz("srgb")[0, 0] != 99.0


@pytest.mark.parametrize("name", sorted(spaces.CCS_ILLUMINANTS))
def test_illuminant_xy_match_colour_science(name):
    np.testing.assert_allclose(spaces.CCS_ILLUMINANTS[name], colour.CCS_ILLUMINANTS[OBSERVER][name], atol=XY_TOLERANCE)


@pytest.mark.parametrize(("source", "target"), [("D50", "D65"), ("D65", "D50"), ("A", "D65"), ("FL11", "D55")])
def test_bradford_matches_colour_science(source, target):
    xy_source, xy_target = spaces.CCS_ILLUMINANTS[source], spaces.CCS_ILLUMINANTS[target]
    reference = colour.adaptation.matrix_chromatic_adaptation_VonKries(
        colour.xy_to_XYZ(xy_source), colour.xy_to_XYZ(xy_target), transform="Bradford"
    )
    np.testing.assert_allclose(
        spaces.matrix_chromatic_adaptation_Bradford(xy_source, xy_target), reference, atol=MATRIX_TOLERANCE
    )


def test_bradford_d50_d65_constants():
    reference = colour.adaptation.matrix_chromatic_adaptation_VonKries(
        colour.xy_to_XYZ(spaces.XY_D50), colour.xy_to_XYZ(spaces.XY_D65), transform="Bradford"
    )
    np.testing.assert_allclose(spaces.MATRIX_D50_TO_D65_BRADFORD, reference, atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(
        spaces.MATRIX_D65_TO_D50_BRADFORD @ spaces.MATRIX_D50_TO_D65_BRADFORD, np.eye(3), atol=MATRIX_TOLERANCE
    )


def test_xy_xyz_conversions_match_colour_science():
    xy = np.array([[0.3127, 0.329], [0.44758, 0.40745], [0.2, 0.7]])
    np.testing.assert_allclose(spaces.xy_to_XYZ(xy), colour.xy_to_XYZ(xy), atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(spaces.XYZ_to_xy(colour.xy_to_XYZ(xy) * 3.0), xy, atol=MATRIX_TOLERANCE)


def _curve_samples() -> np.ndarray:
    rng = np.random.default_rng(7)
    dense = np.linspace(-0.05, 1.2, 20001)
    knots = np.array([0.0, 0.0031308, 0.04045, 1.0])
    return np.concatenate([dense, rng.random(5000), knots, knots + 1e-7]).astype(np.float32)


@pytest.mark.parametrize("space", spaces.SPACES)
def test_encoding_matches_colour_science(space):
    x = _curve_samples()
    encoded = spaces.encode_oetf(x, space)
    assert encoded.dtype == np.float32
    np.testing.assert_allclose(
        encoded, colour.models.eotf_inverse_sRGB(x.astype(np.float64)), atol=CURVE_FLOAT32_TOLERANCE
    )


@pytest.mark.parametrize("space", spaces.SPACES)
def test_decoding_matches_colour_science(space):
    v = _curve_samples()
    decoded = spaces.decode_eotf(v, space)
    assert decoded.dtype == np.float32
    np.testing.assert_allclose(decoded, colour.models.eotf_sRGB(v.astype(np.float64)), atol=CURVE_FLOAT32_TOLERANCE)


def test_encode_decode_round_trip():
    x = np.random.default_rng(3).random((64, 48, 3), dtype=np.float32)
    round_trip = spaces.decode_eotf(spaces.encode_oetf(x, "p3"), "p3")
    np.testing.assert_allclose(round_trip, x, atol=ROUND_TRIP_FLOAT32_TOLERANCE)


def test_curves_keep_shape_and_accept_lists_and_float64():
    assert spaces.encode_oetf([[0.5, 0.25]], "srgb").shape == (1, 2)
    assert spaces.decode_eotf(np.zeros((2, 3, 3)), "srgb").dtype == np.float32


def test_tiled_curves_equal_the_single_pass(monkeypatch):
    x = np.random.default_rng(5).random((300, 400, 3), dtype=np.float32)  # 360000 > one tile
    tiled_encoded, tiled_decoded = spaces.eotf_inverse_sRGB(x), spaces.eotf_sRGB(x)
    monkeypatch.setattr(spaces, "_THREADS", 1)
    np.testing.assert_array_equal(tiled_encoded, spaces.eotf_inverse_sRGB(x))
    np.testing.assert_array_equal(tiled_decoded, spaces.eotf_sRGB(x))


def test_input_is_not_modified():
    x = np.linspace(0, 1, 11, dtype=np.float32)
    original = x.copy()
    spaces.encode_oetf(x, "srgb")
    np.testing.assert_array_equal(x, original)


@pytest.mark.parametrize("function", [spaces.encode_oetf, spaces.decode_eotf])
def test_unknown_space_raises(function):
    with pytest.raises(UnsupportedError, match="adobe"):
        function(np.zeros(3, dtype=np.float32), "adobe")


@pytest.mark.parametrize("white", ["D65", "D50"])
def test_lab_matches_colour_science(white):
    xyz = np.random.default_rng(11).random((100, 3)) * 1.1
    xyz[:3] = [[0.0, 0.0, 0.0], [0.001, 0.002, 0.003], colour.xy_to_XYZ(spaces.CCS_ILLUMINANTS[white])]
    white_xy = spaces.CCS_ILLUMINANTS[white]
    reference = colour.XYZ_to_Lab(xyz, white_xy)
    np.testing.assert_allclose(spaces.XYZ_to_Lab(xyz, white_xy), reference, atol=LAB_TOLERANCE)
    np.testing.assert_allclose(spaces.Lab_to_XYZ(reference, white_xy), xyz, atol=LAB_TOLERANCE)
