"""Tests of lumatune.sim.optics: PSF kernels and their MTF, lens shading, geometry."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from lumatune.errors import UnsupportedError
from lumatune.sim import optics
from lumatune.sim.optics import Optics

OTF_ATOL = 1e-3
"""Largest difference between a Gaussian kernel's DTFT and its OTF up to 0.8 Nyquist (towards
Nyquist the band-limited OTF of a small sigma has a kink whose ringing the cropped kernel loses;
the truth MTF is computed from the kernel itself, so it stays exact)."""

AIRY_OTF_ATOL = 1e-2
"""The same for the Airy kernel, whose far rings (under 1 % of the energy) are cropped."""

REMAP_ATOL = 0.1
"""cv2.remap interpolates from a fixed-point table (1/32 px steps); measured error up to 0.07 px."""

SHADING_ATOL = 1e-6


def _band(frequencies):
    return frequencies[frequencies < 0.5]


@pytest.mark.parametrize("sigma", [0.5, 0.8, 1.5, 3.0])
def test_gaussian_kernel_reproduces_the_gaussian_otf_up_to_nyquist(sigma):
    (kernel, *_rest) = optics.psf_kernels(Optics(sigma_px=sigma), (600.0, 530.0, 460.0))
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6)
    f = optics.MTF_FREQUENCIES[optics.MTF_FREQUENCIES <= 0.4]
    expected = np.exp(-2 * (np.pi * sigma * f) ** 2) * np.abs(np.sinc(f))
    np.testing.assert_allclose(optics.mtf_of_capture(kernel)[: f.size], expected, atol=OTF_ATOL)


def test_airy_kernels_reproduce_the_diffraction_otf_per_channel():
    lens = Optics(psf="airy", f_number=8.0, pixel_pitch_um=4.0)
    wavelengths = (610.0, 540.0, 465.0)
    kernels = optics.psf_kernels(lens, wavelengths)
    f = _band(optics.MTF_FREQUENCIES)
    for kernel, wavelength in zip(kernels, wavelengths):
        s = f * wavelength * 1e-3 * lens.f_number / lens.pixel_pitch_um
        otf = 2 / np.pi * (np.arccos(s) - s * np.sqrt(1 - s * s))
        measured = optics.mtf_of_capture(kernel)[: f.size]
        np.testing.assert_allclose(measured, otf * np.abs(np.sinc(f)), atol=AIRY_OTF_ATOL)
    assert optics.mtf50(kernels[0]) < optics.mtf50(kernels[2])  # red blurs more than blue


def test_mtf50_of_a_one_pixel_gaussian():
    (kernel, *_rest) = optics.psf_kernels(Optics(sigma_px=1.0), (550.0,) * 3)
    expected = brentq(lambda f: np.exp(-2 * (np.pi * f) ** 2) * np.sinc(f) - 0.5, 0.05, 0.5)
    assert optics.mtf50(kernel) == pytest.approx(expected, abs=1e-3)


def test_no_psf_is_the_identity():
    image = np.random.default_rng(0).random((16, 16, 3), dtype=np.float32)
    kernels = optics.psf_kernels(Optics(psf="none"), (600.0, 530.0, 460.0))
    np.testing.assert_array_equal(optics.apply_psf(image.copy(), kernels), image)


def test_lens_shading_is_cos4_times_vignetting():
    lens = Optics(corner_field_angle_deg=30.0, vignetting=0.2)
    shading = optics.lens_shading(401, 301, lens)
    assert shading[150, 200] == pytest.approx(1.0, abs=1e-5)
    corner = np.cos(np.radians(30.0)) ** 4 * (1 - 0.2)
    assert shading[0, 0] == pytest.approx(corner, rel=1e-2)
    assert shading[0, 0] < shading[0, 100] < shading[0, 200] < 1.0
    assert optics.lens_shading(401, 301, Optics(shading=False)) is None


def test_geometry_samples_the_distorted_radius_and_map_box_inverts_it():
    width, height, k1 = 120, 80, 0.08
    lens = Optics(distortion_k1=k1)
    x = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :, None], (height, width, 1)).copy()
    y = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None, None], (height, width, 1)).copy()
    sampled_x = optics.apply_geometry(x, lens)[..., 0]
    cx, cy, half_diagonal = width / 2 - 0.5, height / 2 - 0.5, 0.5 * np.hypot(width, height)
    rows, cols = np.mgrid[0:height, 0:width]
    rho2 = ((cols - cx) ** 2 + (rows - cy) ** 2) / half_diagonal**2
    inner = (slice(10, -10), slice(10, -10))
    np.testing.assert_allclose(sampled_x[inner], (cx + (cols - cx) * (1 + k1 * rho2))[inner], atol=REMAP_ATOL)
    # a box drawn in scene coordinates lands inside map_box's box in the image
    box = (80, 50, 110, 72)
    scene = ((x[..., 0] >= box[0]) & (x[..., 0] < box[2]) & (y[..., 0] >= box[1]) & (y[..., 0] < box[3]))
    image = optics.apply_geometry(scene[..., None].astype(np.float32), lens)[..., 0]
    bx0, by0, bx1, by1 = optics.map_box(box, width, height, lens)
    assert bx1 - bx0 >= 20 and by1 - by0 >= 14
    assert image[by0:by1, bx0:bx1].min() > 0.99


def test_bad_optics_are_refused():
    with pytest.raises(UnsupportedError, match="psf"):
        Optics(psf="bokeh")
    with pytest.raises(UnsupportedError, match="sigma"):
        Optics(sigma_px=0)
