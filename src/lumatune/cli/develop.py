"""``lumatune develop``: raw files to JPEG, TIFF or PNG, one job per file.

The command's start-up is part of every file's time: numba starts in a background thread and the first raw is
read in another while the look loads, so nothing here imports numba (the pipeline, the encoders) before them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lumatune.cli.options import (
    EXIT_FAILED,
    EXIT_SOME_FAILED,
    bits_option,
    check_format,
    echo_error,
    ev_option,
    format_option,
    jobs_option,
    look_option,
    overwrite_option,
    quality_option,
    space_option,
    tuning_option,
)
from lumatune.config.look import load_look
from lumatune.config.tuning import load_tuning
from lumatune.errors import OutputError
from lumatune.io.formats import FORMATS, format_from_path
from lumatune.jobs.develop_files import DevelopJob, forget_prefetched, prefetch_raw, run_jobs
from lumatune.jobs.pool import workers_started
from lumatune.runtime.numba import start_numba_in_background

__all__ = ["develop"]

_IDLE_MS = 0.05
"""Stages below this found nothing to do (their plan was None); they are listed, not tabulated."""


def develop(
    ctx: typer.Context,
    inputs: list[Path] = typer.Argument(..., help="raw files to develop", readable=False),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="output file (one input) or folder"),
    look: str = look_option(),
    tuning: Optional[Path] = tuning_option(),
    format: Optional[str] = format_option(None, " (default: from -o, else jpeg)"),
    quality: int = quality_option(),
    space: str = space_option(),
    ev: float = ev_option(),
    bits: Optional[int] = bits_option(),
    overwrite: bool = overwrite_option("replace existing output files"),
    jobs: int = jobs_option(1),
    profile: bool = typer.Option(False, "--profile", help="print milliseconds per stage"),
    preview: bool = typer.Option(False, "--preview", help="fast half-size preview (binned mosaic, no demosaic)"),
    merge: bool = typer.Option(False, "--merge", help="merge the inputs (burst or bracket, first = reference), develop"),
):
    """Develop raw files to JPEG, 16-bit TIFF or 16-bit PNG."""
    if merge:
        from lumatune.cli.merge import merged_frames  # lazy: the merge's kernels, for --merge only

        with merged_frames(inputs) as merged:  # output named after the first frame, beside it unless -o says
            develop(ctx, [merged], output or inputs[0].parent, look, tuning, format, quality, space, ev, bits,
                    overwrite, 1, profile, preview, merge=False)
        return
    in_workers = jobs > 1 and len(inputs) > 1  # then each worker process starts its own numba, reads its own files
    if not in_workers:
        start_numba_in_background()  # both overlap loading the look below, and each other
        prefetch_raw(inputs[0])
    started = min(jobs, len(inputs)) if in_workers else 0
    with workers_started(started, jobs, first=inputs):  # they start, and begin reading, while the look loads
        try:
            _develop_all(inputs, output, look, tuning, format, overwrite, jobs, profile, ctx.obj["debug"],
                         {"space": space, "ev": ev, "quality": quality, "bits": bits, "preview": preview})
        finally:
            forget_prefetched()  # a read no job took (the look was bad, the output existed)


def _develop_all(inputs, output, look, tuning, format, overwrite, jobs, profile, debug, options) -> None:
    look_obj = load_look(look)  # fail once, before any file, on a bad look or tuning
    tuning_obj = load_tuning(tuning) if tuning is not None else None
    targets = _targets(inputs, output, format)
    jobs_list = [
        DevelopJob(source=src, target=dst, look=look_obj, tuning=tuning_obj, overwrite=overwrite, profile=profile,
                   debug=debug, **options)
        for src, dst in targets
    ]
    results = run_jobs(jobs_list, workers=jobs, progress=len(jobs_list) > 1)
    failed = [r for r in results if r.error]
    for result in results:
        if result.error:
            echo_error(result.error)
        elif profile and result.profile:
            _print_profile(result.source, result.profile, result.float32_pass_ms, result.bands, result.notes)
    if failed:
        raise typer.Exit(EXIT_FAILED if len(failed) == len(results) else EXIT_SOME_FAILED)


def _targets(inputs: list[Path], output: Optional[Path], format: Optional[str]) -> list[tuple[Path, Path]]:
    """(input, output file) of each input: ``output`` itself for one input and a file name, else a file in the
    ``output`` folder (or beside the input) named after the input, with the format's extension."""
    if format is not None:
        check_format(format)
    single_file = output is not None and len(inputs) == 1 and output.suffix and not output.is_dir()
    if single_file:
        named = format_from_path(output)  # an unknown extension fails here, before any file
        if format and named != format:
            raise OutputError(f"{output}: extension does not match --format {format}")
        if not output.parent.is_dir():
            raise OutputError(f"{output.parent}: output folder does not exist")
        return [(inputs[0], output)]
    extension = FORMATS[format or "jpeg"][0]
    if output is not None and not output.is_dir():
        raise OutputError(f"{output}: output folder does not exist")
    return [(src, (output or src.parent) / (src.stem + extension)) for src in inputs]


def _print_profile(source: Path, profile: dict, pass_ms: float, bands: int = 0, notes=()) -> None:
    """The table of ``--profile``: milliseconds per step and in float32 passes over the image."""
    from rich.console import Console  # lazy: rich's tables (~15 ms), for --profile only
    from rich.table import Table  # lazy: rich (~13 ms)

    from lumatune.stages.registry import STAGES  # lazy: numba (0.4 s); loaded by now, but not before numba's background start

    table = Table(title=f"{source.name}: milliseconds per step")
    table.add_column("step")
    table.add_column("ms", justify="right")
    table.add_column("x one pass", justify="right")
    idle = [name for name, ms in profile.items() if (name in STAGES or name == "orient") and ms < _IDLE_MS]
    for name, ms in profile.items():
        if name not in idle:
            table.add_row(name, f"{ms:.1f}", f"{ms / pass_ms:.1f}" if pass_ms > 0 else "-")
    console = Console()
    console.print(table)
    if idle:
        console.print(f"stages with nothing to do: {', '.join(idle)}", soft_wrap=True)
    if bands:
        console.print(
            f"the demosaic and the stages after it ran in {bands} bands inside the encoder, one band per core at a"
            " time: their times are summed over the bands (core time, not wall time)",
            soft_wrap=True,
        )
    for note in notes:  # what the stages found and did (each lens opcode, lensfun's match)
        console.print(f"note: {note}", soft_wrap=True, markup=False)
    console.print(
        f"one pass = one float32 read-modify-write pass over the developed image, both cores: {pass_ms:.3g} ms",
        soft_wrap=True,
    )
