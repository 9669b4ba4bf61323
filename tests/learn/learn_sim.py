"""Simulated pairs for the look-learning tests: virtual-camera raws and their renderings in a secret look.

The fixtures that build them are in conftest.py.

The secret look is chosen here, in the look file's own terms but outside what the learner fits exactly: a
tone curve with hue preservation, a hue table, and a 3-D LUT over the sRGB rendering (the learner fits a
per-channel curve and a LUT over Rec.2020). Targets are stored as JPEGs (quality 95, 4:2:0), turned a
quarter and shrunk to 3/4, as a camera preview or an export would be.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SECRET_TOML = """version = 1
name = "secret"
base = "neutral"

[exposure]
ev = 0.3

[tone]
curve = "points"
points = [[0.0, 0.02], [0.15, 0.1], [0.4, 0.42], [0.7, 0.78], [1.0, 0.97]]
hue_preservation = 0.3

[colour]
saturation = 1.1
hue_shift = [5.0, 0.0, -6.0, 8.0, 0.0, -5.0, 0.0, 3.0]
hue_saturation = [0.1, 0.05, 0.0, 0.15, 0.0, 0.1, 0.0, 0.0]
hue_lightness = [0.0, 0.0, 0.1, -0.2, 0.0, -0.15, 0.0, 0.0]

[lut]
file = "secret.cube"
space = "srgb"
"""

TRAIN_SCENES = (
    ("natural", "D65", (288, 192), 0.0),
    ("chart-wide", "D50", (270, 180), 0.0),
    ("colorchecker", "3200K", (240, 160), 0.0),
    ("natural", "A", (270, 180), -0.3),
)
VALIDATION_SCENES = (("natural", "6500K", (240, 160), 0.2),)
TEST_SCENES = (("natural", "5000K", (258, 172), 0.3), ("colorchecker", "D65", (240, 160), 0.3))
LUT_SIZE = 17
"""Lattice points per axis of the learned LUT in the sim fit."""
NONLINEAR_SAMPLES = 3000
"""Samples the sim fit's nonlinear stages use at most."""
HELD_SEED = 1
"""Seed of the held-out (validation) samples the fit chooses its stages on and reports its error for."""
TARGET_TURNS = 1
"""Counter-clockwise quarter turns applied to every target (PIL ``rotate(90)``)."""
TARGET_SCALE = 0.75


def secret_lut(size: int = 17) -> np.ndarray:
    """A smooth grade over sRGB-encoded colours: warm highlights, cool shadows, a little more colour."""
    grid = np.linspace(0.0, 1.0, size)
    rgb = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1)
    luma = (rgb @ np.array([0.2126, 0.7152, 0.0722]))[..., None]
    out = rgb + np.array([0.03, 0.0, -0.04]) * (luma - 0.4) * 1.5 + 0.06 * (rgb - luma) * (1.0 - luma)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def as_jpeg_target(image: np.ndarray, *, turns: int = TARGET_TURNS, scale: float = TARGET_SCALE) -> np.ndarray:
    """A rendering as a camera would store it: turned, shrunk, 8-bit JPEG (4:2:0); back as float sRGB."""
    from PIL import Image

    pil = Image.fromarray(np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)).rotate(90 * turns, expand=True)
    pil = pil.resize((round(pil.width * scale), round(pil.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    pil.save(buffer, "JPEG", quality=95)
    return np.asarray(Image.open(buffer).convert("RGB")).astype(np.float32) / np.float32(255.0)


@dataclass(frozen=True)
class SimPair:
    dng: Path
    secret: np.ndarray  # develop(raw, secret look): upright, full size
    target: np.ndarray  # as_jpeg_target(secret)


def simulate_raw(folder: Path, name: str, scene: str, illuminant: str, size, ev: float, seed: int, **options) -> Path:
    from lumatune.sim import simulate, write_sim

    result = simulate(scene, illuminant=illuminant, size=size, ev=ev, seed=seed, **options)
    return write_sim(folder / f"{name}.dng", result, overwrite=True)[0]


def secret_pairs(folder: Path, secret: Path, tag: str, scenes) -> list[SimPair]:
    import lumatune

    pairs = []
    for i, (scene, illuminant, size, ev) in enumerate(scenes):
        dng = simulate_raw(folder, f"{tag}{i}", scene, illuminant, size, ev, seed=i + 1)
        rendered = lumatune.develop(dng, look=secret)
        pairs.append(SimPair(dng=dng, secret=rendered, target=as_jpeg_target(rendered)))
    return pairs
