"""X-Trans end to end: a 6x6-CFA DNG from the virtual camera develops through lumatune's own X-Trans demosaic,
and is compared with LibRaw's X-Trans demosaic (rawpy) on the same raw, both measured against the sim's truth.

LibRaw develops X-Trans with ``xtrans_interpolate`` (Frank Markesteijn's algorithm, 3 passes at its default
quality; LibRaw ``dcraw_process``). Its output is asked for as lumatune's neutral look makes it: sRGB
primaries and curve, 16 bits, as-shot white balance, no auto-brightening, no highlight blending, and no
"adjust maximum" (which would rescale the image by its own brightest pixel).

Measured 2026-12-07 (numpy 2.4.6, rawpy 0.28.0 / LibRaw 0.22.2), sim seed 2, 768x512:

==================== ============ ==========
metric               lumatune     LibRaw
==================== ============ ==========
chart ΔE00 mean      1.061        2.192
slanted-edge MTF50   0.2808 c/px  0.2813
zone-plate SSIM      0.471        0.460
zone-plate PSNR      16.64 dB     15.91 dB
==================== ============ ==========

and, on the demosaic alone (the same noiseless, unblurred mosaic, camera RGB, no colour pipeline): zone plate
PSNR 23.7 dB against LibRaw's 26.6 dB. That gap is recorded by a strict xfail below.
"""

from __future__ import annotations

import numpy as np
import pytest
import rawpy

import lumatune
from lumatune.lab.measure import measure
from lumatune.sim import simulate, write_sim

SIM_SIZE = (768, 512)
"""LibRaw decodes a 6x6 CFA DNG only when both sides are at least 512 pixels."""

MAX_MEAN_DE00 = 1.061 * 1.15
"""Mean CIEDE2000 on the ColorChecker through the neutral look: measured 1.061 (2026-12-07; was a limit of 1.6),
15 % margin for library versions (colour-science, numpy, BLAS)."""

DE00_MARGIN = 0.05
"""How much lumatune's chart ΔE00 may exceed LibRaw's (measured 1.061 against 2.192)."""

MTF50_RATIO_MARGIN = 0.03
"""lumatune's slanted-edge MTF50 may be this fraction below LibRaw's (measured 0.2808 against 0.2813 c/px:
0.17 % below; the edge fit moves by about 1 % between seeds)."""

ZONE_PLATE_SSIM_MARGIN = 0.005
"""How far lumatune's zone-plate SSIM may fall below LibRaw's (measured 0.471 against 0.460)."""

DEMOSAIC_PSNR_MARGIN_DB = 0.5
"""On the demosaic alone, lumatune's zone-plate PSNR may be this far below LibRaw's (measured 23.7 against 26.6 dB:
it is not yet; see the xfail)."""

DEMOSAIC_SIZE = 512
"""Side of the demosaic-only zone plate (LibRaw's X-Trans minimum)."""
DEMOSAIC_BORDER = 16
"""Pixels left out at each edge (LibRaw's X-Trans border handling differs from ours)."""


def _libraw_srgb(dng, **options) -> np.ndarray:
    with rawpy.imread(str(dng)) as raw:
        return raw.postprocess(
            use_camera_wb=True, no_auto_bright=True, output_bps=16, gamma=(2.4, 12.92),
            output_color=rawpy.ColorSpace.sRGB, user_flip=0, adjust_maximum_thr=0.0, highlight_mode=0, **options,
        )


def _both(tmp_path_factory, scene: str) -> tuple[dict, dict]:
    folder = tmp_path_factory.mktemp(f"xtrans-{scene}")
    dng, truth = write_sim(folder / "xt.dng", simulate(scene, cfa="XTRANS", size=SIM_SIZE, seed=2))
    ours = lumatune.develop(lumatune.open_raw(dng), look="neutral")
    ours_measured = measure(np.rint(ours * 65535).astype(np.uint16), truth, space="srgb")
    return ours_measured, measure(_libraw_srgb(dng), truth, space="srgb")


