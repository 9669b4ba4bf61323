"""The dependency rules of the layout (DESIGN.md, "Layout") hold: import-linter's contracts in pyproject.toml.

The contracts say what depends on what (layers from the CLI down to raw; stages pure; raw knows no processing;
sim and lab share no code with what they measure). What a contract cannot see stays in the tests beside it:
importing a command loads no simulator (tests/sim/test_sim_cli.py), ``import lumatune`` loads no numba (below),
no walk over the stage table outside the pipeline (tests/pipeline/test_pipeline_walks.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_hold():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],  # reads the contracts from pyproject.toml in ROOT
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_importing_lumatune_loads_no_numba_colour_science_or_matplotlib():
    code = "import sys, lumatune; print(sorted(m for m in ('numba', 'colour', 'matplotlib') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
