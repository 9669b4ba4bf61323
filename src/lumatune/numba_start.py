"""Numba's one-off start-up, taken off the critical path of developing a file.

The first compiled kernel a process calls costs numba 0.3-0.5 s before any pixel is touched: it fills its
typing and lowering registries, and while doing so ``numba.np.arraymath`` imports ``scipy.linalg`` (0.2 s)
only to learn whether BLAS is there for ``np.dot`` inside kernels (``numba.np.linalg.ensure_blas``). No
lumatune kernel does linear algebra, so the command line hides scipy while numba starts, and starts it in a
background thread while the main thread reads the raw (LibRaw decodes without holding the GIL).

Measured on a 2-core machine (python /tmp scratch, median of runs): first kernel call 0.35 s -> 0.14 s with
scipy hidden. ``tests/test_numba_start.py`` checks the kernels still load and that scipy imports afterwards.

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

__all__ = ["numba_ready", "numba_threads", "start_numba", "start_numba_in_background", "wait_for_numba"]

_starting: list[threading.Thread] = []


class _HideScipy(importlib.abc.MetaPathFinder):
    """An import finder under which ``import scipy`` (and its submodules) fails at once."""

    def find_spec(self, name, path=None, target=None):
        if name == "scipy" or name.startswith("scipy."):
            raise ModuleNotFoundError(f"{name} is hidden while numba starts (lumatune.numba_start)")


def start_numba() -> None:
    """Start numba (registries, thread pool) by calling one small cached kernel, with scipy hidden if not loaded.

    Afterwards numba compiles no ``np.dot``/``np.linalg`` in kernels in this process; lumatune's kernels have none.
    """
    hider = _HideScipy() if "scipy" not in sys.modules else None
    if hider is not None:
        sys.meta_path.insert(0, hider)
    try:
        from lumatune.stages._raw_kernels import affine_per_position_fast

        affine_per_position_fast(np.zeros((2, 2), np.uint16), np.zeros((2, 2)), np.ones((2, 2)))
    finally:
        if hider is not None:
            sys.meta_path.remove(hider)


def _start_quietly() -> None:
    try:
        start_numba()
    except Exception:  # noqa: BLE001, S110 - numba then starts (and reports any error) on the first real kernel call
        pass


def start_numba_in_background() -> threading.Thread:
    """:func:`start_numba` in a daemon thread, errors left to the first real kernel call; returns the thread."""
    thread = threading.Thread(target=_start_quietly, name="lumatune-numba-start", daemon=True)
    thread.start()
    _starting.append(thread)
    return thread


def numba_ready() -> bool:
    """False while a start begun by :func:`start_numba_in_background` is still running (then a kernel call would
    wait for it); stages with an exact plain twin use that meanwhile, on the other core."""
    return not any(thread.is_alive() for thread in _starting)


def wait_for_numba() -> None:
    """Wait until a start begun by :func:`start_numba_in_background` has finished (at once if none was)."""
    while _starting:
        _starting.pop().join()


@contextmanager
def numba_threads(count: int):
    """Run numba's parallel kernels on ``count`` threads inside the block (numba's setting is per calling
    thread): for work that is already split over threads, such as the JPEG strips."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)
