"""Developing files: one job per input, run in parallel with a progress bar; one failure never stops the rest.

Jobs run in this process, in worker processes of a local pool (a crash or a job past its time limit fails that
job alone, and no worker outlives this process), or on a Dask cluster's executor.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from lumatune._version import __version__
from lumatune.api import develop, save
from lumatune.errors import LumatuneError
from lumatune.io.formats import format_from_path
from lumatune.jobs import pool
from lumatune.jobs.pool import POLL_S, ahead_of, run_in_workers, timed_out
from lumatune.raw import open_raw
from lumatune.raw.native import python_stderr_apart
from lumatune.runtime.numba import wait_for_numba

__all__ = [
    "BegunAhead",
    "DevelopJob",
    "JobResult",
    "develop_file",
    "forget_prefetched",
    "prefetch_raw",
    "run_jobs",
    "serve_jobs",
]


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
    notes: tuple[str, ...] = ()  # what the stages found and did (with --profile)


class BegunAhead:
    """What ``compute(path)`` gives, begun in a background thread before the job that needs it: that job takes it
    (:meth:`take`), or computes it then if none was begun. At most ``limit`` results wait; beyond, the oldest is
    dropped (begun for a job that never came). Thread-safe: a worker begins them in the thread that reads its jobs.
    """

    def __init__(self, compute: Callable[[Path], object], thread_name: str, limit: int) -> None:
        self._compute, self._thread_name, self._limit = compute, thread_name, limit
        self._begun: dict[Path, Future] = {}
        self._lock = threading.Lock()

    def begin(self, path) -> None:
        """Start ``compute(path)`` in a thread of its own, unless it is already begun."""
        path = Path(path)
        with self._lock:
            if path in self._begun:
                return
            thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._thread_name)
            self._begun[path] = thread.submit(self._compute, path)
            thread.shutdown(wait=False)
            while len(self._begun) > self._limit:
                del self._begun[next(iter(self._begun))]

    def take(self, path):
        """The result begun for ``path`` (waiting for it; its error raised here, as if computed here), else
        ``compute(path)`` now."""
        future = self.pop(path)
        return future.result() if future is not None else self._compute(path)

    def pop(self, path) -> Future | None:
        """Drop what was begun for ``path``, and return it (None if nothing was)."""
        with self._lock:
            return self._begun.pop(Path(path), None)

    def clear(self) -> None:
        with self._lock:
            self._begun.clear()

    def __contains__(self, path) -> bool:
        return Path(path) in self._begun


PREFETCH_LIMIT = 2
"""Reads begun and not yet taken that a process keeps: a worker's next job's and a first file named ahead of its
job (:func:`workers_started`); beyond it the oldest is dropped (a hint that no job followed, in a resumed batch)."""

_PREFETCHED = BegunAhead(open_raw, "lumatune-read", PREFETCH_LIMIT)


def prefetch_raw(source: Path) -> None:
    """Start reading ``source`` in a background thread, unless that read is already begun; the next job for that
    file in this process takes it.

    LibRaw decodes without holding the GIL, so the read overlaps what the caller does meanwhile (importing the
    pipeline, loading the look). An error is raised where the job takes the result, as if read there.
    """
    python_stderr_apart()  # what this thread prints meanwhile must not read as LibRaw's complaint about the file
    _PREFETCHED.begin(source)


def forget_prefetched() -> None:
    """Drop reads begun by :func:`prefetch_raw` that no job took (the job failed before reading, say)."""
    _PREFETCHED.clear()


def develop_file(job: DevelopJob) -> JobResult:
    """Develop and save one raw; errors come back as one line naming the file (raised with ``debug``)."""
    try:
        return _develop(job)
    except Exception as error:
        if job.debug:
            raise
        return JobResult(source=job.source, error=_error_message(job, error))
    finally:
        _PREFETCHED.pop(job.source)  # a read begun for this job that it did not take (it failed first)


def _read_ahead(job: DevelopJob) -> None:
    prefetch_raw(job.source)


develop_file.ahead = _read_ahead
"""What the pool starts for a job that waits behind another: its raw's read (:func:`lumatune.jobs.pool.ahead_of`)."""


def _error_message(job: DevelopJob, error: Exception) -> str:
    """The error as a message that names the file (its line breaks are the caller's to escape)."""
    if isinstance(error, LumatuneError):
        message = str(error)
        return message if str(job.source) in message or str(job.target) in message else f"{job.source}: {message}"
    if isinstance(error, MemoryError):
        return f"{job.source}: out of memory"
    return f"{job.source}: internal error: {error.__class__.__name__}: {error}"  # a bug: one line, go on


