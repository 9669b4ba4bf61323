"""Artefact metrics: SSIM and PSNR against closed forms, false colour and zipper on made-up renderings."""

from __future__ import annotations

import json
import math

import colour
import numpy as np
import pytest
import tifffile
from lab.lab_synthetic import encode, truth_header

from lumatune.errors import UnsupportedError
from lumatune.lab.artefacts import false_colour, psnr_db, ssim, zipper_percentage
from lumatune.lab.measure import measure

SIZE = 64
D65 = colour.RGB_COLOURSPACES["sRGB"].whitepoint


def _zone_plate() -> np.ndarray:
    """Neutral linear zone plate in [0.1, 0.7], shape (SIZE, SIZE)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] - SIZE / 2
    return 0.4 + 0.3 * np.cos(math.pi * (x**2 + y**2) / (2 * SIZE))


def test_ssim_of_identical_images_is_one_and_of_constants_follows_the_formula():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (32, 32, 3))
    assert ssim(image, image) == pytest.approx(1.0)
    c1 = (0.01) ** 2
    a, b = 0.3, 0.6
    expected = (2 * a * b + c1) / (a * a + b * b + c1)  # flat images: structure term is 1
    assert ssim(np.full((32, 32), a), np.full((32, 32), b)) == pytest.approx(expected)


def test_ssim_of_a_flat_image_against_noise_follows_the_contrast_term():
    sigma, c2 = 0.03, 0.03**2
    flat = np.full((256, 256), 0.5)
    noisy = flat + np.random.default_rng(1).normal(0, sigma, flat.shape)
    # Means agree and covariance is ~0, so SSIM ~ C2 / (var_y + C2), with var_y the Gaussian-window
    # variance estimate sigma^2 (1 - sum w^2), sum w^2 = 1 / (4 pi 1.5^2) for the 2-D window.
    window_variance = sigma**2 * (1 - 1 / (4 * math.pi * 1.5**2))
    assert ssim(flat, noisy) == pytest.approx(c2 / (window_variance + c2), abs=0.03)
    assert ssim(flat, noisy) == pytest.approx(ssim(noisy, flat))


def test_psnr_of_known_gaussian_noise():
    sigma = 0.01
    image = np.full((128, 128, 3), 0.5)
    noisy = image + np.random.default_rng(2).normal(0, sigma, image.shape)
    assert psnr_db(noisy, image) == pytest.approx(-20 * math.log10(sigma), abs=0.1)
    assert psnr_db(image, image) == math.inf


def test_false_colour_is_the_chroma_added_where_the_truth_is_neutral_and_only_that():
    truth_lab = np.zeros((8, 8, 3))
    truth_lab[..., 0] = 50
    rendering_lab = truth_lab.copy()
    rendering_lab[..., 1] = 3.0
    rendering_lab[..., 2] = 4.0
    assert false_colour(rendering_lab, truth_lab) == pytest.approx(5.0)
    truth_lab[..., 2] = 0.6  # a slightly tinted grey, rendered exactly: no false colour
    assert false_colour(truth_lab, truth_lab) == 0.0
    truth_lab[..., 1] = 20  # nothing neutral left
    assert false_colour(rendering_lab, truth_lab) is None


def test_zipper_follows_the_direction_the_truth_is_smooth_in():
    truth_lab = np.zeros((20, 20, 3))
    truth_lab[..., 0] = np.linspace(20, 80, 20)[None, :]  # varies along x, constant along y
    row_stripes = truth_lab.copy()
    row_stripes[1::2, :, 0] += 5  # breaks the vertical neighbours the truth says are equal
    column_stripes = truth_lab.copy()
    column_stripes[:, 1::2, 0] += 5
    assert zipper_percentage(row_stripes, truth_lab) == pytest.approx(100.0)
    assert zipper_percentage(column_stripes, truth_lab) == pytest.approx(0.0)


def test_measure_reads_the_truth_image_beside_the_truth_json(tmp_path):
    grey = _zone_plate()
    white_xyz = colour.xy_to_XYZ(D65)
    tifffile.imwrite(tmp_path / "scene_truth.tif", (grey[..., None] * white_xyz).astype(np.float32), photometric="rgb")
    truth_path = tmp_path / "scene.json"
    truth_path.write_text(json.dumps(truth_header(SIZE, SIZE, truth_image="scene_truth.tif")))
    rgb = np.repeat(grey[..., None], 3, axis=2)
    perfect = measure(encode(rgb, None), truth_path)
    assert perfect["false_colour"] < 0.01
    assert perfect["zipper_pct"] == 0.0
    assert perfect["ssim"] == pytest.approx(1.0, abs=1e-4)
    tinted = rgb * np.array([1.05, 1.0, 0.95])
    damaged = measure(encode(tinted, None), truth_path)
    assert damaged["false_colour"] > 2.0
    assert perfect["psnr_db"] > 100  # identical up to float32 rounding
    assert 20 < damaged["psnr_db"] < 60


def test_a_known_exposure_scale_takes_an_exposure_difference_out_of_psnr(tmp_path):
    grey = _zone_plate()
    white_xyz = colour.xy_to_XYZ(D65)
    tifffile.imwrite(tmp_path / "scene_truth.tif", (grey[..., None] * white_xyz).astype(np.float32), photometric="rgb")
    truth_path = tmp_path / "scene.json"
    truth_path.write_text(json.dumps(truth_header(SIZE, SIZE, truth_image="scene_truth.tif")))
    darker = encode(np.repeat(grey[..., None], 3, axis=2) * 0.8, None)
    assert measure(darker, truth_path)["psnr_db"] < 30
    assert measure(darker, truth_path, exposure_scale=1.25)["psnr_db"] > 100
    with pytest.raises(UnsupportedError, match="exposure scale"):
        measure(darker, truth_path, exposure_scale=0.0)
