"""The local worker pool: jobs run in worker processes, so that a crash or a job past its time fails that job
alone, and no worker outlives this process.

Each worker is a fresh interpreter (started like ``spawn``: forking a process whose numba thread pool is running
can kill the child) with two pipes: jobs in, results out. Unlike a ProcessPoolExecutor, one worker can be killed
(a job past its time) and replaced without breaking the others, a worker's death fails exactly the job it held,
and no multiprocessing resource tracker is started. A worker ends by itself when this process ends, however it
ends: its job pipe then reaches end of file, and on Linux the kernel also kills it (PR_SET_PDEATHSIG), even if
it is stuck in native code.

This module imports the standard library only (and :mod:`lumatune.runtime.cores`, which does too), so that the
command line can start a worker before it imports anything else (:func:`start_worker_early`): the worker's
interpreter, imports and numba then start while the command's own do.
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
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as connection_wait
from pathlib import Path

from lumatune.runtime.cores import available_cores

__all__ = [
    "CRASHED",
    "POLL_S",
    "ahead_of",
    "command_named",
    "default_workers",
    "run_in_workers",
    "serve_jobs",
    "start_worker_early",
    "timed_out",
    "workers_started",
]


def ahead_of(work: Callable, job) -> None:
    """Start, in the background, what ``work`` will need for ``job`` (its ``ahead`` attribute, if it has one).

    The pool calls it in a worker as each job arrives (the one it will run after the running one), and
    :func:`~lumatune.jobs.develop_files.run_jobs` in this process for the next job: LibRaw decodes (and hashlib
    hashes) without holding the GIL, so the next file's read overlaps this file's stages, which leave a core idle
    while they plan and while the encoder finishes its last strips. A failure here only means the job reads for
    itself.
    """
    ahead = getattr(work, "ahead", None)
    if ahead is not None:
        with contextlib.suppress(Exception):
            ahead(job)


def timed_out(timeout: float) -> str:
    """The reason recorded for a job cut off by ``timeout``."""
    return f"timed out after {timeout:g} s"


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
"""Workers started ahead of their jobs (:func:`workers_started`, :func:`start_worker_early`), waiting for
:func:`run_in_workers`."""


def _threads_per_worker(workers: int) -> int:
    return max(1, available_cores() // workers)


CORES_PER_WORKER = 2
"""Cores each worker of :func:`default_workers` gets: one runs its stages and encoder on two threads while its
next file is read (:func:`ahead_of`) and keeps both busy. Measured on two cores (six 24-MP raws to JPEG, 4
interleaved rounds): one worker of two threads took 0.83x the time of two workers of one thread each, which pay
numba's start, the imports and the first touch of their memory twice (docs/measurements.md, "Speed II")."""


def default_workers() -> int:
    """Worker processes for a batch when the user does not say: one per :data:`CORES_PER_WORKER` cores."""
    return max(1, available_cores() // CORES_PER_WORKER)


@contextlib.contextmanager
def workers_started(count: int, workers: int, first: Sequence[Path] = ()):
    """Start ``count`` worker processes of a pool of ``workers`` now, ahead of their jobs: their interpreters
    start (imports, numba) on the other cores while this process still prepares the jobs (reads the look, lists
    the folder, the manifest), and worker i begins reading raw ``first[i]``, the file its first job will likely
    be. :func:`run_in_workers` with as many ``workers`` takes them; on leaving the block, those it did not take are
    killed. Yields the started processes' ids.
    """
    threads = _threads_per_worker(workers)
    try:
        ours = [worker for worker in _STARTED if worker.threads == threads][:count]  # started early
        for _ in range(count - len(ours)):
            _STARTED.append(_Worker(threads))
            ours.append(_STARTED[-1])
        for worker, source in zip(ours, first):
            worker.read_ahead(source)
        yield [worker.process.pid for worker in ours]
    finally:
        while _STARTED:
            _STARTED.pop().kill()


def start_worker_early(args: list[str]) -> None:
    """For ``lumatune batch``: start its first worker now, before the command line imports anything, when ``args``
    (the command line's) name that command and its worker count can be read from them (``--jobs N`` or the
    default). :func:`workers_started` then adopts it; if the command ends first, it ends with this process.

    Measured on two cores, six 24-MP raws: the worker's interpreter, imports and numba start (0.5 s) then
    overlap the command's own (0.7 s) instead of beginning 0.4 s into them.
    """
    if command_named(args) != "batch" or {"--help", "-h", "--scheduler"} & {arg.split("=")[0] for arg in args}:
        return
    workers = _jobs_named(args)
    if workers is not None:
        _STARTED.append(_Worker(_threads_per_worker(workers)))


def command_named(args: list[str]) -> str | None:
    """The sub-command a command line names: its first argument that is not an option (the command line's own
    rule, here so that it holds before the command line's modules load)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def _jobs_named(args: list[str]) -> int | None:
    """The ``--jobs``/``-j`` value of ``args`` (the default when absent), or None if it is not a positive integer."""
    value = str(default_workers())
    for index, arg in enumerate(args):
        if arg in ("--jobs", "-j"):
            value = args[index + 1] if index + 1 < len(args) else ""
        elif arg.startswith("--jobs="):
            value = arg.removeprefix("--jobs=")
        elif arg.startswith("-j") and arg[2:].isdigit():
            value = arg[2:]
    return int(value) if value.isdigit() and int(value) > 0 else None


def _new_worker(threads: int) -> _Worker:
    """A worker started ahead (:func:`workers_started`) with ``threads`` threads, else a new one."""
    for index, worker in enumerate(_STARTED):
        if worker.threads == threads:
            return _STARTED.pop(index)
    return _Worker(threads)


def run_in_workers(jobs: list, workers: int, work, failure, done, timeout) -> None:
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


def serve_jobs(jobs: Connection, results: Connection, parent: int, threads: int, read_ahead: Callable) -> None:
    """Worker side: run each ``(work, job)`` that arrives and send back ``("started", None)``, then
    ``("done", result)`` or ``("raised", (error, traceback))``; never returns. ``read_ahead(path)`` begins
    reading a raw named ahead of its job (:meth:`_Worker.read_ahead`).

    A thread reads the job pipe and ends the process at once at end of file: the parent stopped this worker,
    or died (it holds the only write end).
    """
    _die_with_parent(parent)
    _limit_threads(threads)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_jobs, args=(jobs, inbox, read_ahead), name="lumatune-jobs", daemon=True).start()
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


def _read_jobs(jobs: Connection, inbox: queue.SimpleQueue, read_ahead: Callable) -> None:
    """Worker side: pass each job to the main thread, after starting what it will need (:func:`ahead_of`): a job
    that arrives while another runs is the next one; exit the process when the pipe closes."""
    while True:
        try:
            message = jobs.recv()
        except (EOFError, OSError):
            os._exit(0)
        if isinstance(message, Path):  # a raw to begin reading before its job comes (workers_started)
            read_ahead(message)
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


def _limit_threads(threads: int) -> None:
    """Give each worker its share of the cores, so that workers x threads does not oversubscribe them; then
    start numba while the worker waits for its first job."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)  # before numba is imported: it reads the variable once
    from lumatune.runtime.numba import start_numba_in_background  # worker side only: numpy, numba

    start_numba_in_background()
