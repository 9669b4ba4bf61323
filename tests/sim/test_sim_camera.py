"""Tests of the virtual camera end to end: DNG read back by LibRaw, truth, colour, noise, sharpness."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import colour
import numpy as np
import pytest
import rawpy
import tifffile
from scipy.optimize import curve_fit
from scipy.stats import norm

from lumatune.errors import OutputError, UnsupportedError
from lumatune.raw.opcodes import parse_opcode_list
from lumatune.sim import Optics, Sensor, simulate, spectra, write_sim
from lumatune.sim import camera as sim_camera
from lumatune.sim import optics as sim_optics

SMALL = (192, 128)
NO_SHADING = Optics(shading=False)
QUIET = Sensor(full_well_e=1e9, read_noise_e=0.0, dark_current_e_per_s=0.0, prnu=0.0, dsnu_e=0.0, bit_depth=16)
"""A practically noiseless sensor (shot noise 3e-5 of the signal, 16-bit quantisation)."""

NEUTRAL_ATOL = 1e-6
"""ColorMatrix white vs AsShotNeutral: both come from the same spectra (rational precision 1e-9)."""

PATCH_SIGMAS = 5.0
"""Patch means may differ from the noiseless expectation by this many standard errors."""

SPECTRAL_RTOL = 5e-3
"""Patch/white ratios against colour-science, which integrates on the sensitivities' own grid."""

TEMPORAL_NOISE_RTOL = 0.04
"""Variance of the difference of two seeds vs 2 x NoiseProfile (statistical error about 1 %)."""

FLAT_PATCH_STD_RTOL = 0.04
"""Single-frame standard deviation vs NoiseProfile at mid grey (PRNU adds about 1.5 %)."""

SIGMA_RTOL = 0.02
"""Gaussian sigma fitted to the slanted edge vs the simulated one."""

WEDGE_RTOL = 0.01
"""Raw means of unclipped wedge steps, divided by their relative luminance, agree to this."""

GAIN_MAP_ATOL = 2e-3
"""Bilinear GainMap times the lens shading stays this close to 1."""

SIM_SOURCES = Path(__file__).resolve().parents[2] / "src" / "lumatune" / "sim"


