"""Levels, white balance, lens shading and highlights on small synthetic mosaics with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from lumatune.stages.highlights import HighlightsPlan, desaturate_clipped
from lumatune.stages.lens_shading import gain_from_grid
from lumatune.stages.levels import LevelsPlan, normalise_levels
from lumatune.stages.linearise import linearise_table
from lumatune.stages.white_balance import apply_white_balance, grey_world_neutral, white_balance_gains

RGGB = np.array([[0, 1], [1, 2]], dtype=np.int8)
TOLERANCE = 1e-6


def test_levels_per_cfa_position():
    data = np.array([[100, 200], [300, 4095]], dtype=np.uint16)
    data = np.tile(data, (3, 3))
    black = np.array([[100.0, 200.0], [100.0, 95.0]])
    plan = LevelsPlan(black=black, scale=1.0 / (4095.0 - black))
    out = normalise_levels(data, plan)
    assert out.dtype == np.float32 and out.shape == data.shape
    expected = (np.array([[100, 200], [300, 4095]]) - black) / (4095 - black)
    np.testing.assert_allclose(out[2:4, 2:4], expected, atol=TOLERANCE)


def test_linearise_table_lookup_clamps_past_the_end():
    table = np.array([0.0, 10.0, 40.0, 90.0], dtype=np.float32)
    out = linearise_table(np.array([[0, 1], [3, 9]], dtype=np.uint16), table)
    np.testing.assert_array_equal(out, [[0, 10], [90, 90]])


def test_white_balance_gains_keep_smallest_at_one():
    gains = white_balance_gains(np.array([0.5, 1.0, 0.8]))
    np.testing.assert_allclose(gains, [2.0, 1.0, 1.25])


def test_white_balance_makes_a_grey_mosaic_neutral():
    neutral = np.array([0.5, 1.0, 0.7])
    mosaic = np.empty((8, 8), np.float32)
    for i in range(2):
        for j in range(2):
            mosaic[i::2, j::2] = 0.4 * neutral[RGGB[i, j]]
    out = apply_white_balance(mosaic.copy(), (RGGB, white_balance_gains(neutral)))
    assert np.ptp(out) < 1e-6  # every CFA site now reads the same grey


def test_grey_world_recovers_the_cast_of_a_grey_scene():
    rng = np.random.default_rng(0)
    grey = rng.uniform(0.05, 0.6, size=(64, 64)).astype(np.float32)
    neutral = np.array([0.6, 1.0, 0.75])
    mosaic = grey * np.asarray(neutral, np.float32)[RGGB[np.arange(64)[:, None] % 2, np.arange(64)[None, :] % 2]]
    estimate = grey_world_neutral(mosaic, RGGB)
    np.testing.assert_allclose(estimate, neutral, rtol=0.05)


def test_gain_grid_interpolates_corner_to_corner():
    grid = np.array([[1.0, 2.0], [3.0, 4.0]])
    gain = gain_from_grid(grid, (5, 9))
    assert gain[0, 0] == pytest.approx(1.0) and gain[-1, -1] == pytest.approx(4.0)
    assert gain[2, 4] == pytest.approx(2.5)


def test_highlights_turn_a_clipped_white_neutral_not_magenta():
    gains = np.array([2.0, 1.0, 1.5], np.float32)
    clipped = np.broadcast_to(gains, (4, 4, 3)).copy()  # a saturated pixel after white balance
    plan = HighlightsPlan(clip=gains, start=0.97)
    out = desaturate_clipped(clipped, plan)
    assert np.ptp(out, axis=-1).max() < 1e-6  # neutral
    hard = desaturate_clipped(clipped, HighlightsPlan(clip=gains, start=1.0))
    np.testing.assert_allclose(hard, 1.0)


def test_highlights_leave_unclipped_colours_alone():
    gains = np.array([2.0, 1.0, 1.5], np.float32)
    colour = np.array([[[1.2, 0.3, 0.2], [0.1, 0.5, 1.1]]], np.float32)  # bright, far from their clip levels
    out = desaturate_clipped(colour, HighlightsPlan(clip=gains, start=0.97))
    np.testing.assert_allclose(out, colour, atol=TOLERANCE)


@pytest.mark.parametrize(("number", "applied_by", "switch_off"), [
    (2, "lens_shading", "[lens_shading]\nuse_dng_gain_map = false\n"),
    (1, "linearise", "[linearise]\nuse_dng_opcode_list_1 = false\n"),
])
def test_dng_gain_map_undoes_a_known_falloff(tmp_path, number, applied_by, switch_off):
    """A chart darkened by a smooth falloff, with the GainMap that undoes it (in OpcodeList2, or in OpcodeList1
    with no black level, where multiplying the stored values is the same), develops like the plain chart; the
    lens report says which stage applied it; the tuning's switch turns it off."""
    import lumatune
    from synthetic import write_chart_dng

    from lumatune.raw.opcodes import encode_opcode_list, gain_map_opcode
    from lumatune.stages.lens import lens_report

    plain = lumatune.develop(write_chart_dng(tmp_path / "plain.dng", black=0), look="neutral")
    ys, xs = np.mgrid[0:9, 0:9] / 8.0
    gains = (1.0 + 0.8 * ((xs - 0.5) ** 2 + (ys - 0.5) ** 2)).astype(np.float32)[..., None]
    opcodes = {f"opcode_list_{number}": encode_opcode_list([gain_map_opcode(gains, (96, 72))])}
    shaded = write_chart_dng(tmp_path / "shaded.dng", black=0, exposure=0.7, falloff=gains[..., 0], **opcodes)
    corrected = lumatune.develop(shaded, look="neutral")
    assert np.abs(corrected - plain).mean() < 0.004  # 8-bit-level agreement on average
    report = lens_report(lumatune.open_raw(shaded))
    assert any(f"OpcodeList{number} #1 GainMap: applied by {applied_by}" in line for line in report)
    off = tmp_path / "off.toml"
    off.write_text(switch_off)
    assert np.abs(lumatune.develop(shaded, look="neutral", tuning=off) - plain).mean() > 0.02


