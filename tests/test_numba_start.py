"""Starting numba with scipy hidden: the kernels still load, and scipy imports normally afterwards."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from lumatune.numba_start import start_numba_in_background
start_numba_in_background().join()
assert "scipy" not in sys.modules, "numba imported scipy while starting"
import numpy as np
from lumatune.stages._raw_kernels import affine_per_position_fast
out = affine_per_position_fast(np.full((4, 4), 10, np.uint16), np.ones((2, 2)), np.full((2, 2), 0.5))
assert np.all(out == 4.5)
import scipy.linalg
assert scipy.linalg.norm([3.0, 4.0]) == 5.0
print("ok")
"""


def test_numba_starts_without_scipy_and_scipy_still_imports():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