def test_xtrans_chart_is_read_demosaiced_and_colorimetric(tmp_path):
    dng, truth = write_sim(tmp_path / "xt.dng", simulate("colorchecker", cfa="XTRANS", size=SIM_SIZE, seed=2))
    raw = lumatune.open_raw(dng)
    assert raw.cfa.shape == (6, 6) and sorted(np.bincount(raw.cfa.ravel())) == [8, 8, 20]
    image = lumatune.develop(raw, look="neutral")
    assert image.shape == (512, 768, 3)
    result = measure(np.rint(image * 65535).astype(np.uint16), truth, space="srgb")
    assert result["de00_mean"] < MAX_MEAN_DE00
    # LibRaw on the same raw: lumatune's colour is no worse.
    theirs = measure(_libraw_srgb(dng), truth, space="srgb")
    assert result["de00_mean"] <= theirs["de00_mean"] + DE00_MARGIN, (result["de00_mean"], theirs["de00_mean"])


def test_xtrans_edge_is_as_sharp_as_libraws(tmp_path_factory):
    ours, theirs = _both(tmp_path_factory, "slanted-edge")
    assert ours["mtf50"] >= (1 - MTF50_RATIO_MARGIN) * theirs["mtf50"], (ours["mtf50"], theirs["mtf50"])


def test_xtrans_zone_plate_is_no_worse_than_libraws(tmp_path_factory):
    ours, theirs = _both(tmp_path_factory, "zone-plate")
    assert ours["ssim"] >= theirs["ssim"] - ZONE_PLATE_SSIM_MARGIN, (ours["ssim"], theirs["ssim"])


@pytest.mark.xfail(
    strict=True,
    reason="lumatune's one-pass Markesteijn-style X-Trans demosaic is 2.9 dB behind LibRaw's 3-pass "
    "xtrans_interpolate on a noiseless, unblurred zone plate (23.7 vs 26.6 dB, 2026-12-07); issue 13",
)
def test_xtrans_demosaic_alone_is_as_sharp_as_libraws(tmp_path):
    """The same mosaic through both demosaics, linear camera RGB, no colour pipeline: a closed-form zone plate
    (0.5 + 0.4 cos(pi f r^2 / (n/2)), up to 0.5 cycles/pixel at the edges), PSNR against itself."""
    from lumatune.io.dng import write_dng
    from lumatune.stages.demosaic import demosaic_markesteijn_fast

    cfa = np.array(
        [[1, 1, 0, 1, 1, 2], [1, 1, 2, 1, 1, 0], [2, 0, 1, 0, 2, 1],
         [1, 1, 2, 1, 1, 0], [1, 1, 0, 1, 1, 2], [0, 2, 1, 2, 0, 1]]
    )
    n = DEMOSAIC_SIZE
    y, x = np.mgrid[:n, :n] - (n - 1) / 2
    truth = 0.9 * (0.5 + 0.4 * np.cos(np.pi * 0.5 / (n / 2) * (x * x + y * y)))
    mosaic = np.rint(truth * 65535).astype(np.uint16)  # neutral scene: every channel sees the same plane
    dng = write_dng(tmp_path / "zone.dng", mosaic, cfa_pattern=cfa, black_level=0, white_level=65535,
                    color_matrix_1=np.eye(3), as_shot_neutral=[1.0, 1.0, 1.0])
    ours = demosaic_markesteijn_fast(mosaic.astype(np.float32) / 65535, cfa)
    with rawpy.imread(str(dng)) as raw:
        theirs = raw.postprocess(
            output_color=rawpy.ColorSpace.raw, gamma=(1, 1), no_auto_bright=True, user_wb=[1.0, 1.0, 1.0, 1.0],
            output_bps=16, user_flip=0, adjust_maximum_thr=0.0,
        ).astype(np.float32) / 65535

    def psnr(image: np.ndarray) -> float:
        b = DEMOSAIC_BORDER
        error = image[b:-b, b:-b].astype(np.float64) - truth[b:-b, b:-b, None]
        return float(10 * np.log10(1 / np.mean(error**2)))

    assert psnr(ours) >= psnr(theirs) - DEMOSAIC_PSNR_MARGIN_DB, (psnr(ours), psnr(theirs))
