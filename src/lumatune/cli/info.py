"""``lumatune info``: what a raw file says about itself."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lumatune.raw.info import raw_info

__all__ = ["info"]


def info(
    input: Path = typer.Argument(..., help="a raw file", readable=False),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
):
    """Camera, lens, exposure, CFA, levels, white balance and matrices of a raw."""
    from lumatune.stages.lens import lens_report  # lazy: numba (0.4 s), once the raw has been read

    facts = raw_info(input, lens_report=lens_report)
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    table = Table(show_header=False, title=str(input))
    for key, value in facts.items():
        table.add_row(key, value if isinstance(value, str) else json.dumps(value))
    Console().print(table)
