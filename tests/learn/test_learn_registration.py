"""Registration: a target turned, shrunk and cropped is put back on the neutral rendering; other shots are not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lumatune.learn.registration import (
    MIN_CORRELATION,
    RegistrationError,
    match_histogram,
    register,
    warp_to_target,
)

POSITION_TOLERANCE = 0.75
"""Reference pixels: where a target pixel is found versus where it was taken from."""
WARP_TOLERANCE = 0.01
"""Encoded units: median difference of the neutral rendering resampled on the target's pixels and the target."""


@pytest.fixture(scope="module")
def neutral(sim_pairs):
    import lumatune

    return lumatune.develop(sim_pairs["train"][0].dng, look="neutral")


def _graded(image: np.ndarray) -> np.ndarray:
    """A different tone and colour: registration must not depend on them."""
    return np.clip(image**0.7 * np.array([1.05, 1.0, 0.9], np.float32), 0.0, 1.0)


def _known_target(reference: np.ndarray, turns: int, scale: float, crop: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference cropped by ``crop`` px on each side, shrunk by ``scale`` and turned; and the true map
    from the turned target's pixels to the reference's."""
    cropped = reference[crop:-crop, crop:-crop]
    size = (round(cropped.shape[1] * scale), round(cropped.shape[0] * scale))
    small = cv2.resize(cropped, size, interpolation=cv2.INTER_AREA)
    sx, sy = cropped.shape[1] / size[0], cropped.shape[0] / size[1]
    truth = np.array([[sx, 0.0, 0.5 * sx - 0.5 + crop], [0.0, sy, 0.5 * sy - 0.5 + crop]])
    return np.ascontiguousarray(np.rot90(_graded(small), -turns)), truth


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_turn_scale_and_crop_are_recovered(neutral, turns):
    target, truth = _known_target(neutral, turns, 0.6, crop=6)
    registration = register(target, neutral)
    assert registration.turns == turns
    assert registration.correlation > MIN_CORRELATION
    upright = np.rot90(target, turns)
    ys, xs = np.mgrid[0 : upright.shape[0] : 17, 0 : upright.shape[1] : 23]
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    error = np.abs(registration.matrix @ points - truth @ points).max()
    assert error < POSITION_TOLERANCE


def test_warped_rendering_matches_the_target(neutral):
    target, _ = _known_target(neutral, 1, 0.75, crop=4)
    registration = register(target, neutral)
    upright = np.ascontiguousarray(np.rot90(target, registration.turns))
    warped, valid = warp_to_target(neutral, registration, upright.shape[:2])
    assert valid.mean() > 0.95
    assert np.median(np.abs(_graded(warped)[valid] - upright[valid])) < WARP_TOLERANCE


def test_another_shot_is_not_registered(neutral, sim_pairs):
    import lumatune

    other = lumatune.develop(sim_pairs["train"][2].dng, look="neutral")  # the ColorChecker, not the garden
    with pytest.raises(RegistrationError, match="no registration found"):
        register(other, neutral)


def test_a_mirror_image_is_not_registered(neutral):
    with pytest.raises(RegistrationError):
        register(np.ascontiguousarray(neutral[:, ::-1]), neutral)


def test_histogram_match_is_monotone_and_matches_quantiles():
    rng = np.random.default_rng(3)
    source = rng.random(5000).astype(np.float32)
    template = (rng.random(5000) ** 2.2).astype(np.float32)
    matched = match_histogram(source, template)
    order = np.argsort(source)
    assert np.all(np.diff(matched[order]) >= 0)
    np.testing.assert_allclose(np.quantile(matched, [0.1, 0.5, 0.9]), np.quantile(template, [0.1, 0.5, 0.9]),
                               atol=0.01)
