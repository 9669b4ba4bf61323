"""Developing files: one job per input, run in parallel with a progress bar; one failure never stops the rest.

Jobs run in this process, in worker processes of a local pool (a crash or a job past its time limit fails that
job alone, and no worker outlives this process), or on a Dask cluster's executor.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as connection_wait
from pathlib import Path

from lumatune._version import __version__
from lumatune.api import develop, save
from lumatune.errors import LumatuneError
from lumatune.io.formats import format_from_path
from lumatune.raw import open_raw
from lumatune.raw.native import python_stderr_apart
from lumatune.runtime.numba import start_numba_in_background, wait_for_numba

__all__ = [
    "DevelopJob",
    "JobResult",
    "ahead_of",
    "default_workers",
    "develop_file",
    "forget_prefetched",
    "prefetch_raw",
    "run_jobs",
    "workers_started",
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


_PREFETCHED: dict[Path, Future] = {}

PREFETCH_LIMIT = 2
"""Reads begun and not yet taken that a process keeps: a worker's next job's and a first file named ahead of its
job (:func:`workers_started`); beyond it the oldest is dropped (a hint that no job followed, in a resumed batch)."""


def prefetch_raw(source: Path) -> None:
    """Start reading ``source`` in a background thread, unless that read is already begun; the next job for that
    file in this process takes it.

    LibRaw decodes without holding the GIL, so the read overlaps what the caller does meanwhile (importing the
    pipeline, loading the look). An error is raised where the job takes the result, as if read there.
    """
    source = Path(source)
    if source in _PREFETCHED:
        return
    python_stderr_apart()  # what this thread prints meanwhile must not read as LibRaw's complaint about the file
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lumatune-read")
    _PREFETCHED[source] = pool.submit(open_raw, source)
    pool.shutdown(wait=False)
    while len(_PREFETCHED) > PREFETCH_LIMIT:
        _PREFETCHED.pop(next(iter(_PREFETCHED)))


def forget_prefetched() -> None:
    """Drop reads begun by :func:`prefetch_raw` that no job took (the job failed before reading, say)."""
    _PREFETCHED.clear()


def _open(source: Path):
    future = _PREFETCHED.pop(Path(source), None)
    return future.result() if future is not None else open_raw(source)


def develop_file(job: DevelopJob) -> JobResult:
    """Develop and save one raw; errors come back as one line naming the file (raised with ``debug``)."""
    try:
        return _develop(job)
    except Exception as error:
        if job.debug:
            raise
        return JobResult(source=job.source, error=_error_message(job, error))
    finally:
        _PREFETCHED.pop(Path(job.source), None)  # a read begun for this job that it did not take (it failed first)


def _read_ahead(job: DevelopJob) -> None:
    prefetch_raw(job.source)


develop_file.ahead = _read_ahead
"""What :func:`run_jobs` starts for a job that waits behind another: its raw's read (see :func:`ahead_of`)."""


def ahead_of(work: Callable, job) -> None:
    """Start, in the background, what ``work`` will need for ``job`` (its ``ahead`` attribute, if it has one).

    :func:`run_jobs` calls it for the job that waits behind the one running, in the process that will run both:
    LibRaw decodes (and hashlib hashes) without holding the GIL, so the next file's read overlaps this file's
    stages, which leave a core idle while they plan and while the encoder finishes its last strips. A failure
    here only means the job reads for itself.
    """
    ahead = getattr(work, "ahead", None)
    if ahead is not None:
        with contextlib.suppress(Exception):
            ahead(job)


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
    raw = _open(job.source)
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
            _run_in_workers(jobs, workers, work, failure, done, timeout)

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


def timed_out(timeout: float) -> str:
    """The reason recorded for a job cut off by ``timeout``."""
    return f"timed out after {timeout:g} s"


