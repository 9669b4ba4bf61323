"""Developing files: one job per input, run in parallel with a progress bar; one failure never stops the rest."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from lumatune.errors import LumatuneError

__all__ = ["DevelopJob", "JobResult", "develop_file", "forget_prefetched", "prefetch_raw", "run_jobs"]


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
    profile: dict | None = None  # milliseconds: read and numba start (what is left to wait for), stages, encode, total
    float32_pass_ms: float | None = None  # one read-modify-write pass over the developed image (bandwidth bound)
    bands: int = 0  # bands the demosaic and later stages ran in, inside the encode (0: the whole image at once)


_PREFETCHED: dict[Path, Future] = {}


def _read(source: Path):
    from lumatune.raw import open_raw

    return open_raw(source)


def prefetch_raw(source: Path) -> None:
    """Start reading ``source`` in a background thread; the next job for that file in this process takes it.

    LibRaw decodes without holding the GIL, so the read overlaps what the caller does meanwhile (importing the
    pipeline, loading the look). An error is raised where the job takes the result, as if read there.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumatune-read")
    _PREFETCHED[Path(source)] = pool.submit(_read, Path(source))
    pool.shutdown(wait=False)


def forget_prefetched() -> None:
    """Drop reads begun by :func:`prefetch_raw` that no job took (the job failed before reading, say)."""
    _PREFETCHED.clear()


def _open(source: Path):
    future = _PREFETCHED.pop(Path(source), None)
    return future.result() if future is not None else _read(source)


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

    if job.target.exists() and not job.overwrite:
        raise LumatuneError(f"{job.target}: exists (use --overwrite)")
    start = time.perf_counter()
    raw = _open(job.source)
    read = time.perf_counter()
    if job.profile:  # so that the first stage's time is its own
        from lumatune.numba_start import wait_for_numba

        wait_for_numba()
    numba_ready = time.perf_counter()
    stages = {} if job.profile else None
    format = format_from_path(job.target)
    image = develop(raw, job.look, job.tuning, space=job.space, ev=job.ev, preview=job.preview, profile=stages,
                    in_bands=format in ("jpeg", "tiff"))
    developed = time.perf_counter()
    exif = {**raw.exif, "software": f"lumatune {__version__}"}
    save(
        image, job.target, format=format, quality=job.quality, bit_depth=job.bits,
        space=job.space, exif=exif, overwrite=job.overwrite,
    )
    if not job.profile:
        return JobResult(source=job.source, target=job.target)
    end = time.perf_counter()
    from lumatune.profiling import float32_pass_ms

    bands = getattr(image, "bands", 0)
    profile = {
        "read (wait)": (read - start) * 1e3,
        "numba start (wait)": (numba_ready - read) * 1e3,
        **stages,
        "encode" if not bands else "develop bands + encode": (end - developed) * 1e3,
        "total": (end - start) * 1e3,
    }
    return JobResult(source=job.source, target=job.target, profile=profile, float32_pass_ms=float32_pass_ms(image.shape),
                     bands=bands)


def run_jobs(
    jobs: list,
    *,
    workers: int = 1,
    progress: bool = False,
    work: Callable = develop_file,
    failure: Callable | None = None,
    on_result: Callable | None = None,
    executor: Executor | None = None,
    isolate: bool = False,
    label: str = "developing",
    already_done: int = 0,
) -> list:
    """Run ``work(job)`` for every job and return the results in input order.

    Parameters
    ----------
    jobs : the jobs (picklable; :class:`DevelopJob` for the default ``work``).
    workers : processes of the local pool; one runs the jobs in this process unless ``isolate``.
    progress : show a progress bar.
    work : a module-level function, job -> result, that reports its errors in the result.
    failure : ``failure(job, reason) -> result`` for a job whose worker died; a :class:`JobResult` by default.
    on_result : called in this process with each result as it arrives (completion order), e.g. to record it.
    executor : a ready :class:`concurrent.futures.Executor` (a Dask cluster's) used instead of a local pool.
    isolate : run even a single worker in a separate process, so that a decoder crash fails one file only.
    label, already_done : progress bar text, and jobs counted as done before these (a resumed batch).
    """
    failure = failure or _job_failure
    results: dict[int, object] = {}

    def finish(index: int, result, advance) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)
        advance()

    def run(advance) -> None:
        def done(index: int, result) -> None:
            finish(index, result, advance)

        if executor is not None:
            _run_windowed(executor, jobs, range(len(jobs)), 2 * max(workers, 1), work, failure, done, remote=True)
        elif not isolate and (workers <= 1 or len(jobs) <= 1):
            for index, job in enumerate(jobs):
                done(index, work(job))
        else:
            _run_in_pools(jobs, workers, work, failure, done)

    if not progress:
        run(lambda: None)
    else:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(label, total=len(jobs) + already_done, completed=already_done)
            run(lambda: bar.advance(task))
    return [results[i] for i in range(len(jobs))]


def _job_failure(job, reason: str) -> JobResult:
    return JobResult(source=job.source, error=f"{job.source}: {reason}")


def _local_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: forking a process whose numba thread pool is running can kill the child
    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // workers)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_limit_threads, initargs=(threads,))


def _run_in_pools(jobs: list, workers: int, work, failure, done) -> None:
    """Run the jobs in a local process pool, at most ``workers`` in flight.

    A native crash (LibRaw on a hostile file) kills a worker and breaks the whole pool; the jobs then in flight
    are run again one at a time, each in a fresh process, so that only the file that crashes fails, and the
    rest go on in a new pool.
    """
    todo = deque(range(len(jobs)))
    while todo:
        with _local_pool(workers) as pool:
            suspects = _run_windowed(pool, jobs, todo, workers, work, failure, done)
        for index in suspects:
            done(index, _run_alone(jobs[index], work, failure))


def _run_windowed(executor: Executor, jobs: list, order, window: int, work, failure, done, remote: bool = False) -> list[int]:
    """Submit jobs (indices taken from ``order``) keeping ``window`` in flight; report each result to ``done``.

    Returns the indices in flight when a local pool broke (``order`` then holds those not yet submitted). On a
    ``remote`` executor any error of a job's future (a cluster worker lost) fails that job alone; locally an
    exception ``work`` lets through (``--debug``) is raised here.
    """
    order = order if isinstance(order, deque) else deque(order)
    in_flight: dict = {}
    while order or in_flight:
        while order and len(in_flight) < window:
            index = order.popleft()
            in_flight[executor.submit(work, jobs[index])] = index
        finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in finished:
            index = in_flight.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                return sorted([index, *in_flight.values()])
            except Exception as error:  # on a cluster: a worker died or the connection dropped, this job fails
                if not remote:
                    raise
                result = failure(jobs[index], f"worker failed: {error.__class__.__name__}: {error}")
            done(index, result)
    return []


def _run_alone(job, work, failure):
    with _local_pool(1) as pool:
        try:
            return pool.submit(work, job).result()
        except BrokenProcessPool:
            return failure(job, "the raw decoder crashed on this file (its worker process died)")


def _limit_threads(threads: int) -> None:
    """Give each worker its share of the cores, so that workers x threads does not oversubscribe them; then
    start numba while the worker waits for its first job."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    from lumatune.numba_start import start_numba_in_background

    start_numba_in_background()
