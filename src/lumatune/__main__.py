"""``python -m lumatune``."""

from lumatune.cli import main

main()
