"""Session fixtures of the look-learning tests (helpers in learn_sim.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from learn.learn_sim import (
    HELD_SEED,
    LUT_SIZE,
    NONLINEAR_SAMPLES,
    SECRET_TOML,
    TEST_SCENES,
    TRAIN_SCENES,
    VALIDATION_SCENES,
    SimPair,
    secret_lut,
    secret_pairs,
    simulate_raw,
)


@pytest.fixture(scope="session")
def learn_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("learn")


@pytest.fixture(scope="session")
def secret_look(learn_folder) -> Path:
    from lumatune.io.lut import Lut, write_cube

    write_cube(learn_folder / "secret.cube", Lut(table=secret_lut()), overwrite=True)
    path = learn_folder / "secret.toml"
    path.write_text(SECRET_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sim_pairs(learn_folder, secret_look) -> dict[str, list[SimPair]]:
    """Training, validation (stage choice) and test (the check) pairs rendered in the secret look."""
    return {
        "train": secret_pairs(learn_folder, secret_look, "train", TRAIN_SCENES),
        "validation": secret_pairs(learn_folder, secret_look, "validation", VALIDATION_SCENES),
        "test": secret_pairs(learn_folder, secret_look, "test", TEST_SCENES),
    }


@pytest.fixture(scope="session")
def learned(sim_pairs, learn_folder):
    """Fit on the training pairs, stages chosen on the validation pair (held out, :data:`HELD_SEED`); the look
    written as a file. Returns the prepared training and validation pairs, the fit and the look file."""
    import lumatune
    from lumatune.learn.fit import fit_look
    from lumatune.learn.model import write_look
    from lumatune.learn.pairs import Pair, PairSpec
    from lumatune.learn.samples import Part, draw_samples, prepare_pair

    def prepared(pairs):
        return [
            prepare_pair(Pair(PairSpec(p.dng), lumatune.open_raw(p.dng), p.target, 1.0 - 0.5 / 255.0, "lumatune"))
            for p in pairs
        ]

    train, validation = prepared(sim_pairs["train"]), prepared(sim_pairs["validation"])
    result = fit_look(
        draw_samples([Part(p, p.usable) for p in train], seed=0),
        draw_samples([Part(p, p.usable) for p in validation], seed=HELD_SEED),
        lut_size=LUT_SIZE,
        nonlinear_samples=NONLINEAR_SAMPLES,
    )
    path = learn_folder / "learned.toml"
    write_look(result.look, path, overwrite=True)
    return train, validation, result, path


@pytest.fixture(scope="session")
def other_camera_raw(learn_folder) -> Path:
    """A natural scene from the virtual camera's other camera model."""
    from lumatune.sim import CAMERAS

    return simulate_raw(learn_folder, "other-camera", "natural", "D65", (240, 160), 0.0, seed=7, camera=CAMERAS[1])
