"""Tests of lumatune.stages.demosaic: references, quality against bilinear, borders, errors (fast vs plain:
test_twins.py).

The quality tests mosaic synthetic ground-truth RGB images made here with numpy (a neutral zone plate and a
natural-like image: sharp-edged shapes in a smooth luminance field, times a smooth chroma field, slightly
blurred like a lens would), demosaic them and compare with the truth.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from synthetic import XTRANS

from lumatune.errors import UnsupportedError
from lumatune.stages.demosaic import (
    DEFAULT_METHODS,
    DEMOSAIC_METHODS,
    STAGE,
    DemosaicParams,
    demosaic,
    demosaic_bilinear,
    demosaic_markesteijn_fast,
    demosaic_menon2007,
    pad_mirrored_mosaic,
    rows_demosaic,
)

BAYER = {
    "RGGB": np.array([[0, 1], [1, 2]]),
    "BGGR": np.array([[2, 1], [1, 0]]),
    "GRBG": np.array([[1, 0], [2, 1]]),
    "GBRG": np.array([[1, 2], [0, 1]]),
}
XTRANS_PHASES = [np.roll(XTRANS, (-i, -j), axis=(0, 1)) for i in range(6) for j in range(6)]

SIZE = 128
"""Side of the synthetic test images (pixels)."""
METRIC_BORDER = 8
"""Pixels left out at each edge when measuring quality (borders are tested on their own)."""

REFERENCE_ATOL = 1e-5
"""Plain Menon vs colour-demosaicing (float32 vs float64 arithmetic), away from the borders."""
REFERENCE_BORDER = 6
"""colour-demosaicing zero-pads the 5x5 decision window; we reflect the image: they differ this close to an edge."""

MEASURED_QUALITY = {
    # (CFA, image): (smallest PSNR gain over bilinear in dB, largest false colour / bilinear's), over every
    # Bayer phase and both Menon variants / all 36 X-Trans phases; measured 2026-12-07 (numpy 2.4.6, numba 0.68.1).
    ("bayer", "zone plate"): (10.81, 0.221),
    ("bayer", "natural"): (6.90, 0.630),
    ("xtrans", "zone plate"): (12.65, 0.138),
    ("xtrans", "natural"): (8.08, 0.412),
    # RCD, every Bayer phase, measured 2026-12-07: far better than Menon on the natural image, far worse near
    # Nyquist (its direction filter has no response at 0.5 cycles/pixel, see lumatune.stages.demosaic.rcd)
    ("rcd", "zone plate"): (3.71, 0.549),
    ("rcd", "natural"): (12.64, 0.381),
}
"""What the demosaics reach on the synthetic images (was one limit for all: 5 dB gain, 0.7 false colour)."""
PSNR_GAIN_MARGIN_DB = 1.0
"""A demosaic must beat bilinear PSNR by the measured gain less this (float32 arithmetic, FFT blur of the
test images and BLAS differ between library versions by far less than 0.1 dB)."""
FALSE_COLOUR_MARGIN = 1.10
"""... and have at most the measured false-colour ratio times this (10 %)."""


def min_psnr_gain_db(cfa: str, image: str) -> float:
    return MEASURED_QUALITY[cfa, image][0] - PSNR_GAIN_MARGIN_DB


def max_false_colour_ratio(cfa: str, image: str) -> float:
    return MEASURED_QUALITY[cfa, image][1] * FALSE_COLOUR_MARGIN
BORDER_ATOL = 0.02
"""Largest error on the outermost pixels of a smooth gradient (a dark frame or NaN would fail)."""


def _fft_blur(plane: np.ndarray, sigma: float) -> np.ndarray:
    fy = np.fft.fftfreq(plane.shape[0])[:, None]
    fx = np.fft.fftfreq(plane.shape[1])[None, :]
    gain = np.exp(-((fx**2 + fy**2) * (2 * np.pi * sigma) ** 2) / 2)
    return np.real(np.fft.ifft2(np.fft.fft2(plane) * gain))


def zone_plate(size: int, max_frequency: float = 0.5) -> np.ndarray:
    """Neutral zone plate: frequency grows linearly from the centre to ``max_frequency`` cycles/pixel at the edges."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    plane = 0.5 + 0.4 * np.cos(np.pi * max_frequency / (size / 2) * (x * x + y * y))
    return np.repeat(plane[..., None], 3, axis=-1).astype(np.float32)


