"""A look's measured character: contrast, grey levels, chroma and accuracy on the virtual camera's ColorChecker,
vignette and grain on flat grey, and how long each of its stages takes.

References
----------
-   CIE 15:2004 (CIELAB); CIE 142-2001 (CIEDE2000), as implemented in :mod:`lumatune.lab`.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from lumatune.api import develop
from lumatune.colour.spaces import decode_eotf
from lumatune.config.blocks import BlockSet
from lumatune.config.look import Look, load_look
from lumatune.raw import open_raw

__all__ = ["CHART_SIZE", "SPEED_SIZE", "character_markdown", "character_table", "look_character", "stage_times"]

CHART_SIZE = (360, 240)
"""(width, height) of the virtual ColorChecker raw that :func:`look_character` develops."""
MID_CONTRAST_PATCHES = ("neutral 6.5 (.44 D)", "neutral 3.5 (1.05 D)")
"""The two grey patches (two stops apart around mid grey) whose log-log slope is the mid-grey contrast."""
SHADOW_PATCHES = ("neutral 3.5 (1.05 D)", "black 2 (1.5 D)")
SPEED_SIZE = (6000, 4000)
"""(width, height) of the image :func:`stage_times` times the stages on: 24 MP."""
MID_GREY_PATCH = "neutral 5 (.70 D)"
WHITE_PATCH = "white 9.5 (.05 D)"


def _without_spatial(look):
    from lumatune.pipeline import SPATIAL  # lazy: numba (0.4 s)

    blocks = BlockSet(params=look.blocks.params, disabled=look.blocks.disabled | frozenset(SPATIAL))
    return replace(look, blocks=blocks)


def _chart_raw(folder: Path):
    from lumatune.sim import simulate, write_sim  # lazy: cv2 (~75 ms)

    dng, truth = write_sim(folder / "chart.dng", simulate("colorchecker", illuminant="D65", size=CHART_SIZE, seed=1))
    return open_raw(dng), truth


def _flat_grey_stats(look) -> dict:
    """Vignette (corner vs centre, EV) and grain (std at mid grey) of the look's display stages on flat grey."""
    from lumatune.pipeline import bare_frame, run  # lazy: numba (0.4 s)

    grey = np.full((400, 600, 3), 0.46, np.float32)
    image = run(bare_frame("srgb", 1.0), None, look, image=grey, select=("grain", "vignette"))
    centre, corner = image[180:220, 280:320, 1], image[:20, :20, 1]
    linear = lambda v: ((v + 0.055) / 1.055) ** 2.4
    return {
        "vignette_ev": float(np.log2(linear(corner.mean()) / linear(centre.mean()))),
        "grain_std": float(centre.std()),
    }


