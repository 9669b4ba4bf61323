"""``lumatune studio``: a local web app on a folder of raws (see :mod:`lumatune.studio`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lumatune.cli.options import echo_error
from lumatune.errors import UnreadableInputError

__all__ = ["studio"]


def studio(
    folder: Path = typer.Argument(Path("."), help="folder of raws to open (only files under it are served)"),
    port: int = typer.Option(0, "--port", help="port to listen on (0: a free one)", min=0, max=65535),
    no_browser: bool = typer.Option(False, "--no-browser", help="print the URL only; do not open a browser"),
    host: Optional[str] = typer.Option(
        None, "--host", help="listen on this address instead of 127.0.0.1 (other machines can then reach it)"
    ),
):
    """Develop, tune and compare looks in a browser: prints one URL (with a random token) and serves until Ctrl-C."""
    if not folder.is_dir():  # before loading the server and the pipeline (seconds)
        raise UnreadableInputError(f"{folder}: no such folder")
    from lumatune.studio.server import serve  # lazy: the server, the pipeline and numba (~2 s), for this command only

    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        echo_error(f"warning: listening on {host}: anyone who can reach this address and has the URL can read and "
                   "write files in the folder")
    serve(folder, host=host or "127.0.0.1", port=port, open_browser=not no_browser, echo=typer.echo)
