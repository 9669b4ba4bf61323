"""A job function for pool tests that kills its own worker process on request, as a native crash would."""

from __future__ import annotations

import os
import signal


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
