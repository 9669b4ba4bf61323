"""A look in numbers, as a figure: tone curve, saturation and hue shift per hue, ColorChecker a*b* before and after.

References
----------
-   CIE 15:2004 (CIELAB); B. Ottosson, "A perceptual color space for image processing", 2020 (Oklab).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lumatune.colour.charts import colorchecker24_rec2020
from lumatune.colour.oklab import oklab_to_rgb, rgb_to_oklab
from lumatune.colour.spaces import XYZ_to_Lab, decode_eotf, matrix_rec2020_to, matrix_rgb_to_xyz
from lumatune.config.look import load_look
from lumatune.io.atomic import atomic_output

__all__ = ["chart_figure", "save_figure"]


def _display_lab(encoded: np.ndarray, space: str = "srgb") -> np.ndarray:
    return XYZ_to_Lab(decode_eotf(encoded, space).astype(np.float64) @ matrix_rgb_to_xyz(space).T)


def chart_figure(look):
    """A matplotlib figure of the look in numbers: tone curve, saturation and hue per hue, ColorChecker a*b*."""
    import matplotlib  # lazy: matplotlib (0.2 s)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: matplotlib (0.7 s)

    from lumatune.pipeline import render_colours  # lazy: numba (0.4 s)

    neutral = load_look("neutral")
    figure, (tone_ax, hue_ax, ab_ax) = plt.subplots(1, 3, figsize=(16, 5.2), constrained_layout=True)
    figure.suptitle(f"look '{look.name}': {look.description}")

    stops = np.linspace(-9, 3, 400)
    ramp = np.repeat((0.18 * 2.0**stops)[:, None], 3, axis=1)
    for which, style in ((neutral, "--"), (look, "-")):
        tone_ax.plot(stops, render_colours(which, ramp)[:, 1], style, label=which.name)
    tone_ax.set(xlabel="scene exposure, EV from mid grey (sensor clip at +2.5)", ylabel="display value (sRGB)",
                title="tone curve on greys", ylim=(0, 1.02))
    tone_ax.grid(alpha=0.3)
    tone_ax.legend()

    hues = np.radians(np.arange(0, 360, 2.0))
    ring = oklab_to_rgb(np.stack([np.full_like(hues, 0.56), 0.08 * np.cos(hues), 0.08 * np.sin(hues)], axis=-1))
    to_rec2020 = np.linalg.inv(matrix_rec2020_to("srgb")).T
    ok_n, ok_l = (
        rgb_to_oklab(decode_eotf(render_colours(which, ring), "srgb").astype(np.float64) @ to_rec2020)
        for which in (neutral, look)
    )

    def relative(lab):
        return np.hypot(lab[:, 1], lab[:, 2]) / np.maximum(lab[:, 0], 1e-6)

    degrees = np.degrees(hues)
    hue_ax.plot(degrees, relative(ok_l) / np.maximum(relative(ok_n), 1e-6), label="saturation (look / neutral)")
    hue_ax.set(xlabel="Oklab hue of the input (degrees)", ylabel="relative chroma gain", title="saturation per hue")
    shift = (np.degrees(np.arctan2(ok_l[:, 2], ok_l[:, 1]) - np.arctan2(ok_n[:, 2], ok_n[:, 1])) + 180) % 360 - 180
    twin = hue_ax.twinx()
    twin.plot(degrees, shift, color="tab:red", alpha=0.7, label="hue shift")
    twin.set_ylabel("hue shift (degrees)", color="tab:red")
    hue_ax.axhline(1.0, color="grey", lw=0.5)
    hue_ax.grid(alpha=0.3)

    _, checker = colorchecker24_rec2020()
    before = render_colours(neutral, checker)
    after_lab, before_lab = _display_lab(render_colours(look, checker)), _display_lab(before)
    colours = np.clip(before, 0, 1)
    ab_ax.scatter(before_lab[:, 1], before_lab[:, 2], s=70, facecolors="none", edgecolors=colours, lw=1.5)
    ab_ax.scatter(after_lab[:, 1], after_lab[:, 2], s=40, c=colours, edgecolors="black", lw=0.5)
    for b, a in zip(before_lab, after_lab):
        ab_ax.annotate("", xy=a[1:], xytext=b[1:], arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "grey"})
    ab_ax.axhline(0, color="grey", lw=0.5)
    ab_ax.axvline(0, color="grey", lw=0.5)
    ab_ax.set(xlabel="a*", ylabel="b*", title="ColorChecker: neutral (rings) -> look (dots)", aspect="equal")
    return figure


def save_figure(figure, output: Path, overwrite: bool) -> None:
    with atomic_output(output, overwrite=overwrite) as temp:
        figure.savefig(temp, format=output.suffix.lstrip(".").lower() or "png", dpi=110)
