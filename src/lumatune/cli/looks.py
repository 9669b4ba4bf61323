"""Look commands: ``looks`` (the built-in looks), ``look show`` (a look as TOML), ``look export`` (a look baked into a ``.cube``), ``look chart`` (a look in numbers),
``look measure`` (each look's measured character) and ``compare`` (looks side by side on one raw).

What they compute lives in :mod:`lumatune.looktools`; these are the commands only.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lumatune.api import develop
from lumatune.colour.spaces import SPACES
from lumatune.config.look import builtin_looks, load_look
from lumatune.errors import OutputError
from lumatune.io.atomic import atomic_output
from lumatune.io.lut import write_cube
from lumatune.io.sheet import contact_sheet
from lumatune.looktools.bake import bake_look_lut
from lumatune.looktools.character import character_markdown, character_table, stage_times
from lumatune.looktools.chart import chart_figure, save_figure
from lumatune.raw import open_raw

__all__ = ["compare", "look_chart", "look_export", "look_measure", "look_show", "looks_list"]


def looks_list():
    """List the built-in looks."""
    for name in sorted(builtin_looks()):
        typer.echo(f"{name:12s} {load_look(name).description}")


def look_show(name: str = typer.Argument(..., help="built-in look name or .toml file")):
    """Print a look as TOML, with every parameter written out."""
    typer.echo(load_look(name).to_toml(), nl=False)


def look_export(
    name: str = typer.Argument(..., help="built-in look name, look .toml file or .cube"),
    output: Path = typer.Option(..., "-o", "--output", help="the .cube file to write"),
    size: int = typer.Option(33, "--size", min=2, max=256, help="lattice points per axis (33 or 65 are usual)"),
    space: str = typer.Option("srgb", "--space", help="what the LUT's input and output are: srgb, p3 or rec2020"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
):
    """Bake a look's colour and tone into a 3-D .cube LUT over the neutral rendering (for ffmpeg, Resolve, darktable)."""

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

    if output.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise OutputError(f"{output}: look chart writes .png, .svg or .pdf")
    look = load_look(name)
    save_figure(chart_figure(look), output, overwrite)
    typer.echo(f"wrote {output}")


def look_measure(
    names: list[str] | None = typer.Argument(None, help="looks to measure (default: all built-ins)"),
    speed: bool = typer.Option(False, "--speed", help="also time each look stage on a 6000 x 4000 image"),
):
    """Measure each look's character on the virtual camera's ColorChecker; print Markdown tables."""

    names = names or sorted(builtin_looks())
    looks = [load_look(name) for name in names]  # fail before measuring anything
    typer.echo(character_markdown(character_table(names)))
    if speed:
        typer.echo("")
        typer.echo(character_markdown([{"look": look.name, **stage_times(look)} for look in looks]))


def compare(
    input: Path = typer.Argument(..., help="a raw file"),
    looks: str = typer.Option(..., "--looks", help="comma-separated looks: names, .toml or .cube files"),
    output: Path = typer.Option(..., "-o", "--output", help="the sheet to write (.jpg or .png)"),
    width: int = typer.Option(480, "--width", min=64, max=4096, help="width of each picture on the sheet"),
    columns: int = typer.Option(4, "--columns", min=1, max=16, help="pictures per row"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
):
    """Develop one raw in several looks and write them side by side, labelled, on one sheet."""

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
