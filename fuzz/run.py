"""Run every fuzz target for a bounded time, in parallel, and report executions and crashes.

Usage::

    python fuzz/run.py [--seconds 20] [--jobs 2] [--artifacts DIR] [TARGET ...]

Each target (``fuzz/fuzz_*.py``) starts from a seed corpus written on the spot (``fuzz/seeds.py``) and runs
under libFuzzer with a per-input time limit (a hang is a crash) and a memory limit (a blow-up is a crash).
Inputs that crash a target are written to the artifacts folder; make each one a regression test
(``tests/robustness/test_fuzz_regressions.py``). The exit status is 1 when any target crashed.

References
----------
LLVM libFuzzer options: https://llvm.org/docs/LibFuzzer.html#options; Google atheris.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import seeds

TARGETS = {"dng_tags": seeds.dng_seeds, "look_tuning": seeds.toml_seeds}
"""Target name (``fuzz/fuzz_<name>.py``) -> the function writing its seeds."""

INPUT_TIMEOUT_S = 10
"""One input running longer than this is a hang."""

RSS_LIMIT_MB = 2048
"""A target using more memory than this has blown up."""

MAX_INPUT_BYTES = 8192
"""Longest input tried (long inputs make each run slow without reaching new code)."""


def run_target(name: str, seconds: int, workdir: Path, artifacts: Path, seed: int | None = None) -> dict:
    """Fuzz one target for ``seconds`` (``seed``: libFuzzer's random seed, else its own); its executions, new
    inputs, and the crash files it left."""
    corpus, seed_dir = workdir / name / "corpus", workdir / name / "seeds"
    corpus.mkdir(parents=True)
    TARGETS[name](seed_dir)
    prefix = artifacts / f"{name}-"
    command = [
        sys.executable, str(HERE / f"fuzz_{name}.py"), f"-max_total_time={seconds}", f"-timeout={INPUT_TIMEOUT_S}",
        f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={MAX_INPUT_BYTES}", "-print_final_stats=1",
        f"-artifact_prefix={prefix}", *([f"-seed={seed}"] if seed is not None else []), str(corpus), str(seed_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300, check=False)
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", result.stderr))
    crashes = sorted(p.name for p in artifacts.glob(f"{name}-*"))
    return {
        "target": name,
        "returncode": result.returncode,
        "executions": int(stats.get("number_of_executed_units", 0)),
        "new_units": int(stats.get("new_units_added", 0)),
        "crashes": crashes,
        "log_tail": "\n".join(result.stderr.splitlines()[-40:]) if result.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help=f"some of: {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time per target")
    parser.add_argument("--jobs", type=int, default=2, help="targets fuzzed at once")
    parser.add_argument("--artifacts", type=Path, default=None, help="where crashing inputs go (default: a temp folder)")
    parser.add_argument(
        "--seed", type=int, default=None,
        help="libFuzzer's random seed: the same inputs in the same order on every run (default: a new seed each run)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    artifacts = args.artifacts or Path(tempfile.mkdtemp(prefix="lumatune-fuzz-artifacts-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lumatune-fuzz-") as workdir, ThreadPoolExecutor(args.jobs) as pool:
        reports = list(pool.map(lambda name: run_target(name, args.seconds, Path(workdir), artifacts, args.seed),
                                args.targets))
    failed = False
    for report in reports:
        print(
            f"{report['target']}: {report['executions']} executions in {args.seconds} s, {report['new_units']} new "
            f"inputs, {len(report['crashes'])} crashes"
        )
        if report["returncode"] or report["crashes"]:
            failed = True
            print(f"  crashing inputs in {artifacts}: {', '.join(report['crashes'])}\n{report['log_tail']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
