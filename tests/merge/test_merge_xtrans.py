"""X-Trans (6x6 CFA) bursts merge too: the DNG keeps the pattern (read by LibRaw) and the noise falls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rawpy

from burst_synthetic import mosaic, psnr, shifted, texture

from synthetic import XTRANS

from lumatune.cli import main as cli_main
from lumatune.io.dng import write_dng

"""Fujifilm's X-Trans layout, written out here (0 R, 1 G, 2 B)."""

WHITE, BLACK, SIGMA = 16383, 1024, 0.03
FRAMES = 4
GAIN_SHORTFALL_DB = 1.5
"""The X-Trans merge may fall this far below 10 log10 N (measured 8.3 dB for N = 4, above the ideal 6.0: the
kernel regression smooths the other frames' noise)."""

SHIFTS = [(0.0, 0.0), (2.4, -3.1), (-4.2, 1.3), (3.7, 5.5)]


def test_xtrans_burst_merges_with_its_pattern_kept(tmp_path):
    scene = texture(192, 240, seed=9)
    truth = mosaic(scene, XTRANS)
    rng = np.random.default_rng(1)
    frames = []
    for k, (dy, dx) in enumerate(SHIFTS):
        noisy = mosaic(shifted(scene, dy, dx), XTRANS) + rng.normal(0, SIGMA, truth.shape)
        dn = np.clip(np.rint(noisy * (WHITE - BLACK) + BLACK), 0, WHITE).astype(np.uint16)
        frames.append(write_dng(tmp_path / f"x{k}.dng", dn, cfa_pattern=XTRANS, black_level=BLACK, white_level=WHITE,
                                color_matrix_1=np.eye(3), noise_profile=(1e-9, SIGMA**2), make="Test", model="XT"))
    out = tmp_path / "merged.dng"
    with pytest.raises(SystemExit) as exit_:
        cli_main(["merge", *map(str, frames), "-o", str(out)])
    assert exit_.value.code in (0, None)

    def values(path):
        with rawpy.imread(str(path)) as raw:
            black = raw.black_level_per_channel[0]
            return (raw.raw_image_visible - black) / (raw.white_level - black), raw.raw_colors_visible[:6, :6] % 3

    merged, merged_pattern = values(out)
    reference, reference_pattern = values(frames[0])
    assert np.array_equal(merged_pattern, reference_pattern) and np.array_equal(reference_pattern, XTRANS)
    inner = np.zeros(truth.shape, dtype=bool)
    inner[24:-24, 24:-24] = True
    gain = psnr(merged, truth, inner) - psnr(reference, truth, inner)
    assert gain >= 10 * math.log10(FRAMES) - GAIN_SHORTFALL_DB