def _spec_gain(gains: np.ndarray, height: int, width: int) -> np.ndarray:
    """A GainMap spanning the whole image, evaluated as DNG 1.6 chapter 7 defines it: each pixel's centre,
    relative to the image ((row + 0.5) / height), placed between the map points (MapOriginV/H 0, MapSpacingV/H
    1 / (points - 1)) and interpolated bilinearly between the four around it."""
    v = (np.arange(height) + 0.5) / height * (gains.shape[0] - 1)
    u = (np.arange(width) + 0.5) / width * (gains.shape[1] - 1)
    v0 = np.minimum(np.floor(v).astype(int), gains.shape[0] - 2)
    u0 = np.minimum(np.floor(u).astype(int), gains.shape[1] - 2)
    fv, fu = (v - v0)[:, None], (u - u0)[None, :]
    return (gains[v0][:, u0] * (1 - fv) * (1 - fu) + gains[v0 + 1][:, u0] * fv * (1 - fu)
            + gains[v0][:, u0 + 1] * (1 - fv) * fu + gains[v0 + 1][:, u0 + 1] * fv * fu)


def test_opcode_list_1_gain_map_multiplies_the_stored_values(tmp_path):
    """OpcodeList1's GainMap acts on the raw as read: stored values (black level included) times the map's gain,
    rounded and clipped to 16 bits, before any other stage (DNG 1.6, chapter 7)."""
    from synthetic import write_chart_dng

    from lumatune.pipeline.run import run
    from lumatune.raw.opcodes import encode_opcode_list, gain_map_opcode
    from lumatune.raw.read import open_raw
    from lumatune.stages.base import Frame

    plain = open_raw(write_chart_dng(tmp_path / "plain.dng", black=256))
    height, width = plain.data.shape
    ys, xs = np.mgrid[0:5, 0:7]
    gains = (0.9 + 0.05 * xs + 0.1 * ys * (ys - 2)).astype(np.float32)  # above and below 1
    opcodes = encode_opcode_list([gain_map_opcode(gains, (width, height))])
    raw = open_raw(write_chart_dng(tmp_path / "ol1.dng", black=256, opcode_list_1=opcodes))
    np.testing.assert_array_equal(raw.data, plain.data)  # the opcode is applied by the stage, not on reading
    out = run(Frame(raw=raw), None, None, select=["linearise"])
    expected = np.clip(np.rint(plain.data * _spec_gain(gains.astype(np.float64), height, width)), 0, 65535)
    assert out.dtype == np.uint16
    # one code where the product falls within float32 rounding of a half-integer
    assert np.abs(out.astype(np.int64) - expected).max() <= 1
    assert np.mean(out != expected) < 1e-3
