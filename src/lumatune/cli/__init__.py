"""lumatune.cli: the ``lumatune`` command, one module per command group.

The implementation lives in :mod:`lumatune.cli.app`; the public names are re-exported here."""

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
