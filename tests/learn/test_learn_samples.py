"""Samples: clipped, black and busy pixels left out; each colour region counts; held-out splits as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lumatune.learn.pairs import Pair, PairSpec
from lumatune.learn.registration import Registration
from lumatune.learn.samples import (
    BORDER,
    COLOUR_BINS,
    Part,
    PreparedPair,
    draw_samples,
    split_holdout,
    usable_pixels,
)

SHAPE = (60, 80)


def _prepared(name: str, scene: np.ndarray | None = None) -> PreparedPair:
    scene = np.full((*SHAPE, 3), 0.2, np.float32) if scene is None else scene
    pair = Pair(PairSpec(Path(f"{name}.dng")), raw=None, target=scene, target_clip=1.0, camera="test")
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]].astype(np.float32)
    return PreparedPair(
        pair=pair,
        registration=Registration(0, np.eye(3)[:2], 1.0),
        scene=scene,
        target=scene,
        usable=np.ones(SHAPE, bool),
        position=np.stack([(xs + 0.5) / SHAPE[1], (ys + 0.5) / SHAPE[0]], axis=-1),
        frame=SHAPE,
        preview=False,
    )


def test_whole_pairs_are_held_out_when_there_are_enough():
    prepared = [_prepared(f"p{i}") for i in range(5)]
    train, held, sentence = split_holdout(prepared, 0.2, seed=3)
    assert len(train) == 4 and len(held) == 1
    assert sentence.startswith("1 of 5 pairs held out")
    assert split_holdout(prepared, 0.2, seed=3)[1][0].prepared is held[0].prepared  # seeded
    assert all(part.mask.all() for part in train + held)


def test_a_band_is_held_out_when_pairs_are_few():
    train, held, sentence = split_holdout([_prepared("a"), _prepared("b")], 0.25)
    cut = round(0.75 * SHAPE[1])
    for t, h in zip(train, held):
        assert not t.mask[:, cut - BORDER :].any() and t.mask[:, : cut - BORDER].all()
        assert h.mask[:, cut:].all() and not h.mask[:, :cut].any()
    assert "right 25%" in sentence


def test_each_colour_region_counts_not_just_the_sky():
    scene = np.full((*SHAPE, 3), 0.6, np.float32)  # a big flat "sky"
    scene[:6, :6] = (0.05, 0.3, 0.1)  # a small green patch
    draw = draw_samples([Part(_prepared("sky", scene), np.ones(SHAPE, bool))], per_bin=20)
    green = np.all(np.isclose(draw.scene, (0.05, 0.3, 0.1)), axis=1)
    assert len(draw) == 40 and green.sum() == 20
    assert COLOUR_BINS >= 4  # the two colours fall in different bins


def test_clipped_black_and_busy_pixels_are_left_out():
    rng = np.random.default_rng(0)
    scene = np.full((*SHAPE, 3), 0.4, np.float32)
    target = scene.copy()
    target[5:15, 5:15] = 1.0  # clipped in the target
    scene[5:15, 30:40] = 0.999  # clipped in the scene
    target[30:40, 5:15] = 0.0  # crushed to black
    busy = rng.random((20, 20, 3)).astype(np.float32)
    scene[30:50, 40:60], target[30:50, 40:60] = busy, busy
    valid = np.ones(SHAPE, bool)
    valid[:, -10:] = False  # outside the overlap
    usable = usable_pixels(scene, target, valid, target_clip=1.0 - 0.5 / 255)
    for rows, columns in ((slice(5, 15), slice(5, 15)), (slice(5, 15), slice(30, 40)), (slice(30, 40), slice(5, 15)),
                          (slice(33, 47), slice(43, 57))):
        assert not usable[rows, columns].any()
    assert usable[20:28, 20:28].all()
    assert not usable[:, -10 - BORDER :].any() and usable[20:28, -12 - BORDER : -10 - BORDER].all()
