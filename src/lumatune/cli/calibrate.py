"""``lumatune calibrate``: colour, shading and noise calibration of a camera into a tuning file.

Every command measures everything first and writes nothing when anything fails (each output is written
atomically, the tuning last). Errors are lumatune errors; the main command prints them as one line. The
fitting modules (colour-science, scipy, matplotlib) are imported inside the commands, so mounting this
sub-app costs the main command nothing at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from lumatune.calibrate.noise import calibrate_noise
from lumatune.calibrate.shading import calibrate_shading
from lumatune.calibrate.tuningfile import write_tuning_blocks
from lumatune.errors import BadFileError, OutputError

__all__ = ["app", "parse_corners"]

app = typer.Typer(help="Calibrate a camera from chart, flat-field and noise raws into a tuning file (and a DCP).")

OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Tuning TOML file to write.")]
UpdateOption = Annotated[
    bool, typer.Option("--update", help="Keep the other blocks of an existing tuning (same camera); replace this one.")
]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace existing output files.")]
ReportOption = Annotated[Path | None, typer.Option("--report", help="Also write an HTML report (e.g. report.html).")]


def parse_corners(text: str | None):
    """Parse ``"x1,y1,x2,y2,x3,y3,x4,y4"`` (commas or spaces) into a (4, 2) array; None passes through."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        values = []
    if len(values) != 8:
        raise BadFileError(f"--corners: expected 8 numbers x1,y1,...,x4,y4, got {text!r}")
    return np.asarray(values, dtype=np.float64).reshape(4, 2)


def _check_outputs(paths: list[Path | None], *, overwrite: bool, tuning: Path, update: bool) -> None:
    """Refuse before any work when an output exists and may not be replaced."""
    if tuning.exists() and not (update or overwrite):
        raise OutputError(f"{tuning}: exists (use --update to replace only the calibrated blocks, or --overwrite)")
    for path in paths:
        if path is not None and path.exists() and not overwrite:
            raise OutputError(f"{path}: exists (use --overwrite)")
    for path in [tuning, *paths]:
        if path is not None and not path.parent.is_dir():
            raise OutputError(f"{path}: output folder does not exist")