def natural_image(size: int, seed: int = 0, supersample: int = 4) -> np.ndarray:
    """Sharp-edged discs and bars in a smooth luminance field, times a smooth chroma field, lens-blurred."""
    rng = np.random.default_rng(seed)

    def smooth_field(sigma: float) -> np.ndarray:
        field = _fft_blur(rng.standard_normal((size, size)), sigma)
        return (field - field.min()) / (field.max() - field.min())

    luminance = 0.25 + 0.5 * smooth_field(6)
    n = size * supersample
    yy, xx = (np.mgrid[:n, :n] + 0.5) / supersample
    for _ in range(16):
        cy, cx = rng.uniform(0, size, 2)
        radius = rng.uniform(size / 20, size / 5)
        if rng.random() < 0.5:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
        else:
            angle = rng.uniform(0, np.pi)
            u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
            v = (yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle)
            inside = (np.abs(u) < radius) & (np.abs(v) < radius / 4)
        cover = inside.reshape(size, supersample, size, supersample).mean(axis=(1, 3))
        luminance = luminance * (1 - cover) + cover * rng.uniform(0.05, 0.9)
    chroma = np.stack([0.6 + 0.8 * smooth_field(12) for _ in range(3)], axis=-1)
    rgb = luminance[..., None] * chroma
    return np.stack([_fft_blur(rgb[..., c], 0.5) for c in range(3)], axis=-1).astype(np.float32)


