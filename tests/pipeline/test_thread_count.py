"""A development does not depend on how many threads OpenBLAS runs, that is on the machine's core count.

The lens shading stage interpolated its gain grid with a matrix product, whose float32 sums OpenBLAS rounds
differently with its thread count: the same raw developed on a 1-core and a 2-core machine (or in a batch worker,
which runs OpenBLAS on one thread, and in the command line's own process) gave other floats.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from lumatune.sim import simulate, write_sim

SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    import lumatune
    image = np.ascontiguousarray(lumatune.develop(lumatune.open_raw(sys.argv[1]), look="vibrant"), dtype=np.float32)
    print(hashlib.sha256(image.tobytes()).hexdigest())
    """
)


@pytest.fixture(scope="module")
def shaded_dng(tmp_path_factory):
    """A virtual-camera DNG whose vignetting is written as a GainMap opcode (OpcodeList2)."""
    path = tmp_path_factory.mktemp("threads") / "natural.dng"
    write_sim(path, simulate("natural", illuminant="D65", size=(600, 400), seed=1))
    return path


def _developed_hash(dng, blas_threads: int) -> str:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(blas_threads)}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(dng)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.strip()


def test_the_same_floats_whatever_openblas_thread_count(shaded_dng):
    from lumatune import open_raw

    assert open_raw(shaded_dng).dng.gain_maps  # the stage under test has something to do
    one, several = _developed_hash(shaded_dng, 1), _developed_hash(shaded_dng, 3)
    assert len(one) == 64 and one == several