@app.command()
def colour(
    raws: Annotated[list[Path], typer.Argument(help="ColorChecker raws of one camera (one or more illuminants).")],
    output: OutputOption,
    chart: Annotated[str, typer.Option("--chart", help="Chart type (cc24: ColorChecker Classic 24).")] = "cc24",
    illuminant: Annotated[
        str,
        typer.Option(
            "--illuminant",
            help="auto (from the chart's greys), a name (A, D50, D55, D65, D75, F2, F7, F11, <N>K) for all raws, "
            "or one per raw separated by commas.",
        ),
    ] = "auto",
    corners: Annotated[
        str | None,
        typer.Option(
            "--corners",
            help="Outer corners of the patch grid in raw pixels, x1,y1,...,x4,y4 clockwise from the dark-skin corner.",
        ),
    ] = None,
    locate: Annotated[
        str,
        typer.Option(
            "--locate",
            help="auto (corners, else a lumatune truth file beside the raw, else the finders), corners, "
            "truth (virtual-camera truth file), builtin (lumatune's finder) or detect (lumatune's finder, "
            "then colour-checker-detection if installed).",
        ),
    ] = "auto",
    dcp: Annotated[Path | None, typer.Option("--dcp", help="Also write a DNG Camera Profile (.dcp).")] = None,
    hue_sat_map: Annotated[
        bool, typer.Option("--hue-sat-map", help="Fit a hue/saturation table too (in the tuning, the DCP and the report).")
    ] = False,
    report: ReportOption = None,
    update: UpdateOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Fit the colour matrix per illuminant (least mean ΔE2000, white preserved) into [colour_matrix]."""
    from lumatune.calibrate.chart import CHART_NAMES, LOCATE_METHODS  # lazy: cv2 (~60 ms)
    from lumatune.calibrate.colour import calibrate_colour  # lazy: cv2 (~31 ms)

    if chart not in CHART_NAMES:
        raise BadFileError(f"--chart: '{chart}' is not one of {', '.join(CHART_NAMES)}")
    if locate not in LOCATE_METHODS:
        raise BadFileError(f"--locate: '{locate}' is not one of {', '.join(LOCATE_METHODS)}")
    _check_outputs([dcp, report], overwrite=overwrite, tuning=output, update=update)
    illuminants = [name.strip() for name in illuminant.split(",") if name.strip()] or ["auto"]
    calibration = calibrate_colour(raws, illuminants=illuminants, corners=parse_corners(corners), locate=locate)
    maps, hue_sat_de00 = (), None
    if hue_sat_map:
        from lumatune.calibrate.huesat import fit_calibration_hue_sat_maps  # lazy: numba (0.4 s)

        maps, hue_sat_de00 = fit_calibration_hue_sat_maps(calibration)
    profile = None
    if dcp is not None:
        from lumatune.calibrate.dcp import profile_from_calibration  # lazy: cv2 (~60 ms)

        profile = profile_from_calibration(calibration, hue_sat_maps=maps)
    if report is not None:
        from lumatune.calibrate.report import write_report  # lazy: cv2 (~60 ms), matplotlib when writing

        write_report(report, overwrite=overwrite, colour=[calibration], hue_sat_de00=[hue_sat_de00])
    if profile is not None:
        from lumatune.calibrate.dcp import write_dcp  # lazy: cv2 (~60 ms)

        write_dcp(dcp, profile, overwrite=overwrite)
    blocks = {"colour_matrix": calibration.block()}
    if maps:
        blocks["hue_sat_map"] = {
            "maps": [
                {"ct": round(float(fit.ct), 1), "table": np.round(table.table[0], 5).tolist()}
                for fit, table in sorted(zip(calibration.fits, maps), key=lambda pair: pair[0].ct)
            ]
        }
    write_tuning_blocks(output, blocks, camera=calibration.camera, update=update, overwrite=overwrite)
    for fit in calibration.fits:
        typer.echo(
            f"{fit.illuminant} ({fit.ct:.0f} K, {len(fit.shots)} chart(s)): mean ΔE00 metadata "
            f"{fit.de00_metadata.mean():.2f} -> fitted {fit.de00_fitted.mean():.2f}"
        )
    typer.echo(f"wrote [{'] and ['.join(blocks)}] to {output}")


def _save(calibration, block: str, section: str, output: Path, report: Path | None, update: bool, overwrite: bool):
    """Write the report's ``section`` (when a report is asked for) and the calibration's tuning ``block``."""
    if report is not None:
        from lumatune.calibrate.report import write_report  # lazy: cv2 (~60 ms), matplotlib when writing

        write_report(report, overwrite=overwrite, **{section: calibration})
    write_tuning_blocks(output, {block: calibration.block()}, camera=calibration.camera, update=update,
                        overwrite=overwrite)


@app.command()
def shading(
    flats: Annotated[list[Path], typer.Argument(help="Flat-field raws of one camera and lens setting.")],
    output: OutputOption,
    report: ReportOption = None,
    update: UpdateOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Fit per-channel lens-shading gain grids into [lens_shading]."""

    _check_outputs([report], overwrite=overwrite, tuning=output, update=update)
    calibration = calibrate_shading(flats)
    _save(calibration, "lens_shading", "shading", output, report, update, overwrite)
    typer.echo(
        f"corner falloff R/G/B: {', '.join(f'{v:.3f}' for v in calibration.falloff)}; wrote [lens_shading] to {output}"
    )


@app.command()
def lens(
    shots: Annotated[list[Path], typer.Argument(help="Checkerboard raws of one camera, lens and focal length.")],
    output: OutputOption,
    pattern: Annotated[str, typer.Option("--pattern", help="Inner corners of the board, COLUMNSxROWS (e.g. 11x7).")],
    lensfun_xml: Annotated[
        Path | None, typer.Option("--lensfun-xml", help="lensfun entry to write (default: beside -o, .xml).")
    ] = None,
    update: UpdateOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Fit distortion and lateral colour from checkerboard shots into [lens], and a lensfun XML entry."""
    from lumatune.calibrate.lens import calibrate_lens, write_lensfun_xml  # lazy: cv2 (~60 ms)

    try:
        columns, rows = (int(v) for v in pattern.lower().split("x"))
    except ValueError:
        raise BadFileError(f"--pattern {pattern!r}: expected COLUMNSxROWS, e.g. 11x7") from None
    if min(columns, rows) < 2:
        raise BadFileError(f"--pattern {pattern!r}: at least 2x2 inner corners")
    xml = lensfun_xml or output.with_suffix(".xml")
    _check_outputs([xml], overwrite=overwrite, tuning=output, update=update)
    calibration = calibrate_lens(shots, (columns, rows))
    write_lensfun_xml(calibration, xml, overwrite)
    write_tuning_blocks(output, {"lens": calibration.block()}, camera=calibration.camera, update=update,
                        overwrite=overwrite)
    corner = sum(calibration.radial) - 1.0
    typer.echo(
        f"distortion at the corner {corner:+.2%}, red/blue magnification {calibration.magnification[0]:.5f}/"
        f"{calibration.magnification[1]:.5f}, reprojection RMS {calibration.rms_px:.3f} px; wrote [lens] to {output}"
        f" and {xml}"
    )


@app.command()
def noise(
    raws: Annotated[
        list[Path],
        typer.Argument(help="Raws of one camera: pairs of one scene per ISO (flats, a step wedge) or single frames."),
    ],
    output: OutputOption,
    report: ReportOption = None,
    update: UpdateOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Fit the per-channel Poisson-Gaussian noise model per ISO into [denoise] (DNG NoiseProfile convention)."""

    _check_outputs([report], overwrite=overwrite, tuning=output, update=update)
    calibration = calibrate_noise(raws)
    _save(calibration, "denoise", "noise", output, report, update, overwrite)
    for fit in calibration.fits:
        s, o = fit.profile.mean(axis=0)
        typer.echo(f"ISO {fit.iso:g} ({fit.method}): S {s:.4g}, O {o:.4g}")
    typer.echo(f"wrote [denoise] profiles to {output}")