def mosaic_of(rgb: np.ndarray, cfa: np.ndarray) -> np.ndarray:
    """Sample ``rgb`` through ``cfa`` (phase at pixel (0, 0))."""
    n = cfa.shape[0]
    h, w = rgb.shape[:2]
    channel = np.tile(cfa, (-(-h // n), -(-w // n)))[:h, :w]
    return np.take_along_axis(rgb, channel[..., None], axis=-1)[..., 0]


def psnr_db(image: np.ndarray, truth: np.ndarray) -> float:
    b = METRIC_BORDER
    error = (image[b:-b, b:-b] - truth[b:-b, b:-b]).astype(np.float64)
    return float(10 * np.log10(1 / np.mean(error**2)))


def false_colour(image: np.ndarray, truth: np.ndarray) -> float:
    """Mean |error of R - G| + |error of B - G|: chroma the demosaic added or lost."""
    b = METRIC_BORDER
    e = (image[b:-b, b:-b] - truth[b:-b, b:-b]).astype(np.float64)
    return float(np.mean(np.abs(e[..., 0] - e[..., 1]) + np.abs(e[..., 2] - e[..., 1])))


@pytest.fixture(scope="module")
def truths() -> dict[str, np.ndarray]:
    return {"zone plate": zone_plate(SIZE), "natural": natural_image(SIZE)}


@pytest.fixture(scope="module")
def random_mosaic() -> np.ndarray:
    """Blurred noise with values up to 2 (white-balanced highlights), odd size."""
    rng = np.random.default_rng(1)
    return (2 * _fft_blur(rng.random((67, 91)), 0.7)).astype(np.float32)


class TestReference:
    @pytest.mark.parametrize("name", sorted(BAYER))
    def test_menon2007_matches_colour_demosaicing(self, name, truths):
        from colour_demosaicing import demosaicing_CFA_Bayer_Menon2007

        mosaic = mosaic_of(truths["natural"], BAYER[name])
        ours = demosaic_menon2007(mosaic, BAYER[name])
        theirs = demosaicing_CFA_Bayer_Menon2007(mosaic.astype(np.float64), name)
        b = REFERENCE_BORDER
        np.testing.assert_allclose(ours[b:-b, b:-b], theirs[b:-b, b:-b], atol=REFERENCE_ATOL, rtol=0)


class TestQuality:
    @pytest.mark.parametrize("method", ["menon2007", "menon2007_clamped", "rcd"])
    @pytest.mark.parametrize("image", ["zone plate", "natural"])
    @pytest.mark.parametrize("name", sorted(BAYER))
    def test_bayer_beats_bilinear(self, name, image, method, truths):
        truth = truths[image]
        mosaic = mosaic_of(truth, BAYER[name])
        ours = DEMOSAIC_METHODS[method](mosaic, BAYER[name])
        bilinear = demosaic_bilinear(mosaic, BAYER[name])
        figures = "rcd" if method == "rcd" else "bayer"
        assert psnr_db(ours, truth) >= psnr_db(bilinear, truth) + min_psnr_gain_db(figures, image)
        assert false_colour(ours, truth) <= max_false_colour_ratio(figures, image) * false_colour(bilinear, truth)

    def test_rcd_is_bounded_on_noise_about_black(self):
        """Black-subtracted noise is negative at half the pixels: RCD's low-pass ratio must not blow up there
        (measured: the largest output 1.29x the largest input; without the floor at 0 it was 63x)."""
        rng = np.random.default_rng(4)
        mosaic = (0.002 * rng.standard_normal((64, 96))).astype(np.float32)
        rgb = DEMOSAIC_METHODS["rcd"](mosaic, BAYER["RGGB"])
        assert np.isfinite(rgb).all()
        assert np.abs(rgb).max() <= 2 * np.abs(mosaic).max()

    @pytest.mark.parametrize("image", ["zone plate", "natural"])
    def test_xtrans_beats_bilinear_in_all_36_phases(self, image, truths):
        truth = truths[image][:96, :96]
        for phase, cfa in enumerate(XTRANS_PHASES):
            mosaic = mosaic_of(truth, cfa)
            ours, bilinear = demosaic_markesteijn_fast(mosaic, cfa), demosaic_bilinear(mosaic, cfa)
            assert psnr_db(ours, truth) >= psnr_db(bilinear, truth) + min_psnr_gain_db("xtrans", image), phase
            limit = max_false_colour_ratio("xtrans", image) * false_colour(bilinear, truth)
            assert false_colour(ours, truth) <= limit, phase


CFAS = [*BAYER.values(), XTRANS, XTRANS_PHASES[20]]
METHODS_FOR = {2: ["bilinear", "menon2007", "menon2007_clamped", "rcd"], 6: ["bilinear", "markesteijn"]}
CASES = [(cfa, method) for cfa in CFAS for method in METHODS_FOR[cfa.shape[0]]]
CASE_IDS = [f"{method}-{''.join('RGB'[c] for c in cfa.ravel()[:cfa.shape[0]])}" for cfa, method in CASES]


class TestImage:
    @pytest.mark.parametrize(("cfa", "method"), CASES, ids=CASE_IDS)
    def test_flat_field_stays_flat(self, cfa, method):
        mosaic = np.full((31, 45), 0.3, dtype=np.float32)
        rgb = demosaic(mosaic, cfa, method)
        assert rgb.dtype == np.float32 and rgb.shape == (31, 45, 3)
        np.testing.assert_allclose(rgb, 0.3, atol=1e-6)

    @pytest.mark.parametrize(("cfa", "method"), CASES, ids=CASE_IDS)
    def test_borders_are_neither_dark_nor_nan(self, cfa, method):
        y, x = np.mgrid[:41, :53] / 53.0
        truth = np.stack([0.2 + 0.3 * x, 0.3 + 0.2 * y, 0.25 + 0.1 * (x + y)], axis=-1).astype(np.float32)
        rgb = demosaic(mosaic_of(truth, cfa), cfa, method)
        assert np.isfinite(rgb).all()
        frame = np.ones(truth.shape[:2], dtype=bool)
        frame[2:-2, 2:-2] = False
        assert np.abs(rgb - truth)[frame].max() <= BORDER_ATOL

    @pytest.mark.parametrize(("cfa", "method"), CASES, ids=CASE_IDS)
    def test_highlights_above_one_are_kept(self, cfa, method, random_mosaic):
        assert demosaic(random_mosaic, cfa, method).max() > 0.9 * random_mosaic.max() > 1

    def test_bilinear_keeps_measured_samples(self, random_mosaic):
        for cfa in CFAS:
            np.testing.assert_array_equal(mosaic_of(demosaic_bilinear(random_mosaic, cfa), cfa), random_mosaic)

    def test_default_method_follows_the_cfa(self, random_mosaic):
        for cfa in (BAYER["GRBG"], XTRANS):
            default = DEMOSAIC_METHODS[DEFAULT_METHODS[cfa.shape]]
            np.testing.assert_array_equal(demosaic(random_mosaic, cfa), default(random_mosaic, cfa))
        assert DEFAULT_METHODS == {(2, 2): "menon2007_clamped", (6, 6): "markesteijn"}


class TestBands:
    @pytest.mark.parametrize(("cfa", "method"), [case for case in CASES if case[1] != "bilinear"],
                             ids=[i for i, case in zip(CASE_IDS, CASES) if case[1] != "bilinear"])
    def test_bands_equal_the_whole_image(self, cfa, method):
        """Bands of rows (any CFA-aligned split, one thread or several) give the whole image's floats: each tile
        reads its margin from the whole mosaic. 150 x 301 spans several tiles of every kernel, the last ones
        partial."""
        mosaic = np.random.default_rng(5).random((150, 301), dtype=np.float32)
        whole = demosaic(mosaic, cfa, method)
        rows = rows_demosaic(mosaic, cfa, method)
        period = cfa.shape[0]
        cuts = [0, 2 * period, 10 * period, 150]
        bands = [rows(start, stop, threads=threads) for (start, stop), threads in zip(zip(cuts, cuts[1:]), (1, 2, 3))]
        np.testing.assert_array_equal(np.concatenate(bands), whole)


class TestPadding:
    @pytest.mark.parametrize("cfa", [BAYER["GBRG"], *XTRANS_PHASES[::7]])
    def test_pad_keeps_the_cfa_period(self, cfa):
        """A mosaic whose values are its colours, padded by a multiple of the period, is the periodic CFA."""
        colours = mosaic_of(np.broadcast_to(np.arange(3, dtype=np.float32), (19, 29, 3)), cfa)
        padded = pad_mirrored_mosaic(colours, cfa, 12)
        np.testing.assert_array_equal(padded, mosaic_of(np.broadcast_to(np.arange(3.0), (43, 53, 3)), cfa))

    def test_pad_is_reflection_for_bayer(self, random_mosaic):
        np.testing.assert_array_equal(
            pad_mirrored_mosaic(random_mosaic, BAYER["RGGB"], 10), np.pad(random_mosaic, 10, mode="reflect")
        )


class TestErrors:
    def test_unknown_method_lists_the_valid_ones(self, random_mosaic):
        with pytest.raises(UnsupportedError, match="valid methods: default, bilinear, menon2007"):
            demosaic(random_mosaic, BAYER["RGGB"], "amaze")

    @pytest.mark.parametrize("method", ["menon2007", "menon2007_clamped", "rcd"])
    def test_bayer_method_on_xtrans(self, method, random_mosaic):
        with pytest.raises(UnsupportedError, match=f"'{method}' needs a 2x2 Bayer CFA"):
            demosaic(random_mosaic, XTRANS, method)

    def test_xtrans_method_on_bayer(self, random_mosaic):
        with pytest.raises(UnsupportedError, match="'markesteijn' needs a 6x6 X-Trans CFA"):
            demosaic(random_mosaic, BAYER["RGGB"], "markesteijn")

    def test_xtrans_method_on_a_6x6_cfa_without_diagonal_greens(self, random_mosaic):
        with pytest.raises(UnsupportedError, match="fewer than two greens"):
            demosaic(random_mosaic, np.tile(BAYER["RGGB"], (3, 3)), "markesteijn")

    @pytest.mark.parametrize(
        "cfa", [np.array([[0, 1, 2]]), np.array([[0, 1], [1, 3]]), np.array([[1, 1], [0, 2]]), np.ones((2, 2), int)]
    )
    def test_malformed_cfa(self, cfa, random_mosaic):
        with pytest.raises(UnsupportedError, match="CFA"):
            demosaic(random_mosaic, cfa, "menon2007")

    def test_malformed_mosaic(self):
        with pytest.raises(UnsupportedError, match="2-D"):
            demosaic(np.zeros((4, 4, 3), np.float32), BAYER["RGGB"])
        with pytest.raises(UnsupportedError, match="at least 6x6"):
            demosaic(np.zeros((5, 12), np.float32), XTRANS)


class TestStage:
    def test_stage_demosaics_a_mosaic(self, random_mosaic):
        frame = SimpleNamespace(raw=SimpleNamespace(is_mosaic=True, cfa=BAYER["BGGR"].astype(np.int8)))
        plan = STAGE.plan(DemosaicParams(), frame, random_mosaic)
        np.testing.assert_array_equal(STAGE.process(random_mosaic, plan), demosaic(random_mosaic, BAYER["BGGR"]))

    def test_stage_skips_linear_raws(self):
        frame = SimpleNamespace(raw=SimpleNamespace(is_mosaic=False, cfa=None))
        assert STAGE.plan(DemosaicParams(), frame, np.zeros((4, 4, 3), np.float32)) is None
