"""The lens stage against the DNG specification's formulas, written plainly here (DNG 1.6.0.0, chapter 7).

Each opcode form (WarpRectilinear with three planes and tangential terms, WarpRectilinear2 in its reciprocal
form with a valid radius, WarpFisheye, FixVignetteRadial) is written into a DNG through the project's writer,
read back through the reader, planned by the stage and applied to a smooth analytic image; the expected output
is the analytic image evaluated where the specification's formula (below, independent of the stage's code) says
each pixel reads, times the vignette gain. Also: the plain and compiled twins agree, bands give the whole image's
rows, the fill scale leaves no pixel from outside the raw, a raw without lens opcodes is left alone.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from synthetic import write_chart_dng

from lumatune.raw.read import open_raw as read
from lumatune.raw.opcodes import (
    FixVignetteRadial,
    GainMap,
    WarpFisheye,
    WarpRectilinear,
    WarpRectilinear2,
    encode_opcode,
    encode_opcode_list,
)
from lumatune.stages.base import Frame
from lumatune.stages.lens import (
    MAP_STEP,
    LensParams,
    apply_lens,
    apply_lens_band,
    apply_lens_fast,
    band_reach,
    lens_plan,
)

WIDTH, HEIGHT = 96, 72
"""The synthetic chart DNG's size (tests/synthetic.py)."""

SPEC_AGREEMENT = 1e-4
"""Largest difference between the stage (bicubic resampling of the sampled image) and the analytic image read at
the specification's source position, on an image of amplitude 0.3 varying over ~40 px (measured: 1.9e-5 with
the 2-D kernel; 6.1e-5 in two passes, WarpRectilinear2, whose valid radius kinks the map, 2.5e-5 the others;
the margin covers other platforms' float32 rounding of the sampled image)."""

TWINS = 1e-6
"""Plain (float64 numpy) against compiled twin (float64 positions, float32 pixels, fast-math) with the program
walked at every pixel, as on images under 512 px, resampling with the 2-D kernel (measured: 1.2e-7)."""

TWINS_SEPARABLE = 1e-4
"""The same in two 1-D passes: the compiled twin finds where a column crosses each source row between the
program's values on the pixel rows (linearly), the plain twin by Newton's method on the program; on these
strongly bent 96 x 72 images that moves the crossing by up to ~1e-3 px (measured: 1.8e-5, 6.8e-5 where
WarpRectilinear2's valid radius puts a kink in the map)."""

SEPARABLE_VS_2D = 1e-4
"""The plain twins, two 1-D passes against the 2-D kernel (both Keys bicubic at the same positions), where the
source lies :data:`EDGE_PX` inside the image (measured: 5.6e-5, WarpRectilinear2, its map kinked at the valid
radius; 6e-6 for the others; at the edges the passes clamp along the column's curve, the 2-D kernel at the
clamped position)."""

COARSE_MAP = 2e-3
"""The compiled twin with positions interpolated from a grid every 2 px against the plain twin, on the 96 x 72
image (a 24 MP image gets a step of 8 on a 750 x 500 grid, relatively 40 x finer) (measured: 8.8e-4, the
vignette case)."""

COARSE_GAIN_MAP = 6e-3
"""The same with a GainMap: its piecewise-bilinear gain bends by up to 0.017 per px at its map points (3 x 3 points
over 96 x 72 px), which the 2-px grid smooths over one cell (measured: 4.1e-3; a 24-MP image with a 17 x 13 map
bends 200 x less per pixel)."""

EDGE_PX = 3.0
"""Pixels whose source lies closer than this to the image edge are not compared (the SDK clamps there)."""


def analytic(x, y, plane):
    """A smooth test image in the DNG's continuous coordinates, different per plane."""
    return 0.5 + 0.3 * np.sin(x / 9.0 + plane) * np.cos(y / 7.0 - 0.5 * plane)


