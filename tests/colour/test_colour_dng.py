"""Tests of lumatune.colour.dng: the DNG colour model on synthetic cameras and on real raws."""

from __future__ import annotations

from pathlib import Path

import colour
import numpy as np
import pytest

from lumatune.colour import dng
from lumatune.colour.spaces import MATRIX_XYZ_TO_REC2020, XY_D50, XY_D65
from lumatune.errors import UnsupportedError

SOLVED_XY_TOLERANCE = 1e-5  # the SDK iteration stops when |dx| + |dy| < 1e-7
# A camera defined at a nominal Planckian CCT: the SDK's Robertson table reads CCTs near 3000 K up to ~30 K low
# (its 325-mired typo), which shifts the ColorMatrix interpolation weight and so the solved white.
PLANCKIAN_XY_TOLERANCE = 1e-4
MATRIX_TOLERANCE = 1e-6
EXACT = 1e-12
DAYLIGHT_WB_XY_TOLERANCE = 2e-4  # dcraw derives daylight multipliers from its matrix and a rounded sRGB matrix

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data" / "raw"
OBSERVER = "CIE 1931 2 Degree Standard Observer"
CCT_A, CCT_D65 = dng.illuminant_to_cct(17), dng.illuminant_to_cct(21)

# XYZ -> camera of a typical Bayer camera (dcraw's Canon EOS D30 ColorMatrix), the base of the fake cameras.
BASE_XYZ_TO_CAMERA = np.array([[0.99, -0.2771, -0.1324], [-0.7072, 1.4229, 0.314], [-0.279, 0.3344, 0.8861]])


def _xyz(xy) -> np.ndarray:
    return colour.xy_to_XYZ(np.asarray(xy, dtype=np.float64))


def _planckian_xy(kelvin: float) -> np.ndarray:
    return colour.UCS_uv_to_xy(colour.temperature.CCT_to_uv_Planck1900(kelvin))


def _bradford(xy_source, xy_target) -> np.ndarray:
    return colour.adaptation.matrix_chromatic_adaptation_VonKries(_xyz(xy_source), _xyz(xy_target), "Bradford")


class FakeCamera:
    """A camera whose XYZ -> camera matrix changes with the illuminant, linearly in 1/CCT (as DNG assumes).

    At the calibration CCTs it is ``M_i = BASE @ (I + E_i)`` with ``E_i`` a random distortion that leaves the
    calibration white alone, scaled as Adobe does (D50 -> camera max 1): DNG interpolates matrices of that
    scale. Its tags carry the matrices at other scales, which the model must normalise away.
    """

    def __init__(self, seed: int, distortion: float = 0.08):
        rng = np.random.default_rng(seed)
        base = BASE_XYZ_TO_CAMERA + rng.normal(scale=0.03, size=(3, 3))
        self.matrices = {}
        for cct, xy in [(CCT_A, colour.CCS_ILLUMINANTS[OBSERVER]["A"]), (CCT_D65, XY_D65)]:
            white = _xyz(xy)
            keep_white = np.eye(3) - np.outer(white, white) / (white @ white)
            matrix = base @ (np.eye(3) + distortion * rng.normal(size=(3, 3)) @ keep_white)
            self.matrices[cct] = matrix / np.max(matrix @ _xyz(XY_D50))

    def xyz_to_camera(self, kelvin: float) -> np.ndarray:
        weight = (1 / kelvin - 1 / CCT_D65) / (1 / CCT_A - 1 / CCT_D65)
        weight = min(max(weight, 0.0), 1.0)
        return weight * self.matrices[CCT_A] + (1 - weight) * self.matrices[CCT_D65]

    def tags(self) -> dict:
        return {
            "color_matrix_1": 2.5 * self.matrices[CCT_D65],
            "color_matrix_2": 0.7 * self.matrices[CCT_A],
            "cct_1": CCT_D65,
            "cct_2": CCT_A,
        }

    def neutral(self, xy, kelvin: float) -> np.ndarray:
        raw = self.xyz_to_camera(kelvin) @ _xyz(xy)
        return raw / raw.max()


