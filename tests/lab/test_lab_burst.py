"""``lumatune lab burst``: PSNR, gain and ghosting against closed forms, on DNGs written with known noise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lumatune.io.dng import write_dng
from lumatune.lab.burst import measure_burst

WHITE = 65535
PSNR_TOLERANCE_DB = 0.15
"""Sampling error of a PSNR over ~20 000 Gaussian samples is ~0.03 dB; the rest is 16-bit rounding."""


def _write(path, values, baseline=0.0):
    dn = np.clip(np.rint(values * WHITE / 2**baseline), 0, WHITE).astype(np.uint16)
    write_dng(path, dn, white_level=WHITE, color_matrix_1=np.eye(3), baseline_exposure=baseline)


@pytest.fixture()
def burst(tmp_path):
    rng = np.random.default_rng(5)
    clean = 0.2 + 0.3 * rng.random((128, 160))
    moving = np.zeros(clean.shape, dtype=bool)
    moving[40:80, 50:110] = True
    static = ~moving
    np.savez(tmp_path / "truth.npz", reference=clean.astype(np.float32), static_mask=static, moving_mask=moving)
    (tmp_path / "truth.json").write_text(
        json.dumps(
            {"kind": "lumatune-sim-burst-truth", "reference": "ref.dng", "arrays": "truth.npz", "frames": [{}] * 8}
        )
    )
    _write(tmp_path / "ref.dng", clean + rng.normal(0, 0.04, clean.shape))
    return tmp_path, clean, moving, rng


def test_psnr_gain_and_ghosting_match_closed_forms(burst):
    folder, clean, moving, rng = burst
    merged = clean + rng.normal(0, 0.01, clean.shape)
    merged[moving] += 0.05  # a ghost: the moving region is off by 0.05
    _write(folder / "merged.dng", merged, baseline=1.0)  # headroom: stored at half scale, BaselineExposure +1
    result = measure_burst(folder / "merged.dng", folder / "truth.json")
    assert result["psnr_static_reference_db"] == pytest.approx(-20 * math.log10(0.04), abs=PSNR_TOLERANCE_DB)
    assert result["psnr_static_merged_db"] == pytest.approx(-20 * math.log10(0.01), abs=PSNR_TOLERANCE_DB)
    assert result["gain_static_db"] == pytest.approx(20 * math.log10(4), abs=2 * PSNR_TOLERANCE_DB)
    ghost = -10 * math.log10(0.05**2 + 0.01**2)
    assert result["psnr_moving_merged_db"] == pytest.approx(ghost, abs=PSNR_TOLERANCE_DB)
    assert result["ghosting_db"] == pytest.approx(-20 * math.log10(0.04) - ghost, abs=2 * PSNR_TOLERANCE_DB)
    assert result["headroom_stops"] == pytest.approx(1.0)


def test_not_a_burst_truth_is_one_clear_error(burst):
    from lumatune.errors import BadFileError

    folder = burst[0]
    (folder / "other.json").write_text(json.dumps({"kind": "lumatune-sim-truth"}))
    with pytest.raises(BadFileError, match="not a burst truth"):
        measure_burst(folder / "ref.dng", folder / "other.json")
