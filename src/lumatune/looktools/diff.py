"""How two looks differ, in numbers: tone curve, saturation and hue per hue, ΔE00 on a chart and a scene.

-   **tone**: each look's display value (sRGB-encoded, green channel) for greys from :data:`TONE_STOPS` EV
    around mid grey (0.18 scene-linear; the neutral rendering's white is +2.47 EV);
-   **hue**: for each of the eight hues of the ``[colour]`` table, a colour of Oklab lightness 0.6 and chroma
    0.1 at that hue is rendered by each look; its relative chroma (C/L in Oklab of the display colour) over
    the ``neutral`` rendering's is the look's saturation there, and the hue angle moved, its hue shift;
-   **chart**: mean and largest CIEDE2000 between the two looks' renderings of the 24 ColorChecker colours
    (colour-science's post-2014 data, D50 -> D65 by Bradford, as scene colours at their reflectance);
-   **scene**: mean and 95th percentile CIEDE2000 between the two looks' developments of the virtual
    camera's ``natural`` scene (every stage, spatial ones included).

The point-wise numbers go through :func:`lumatune.pipeline.render_colours` (the looks' own stages); the scene
through :func:`lumatune.develop`.

References
----------
-   X-Rite, ColorChecker Classic reference data (after November 2014), via colour-science.
-   B. Ottosson, "A perceptual color space for image processing", 2020 (Oklab).
-   CIE 142-2001, CIEDE2000; G. Sharma, W. Wu, E. N. Dalal, Color Res. Appl. 30(1), 2005.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from lumatune.api import develop
from lumatune.colour.charts import colorchecker24_rec2020
from lumatune.colour.difference import delta_e00
from lumatune.colour.oklab import HUE_ANGLES, HUE_NAMES, oklab_to_rgb, rgb_to_oklab
from lumatune.colour.spaces import decode_eotf, matrix_rec2020_to, srgb_to_lab
from lumatune.config.look import Look, load_look
from lumatune.pipeline import render_colours
from lumatune.raw import open_raw

__all__ = ["TONE_STOPS", "SCENE_SIZE", "tone_rows", "hue_rows", "chart_difference", "scene_difference", "look_diff"]

TONE_STOPS = (-6.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 2.47)
"""Scene exposures (EV from mid grey) at which the tone curves are compared."""
SCENE_SIZE = (360, 240)
"""(width, height) of the virtual ``natural`` scene both looks develop."""
_HUE_LIGHTNESS, _HUE_CHROMA = 0.6, 0.1


def _look(look):
    return look if isinstance(look, Look) else load_look(look)


def tone_rows(a, b) -> list[dict]:
    """Display value (sRGB-encoded grey) of each look at each of :data:`TONE_STOPS`."""
    greys = np.repeat((0.18 * 2.0 ** np.array(TONE_STOPS))[:, None], 3, axis=1)
    out_a, out_b = render_colours(_look(a), greys)[:, 1], render_colours(_look(b), greys)[:, 1]
    return [{"ev": s, "a": float(x), "b": float(y)} for s, x, y in zip(TONE_STOPS, out_a, out_b)]


def _display_oklab(encoded: np.ndarray) -> np.ndarray:
    linear = decode_eotf(encoded.astype(np.float32), "srgb").astype(np.float64)
    return rgb_to_oklab(np.maximum(linear @ np.linalg.inv(matrix_rec2020_to("srgb")).T, 0.0))


def hue_rows(a, b) -> list[dict]:
    """Saturation (relative chroma over neutral's) and hue shift (degrees) of each look at each table hue."""

    angles = np.radians(HUE_ANGLES)
    lab = np.stack([np.full(8, _HUE_LIGHTNESS), _HUE_CHROMA * np.cos(angles), _HUE_CHROMA * np.sin(angles)], -1)
    colours = oklab_to_rgb(lab).astype(np.float32)
    rendered = {key: _display_oklab(render_colours(_look(look), colours)) for key, look in
                (("neutral", "neutral"), ("a", a), ("b", b))}

    def relative(ok):
        return np.hypot(ok[:, 1], ok[:, 2]) / np.maximum(ok[:, 0], 1e-6)

    def hue(ok):
        return np.degrees(np.arctan2(ok[:, 2], ok[:, 1]))

    base = rendered["neutral"]
    rows = []
    for i, name in enumerate(HUE_NAMES):
        row = {"hue": name}
        for key in ("a", "b"):
            row[f"saturation_{key}"] = float(relative(rendered[key])[i] / max(relative(base)[i], 1e-6))
            row[f"shift_{key}"] = float((hue(rendered[key])[i] - hue(base)[i] + 180.0) % 360.0 - 180.0)
        rows.append(row)
    return rows


def chart_difference(a, b) -> dict:
    """Mean and largest CIEDE2000 between the looks' renderings of the ColorChecker 24."""
    checker = colorchecker24_rec2020()[1].astype(np.float32)
    d = delta_e00(srgb_to_lab(render_colours(_look(a), checker)), srgb_to_lab(render_colours(_look(b), checker)))
    return {"mean": float(d.mean()), "max": float(d.max())}


def scene_difference(a, b, *, size: tuple[int, int] = SCENE_SIZE) -> dict:
    """Mean and 95th percentile CIEDE2000 between the looks' developments of the virtual ``natural`` scene."""
    from lumatune.sim import simulate, write_sim  # lazy: cv2 (~38 ms)

    with tempfile.TemporaryDirectory() as folder:
        dng, _ = write_sim(Path(folder) / "natural.dng", simulate("natural", size=size, seed=0))
        raw = open_raw(dng)
    image_a, image_b = develop(raw, look=_look(a)), develop(raw, look=_look(b))
    if image_a.shape != image_b.shape:  # a look that crops: compare the centres
        height = min(image_a.shape[0], image_b.shape[0])
        width = min(image_a.shape[1], image_b.shape[1])
        image_a, image_b = (_centre(i, height, width) for i in (image_a, image_b))
    d = delta_e00(srgb_to_lab(image_a.reshape(-1, 3)), srgb_to_lab(image_b.reshape(-1, 3)))
    return {"mean": float(d.mean()), "p95": float(np.percentile(d, 95))}


def _centre(image: np.ndarray, height: int, width: int) -> np.ndarray:
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return image[top : top + height, left : left + width]


def look_diff(a, b, *, scene_size: tuple[int, int] = SCENE_SIZE) -> dict:
    """Every number above for looks ``a`` and ``b`` (built-in names, look files, ``.cube`` files or Looks)."""
    a, b = _look(a), _look(b)
    return {
        "a": a.name,
        "b": b.name,
        "tone": tone_rows(a, b),
        "hue": hue_rows(a, b),
        "chart_de00": chart_difference(a, b),
        "scene_de00": scene_difference(a, b, size=scene_size),
    }
