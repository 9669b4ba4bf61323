"""Numba's one-off start-up, taken off the critical path of developing a file.

The first compiled kernel a process calls costs numba 0.3-0.5 s before any pixel is touched: it fills its
typing and lowering registries, and while doing so ``numba.np.arraymath`` imports ``scipy.linalg`` (0.2 s)
only to learn whether BLAS is there for ``np.dot`` inside kernels (``numba.np.linalg.ensure_blas``). No
lumatune kernel does linear algebra, so the command line hides scipy while numba starts, and starts it in a
background thread while the main thread reads the raw (LibRaw decodes without holding the GIL).

Measured on a 2-core machine (python /tmp scratch, median of runs): first kernel call 0.35 s -> 0.14 s with
scipy hidden. ``tests/runtime/test_numba_start.py`` checks the kernels still load and that scipy imports afterwards.

References
----------
numba ``numba/np/linalg.py`` (``ensure_blas``) and ``numba/np/arraymath.py`` (``_HAVE_BLAS``); PEP 451
(``importlib.abc.MetaPathFinder.find_spec``).
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from contextlib import contextmanager

import numpy as np

__all__ = [
    "concurrent_kernels",
    "numba_ready",
    "numba_threads",
    "start_numba",
    "start_numba_in_background",
    "wait_for_numba",
]

_starting: list[threading.Thread] = []


class _HideScipy(importlib.abc.MetaPathFinder):
    """An import finder under which ``import scipy`` (and its submodules) fails at once, in the threads listed in
    ``threads`` only. Installed once and left in place: taking a finder out of ``sys.meta_path`` while another
    thread imports can make that import miss the next finder."""

    def __init__(self):
        self.threads: set[int] = set()

    def find_spec(self, name, path=None, target=None):
        if threading.get_ident() in self.threads and (name == "scipy" or name.startswith("scipy.")):
            raise ModuleNotFoundError(f"{name} is hidden while numba starts (lumatune.runtime.numba)")


_HIDER = _HideScipy()


def _install_hider() -> None:
    if _HIDER not in sys.meta_path:
        sys.meta_path.insert(0, _HIDER)


def start_numba() -> None:
    """Start numba (its typing and lowering registries) by calling its cheapest cached kernel, with scipy hidden
    from this thread if it is not loaded yet.

    The kernel is a serial one: numba's parallel threading layer starts with the first parallel kernel, in the
    thread that calls it, so no parallel kernel runs here beside one in another thread (numba's ``workqueue``
    layer aborts the process when two run at once). Afterwards numba compiles no ``np.dot``/``np.linalg`` in
    kernels in this process; lumatune's kernels have none.
    """
    hide = "scipy" not in sys.modules
    if hide:
        _install_hider()
        _HIDER.threads.add(threading.get_ident())
    try:
        from lumatune.runtime._probes import serial_probe  # lazy: imports numba (0.4 s), the point of this thread

        serial_probe(1)
    finally:
        _HIDER.threads.discard(threading.get_ident())


def _start_quietly() -> None:
    try:
        start_numba()
    except Exception:  # noqa: BLE001, S110 - numba then starts (and reports any error) on the first real kernel call
        pass


def start_numba_in_background() -> threading.Thread:
    """:func:`start_numba` in a daemon thread, errors left to the first real kernel call; returns the thread."""
    _install_hider()  # here, in the calling thread, before any other thread imports
    thread = threading.Thread(target=_start_quietly, name="lumatune-numba-start", daemon=True)
    thread.start()
    _starting.append(thread)
    return thread


def numba_ready() -> bool:
    """False while a start begun by :func:`start_numba_in_background` is still running (then a kernel call would
    wait for it); stages with an exact plain twin use that meanwhile, on the other core."""
    _starting[:] = [thread for thread in _starting if thread.is_alive()]
    return not _starting


def wait_for_numba() -> None:
    """Wait until a start begun by :func:`start_numba_in_background` has finished (at once if none was)."""
    while _starting:
        _starting.pop().join()


def concurrent_kernels() -> bool:
    """Whether several threads may run parallel kernels at once: yes with numba's ``omp`` and ``tbb`` threading
    layers, no with ``workqueue`` (it aborts the process), which numba falls back to when neither OpenMP nor TBB
    is installed. Runs a small parallel kernel first if none has run yet (that chooses the layer)."""
    import numba  # lazy: numba (0.4 s)

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run in this process yet
        from lumatune.runtime._probes import parallel_probe  # lazy: numba (0.4 s), loaded by now in practice

        parallel_probe(np.zeros(2))
        layer = numba.threading_layer()
    return layer != "workqueue"


@contextmanager
def numba_threads(count: int):
    """Run numba's parallel kernels on ``count`` threads inside the block (numba's setting is per calling
    thread): for work that is already split over threads, such as the JPEG strips."""
    import numba  # lazy: numba (0.4 s)

    before = numba.get_num_threads()
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)