def _forward_matrix(xyz_to_camera: np.ndarray, white_xy) -> np.ndarray:
    """Return a ForwardMatrix as a profile maker writes it: white-balanced camera -> XYZ D50 for this white."""
    neutral = xyz_to_camera @ _xyz(white_xy)
    return _bradford(white_xy, XY_D50) @ np.linalg.inv(xyz_to_camera) @ np.diag(neutral)


# --- illuminants and interpolation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cct"), [(17, 2850.0), (21, 6500.0), (23, 5000.0), (20, 5500.0), (24, 3200.0), (14, 4150.0)]
)
def test_illuminant_to_cct_follows_the_dng_sdk(code, cct):
    assert dng.illuminant_to_cct(code) == cct


@pytest.mark.parametrize("code", [0, 5, 255, 1000])
def test_unknown_illuminants_have_no_cct(code):
    assert dng.illuminant_to_cct(code) is None


def test_interpolate_matrix_by_cct_order_clamp_and_single():
    first, second = np.eye(3), np.full((3, 3), 2.0)
    forward = dng.interpolate_matrix_by_cct(first, second, 2850.0, 6500.0, 4000.0)
    backward = dng.interpolate_matrix_by_cct(second, first, 6500.0, 2850.0, 4000.0)
    weight = (1 / 4000.0 - 1 / 6500.0) / (1 / 2850.0 - 1 / 6500.0)
    np.testing.assert_allclose(forward, weight * first + (1 - weight) * second, atol=EXACT)
    np.testing.assert_allclose(backward, forward, atol=EXACT)
    np.testing.assert_array_equal(dng.interpolate_matrix_by_cct(first, second, 2850.0, 6500.0, 2000.0), first)
    np.testing.assert_array_equal(dng.interpolate_matrix_by_cct(first, second, 2850.0, 6500.0, 9000.0), second)
    for cct_2 in (None, 2850.0, 0.0):
        np.testing.assert_array_equal(dng.interpolate_matrix_by_cct(first, second, 2850.0, cct_2, 4000.0), first)
    np.testing.assert_array_equal(dng.interpolate_matrix_by_cct(first, None, 2850.0, 6500.0, 4000.0), first)


# --- the white of a neutral --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kelvin", [2500.0, 3300.0, 4000.0, 5200.0, 8000.0])
def test_neutral_of_a_planckian_white_solves_to_its_xy(seed, kelvin):
    camera = FakeCamera(seed)
    true_xy = _planckian_xy(kelvin)
    solved = dng.camera_neutral_to_xy(camera.neutral(true_xy, kelvin), **camera.tags())
    np.testing.assert_allclose(solved, true_xy, atol=PLANCKIAN_XY_TOLERANCE)


@pytest.mark.parametrize("xy", [XY_D65, (0.3805, 0.3769), (0.29, 0.33), (0.46, 0.40)])
def test_xy_to_camera_neutral_round_trip(xy):
    tags = FakeCamera(1).tags()
    neutral = dng.xy_to_camera_neutral(xy, **tags)
    assert neutral.max() == pytest.approx(1.0)
    np.testing.assert_allclose(dng.camera_neutral_to_xy(neutral, **tags), xy, atol=SOLVED_XY_TOLERANCE)


def test_white_does_not_depend_on_tag_order_or_scale():
    camera = FakeCamera(2)
    tags = camera.tags()
    swapped = {
        "color_matrix_1": 3.0 * tags["color_matrix_2"],
        "color_matrix_2": tags["color_matrix_1"],
        "cct_1": tags["cct_2"],
        "cct_2": tags["cct_1"],
    }
    neutral = camera.neutral(_planckian_xy(3800.0), 3800.0)
    np.testing.assert_allclose(
        dng.camera_neutral_to_xy(0.5 * neutral, **swapped), dng.camera_neutral_to_xy(neutral, **tags), atol=EXACT
    )


def test_unknown_calibration_cct_uses_the_first_matrix_only():
    tags = FakeCamera(3).tags()
    neutral = np.array([0.5, 1.0, 0.7])
    single = dng.camera_neutral_to_xy(neutral, tags["color_matrix_1"])
    np.testing.assert_allclose(dng.camera_neutral_to_xy(neutral, **{**tags, "cct_2": None}), single, atol=EXACT)
    expected = colour.XYZ_to_xy(np.linalg.solve(tags["color_matrix_1"], neutral))
    np.testing.assert_allclose(single, expected, atol=SOLVED_XY_TOLERANCE)


