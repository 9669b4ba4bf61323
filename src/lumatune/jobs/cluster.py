"""Running a batch's jobs on a Dask distributed cluster: connecting with a bounded handshake, counting its threads.

References
----------
- Dask distributed documentation, ``Client.get_executor`` (a ``concurrent.futures`` executor on a cluster).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from lumatune.errors import LumatuneError, UnsupportedError

__all__ = ["SCHEDULER_TIMEOUT_S", "cluster_threads", "connect_cluster"]

SCHEDULER_TIMEOUT_S = 10
"""Seconds to connect to a Dask scheduler and complete its handshake before giving up with one line."""


def connect_cluster(address: str):
    """A Dask distributed client connected to ``address``; one line if that takes over :data:`SCHEDULER_TIMEOUT_S`.

    The Dask handshake is tried first, with a time limit: distributed's own ``connect`` waits for the handshake
    reply without one, so a server that accepts the connection and never answers in Dask's protocol (the
    dashboard's HTTP port, any other service) would hang the batch for ever.
    """
    try:  # lazy: optional, and heavy (dask.distributed 0.6 s)
        from dask.distributed import Client  # lazy: dask, distributed (0.6 s)
        from distributed.comm import connect  # lazy: dask, distributed (0.5 s)
    except ImportError:
        raise UnsupportedError("--scheduler needs Dask: pip install 'dask[distributed]'") from None
    timeout = SCHEDULER_TIMEOUT_S

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="lumatune-dask") as probe:  # a fresh event loop, whatever runs
            probe.submit(asyncio.run, handshake()).result()
        return Client(address, timeout=timeout)
    except Exception as error:  # unreachable, refused, no Dask handshake, a malformed address: all the same to us
        detail = str(error) or "no answer in the Dask protocol"
        raise LumatuneError(
            f"{address}: cannot reach the Dask scheduler within {timeout:g} s ({error.__class__.__name__}: {detail})"
        ) from None


def cluster_threads(client) -> int:
    """Threads of all the cluster's workers: the jobs to keep in flight."""
    return max(1, sum(client.nthreads().values()))
