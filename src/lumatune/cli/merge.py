"""``lumatune merge``: merge a burst or an exposure bracket of raws into one DNG (the first frame is the reference).

The merge (numba, OpenCV) loads only when the command runs, so mounting it costs the other commands nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from lumatune.cli.options import overwrite_option
from lumatune.errors import OutputError, UnsupportedError

__all__ = ["check_merge_output", "merge_command", "merged_frames"]


def check_merge_output(output: Path, overwrite: bool) -> None:
    """Fail before any frame is read when the DNG could not be written (missing folder, existing file)."""
    if output.suffix.lower() != ".dng":
        raise OutputError(f"{output}: the merged raw is written as a DNG; name it .dng")
    if not output.parent.is_dir():
        raise OutputError(f"{output}: output folder does not exist")
    if output.exists() and not overwrite:
        raise OutputError(f"{output}: exists (use --overwrite)")


def merge_command(
    frames: list[Path] = typer.Argument(..., help="raw frames of one camera; the first is the reference"),
    output: Path = typer.Option(..., "-o", "--output", help="the merged DNG to write"),
    overwrite: bool = overwrite_option("replace an existing output file"),
    robust: bool = typer.Option(True, "--robust/--average", help="reject motion (default) or plainly average"),
) -> None:
    """Merge a burst or bracket of raws into one cleaner DNG, aligned to the first frame."""
    if len(frames) < 2:
        raise UnsupportedError("merging needs two frames (got one)")
    check_merge_output(output, overwrite)
    from lumatune.merge import merge_frames, write_merged_dng  # lazy: numba kernels, OpenCV (~0.4 s)

    result = merge_frames(frames, robust=robust)
    path = write_merged_dng(output, result, overwrite=overwrite)
    for report in result.frames:
        typer.echo(
            f"{Path(report.path).name}: exposure x{report.exposure_ratio:.3g}, shift "
            f"({report.shift_px[0]:+.2f}, {report.shift_px[1]:+.2f}) px, weight {report.mean_weight:.2f}"
        )
    typer.echo(str(path))


@contextmanager
def merged_frames(frames: list[Path]) -> Iterator[Path]:
    """The frames merged into a temporary DNG named after the first frame (``develop --merge``), removed after."""
    if len(frames) < 2:
        raise UnsupportedError("merging needs two frames (got one)")
    from lumatune.merge import merge_frames, write_merged_dng  # lazy: numba kernels, OpenCV (~0.4 s)

    result = merge_frames(frames)
    with tempfile.TemporaryDirectory(prefix="lumatune-merge-") as folder:
        yield write_merged_dng(Path(folder) / f"{frames[0].stem}.dng", result)