# --- the local worker pool ------------------------------------------------------------------------------------
#
# Each worker is a fresh interpreter (started like ``spawn``: forking a process whose numba thread pool is running
# can kill the child) with two pipes: jobs in, results out. Unlike a ProcessPoolExecutor, one worker can be killed
# (a job past its time) and replaced without breaking the others, a worker's death fails exactly the job it held,
# and no multiprocessing resource tracker is started. A worker ends by itself when this process ends, however it
# ends: its job pipe then reaches end of file, and on Linux the kernel also kills it (PR_SET_PDEATHSIG), even if
# it is stuck in native code.

POLL_S = 0.2
"""Longest the job loops wait for a result before they check deadlines again (seconds)."""

WORKER_EXIT_WAIT_S = 5.0
"""How long an idle worker told to stop (its job pipe closed) may take to exit before it is killed (seconds)."""

CRASHED = "the raw decoder crashed on this file (its worker process died)"
"""The reason recorded for a job whose worker process died under it (a native crash, the out-of-memory killer)."""

_PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal this process gets when the thread that started it ends (linux/prctl.h)."""

# Run by each worker interpreter. SIGINT and SIGTERM are ignored: a Ctrl-C or a service manager reaches the
# whole process group, and stopping is the parent's decision (it kills its workers); a worker killed by them
# first would look like a crash of the file it held.
_WORKER_BOOT = """\
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
import sys
from multiprocessing.connection import Connection
jobs = Connection(int(sys.argv[1]), writable=False)
try:
    sys.path[:] = jobs.recv()
except (EOFError, OSError):
    raise SystemExit(0)
