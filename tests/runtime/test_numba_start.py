"""Starting numba with scipy hidden: the kernels still load, and scipy imports normally afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

from lumatune.sim import simulate, write_sim

SCRIPT = """
import sys
from lumatune.runtime.numba import start_numba_in_background
start_numba_in_background().join()
assert "scipy" not in sys.modules, "numba imported scipy while starting"
import numpy as np
from lumatune.stages._cfa import affine_per_position_fast
out = affine_per_position_fast(np.full((4, 4), 10, np.uint16), np.ones((2, 2)), np.full((2, 2), 0.5))
assert np.all(out == 4.5)
import scipy.linalg
assert scipy.linalg.norm([3.0, 4.0]) == 5.0
print("ok")
"""


MAIN_THREAD_IMPORT = """
from lumatune.runtime.numba import start_numba_in_background
thread = start_numba_in_background()
import scipy.linalg  # in the main thread while numba starts: scipy is hidden from the start thread only
assert scipy.linalg.norm([3.0, 4.0]) == 5.0
thread.join()
print("ok")
"""


def test_scipy_imports_in_the_main_thread_while_numba_starts():
    result = subprocess.run([sys.executable, "-c", MAIN_THREAD_IMPORT], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_numba_starts_without_scipy_and_scipy_still_imports():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_develop_with_numba_workqueue_layer(tmp_path):
    """numba's fallback threading layer (no OpenMP, no TBB) aborts the process when two threads run parallel
    kernels at once: the writers then make their strips one at a time, and the files are the same."""
    dng, _ = write_sim(tmp_path / "chart.dng", simulate("colorchecker", size=(420, 600), seed=5))  # 600 rows: 3 strips
    outputs = {}
    for layer in ("workqueue", "default"):
        env = {**os.environ, "NUMBA_THREADING_LAYER": layer}
        for suffix in (".jpg", ".tif"):
            target = tmp_path / f"{layer}{suffix}"
            result = subprocess.run([sys.executable, "-m", "lumatune", "develop", str(dng), "-o", str(target)],
                                    capture_output=True, text=True, timeout=300, env=env, check=False)
            assert result.returncode == 0, result.stderr[-500:]
            outputs[layer, suffix] = target.read_bytes()
    assert outputs["workqueue", ".jpg"] == outputs["default", ".jpg"]
    assert outputs["workqueue", ".tif"] == outputs["default", ".tif"]