def spec_warp_rectilinear(x, y, kr, kt, cx, cy):
    """DNG 1.6 WarpRectilinear: the source position of destination (x, y) for one plane's coefficients."""
    centre_x, centre_y = cx * WIDTH, cy * HEIGHT
    m = max(math.hypot(a - centre_x, b - centre_y) for a in (0, WIDTH) for b in (0, HEIGHT))
    dx, dy = (x - centre_x) / m, (y - centre_y) / m
    r2 = np.minimum(dx**2 + dy**2, 1.0)
    f = kr[0] + kr[1] * r2 + kr[2] * r2**2 + kr[3] * r2**3
    tx = kt[1] * (r2 + 2 * dx**2) + 2 * kt[0] * dx * dy
    ty = kt[0] * (r2 + 2 * dy**2) + 2 * kt[1] * dx * dy
    return centre_x + m * (f * dx + tx), centre_y + m * (f * dy + ty)


def spec_warp_rectilinear2(x, y, kr, kt, r_min, r_max, cx, cy, reciprocal):
    """DNG 1.6 WarpRectilinear2: 15 radial terms in powers of r, r held in [r_min, r_max], optionally 1 / f."""
    centre_x, centre_y = cx * WIDTH, cy * HEIGHT
    m = max(math.hypot(a - centre_x, b - centre_y) for a in (0, WIDTH) for b in (0, HEIGHT))
    dx, dy = (x - centre_x) / m, (y - centre_y) / m
    r2 = dx**2 + dy**2
    r = np.clip(np.sqrt(r2), r_min, r_max)
    f = sum(k * r**i for i, k in enumerate(kr))
    if reciprocal:
        f = 1.0 / f
    tx = kt[1] * (r2 + 2 * dx**2) + 2 * kt[0] * dx * dy
    ty = kt[0] * (r2 + 2 * dy**2) + 2 * kt[1] * dx * dy
    return centre_x + m * (f * dx + tx), centre_y + m * (f * dy + ty)


def spec_warp_fisheye(x, y, kr, cx, cy):
    """DNG 1.6 WarpFisheye: source radius kr0 t + kr1 t^3 + kr2 t^5 + kr3 t^7 with t = atan(r)."""
    centre_x, centre_y = cx * WIDTH, cy * HEIGHT
    m = max(math.hypot(a - centre_x, b - centre_y) for a in (0, WIDTH) for b in (0, HEIGHT))
    dx, dy = (x - centre_x) / m, (y - centre_y) / m
    r = np.sqrt(dx**2 + dy**2)
    t = np.arctan(r)
    source = kr[0] * t + kr[1] * t**3 + kr[2] * t**5 + kr[3] * t**7
    ratio = np.where(r > 0, source / np.maximum(r, 1e-300), kr[0])
    return centre_x + m * ratio * dx, centre_y + m * ratio * dy


def spec_vignette(x, y, k, cx, cy):
    """DNG 1.6 FixVignetteRadial: the gain 1 + k0 r^2 + k1 r^4 + k2 r^6 + k3 r^8 + k4 r^10."""
    centre_x, centre_y = cx * WIDTH, cy * HEIGHT
    m = max(math.hypot(a - centre_x, b - centre_y) for a in (0, WIDTH) for b in (0, HEIGHT))
    r2 = ((x - centre_x) ** 2 + (y - centre_y) ** 2) / m**2
    return 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3 + k[3] * r2**4 + k[4] * r2**5


def spec_gain_map(x, y, gains, origin, spacing):
    """DNG 1.6 GainMap on the whole image: the pixel centre relative to the image, clamped to [0, 1], less the
    origin, over the spacing, read bilinearly from the grid clamped at its edges (one map plane)."""
    v = np.clip((np.clip(y / HEIGHT, 0, 1) - origin[0]) / spacing[0], 0, gains.shape[0] - 1)
    u = np.clip((np.clip(x / WIDTH, 0, 1) - origin[1]) / spacing[1], 0, gains.shape[1] - 1)
    iv, iu = np.minimum(np.floor(v).astype(int), gains.shape[0] - 2), np.minimum(np.floor(u).astype(int), gains.shape[1] - 2)
    fv, fu = v - iv, u - iu
    return ((gains[iv, iu] * (1 - fu) + gains[iv, iu + 1] * fu) * (1 - fv)
            + (gains[iv + 1, iu] * (1 - fu) + gains[iv + 1, iu + 1] * fu) * fv)