from lumatune.jobs.develop_files import serve_jobs
serve_jobs(jobs, Connection(int(sys.argv[2]), readable=False), int(sys.argv[3]), int(sys.argv[4]))
"""


def _worker_environment() -> dict[str, str]:
    """This process's environment, with OpenBLAS held to one thread unless the user chose.

    numpy's OpenBLAS starts a thread per core at import, and they spin after each call (measured: 5 % of a
    two-core batch's CPU time); lumatune's only BLAS calls are 3 x 3 and plan-sized products, so in a worker
    those threads only take CPU from the stages' own.
    """
    return {"OPENBLAS_NUM_THREADS": "1", **os.environ}


def _worker_depth(threads: int) -> int:
    """Jobs a worker of ``threads`` threads holds at once: the one it runs and the next, whose read it begins
    meanwhile (:func:`ahead_of`); one for a worker of one thread, whose core the running job keeps busy (there,
    reading ahead only took CPU: +5 % CPU time on two one-thread workers, six 24-MP raws)."""
    return 2 if threads > 1 else 1


class _Worker:
    """One worker process of the local pool, seen from the parent: its pipes, the jobs it holds (the first one
    runs, the next waits) and the running job's deadline."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        job_read, job_write = os.pipe()  # both ends are not inherited by default; pass_fds hands the child its own
        result_read, result_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_BOOT, str(job_read), str(result_write), str(os.getpid()), str(threads)],
                stdin=subprocess.DEVNULL, pass_fds=(job_read, result_write), env=_worker_environment(),
            )
        except BaseException:
            for descriptor in (job_write, result_read):
                os.close(descriptor)
            raise
        finally:
            os.close(job_read)
            os.close(result_write)
        self.jobs = Connection(job_write, readable=False)
        self.results = Connection(result_read, writable=False)
        self.held: deque[int] = deque()  # indices of the jobs handed over and not finished, in the worker's order
        self.deadline = math.inf
        self._send(sys.path)  # so that the worker imports what this process imports (tests, plug-in work)

    def read_ahead(self, source: Path) -> None:
        """Have the worker begin reading ``source`` now, before the job for it comes (:func:`prefetch_raw`)."""
        self._send(Path(source))

    def give(self, index: int, work: Callable, job, timeout: float | None) -> None:
        """Hand the worker a job. The first job held starts its clock now, and again when the worker reports it
        has started; a job queued behind another starts its clock when that one finishes."""
        self.held.append(index)
        if len(self.held) == 1:
            self._restart_clock(timeout)
        self._send(pickle.dumps((work, job)))

    def started(self, timeout: float | None) -> None:
        self._restart_clock(timeout)

    def finished(self, timeout: float | None) -> int:
        """The running job finished: its index; the next one held, if any, is now the one running."""
        index = self.held.popleft()
        self._restart_clock(timeout if self.held else None)
        return index

    def _restart_clock(self, timeout: float | None) -> None:
        self.deadline = math.inf if timeout is None else time.monotonic() + timeout

    def _send(self, message) -> None:
        try:
            self.jobs.send(message)
        except OSError:  # the worker is dead: its results pipe is at end of file, the loop sees a crash
            pass

    def kill(self) -> None:
        """End the worker at once (SIGKILL) and reap it."""
        self.jobs.close()
        self.results.close()
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """End an idle worker: close its job pipe (it exits at end of file); kill it if it does not."""
        self.jobs.close()
        self.results.close()
        try:
            self.process.wait(WORKER_EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill()


_STARTED: list[_Worker] = []
"""Workers started ahead of their jobs by :func:`workers_started`, waiting for :func:`_run_in_workers`."""


def _threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


CORES_PER_WORKER = 2
"""Cores each worker of :func:`default_workers` gets: one runs its stages and encoder on two threads while its
next file is read (:func:`ahead_of`) and keeps both busy. Measured on two cores (six 24-MP raws to JPEG, 4
interleaved rounds): one worker of two threads took 0.83x the time of two workers of one thread each, which pay
numba's start, the imports and the first touch of their memory twice (docs/measurements.md, "Speed II")."""


def default_workers() -> int:
    """Worker processes for a batch when the user does not say: one per :data:`CORES_PER_WORKER` cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // CORES_PER_WORKER)


@contextlib.contextmanager
def workers_started(count: int, workers: int, first: Sequence[Path] = ()):
    """Start ``count`` worker processes of a pool of ``workers`` now, ahead of their jobs: their interpreters
    start (imports, numba) on the other cores while this process still prepares the jobs (reads the look, lists
    the folder, the manifest), and worker i begins reading raw ``first[i]``, the file its first job will likely
    be. :func:`run_jobs` with as many ``workers`` takes them; on leaving the block, those it did not take are
    killed. Yields the started processes' ids.
    """
    threads = _threads_per_worker(workers)
    try:
        for index in range(count):
            _STARTED.append(_Worker(threads))
            if index < len(first):
                _STARTED[-1].read_ahead(first[index])
        yield [worker.process.pid for worker in _STARTED]
    finally:
        while _STARTED:
            _STARTED.pop().kill()


def _new_worker(threads: int) -> _Worker:
    """A worker started ahead (:func:`workers_started`) with ``threads`` threads, else a new one."""
    for index, worker in enumerate(_STARTED):
        if worker.threads == threads:
            return _STARTED.pop(index)
    return _Worker(threads)


def _run_in_workers(jobs: list, workers: int, work, failure, done, timeout) -> None:
    """Run the jobs in at most ``workers`` worker processes, each running one job and, if it has more than one
    thread, holding the next, whose read it begins meanwhile (:func:`_worker_depth`).

    A worker that dies (a native crash in LibRaw on a hostile file) fails the job it held; if it held two, either
    may have crashed it (the waiting one's read had begun), so both go back to the queue as suspects, which run
    alone in a worker: the one that crashes again fails, the other is developed. A job that passes ``timeout`` is
    killed with its worker and fails with :func:`timed_out`; the job waiting behind it goes back to the queue.
    Dead workers are replaced while jobs remain. On any exception (a signal handler's, ``--debug``'s) every
    worker is killed before it propagates.
    """
    threads = _threads_per_worker(workers)
    depth = _worker_depth(threads)
    todo = deque(range(len(jobs)))
    suspects: set[int] = set()  # jobs held by a worker that died: each runs alone
    pool: list[_Worker] = []

    def give(worker: _Worker) -> None:
        index = todo.popleft()
        worker.give(index, work, jobs[index], timeout)

    def requeue(indices) -> None:
        todo.extendleft(reversed(indices))

    try:
        while todo or any(worker.held for worker in pool):
            while todo and len(pool) < workers:
                pool.append(_new_worker(threads))
            for worker in pool:  # every worker one job first, then the next job behind it
                if todo and not worker.held:
                    give(worker)
            for worker in pool:
                if todo and 0 < len(worker.held) < depth and not suspects.intersection([*worker.held, todo[0]]):
                    give(worker)
            busy = {worker.results: worker for worker in pool if worker.held}
            now = time.monotonic()
            wake = min([POLL_S, *(worker.deadline - now for worker in busy.values())])
            for connection in connection_wait(list(busy), timeout=max(0.0, wake)):
                worker = busy[connection]
                try:
                    kind, value = connection.recv()
                except (EOFError, OSError):
                    pool.remove(worker)
                    worker.kill()
                    if len(worker.held) == 1:
                        index = worker.held[0]
                        done(index, failure(jobs[index], CRASHED))
                    else:
                        suspects.update(worker.held)
                        requeue(worker.held)
                    continue
                if kind == "started":
                    worker.started(timeout)
                    continue
                index = worker.finished(timeout)
                if kind == "raised":
                    error, trace = value
                    raise error from _RemoteError(trace)
                done(index, value)
            now = time.monotonic()
            for connection, worker in busy.items():
                if worker.held and worker.deadline <= now and not connection.poll():  # a result already sent is taken
                    pool.remove(worker)
                    worker.kill()
                    index, *waiting = worker.held
                    done(index, failure(jobs[index], f"{timed_out(timeout)} (its worker process was stopped)"))
                    requeue(waiting)
    except BaseException:
        for worker in pool:
            worker.kill()
        raise
    for worker in pool:
        worker.stop()


class _RemoteError(Exception):
    """The traceback of an exception that ``work`` let through in a worker process (``--debug``)."""


def serve_jobs(jobs: Connection, results: Connection, parent: int, threads: int) -> None:
    """Worker side: run each ``(work, job)`` that arrives and send back ``("started", None)``, then
    ``("done", result)`` or ``("raised", (error, traceback))``; never returns.

    A thread reads the job pipe and ends the process at once at end of file: the parent stopped this worker,
    or died (it holds the only write end).
    """
    _die_with_parent(parent)
    _limit_threads(threads)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_jobs, args=(jobs, inbox), name="lumatune-jobs", daemon=True).start()
    while True:
        message = inbox.get()
        gc.freeze()  # what lives between jobs (modules, numba's kernels and types) lives on: collections skip it
        results.send(("started", None))
        try:
            if isinstance(message, Exception):  # the job could not be unpickled
                raise message
            work, job = message
            results.send(("done", work(job)))
        except Exception as error:
            trace = traceback.format_exc()
            try:
                results.send(("raised", (error, trace)))
            except Exception:  # the error itself cannot be pickled
                results.send(("raised", (RuntimeError(f"{error.__class__.__name__}: {error}"), trace)))


def _read_jobs(jobs: Connection, inbox: queue.SimpleQueue) -> None:
    """Worker side: pass each job to the main thread, after starting what it will need (:func:`ahead_of`): a job
    that arrives while another runs is the next one; exit the process when the pipe closes."""
    while True:
        try:
            message = jobs.recv()
        except (EOFError, OSError):
            os._exit(0)
        if isinstance(message, Path):  # a raw to begin reading before its job comes (workers_started)
            prefetch_raw(message)
            continue
        try:
            work, job = pickle.loads(message)
        except Exception as error:
            inbox.put(error)
            continue
        ahead_of(work, job)
        inbox.put((work, job))


def _die_with_parent(parent: int) -> None:
    """Worker side: on Linux, have the kernel kill this process (SIGKILL) when its parent dies, even while it is
    stuck in native code that holds the GIL; elsewhere the job pipe's end of file (see :func:`_read_jobs`) does it.

    References
    ----------
    - Linux man-pages, prctl(2), ``PR_SET_PDEATHSIG``.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


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


def _limit_threads(threads: int) -> None:
    """Give each worker its share of the cores, so that workers x threads does not oversubscribe them; then
    start numba while the worker waits for its first job."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)  # before numba is imported: it reads the variable once
    start_numba_in_background()
