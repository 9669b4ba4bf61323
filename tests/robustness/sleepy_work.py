"""A batch work function for timeout tests: a raw that never finishes, as one that makes LibRaw hang would.

It stands in for :func:`lumatune.jobs.batch.develop_batch_job` in the worker processes. An input with a file
``NAME.hang`` beside it sleeps far past any test's ``--timeout``; any other input is "developed" by copying its
bytes to the staging file, so that the pool, the time limit, the manifest and the resume logic run for real
without waiting for the pipeline (or for numba to compile it on a cold cache).
"""

from __future__ import annotations

import shutil
import time

from lumatune.jobs.batch import BatchJob, BatchResult, file_sha256

HANG_MARK = ".hang"
"""Suffix of the marker file that makes the input beside it hang."""

HANG_S = 3600
"""How long a marked input sleeps: for ever, as far as a test is concerned."""


def work(job: BatchJob) -> BatchResult:
    """Hang on a marked input; else copy the input to the staging file and report it as develop_batch_job does."""
    source, staging = job.develop.source, job.develop.target
    if source.with_suffix(HANG_MARK).exists():
        time.sleep(HANG_S)
    shutil.copyfile(source, staging)
    info = source.stat()
    return BatchResult(
        job.key, source, job.target, staging=staging, input_sha256=file_sha256(source), input_size=info.st_size,
        input_mtime_ns=info.st_mtime_ns, output_sha256=file_sha256(staging), output_size=staging.stat().st_size,
    )
