"""``lumatune look learn`` and ``lumatune look diff``: plain typer functions the ``look`` command mounts.

Heavy modules (scipy, colour-science, matplotlib, the virtual camera) load inside the functions, so that
mounting these commands costs no start-up time.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lumatune.cli.options import echo_error
from lumatune.config.look import load_look

__all__ = ["learn_command", "diff_command"]


def learn_command(
    pairs: list[str] = typer.Argument(
        ..., help="raws (the target is the camera's embedded JPEG) or RAW=IMAGE pairs (any rendering of the raw)"
    ),
    output: Path = typer.Option(..., "-o", "--output", help="the look .toml to write (its .cube goes beside it)"),
    holdout: float = typer.Option(
        0.2, "--holdout", min=0.05, max=0.5, help="fraction held out: whole pairs when enough, else a band of each"
    ),
    lut_size: int = typer.Option(33, "--lut-size", min=5, max=65, help="LUT lattice points per axis"),
    allow_mixed: bool = typer.Option(False, "--allow-mixed", help="accept pairs from different cameras"),
    report: bool = typer.Option(True, "--report/--no-report", help="write the report (HTML, PNG, JSON) beside it"),
    seed: int = typer.Option(0, "--seed", help="seed of the held-out choice and the sample draws"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing files"),
):
    """Learn a look from raws and renderings of them (the camera's JPEGs or any other), with its measured error."""
    from lumatune.learn.learner import learn_look  # lazy: numba, scipy, cv2 (0.3 s)

    outcome = learn_look(
        pairs, output, holdout=holdout, lut_size=lut_size, allow_mixed=allow_mixed, seed=seed, report=report,
        overwrite=overwrite, progress=lambda message: typer.echo(message, err=True),
        on_problem=echo_error,
    )
    typer.echo(f"{len(outcome.used)} pair{'s' * (len(outcome.used) != 1)} used ({outcome.camera}); {outcome.split}")
    for stage in outcome.fit.log:
        note = f"  ({stage.note})" if stage.note else ""
        typer.echo(f"  {stage.name:9s} {stage.held_out_de00:6.2f}  {'kept' if stage.kept else 'left out'}{note}")
    typer.echo("held-out ΔE00 (mean / 95th percentile):")
    for name, numbers in outcome.held_out.items():
        typer.echo(f"  {name:9s} {numbers['mean']:6.2f} / {numbers['p95']:.2f}")
    for path in outcome.files:
        typer.echo(f"wrote {path}")


def diff_command(
    a: str = typer.Argument(..., help="a look: built-in name, .toml or .cube"),
    b: str = typer.Argument(..., help="the look to compare it with"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
):
    """How two looks differ: tone curve, saturation and hue shift per hue, ΔE00 on a chart and a scene."""
    from lumatune.looktools.diff import look_diff  # lazy: numba, scipy, cv2 (0.5 s)

    load_look(a), load_look(b)  # fail on a bad look before any work
    result = look_diff(a, b)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    console = Console()
    tone = Table(title=f"tone: display value of greys (sRGB-encoded), {result['a']} vs {result['b']}")
    for column in ("EV from mid grey", result["a"], result["b"], "difference"):
        tone.add_column(column, justify="right")
    for row in result["tone"]:
        tone.add_row(f"{row['ev']:+.2f}", f"{row['a']:.3f}", f"{row['b']:.3f}", f"{row['b'] - row['a']:+.3f}")
    console.print(tone)
    hue = Table(title="per hue: saturation over neutral's and hue shift (degrees)")
    for column in ("hue", f"saturation {result['a']}", f"saturation {result['b']}", f"shift {result['a']}",
                   f"shift {result['b']}"):
        hue.add_column(column, justify="right")
    for row in result["hue"]:
        hue.add_row(row["hue"], f"{row['saturation_a']:.3f}", f"{row['saturation_b']:.3f}", f"{row['shift_a']:+.1f}",
                    f"{row['shift_b']:+.1f}")
    console.print(hue)
    chart, scene = result["chart_de00"], result["scene_de00"]
    console.print(f"ColorChecker 24: mean ΔE00 {chart['mean']:.2f}, largest {chart['max']:.2f}")
    console.print(f"virtual natural scene: mean ΔE00 {scene['mean']:.2f}, 95th percentile {scene['p95']:.2f}")
