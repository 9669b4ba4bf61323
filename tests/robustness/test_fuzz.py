"""The fuzz targets (``fuzz/``) run for a bounded time in CI and must find no crash.

``LUMATUNE_FUZZ_SECONDS`` sets the time per target (the two targets run side by side on two cores).
``LUMATUNE_FUZZ_SEED`` fixes libFuzzer's random seed (default 1), so that CI tries the same inputs in the same
order on every run and a red run means a change (of lumatune's or of a dependency's version), not the draw;
``LUMATUNE_FUZZ_SEED=random`` draws one, as ``python fuzz/run.py`` does for longer hunts. A crash leaves its
input in the artifacts folder named in the failure message: make it a regression test in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ_SECONDS = int(os.environ.get("LUMATUNE_FUZZ_SECONDS", "15"))
"""Fuzzing time per target in CI (seconds)."""

FUZZ_SEED = os.environ.get("LUMATUNE_FUZZ_SEED", "1")
"""libFuzzer's seed in CI ("random": a new one each run)."""

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"


@pytest.mark.timeout(FUZZ_SECONDS * 2 + 240)
def test_fuzz_targets_find_no_crash(tmp_path):
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    result = subprocess.run(
        [sys.executable, str(FUZZ_DIR / "run.py"), "--seconds", str(FUZZ_SECONDS), "--artifacts", str(tmp_path),
         *(["--seed", FUZZ_SEED] if FUZZ_SEED != "random" else [])],
        capture_output=True, text=True, timeout=FUZZ_SECONDS * 2 + 200, check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.count(" 0 crashes") == 2
