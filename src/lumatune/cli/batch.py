"""``lumatune batch``: develop a folder of raws, resumably, locally or on a Dask cluster.

The command reads the options, installs the signal handlers that stop a batch cleanly and turns the summary into
lines and an exit code; :mod:`lumatune.jobs.batch` does the work.
"""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Optional

import typer

from lumatune.cli.options import (
    EXIT_FAILED,
    EXIT_SIGNAL_BASE,
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
from lumatune.jobs.batch import (
    DEFAULT_TIMEOUT_S,
    MANIFEST_NAME,
    BatchSettings,
    BatchStopped,
    BatchSummary,
    find_raws,
    run_batch,
)
from lumatune.io.formats import FORMATS, check_encoder_available, check_options
from lumatune.jobs.cluster import SCHEDULER_TIMEOUT_S
from lumatune.jobs.pool import default_workers, workers_started

__all__ = ["batch_command"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop a batch cleanly: Ctrl-C, and what ``timeout``, systemd, Slurm and Kubernetes send."""


def batch_command(
    input_dir: Path = typer.Argument(..., help="folder of raw files (searched recursively)", readable=False),
    output: Path = typer.Option(..., "-o", "--output", help="output folder (created if needed)", readable=False),
    look: str = look_option(),
    tuning: Optional[Path] = tuning_option(),
    format: str = format_option("jpeg"),
    quality: int = quality_option(),
    space: str = space_option(),
    ev: float = ev_option(),
    bits: Optional[int] = bits_option(),
    jobs: int = jobs_option(
        default_workers(),
        "worker processes, each on its share of the cores (default: one per two cores); a crash fails one file",
    ),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler",
        help=f"run on a Dask cluster: tcp://HOST:PORT (one line and exit if no Dask scheduler answers within "
        f"{SCHEDULER_TIMEOUT_S} s)",
    ),
    overwrite: bool = overwrite_option("replace outputs this batch did not write"),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT_S, "--timeout", min=0,
        help="seconds one file may take; a file past it is stopped (its worker killed and replaced) and recorded as "
        "failed, and the batch goes on (0: no limit)",
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="try again the files an earlier run recorded as failed (timed out, unreadable)"
    ),
):
    """Develop every raw in a folder, resumably: a killed batch picks up where it stopped.

    Files that failed are recorded in the manifest and not tried again unless --retry-failed (or their input or
    the settings changed). SIGINT (Ctrl-C) or SIGTERM stops the workers, keeps only whole outputs, and exits with
    130 or 143.
    """
    raws = [] if scheduler else _raws(input_dir, output)
    with workers_started(min(jobs, len(raws)), jobs, first=raws[:jobs]):  # they start while this process prepares
        settings = _settings(output, look, tuning, format, quality, bits, space, ev)
        with _stop_on_signals():
            try:
                summary = run_batch(
                    input_dir, output, settings, workers=jobs, scheduler=scheduler, overwrite=overwrite,
                    timeout=timeout or None, retry_failed=retry_failed, progress=True,
                )
            except BatchStopped as stop:  # before the batch's manifest was open: nothing to clean up
                summary = BatchSummary(stopped=stop.signum)
    if summary.stopped is not None:
        echo_error(summary.stop_line())
        raise typer.Exit(_exit_code(summary))
    for _key, message in summary.failed:
        echo_error(message)
    typer.echo(f"{summary.line()}; manifest {output / MANIFEST_NAME}")
    if _exit_code(summary):
        raise typer.Exit(_exit_code(summary))


def _raws(input_dir: Path, output: Path) -> list[Path]:
    """The raws the batch may develop, in its order (none when the folder cannot be read: :func:`run_batch` says
    why)."""
    return [input_dir / relative for relative in find_raws(input_dir, skip=output)[0]] if input_dir.is_dir() else []


def _settings(output, look, tuning, format, quality, bits, space, ev) -> BatchSettings:
    """The batch's settings; fails once, before any file, on options no output can take."""
    check_format(format)
    every_output = output / f"*{FORMATS[format][0]}"
    check_options(every_output, format, quality, bits, space)
    check_encoder_available(every_output, format)
    return BatchSettings(
        look=load_look(look), tuning=load_tuning(tuning) if tuning is not None else None, format=format,
        quality=quality, bits=bits, space=space, ev=ev,
    )


def _exit_code(summary: BatchSummary) -> int:
    """0 when every file is done; 128 + the signal that stopped the batch; else 1 when all failed, 3 when some."""
    if summary.stopped is not None:
        return EXIT_SIGNAL_BASE + summary.stopped
    if not summary.failed:
        return 0
    return EXIT_FAILED if not (summary.done or summary.skipped) else EXIT_SOME_FAILED


@contextlib.contextmanager
def _stop_on_signals():
    """While the batch runs, SIGINT and SIGTERM raise :class:`BatchStopped` in the main thread (its clean-up then
    kills the workers and removes the staging folder); a second signal during that clean-up is ignored."""

    def stop(signum, _frame) -> None:
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise BatchStopped(signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
