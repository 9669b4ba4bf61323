"""Fingerprints of lumatune's developed pixels: every test raw in every built-in look, as 16-bit TIFF.

Records the SHA-256 of each decoded pixel array (not of the file bytes, so TIFF metadata such as the
software tag or a date does not count), keyed by ``raw/look``. Run it on the commit before a refactor and
after it, then ``--compare`` the two: a behaviour-preserving change gives no differing entry.

Raws developed:

- the demo's virtual-camera raws (the scenes, illuminants, sizes and seed of ``lumatune demo``), made with
  ``lumatune sim`` into a work folder (deterministic: same seed, same sizes);
- every file in ``../shared/data/raw`` beside the project (skipped with a message when absent).

Only the command line is used (``lumatune sim``, ``lumatune looks``, ``lumatune develop``), never a module
path, so the script runs unchanged before and after the package is re-arranged.

Usage::

    python benchmarks/fingerprints.py --out before.json --arrays before-arrays/
    python benchmarks/fingerprints.py --out after.json --compare before.json

Every raw is developed twice, and only the second pass counts: the first compiles numba's kernels that are not
in its cache yet, and writes them there. A kernel compiled in the process that runs it can give other floats than
the same kernel loaded from the cache (seen with numba 0.68.1, in kernels with both ``parallel`` and fast-math: the
grain stage's gives 1 ulp in 1.6 % of its float32 values, 1 code of 16 bits in 1-2e-5 of the samples of the looks
with grain), so a tree whose cache was cold would otherwise differ from itself. ``--no-warm-up`` skips that pass.

``--arrays DIR`` keeps each decoded array as a compressed ``.npz``; ``--compare`` then reports, for every
entry whose fingerprint differs, the largest absolute difference in 16-bit codes and the share of samples
that differ (it finds the earlier arrays through the folder recorded in the earlier JSON, or ``--compare-arrays``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
SHARED_RAWS = ROOT.parent / "shared" / "data" / "raw"

#: (scene, illuminant, (width, height)) of the demo raws and their seed: a copy of ``DEMO_SCENES`` in
#: lumatune's demo module (kept here so that the script does not depend on where that module lives).
DEMO_SCENES = (
    ("natural", "D65", (1500, 1000)),
    ("colorchecker", "D50", (1200, 800)),
)
DEMO_SEED = 1

RAW_SUFFIXES = {".dng", ".nef", ".cr2", ".cr3", ".crw", ".arw", ".raf", ".orf", ".rw2", ".pef", ".srw", ".kdc",
                ".raw", ".dcr", ".mrw", ".3fr", ".erf", ".mos", ".nrw", ".x3f", ".iiq", ".rwl", ".srf", ".sr2"}


_COMMAND: list[str] = []


def _lumatune() -> list[str]:
    """The command that runs lumatune: ``--command``, else the ``lumatune`` script next to this Python, else
    ``python -m lumatune``."""
    if _COMMAND:
        return _COMMAND
    script = Path(sys.executable).parent / "lumatune"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lumatune"]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(_lumatune() + args, capture_output=True, text=True)


def builtin_looks() -> list[str]:
    """Names printed by ``lumatune looks`` (first word of each line)."""
    done = _run(["looks"])
    if done.returncode != 0:
        sys.exit(f"fingerprints: `lumatune looks` failed: {done.stderr.strip()}")
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def make_demo_raws(folder: Path) -> list[Path]:
    """The demo's virtual-camera raws, written by ``lumatune sim`` (reused when already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for scene, illuminant, (width, height) in DEMO_SCENES:
        path = folder / f"{scene}.dng"
        stamp = folder / f"{scene}.args"
        args = ["sim", scene, "-o", str(path), "--illuminant", illuminant, "--size", f"{width}x{height}",
                "--seed", str(DEMO_SEED), "--overwrite"]
        if not (path.exists() and stamp.exists() and stamp.read_text() == " ".join(args)):
            done = _run(args)
            if done.returncode != 0:
                sys.exit(f"fingerprints: `lumatune {' '.join(args)}` failed: {done.stderr.strip()}")
            stamp.write_text(" ".join(args))
        paths.append(path)
    return paths