def _develop(job: DevelopJob) -> JobResult:
    if job.target.exists() and not job.overwrite:
        raise LumatuneError(f"{job.target}: exists (use --overwrite)")
    start = time.perf_counter()
    raw = _PREFETCHED.take(job.source)
    read = time.perf_counter()
    if job.profile:  # so that the first stage's time is its own
        wait_for_numba()
    numba_ready = time.perf_counter()
    stages = {} if job.profile else None
    notes = [] if job.profile else None
    format = format_from_path(job.target)
    image = develop(raw, job.look, job.tuning, space=job.space, ev=job.ev, preview=job.preview, profile=stages,
                    in_bands=format in ("jpeg", "tiff"), notes=notes)
    developed = time.perf_counter()
    exif = {**raw.exif, "software": f"lumatune {__version__}"}
    save(
        image, job.target, format=format, quality=job.quality, bit_depth=job.bits,
        space=job.space, exif=exif, overwrite=job.overwrite,
    )
    if not job.profile:
        return JobResult(source=job.source, target=job.target)
    end = time.perf_counter()
    from lumatune.runtime.profiling import float32_pass_ms  # lazy: numba (0.4 s), for --profile only

    bands = getattr(image, "bands", 0)
    profile = {
        "read (wait)": (read - start) * 1e3,
        "numba start (wait)": (numba_ready - read) * 1e3,
        **stages,
        "encode" if not bands else "develop bands + encode": (end - developed) * 1e3,
        "total": (end - start) * 1e3,
    }
    return JobResult(source=job.source, target=job.target, profile=profile, float32_pass_ms=float32_pass_ms(image.shape),
                     bands=bands, notes=tuple(notes))


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
    timeout: float | None = None,
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
    failure : ``failure(job, reason) -> result`` for a job whose worker died or that timed out; a
        :class:`JobResult` by default.
    on_result : called in this process with each result as it arrives (completion order), e.g. to record it.
    executor : a ready :class:`concurrent.futures.Executor` (a Dask cluster's) used instead of a local pool.
    isolate : run even a single worker in a separate process, so that a decoder crash fails one file only.
    timeout : seconds one job may run; a local worker that takes longer is killed and replaced and the job fails
        (``None``: no limit). It applies to worker processes and to an ``executor``, not to jobs run in this
        process. On an executor the time counts from submission and the task is cancelled; a cluster cannot
        interrupt a task that already runs, so its thread stays busy until the task ends.
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
            _run_on_executor(executor, jobs, 2 * max(workers, 1), work, failure, done, timeout)
        elif not isolate and (workers <= 1 or len(jobs) <= 1):
            for index, job in enumerate(jobs):
                if index + 1 < len(jobs):
                    ahead_of(work, jobs[index + 1])
                done(index, work(job))
        else:
            run_in_workers(jobs, workers, work, failure, done, timeout)

    if not progress:
        run(lambda: None)
    else:
        from rich.progress import (  # lazy: rich's progress bar (~30 ms), for several files only
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


def _run_on_executor(executor: Executor, jobs: list, window: int, work, failure, done, timeout) -> None:
    """Submit the jobs to ``executor`` (a Dask cluster's), keeping ``window`` in flight; report each result to ``done``.

    Any error of a job's future (a cluster worker lost, the connection dropped) fails that job alone; a job not
    finished ``timeout`` seconds after its submission is cancelled and fails. On any exception (a signal
    handler's) the jobs in flight are cancelled.
    """
    order = deque(range(len(jobs)))
    in_flight: dict = {}  # future -> (index, deadline)
    try:
        while order or in_flight:
            while order and len(in_flight) < window:
                index = order.popleft()
                deadline = math.inf if timeout is None else time.monotonic() + timeout
                in_flight[executor.submit(work, jobs[index])] = (index, deadline)
            finished, _ = wait(in_flight, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in finished:
                index, _deadline = in_flight.pop(future)
                try:
                    result = future.result()
                except Exception as error:
                    result = failure(jobs[index], f"worker failed: {error.__class__.__name__}: {error}")
                done(index, result)
            now = time.monotonic()
            for future, (index, deadline) in list(in_flight.items()):
                if deadline <= now:
                    del in_flight[future]
                    future.cancel()
                    done(index, failure(jobs[index], f"{timed_out(timeout)} (its task was cancelled)"))
    finally:
        for future in in_flight:
            future.cancel()


def serve_jobs(jobs: Connection, results: Connection, parent: int, threads: int) -> None:
    """A worker's loop (:func:`lumatune.jobs.pool.serve_jobs`) that begins reading the raws named ahead of
    their jobs."""
    pool.serve_jobs(jobs, results, parent, threads, read_ahead=prefetch_raw)
