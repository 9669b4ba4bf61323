"""Look commands: ``look export`` (a look baked into a ``.cube``), ``look chart`` (a look in numbers),
``look measure`` (each look's measured character) and ``compare`` (looks side by side on one raw).

The functions behind them are public: :func:`render_colours` runs a look's point-wise stages (exposure,
colour, LUT, mono, tone) on any array of scene colours, :func:`bake_look_lut` samples it on a lattice, and
:func:`look_character` measures a look on the virtual camera's ColorChecker. Heavy modules (matplotlib,
colour-science, the virtual camera, the lab) load inside the functions that need them, so mounting these
commands costs no start-up time.

A baked LUT maps the colorimetric rendering to the look: its input is what the ``neutral`` look writes
(display-encoded RGB of the chosen space, scene white at 1), its output what the look writes. Applied to a
neutral rendering (ffmpeg ``lut3d``, Resolve, darktable ``lut 3D``, or ``lumatune develop --look x.cube``)
it gives the look's colour and tone; spatial stages (sharpening, grain, vignette, crop, frame) are not in it.

References
----------
-   Adobe Systems, "Cube LUT Specification" 1.0, 2013.
-   CIE 15:2004 (CIELAB); CIE 142-2001 (CIEDE2000), as implemented in :mod:`lumatune.lab`.
"""

from __future__ import annotations

import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import typer

from lumatune.errors import OutputError

__all__ = [
    "POINTWISE_STAGES",
    "SPATIAL_STAGES",
    "bake_look_lut",
    "character_markdown",
    "character_table",
    "chart_figure",
    "compare",
    "look_character",
    "look_chart",
    "look_export",
    "look_measure",
    "render_colours",
    "stage_times",
]

POINTWISE_STAGES = ("exposure", "colour", "lut", "mono", "tone")
"""The look stages that act on each pixel alone: what a LUT can hold."""
SPATIAL_STAGES = ("sharpen", "grain", "vignette", "crop", "frame")
"""The look stages that need neighbours or geometry (display domain)."""
CHART_SIZE = (360, 240)
"""(width, height) of the virtual ColorChecker raw that :func:`look_character` develops."""
MID_CONTRAST_PATCHES = ("neutral 6.5 (.44 D)", "neutral 3.5 (1.05 D)")
"""The two grey patches (two stops apart around mid grey) whose log-log slope is the mid-grey contrast."""
SHADOW_PATCHES = ("neutral 3.5 (1.05 D)", "black 2 (1.5 D)")
SPEED_SIZE = (6000, 4000)
"""(width, height) of the image :func:`stage_times` times the stages on: 24 MP."""
MID_GREY_PATCH = "neutral 5 (.70 D)"
WHITE_PATCH = "white 9.5 (.05 D)"


def _bare_frame(space: str, scene_clip: float):
    from lumatune.stages.base import Frame

    raw = types.SimpleNamespace(dng=None, exif={}, orientation_turns=0)
    return Frame(raw=raw, output_space=space, scene_clip=scene_clip)


def render_colours(look, rgb: np.ndarray, *, space: str = "srgb", scene_clip: float = 1.0) -> np.ndarray:
    """Run the look's point-wise stages on linear Rec.2020 scene colours ``rgb`` (..., 3).

    Parameters
    ----------
    look : a :class:`~lumatune.config.look.Look`.
    rgb : scene-referred linear Rec.2020 (D65), white-balanced, with the sensor clip at ``scene_clip``.
    space : output space ("srgb", "p3", "rec2020").

    Returns
    -------
    numpy.ndarray : display-encoded RGB of ``space``, float32, the shape of ``rgb``.
    """
    from lumatune.pipeline import ORDER

    shape = np.shape(rgb)
    image = np.ascontiguousarray(np.asarray(rgb, np.float32).reshape(-1, 1, 3)).copy()
    frame = _bare_frame(space, scene_clip)
    for entry in ORDER:
        stage = entry.stage
        if stage.name not in POINTWISE_STAGES or stage.name in look.blocks.disabled:
            continue
        plan = stage.plan(look.blocks.params.get(stage.name) or stage.params(), frame, image)
        if plan is not None:
            image = stage.process(image, plan)
    return np.asarray(image, np.float32).reshape(shape)


def bake_look_lut(look, size: int = 33, space: str = "srgb"):
    """The look's colour and tone as a 3-D :class:`~lumatune.io.lut.Lut` over the neutral rendering in ``space``.

    Lattice point ``(r, g, b)`` is a display-encoded colour of ``space``; it is decoded, taken back to linear
    Rec.2020 as a scene colour (white 1 at the sensor clip, as the neutral look shows it) and rendered by
    :func:`render_colours`.
    """
    from lumatune.colour.spaces import decode_eotf, matrix_rec2020_to
    from lumatune.io.lut import Lut

    grid = np.linspace(0.0, 1.0, size, dtype=np.float32)
    encoded = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1)  # [r, g, b]
    linear = decode_eotf(encoded, space).astype(np.float64) @ np.linalg.inv(matrix_rec2020_to(space)).T
    table = render_colours(look, linear, space=space, scene_clip=1.0)
    return Lut(table=np.ascontiguousarray(table, np.float32), title=f"lumatune look {look.name} ({space})")


