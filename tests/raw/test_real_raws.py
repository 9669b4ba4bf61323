"""Every real raw in ../shared/data/raw develops to JPEG and 16-bit TIFF at rawpy's output size."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from realraws import requires_shared, shared_raws
from lumatune.cli import main as cli_main

pytestmark = requires_shared


def _rawpy_size(path) -> tuple[int, int]:
    import rawpy

    with rawpy.imread(str(path)) as raw:
        sizes = raw.sizes
        h, w = sizes.height, sizes.width
        return (h, w) if sizes.flip in (5, 6) else (w, h)


def _run(argv) -> int:
    with pytest.raises(SystemExit) as exit_:
        cli_main(argv)
    return exit_.value.code


@pytest.mark.parametrize("raw", shared_raws(), ids=lambda p: p.name)
def test_develops_to_jpeg_and_tiff_at_rawpy_size(tmp_path, raw):
    before = raw.read_bytes()
    jpeg, tiff = tmp_path / "out.jpg", tmp_path / "out.tif"
    assert _run(["develop", str(raw), "-o", str(jpeg)]) in (0, None)
    assert _run(["develop", str(raw), "-o", str(tiff), "--look", "neutral"]) in (0, None)
    size = _rawpy_size(raw)
    with Image.open(jpeg) as image:
        assert image.size == size and image.mode == "RGB"
        assert image.info.get("icc_profile")
        exif = image.getexif()
        assert exif.get(0x0112) == 1 and "lumatune" in exif.get(0x0131, "")
        pixels = np.asarray(image, dtype=np.float32)
    with tifffile.TiffFile(tiff) as tif:
        page = tif.pages[0]
        assert page.dtype == np.uint16 and (page.shape[1], page.shape[0]) == size
    assert 10 < pixels.mean() < 245 and pixels.std() > 5  # a real picture, not black, white or flat
    assert raw.read_bytes() == before  # the original is never modified


@pytest.mark.parametrize("raw", shared_raws(), ids=lambda p: p.name)
def test_info_reports_camera_and_levels(raw, capsys):
    assert _run(["info", str(raw), "--json"]) in (0, None)
    import json

    facts = json.loads(capsys.readouterr().out)
    assert facts["make"] and facts["model"] and facts["white_level"] > 0
    assert facts["output_size"] == list(_rawpy_size(raw))


def test_missing_camera_white_balance_falls_back_to_auto():
    from lumatune.raw import open_raw

    canon = next(p for p in shared_raws() if p.name == "canon_eos_d30.crw")
    assert open_raw(canon).as_shot_neutral is None  # LibRaw reports -1: no usable as-shot white balance
    from lumatune.api import develop

    raw = open_raw(canon)
    image = develop(raw, "neutral")
    assert np.isfinite(image).all()