GAINS = np.array([[1.6, 1.2, 1.5], [1.1, 1.0, 1.2], [1.7, 1.3, 1.8]], np.float32)


def _frame(tmp_path, opcodes, name="lens") -> Frame:
    data = encode_opcode_list([encode_opcode(op) for op in opcodes])
    path = write_chart_dng(tmp_path / f"{name}.dng", opcode_list_3=data)
    return Frame(raw=read(path))


def _image() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] + 0.5
    return np.stack([analytic(x, y, c) for c in range(3)], axis=-1).astype(np.float32)


def _compare(out: np.ndarray, sources) -> float:
    """Largest difference to the analytic image at the specification's (x, y, gain) per plane, inside the image."""
    worst = 0.0
    for plane, (sx, sy, gain) in enumerate(sources):
        inside = (sx > EDGE_PX) & (sx < WIDTH - EDGE_PX) & (sy > EDGE_PX) & (sy < HEIGHT - EDGE_PX)
        assert inside.mean() > 0.5
        expected = analytic(sx, sy, plane) * gain
        worst = max(worst, float(np.max(np.abs(out[..., plane] - expected)[inside])))
    return worst


def _grid():
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] + 0.5
    return x, y


CASES = {
    "WarpRectilinear, 3 planes, tangential": [
        WarpRectilinear(
            np.array([[1.004, -0.06, 0.01, 0.002], [1.0, -0.05, 0.01, 0.0], [0.996, -0.04, 0.008, -0.001]]),
            np.array([[0.002, -0.003], [0.001, 0.002], [-0.002, 0.001]]),
            (0.47, 0.53),
        )
    ],
    "WarpRectilinear2, reciprocal, valid radius": [
        WarpRectilinear2(
            np.array([[1.0, 0.01, 0.04, -0.02, 0.01] + [0.0] * 10] * 3) * np.array([[1.0], [1.002], [0.998]]),
            np.array([[0.001, -0.001]] * 3),
            np.array([[0.1, 0.9]] * 3),
            (0.5, 0.5),
            True,
        )
    ],
    "WarpFisheye": [WarpFisheye(np.array([[1.0, 0.1, 0.0, 0.0]]), (0.52, 0.5))],
    "WarpRectilinear then GainMap (blue only)": [
        WarpRectilinear(np.array([[1.0, -0.04, 0.0, 0.0]]), np.zeros((1, 2)), (0.5, 0.5)),
        GainMap(0, 0, HEIGHT, WIDTH, 2, 1, 1, 1, (0.5, 0.5), (0.0, 0.0), GAINS[:, :, None]),
    ],
    "FixVignetteRadial then WarpRectilinear": [
        FixVignetteRadial(np.array([0.4, 0.2, 0.05, 0.0, 0.01]), (0.5, 0.48)),
        WarpRectilinear(np.array([[1.0, 0.03, 0.0, 0.0]]), np.zeros((1, 2)), (0.5, 0.5)),
    ],
}


def _spec_sources(case: str):
    """Per plane (x, y, gain) where each output pixel reads, by the specification's formulas above."""
    x, y = _grid()
    out = []
    for plane in range(3):
        if case.startswith("WarpRectilinear,"):
            op = CASES[case][0]
            sx, sy = spec_warp_rectilinear(x, y, op.radial[plane], op.tangential[plane], *op.centre)
            out.append((sx, sy, 1.0))
        elif case.startswith("WarpRectilinear2"):
            op = CASES[case][0]
            sx, sy = spec_warp_rectilinear2(x, y, op.radial[plane], op.tangential[plane], *op.valid_radius[plane],
                                            *op.centre, True)
            out.append((sx, sy, 1.0))
        elif case.startswith("WarpRectilinear then GainMap"):
            warp, gain_map = CASES[case]
            sx, sy = spec_warp_rectilinear(x, y, warp.radial[0], warp.tangential[0], *warp.centre)
            gain = spec_gain_map(x, y, GAINS, (0.0, 0.0), (0.5, 0.5)) if plane == 2 else 1.0  # listed last: output
            out.append((sx, sy, gain))
        elif case == "WarpFisheye":
            op = CASES[case][0]
            out.append((*spec_warp_fisheye(x, y, op.radial[0], *op.centre), 1.0))
        else:
            vignette, warp = CASES[case]
            sx, sy = spec_warp_rectilinear(x, y, warp.radial[0], warp.tangential[0], *warp.centre)
            out.append((sx, sy, spec_vignette(sx, sy, vignette.k, *vignette.centre)))  # listed first: sensor coords
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_each_opcode_form_follows_the_specification(tmp_path, case):
    frame = _frame(tmp_path, CASES[case])
    plan = lens_plan(LensParams(border="keep"), frame, (HEIGHT, WIDTH, 3))
    assert plan is not None and plan.scale == 1.0
    assert _compare(apply_lens(_image(), plan), _spec_sources(case)) <= SPEC_AGREEMENT
    assert _compare(apply_lens_fast(_image(), plan), _spec_sources(case)) <= SPEC_AGREEMENT
    assert any("applied" in note for note in frame.notes)


