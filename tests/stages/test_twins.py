"""Every stage's plain numpy twin and its compiled ``_fast`` twin give the same result on the same seeded input
(DESIGN.md, "Algorithm vs schedule"; the naming convention is in :mod:`lumatune.stages._jit`).

Each row of :data:`TWINS` names a plain function, its ``_fast`` twin (same arguments; it may overwrite its input,
so it gets a copy) and a seeded input; the tolerance is a named constant, 0 where the kernel is compiled without
fast-math and repeats the numpy arithmetic operation by operation. Rows marked hostile carry NaN, infinities,
negatives and float32's largest values, as ``test_look_kernels_hostile.py`` feeds the look kernels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from synthetic import XTRANS

from lumatune.colour.spaces import SPACES
from lumatune.io.lut import load_lut
from lumatune.io.lut import Lut, write_cube
from lumatune.stages import (
    colour_matrix,
    grain,
    highlights,
    hue_sat_map,
    lens_shading,
    levels,
    look_colour,
    lut,
    mono,
    sharpen,
    tone,
    vignette,
    white_balance,
)
from lumatune.stages._cfa import affine_per_position, affine_per_position_fast
from lumatune.stages.demosaic import (
    demosaic_markesteijn,
    demosaic_markesteijn_fast,
    demosaic_menon2007,
    demosaic_menon2007_clamped,
    demosaic_menon2007_clamped_fast,
    demosaic_menon2007_fast,
    demosaic_rcd,
    demosaic_rcd_fast,
)

# --- tolerances: (absolute, relative); measured maxima on these inputs in the comments (numba 0.68.1, x86-64)

BIT_EXACT = (0.0, 0.0)
"""Kernels compiled with ``fastmath=False`` that repeat the numpy operations in the same order."""
COLOUR_MATRIX = (1e-6, 0.0)
"""Three products and two sums in float32 (numpy's matmul and the kernel may fuse or order them differently):
a few units in the last place of values up to ~3 (measured: 0)."""
HIGHLIGHTS = (5e-6, 0.0)
"""The blend's smoothstep in float32 against numpy's float32 arrays, fused or not (measured: 1.1e-6; the hard
clip: 0)."""
HUE_SAT_MAP = (2e-5, 0.0)
"""float64 in both; the plain twin goes through XYZ D50 with two more matrix products (measured: 0)."""
LENS_SHADING = (0.0, 1e-5)
"""Separable bilinear gains multiplied in another order (measured: 2.2e-7 relative)."""
TONE = (2e-5, 0.0)
"""Curve read from a table (:func:`lumatune.stages._jit.lookup_log`) instead of evaluated, OETF from polynomial
log2 and exp2 (measured: 5.4e-6, as with the OETF read from a table)."""
LOOK_COLOUR = (3e-4, 2e-3)
"""Tabulated hue (0.35 degree grid) and a cube root good to 3e-5, tripled by the cube on the way back
(measured: 4.2e-4 where the relative term allows it; 3e-4 at mid grey is 0.1 of an 8-bit code)."""
LUT = (5e-5, 0.0)
"""Transfer functions read from tables in the kernel (measured: 2.1e-6)."""
MONO = (1e-7, 1e-5)
"""One weighted sum and a tint product under FASTMATH (measured: 0)."""
SHARPEN = (1e-5, 0.0)
"""Luma and detail sums under FASTMATH; the blurs are the same OpenCV calls (measured: 4.5e-7)."""
GRAIN = (1e-6, 0.0)
"""The same noise field; one weighted sum under FASTMATH (measured: 1.2e-7)."""
VIGNETTE = (1e-5, 1e-6)
"""The weight from a smoothstep of the radius in float32 (measured: 2.4e-7 absolute, 2.9e-7 relative near
float32's largest values)."""
DEMOSAIC = BIT_EXACT
"""The tile kernels repeat the numpy arithmetic operation by operation (``fastmath=False``)."""

HOSTILE_ROWS = slice(3, 7)
"""Rows :func:`_hostile` fills with NaN, infinities and 3e38. There the twins may differ: the look kernels read
NaN as 0 and infinity as a table's end (:func:`lumatune.stages._jit.lookup`) where numpy propagates them, and
float32 overflow meets different operation orders; the test asks that the kernels run and that every other
row agrees, NaN where the plain twin has NaN (a spatial stage spreads the hostile rows over its reach)."""

# --- inputs


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _scene(seed: int, shape=(48, 64, 3)) -> np.ndarray:
    """Linear scene RGB: squares of uniform noise up to 1.8, a grey row, slightly negative and zero rows."""
    image = (_rng(seed).random(shape, dtype=np.float32) ** 2 * 1.8).astype(np.float32)
    image[0] = 0.18
    image[1, :, 1] = -0.01
    image[2] = 0.0
    return image


def _display_scene(seed: int) -> np.ndarray:
    """Scene RGB for the display transform: a grey ramp to 3 (through the clip) and an out-of-gamut row."""
    image = (_rng(seed).random((64, 96, 3), dtype=np.float32) ** 3 * 2.5 - 0.03).astype(np.float32)
    image[0] = np.linspace(0, 3, 96, dtype=np.float32)[:, None]
    image[1] = np.array([0.4, 0.02, -0.05], np.float32)
    return image


def _hostile(image: np.ndarray) -> np.ndarray:
    """``image`` with NaN, +inf and -inf rows in one channel each and a row at float32's largest value."""
    image = image.copy()
    image[3, :, 0] = np.nan
    image[4, :, 1] = np.inf
    image[5, :, 2] = -np.inf
    image[6] = np.float32(3e38)
    return image


def _mosaic(seed: int, shape=(150, 400)) -> np.ndarray:
    """Uniform noise: every edge a demosaic can meet; 150 x 400 spans several tiles of both kernels."""
    return _rng(seed).random(shape, dtype=np.float32)




def _cube(tmp_path, space: str) -> str:
    path = tmp_path / f"warm-{space}.cube"
    if path.exists():
        return str(path)
    g = np.linspace(0, 1, 33, dtype=np.float32)
    t = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1)
    warm = np.stack([t[..., 0] ** 0.9, t[..., 1], t[..., 2] ** 1.15 * 0.95], axis=-1).astype(np.float32)
    domain = {"domain_max": np.full(3, 2.0)} if space == "rec2020_linear" else {}
    return str(write_cube(path, Lut(table=warm, **domain)))


def _lut_plan(path, space: str):
    """The lut stage's plan for the table in ``path``, read as the look loader reads it."""
    return lut.lut_plan(lut.LutParams(file=str(path), table=load_lut(path), space=space, strength=0.8))


def _falloff_parts(shape: tuple[int, ...], channels: tuple[int, int], strength: float) -> list:
    """Two lens-shading parts on the odd rows (one Bayer row phase), the second grid mirrored."""
    ys, xs = np.mgrid[0:7, 0:9] / np.array([6.0, 8.0])[:, None, None]
    grid = (1.0 + 0.8 * ((xs - 0.5) ** 2 + (ys - 0.5) ** 2)).astype(np.float32)
    rows = np.arange(1, shape[0], 2)
    parts = []
    for first_col, g in ((0, grid), (1, grid[::-1])):
        u = np.arange(first_col, shape[1], 2) / (shape[1] - 1) * 8 + 0.3  # past the grid's right edge: clamped
        parts.append(lens_shading._part(g, rows / (shape[0] - 1) * 6, u, (1, 2), (first_col, 2), channels, strength))
    return parts


def _hue_sat_table() -> hue_sat_map.HueSatMap:
    rng = _rng(3)
    table = np.stack(
        [rng.uniform(-20, 20, (36, 9)), rng.uniform(0.8, 1.2, (36, 9)), rng.uniform(0.9, 1.1, (36, 9))], axis=-1
    )
    table[:, 0] = (0.0, 1.0, 1.0)  # greys untouched, as calibrated tables are
    return hue_sat_map.HueSatMap(table[None])


@dataclass(frozen=True)
class Twin:
    """A plain function, its compiled twin, and how to make their ``(image, plan)`` arguments."""

    plain: Callable
    fast: Callable
    arguments: Callable  # (tmp_path) -> (image, plan-or-argument tuple)
    tolerance: tuple[float, float]  # (absolute, relative)
    unpack: bool = False  # the second argument is a tuple of further arguments
    hostile: bool = False  # the image has the hostile rows of :func:`_hostile`


def _affine_input(n: int, dtype, shape: tuple[int, int], uniform: bool = False) -> Callable:
    def arguments(tmp_path):
        rng = _rng(n + shape[1])
        mosaic = (rng.random(shape) * 16383).astype(dtype)
        if uniform:  # one black and one scale at every position: the plain twin's contiguous path
            return mosaic, (np.full((n, n), 511.5), np.full((n, n), 1.0 / 15871.5))
        return mosaic, (rng.random((n, n)) * 600, 1.0 / (15000 + rng.random((n, n)) * 1000))

    return arguments


def _levels_input(dtype, black) -> Callable:
    def arguments(tmp_path):
        data = (_rng(3).random((9, 11, 3)) * 4000).astype(dtype)
        return data, levels.LevelsPlan(black=np.asarray(black), scale=1.0 / (4095.0 - np.asarray(black)))

    return arguments


def _white_balance_input(cfa) -> Callable:
    def arguments(tmp_path):
        shape = (16, 22) if cfa is not None else (9, 11, 3)
        return _rng(2).random(shape, dtype=np.float32), (cfa, np.array([2.1, 1.0, 1.6]))

    return arguments


def _scene_input(plan: Callable) -> Callable:
    return lambda tmp_path: (_scene(3), plan(tmp_path))


def _demosaic_input(cfa) -> Callable:
    return lambda tmp_path: (_mosaic(2), (cfa,))


BAYER = {
    "RGGB": np.array([[0, 1], [1, 2]]),
    "BGGR": np.array([[2, 1], [1, 0]]),
    "GRBG": np.array([[1, 0], [2, 1]]),
    "GBRG": np.array([[1, 2], [0, 1]]),
}
COLOUR_PARAMS = {
    "saturation": look_colour.ColourParams(saturation=1.2, vibrance=0.3),
    "hue": look_colour.ColourParams(
        hue_shift=(5, 0, -10, 0, 0, 8, 0, 0), hue_saturation=(0, 0.2, 0, -0.3, 0, 0, 0, 0.1)
    ),
    "skin": look_colour.ColourParams(hue_lightness=(0, 0, 0, -0.3, 0, -0.5, 0, 0), skin_protection=0.7, saturation=1.3),
    "split": look_colour.ColourParams(shadows_amount=0.06, highlights_amount=0.04, balance=0.5),
}
TONE_PARAMS = {
    "none": tone.ToneParams(),
    "sigmoid": tone.ToneParams(curve="sigmoid"),
    "sigmoid-hard": tone.ToneParams(
        curve="sigmoid", contrast=2.0, toe=-0.5, shoulder=0.6, black=0.004, hue_preservation=0.0
    ),
    "points": tone.ToneParams(curve="points", points=((0, 0), (0.3, 0.2), (0.7, 0.8), (1, 1)), hue_preservation=1.0),
}
CLIP = np.array([2.1, 1.0, 1.6], np.float32)
MATRIX = np.array([[1.7, -0.5, -0.2], [-0.25, 1.45, -0.2], [0.05, -0.6, 1.55]])

TWINS: dict[str, Twin] = {
    **{
        f"affine-{n}x{n}-{np.dtype(dtype).name}-{shape[0]}x{shape[1]}": Twin(
            affine_per_position, affine_per_position_fast, _affine_input(n, dtype, shape), BIT_EXACT, unpack=True
        )
        for n in (2, 6)
        for dtype in (np.uint16, np.float32)
        for shape in ((12, 18), (13, 19), (7, 5))
    },
    **{
        f"affine-uniform-{n}x{n}-{np.dtype(dtype).name}": Twin(
            affine_per_position, affine_per_position_fast, _affine_input(n, dtype, (13, 19), uniform=True),
            BIT_EXACT, unpack=True,
        )
        for n in (2, 6)
        for dtype in (np.uint16, np.float32)
    },
    **{
        f"levels-linear-{np.dtype(dtype).name}-{len(np.atleast_1d(black))}": Twin(
            levels.normalise_levels, levels.STAGE.process, _levels_input(dtype, black), BIT_EXACT
        )
        for dtype in (np.uint16, np.float32)
        for black in (64.0, [60.0, 64.0, 70.0])
    },
    **{
        f"white_balance-{name}": Twin(
            white_balance.apply_white_balance, white_balance.apply_white_balance_fast, _white_balance_input(cfa),
            BIT_EXACT,
        )
        for name, cfa in (("RGGB", BAYER["RGGB"]), ("GBRG", BAYER["GBRG"]), ("linear", None))
    },
    **{
        f"lens_shading-{channels}-{len(shape)}d-{strength}": Twin(
            lens_shading.apply_gain_parts,
            lens_shading.apply_gain_parts_fast,
            lambda tmp_path, shape=shape, channels=channels, strength=strength: (
                _rng(6).random(shape, dtype=np.float32), _falloff_parts(shape, channels, strength)
            ),
            LENS_SHADING,
        )
        for strength in (1.0, 0.4)
        for channels, shape in (((0, 1), (37, 53)), ((0, 3), (37, 53, 3)), ((1, 2), (20, 30, 3)))
    },
    **{
        f"demosaic_menon2007-{name}": Twin(
            demosaic_menon2007, demosaic_menon2007_fast, _demosaic_input(cfa), DEMOSAIC, unpack=True
        )
        for name, cfa in BAYER.items()
    },
    **{
        f"demosaic_menon2007_clamped-{name}": Twin(
            demosaic_menon2007_clamped, demosaic_menon2007_clamped_fast, _demosaic_input(cfa), DEMOSAIC, unpack=True
        )
        for name, cfa in BAYER.items()
    },
    **{
        f"demosaic_rcd-{name}": Twin(demosaic_rcd, demosaic_rcd_fast, _demosaic_input(cfa), DEMOSAIC, unpack=True)
        for name, cfa in BAYER.items()
    },
    **{
        f"demosaic_markesteijn-phase{phase}": Twin(
            demosaic_markesteijn,
            demosaic_markesteijn_fast,
            _demosaic_input(np.roll(XTRANS, (-(phase // 6), -(phase % 6)), axis=(0, 1))),
            DEMOSAIC,
            unpack=True,
        )
        for phase in (0, 5, 7, 14, 21, 28, 35)
    },
    **{
        f"highlights-{method}{'-hostile' * hostile}": Twin(
            highlights.desaturate_clipped,
            highlights.desaturate_clipped_fast,
            _scene_input(lambda tmp_path, start=start: highlights.HighlightsPlan(CLIP, start)),
            HIGHLIGHTS,
            hostile=hostile,
        )
        for method, start in (("blend", 0.9), ("clip", 1.0))
        for hostile in (False, True)
    },
    **{
        f"colour_matrix{'-hostile' * hostile}": Twin(
            colour_matrix.apply_matrix, colour_matrix.apply_matrix_fast, _scene_input(lambda tmp_path: MATRIX),
            COLOUR_MATRIX,
            hostile=hostile,
        )
        for hostile in (False, True)
    },
    "hue_sat_map": Twin(
        hue_sat_map.apply_hue_sat_map_rec2020,
        hue_sat_map.apply_hue_sat_map_rec2020_fast,
        _scene_input(lambda tmp_path: _hue_sat_table()),
        HUE_SAT_MAP,
    ),
    **{
        f"tone-{name}-{space}{'-hostile' * hostile}": Twin(
            tone.display_transform,
            tone.display_transform_fast,
            lambda tmp_path, params=params, space=space: (_display_scene(0), tone.tone_plan(params, 1.4, space)),
            TONE,
            hostile=hostile,
        )
        for name, params in TONE_PARAMS.items()
        for space in SPACES  # every output space: the fast path's OETF must be each space's own
        for hostile in (False, True)
    },
    **{
        f"look_colour-{name}{'-hostile' * hostile}": Twin(
            look_colour.adjust_colour,
            look_colour.adjust_colour_fast,
            _scene_input(lambda tmp_path, params=params: look_colour.colour_plan(params)),
            LOOK_COLOUR,
            hostile=hostile,
        )
        for name, params in COLOUR_PARAMS.items()
        for hostile in (False, True)
    },
    **{  # no hostile rows: the plain twin indexes its table with int(NaN) (lut.py tetrahedral), only the kernel clamps
        f"lut-{space}": Twin(
            lut.apply_lut,
            lut.apply_lut_fast,
            _scene_input(
                lambda tmp_path, space=space: _lut_plan(_cube(tmp_path, space), space),
            ),
            LUT,
        )
        for space in ("srgb", "rec2020_linear")
    },
    **{
        f"mono{'-hostile' * hostile}": Twin(
            mono.to_mono,
            mono.to_mono_fast,
            _scene_input(lambda tmp_path: mono.MonoPlan(
                weights=mono.mono_weights(mono.MonoParams(filter="yellow")), tint=mono.tint_colour(60.0, 0.04)
            )),
            MONO,
            hostile=hostile,
        )
        for hostile in (False, True)
    },
    **{
        f"sharpen{'-hostile' * hostile}": Twin(
            sharpen.sharpen,
            sharpen.sharpen_fast,
            _scene_input(lambda tmp_path: sharpen.sharpen_plan(
                sharpen.SharpenParams(amount=0.8, radius=1.2, threshold=0.01, local_contrast=0.3), (48, 64, 3), "srgb"
            )),
            SHARPEN,
            hostile=hostile,
        )
        for hostile in (False, True)
    },
    **{
        f"grain{'-hostile' * hostile}": Twin(
            grain.add_grain,
            grain.add_grain_fast,
            _scene_input(lambda tmp_path: grain.grain_plan(
                grain.GrainParams(amount=0.05, size=40.0, roughness=0.5, seed=3), (48, 64, 3), "srgb"
            )),
            GRAIN,
            hostile=hostile,
        )
        for hostile in (False, True)
    },
    **{
        f"vignette-{amount}{'-hostile' * hostile}": Twin(
            vignette.apply_vignette,
            vignette.apply_vignette_fast,
            _scene_input(lambda tmp_path, amount=amount: vignette.vignette_plan(
                vignette.VignetteParams(amount=amount, midpoint=0.4, roundness=0.3, feather=0.7), (48, 64, 3)
            )),
            VIGNETTE,
            hostile=hostile,
        )
        for amount in (-0.6, 0.4)
        for hostile in (False, True)
    },
}


def run_twins(twin: Twin, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """The plain and the fast result on the same input (the fast one on a copy)."""
    image, plan = twin.arguments(tmp_path)
    image = _hostile(image) if twin.hostile else image
    more = plan if twin.unpack else (plan,)
    plain = twin.plain(image.copy(), *more)
    fast = twin.fast(image.copy(), *more)
    return plain, fast


@pytest.mark.parametrize("name", sorted(TWINS))
def test_fast_twin_agrees_with_plain(name, tmp_path):
    twin = TWINS[name]
    with np.errstate(all="ignore"):  # the hostile rows overflow in numpy
        plain, fast = run_twins(twin, tmp_path)
    assert fast.dtype == plain.dtype == np.float32 and fast.shape == plain.shape
    if twin.hostile:
        keep = np.ones(plain.shape[0], dtype=bool)
        keep[HOSTILE_ROWS] = False
        plain, fast = plain[keep], fast[keep]
    atol, rtol = twin.tolerance
    np.testing.assert_allclose(fast, plain, atol=atol, rtol=rtol, equal_nan=True)
