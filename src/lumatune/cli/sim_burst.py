"""``lumatune sim burst``: simulate a handheld burst or exposure bracket, with the truth a merge is measured by.

``lumatune sim`` is one command whose argument is a scene; :class:`SimCommand` (the class the app mounts
``sim`` with) hands ``sim burst ...`` to :func:`sim_burst_command` and every other ``sim ...`` to the scene
command, so ``burst`` reads like a sub-command without changing ``sim``'s own options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperCommand

from lumatune.cli.sim import parse_size
from lumatune.errors import UnsupportedError

__all__ = ["SimCommand", "parse_bracket", "sim_burst_command"]


def parse_bracket(text: Optional[str]) -> list[float] | None:
    """Parse ``"0,-2,2"`` (one ev per frame, the reference first) into floats; None passes through.

    Examples
    --------
    >>> parse_bracket("0,-2,+2")
    [0.0, -2.0, 2.0]
    """
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise UnsupportedError(f"--bracket {text!r}: expected evs separated by commas, e.g. 0,-2,2") from None
    if len(values) < 2 or any(abs(v) > 10 for v in values):
        raise UnsupportedError(f"--bracket {text!r}: expected two or more evs in [-10, 10]")
    return values


def sim_burst_command(
    output: Path = typer.Option(..., "-o", "--output", help="folder for frame_NN.dng, truth.json and truth.npz"),
    scene: str = typer.Option("natural", "--scene", help="scene to simulate (see lumatune sim --list)"),
    frames: int = typer.Option(8, "--frames", help="number of frames (the first is the reference)"),
    iso: int = typer.Option(12800, "--iso", help="ISO speed (noise rises with it)"),
    ev: float = typer.Option(0.0, "--ev", help="exposure of every frame, stops"),
    bracket: Optional[str] = typer.Option(None, "--bracket", help="one ev per frame, e.g. 0,-2,2 (sets --frames)"),
    motion: float = typer.Option(6.0, "--motion", help="handheld translation, pixels (standard deviation)"),
    rotation: float = typer.Option(0.3, "--rotation", help="handheld rotation, degrees (standard deviation)"),
    moving: bool = typer.Option(False, "--moving", help="add an object moving across the frame"),
    size: str = typer.Option("1024x768", "--size", help="frame size WIDTHxHEIGHT"),
    cfa: str = typer.Option("RGGB", "--cfa", help="colour filter array: RGGB, BGGR, GRBG, GBRG or XTRANS"),
    seed: int = typer.Option(0, "--seed", help="seed of the motion and the noise"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing output files"),
) -> None:
    """Simulate a burst (or bracket) of raws with handheld motion; writes the frames and the truth."""
    evs = parse_bracket(bracket)
    if not output.is_dir():
        raise UnsupportedError(f"{output}: output folder does not exist")
    from lumatune.sim.burst import simulate_burst, write_burst  # lazy: cv2, colour-science (~1 s)

    result = simulate_burst(
        scene, frames=len(evs) if evs else frames, size=parse_size(size), iso=iso, ev=ev, bracket=evs,
        motion_px=motion, rotation_deg=rotation, moving=moving, seed=seed, cfa=cfa,
    )
    for path in write_burst(output, result, overwrite=overwrite):
        typer.echo(str(path))


_burst_app = typer.Typer(add_completion=False)
_burst_app.command("burst")(sim_burst_command)


class SimCommand(TyperCommand):
    """``sim``: the scene command, or ``sim burst`` when the first argument is ``burst``."""

    def make_context(self, info_name, args, parent=None, **extra):
        if args and args[0] == "burst":
            burst = typer.main.get_command(_burst_app)
            return burst.make_context(f"{info_name} burst", list(args[1:]), parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        formatter.write_text("lumatune sim burst --help: simulate a handheld burst or exposure bracket.")
