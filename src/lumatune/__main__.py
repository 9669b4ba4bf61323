"""``python -m lumatune``."""

from lumatune.cli import entry_point

entry_point()
