"""The LUT stage: identity tables change nothing, strength blends, and the fast pass agrees with the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.io.lut import Lut, load_lut, write_cube
from lumatune.stages.lut import LutParams, apply_lut, apply_lut_fast, lut_plan

IDENTITY_TOLERANCE = 2e-5
"""An identity table through encode -> tetrahedral -> decode (exact in the encoded domain; float32 steps)."""
FAST_TOLERANCE = 5e-5
"""Fast vs plain, linear units: tabulated transfer curves (16384 intervals) instead of the exact ones."""


def _loaded(file, **params) -> LutParams:
    """LutParams as the look loader makes them: the file's table read in."""
    return LutParams(file=str(file), table=load_lut(file), **params)


def _identity(size: int) -> np.ndarray:
    g = np.linspace(0.0, 1.0, size, dtype=np.float32)
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1)


def _warm_table(size: int) -> np.ndarray:
    t = _identity(size)
    return np.stack([t[..., 0] ** 0.9, t[..., 1], t[..., 2] ** 1.15 * 0.95], axis=-1).astype(np.float32)


def _write(tmp_path, table, name="t.cube", **domain) -> str:
    return str(write_cube(tmp_path / name, Lut(table=table, **domain)))


def _in_gamut_scene(seed: int = 0) -> np.ndarray:
    """Linear Rec.2020 colours that are inside sRGB and below 1, so that the display round trip is lossless."""
    from lumatune.colour.spaces import matrix_rec2020_to

    rng = np.random.default_rng(seed)
    srgb = rng.uniform(0.02, 0.95, (32, 40, 3))
    return (srgb @ np.linalg.inv(matrix_rec2020_to("srgb")).T).astype(np.float32)


def test_no_file_or_no_strength_makes_no_plan(tmp_path):
    assert lut_plan(LutParams()) is None
    assert lut_plan(_loaded(_write(tmp_path, _identity(2)), strength=0.0)) is None


@pytest.mark.parametrize("space", ["srgb", "p3", "rec2020"])
def test_identity_display_table_changes_nothing(tmp_path, space):
    plan = lut_plan(_loaded(_write(tmp_path, _identity(9)), space=space))
    scene = _in_gamut_scene()
    np.testing.assert_allclose(apply_lut(scene, plan), scene, atol=IDENTITY_TOLERANCE)
    np.testing.assert_allclose(apply_lut_fast(scene.copy(), plan), scene, atol=IDENTITY_TOLERANCE)


def test_identity_linear_table_clamps_to_its_domain(tmp_path):
    path = _write(tmp_path, _identity(5) * 2.0, domain_min=np.zeros(3), domain_max=np.full(3, 2.0))
    plan = lut_plan(_loaded(path, space="rec2020_linear"))
    scene = np.array([[[0.5, 1.5, 0.1], [3.0, -0.5, 1.0]]], np.float32)
    np.testing.assert_allclose(apply_lut(scene, plan), [[[0.5, 1.5, 0.1], [2.0, 0.0, 1.0]]], atol=1e-6)


def test_strength_blends_in_the_table_space(tmp_path):
    from lumatune.colour.spaces import encode_oetf, matrix_rec2020_to

    path = _write(tmp_path, _warm_table(17))
    full = apply_lut(_in_gamut_scene(), lut_plan(_loaded(path)))
    half = apply_lut(_in_gamut_scene(), lut_plan(_loaded(path, strength=0.5)))

    def encoded(rgb):
        return encode_oetf(np.clip(rgb @ matrix_rec2020_to("srgb").T.astype(np.float32), 0, 1), "srgb")

    np.testing.assert_allclose(encoded(half), 0.5 * (encoded(full) + encoded(_in_gamut_scene())), atol=1e-4)


def test_one_dimensional_table(tmp_path):
    curve = np.repeat(np.linspace(0, 1, 33, dtype=np.float32)[:, None] ** 2, 3, axis=1)
    plan = lut_plan(_loaded(_write(tmp_path, curve, name="c.cube"), space="rec2020_linear"))
    scene = np.full((2, 2, 3), 0.5, np.float32)
    np.testing.assert_allclose(apply_lut_fast(scene, plan), 0.25, atol=2e-3)


@pytest.mark.parametrize("space", ["srgb", "rec2020_linear"])
def test_fast_pass_agrees_with_plain(tmp_path, space):
    domain = {"domain_max": np.full(3, 2.0)} if space == "rec2020_linear" else {}
    plan = lut_plan(_loaded(_write(tmp_path, _warm_table(33), **domain), space=space, strength=0.8))
    rng = np.random.default_rng(2)
    scene = (rng.random((40, 50, 3), dtype=np.float32) ** 2 * 1.3 - 0.02).astype(np.float32)
    np.testing.assert_allclose(apply_lut_fast(scene.copy(), plan), apply_lut(scene, plan), atol=FAST_TOLERANCE)
