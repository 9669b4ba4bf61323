"""``lumatune demo``: the virtual camera's raws developed in every built-in look (see :mod:`lumatune.jobs.demo`)."""

from __future__ import annotations

from pathlib import Path

import typer

from lumatune.jobs.demo import run_demo

__all__ = ["demo"]


def demo(
    folder: Path = typer.Argument(Path("lumatune-demo"), help="where to write the demo (created if needed)"),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite", help="replace an earlier demo's files"),
):
    """Make raws with the virtual camera, develop them in every built-in look, write a contact sheet and index.html."""
    index = run_demo(folder, overwrite=overwrite)
    typer.echo(f"wrote {index}")
