"""What the commands share: the develop options (``develop`` and ``batch``), the exit codes, the error line.

Each option is defined once here; a command passes the default (and the help's last words) where its own differ,
e.g. ``--jobs`` is 1 for ``develop`` and every core for ``batch``. Only typer is imported: ``develop``'s start-up
pays for nothing else.
"""

from __future__ import annotations

from typing import Any

import typer

from lumatune.errors import OutputError, one_line
from lumatune.io.formats import FORMATS

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL_ERROR",
    "EXIT_SIGNAL_BASE",
    "EXIT_SOME_FAILED",
    "bits_option",
    "check_format",
    "echo_error",
    "ev_option",
    "format_option",
    "jobs_option",
    "look_option",
    "overwrite_option",
    "quality_option",
    "space_option",
    "tuning_option",
]

EXIT_FAILED = 1
"""Every input failed, or a lumatune error stopped the command (usage errors are typer's own, 2)."""
EXIT_SOME_FAILED = 3
"""Some inputs were developed, some failed."""
EXIT_INTERNAL_ERROR = 70
"""A bug (EX_SOFTWARE of BSD ``sysexits.h``)."""
EXIT_SIGNAL_BASE = 128
"""A command stopped by a signal exits with 128 + its number, as a shell reports it: 130 (SIGINT), 143 (SIGTERM)."""


def echo_error(message: str) -> None:
    """``lumatune: <message>`` on stderr, one line whatever the message holds (:func:`lumatune.errors.one_line`)."""
    typer.echo(f"lumatune: {one_line(message)}", err=True)


def check_format(format: str) -> None:
    """Raise :class:`~lumatune.errors.OutputError` unless ``format`` is one of :data:`lumatune.io.formats.FORMATS`."""
    if format not in FORMATS:
        raise OutputError(f"unknown format '{format}' (valid: {', '.join(FORMATS)})")


def look_option() -> Any:
    """``--look``: a built-in look or a look file."""
    return typer.Option("default", "--look", help="built-in look name or look .toml file")


def tuning_option() -> Any:
    """``--tuning``: a tuning file; none derives the tuning from the raw's metadata."""
    return typer.Option(None, "--tuning", help="tuning .toml file (default: from metadata)")


def format_option(default: str | None, default_help: str = "") -> Any:
    """``--format`` with ``default``; ``default_help`` says where a missing format comes from."""
    return typer.Option(default, "--format", help=f"jpeg, tiff or png{default_help}")


def quality_option() -> Any:
    """``--quality``: JPEG quality 1..100."""
    return typer.Option(95, "--quality", min=1, max=100, help="JPEG quality")


def space_option() -> Any:
    """``--space``: the output colour space."""
    return typer.Option("srgb", "--space", help="output colour space: srgb, p3 or rec2020")


def ev_option() -> Any:
    """``--ev``: an exposure change on top of the look's."""
    return typer.Option(0.0, "--ev", help="exposure change in EV")


def bits_option() -> Any:
    """``--bits``: the output bit depth; none takes the format's default."""
    return typer.Option(None, "--bits", help="8 or 16 (default: 8 for JPEG, 16 for TIFF/PNG)")


def overwrite_option(help: str) -> Any:
    """``--overwrite``, off by default; ``help`` says which files it replaces."""
    return typer.Option(False, "--overwrite", help=help)


def jobs_option(default: int, help: str = "files developed in parallel") -> Any:
    """``--jobs`` / ``-j``: files developed in parallel, ``default`` of them unless asked."""
    return typer.Option(default, "--jobs", "-j", min=1, help=help)