# --- camera -> XYZ matrices -------------------------------------------------------------------------------


@pytest.mark.parametrize("with_forward_matrix", [False, True])
@pytest.mark.parametrize("kelvin", [2850.0, 4000.0, 6500.0])
def test_white_balanced_white_maps_to_d65(with_forward_matrix, kelvin):
    camera = FakeCamera(4)
    tags = camera.tags()
    if with_forward_matrix:
        tags["forward_matrix_1"] = _forward_matrix(camera.matrices[CCT_D65], XY_D65)
        tags["forward_matrix_2"] = _forward_matrix(camera.matrices[CCT_A], colour.CCS_ILLUMINANTS[OBSERVER]["A"])
    neutral = camera.neutral(_planckian_xy(kelvin), kelvin)
    matrix, cct, white = dng.matrix_wb_camera_to_xyz_d65(neutral, **tags)
    np.testing.assert_allclose(matrix @ np.ones(3), _xyz(XY_D65), atol=MATRIX_TOLERANCE)
    assert cct == pytest.approx(kelvin, rel=1e-3)
    np.testing.assert_allclose(white, _planckian_xy(kelvin), atol=SOLVED_XY_TOLERANCE)
    rec2020, _, _ = dng.matrix_wb_camera_to_rec2020(neutral, **tags)
    np.testing.assert_allclose(rec2020, MATRIX_XYZ_TO_REC2020 @ matrix, atol=EXACT)
    np.testing.assert_allclose(rec2020 @ np.ones(3), np.ones(3), atol=MATRIX_TOLERANCE)


@pytest.mark.parametrize("white_xy", [(0.4476, 0.4074), (0.3805, 0.3769), (0.3457, 0.3585), (0.28, 0.29)])
def test_luther_camera_gives_bradford_adapted_xyz(white_xy):
    """For a camera that is a linear map of XYZ, camera -> XYZ(D65) is exact up to the Bradford adaptation."""
    xyz_to_camera = BASE_XYZ_TO_CAMERA
    raw_white = xyz_to_camera @ _xyz(white_xy)
    neutral = raw_white / raw_white.max()
    matrix, _, white = dng.matrix_wb_camera_to_xyz_d65(
        neutral, 1.7 * xyz_to_camera, 0.8 * xyz_to_camera, 2850.0, 6500.0
    )
    np.testing.assert_allclose(white, white_xy, atol=SOLVED_XY_TOLERANCE)
    colours_xyz = np.random.default_rng(0).uniform(0.05, 0.9, size=(20, 3))
    white_balanced = (colours_xyz @ xyz_to_camera.T) / neutral
    expected = raw_white.max() * colours_xyz @ _bradford(white_xy, XY_D65).T
    np.testing.assert_allclose(white_balanced @ matrix.T, expected, atol=MATRIX_TOLERANCE)


