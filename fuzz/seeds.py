"""Seed corpora for the fuzz targets, written on the spot from the project's own writers (nothing stored).

A fuzzer mutates its seeds, so each seed here carries as many of the structures the target parses as it can:
a DNG with every colour tag lumatune reads and a GainMap opcode list; the built-in looks and a tuning file.

The imports sit at the top, so that ``fuzz/run.py`` (which imports this module first) loads lumatune in its main
thread: its pool threads then write the seeds without importing. Two threads making the first imports of two
lumatune modules deadlock on Python's module locks (``_DeadlockError``): each holds its module's lock while the
package ``lumatune`` it needs is being imported by the other, whose ``__init__`` wants the first module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lumatune.config.look import builtin_looks
from lumatune.io.dng import write_dng
from lumatune.raw.opcodes import (
    FixVignetteRadial,
    WarpFisheye,
    WarpRectilinear,
    WarpRectilinear2,
    encode_opcode,
    encode_opcode_list,
    gain_map_opcode,
)

SHARED_DNG = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw" / "lg_g4_h815_lossy_linear.dng"
"""A real phone DNG beside the project, added to the DNG seeds when present."""


def _lens_opcodes() -> bytes:
    """An OpcodeList3 with one opcode of each lens form (DNG 1.6 chapter 7), the second warp flagged optional."""
    opcodes = [
        FixVignetteRadial(np.array([0.3, 0.1, 0.0, 0.0, 0.0]), (0.5, 0.5)),
        WarpRectilinear(np.array([[1.0, -0.05, 0.0, 0.0]] * 3), np.full((3, 2), 1e-3), (0.5, 0.5)),
        WarpRectilinear2(np.array([[1.0, 0.0, 0.03] + [0.0] * 12]), np.zeros((1, 2)), np.array([[0.0, 1.0]]),
                         (0.5, 0.5), True, 1),
        WarpFisheye(np.array([[1.0, 0.05, 0.0, 0.0]]), (0.5, 0.5)),
    ]
    return encode_opcode_list([encode_opcode(op) for op in opcodes])


def dng_seeds(folder: Path) -> list[Path]:
    """Small DNGs with every tag :func:`lumatune.raw.read_dng_tags` reads (8 x 8 pixels keep them short)."""
    folder.mkdir(parents=True, exist_ok=True)
    mosaic = np.arange(64, dtype=np.uint16).reshape(8, 8) * 60 + 64
    matrix_1 = [[0.7, -0.2, -0.05], [-0.4, 1.2, 0.2], [-0.1, 0.2, 0.6]]
    matrix_2 = [[0.9, -0.3, 0.01], [-0.35, 1.1, 0.25], [-0.05, 0.15, 0.45]]
    forward = [[0.6, 0.25, 0.1142], [0.2, 0.85, -0.05], [0.01, -0.2, 1.0142]]
    gains = encode_opcode_list([gain_map_opcode(np.full((2, 3), 1.1, np.float32), (8, 8), row_pitch=2, col_pitch=2)])
    full = write_dng(
        folder / "full.dng", mosaic, cfa_pattern="GRBG", black_level=[64, 65, 66, 64], white_level=4095,
        color_matrix_1=matrix_1, calibration_illuminant_1=17, color_matrix_2=matrix_2, calibration_illuminant_2=21,
        forward_matrix_1=forward, forward_matrix_2=forward, camera_calibration_1=np.eye(3), analog_balance=[1, 1, 1],
        as_shot_neutral=[0.5, 1.0, 0.7], baseline_exposure=0.35, noise_profile=[[1e-4, 1e-6]] * 3,
        linearization_table=np.arange(4096, dtype=np.uint16), default_crop=(1, 1, 6, 6), opcode_list_2=gains,
        opcode_list_3=_lens_opcodes(),
        iso=200, exposure_time=0.01, f_number=2.8, lens_model="seed lens",
    )
    plain = write_dng(folder / "plain.dng", mosaic, color_matrix_1=matrix_1, white_level=4095)
    seeds = [full, plain]
    if SHARED_DNG.is_file():
        seeds.append(folder / SHARED_DNG.name)
        seeds[-1].write_bytes(SHARED_DNG.read_bytes())
    return seeds


TUNING_SEED = """version = 1
camera = "seed camera"

[levels]
black_level = 64
white_level = 4095

[white_balance]
method = "auto"

[lens_shading]
strength = 0.5
gains = { r = [[1.2, 1.0], [1.0, 1.2]], g = [[1.1, 1.0], [1.0, 1.1]], b = [[1.3, 1.0], [1.0, 1.3]] }

[demosaic]
enabled = true
"""


def toml_seeds(folder: Path) -> list[Path]:
    """The built-in looks, a look that inherits one, and a tuning file."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = []
    for name, path in sorted(builtin_looks().items()):
        seeds.append(folder / f"{name}.toml")
        seeds[-1].write_bytes(path.read_bytes())
    seeds.append(folder / "inherits.toml")
    seeds[-1].write_text('version = 1\nname = "brighter"\nbase = "default"\n\n[exposure]\nev = 0.5\n')
    seeds.append(folder / "tuning.toml")
    seeds[-1].write_text(TUNING_SEED)
    return seeds
