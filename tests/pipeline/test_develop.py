"""End to end: a synthetic DNG with a known answer developed by the neutral look gives the scene back."""

from __future__ import annotations

import numpy as np
import pytest

import lumatune
from synthetic import PATCHES, SRGB_TO_XYZ, patch_boxes, write_chart_dng

#: Largest colour error allowed on the patches of the colorimetric rendering, in linear sRGB units
#: relative to the patch value (8-bit-free, demosaic interior only).
RELATIVE_TOLERANCE = 0.02


def _decode_srgb(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _patch_means(image: np.ndarray) -> np.ndarray:
    return np.array([image[y0:y1, x0:x1].reshape(-1, 3).mean(0) for x0, y0, x1, y1 in patch_boxes()])


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_neutral_look_is_colorimetric(tmp_path, cfa):
    exposure = 0.7
    path = write_chart_dng(tmp_path / "chart.dng", cfa=cfa, exposure=exposure)
    image = lumatune.develop(path, look="neutral")
    assert image.shape == (72, 96, 3) and image.dtype == np.float32
    measured = _patch_means(_decode_srgb(image)) / exposure
    np.testing.assert_allclose(measured, PATCHES, rtol=RELATIVE_TOLERANCE, atol=0.002)


def test_baseline_exposure_and_user_ev_scale_linear_values(tmp_path):
    path = write_chart_dng(tmp_path / "chart.dng", exposure=0.2, baseline_exposure=1.0)
    base = _patch_means(_decode_srgb(lumatune.develop(path, look="neutral")))
    brighter = _patch_means(_decode_srgb(lumatune.develop(path, look="neutral", ev=1.0)))
    np.testing.assert_allclose(base / 0.4, PATCHES, rtol=RELATIVE_TOLERANCE, atol=0.002)
    np.testing.assert_allclose(brighter / base, 2.0, rtol=0.01)


def test_clipped_highlight_is_neutral_white(tmp_path):
    path = write_chart_dng(tmp_path / "chart.dng", highlight=True)
    image = lumatune.develop(path, look="default")
    corner = image[-12:-6, -12:-6].reshape(-1, 3)
    assert corner.min() > 0.97  # white, not magenta or grey
    assert np.ptp(corner, axis=-1).max() < 0.01


def test_default_look_keeps_order_of_greys_and_stays_in_range(tmp_path):
    path = write_chart_dng(tmp_path / "chart.dng")
    image = lumatune.develop(path, look="default")
    greys = _patch_means(image)[[2, 0, 1], 1]  # dark, mid, light grey patches
    assert np.all(np.diff(greys) > 0)
    assert image.min() >= 0 and image.max() <= 1


def test_p3_output_encodes_the_same_colours(tmp_path):
    path = write_chart_dng(tmp_path / "chart.dng")
    p3 = _patch_means(_decode_srgb(lumatune.develop(path, look="neutral", space="p3")))
    # Display P3 (D65) -> XYZ, from SMPTE EG 432-1 primaries, computed here independently.
    primaries = np.array([[0.680, 0.320], [0.265, 0.690], [0.150, 0.060]])
    white = np.array([0.3127, 0.3290])
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    w = np.array([white[0] / white[1], 1.0, (1 - white.sum()) / white[1]])
    p3_to_xyz = xyz * np.linalg.solve(xyz, w)
    measured_srgb = (np.linalg.inv(SRGB_TO_XYZ) @ p3_to_xyz @ p3.T).T / 0.7
    np.testing.assert_allclose(measured_srgb, PATCHES, rtol=0.03, atol=0.003)


@pytest.mark.parametrize("cfa", ["RGGB", "GBRG"])
def test_preview_is_half_size_with_the_same_colours(tmp_path, cfa):
    path = write_chart_dng(tmp_path / "chart.dng", cfa=cfa)
    full = lumatune.develop(path, look="neutral")
    preview = lumatune.develop(path, look="neutral", preview=True)
    assert preview.shape == (36, 48, 3)
    halved = [(x0 // 2, y0 // 2, x1 // 2, y1 // 2) for x0, y0, x1, y1 in patch_boxes()]
    small = np.array([preview[y0:y1, x0:x1].reshape(-1, 3).mean(0) for x0, y0, x1, y1 in halved])
    np.testing.assert_allclose(small, _patch_means(full), atol=0.01)


@pytest.mark.parametrize("orientation, turns", [(3, 2), (6, 3), (8, 1)])
def test_orientation_is_applied_to_the_pixels(tmp_path, orientation, turns):
    upright = lumatune.develop(write_chart_dng(tmp_path / "a.dng"), look="neutral")
    rotated = lumatune.develop(write_chart_dng(tmp_path / "b.dng", orientation=orientation), look="neutral")
    np.testing.assert_allclose(rotated, np.rot90(upright, k=turns), atol=1e-6)


def test_exif_is_copied_and_orientation_reset(tmp_path):
    from PIL import Image

    path = write_chart_dng(
        tmp_path / "a.dng", orientation=6, make="Acme", model="Model 7", exposure_time=1 / 250, f_number=2.8,
        iso=400, focal_length=35.0, datetime_original="2024:05:06 07:08:09", lens_model="Acme 35mm F2.8",
    )
    raw = lumatune.open_raw(path)
    out = lumatune.save(lumatune.develop(raw), tmp_path / "a.jpg", exif=raw.exif)
    with Image.open(out) as image:
        exif = image.getexif()
        sub = exif.get_ifd(0x8769)
        assert image.size == (72, 96)
        assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Acme", "Model 7", 1)
        assert sub[0x8827] == 400 and float(sub[0x829D]) == pytest.approx(2.8)
        assert float(sub[0x829A]) == pytest.approx(1 / 250) and float(sub[0x920A]) == pytest.approx(35.0)
        assert sub[0x9003] == "2024:05:06 07:08:09" and sub[0xA434] == "Acme 35mm F2.8"