@pytest.mark.parametrize("separable", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_plain_and_compiled_twins_agree(tmp_path, case, separable):
    frame = _frame(tmp_path, CASES[case])
    plan = lens_plan(LensParams(), frame, (HEIGHT, WIDTH, 3))
    assert plan.separable
    plan = dataclasses.replace(plan, separable=separable)
    image = _image()
    atol = TWINS_SEPARABLE if separable else TWINS
    np.testing.assert_allclose(apply_lens_fast(image.copy(), plan), apply_lens(image, plan), atol=atol)
    coarse = dataclasses.replace(plan, step=2)
    tolerance = COARSE_GAIN_MAP if "GainMap" in case else COARSE_MAP
    np.testing.assert_allclose(apply_lens_fast(image.copy(), coarse), apply_lens(image, plan), atol=tolerance)


def test_bands_give_the_whole_image_rows(tmp_path):
    frame = _frame(tmp_path, CASES["WarpRectilinear, 3 planes, tangential"])
    plan = lens_plan(LensParams(), frame, (HEIGHT, WIDTH, 3))
    image = _image()
    whole = apply_lens_fast(image.copy(), plan)
    for start, stop in ((0, 16), (16, 40), (40, HEIGHT)):
        first, last = max(0, start - plan.margin), min(HEIGHT, stop + plan.margin)
        band = apply_lens_band(image[first:last].copy(), plan, first)
        np.testing.assert_array_equal(band[start - first : stop - first], whole[start:stop])


@pytest.mark.parametrize("step", [None, MAP_STEP])
@pytest.mark.parametrize("separable", [True, False])
@pytest.mark.parametrize("case", ["WarpRectilinear, 3 planes, tangential", "WarpFisheye"])
def test_bands_of_the_per_row_reach_give_the_whole_image_rows(tmp_path, case, separable, step):
    # 520 rows: a coarse grid step of 2, so bands starting on odd rows test its anchoring on the whole image; and
    # the largest step, which only images of 4000 rows and more get (fewest spare grid rows around a band)
    frame = _frame(tmp_path, CASES[case])
    shape = (520, 600, 3)
    plan = dataclasses.replace(lens_plan(LensParams(), frame, shape), separable=separable)
    assert plan.step == 2
    plan = dataclasses.replace(plan, step=step or plan.step)
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    whole = apply_lens_fast(image.copy(), plan)
    for start, stop in ((0, 40), (41, 97), (250, 270), (97, 300), (480, 520)):
        first, last = band_reach(plan, start, stop)
        assert start - plan.margin <= first and last <= stop + plan.margin
        first, last = max(min(first, start), 0), min(max(last, stop), shape[0])  # as the pipeline's bands do
        band = apply_lens_band(image[first:last].copy(), plan, first)
        np.testing.assert_array_equal(band[start - first : stop - first], whole[start:stop])


@pytest.mark.parametrize("case", list(CASES))
def test_two_passes_agree_with_the_2d_kernel(tmp_path, case):
    frame = _frame(tmp_path, CASES[case])
    plan = lens_plan(LensParams(border="keep"), frame, (HEIGHT, WIDTH, 3))
    image = _image()
    difference = np.abs(apply_lens(image, plan) - apply_lens(image, dataclasses.replace(plan, separable=False)))
    for plane, (sx, sy, _) in enumerate(_spec_sources(case)):
        inside = (sx > EDGE_PX) & (sx < WIDTH - EDGE_PX) & (sy > EDGE_PX) & (sy < HEIGHT - EDGE_PX)
        assert np.max(difference[..., plane][inside]) <= SEPARABLE_VS_2D


def test_a_warp_too_strong_for_two_passes_keeps_the_2d_kernel(tmp_path):
    # source radius r - 0.6 r^3: it advances by under half a pixel per pixel beyond r = 0.53 (1 - 1.8 r^2 < 0.5)
    strong = WarpRectilinear(np.array([[1.0, -0.6, 0.0, 0.0]]), np.zeros((1, 2)), (0.5, 0.5))
    plan = lens_plan(LensParams(), _frame(tmp_path, [strong]), (HEIGHT, WIDTH, 3))
    assert not plan.separable
    image = _image()
    np.testing.assert_allclose(apply_lens_fast(image.copy(), plan), apply_lens(image, plan), atol=TWINS)


def test_fill_scale_shows_no_pixel_from_outside_the_raw(tmp_path):
    pincushion = WarpRectilinear(np.array([[1.0, 0.08, 0.0, 0.0]]), np.zeros((1, 2)), (0.5, 0.5))
    frame = _frame(tmp_path, [pincushion])
    plan = lens_plan(LensParams(border="fill"), frame, (HEIGHT, WIDTH, 3))
    assert plan.scale < 1.0
    x, y = _grid()
    xs = plan.centre[0] + (x - plan.centre[0]) * plan.scale
    ys = plan.centre[1] + (y - plan.centre[1]) * plan.scale
    sx, sy = spec_warp_rectilinear(xs, ys, pincushion.radial[0], pincushion.tangential[0], 0.5, 0.5)
    assert sx.min() >= 0 and sx.max() <= WIDTH and sy.min() >= 0 and sy.max() <= HEIGHT
    assert min(sx.min(), sy.min(), WIDTH - sx.max(), HEIGHT - sy.max()) < 1.0  # and no more zoom than needed


def test_switches_and_a_raw_without_lens_opcodes(tmp_path):
    frame = _frame(tmp_path, CASES["FixVignetteRadial then WarpRectilinear"])
    assert lens_plan(LensParams(distortion=False, chromatic_aberration=False, vignetting=False), frame,
                     (HEIGHT, WIDTH, 3)) is None
    plain = Frame(raw=read(write_chart_dng(tmp_path / "plain.dng")))
    assert lens_plan(LensParams(), plain, (HEIGHT, WIDTH, 3)) is None
    assert plain.notes == ["lens: lensfun: the raw names no lens; not corrected"]


LENS_CA_TWINS = 1e-5
"""lens_ca's plain (float64) and compiled (float32 pixels) twins on a mosaic of values near 1 (measured: 2.4e-7)."""


@pytest.mark.parametrize("shape", [(HEIGHT, WIDTH), (10 * HEIGHT + 1, 10 * WIDTH + 1)])  # grid step 1; 2, odd
def test_lens_ca_moves_red_and_blue_onto_green_and_its_twins_agree(tmp_path, shape):
    from lumatune.stages.lens_ca import LensCaParams, apply_lens_ca, apply_lens_ca_fast, lens_ca_plan

    frame = _frame(tmp_path, CASES["WarpRectilinear, 3 planes, tangential"])
    plan = lens_ca_plan(LensCaParams(), frame, shape)
    assert plan is not None and frame.lateral_ca_on_mosaic and plan.sites == ((0, 0), (1, 1))
    mosaic = np.random.default_rng(5).uniform(0.2, 1.0, shape).astype(np.float32)
    plain = apply_lens_ca(mosaic, plan)
    np.testing.assert_allclose(apply_lens_ca_fast(mosaic.copy(), plan), plain, atol=LENS_CA_TWINS)
    np.testing.assert_array_equal(plain[0::2, 1::2], mosaic[0::2, 1::2])  # green sites stay
    # the lens stage then gives every plane green's warp: one position per pixel
    assert lens_plan(LensParams(), frame, (HEIGHT, WIDTH, 3)).shared


LENS_CA_SMOOTH = 3e-3
"""lens_ca's red and blue sites against the smooth scene where green's geometry puts it, the mosaic sampled through
each plane's warp, red up to 0.8 px from green (interpolation of a scene of amplitude 0.3 varying over ~40 px;
measured: 1.5e-3, twice that allowed; the sites left where they are: 2.4e-2)."""


def _inverse_spec(x, y, warp, plane):
    """Where WarpRectilinear's ``plane`` reads (x, y) from, inverted by fixed-point iteration: the corrected
    position that the sensor shows at (x, y)."""
    qx, qy = x.copy(), y.copy()
    for _ in range(40):
        sx, sy = spec_warp_rectilinear(qx, qy, warp.radial[plane], warp.tangential[plane], *warp.centre)
        qx, qy = qx + x - sx, qy + y - sy
    return qx, qy


def test_lens_ca_puts_a_smooth_scene_on_greens_geometry(tmp_path):
    from lumatune.stages.lens_ca import LensCaParams, apply_lens_ca, apply_lens_ca_fast, lens_ca_plan

    case = "WarpRectilinear, 3 planes, tangential"
    (warp,) = CASES[case]
    frame = _frame(tmp_path, CASES[case])
    plan = lens_ca_plan(LensCaParams(), frame, (HEIGHT, WIDTH))
    x, y = _grid()
    gains = (0.8, 1.0, 1.2)  # a scene of one colour, not grey
    cfa = frame.raw.cfa[np.arange(HEIGHT)[:, None] % 2, np.arange(WIDTH)[None, :] % 2]
    mosaic = np.zeros((HEIGHT, WIDTH))
    for plane in range(3):
        seen = analytic(*_inverse_spec(x, y, warp, plane), 0) * gains[plane]  # the sensor's plane
        mosaic[cfa == plane] = seen[cfa == plane]
    expected = analytic(*_inverse_spec(x, y, warp, 1), 0)  # green's geometry
    inside = (x > 2 * EDGE_PX) & (x < WIDTH - 2 * EDGE_PX) & (y > 2 * EDGE_PX) & (y < HEIGHT - 2 * EDGE_PX)
    for out in (apply_lens_ca(mosaic.astype(np.float32), plan), apply_lens_ca_fast(mosaic.astype(np.float32), plan)):
        for plane in (0, 2):
            sites = (cfa == plane) & inside
            np.testing.assert_allclose(out[sites] / gains[plane], expected[sites], atol=LENS_CA_SMOOTH)


@pytest.mark.parametrize("lens_block", ["chromatic_aberration off", "dng_opcodes off", "lens stage off", "default"])
def test_the_lens_block_switches_lens_ca(tmp_path, lens_block):
    from lumatune.config.blocks import BlockSet
    from lumatune.pipeline.order import ORDER
    from lumatune.pipeline.steps import plan_step

    frame = _frame(tmp_path, CASES["WarpRectilinear, 3 planes, tangential"])
    blocks = {
        "chromatic_aberration off": BlockSet(params={"lens": LensParams(chromatic_aberration=False)}),
        "dng_opcodes off": BlockSet(params={"lens": LensParams(dng_opcodes=False)}),
        "lens stage off": BlockSet(disabled=frozenset({"lens"})),
        "default": BlockSet(),
    }[lens_block]
    (entry,) = (e for e in ORDER if e.name == "lens_ca")
    plan = plan_step(entry, blocks, frame, np.ones((HEIGHT, WIDTH), np.float32))
    assert (plan is not None) == frame.lateral_ca_on_mosaic == (lens_block == "default")
    if lens_block == "chromatic_aberration off":  # and the lens stage leaves lateral colour too
        assert lens_plan(blocks.params["lens"], frame, (HEIGHT, WIDTH, 3)).shared
