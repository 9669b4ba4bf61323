"""``lumatune merge``: the merged DNG read back by LibRaw (rawpy) and tifffile, and one-line errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import rawpy
import tifffile

from burst_synthetic import mosaic, shifted, texture

from lumatune.cli import main as cli_main
from lumatune.io.dng import BAYER_PATTERNS, write_dng

WHITE, BLACK = 4095, 256
SCALE_E = 400.0
"""Electrons at white: shot noise variance S x with S = 1 / SCALE_E (normalised units)."""
READ_E = 3.0
PROFILE = (1 / SCALE_E, READ_E**2 / SCALE_E**2)

NOISE_PROFILE_TOLERANCE = 0.25
"""The written NoiseProfile must predict the merged noise measured on a flat field within this fraction
(measured 0.06 on this seed; a flat field aligns to noise-driven sub-pixel shifts whose resampling smooths)."""


def _frame(path, signal, seed, *, cfa="RGGB", model="Burst Cam", exposure_time=0.01):
    """Write ``signal`` (normalised, 1 = white) with Poisson-Gaussian noise as a 12-bit DNG."""
    rng = np.random.default_rng(seed)
    electrons = rng.poisson(np.clip(signal, 0, None) * SCALE_E) + rng.normal(0, READ_E, signal.shape)
    dn = np.clip(np.rint(electrons / SCALE_E * (WHITE - BLACK) + BLACK), 0, WHITE).astype(np.uint16)
    return write_dng(
        path, dn, cfa_pattern=cfa, black_level=BLACK, white_level=WHITE, color_matrix_1=np.eye(3),
        noise_profile=PROFILE, make="Test", model=model, exposure_time=exposure_time, f_number=2.0, iso=800,
        as_shot_neutral=[0.5, 1.0, 0.6],
    )


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code or 0, capsys.readouterr()


@pytest.fixture(scope="module")
def scene():
    return mosaic(texture(96, 128, seed=2))


def test_merged_dng_opens_in_libraw_with_the_reference_layout(tmp_path, scene, capsys):
    scenes = [mosaic(shifted(texture(96, 128, seed=2), 1.5 * k, -k), BAYER_PATTERNS["GRBG"]) for k in range(3)]
    frames = [_frame(tmp_path / f"f{k}.dng", s, k, cfa="GRBG") for k, s in enumerate(scenes)]
    out = tmp_path / "merged.dng"
    code, captured = _run(["merge", *map(str, frames), "-o", str(out)], capsys)
    assert code == 0, captured.err
    with rawpy.imread(str(out)) as merged, rawpy.imread(str(frames[0])) as reference:
        assert merged.raw_image_visible.shape == reference.raw_image_visible.shape
        assert np.array_equal(merged.raw_colors_visible[:2, :2], reference.raw_colors_visible[:2, :2])
        assert merged.color_desc == reference.color_desc
        assert merged.white_level == 65535
        assert merged.camera_whitebalance[:3] == pytest.approx(reference.camera_whitebalance[:3], rel=1e-3)
    with tifffile.TiffFile(out) as tif:
        tags = tif.pages[0].tags
        assert tags["Model"].value == "Burst Cam"
        assert len(tags[51041].value) == 6  # NoiseProfile: three (S, O) pairs


def test_noise_profile_describes_the_merged_noise(tmp_path, capsys):
    flat = np.full((96, 128), 0.3)
    frames = [_frame(tmp_path / f"f{k}.dng", flat, 100 + k) for k in range(4)]
    out = tmp_path / "merged.dng"
    assert _run(["merge", *map(str, frames), "-o", str(out)], capsys)[0] == 0
    with rawpy.imread(str(out)) as raw:  # LibRaw reads the samples; the normalisation is the DNG spec's
        values = (raw.raw_image_visible.astype(np.float64) - raw.black_level_per_channel[0]) / (
            raw.white_level - raw.black_level_per_channel[0]
        )
    with tifffile.TiffFile(out) as tif:
        s, o = tif.pages[0].tags[51041].value[2:4]  # green pair
    inner = values[8:-8, 8:-8]
    measured = np.var(inner)
    predicted = s * np.mean(inner) + o
    single = PROFILE[0] * 0.3 + PROFILE[1]
    assert measured == pytest.approx(predicted, rel=NOISE_PROFILE_TOLERANCE)
    assert measured < single / 3  # four frames: a quarter of one frame's variance, nearly


def test_bracket_keeps_headroom_with_baseline_exposure(tmp_path, capsys):
    bright = np.full((96, 128), 0.5)
    bright[30:60, 40:90] = 2.0  # above the reference's white
    frames = [
        _frame(tmp_path / "ref.dng", bright, 1, exposure_time=0.01),
        _frame(tmp_path / "short.dng", bright / 4, 2, exposure_time=0.0025),
    ]
    out = tmp_path / "merged.dng"
    assert _run(["merge", *map(str, frames), "-o", str(out)], capsys)[0] == 0
    with tifffile.TiffFile(out) as tif:
        numerator, denominator = tif.pages[0].tags[50730].value  # BaselineExposure
    baseline = numerator / denominator
    assert 1.0 < baseline <= 2.0  # headroom for the highlight at 2x white (plus noise), at most the 4x the frames allow
    with rawpy.imread(str(out)) as raw:
        values = (raw.raw_image_visible.astype(np.float64) - raw.black_level_per_channel[0]) / (
            raw.white_level - raw.black_level_per_channel[0]
        )
    # the file's white is 2**baseline times the reference's: the highlight keeps its value 2, not clipped
    assert np.mean(values[36:54, 46:84]) * 2**baseline == pytest.approx(2.0, rel=0.03)
    assert np.mean(values[70:90, 10:30]) * 2**baseline == pytest.approx(0.5, rel=0.03)


def _bad(tmp_path, capsys, frames, expected):
    out = tmp_path / "merged.dng"
    code, captured = _run(["merge", *map(str, frames), "-o", str(out)], capsys)
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], captured.err
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp*"))


def test_one_frame_says_merging_needs_two(tmp_path, scene, capsys):
    _bad(tmp_path, capsys, [_frame(tmp_path / "a.dng", scene, 0)], "merging needs two frames")


def test_different_sizes(tmp_path, scene, capsys):
    frames = [_frame(tmp_path / "a.dng", scene, 0), _frame(tmp_path / "b.dng", scene[:, :64], 1)]
    _bad(tmp_path, capsys, frames, "merging needs one size")


def test_different_cfa(tmp_path, scene, capsys):
    frames = [_frame(tmp_path / "a.dng", scene, 0), _frame(tmp_path / "b.dng", scene, 1, cfa="BGGR")]
    _bad(tmp_path, capsys, frames, "merging needs one pattern")


def test_different_cameras(tmp_path, scene, capsys):
    frames = [_frame(tmp_path / "a.dng", scene, 0), _frame(tmp_path / "b.dng", scene, 1, model="Other Cam")]
    _bad(tmp_path, capsys, frames, "merging needs frames from one camera")


def test_unreadable_frame(tmp_path, scene, capsys):
    broken = tmp_path / "broken.dng"
    broken.write_bytes(b"not a raw at all")
    _bad(tmp_path, capsys, [_frame(tmp_path / "a.dng", scene, 0), broken], "broken.dng")


def test_existing_output_needs_overwrite(tmp_path, scene, capsys):
    frames = [_frame(tmp_path / "a.dng", scene, 0), _frame(tmp_path / "b.dng", scene, 1)]
    out = tmp_path / "merged.dng"
    out.write_bytes(b"keep me")
    code, captured = _run(["merge", *map(str, frames), "-o", str(out)], capsys)
    assert code == 1 and "exists" in captured.err and out.read_bytes() == b"keep me"
    code, _ = _run(["merge", *map(str, frames), "-o", str(out), "--overwrite"], capsys)
    assert code == 0 and out.read_bytes()[:2] == b"II"


def test_develop_merge_writes_one_image_named_after_the_first_frame(tmp_path, scene, capsys):
    from PIL import Image

    frames = [_frame(tmp_path / f"shot{k}.dng", scene, k) for k in range(2)]
    code, captured = _run(["develop", *map(str, frames), "--merge", "-o", str(tmp_path)], capsys)
    assert code == 0, captured.err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jpg") == ["shot0.jpg"]
    with Image.open(tmp_path / "shot0.jpg") as image:
        assert image.size == (128, 96)
    code, captured = _run(["develop", str(frames[0]), "--merge", "-o", str(tmp_path / "x.jpg")], capsys)
    assert code == 1 and "merging needs two frames" in captured.err and not (tmp_path / "x.jpg").exists()