def test_forward_matrix_path_equals_color_matrix_path_at_the_calibration_white():
    xyz_to_camera = FakeCamera(5).matrices[CCT_D65]
    white_xy = (0.3805, 0.3769)
    neutral = xyz_to_camera @ _xyz(white_xy)
    with_fm, _, _ = dng.matrix_camera_to_xyz_d50(
        neutral, xyz_to_camera, forward_matrix_1=1.1 * _forward_matrix(xyz_to_camera, white_xy)
    )
    without_fm, _, _ = dng.matrix_camera_to_xyz_d50(neutral, xyz_to_camera)
    np.testing.assert_allclose(with_fm, without_fm, atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(with_fm @ (neutral / neutral.max()), _xyz(XY_D50), atol=MATRIX_TOLERANCE)


@pytest.mark.parametrize("with_forward_matrix", [False, True])
def test_camera_calibration_and_analog_balance_map_the_unit_to_the_reference(with_forward_matrix):
    """An individual camera (raw = AB @ CC @ reference raw) must develop like the reference camera."""
    camera = FakeCamera(6)
    tags = camera.tags()
    if with_forward_matrix:
        tags["forward_matrix_1"] = _forward_matrix(camera.matrices[CCT_D65], XY_D65)
        tags["forward_matrix_2"] = _forward_matrix(camera.matrices[CCT_A], colour.CCS_ILLUMINANTS[OBSERVER]["A"])
    calibration = np.eye(3) + 0.05 * np.random.default_rng(6).normal(size=(3, 3))
    balance = np.array([1.2, 1.0, 0.9])
    unit_tags = {
        **tags,
        "camera_calibration_1": calibration,
        "camera_calibration_2": calibration,
        "analog_balance": balance,
    }
    reference_neutral = camera.neutral(_planckian_xy(4300.0), 4300.0)
    unit_neutral = np.diag(balance) @ calibration @ reference_neutral
    reference, _, reference_xy = dng.matrix_wb_camera_to_xyz_d65(reference_neutral, **tags)
    unit, _, unit_xy = dng.matrix_wb_camera_to_xyz_d65(unit_neutral, **unit_tags)
    np.testing.assert_allclose(unit_xy, reference_xy, atol=SOLVED_XY_TOLERANCE)
    unit_raw_to_xyz = unit @ np.diag(1 / unit_neutral) @ np.diag(balance) @ calibration
    # Each camera's diffuse white is its neutral's largest raw channel at 1: the unit's is max(unit_neutral).
    expected = unit_neutral.max() * reference @ np.diag(1 / reference_neutral)
    np.testing.assert_allclose(unit_raw_to_xyz, expected, atol=MATRIX_TOLERANCE)


def test_white_balanced_matrix_follows_the_scale_of_the_neutral():
    tags = FakeCamera(7).tags()
    neutral = np.array([0.45, 1.0, 0.62])
    unit, _, _ = dng.matrix_wb_camera_to_xyz_d65(neutral, **tags)
    doubled, _, _ = dng.matrix_wb_camera_to_xyz_d65(2 * neutral, **tags)
    np.testing.assert_allclose(doubled, 2 * unit, atol=MATRIX_TOLERANCE)
    np.testing.assert_allclose(doubled @ np.ones(3), 2 * _xyz(XY_D65), atol=MATRIX_TOLERANCE)


def test_libraw_matrix_is_a_single_d65_color_matrix():
    neutral = np.array([0.52, 1.0, 0.66])
    expected = dng.matrix_wb_camera_to_xyz_d65(neutral, BASE_XYZ_TO_CAMERA)
    four_rows = np.vstack([BASE_XYZ_TO_CAMERA, np.zeros(3)])
    for matrix in (BASE_XYZ_TO_CAMERA, four_rows):
        result = dng.matrix_wb_camera_to_xyz_d65_from_libraw(matrix, neutral)
        np.testing.assert_allclose(result[0], expected[0], atol=EXACT)
        assert result[1] == pytest.approx(expected[1])


# --- degenerate input --------------------------------------------------------------------------------------

SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    ("neutral", "tags", "message"),
    [
        ([0.5, 1.0, 0.7], {"color_matrix_1": SINGULAR}, "ColorMatrix1"),
        ([0.5, 1.0, 0.7], {"color_matrix_1": np.full((3, 3), np.nan)}, "ColorMatrix1"),
        ([0.5, 1.0, 0.7], {"color_matrix_1": np.ones((4, 3))}, "ColorMatrix1"),
        ([0.5, 1.0, 0.7], {"color_matrix_1": None}, "ColorMatrix1"),
        (
            [0.5, 1.0, 0.7],
            {"color_matrix_1": BASE_XYZ_TO_CAMERA, "color_matrix_2": SINGULAR, "cct_1": 6500.0, "cct_2": 2850.0},
            "ColorMatrix2",
        ),
        (
            [0.5, 1.0, 0.7],
            {"color_matrix_1": BASE_XYZ_TO_CAMERA, "camera_calibration_1": np.zeros((3, 3))},
            "CameraCalibration1",
        ),
        ([0.5, 1.0, 0.7], {"color_matrix_1": BASE_XYZ_TO_CAMERA, "analog_balance": [1.0, 0.0, 1.0]}, "AnalogBalance"),
        ([0.5, 1.0, 0.7], {"color_matrix_1": BASE_XYZ_TO_CAMERA, "forward_matrix_1": -np.eye(3)}, "ForwardMatrix1"),
        ([0.0, 0.0, 0.0], {"color_matrix_1": BASE_XYZ_TO_CAMERA}, "neutral"),
        ([0.5, -1.0, 0.7], {"color_matrix_1": BASE_XYZ_TO_CAMERA}, "neutral"),
        ([0.5, np.nan, 0.7], {"color_matrix_1": BASE_XYZ_TO_CAMERA}, "neutral"),
        ([0.001, 1.0, 0.001], {"color_matrix_1": BASE_XYZ_TO_CAMERA}, "no physical white"),
    ],
)
def test_degenerate_input_raises_one_line_unsupported_error(neutral, tags, message):
    with pytest.raises(UnsupportedError, match=message) as raised:
        dng.matrix_wb_camera_to_xyz_d65(neutral, **tags)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("matrix", [np.zeros((4, 3)), np.ones((4, 3)), SINGULAR])
