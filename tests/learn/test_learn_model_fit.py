"""The learned look's model renders what ``lumatune develop`` renders, and each fit stage finds what it models."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.learn.fit import (
    STOP_GAIN,
    fit_curve,
    fit_exposure,
    fit_look,
    fit_vignette,
    held_out_error,
)
from lumatune.learn.model import LearnedLook, identity_lut, render_samples, write_look
from lumatune.learn.samples import Samples
from lumatune.stages.look_colour import ColourParams
from lumatune.stages.lut import tetrahedral_weights
from lumatune.stages.vignette import VignetteParams

MODEL_TOLERANCE = 2.0 / 255.0
"""Encoded units: the model on scene colours from the neutral rendering versus develop (float32 tables)."""
EV_TOLERANCE = 0.01
CURVE_TOLERANCE = 0.01
"""Encoded units on the knots of a curve recovered from its own renderings."""
VIGNETTE_TOLERANCE = 0.03


def _samples(scene: np.ndarray, target: np.ndarray, position=None, frames=((200, 300),)) -> Samples:
    n = len(scene)
    position = np.full((n, 2), 0.5, np.float32) if position is None else position
    return Samples(scene.astype(np.float32), target.astype(np.float32), position.astype(np.float32),
                   np.zeros(n, np.int32), frames)


@pytest.fixture(scope="module")
def scene_colours() -> np.ndarray:
    rng = np.random.default_rng(11)
    return (rng.random((1500, 3)) ** 2.0 * 0.9).astype(np.float32)


def _a_look() -> LearnedLook:
    lut = identity_lut(9)
    lut = np.clip(lut + 0.04 * np.sin(3.0 * lut[..., ::-1]), 0.0, 1.0).astype(np.float32)
    return LearnedLook(
        points=((0.0, 0.01), (0.25, 0.2), (0.5, 0.55), (0.75, 0.8), (1.0, 0.98)),
        colour=ColourParams(saturation=1.1, hue_shift=(4.0, 0, 0, -5.0, 0, 0, 3.0, 0),
                            hue_saturation=(0, 0.1, 0, 0, -0.1, 0, 0, 0), hue_lightness=(0, 0, 0.2, 0, 0, 0, 0, 0)),
        lut=lut,
        vignette=VignetteParams(amount=-0.3, midpoint=0.5, feather=0.6, roundness=0.3),
        stages=("curve", "colour", "lut", "vignette"),
    )


def test_tetrahedral_weights_reproduce_the_lut_stage():
    from lumatune.stages.lut import tetrahedral

    rng = np.random.default_rng(5)
    table = rng.random((7, 7, 7, 3)).astype(np.float32)
    points = np.concatenate([rng.random((500, 3)), identity_lut(7).reshape(-1, 3)[::13]])
    indices, weights = tetrahedral_weights(points, 7)
    mine = np.einsum("nk,nkc->nc", weights, table.reshape(-1, 3)[indices])
    np.testing.assert_allclose(mine, tetrahedral(points, table, np.zeros(3), np.ones(3)), atol=1e-6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)


def test_model_renders_what_develop_renders(sim_pairs, tmp_path):
    """Scene colours decoded from the neutral rendering (in Rec.2020) and run through the model give the
    pipeline's own rendering of the raw in the written look, pixel for pixel (where neutral did not clip)."""
    import lumatune
    from lumatune.colour.spaces import decode_eotf

    dng = sim_pairs["train"][0].dng
    look = _a_look()
    path = tmp_path / "model.toml"
    write_look(look, path)
    developed = lumatune.develop(dng, look=path)
    encoded = lumatune.develop(dng, look="neutral", space="rec2020")
    height, width = encoded.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    position = np.stack([(xs + 0.5) / width, (ys + 0.5) / height], axis=-1).reshape(-1, 2)
    inside = ((encoded.max(axis=-1) < 0.99) & (encoded.min(axis=-1) > 0.0)).ravel()
    scene = decode_eotf(encoded, "rec2020").reshape(-1, 3)
    model = render_samples(look, scene[inside], position[inside], np.zeros(inside.sum(), np.int32), ((height, width),))
    difference = np.abs(model - developed.reshape(-1, 3)[inside])
    assert inside.mean() > 0.5
    assert np.percentile(difference, 99.9) < MODEL_TOLERANCE


def test_written_look_loads_as_a_look(tmp_path):
    import lumatune

    paths = write_look(_a_look(), tmp_path / "written.toml", description="a test")
    assert [p.suffix for p in paths] == [".toml", ".cube"]
    look = lumatune.load_look(paths[0])
    assert look.blocks.params["tone"].curve == "points"
    assert look.blocks.params["lut"].space == "rec2020"
    assert look.blocks.params["colour"].hue_shift[0] == pytest.approx(4.0)
    assert look.blocks.params["vignette"].amount == pytest.approx(-0.3)


def test_exposure_is_recovered(scene_colours):
    target = render_samples(LearnedLook(ev=0.6), scene_colours)
    assert fit_exposure(_samples(scene_colours, target)).ev == pytest.approx(0.6, abs=EV_TOLERANCE)


def test_curve_is_recovered(scene_colours):
    from lumatune.learn.fit import CURVE_INPUTS

    secret = tuple((x, float(np.clip(x + 0.12 * np.sin(np.pi * x) - 0.05 * x, 0, 1))) for x in CURVE_INPUTS)
    target = render_samples(LearnedLook(points=secret), scene_colours)
    found = fit_curve(_samples(scene_colours, target), LearnedLook())
    np.testing.assert_allclose([y for _, y in found.points][1:-1], [y for _, y in secret][1:-1],
                               atol=CURVE_TOLERANCE)


def test_vignette_is_recovered(scene_colours):
    rng = np.random.default_rng(2)
    position = rng.random((len(scene_colours), 2)).astype(np.float32)
    secret = VignetteParams(amount=-0.35, midpoint=0.55, feather=0.6, roundness=0.0)
    curve = ((0.0, 0.0), (1.0, 1.0))
    target = render_samples(LearnedLook(points=curve, vignette=secret), scene_colours, position,
                            np.zeros(len(position), np.int32), ((200, 300),))
    found = fit_vignette(_samples(scene_colours, target, position), LearnedLook(points=curve)).vignette
    assert found.amount == pytest.approx(secret.amount, abs=VIGNETTE_TOLERANCE)


def test_nothing_is_kept_when_the_target_is_neutral(scene_colours):
    """The held-out error cannot fall below neutral's 0: every stage is left out, the look is neutral."""
    target = render_samples(LearnedLook(), scene_colours)
    train, held = _samples(scene_colours[:1000], target[:1000]), _samples(scene_colours[1000:], target[1000:])
    result = fit_look(train, held, lut_size=5, nonlinear_samples=1000)
    assert result.neutral_de00 < STOP_GAIN
    assert not any(stage.kept for stage in result.log)
    assert result.look == LearnedLook()
    assert held_out_error(result.look, held) < STOP_GAIN