def look_character(look, *, chart=None) -> dict:
    """A look's measured character on the virtual camera's ColorChecker (D65), spatial stages off.

    Returns a dict: ``mid_contrast`` (log-log slope of display luminance against scene luminance between
    the greys two stops apart around mid grey; 1 for a colorimetric rendering), ``white_slope`` (the same
    slope on the look's grey curve over the last 0.15 EV below the sensor clip: how steeply the curve meets
    display white, 1 for a colorimetric rendering, near 0 for a soft roll-off), ``mid_grey_L`` and
    ``shadow_L`` (CIELAB L* of the mid-grey patch and mean L* of the two darkest greys), ``chroma`` (mean
    C*ab of the 18 colour patches), ``de00`` (mean CIEDE2000 against the truth after one exposure fit),
    ``shadow_ab`` and ``highlight_ab`` (a*, b* of the black and white patches: the split toning), ``vignette_ev`` and ``grain_std`` (on flat grey), and ``crop``.

    Parameters
    ----------
    look : a :class:`~lumatune.config.look.Look` or the name of one.
    chart : ``(raw, truth_path)`` of a chart to reuse; by default one is simulated.
    """

    from lumatune.lab.measure import measure  # lazy: colour-science, cv2 (1.3 s)

    look = look if isinstance(look, Look) else load_look(look)
    with tempfile.TemporaryDirectory() as folder:
        raw, truth = chart if chart is not None else _chart_raw(Path(folder))
        image = develop(raw, _without_spatial(look))
        plain = measure(image, truth, space="srgb", fit_exposure=False)
        fitted = measure(image, truth, space="srgb", fit_exposure=True)
    rows = {row["name"]: row for row in plain["patches"]}
    lab = {name: np.asarray(row["lab"]) for name, row in rows.items()}
    reference_y = {name: _lab_to_y(np.asarray(row["reference_lab"])) for name, row in rows.items()}
    bright, dark = MID_CONTRAST_PATCHES
    slope = np.log2(_lab_to_y(lab[bright]) / _lab_to_y(lab[dark])) / np.log2(reference_y[bright] / reference_y[dark])
    colours = [lab[name] for name, row in rows.items() if not row["neutral"]]
    crop = look.blocks.params.get("crop")
    return {
        "look": look.name,
        "mid_contrast": float(slope),
        "white_slope": _white_slope(look),
        "mid_grey_L": float(lab[MID_GREY_PATCH][0]),
        "shadow_L": float(np.mean([lab[name][0] for name in SHADOW_PATCHES])),
        "chroma": float(np.mean([np.hypot(v[1], v[2]) for v in colours])),
        "de00": float(fitted["de00_mean"]),
        "shadow_ab": tuple(round(float(v), 2) for v in lab[SHADOW_PATCHES[1]][1:]),
        "highlight_ab": tuple(round(float(v), 2) for v in lab[WHITE_PATCH][1:]),
        **_flat_grey_stats(look),
        "crop": (crop.aspect if crop is not None and "crop" not in look.blocks.disabled else "") or "-",
    }


def _white_slope(look) -> float:
    from lumatune.pipeline import render_colours  # lazy: numba (0.4 s)

    greys = np.repeat(np.array([[0.9], [1.0]]), 3, axis=1)
    y = decode_eotf(render_colours(look, greys)[:, 1], "srgb").astype(np.float64)
    return float(np.log2(max(y[1], 1e-9) / max(y[0], 1e-9)) / np.log2(1.0 / 0.9))


def _lab_to_y(lab: np.ndarray) -> float:
    f = (lab[0] + 16.0) / 116.0
    return float(f**3 if f > 6.0 / 29.0 else 3 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0))


def character_table(names) -> list[dict]:
    """:func:`look_character` of each look, on one simulated chart."""

    with tempfile.TemporaryDirectory() as folder:
        chart = _chart_raw(Path(folder))
        return [look_character(load_look(name), chart=chart) for name in names]


def stage_times(look, *, size: tuple[int, int] = SPEED_SIZE, runs: int = 3) -> dict[str, float]:
    """Milliseconds (best of ``runs``, after one warm-up) that each of the look's stages takes, plan and process,
    on a smooth random float32 image of ``size`` (width, height); 0 for a stage with no plan."""
    import cv2  # lazy: cv2 (~26 ms)

    from lumatune.pipeline import LOOK_STAGES, bare_frame, run  # lazy: numba (0.4 s)

    width, height = size
    rng = np.random.default_rng(0)
    small = cv2.GaussianBlur(rng.random((height // 10, width // 10, 3), dtype=np.float32), (0, 0), 3)
    start = np.ascontiguousarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) * 1.2)
    times: dict[str, float] = {}
    for name in LOOK_STAGES:
        if name in look.blocks.disabled:
            continue
        best = float("inf")
        for _ in range(runs + 1):
            frame = bare_frame("srgb", 1.0)
            frame.raw.exif = {"model": "Acme X", "focal_length": 35.0, "f_number": 2.8, "exposure_time": 0.01}
            profile: dict[str, float] = {}
            out = run(frame, None, look, image=start.copy(), select=(name,), profile=profile)
            best = min(best, profile[name])
        times[name] = best
        start = np.ascontiguousarray(out)
    times["total"] = sum(times.values())
    return times


def character_markdown(rows: list[dict]) -> str:
    """The rows of :func:`character_table` as a Markdown table."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, tuple):
        return " ".join(f"{v:+.1f}" for v in value)
    return str(value)