def test_unusable_libraw_matrix_raises(matrix):
    with pytest.raises(UnsupportedError, match="LibRaw rgb_xyz_matrix"):
        dng.matrix_wb_camera_to_xyz_d65_from_libraw(matrix, [0.5, 1.0, 0.7])


def test_impossible_white_xy_raises():
    with pytest.raises(UnsupportedError, match="white xy"):
        dng.xy_to_camera_neutral([0.7, 0.5], BASE_XYZ_TO_CAMERA)


# --- real raws ---------------------------------------------------------------------------------------------


def _require(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"real raw {name} not available: {SHARED} is absent")
    return path


def _dng_colour_tags(path: Path) -> tuple[np.ndarray, dict]:
    tifffile = pytest.importorskip("tifffile")
    with tifffile.TiffFile(path) as tiff:
        values = {tag.name: tag.value for tag in tiff.pages[0].tags.values()}

    def rationals(name):
        numbers = np.array(values[name], dtype=np.float64)
        return numbers[0::2] / numbers[1::2]

    tags = {
        "color_matrix_1": rationals("ColorMatrix1").reshape(3, 3),
        "color_matrix_2": rationals("ColorMatrix2").reshape(3, 3),
        "cct_1": dng.illuminant_to_cct(values["CalibrationIlluminant1"]),
        "cct_2": dng.illuminant_to_cct(values["CalibrationIlluminant2"]),
        "forward_matrix_1": rationals("ForwardMatrix1").reshape(3, 3),
        "forward_matrix_2": rationals("ForwardMatrix2").reshape(3, 3),
        "camera_calibration_1": rationals("CameraCalibration1").reshape(3, 3),
        "camera_calibration_2": rationals("CameraCalibration2").reshape(3, 3),
    }
    return rationals("AsShotNeutral"), tags


@pytest.mark.parametrize("with_forward_matrix", [False, True])
def test_real_dng_as_shot_white(with_forward_matrix):
    neutral, tags = _dng_colour_tags(_require("lg_g4_h815_lossy_linear.dng"))
    if not with_forward_matrix:
        tags = {name: value for name, value in tags.items() if not name.startswith("forward")}
    matrix, cct, white = dng.matrix_wb_camera_to_xyz_d65(neutral, **tags)
    assert 2000.0 < cct < 12000.0
    np.testing.assert_allclose(matrix @ np.ones(3), _xyz(XY_D65), atol=MATRIX_TOLERANCE)
    color_tags = {name: value for name, value in tags.items() if not name.startswith("forward")}
    np.testing.assert_allclose(dng.xy_to_camera_neutral(white, **color_tags), neutral, atol=MATRIX_TOLERANCE)


def test_libraw_daylight_multipliers_are_the_d65_white_of_its_matrix():
    """LibRaw's daylight neutral must solve to D65, as its matrix is XYZ(D65) -> camera.

    dcraw / LibRaw derive the daylight multipliers from rgb_xyz_matrix and the sRGB (D65) white.
    """
    rawpy = pytest.importorskip("rawpy")
    with rawpy.imread(str(_require("canon_eos_d30.crw"))) as raw:
        rgb_xyz_matrix = raw.rgb_xyz_matrix.copy()
        daylight_neutral = 1.0 / np.asarray(raw.daylight_whitebalance[:3])
    _, _, white = dng.matrix_wb_camera_to_xyz_d65_from_libraw(rgb_xyz_matrix, daylight_neutral)
    np.testing.assert_allclose(white, XY_D65, atol=DAYLIGHT_WB_XY_TOLERANCE)
