"""The ``lumatune`` command (typer + rich): the app, its commands mounted from one module per group, and the
entry point.

Every error lumatune raises on purpose becomes one line on stderr and a non-zero exit code; ``--debug``
shows the traceback instead. ``lumatune develop`` mounts only itself: the other commands' modules are not
imported on its hot path (~60 ms).
"""

from __future__ import annotations

import gc
import os
import signal
import sys

import typer

from lumatune.cli.develop import develop
from lumatune.cli.options import EXIT_FAILED, EXIT_INTERNAL_ERROR, EXIT_SIGNAL_BASE, echo_error
from lumatune.errors import LumatuneError

__all__ = ["app", "entry_point", "main"]

app = typer.Typer(
    help="lumatune: develop camera raws through a tunable pipeline, give them a look, measure the quality.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("develop")(develop)

look_app = typer.Typer(help="Show, export, chart, measure, learn and compare looks.", no_args_is_help=True)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="show tracebacks instead of one-line errors"),
):
    ctx.obj = {"debug": debug}


_mounted: list[bool] = []
"""Holds one True once :func:`_mount_other_commands` has run: ``main()`` called again (tests) mounts nothing twice."""


def _mount_other_commands() -> None:
    """Every command but ``develop``, in the order ``lumatune --help`` lists them; once per process."""
    if _mounted:
        return
    _mounted.append(True)
    # lazy: the other commands' modules (~60 ms), kept off develop's hot path
    from lumatune.cli import looks as look_cli
    from lumatune.cli.batch import batch_command  # lazy: another command (~26 ms)
    from lumatune.cli.calibrate import app as calibrate_app  # lazy: another command (~6 ms)
    from lumatune.cli.demo import demo  # lazy: another command (~8 ms)
    from lumatune.cli.info import info  # lazy: another command (~32 ms)
    from lumatune.cli.lab import app as lab_app  # lazy: another command (~30 ms)
    from lumatune.cli.learn import diff_command, learn_command  # lazy: another command (~31 ms)
    from lumatune.cli.merge import merge_command  # lazy: another command (~5 ms)
    from lumatune.cli.sim import sim_command  # lazy: another command (~6 ms)
    from lumatune.cli.sim_burst import SimCommand  # lazy: another command (~2 ms)
    from lumatune.cli.studio import studio  # lazy: another command (~1 ms)

    app.command("info")(info)
    app.command("demo")(demo)
    app.command("looks")(look_cli.looks_list)
    app.add_typer(look_app, name="look")
    look_app.command("show")(look_cli.look_show)
    app.command("batch")(batch_command)
    app.command("merge")(merge_command)
    app.command("sim", cls=SimCommand)(sim_command)
    app.add_typer(lab_app, name="lab")
    app.add_typer(calibrate_app, name="calibrate")
    look_app.command("export")(look_cli.look_export)
    look_app.command("chart")(look_cli.look_chart)
    look_app.command("measure")(look_cli.look_measure)
    look_app.command("learn")(learn_command)
    look_app.command("diff")(diff_command)
    app.command("compare")(look_cli.compare)
    app.command("studio")(studio)


def entry_point() -> None:
    """The ``lumatune`` program: :func:`main`; ``develop`` then exits without the interpreter's teardown.

    Tearing down a process that has loaded numba and LLVM takes 0.2-0.3 s (measured on a 24-MP develop). When
    ``develop`` returns, every output is written, closed and renamed and its worker pools are shut down, so
    after flushing stdout and stderr the process ends at once (``os._exit``) with main's exit code. Other
    commands (which may leave clean-up to ``atexit``) exit normally, but with every object left frozen
    (``gc.freeze``): the teardown's garbage collection then skips the graph numba's modules built, which took
    0.15 s of the 0.2 s the interpreter took to exit (measured after ``lumatune batch``'s work).
    """
    if _command(sys.argv[1:]) != "develop":
        try:
            main()
        finally:
            gc.freeze()
        return
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _command(args: list[str]) -> str | None:
    """The sub-command named on the command line (its first argument that is not an option)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning lumatune errors into one line and an exit code.

    Usage errors are typer's own (exit code 2); a lumatune error exits 1; a bug exits 70 with one line.
    """
    args = sys.argv[1:] if argv is None else argv
    if _command(args) != "develop":  # the hot path does not pay for importing the other commands' modules (~60 ms)
        _mount_other_commands()
    debug = "--debug" in args
    try:
        app(args=args, prog_name="lumatune")
    except LumatuneError as error:
        if debug:
            raise
        echo_error(str(error))
        sys.exit(EXIT_FAILED)
    except KeyboardInterrupt:
        echo_error("interrupted")
        sys.exit(EXIT_SIGNAL_BASE + signal.SIGINT)
    except Exception as error:  # a bug: still one line unless --debug
        if debug:
            raise
        echo_error(f"internal error: {error.__class__.__name__}: {error} (run with --debug for the traceback)")
        sys.exit(EXIT_INTERNAL_ERROR)
