"""A job function for pool tests that kills its own worker process on request, as a native crash would."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def work(job: tuple[str, str]) -> str:
    """``(name, "crash")`` kills the worker (SIGKILL, like a segfault but without a core file); else ``name``."""
    name, action = job
    if action == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    return name


def failure(job: tuple[str, str], reason: str) -> str:
    return f"{job[0]}: {reason}"


def whose(job: tuple[str, str]) -> tuple[str, int]:
    """``(name, the id of the process that ran the job)``."""
    return job[0], os.getpid()


def blas_threads(job) -> str | None:
    """The worker's ``OPENBLAS_NUM_THREADS``."""
    return os.environ.get("OPENBLAS_NUM_THREADS")


def _crash_ahead(job: tuple[str, str]) -> None:
    """``(name, "crash ahead")`` kills the worker as soon as the job reaches it, as a decoder crash in the read
    that a worker begins for the job waiting behind the one it runs would."""
    if job[1] == "crash ahead":
        os.kill(os.getpid(), signal.SIGKILL)


def work_with_ahead(job: tuple[str, str]) -> str:
    """:func:`work` whose ``ahead`` (what the pool starts for a job on its arrival) may crash the worker."""
    return work(job)


work_with_ahead.ahead = _crash_ahead


def _note_arrival(job: tuple[str, str]) -> None:
    """Record when the job reached its worker, in the file the job names."""
    Path(job[1]).write_text(repr(time.monotonic()))


def timed(job: tuple[str, str]) -> tuple[str, float | None, float, float]:
    """``(name, arrival, start, end)``: the job takes 0.3 s; ``arrival`` is when :func:`_note_arrival` ran for it
    (None if it did not)."""
    start = time.monotonic()
    time.sleep(0.3)
    arrived = Path(job[1])
    return job[0], float(arrived.read_text()) if arrived.exists() else None, start, time.monotonic()


timed.ahead = _note_arrival


def read_begun(job: tuple[str, str]) -> bool:
    """Whether this worker had begun reading the raw ``job[1]`` before the job came."""
    from lumatune.jobs.develop_files import _PREFETCHED

    return Path(job[1]) in _PREFETCHED
