"""X-Trans end to end: a 6x6-CFA DNG from the virtual camera develops through lumatune's own X-Trans demosaic."""

from __future__ import annotations

import numpy as np

import lumatune
from lumatune.lab.measure import measure
from lumatune.sim import simulate, write_sim

#: Mean CIEDE2000 on the ColorChecker the neutral look must reach on an X-Trans sim raw (Bayer reaches ~1.1).
MAX_MEAN_DE00 = 1.6


def test_xtrans_chart_is_read_demosaiced_and_colorimetric(tmp_path):
    # LibRaw reads a 6x6 CFA DNG; it needs both sides >= 512 px to decode it.
    dng, truth = write_sim(tmp_path / "xt.dng", simulate("colorchecker", cfa="XTRANS", size=(768, 512), seed=2))
    raw = lumatune.open_raw(dng)
    assert raw.cfa.shape == (6, 6) and sorted(np.bincount(raw.cfa.ravel())) == [8, 8, 20]
    image = lumatune.develop(raw, look="neutral")
    assert image.shape == (512, 768, 3)
    result = measure(np.rint(image * 65535).astype(np.uint16), truth, space="srgb")
    assert result["de00_mean"] < MAX_MEAN_DE00
