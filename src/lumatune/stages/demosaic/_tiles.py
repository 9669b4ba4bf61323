"""The schedule of the compiled demosaic methods: tiles spread over threads, and a band of rows at a time.

Each method's kernel works on one tile: it reads the tile plus a margin (mirrored at the image edges) into
small local planes (about 0.8 MB for Menon, 2.5 MB for X-Trans), runs the whole method there and writes the
tile's centre to the output. Peak memory beyond input and output is one set of planes per thread. The
arithmetic repeats the plain numpy version operation by operation, in the same order and without
re-association (``fastmath=False``), so both give the same floats.

The Bayer kernels (Menon, RCD) are written so that LLVM turns their loops into vector instructions, which made
them 2-3x faster (measured, see ``benchmarks/demosaic.py``): every loop runs over whole rows, every pixel alike,
and keeps the pixels of the CFA colour it is for with a select (as ``numpy.where`` does in the plain twin); a
step that changes some pixels writes a new plane rather than updating in place (a loop that reads its
neighbours and writes its own pixel carries a dependence); both sides of a select are loaded first
(conditional loads are not vectorised); inner loops count from 0 with literal offsets (with numba's
``range(start, stop)``, or a margin known only at run time, the compiler cannot prove the indices
non-negative and keeps numba's negative-index wraparound per access); and float division uses numba's
``error_model="numpy"`` (no zero-division branch).

The kernels release the GIL and :func:`run_tiles` spreads the tiles over a thread pool: the same
parallelism as a ``prange`` driver without its compile time (measured here: 3 s per kernel on a cold
numba cache, which every fresh checkout and CI run would pay).

References
----------
-   Ragan-Kelley, J., et al. (2013). Halide: a language and compiler for optimizing parallelism, locality,
    and recomputation in image processing pipelines. PLDI 2013, 519-530 (tiles with overlapping margins
    computed per thread, the "algorithm vs schedule" split).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

__all__ = [
    "F32_EIGHT",
    "F32_FOUR",
    "F32_HALF",
    "F32_QUARTER",
    "F32_THIRD",
    "F32_THREE",
    "F32_TWO",
    "F32_ZERO",
    "RowsDemosaic",
    "load_tile",
    "run_tiles",
    "store_tile",
]

# float32 constants of the kernels, so that their arithmetic stays in float32 as numpy's does
F32_ZERO = np.float32(0.0)
F32_HALF = np.float32(0.5)
F32_QUARTER = np.float32(0.25)
F32_THIRD = np.float32(1.0 / 3.0)
F32_THREE = np.float32(3.0)
F32_TWO = np.float32(2.0)
F32_FOUR = np.float32(4.0)
F32_EIGHT = np.float32(8.0)


@dataclass(frozen=True)
class RowsDemosaic:
    """:func:`~lumatune.stages.demosaic.demosaic` made a band of rows at a time, the same floats, on the calling
    thread alone.

    For a pipeline that develops in bands: every tile reads its margin from the whole mosaic (mirrored at the
    image's own edges, as for the whole image), so a band's rows equal those of the whole image. Made by
    :func:`~lumatune.stages.demosaic.rows_demosaic`, which does the per-image preparation once (X-Trans: the
    padded mosaic and its taps). Bands must start on a multiple of ``alignment`` (the CFA period).
    """

    kernel: Callable
    args: tuple
    shape: tuple[int, int]
    tile: tuple[int, int]
    alignment: int

    def __call__(self, start: int, stop: int, threads: int | None = 1) -> np.ndarray:
        """Rows ``start:stop`` on ``threads`` threads (None: numba's count)."""
        if start % self.alignment:
            raise ValueError(f"demosaic band: start row {start} is not a multiple of the CFA period {self.alignment}")
        rgb = np.empty((stop - start, self.shape[1], 3), dtype=np.float32)
        run_tiles(self.kernel, (*self.args, rgb), self.shape, self.tile, rows=(start, stop),
                                    threads=threads)
        return rgb


def run_tiles(tiles_kernel, args: tuple, shape: tuple[int, int], tile_shape: tuple[int, int],
              rows: tuple[int, int] | None = None, threads: int | None = None) -> None:
    """Call ``tiles_kernel(*args, origins, tile_rows, tile_cols, out_row0, row_stop)`` once per thread, each
    thread taking every n-th tile of ``shape`` (``origins``: their top-left corners, k x 2).

    ``rows = (start, stop)`` limits the tiles to those rows (``start`` on a tile-row boundary of the CFA
    period) and the kernel writes row ``start`` to ``out[0]``; ``threads`` defaults to numba's thread count.
    The kernels release the GIL, so a thread per core runs them in parallel.
    """
    height, width = shape
    start, stop = rows or (0, height)
    tile_rows, tile_cols = tile_shape
    origins = np.array(
        [(r0, c0) for r0 in range(start, stop, tile_rows) for c0 in range(0, width, tile_cols)], dtype=np.int64
    )
    threads = min(threads or numba.config.NUMBA_NUM_THREADS, len(origins))
    if threads == 1:
        tiles_kernel(*args, origins, tile_rows, tile_cols, start, stop)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        jobs = [pool.submit(tiles_kernel, *args, origins[first::threads].copy(), tile_rows, tile_cols, start, stop)
                for first in range(threads)]
        for job in jobs:
            job.result()


@njit(cache=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def _reflect(k: int, n: int) -> int:
    """Index ``k`` folded into ``[0, n)`` by mirror reflection without repeating the edge (numpy ``reflect``)."""
    if n == 1:
        return 0
    period = 2 * (n - 1)
    k = k % period
    return k if k < n else period - k


@njit(cache=True, fastmath=False)  # the same floats as the numpy twin, bit for bit
def load_tile(mosaic, r0, c0, rows, cols, margin, tile, col_index):
    """Copy ``mosaic[r0 - margin : r0 + rows + margin, c0 - margin : ...]`` with reflected indices into the
    top-left corner of ``tile`` (``col_index``: scratch of at least ``cols + 2 margin`` ints)."""
    height, width = mosaic.shape
    n = cols + 2 * margin
    inside = c0 - margin >= 0 and c0 + cols + margin <= width  # no column to mirror: copy rows as they are
    for k in range(n):
        col_index[k] = _reflect(c0 - margin + k, width)
    for a in range(rows + 2 * margin):
        src = _reflect(r0 - margin + a, height)
        if inside:
            tile[a, :n] = mosaic[src, c0 - margin : c0 + cols + margin]
        else:
            for k in range(n):
                tile[a, k] = mosaic[src, col_index[k]]


@njit(cache=True, nogil=True, fastmath=False)
def store_tile(out, row, col, rows, cols, margin, r, g, b):
    """Interleave the ``rows x cols`` centre of the planes ``r``, ``g``, ``b`` (each with ``margin`` around it) into
    ``out[row : row + rows, col : col + cols]``.

    Each output row is written through a flat view from 0 (``3 k + c``): the compiler vectorises that
    (2.6x faster than indexing ``out[row + a, col + k, c]``, measured).
    """
    for a in range(rows):
        flat = out[row + a, col : col + cols].reshape(-1)
        red, green, blue = r[a + margin, margin : margin + cols], g[a + margin, margin : margin + cols], b[
            a + margin, margin : margin + cols]
        for k in range(cols):
            flat[3 * k] = red[k]
            flat[3 * k + 1] = green[k]
            flat[3 * k + 2] = blue[k]
