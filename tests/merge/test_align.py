"""Alignment recovers known sub-pixel shifts of a synthetic pair (shifted exactly in the Fourier domain)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from burst_synthetic import mosaic, noisy, shifted, texture

from lumatune.merge.align import align, bin_quads

SHIFT_TOLERANCE_PX = 0.1
"""The median tile displacement must be this close to the true shift, raw pixels (measured: <= 0.09)."""

ROTATION_TOLERANCE_PX = 0.25
"""Median error of the field against a rotation made with OpenCV's cubic warp (whose own sub-pixel phase error
is part of it), raw pixels."""

NOISE_SIGMA = 0.02
"""Noise of the pair (about 26 dB PSNR on this texture): the alignment must hold at burst noise levels."""


@pytest.mark.parametrize("dy, dx", [(3.3, -5.7), (-12.6, 8.25), (0.5, 0.0)])
def test_recovers_known_shift(dy, dx):
    scene = texture(256, 320, seed=1)
    reference = noisy(mosaic(scene), NOISE_SIGMA, seed=2)
    frame = noisy(mosaic(shifted(scene, dy, dx)), NOISE_SIGMA, seed=3)
    field = align(bin_quads(reference), bin_quads(frame))
    median_dy, median_dx = field.median_shift()
    # the field is in binned (2x2 quad) pixels: one is two raw pixels
    assert abs(2 * median_dy - dy) < SHIFT_TOLERANCE_PX
    assert abs(2 * median_dx - dx) < SHIFT_TOLERANCE_PX


def test_field_follows_a_rotation():
    """A small rotation gives displacements that grow with the distance from its centre, as a rotation must."""
    scene = texture(384, 384, seed=4)
    angle = 0.5
    matrix = cv2.getRotationMatrix2D((191.5, 191.5), angle, 1.0)
    rotated = cv2.warpAffine(scene, matrix, (384, 384), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    field = align(bin_quads(mosaic(scene)), bin_quads(mosaic(rotated)))
    # expected displacement of each tile centre (binned px): where the rotation sends it, minus where it was
    ty, tx = np.mgrid[0 : field.dy.shape[0], 0 : field.dy.shape[1]]
    half = (field.tile - 1) / 2
    centre = np.stack([(tx * field.stride + half) * 2 + 0.5, (ty * field.stride + half) * 2 + 0.5, np.ones(tx.shape)])
    moved = np.tensordot(matrix, centre, axes=1)
    expected_dx, expected_dy = (moved[0] - centre[0]) / 2, (moved[1] - centre[1]) / 2
    inner = (slice(1, -1), slice(1, -1))
    error = np.hypot(field.dy - expected_dy, field.dx - expected_dx)[inner]
    assert np.median(error) * 2 < ROTATION_TOLERANCE_PX
    assert np.ptp(expected_dy) * 2 > 2.5  # the rotation moves the corners by pixels: a field far from constant
