"""Developing files: one job per input, run in parallel with a progress bar; one failure never stops the rest."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from lumatune.errors import LumatuneError

__all__ = ["DevelopJob", "JobResult", "develop_file", "run_jobs"]


@dataclass(frozen=True)
class DevelopJob:
    """One input raw, its output path and the settings."""

    source: Path
    target: Path
    look: object
    tuning: object | None = None
    space: str = "srgb"
    ev: float = 0.0
    quality: int = 95
    bits: int | None = None
    overwrite: bool = False
    profile: bool = False
    preview: bool = False
    debug: bool = False  # re-raise errors (with their traceback) instead of reporting one line


@dataclass(frozen=True)
class JobResult:
    """What became of a job: the written file, or a one-line error."""

    source: Path
    target: Path | None = None
    error: str | None = None
    profile: dict | None = None


def develop_file(job: DevelopJob) -> JobResult:
    """Develop and save one raw; errors come back as one line naming the file (raised with ``debug``)."""
    try:
        return _develop(job)
    except Exception as error:
        if job.debug:
            raise
        return JobResult(source=job.source, error=_one_line(job, error))


def _one_line(job: DevelopJob, error: Exception) -> str:
    if isinstance(error, LumatuneError):
        message = str(error)
        return message if str(job.source) in message or str(job.target) in message else f"{job.source}: {message}"
    if isinstance(error, MemoryError):
        return f"{job.source}: out of memory"
    return f"{job.source}: internal error: {error.__class__.__name__}: {error}"  # a bug: one line, go on


def _develop(job: DevelopJob) -> JobResult:
    from lumatune import __version__
    from lumatune.api import develop, save
    from lumatune.io.encode import format_from_path
    from lumatune.raw import open_raw

    if job.target.exists() and not job.overwrite:
        raise LumatuneError(f"{job.target}: exists (use --overwrite)")
    raw = open_raw(job.source)
    profile = {} if job.profile else None
    image = develop(raw, job.look, job.tuning, space=job.space, ev=job.ev, preview=job.preview, profile=profile)
    exif = {**raw.exif, "software": f"lumatune {__version__}"}
    save(
        image, job.target, format=format_from_path(job.target), quality=job.quality, bit_depth=job.bits,
        space=job.space, exif=exif, overwrite=job.overwrite,
    )
    return JobResult(source=job.source, target=job.target, profile=profile)


def run_jobs(jobs: list[DevelopJob], *, workers: int = 1, progress: bool = False) -> list[JobResult]:
    """Run every job (in ``workers`` processes when more than one), in input order of the results."""
    if not progress:
        return _run(jobs, workers, lambda: None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("developing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("develop", total=len(jobs))
        return _run(jobs, workers, lambda: bar.advance(task))


def _run(jobs: list[DevelopJob], workers: int, advance) -> list[JobResult]:
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(develop_file(job))
            advance()
        return results
    results: dict[int, JobResult] = {}
    # spawn, not fork: forking a process whose numba thread pool is running can kill the child
    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_limit_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(develop_file, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            advance()
    return [results[i] for i in range(len(jobs))]


def _limit_threads(threads: int) -> None:
    """Give each worker its share of the cores, so that workers x threads does not oversubscribe them."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