def shared_raws(folder: Path) -> list[Path]:
    if not folder.is_dir():
        print(f"fingerprints: {folder} is absent: only the virtual-camera raws are developed", file=sys.stderr)
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in RAW_SUFFIXES)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def array_fingerprint(array: np.ndarray) -> str:
    """SHA-256 over dtype, shape and the C-ordered pixel bytes."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def develop_look(look: str, raws: dict[str, Path], work: Path) -> dict[str, dict]:
    """Develop every raw in one look with one ``lumatune develop`` (one process start per look).

    The raws go in one call with ``-o FOLDER`` (outputs named ``<stem>.tif``); when two raws share a stem, each
    raw gets a call of its own.
    """
    out = work / "out" / look
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    start = time.perf_counter()
    stems = [path.stem for path in raws.values()]
    groups = [list(raws.items())] if len(set(stems)) == len(stems) else [[item] for item in raws.items()]
    results: dict[str, dict] = {}
    for number, group in enumerate(groups):
        folder = out / str(number)
        folder.mkdir()
        done = _run(["develop", *(str(path) for _, path in group), "-o", str(folder), "--look", look,
                     "--format", "tiff", "--bits", "16", "--overwrite"])
        errors = [line for line in done.stderr.splitlines() if line.startswith("lumatune:")]
        for key, path in group:
            target = folder / (path.stem + ".tif")
            if target.exists():
                results[key] = {"tiff": str(target)}
                continue
            mine = [line for line in errors if path.name in line]
            results[key] = {"error": (mine or errors or [f"no output (exit code {done.returncode})"])[0]}
    seconds = time.perf_counter() - start
    print(f"  {look:10s} {len(raws)} raws in {seconds:5.1f} s", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("fingerprints.json"), help="JSON to write")
    parser.add_argument("--compare", type=Path, help="an earlier JSON: print every entry that differs")
    parser.add_argument("--compare-arrays", type=Path, help="the earlier arrays folder (default: the one in its JSON)")
    parser.add_argument("--arrays", type=Path, help="keep each decoded array as DIR/<raw>__<look>.npz")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="looks developed in parallel (processes)")
    parser.add_argument("--work", type=Path, help="work folder for the demo raws and TIFFs (default: a temp folder)")
    parser.add_argument("--raws", type=Path, default=SHARED_RAWS, help="folder of real raws (default: %(default)s)")
    parser.add_argument("--looks", nargs="*", help="only these looks (default: every built-in look)")
    parser.add_argument("--demo-raws", type=Path,
                        help="folder of the virtual-camera DNGs: made there, or reused when already made (give the "
                             "earlier run's folder so that changes to the simulator do not count)")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="skip the first pass that compiles and caches numba's kernels (see the module notes)")
    parser.add_argument("--command", help="how to run lumatune, e.g. 'python -m lumatune' (default: the lumatune "
                                          "script beside this Python)")
    args = parser.parse_args(argv)
    if args.command:
        _COMMAND[:] = shlex.split(args.command)

    start = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="lumatune-fingerprints-"))
    work.mkdir(parents=True, exist_ok=True)
    looks = args.looks or builtin_looks()
    raws: dict[str, Path] = {}
    demo_folder = (args.demo_raws or work / "demo-raws").resolve()
    for path in make_demo_raws(demo_folder):
        raws[f"demo/{path.name}"] = path
    for path in shared_raws(args.raws):
        raws[f"shared/{path.name}"] = path
    print(f"fingerprints: {len(raws)} raws x {len(looks)} looks, {args.jobs} job(s), work folder {work}",
          file=sys.stderr)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        if not args.no_warm_up:  # every kernel compiled and cached first: then the measured pass loads them all
            list(pool.map(lambda look: develop_look(look, raws, work / "warm-up"), looks))
        per_look = dict(zip(looks, pool.map(lambda look: develop_look(look, raws, work), looks)))

    if args.arrays:
        args.arrays.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    arrays: dict[str, np.ndarray] = {}
    for key in raws:
        for look in looks:
            entry_key = f"{key}/{look}"
            result = per_look[look][key]
            if "error" in result:
                entries[entry_key] = {"error": result["error"]}
                continue
            array = tifffile.imread(result["tiff"])
            arrays[entry_key] = array
            entries[entry_key] = {"sha256": array_fingerprint(array), "shape": list(array.shape),
                                  "dtype": array.dtype.str}
            if args.arrays:
                np.savez_compressed(args.arrays / _array_name(entry_key), pixels=array)
    seconds = time.perf_counter() - start

    record = {
        "git_head": _git(["rev-parse", "HEAD"]),
        "git_status_short": _git(["status", "--short"]),
        "lumatune_version": _version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(seconds, 1),
        "jobs": args.jobs,
        "arrays": str(args.arrays.resolve()) if args.arrays else None,
        "demo_raws": str(demo_folder) if args.demo_raws else None,
        "command": _lumatune(),
        "lumatune_module": _module_file(),
        "looks": looks,
        "raws": {key: {"file": str(path), "file_sha256": file_sha256(path)} for key, path in raws.items()},
        "entries": entries,
    }
    args.out.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    ok = sum("sha256" in e for e in entries.values())
    print(f"fingerprints: {ok} developed, {len(entries) - ok} failed, {seconds:.1f} s -> {args.out}", file=sys.stderr)

    status = 0
    if args.compare:
        status = compare(json.loads(args.compare.read_text()), record, arrays, args.compare_arrays)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return status


def _array_name(entry_key: str) -> str:
    return entry_key.replace("/", "__") + ".npz"


def compare(before: dict, after: dict, after_arrays: dict[str, np.ndarray], before_folder: Path | None) -> int:
    """Print every entry that differs; 0 when all are identical, 1 otherwise."""
    folder = before_folder or (Path(before["arrays"]) if before.get("arrays") else None)
    differing = not_run = 0
    for key in sorted(set(before["entries"]) | set(after["entries"])):
        old, new = before["entries"].get(key), after["entries"].get(key)
        if old == new:
            continue
        if new is None and key.rsplit("/", 1)[1] not in after["looks"]:
            not_run += 1  # a look left out with --looks
            continue
        differing += 1
        if old is None or new is None:
            print(f"DIFF {key}: only {'after' if old is None else 'before'}")
            continue
        if "sha256" not in old or "sha256" not in new:
            print(f"DIFF {key}: before {old.get('error', 'ok')!r}, after {new.get('error', 'ok')!r}")
            continue
        if old["shape"] != new["shape"]:
            print(f"DIFF {key}: shape {old['shape']} -> {new['shape']}")
            continue
        detail = "pixels differ (no earlier arrays to measure by how much)"
        old_file = folder / _array_name(key) if folder else None
        if old_file is not None and old_file.exists() and key in after_arrays:
            a = np.load(old_file)["pixels"].astype(np.int64)
            b = after_arrays[key].astype(np.int64)
            delta = np.abs(a - b)
            differing_samples = int(np.count_nonzero(delta))
            detail = (f"max |diff| {int(delta.max())} codes, mean {delta.mean():.3g}, {differing_samples} of "
                      f"{delta.size} samples differ ({100 * differing_samples / delta.size:.3g}%)")
        print(f"DIFF {key}: {detail}")
    for name in ("git_head", "lumatune_version"):
        print(f"{name}: before {before.get(name)}, after {after.get(name)}")
    if not_run:
        print(f"{not_run} earlier entries not developed this time (--looks)")
    print(f"{differing} of {len(after['entries'])} entries differ" if differing else
          f"all {len(after['entries'])} entries identical")
    return 1 if differing else 0


def _module_file() -> str | None:
    """Where the lumatune that the command runs is imported from (a check that ``--command`` took effect)."""
    command = _lumatune()
    python = command[:-2] if command[-2:] == ["-m", "lumatune"] else [sys.executable]
    done = subprocess.run(python + ["-c", "import lumatune; print(lumatune.__file__)"], capture_output=True, text=True)
    return done.stdout.strip() or None


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lumatune")
    except PackageNotFoundError:
        return None


def _git(args: list[str]) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