def _without_spatial(look):
    from lumatune.config.blocks import BlockSet

    blocks = BlockSet(params=look.blocks.params, disabled=look.blocks.disabled | frozenset(SPATIAL_STAGES))
    return replace(look, blocks=blocks)


def _chart_raw(folder: Path):
    from lumatune.raw import open_raw
    from lumatune.sim import simulate, write_sim

    dng, truth = write_sim(folder / "chart.dng", simulate("colorchecker", illuminant="D65", size=CHART_SIZE, seed=1))
    return open_raw(dng), truth


def _flat_grey_stats(look) -> dict:
    """Vignette (corner vs centre, EV) and grain (std at mid grey) of the look's display stages on flat grey."""
    from lumatune.pipeline import STAGES

    image = np.full((400, 600, 3), 0.46, np.float32)
    frame = _bare_frame("srgb", 1.0)
    for name in ("grain", "vignette"):
        if name in look.blocks.disabled:
            continue
        plan = STAGES[name].plan(look.blocks.params.get(name) or STAGES[name].params(), frame, image)
        if plan is not None:
            image = STAGES[name].process(image, plan)
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
    import tempfile

    from lumatune.api import develop
    from lumatune.lab.measure import measure
    from lumatune.config.look import Look, load_look

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
    from lumatune.colour.spaces import decode_eotf

    greys = np.repeat(np.array([[0.9], [1.0]]), 3, axis=1)
    y = decode_eotf(render_colours(look, greys)[:, 1], "srgb").astype(np.float64)
    return float(np.log2(max(y[1], 1e-9) / max(y[0], 1e-9)) / np.log2(1.0 / 0.9))


def _lab_to_y(lab: np.ndarray) -> float:
    f = (lab[0] + 16.0) / 116.0
    return float(f**3 if f > 6.0 / 29.0 else 3 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0))


def character_table(names) -> list[dict]:
    """:func:`look_character` of each look, on one simulated chart."""
    import tempfile

    from lumatune.config.look import load_look

    with tempfile.TemporaryDirectory() as folder:
        chart = _chart_raw(Path(folder))
        return [look_character(load_look(name), chart=chart) for name in names]


def _colorchecker_rec2020() -> tuple[list[str], np.ndarray]:
    """Names and linear Rec.2020 (D65) of the ColorChecker 24 (colour-science's post-2014 data)."""
    import colour

    from lumatune.colour.spaces import MATRIX_D50_TO_D65_BRADFORD, MATRIX_XYZ_TO_REC2020

    checker = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyy = np.array(list(checker.data.values()))
    xyz = colour.xyY_to_XYZ(xyy) @ MATRIX_D50_TO_D65_BRADFORD.T
    return list(checker.data), xyz @ MATRIX_XYZ_TO_REC2020.T


def _display_lab(encoded: np.ndarray, space: str = "srgb") -> np.ndarray:
    from lumatune.colour.spaces import XYZ_to_Lab, decode_eotf, matrix_rgb_to_xyz

    return XYZ_to_Lab(decode_eotf(encoded, space).astype(np.float64) @ matrix_rgb_to_xyz(space).T)


def chart_figure(look):
    """A matplotlib figure of the look in numbers: tone curve, saturation and hue per hue, ColorChecker a*b*."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lumatune.colour.spaces import decode_eotf, matrix_rec2020_to
    from lumatune.config.look import load_look
    from lumatune.colour.oklab import oklab_to_rgb, rgb_to_oklab

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

    _, checker = _colorchecker_rec2020()
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


def _save_figure(figure, output: Path, overwrite: bool) -> None:
    from lumatune.io.atomic import atomic_output

    with atomic_output(output, overwrite=overwrite) as temp:
        figure.savefig(temp, format=output.suffix.lstrip(".").lower() or "png", dpi=110)


def look_export(
    name: str = typer.Argument(..., help="built-in look name, look .toml file or .cube"),
    output: Path = typer.Option(..., "-o", "--output", help="the .cube file to write"),
    size: int = typer.Option(33, "--size", min=2, max=256, help="lattice points per axis (33 or 65 are usual)"),
    space: str = typer.Option("srgb", "--space", help="what the LUT's input and output are: srgb, p3 or rec2020"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
):
    """Bake a look's colour and tone into a 3-D .cube LUT over the neutral rendering (for ffmpeg, Resolve, darktable)."""
    from lumatune.colour.spaces import SPACES
    from lumatune.io.lut import write_cube
    from lumatune.config.look import load_look

    if output.suffix.lower() != ".cube":
        raise OutputError(f"{output}: look export writes .cube files")
    if space not in SPACES:
        raise OutputError(f"unknown space '{space}' (valid: {', '.join(SPACES)})")
    look = load_look(name)
    write_cube(output, bake_look_lut(look, size=size, space=space), overwrite=overwrite)
    typer.echo(f"wrote {output}")


