"""``lumatune lab``: measure renderings against a scene's ground truth, compare them, write a report.

The measurement modules (colour-science, matplotlib) are imported inside the commands, so mounting
this sub-app costs the main command nothing at start-up. Errors are lumatune errors; the main
command prints them as one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lumatune.cli.lab_burst import lab_burst_command
from lumatune.errors import BadFileError
from lumatune.io.atomic import atomic_output
from lumatune.lab.truth import load_truth

__all__ = ["app"]

app = typer.Typer(help="Measure image quality against a virtual camera's ground truth (ΔE2000, MTF, noise, DR).")

TruthOption = Annotated[Path, typer.Option("--truth", "-t", help="Ground-truth JSON written beside the simulated raw.")]
SpaceOption = Annotated[
    str, typer.Option("--space", help="Output space of the images: auto (embedded ICC, else sRGB), srgb, p3, rec2020.")
]
CornersOption = Annotated[
    str | None,
    typer.Option(
        "--corners",
        help="Chart located by the outer corners of its patch grid, 'x,y x,y x,y x,y' from the first patch clockwise.",
    ),
]
DetectOption = Annotated[
    bool,
    typer.Option(
        "--detect", help="Find the chart: lumatune's own finder, then colour-checker-detection if it is installed."
    ),
]
ExposureOption = Annotated[
    bool, typer.Option("--fit-exposure/--no-fit-exposure", help="Fit one exposure scale on the neutral patches first.")
]


def parse_corners(text: str | None) -> list[list[float]] | None:
    """Parse ``"x,y x,y x,y x,y"`` into four points; None passes through."""
    if text is None:
        return None
    try:
        points = [[float(v) for v in pair.split(",")] for pair in text.split()]
    except ValueError:
        points = []
    if len(points) != 4 or any(len(p) != 2 for p in points):
        raise BadFileError(f"--corners: expected four 'x,y' points, got {text!r}")
    return points


def _measure_all(
    images: list[Path], truth: Path, space: str, fit: bool, corners: str | None, detect: bool
) -> list[tuple[str, dict[str, Any]]]:
    from lumatune.lab.measure import measure  # lazy: colour-science, scipy, cv2, matplotlib (1 s)

    loaded = load_truth(truth)
    points = parse_corners(corners)
    return [
        (image.name, measure(image, loaded, space=space, fit_exposure=fit, chart_corners=points, detect_chart=detect))
        for image in images
    ]


def _summary_table(results: list[tuple[str, dict[str, Any]]]) -> Table:
    from lumatune.lab.report import SUMMARY_COLUMNS  # lazy: ~10 ms for every other command

    columns = [c for c in SUMMARY_COLUMNS if any(r.get(c[0]) is not None for _, r in results)]
    table = Table(title="lumatune lab")
    table.add_column("rendering")
    table.add_column("space")
    for _, title, _ in columns:
        table.add_column(title, justify="right")
    for label, result in results:
        cells = ["–" if result.get(k) is None else fmt.format(result[k]) for k, _, fmt in columns]
        table.add_row(label, result["space"], *cells)
    return table


def _patch_table(result: dict[str, Any]) -> Table:
    table = Table(title="patches")
    for title in ("patch", "ΔE00", "ΔE76", "ΔC", "ΔL", "SNR dB", "in gamut"):
        table.add_column(title, justify="left" if title == "patch" else "right")
    for p in result["patches"]:
        snr = p.get("snr_db")
        table.add_row(
            p["name"], f"{p['de00']:.2f}", f"{p['de76']:.2f}", f"{p['dc']:+.2f}", f"{p['dl']:+.2f}",
            "–" if snr is None else f"{snr:.1f}", "yes" if p["in_gamut"] else "no",
        )
    return table


@app.command("measure")
def measure_command(
    image: Annotated[Path, typer.Argument(help="Rendered TIFF, PNG or JPEG.")],
    truth: TruthOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
    space: SpaceOption = "auto",
    fit_exposure: ExposureOption = True,
    corners: CornersOption = None,
    detect: DetectOption = False,
) -> None:
    """Measure one rendering: colour accuracy, AWB, MTF, noise, dynamic range, artefacts."""
    [(label, result)] = _measure_all([image], truth, space, fit_exposure, corners, detect)
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
        return
    console = Console()
    console.print(_summary_table([(label, result)]))
    if "patches" in result:
        console.print(_patch_table(result))


@app.command("compare")
def compare_command(
    images: Annotated[list[Path], typer.Argument(help="Renderings of the same scene.")],
    truth: TruthOption,
    space: SpaceOption = "auto",
    fit_exposure: ExposureOption = True,
    corners: CornersOption = None,
    detect: DetectOption = False,
) -> None:
    """Compare renderings of one scene side by side, one row each."""
    Console().print(_summary_table(_measure_all(images, truth, space, fit_exposure, corners, detect)))


@app.command("report")
def report_command(
    images: Annotated[list[Path], typer.Argument(help="Renderings of the same scene.")],
    truth: TruthOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing report.")] = False,
    space: SpaceOption = "auto",
    fit_exposure: ExposureOption = True,
    corners: CornersOption = None,
    detect: DetectOption = False,
) -> None:
    """Write a self-contained HTML report with plots for one or more renderings."""
    from lumatune.lab.report import render_report_html  # lazy: ~10 ms for every other command

    with atomic_output(output, overwrite=overwrite) as temporary:  # refuses before measuring
        results = _measure_all(images, truth, space, fit_exposure, corners, detect)
        temporary.write_text(render_report_html(results, load_truth(truth)), encoding="utf-8")
    typer.echo(f"wrote {output}")


app.command("burst")(lab_burst_command)
