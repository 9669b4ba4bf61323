"""lumatune.cli: the ``lumatune`` command, one module per command group.

:mod:`~lumatune.cli.app` is the typer app, the entry point and the error handling; it mounts the commands of
``develop``, ``info``, ``demo``, ``batch``, ``sim``, ``lab``, ``calibrate``, ``looks`` (``look export``, ``chart``,
``measure``, ``compare``) and ``learn`` (``look learn``, ``look diff``), and itself holds ``looks`` and ``look
show``. :mod:`~lumatune.cli.options` holds what the commands share: the develop options, the exit codes, the
error line. The public names are re-exported here
(``pyproject.toml``: ``lumatune = "lumatune.cli:entry_point"``)."""

from lumatune.cli.app import (
    app,
    entry_point,
    main,
)

__all__ = [
    "app",
    "entry_point",
    "main",
]
