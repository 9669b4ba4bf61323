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
from lumatune.jobs.pool import command_named

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


def _mount_info() -> None:
    from lumatune.cli.info import info  # lazy: each command's modules load only when it runs (here ~32 ms)

    app.command("info")(info)


def _mount_demo() -> None:
    from lumatune.cli.demo import demo  # lazy (~8 ms)

    app.command("demo")(demo)


def _mount_looks() -> None:
    from lumatune.cli import looks as look_cli  # lazy

    app.command("looks")(look_cli.looks_list)


def _mount_look() -> None:
    from lumatune.cli import looks as look_cli  # lazy
    from lumatune.cli.learn import diff_command, learn_command  # lazy (~31 ms)

    app.add_typer(look_app, name="look")
    look_app.command("show")(look_cli.look_show)
    look_app.command("export")(look_cli.look_export)
    look_app.command("chart")(look_cli.look_chart)
    look_app.command("measure")(look_cli.look_measure)
    look_app.command("learn")(learn_command)
    look_app.command("diff")(diff_command)


def _mount_batch() -> None:
    from lumatune.cli.batch import batch_command  # lazy (~26 ms)

    app.command("batch")(batch_command)


def _mount_merge() -> None:
    from lumatune.cli.merge import merge_command  # lazy (~5 ms)

    app.command("merge")(merge_command)


def _mount_sim() -> None:
    from lumatune.cli.sim import sim_command  # lazy (~6 ms)
    from lumatune.cli.sim_burst import SimCommand  # lazy (~2 ms)

    app.command("sim", cls=SimCommand)(sim_command)


def _mount_lab() -> None:
    from lumatune.cli.lab import app as lab_app  # lazy (~30 ms)

    app.add_typer(lab_app, name="lab")


def _mount_calibrate() -> None:
    from lumatune.cli.calibrate import app as calibrate_app  # lazy (~6 ms)

    app.add_typer(calibrate_app, name="calibrate")


def _mount_compare() -> None:
    from lumatune.cli import looks as look_cli  # lazy

    app.command("compare")(look_cli.compare)


def _mount_studio() -> None:
    from lumatune.cli.studio import studio  # lazy (~1 ms)

    app.command("studio")(studio)


_MOUNTS = {
    "info": _mount_info,
    "demo": _mount_demo,
    "looks": _mount_looks,
    "look": _mount_look,
    "batch": _mount_batch,
    "merge": _mount_merge,
    "sim": _mount_sim,
    "lab": _mount_lab,
    "calibrate": _mount_calibrate,
    "compare": _mount_compare,
    "studio": _mount_studio,
}
"""Every command but ``develop``, in the order ``lumatune --help`` lists them, and what mounts it on the app."""

_mounted: set[str] = set()
"""The commands mounted so far in this process: ``main()`` called again (tests) mounts nothing twice."""


def _mount_commands(command: str | None) -> None:
    """Mount ``command`` alone when it names one of :data:`_MOUNTS` (its modules alone load: ``batch`` no longer
    imports the other commands' ~150 ms), else every command (``--help``, a mistyped name)."""
    for name in [command] if command in _MOUNTS else list(_MOUNTS):
        if name not in _mounted:
            _mounted.add(name)
            _MOUNTS[name]()


def entry_point() -> None:
    """The ``lumatune`` program: :func:`main`; ``develop`` then exits without the interpreter's teardown.

    Tearing down a process that has loaded numba and LLVM takes 0.2-0.3 s (measured on a 24-MP develop). When
    ``develop`` returns, every output is written, closed and renamed and its worker pools are shut down, so
    after flushing stdout and stderr the process ends at once (``os._exit``) with main's exit code. Other
    commands (which may leave clean-up to ``atexit``) exit normally, but with every object left frozen
    (``gc.freeze``): the teardown's garbage collection then skips the graph numba's modules built, which took
    0.15 s of the 0.2 s the interpreter took to exit (measured after ``lumatune batch``'s work).
    """
    if command_named(sys.argv[1:]) != "develop":
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning lumatune errors into one line and an exit code.

    Usage errors are typer's own (exit code 2); a lumatune error exits 1; a bug exits 70 with one line.
    """
    args = sys.argv[1:] if argv is None else argv
    command = command_named(args)
    if command != "develop":  # develop is always mounted, and its hot path imports no other command's modules
        _mount_commands(command)
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
