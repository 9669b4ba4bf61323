"""The ``lumatune`` command (typer + rich).

Every error lumatune raises on purpose becomes one line on stderr and a non-zero exit code; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from lumatune.errors import LumatuneError, OutputError

app = typer.Typer(
    help="lumatune: develop camera raws through a tunable pipeline, give them a look, measure the quality.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_STATE = {"debug": False}

EXIT_FAILED = 1
EXIT_SOME_FAILED = 3

_EXTENSIONS = {"jpeg": ".jpg", "tiff": ".tif", "png": ".png", "heif": ".heic", "avif": ".avif"}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="show tracebacks instead of one-line errors")):
    _STATE["debug"] = debug


def _err(message: str) -> None:
    """One line on stderr, whatever the message holds (a file name may contain a line break)."""
    one_line = message.replace("\r", "\\r").replace("\n", "\\n")
    typer.echo(f"lumatune: {one_line}", err=True)


@app.command()
def develop(
    inputs: list[Path] = typer.Argument(..., help="raw files to develop", readable=False),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="output file (one input) or folder"),
    look: str = typer.Option("default", "--look", help="built-in look name or look .toml file"),
    tuning: Optional[Path] = typer.Option(None, "--tuning", help="tuning .toml file (default: from metadata)"),
    format: Optional[str] = typer.Option(None, "--format", help="jpeg, tiff or png (default: from -o, else jpeg)"),
    quality: int = typer.Option(95, "--quality", min=1, max=100, help="JPEG quality"),
    space: str = typer.Option("srgb", "--space", help="output colour space: srgb, p3 or rec2020"),
    ev: float = typer.Option(0.0, "--ev", help="exposure change in EV"),
    bits: Optional[int] = typer.Option(None, "--bits", help="8 or 16 (default: 8 for JPEG, 16 for TIFF/PNG)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing output files"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="files developed in parallel"),
    profile: bool = typer.Option(False, "--profile", help="print milliseconds per stage"),
    preview: bool = typer.Option(False, "--preview", help="fast half-size preview (binned mosaic, no demosaic)"),
):
    """Develop raw files to JPEG, 16-bit TIFF or 16-bit PNG."""
    from lumatune.jobs.develop_files import forget_prefetched, prefetch_raw

    if jobs == 1 or len(inputs) == 1:  # else each worker process starts its own numba and reads its own files
        from lumatune.runtime.numba import start_numba_in_background

        start_numba_in_background()  # both overlap loading the look below, and each other
        prefetch_raw(inputs[0])
    try:
        _develop_all(inputs, output, look, tuning, format, overwrite, jobs, profile,
                     {"space": space, "ev": ev, "quality": quality, "bits": bits, "preview": preview})
    finally:
        forget_prefetched()  # a read no job took (the look was bad, the output existed)


def _develop_all(inputs, output, look, tuning, format, overwrite, jobs, profile, options) -> None:
    from lumatune.jobs.develop_files import DevelopJob, run_jobs
    from lumatune.config.look import load_look
    from lumatune.config.tuning import load_tuning

    look_obj = load_look(look)  # fail once, before any file, on a bad look or tuning
    tuning_obj = load_tuning(tuning) if tuning is not None else None
    targets = _targets(inputs, output, format)
    jobs_list = [
        DevelopJob(source=src, target=dst, look=look_obj, tuning=tuning_obj, overwrite=overwrite, profile=profile,
                   debug=_STATE["debug"], **options)
        for src, dst in targets
    ]
    results = run_jobs(jobs_list, workers=jobs, progress=len(jobs_list) > 1)
    failed = [r for r in results if r.error]
    for result in results:
        if result.error:
            _err(result.error)
        elif profile and result.profile:
            _print_profile(result.source, result.profile, result.float32_pass_ms, result.bands)
    if failed:
        raise typer.Exit(EXIT_FAILED if len(failed) == len(results) else EXIT_SOME_FAILED)


def _targets(inputs: list[Path], output: Optional[Path], format: Optional[str]) -> list[tuple[Path, Path]]:
    from lumatune.io.encode import format_from_path

    if format is not None and format not in _EXTENSIONS:
        raise OutputError(f"unknown format '{format}' (valid: {', '.join(_EXTENSIONS)})")
    single_file = output is not None and len(inputs) == 1 and output.suffix and not output.is_dir()
    if single_file:
        fmt = format or format_from_path(output)
        if format and format_from_path(output) != format:
            raise OutputError(f"{output}: extension does not match --format {format}")
        if not output.parent.is_dir():
            raise OutputError(f"{output.parent}: output folder does not exist")
        return [(inputs[0], output)]
    fmt = format or "jpeg"
    if output is not None and not output.is_dir():
        raise OutputError(f"{output}: output folder does not exist")
    return [((src), (output or src.parent) / (src.stem + _EXTENSIONS[fmt])) for src in inputs]


_IDLE_MS = 0.05
"""Stages below this found nothing to do (their plan was None); they are listed, not tabulated."""


def _print_profile(source: Path, profile: dict, pass_ms: float, bands: int = 0) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{source.name}: milliseconds per step")
    table.add_column("step")
    table.add_column("ms", justify="right")
    table.add_column("x one pass", justify="right")
    from lumatune.pipeline import STAGES

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
    console.print(
        f"one pass = one float32 read-modify-write pass over the developed image, both cores: {pass_ms:.3g} ms",
        soft_wrap=True,
    )


@app.command()
def info(
    input: Path = typer.Argument(..., help="a raw file", readable=False),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
):
    """Camera, lens, exposure, CFA, levels, white balance and matrices of a raw."""
    from lumatune.raw.info import raw_info

    facts = raw_info(input)
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, title=str(input))
    for key, value in facts.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    Console().print(table)


@app.command()
def demo(
    folder: Path = typer.Argument(Path("lumatune-demo"), help="where to write the demo (created if needed)"),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite", help="replace an earlier demo's files"),
):
    """Make raws with the virtual camera, develop them in every built-in look, write a contact sheet and index.html."""
    from lumatune.jobs.demo import run_demo

    index = run_demo(folder, overwrite=overwrite)
    typer.echo(f"wrote {index}")


@app.command("looks")
def looks_list():
    """List the built-in looks."""
    from lumatune.config.look import builtin_looks, load_look

    for name in sorted(builtin_looks()):
        typer.echo(f"{name:12s} {load_look(name).description}")


look_app = typer.Typer(help="Show, export, chart, measure, learn and compare looks.", no_args_is_help=True)
app.add_typer(look_app, name="look")


@look_app.command("show")
def look_show(name: str = typer.Argument(..., help="built-in look name or .toml file")):
    """Print a look as TOML, with every parameter written out."""
    from lumatune.config.look import load_look

    typer.echo(load_look(name).to_toml(), nl=False)


def _mount_optional_commands() -> None:
    """Sub-commands that live in their own modules (virtual camera, lab, calibration, look tools)."""
    from lumatune.cli import looks as look_cli
    from lumatune.jobs.batch import batch_command
    from lumatune.cli.calibrate import app as calibrate_app
    from lumatune.cli.lab import app as lab_app
    from lumatune.cli.learn import diff_command, learn_command
    from lumatune.cli.sim import sim_command

    app.command("batch")(batch_command)
    app.command("sim")(sim_command)
    app.add_typer(lab_app, name="lab")
    app.add_typer(calibrate_app, name="calibrate")
    look_app.command("export")(look_cli.look_export)
    look_app.command("chart")(look_cli.look_chart)
    look_app.command("measure")(look_cli.look_measure)
    look_app.command("learn")(learn_command)
    look_app.command("diff")(diff_command)
    app.command("compare")(look_cli.compare)


def entry_point() -> None:
    """The ``lumatune`` program: :func:`main`; ``develop`` then exits without the interpreter's teardown.

    Tearing down a process that has loaded numba and LLVM takes 0.2-0.3 s (measured on a 24-MP develop). When
    ``develop`` returns, every output is written, closed and renamed and its worker pools are shut down, so
    after flushing stdout and stderr the process ends at once (``os._exit``) with main's exit code. Other
    commands (which may leave clean-up to ``atexit``) exit normally.
    """
    import os

    if _command(sys.argv[1:]) != "develop":
        main()
        return
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _command(args: list[str]) -> str | None:
    """The sub-command named on the command line (its first argument that is not an option)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning lumatune errors into one line and an exit code.

    Usage errors are typer's own (exit code 2); a lumatune error exits 1; a bug exits 70 with one line.
    """
    args = sys.argv[1:] if argv is None else argv
    if _command(args) != "develop":  # the hot path does not pay for importing the other commands' modules (~60 ms)
        _mount_optional_commands()
    debug = "--debug" in args
    try:
        app(args=args, prog_name="lumatune")
    except LumatuneError as error:
        if debug:
            raise
        _err(str(error))
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug: still one line unless --debug
        if debug:
            raise
        _err(f"internal error: {error.__class__.__name__}: {error} (run with --debug for the traceback)")
        sys.exit(70)
