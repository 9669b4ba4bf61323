"""The look kernels survive NaN and infinity (a hostile tuning can overflow float32): no crash, no stray index.

Each kernel runs in a child process, so that a segmentation fault is a test failure, not a dead test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD_TIMEOUT_S = 120

SCRIPT = textwrap.dedent(
    """
    import numpy as np, tempfile, pathlib
    from lumatune.io.lut import Lut, load_lut, write_cube
    from lumatune.stages import grain, look_colour, lut, mono, sharpen, tone, vignette

    def hostile():
        image = np.full((8, 8, 3), 0.3, np.float32)
        image[0, :, 0] = np.nan
        image[1, :, 1] = np.inf
        image[2, :, 2] = -np.inf
        image[3] = np.float32(3e38)
        return image

    for curve in ("none", "sigmoid"):
        tone.display_transform_fast(hostile(), tone.tone_plan(tone.ToneParams(curve=curve), 1.0, "srgb"))
    colour = look_colour.ColourParams(saturation=1.2, hue_shift=(5,) * 8, hue_lightness=(0.5,) * 8,
                                      skin_protection=0.5, shadows_amount=0.05)
    look_colour.adjust_colour_fast(hostile(), look_colour.colour_plan(colour))
    g = np.linspace(0, 1, 5, dtype=np.float32)
    path = write_cube(pathlib.Path(tempfile.mkdtemp()) / "i.cube", Lut(np.stack(np.meshgrid(g, g, g, indexing="ij"), -1)))
    for space in ("srgb", "rec2020_linear"):
        lut.apply_lut_fast(hostile(), lut.lut_plan(lut.LutParams(file=str(path), table=load_lut(path), space=space)))
    plan = mono.MonoPlan(weights=np.array([0.3, 0.6, 0.1]), tint=np.ones(3))
    mono.to_mono_fast(hostile(), plan)
    sharpen.sharpen_fast(hostile(), sharpen.sharpen_plan(sharpen.SharpenParams(amount=1.0, local_contrast=0.5), (8, 8, 3), "srgb"))
    grain.add_grain_fast(hostile(), grain.grain_plan(grain.GrainParams(amount=0.1), (8, 8, 3), "srgb"))
    vignette.apply_vignette_fast(hostile(), vignette.vignette_plan(vignette.VignetteParams(amount=-0.5), (8, 8, 3)))
    print("survived")
    """
)


def test_kernels_survive_nan_and_infinity():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    assert result.returncode == 0 and "survived" in result.stdout, result.stderr[-800:]