def look_chart(
    name: str = typer.Argument(..., help="built-in look name, look .toml file or .cube"),
    output: Path = typer.Option(..., "-o", "--output", help="image to write (.png, .svg or .pdf)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
):
    """Chart a look in numbers: tone curve, saturation and hue shift per hue, ColorChecker a*b* before and after."""
    from lumatune.config.look import load_look

    if output.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise OutputError(f"{output}: look chart writes .png, .svg or .pdf")
    look = load_look(name)
    _save_figure(chart_figure(look), output, overwrite)
    typer.echo(f"wrote {output}")


def look_measure(
    names: list[str] | None = typer.Argument(None, help="looks to measure (default: all built-ins)"),
    speed: bool = typer.Option(False, "--speed", help="also time each look stage on a 6000 x 4000 image"),
):
    """Measure each look's character on the virtual camera's ColorChecker; print Markdown tables."""
    from lumatune.config.look import builtin_looks, load_look

    names = names or sorted(builtin_looks())
    looks = [load_look(name) for name in names]  # fail before measuring anything
    typer.echo(character_markdown(character_table(names)))
    if speed:
        typer.echo("")
        typer.echo(character_markdown([{"look": look.name, **stage_times(look)} for look in looks]))


def stage_times(look, *, size: tuple[int, int] = SPEED_SIZE, runs: int = 3) -> dict[str, float]:
    """Milliseconds (best of ``runs``, after one warm-up) that each of the look's stages from exposure on takes,
    plan and process, on a smooth random float32 image of ``size`` (width, height); 0 for a stage with no plan."""
    import time

    import cv2

    from lumatune.pipeline import ORDER

    width, height = size
    rng = np.random.default_rng(0)
    small = cv2.GaussianBlur(rng.random((height // 10, width // 10, 3), dtype=np.float32), (0, 0), 3)
    start = np.ascontiguousarray(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR) * 1.2)
    names = [e.stage.name for e in ORDER]
    times: dict[str, float] = {}
    for entry in ORDER[names.index("exposure") :]:
        stage = entry.stage
        if stage.name in look.blocks.disabled:
            continue
        params = look.blocks.params.get(stage.name) or stage.params()
        best = float("inf")
        for _ in range(runs + 1):
            image = start.copy()
            frame = _bare_frame("srgb", 1.0)
            frame.raw.exif = {"model": "Acme X", "focal_length": 35.0, "f_number": 2.8, "exposure_time": 0.01}
            begin = time.perf_counter()
            plan = stage.plan(params, frame, image)
            out = stage.process(image, plan) if plan is not None else image
            best = min(best, time.perf_counter() - begin)
        times[stage.name] = best * 1e3
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


def compare(
    input: Path = typer.Argument(..., help="a raw file"),
    looks: str = typer.Option(..., "--looks", help="comma-separated looks: names, .toml or .cube files"),
    output: Path = typer.Option(..., "-o", "--output", help="the sheet to write (.jpg or .png)"),
    width: int = typer.Option(480, "--width", min=64, max=4096, help="width of each picture on the sheet"),
    columns: int = typer.Option(4, "--columns", min=1, max=16, help="pictures per row"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
):
    """Develop one raw in several looks and write them side by side, labelled, on one sheet."""
    from lumatune.api import develop
    from lumatune.io.atomic import atomic_output
    from lumatune.config.look import load_look
    from lumatune.raw import open_raw
    from lumatune.io.sheet import contact_sheet

    formats = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}
    if output.suffix.lower() not in formats:
        raise OutputError(f"{output}: compare writes .jpg or .png")
    if output.exists() and not overwrite:
        raise OutputError(f"{output}: exists (use --overwrite)")
    names = [n.strip() for n in looks.split(",") if n.strip()]
    if not names:
        raise OutputError("--looks: give at least one look")
    loaded = [load_look(n) for n in names]  # every look checked before any work
    raw = open_raw(input)
    cells = [(look.name, develop(raw, look)) for look in loaded]
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    sheet = contact_sheet(rows, cell_width=width, title=f"{input.name}: {', '.join(names)}")
    with atomic_output(output, overwrite=overwrite) as temp:
        sheet.save(temp, format=formats[output.suffix.lower()], quality=92)
    typer.echo(f"wrote {output}")
