"""lumatune.cli: the ``lumatune`` command, one module per command group.

:mod:`~lumatune.cli.app` is the typer app, the entry point and the error handling; it mounts the commands of
``develop``, ``info``, ``demo``, ``batch``, ``sim``, ``lab``, ``calibrate``, ``looks`` (``look export``, ``chart``,
``measure``, ``compare``) and ``learn`` (``look learn``, ``look diff``), and itself holds ``looks`` and ``look
show``. :mod:`~lumatune.cli.options` holds what the commands share: the develop options, the exit codes, the
error line. The public names are re-exported here, loaded on first use
(``pyproject.toml``: ``lumatune = "lumatune.cli:entry_point"``).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lumatune.cli.app import app, main

__all__ = [
    "app",
    "entry_point",
    "main",
]


def entry_point() -> None:
    """The ``lumatune`` program (:func:`lumatune.cli.app.entry_point`); a batch's first worker process starts
    first, before the command line's own imports (:func:`lumatune.jobs.pool.start_worker_early`)."""
    from lumatune.jobs.pool import start_worker_early  # no numpy, no numba

    start_worker_early(sys.argv[1:])
    from lumatune.cli.app import entry_point as run

    run()


def __getattr__(name: str):
    if name in ("app", "main"):
        return getattr(importlib.import_module("lumatune.cli.app"), name)
    raise AttributeError(f"module 'lumatune.cli' has no attribute {name!r}")