def _channel_sites(cfa: np.ndarray, shape: tuple[int, int], channel: int) -> np.ndarray:
    rows, cols = cfa.shape
    return np.tile(cfa, (shape[0] // rows + 1, shape[1] // cols + 1))[: shape[0], : shape[1]] == channel


def _normalised(result) -> np.ndarray:
    noise = result.truth["noise"]
    return (result.mosaic.astype(np.float64) - noise["black_level"]) / (noise["white_level"] - noise["black_level"])


def _box_channel_values(result, box, channel) -> np.ndarray:
    x0, y0, x1, y1 = box
    cfa = result.dng_metadata["cfa_pattern"]
    sites = _channel_sites(cfa, result.mosaic.shape, channel)[y0:y1, x0:x1]
    return _normalised(result)[y0:y1, x0:x1][sites]


def _rationals(value) -> np.ndarray:
    pairs = np.asarray(value, dtype=np.float64).reshape(-1, 2)
    return pairs[:, 0] / pairs[:, 1]


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_dng_opens_in_rawpy_with_pattern_and_levels(tmp_path, cfa):
    result = simulate("colorchecker", cfa=cfa, size=(96, 64))
    dng_path, _ = write_sim(tmp_path / "cc.dng", result)
    with rawpy.imread(str(dng_path)) as raw:
        np.testing.assert_array_equal(raw.raw_image, result.mosaic)
        libraw_pattern = np.where(raw.raw_pattern == 3, 1, raw.raw_pattern)
        np.testing.assert_array_equal(libraw_pattern, result.dng_metadata["cfa_pattern"])
        assert raw.black_level_per_channel == [result.truth["noise"]["black_level"]] * 4
        assert raw.white_level == result.truth["noise"]["white_level"] == 2**14 - 1
        whitebalance = np.asarray(raw.camera_whitebalance[:3])
        white = np.array(result.truth["white_camera_rgb"])
        np.testing.assert_allclose(whitebalance / whitebalance[1], 1 / white, rtol=1e-6)
        assert raw.other.iso_speed == 100
        assert raw.postprocess(use_camera_wb=True).shape == (64, 96, 3)


def test_xtrans_raw_is_read_back(tmp_path):
    result = simulate("flat-field", cfa="XTRANS", size=(516, 516))
    dng_path, _ = write_sim(tmp_path / "x.dng", result, with_truth_image=False)
    with rawpy.imread(str(dng_path)) as raw:
        np.testing.assert_array_equal(raw.raw_pattern, sim_camera.XTRANS_PATTERN)
        np.testing.assert_array_equal(raw.raw_image, result.mosaic)


@pytest.mark.parametrize("scene", ["colorchecker", "slanted-edge", "step-wedge", "natural"])
def test_truth_json_follows_the_schema(tmp_path, scene):
    from lumatune.lab.truth import load_truth

    result = simulate(scene, size=SMALL, illuminant="A")
    _, json_path = write_sim(tmp_path / f"{scene}.dng", result)
    truth = json.loads(json_path.read_text())
    assert (truth["kind"], truth["version"], truth["scene"]) == ("lumatune-sim-truth", 1, scene)
    assert truth["image_size"] == list(SMALL)
    assert truth["cct"] == pytest.approx(2856, abs=5)
    assert truth["white_camera_rgb"][1] == 1.0
    noise_keys = {"full_well_e", "read_noise_e", "gain_dn_per_e", "white_level", "black_level", "noise_profile"}
    assert set(truth["noise"]) == noise_keys
    assert np.shape(truth["noise"]["noise_profile"]) == (3, 2)
    assert ("patches" in truth) == (scene in ("colorchecker", "natural"))
    assert ("edge" in truth) == (scene == "slanted-edge")
    assert ("wedge" in truth) == (scene == "step-wedge")
    assert (tmp_path / truth["truth_image"]).is_file()
    loaded = load_truth(json_path)
    assert loaded.image_size == SMALL


def test_edge_truth_holds_the_analytic_mtf():
    result = simulate("slanted-edge", size=SMALL, optics=Optics(sigma_px=1.0))
    edge = result.truth["edge"]
    assert edge["angle_deg"] == 5.0
    f, mtf = np.array(edge["mtf"]["frequency_cy_px"]), np.array(edge["mtf"]["mtf"])
    assert f[0] == 0 and mtf[0] == pytest.approx(1.0)
    low = f <= 0.4
    np.testing.assert_allclose(mtf[low], np.exp(-2 * (np.pi * f[low]) ** 2) * np.sinc(f[low]), atol=1e-3)
    assert np.interp(0.5, mtf[::-1], f[::-1]) == pytest.approx(edge["mtf50_cy_px"], abs=5e-3)


@pytest.mark.parametrize(("illuminant", "matrix_tag"), [("D65", "ColorMatrix2"), ("A", "ColorMatrix1")])
def test_color_matrix_maps_the_illuminant_white_to_as_shot_neutral(tmp_path, illuminant, matrix_tag):
    result = simulate("flat-field", illuminant=illuminant, size=(64, 64))
    dng_path, _ = write_sim(tmp_path / "w.dng", result)
    with tifffile.TiffFile(dng_path) as tiff:
        tags = {tag.name: tag.value for tag in tiff.pages[0].tags}
    matrix = _rationals(tags[matrix_tag]).reshape(3, 3)
    neutral = _rationals(tags["AsShotNeutral"])
    x, y = result.truth["illuminant_xy"]
    camera_white = matrix @ np.array([x / y, 1.0, (1 - x - y) / y])
    np.testing.assert_allclose(camera_white / camera_white[1], neutral, atol=NEUTRAL_ATOL)
    assert camera_white.max() == pytest.approx(1.0, abs=NEUTRAL_ATOL)


@pytest.fixture(scope="module")
def colorchecker():
    return simulate("colorchecker", size=SMALL, optics=NO_SHADING)


def test_patch_means_match_the_noiseless_expectation(colorchecker):
    result = colorchecker
    noise_s, noise_o = result.truth["noise"]["noise_profile"][0]
    prnu = Sensor().prnu
    for patch, expected in zip(result.truth["patches"], result.patch_camera_rgb):
        for channel in range(3):
            values = _box_channel_values(result, patch["box"], channel)
            x = expected[channel]
            standard_error = np.sqrt((noise_s * x + noise_o + (prnu * x) ** 2) / values.size)
            assert abs(values.mean() - x) < PATCH_SIGMAS * standard_error, (patch["name"], channel)


@pytest.mark.filterwarnings("ignore::colour.utilities.ColourRuntimeWarning")
def test_patch_expectation_matches_colour_science(colorchecker):
    names, _ = spectra.colorchecker_reflectances()
    sds = colour.SDS_COLOURCHECKERS["BabelColor Average"]
    wavelengths = sds[names[0]].wavelengths
    white = colour.SpectralDistribution(np.ones_like(wavelengths), wavelengths, name="white")
    sensitivities = colour.MSDS_CAMERA_SENSITIVITIES[spectra.DEFAULT_CAMERA]
    illuminant = colour.SDS_ILLUMINANTS["D65"]
    rgb, _ = colour.characterisation.training_data_sds_to_RGB(
        colour.colorimetry.sds_and_msds_to_msds([sds[name] for name in names]), sensitivities, illuminant
    )
    rgb_white, _ = colour.characterisation.training_data_sds_to_RGB(
        colour.colorimetry.sds_and_msds_to_msds([white]), sensitivities, illuminant
    )
    theirs = rgb / rgb_white[0]
    white_rgb = np.array(colorchecker.truth["white_camera_rgb"])
    ours = colorchecker.patch_camera_rgb / (sim_camera.WHITE_AT_EV0 * white_rgb / white_rgb.max())
    np.testing.assert_allclose(ours, theirs, rtol=SPECTRAL_RTOL, atol=1e-4)


@pytest.mark.parametrize(("iso", "ev"), [(100, 0.0), (100, -4.0), (1600, 0.0), (1600, -3.0)])
def test_temporal_noise_matches_the_noise_profile(iso, ev):
    frames = [simulate("flat-field", size=(160, 128), iso=iso, ev=ev, seed=seed, optics=NO_SHADING) for seed in (1, 2)]
    noise_s, noise_o = frames[0].truth["noise"]["noise_profile"][0]
    assert frames[0].dng_metadata["noise_profile"][0] == (noise_s, noise_o)
    box = (8, 8, 152, 120)
    for channel in range(3):
        first, second = (_box_channel_values(frame, box, channel) for frame in frames)
        predicted = noise_s * first.mean() + noise_o
        assert np.var(first - second) / 2 == pytest.approx(predicted, rel=TEMPORAL_NOISE_RTOL)


def test_single_frame_noise_of_a_flat_patch_matches_the_noise_profile():
    result = simulate("flat-field", size=(256, 192), ev=-2.0, optics=NO_SHADING)
    noise_s, noise_o = result.truth["noise"]["noise_profile"][0]
    for channel in range(3):
        values = _box_channel_values(result, (8, 8, 248, 184), channel)
        assert values.std() == pytest.approx(np.sqrt(noise_s * values.mean() + noise_o), rel=FLAT_PATCH_STD_RTOL)


def test_the_same_seed_gives_the_same_raw_and_another_seed_does_not():
    first, again, other = (simulate("natural", size=(96, 64), seed=seed) for seed in (7, 7, 8))
    np.testing.assert_array_equal(first.mosaic, again.mosaic)
    assert first.truth == again.truth
    assert (first.mosaic != other.mosaic).mean() > 0.5


def _edge_model(normal, sigma, offset, dark, light):
    """Gaussian PSF convolved with a 1-px pixel aperture, across a step."""

    def integral(u):
        return u * norm.cdf(u / sigma) + sigma * norm.pdf(u / sigma)

    u = normal - offset
    return dark + (light - dark) * (integral(u + 0.5) - integral(u - 0.5))


@pytest.mark.parametrize("sigma", [0.8, 1.6])
def test_gaussian_psf_edge_spread_matches_sigma(sigma):
    width = height = 160
    result = simulate("slanted-edge", size=(width, height), optics=Optics(sigma_px=sigma, shading=False), sensor=QUIET)
    x0, y0, x1, y1 = result.truth["edge"]["box"]
    angle = np.radians(result.truth["edge"]["angle_deg"])
    ys, xs = np.mgrid[y0:y1, x0:x1]
    normal = ((xs + 0.5 - width / 2) - (ys + 0.5 - height / 2) * np.tan(angle)) * np.cos(angle)
    green = _channel_sites(result.dng_metadata["cfa_pattern"], result.mosaic.shape, 1)[y0:y1, x0:x1]
    values = _normalised(result)[y0:y1, x0:x1]
    (fitted, *_), _ = curve_fit(_edge_model, normal[green], values[green], p0=[1.0, 0.0, 0.05, 0.5])
    assert fitted == pytest.approx(sigma, rel=SIGMA_RTOL)


def test_wedge_raw_means_follow_the_relative_luminance():
    result = simulate("step-wedge", size=(384, 256), optics=NO_SHADING)
    ratios = []
    for step in result.truth["wedge"]["steps"]:
        mean = _box_channel_values(result, step["box"], 1).mean()
        if 0.01 < mean < 0.8:
            ratios.append(mean / step["relative_luminance"])
    assert len(ratios) >= 10
    assert np.ptp(ratios) / np.mean(ratios) < WEDGE_RTOL
    white_green = sim_camera.WHITE_AT_EV0 / max(result.truth["white_camera_rgb"])
    assert np.mean(ratios) == pytest.approx(white_green, rel=WEDGE_RTOL)


def test_brightest_wedge_step_clips_green_at_the_white_level():
    result = simulate("step-wedge", size=(384, 256), optics=NO_SHADING)
    green = _box_channel_values(result, result.truth["wedge"]["steps"][0]["box"], 1)
    assert (green == 1.0).all()


def test_gain_map_undoes_the_lens_shading():
    width, height = 300, 200
    lens = Optics(corner_field_angle_deg=30.0, vignetting=0.2)
    result = simulate("flat-field", size=(width, height), optics=lens)
    (gain_map,) = parse_opcode_list(result.dng_metadata["opcode_list_2"])
    assert (gain_map.top, gain_map.left, gain_map.bottom, gain_map.right) == (0, 0, height, width)
    grid = gain_map.gains[:, :, 0].astype(np.float64)
    # DNG SDK dng_gain_map_interpolator: relative position of a pixel centre in the image bounds
    v = (np.arange(height)[:, None] + 0.5) / height / gain_map.map_spacing[0]
    u = (np.arange(width)[None, :] + 0.5) / width / gain_map.map_spacing[1]
    iv, iu = np.minimum(v.astype(int), grid.shape[0] - 2), np.minimum(u.astype(int), grid.shape[1] - 2)
    fv, fu = v - iv, u - iu
    gains = (
        grid[iv, iu] * (1 - fv) * (1 - fu)
        + grid[iv + 1, iu] * fv * (1 - fu)
        + grid[iv, iu + 1] * (1 - fv) * fu
        + grid[iv + 1, iu + 1] * fv * fu
    )
    np.testing.assert_allclose(gains * sim_optics.lens_shading(width, height, lens), 1.0, atol=GAIN_MAP_ATOL)
    assert simulate("flat-field", size=(64, 64), optics=NO_SHADING).dng_metadata["opcode_list_2"] is None


def test_iso_keeps_the_exposure_and_raises_the_noise():
    low, high = (simulate("flat-field", size=(128, 96), iso=iso, optics=NO_SHADING) for iso in (100, 3200))
    box = (8, 8, 120, 88)
    assert _box_channel_values(high, box, 1).mean() == pytest.approx(_box_channel_values(low, box, 1).mean(), rel=0.01)
    assert _box_channel_values(high, box, 1).std() > 4 * _box_channel_values(low, box, 1).std()
    assert high.dng_metadata["exposure_time"] == pytest.approx(low.dng_metadata["exposure_time"] / 32)


def test_truth_image_holds_the_patch_colours(tmp_path):
    result = simulate("colorchecker", size=SMALL)
    _, json_path = write_sim(tmp_path / "cc.dng", result)
    truth = json.loads(json_path.read_text())
    image = tifffile.imread(tmp_path / truth["truth_image"])
    assert image.shape == (SMALL[1], SMALL[0], 3) and image.dtype == np.float32
    for patch in truth["patches"]:
        x0, y0, x1, y1 = patch["box"]
        np.testing.assert_allclose(image[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0), patch["XYZ"], rtol=1e-5)


def test_write_sim_refuses_to_overwrite_and_leaves_nothing_behind(tmp_path):
    result = simulate("flat-field", size=(64, 64))
    write_sim(tmp_path / "f.dng", result)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="exists"):
        write_sim(tmp_path / "f.dng", result)
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["f.dng", "f.json", "f_truth.tif"]
    write_sim(tmp_path / "f.dng", result, overwrite=True)
    with pytest.raises(OutputError, match="does not exist"):
        write_sim(tmp_path / "missing" / "f.dng", result)


@pytest.mark.parametrize(
    ("kwargs", "valid"),
    [
        ({"scene": "sky"}, "colorchecker"),
        ({"illuminant": "D66"}, "D65"),
        ({"camera": "Canon"}, "Nikon"),
        ({"cfa": "RGBW"}, "XTRANS"),
        ({"iso": 0}, "ISO"),
        ({"ev": float("nan")}, "ev"),
    ],
)
def test_bad_arguments_name_the_valid_values(kwargs, valid):
    arguments = {"scene": "colorchecker", "size": (64, 64)} | kwargs
    with pytest.raises(UnsupportedError, match=valid):
        simulate(arguments.pop("scene"), **arguments)


def test_sim_never_imports_stages_or_pipeline():
    forbidden = ("lumatune.stages", "lumatune.pipeline")
    for source in SIM_SOURCES.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.startswith(forbidden) for name in names), f"{source.name} imports {names}"
