"""Developing in bands (rows on demand, as the JPEG writer does) gives the whole image's pixels, bit for bit."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from PIL import Image
from synthetic import write_chart_dng

import lumatune
from lumatune import pipeline
from lumatune.cli import main as cli_main
from lumatune.config.look import load_look
from lumatune.stages.base import Frame
from lumatune.config.tuning import default_tuning
from lumatune.raw.opcodes import WarpRectilinear, encode_opcode, encode_opcode_list


def _run(dng, look="default", in_bands=False, **frame_options):
    frame = Frame(raw=lumatune.open_raw(dng), **frame_options)
    return pipeline.run(frame, default_tuning(), load_look(look), in_bands=in_bands), frame


@pytest.mark.parametrize("cfa", ["RGGB", "GBRG"])
@pytest.mark.parametrize("look", ["default", "neutral", "natural", "slide", "authentic", "mono"])  # sharpen,
# vignette (authentic) and grain (mono) too
def test_bands_equal_the_whole_image(tmp_path, cfa, look):
    dng = write_chart_dng(tmp_path / "chart.dng", cfa=cfa, highlight=True)
    whole, whole_frame = _run(dng, look)
    banded, banded_frame = _run(dng, look, in_bands=True)
    assert isinstance(banded, pipeline.BandedImage) and banded.shape == whole.shape
    bounds = [0, 8, 30, 48, whole.shape[0]]  # even starts, uneven heights, one band shorter than a tile
    rows = np.concatenate([banded[a:b] for a, b in pairwise(bounds)])
    assert np.array_equal(rows, whole)
    assert np.array_equal(np.asarray(banded), whole)
    assert banded.bands == len(bounds)  # four bands, then the whole image as one
    assert banded_frame.scene_clip == whole_frame.scene_clip  # the plans ran once each


@pytest.mark.parametrize("look", ["vibrant", "mono-hc", "cinema"])  # local contrast, local contrast, crop
def test_looks_with_whole_frame_stages_develop_whole(tmp_path, look):
    dng = write_chart_dng(tmp_path / "chart.dng")
    whole, whole_frame = _run(dng, look)
    fallback, fallback_frame = _run(dng, look, in_bands=True)
    assert isinstance(fallback, np.ndarray)
    assert np.array_equal(fallback, whole)  # the statuses the plans wrote were undone before the fallback
    assert fallback_frame.scene_clip == whole_frame.scene_clip and fallback_frame.notes == whole_frame.notes


def test_a_raw_to_be_turned_upright_develops_whole(tmp_path):
    dng = write_chart_dng(tmp_path / "chart.dng", orientation=6)
    image, _ = _run(dng, in_bands=True)
    assert isinstance(image, np.ndarray)


def test_odd_band_start_is_refused(tmp_path):
    banded, _ = _run(write_chart_dng(tmp_path / "chart.dng"), in_bands=True)
    with pytest.raises(ValueError, match="CFA period 2"):
        banded[3:9]


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".png"])
def test_saving_a_banded_image_matches_saving_the_whole(tmp_path, suffix):
    dng = write_chart_dng(tmp_path / "chart.dng")
    whole, _ = _run(dng)
    banded, _ = _run(dng, in_bands=True)
    lumatune.save(whole, tmp_path / f"whole{suffix}")
    lumatune.save(banded, tmp_path / f"banded{suffix}")
    assert (tmp_path / f"whole{suffix}").read_bytes() == (tmp_path / f"banded{suffix}").read_bytes()


def test_cli_jpeg_in_bands_decodes_to_the_whole_image_jpeg(tmp_path):
    dng = write_chart_dng(tmp_path / "chart.dng")
    with pytest.raises(SystemExit) as exit_:
        cli_main(["develop", str(dng), "-o", str(tmp_path / "cli.jpg")])
    assert exit_.value.code in (0, None)
    whole, _ = _run(dng)
    lumatune.save(whole, tmp_path / "whole.jpg")
    with Image.open(tmp_path / "cli.jpg") as a, Image.open(tmp_path / "whole.jpg") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_banded_jpeg_in_many_strips_decodes_to_the_whole_image_jpeg(tmp_path, monkeypatch):
    from lumatune.io import encode

    monkeypatch.setattr(encode, "JPEG_ON_DEMAND_STRIP_ROWS", 16)  # 72 rows: 5 strips, each developing its rows
    dng = write_chart_dng(tmp_path / "chart.dng", cfa="GBRG")
    whole, _ = _run(dng)
    banded, _ = _run(dng, in_bands=True)
    lumatune.save(whole, tmp_path / "whole.jpg")
    lumatune.save(banded, tmp_path / "banded.jpg")
    assert banded.bands == 5
    with Image.open(tmp_path / "whole.jpg") as a, Image.open(tmp_path / "banded.jpg") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_xtrans_bands_equal_the_whole_image_and_its_jpeg(tmp_path):
    from lumatune.sim import simulate, write_sim

    # LibRaw reads a 6x6 CFA DNG from 512 px a side; 520 rows: the last band is not a whole CFA period
    dng, _ = write_sim(tmp_path / "xt.dng", simulate("colorchecker", cfa="XTRANS", size=(600, 520), seed=4))
    whole, _ = _run(dng)
    banded, _ = _run(dng, in_bands=True)
    assert isinstance(banded, pipeline.BandedImage) and banded.row_alignment == 6
    rows = np.concatenate([banded[a:b] for a, b in pairwise([0, 48, 240, 516, 520])])
    assert np.array_equal(rows, whole)
    with pytest.raises(ValueError, match="CFA period"):
        banded[8:16]
    lumatune.save(whole, tmp_path / "whole.jpg")
    lumatune.save(banded, tmp_path / "banded.jpg")
    assert banded.bands == 4 + 3  # 520 rows: 3 strips of at most 256 rows, starting on multiples of 24 (lcm 8, 6)
    with Image.open(tmp_path / "whole.jpg") as a, Image.open(tmp_path / "banded.jpg") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    lumatune.save(whole, tmp_path / "whole.tif")
    lumatune.save(banded, tmp_path / "banded.tif")  # bands of 192 rows: lcm(64-row strips, period 6)
    assert (tmp_path / "whole.tif").read_bytes() == (tmp_path / "banded.tif").read_bytes()


def test_a_wide_sharpening_reads_its_margin_from_the_neighbouring_bands(tmp_path):
    look = tmp_path / "wide.toml"
    look.write_text('version = 1\nbase = "default"\n[sharpen]\namount = 1.5\nradius = 2.5\n')
    dng = write_chart_dng(tmp_path / "chart.dng", highlight=True)
    whole, _ = _run(dng, look)
    banded, _ = _run(dng, look, in_bands=True)
    assert banded.margin == 10  # 4 sigma, rounded up
    rows = np.concatenate([banded[a:b] for a, b in pairwise([0, 2, 24, 40, 72])])  # bands narrower than it too
    assert np.array_equal(rows, whole)


@pytest.mark.parametrize("k1", [-0.06, 0.04])  # barrel, pincushion
def test_a_lens_warp_in_bands_equals_the_whole_image(tmp_path, k1):
    warp = WarpRectilinear(np.array([[1.0, k1, 0.0, 0.0]]), np.zeros((1, 2)), (0.5, 0.5))
    dng = write_chart_dng(tmp_path / "chart.dng", opcode_list_3=encode_opcode_list([encode_opcode(warp)]))
    whole, _ = _run(dng)
    banded, _ = _run(dng, in_bands=True)
    assert banded.margin > 2  # the warp reads rows beyond a band
    rows = np.concatenate([banded[a:b] for a, b in pairwise([0, 2, 24, 40, 58, whole.shape[0]])])
    assert np.array_equal(rows, whole)


def test_grain_and_vignette_in_bands_are_where_the_rows_are(tmp_path):
    """Coarse grain (a wide blur of its own noise) and a strong vignette: each band makes its own noise rows
    around it and knows its place in the frame."""
    look = tmp_path / "grainy.toml"
    look.write_text('version = 1\nbase = "default"\n[grain]\namount = 0.2\nsize = 60\nroughness = 0.5\n'
                    '[vignette]\namount = -0.8\nmidpoint = 0.3\n')
    dng = write_chart_dng(tmp_path / "chart.dng", cfa="BGGR")
    whole, _ = _run(dng, look)
    banded, _ = _run(dng, look, in_bands=True)
    assert isinstance(banded, pipeline.BandedImage)
    rows = np.concatenate([banded[a:b] for a, b in pairwise([0, 6, 30, 64, 72])])
    assert np.array_equal(rows, whole)


def test_a_banded_image_of_several_strips_saves_the_whole_images_pixels(tmp_path):
    """600 rows: the JPEG is written in 3 strips that develop their own rows (restart markers differ from a
    whole-image encode, the pixels do not); the TIFF in 192-row bands is the same file."""
    from lumatune.sim import simulate, write_sim

    dng, _ = write_sim(tmp_path / "chart.dng", simulate("colorchecker", size=(420, 600), seed=6))
    whole, _ = _run(dng, "natural")
    banded, _ = _run(dng, "natural", in_bands=True)
    for suffix in (".jpg", ".tif"):
        lumatune.save(whole, tmp_path / f"whole{suffix}")
        lumatune.save(banded, tmp_path / f"banded{suffix}")
        with Image.open(tmp_path / f"whole{suffix}") as a, Image.open(tmp_path / f"banded{suffix}") as b:
            assert np.array_equal(np.asarray(a), np.asarray(b)), suffix
    assert banded.bands == 3 + 3  # JPEG strips of at most 256 rows, TIFF bands of 256 rows
    assert (tmp_path / "whole.tif").read_bytes() == (tmp_path / "banded.tif").read_bytes()
