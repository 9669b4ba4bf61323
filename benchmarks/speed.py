"""Speed and peak memory of developing a 24-megapixel raw: lumatune beside its peers, in the same run.

Each contender runs as its own process (start-up counts, as it does for a user), alternating A/B/C over
several rounds; the table shows the median wall time, CPU time, peak RSS and the ratio of each peer to
lumatune's JPEG. Then, on the same raw: lumatune's per-step profile (``develop --profile``, with the
memory-bandwidth bound: one float32 read-modify-write pass), the preview and the development timed inside one
warm process (as a browser or a batch sees them), and the issue-7 targets, met or not. Last, the folder row
(issue 17): six copies of the raw developed by ``lumatune batch`` (its default workers, one per two cores) and
by ``lumatune batch --jobs 2`` against rawpy (AHD + JPEG) in two worker processes, each start-up paid once per
process, whole-folder wall time.

    python benchmarks/speed.py                 # sim-made 24-MP DNG (made once, cached in benchmarks/.cache),
                                               # then the largest real raw of ../shared/data/raw if present
    python benchmarks/speed.py --raw FILE      # any raw
    python benchmarks/speed.py --rounds 5
    python benchmarks/speed.py --baseline-src /tmp/before/src   # also an earlier tree's lumatune, same rounds
    python benchmarks/speed.py --folder-only   # only the folder row (six copies of the 24-MP DNG)

Peers: rawpy ``postprocess()`` (LibRaw AHD, camera WB, 8-bit sRGB) plus writing the JPEG with Pillow, and
the same with a 16-bit TIFF; darktable-cli and rawtherapee-cli when installed (Debian packages ``darktable``,
``rawtherapee``), each with throw-away config folders and HOME.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SHARED_RAWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"
TARGETS = {"rawpy AHD -> JPEG": 0.7, "darktable-cli -> JPEG": 0.5}
"""Issue 7: lumatune's JPEG wall time at most this fraction of the peer's."""
TARGET_RSS_MB = 1536
FOLDER_FILES = 6
FOLDER_JOBS = 2
FOLDER_OURS = "lumatune batch -> JPEG"
"""The folder row's lumatune: ``lumatune batch`` with its default number of workers (one per two cores)."""
TARGET_FOLDER_SPEEDUP = 2.0
"""Issue 17: a folder of six 24-MP raws on two cores at least this many times faster than rawpy in two processes."""
TARGET_PREVIEW_S = 0.3

WARM_SCRIPT = """
import sys, time, statistics, lumatune
raw_path, rounds = sys.argv[1], int(sys.argv[2])
def timed(preview):
    start = time.perf_counter()
    image = lumatune.develop(lumatune.open_raw(raw_path), preview=preview)
    return time.perf_counter() - start
for preview in (False, True):
    timed(preview)
    print(statistics.median(timed(preview) for _ in range(rounds)))
"""
SIZE_24MP = (6000, 4000)

RAWPY_SCRIPT = """
import sys, rawpy, numpy as np
from PIL import Image
with rawpy.imread(sys.argv[1]) as raw:
    rgb = raw.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, use_camera_wb=True,
                          output_bps=16 if sys.argv[2].endswith('.tif') else 8)
if sys.argv[2].endswith('.tif'):
    import tifffile; tifffile.imwrite(sys.argv[2], rgb, compression='zlib', compressionargs={'level': 1})
else:
    Image.fromarray(rgb).save(sys.argv[2], quality=95)
"""

RAWPY_FOLDER_SCRIPT = """
import sys, rawpy
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from PIL import Image

def develop(source):
    with rawpy.imread(source) as raw:
        rgb = raw.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, use_camera_wb=True, output_bps=8)
    Image.fromarray(rgb).save(Path(sys.argv[2]) / (Path(source).stem + '.jpg'), quality=95)

if __name__ == '__main__':
    sources = sorted(str(p) for p in Path(sys.argv[1]).iterdir())
    with ProcessPoolExecutor(int(sys.argv[3])) as pool:
        list(pool.map(develop, sources))
"""


def make_24mp_dng() -> Path:
    """A 6000 x 4000 natural-scene DNG from the virtual camera, cached between runs."""
    path = CACHE / "natural-24mp.dng"
    if not path.exists():
        from lumatune.sim import simulate, write_sim

        CACHE.mkdir(exist_ok=True)
        print("making a 24-MP DNG with the virtual camera (once) ...", flush=True)
        write_sim(path, simulate("natural", illuminant="D65", size=SIZE_24MP, seed=3), overwrite=True)
    return path


def run_measured(command: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Run a command; return (wall seconds, CPU seconds, peak RSS in MB) of that child alone."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


BASELINE = "baseline "
"""Prefix of the contenders run from ``--baseline-src`` (an earlier tree of lumatune, e.g. a git worktree)."""


def contenders(raw: Path, work: Path, baseline: Path | None = None) -> dict[str, list[str]]:
    """Name -> command line, for every contender installed here (and the baseline tree's lumatune, if given)."""
    lumatune = [sys.executable, "-m", "lumatune", "develop", str(raw), "--overwrite"]
    found = {
        "lumatune default -> JPEG": lumatune + ["-o", str(work / "lt.jpg")],
        "lumatune default -> 16-bit TIFF": lumatune + ["-o", str(work / "lt.tif")],
        "lumatune --preview -> JPEG": lumatune + ["--preview", "-o", str(work / "lt-preview.jpg")],
    }
    if baseline is not None:
        for name, command in list(found.items()):
            output = work / f"base-{Path(command[-1]).name}"
            found[BASELINE + name] = ["env", f"PYTHONPATH={baseline}", *command[:-1], str(output)]
    found |= {
        "rawpy AHD -> JPEG": [sys.executable, "-c", RAWPY_SCRIPT, str(raw), str(work / "rp.jpg")],
        "rawpy AHD -> 16-bit TIFF": [sys.executable, "-c", RAWPY_SCRIPT, str(raw), str(work / "rp.tif")],
    }
    if shutil.which("darktable-cli"):
        cfg = work / "dt-config"
        found["darktable-cli -> JPEG"] = [
            "darktable-cli", str(raw), str(work / "dt.jpg"), "--apply-custom-presets", "false", "--core",
            "--configdir", str(cfg), "--cachedir", str(cfg / "cache"), "--library", ":memory:", "--disable-opencl",
        ]
    if shutil.which("rawtherapee-cli"):
        found["rawtherapee-cli -> JPEG"] = ["rawtherapee-cli", "-o", str(work / "rt.jpg"), "-d", "-Y", "-c", str(raw)]
    return found


def largest_shared_raw() -> Path | None:
    """The largest real raw in ../shared/data/raw, or None when that folder is absent."""
    if not SHARED_RAWS.is_dir():
        print(f"skipping real raws: {SHARED_RAWS} not found")
        return None
    raws = [p for p in SHARED_RAWS.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix != ".md"]
    return max(raws, key=lambda p: p.stat().st_size) if raws else None


Times = dict[str, list[tuple[float, float, float]]]
"""Contender -> (wall s, CPU s, peak MB) per round."""


def measure_contenders(raw: Path, rounds: int, baseline: Path | None = None) -> Times:
    """Every contender on ``raw``: one warm-up run each, then ``rounds`` interleaved rounds."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {**os.environ, "HOME": str(work)}
        commands = contenders(raw, work, baseline)
        for command in commands.values():  # warm-up: numba cache, page cache
            (work / "dt.jpg").unlink(missing_ok=True)
            run_measured(command, env)
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                (work / "dt.jpg").unlink(missing_ok=True)  # darktable-cli has no overwrite flag
                times[name].append(run_measured(command, env))
    return times


def print_profile(raw: Path) -> None:
    """lumatune's own per-step profile of one development of ``raw`` (a fresh process, as a user runs it)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "lumatune", "develop", str(raw), "-o", str(Path(folder) / "p.jpg"),
                   "--profile"]
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"},
                                check=False)
    print(result.stdout.rstrip() or result.stderr.rstrip())


def warm_times(raw: Path, rounds: int) -> tuple[float, float]:
    """(develop, preview) seconds from open to developed float image, medians inside one warm process."""
    result = subprocess.run([sys.executable, "-c", WARM_SCRIPT, str(raw), str(rounds)], capture_output=True,
                            text=True, check=True)
    develop, preview = (float(line) for line in result.stdout.split())
    return develop, preview


def compile_bytecode(baseline: Path | None) -> None:
    """Byte-compile lumatune's modules (and the baseline tree's), as ``pip install`` does for a user.

    An editable install compiles them on first import, unless ``PYTHONDONTWRITEBYTECODE`` is set (some CI
    machines and sandboxes set it): then every process, each batch worker too, compiles ~100 modules from source
    again (0.1-0.2 CPU-s), which rawpy's installed modules never pay. ``compileall`` writes the bytecode anyway.
    """
    import lumatune

    trees = [Path(lumatune.__file__).parent, *([baseline / "lumatune"] if baseline is not None else [])]
    for tree in trees:
        compileall.compile_dir(tree, quiet=1)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set here: lumatune's bytecode was compiled once, as an install does")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, help="raw file (default: a sim-made 24-MP DNG and the largest real raw)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="an earlier tree's src/ folder: its lumatune runs too")
    parser.add_argument("--folder-only", action="store_true", help="only the folder row (six copies of the 24-MP DNG)")
    args = parser.parse_args()
    compile_bytecode(args.baseline_src)
    if args.folder_only:
        raw = args.raw or make_24mp_dng()
        _print_folder(raw, measure_folder(raw, args.rounds, args.baseline_src))
        return
    for peer in ("darktable-cli", "rawtherapee-cli"):
        if not shutil.which(peer):
            print(f"skipping {peer}: not installed (apt-get install {peer.split('-')[0]})")
    raws = [args.raw] if args.raw else [make_24mp_dng(), largest_shared_raw()]
    for raw in [r for r in raws if r is not None]:
        times = measure_contenders(raw, args.rounds, args.baseline_src)
        _print_table(raw, times)
        print()
        print_profile(raw)
        develop, preview = warm_times(raw, args.rounds)
        print(f"\ninside one warm process (open + develop, no encode), medians of {args.rounds}: "
              f"develop {develop:.2f} s, preview {preview:.2f} s")
        _print_targets(times, preview)
        print()
    raw = args.raw or make_24mp_dng()
    _print_folder(raw, measure_folder(raw, args.rounds, args.baseline_src))


def _median(samples: list[tuple[float, float, float]], index: int) -> float:
    return statistics.median(s[index] for s in samples)


def _print_targets(times: dict, preview: float) -> None:
    ours = _median(times["lumatune default -> JPEG"], 0)
    for peer, limit in TARGETS.items():
        if peer in times:
            ratio = ours / _median(times[peer], 0)
            print(f"target: lumatune JPEG <= {limit} x {peer}: {ratio:.2f} x -> {'met' if ratio <= limit else 'NOT met'}")
    rss = max(_median(times[name], 2) for name in times if name.startswith("lumatune"))
    if any(name.startswith(BASELINE) for name in times):
        for name in [n for n in times if n.startswith("lumatune")]:
            wall, rss_now = _median(times[name], 0), _median(times[name], 2)
            wall_base, rss_base = _median(times[BASELINE + name], 0), _median(times[BASELINE + name], 2)
            print(f"against the baseline tree: {name}: wall {wall / wall_base:.2f} x, "
                  f"peak memory {rss_now / rss_base:.2f} x")
    print(f"target: peak RSS <= {TARGET_RSS_MB} MB: {rss:.0f} MB -> {'met' if rss <= TARGET_RSS_MB else 'NOT met'}")
    verdict = "met" if preview <= TARGET_PREVIEW_S else "NOT met"
    print(f"target: preview <= {TARGET_PREVIEW_S} s (warm process): {preview:.2f} s -> {verdict}")


def measure_folder(raw: Path, rounds: int, baseline: Path | None = None) -> Times:
    """The folder row: ``FOLDER_FILES`` copies of ``raw`` developed to JPEG, ``FOLDER_JOBS`` at a time, by
    ``lumatune batch`` and by rawpy in as many worker processes; one warm-up each, then interleaved rounds, every run
    into a fresh output folder (the batch resumes from its manifest otherwise)."""
    with tempfile.TemporaryDirectory() as folder:
        work, inputs = Path(folder), Path(folder) / "raws"
        inputs.mkdir()
        for index in range(FOLDER_FILES):
            target = inputs / f"{raw.stem}-{index + 1}{raw.suffix}"
            try:
                os.link(raw, target)
            except OSError:  # another file system: copy
                shutil.copyfile(raw, target)
        env = {**os.environ, "HOME": str(work)}
        batch = [sys.executable, "-m", "lumatune", "batch", str(inputs), "-o"]
        makers = {
            FOLDER_OURS: lambda out: batch + [str(out)],
            f"lumatune batch --jobs {FOLDER_JOBS} -> JPEG": lambda out: batch + [str(out), "--jobs", str(FOLDER_JOBS)],
            f"rawpy AHD -> JPEG, {FOLDER_JOBS} processes": lambda out: [
                sys.executable, "-c", RAWPY_FOLDER_SCRIPT, str(inputs), str(out), str(FOLDER_JOBS)],
        }
        if baseline is not None:
            makers[BASELINE + FOLDER_OURS] = lambda out: ["env", f"PYTHONPATH={baseline}", *batch, str(out)]
        times: Times = {name: [] for name in makers}
        for round_ in range(rounds + 1):  # round 0 is the warm-up
            for index, (name, make) in enumerate(makers.items()):
                out = work / f"out-{round_}-{index}"
                out.mkdir()
                measured = run_measured(make(out), env)
                if len(list(out.glob("*.jpg"))) != FOLDER_FILES:
                    raise RuntimeError(f"{name}: wrote {len(list(out.glob('*.jpg')))} of {FOLDER_FILES} JPEGs")
                if round_:
                    times[name].append(measured)
                shutil.rmtree(out)
    return times


def _print_folder(raw: Path, times: Times) -> None:
    ours = _median(times[FOLDER_OURS], 0)
    print(f"\nfolder: {FOLDER_FILES} copies of {raw.name}; {os.cpu_count()} CPUs; medians of "
          f"{len(next(iter(times.values())))} interleaved rounds; `lumatune batch` with its default workers, as a new "
          f"user runs it, and with --jobs {FOLDER_JOBS} (as many processes as rawpy's)")
    print(f"{'contender':40s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s} {'wall / lumatune batch':>22s}")
    for name, samples in times.items():
        wall, cpu, rss = (_median(samples, i) for i in range(3))
        print(f"{name:40s} {wall:8.2f} {cpu:8.2f} {rss:8.0f} {wall / ours:22.2f}")
    speedup = _median(times[f"rawpy AHD -> JPEG, {FOLDER_JOBS} processes"], 0) / ours
    verdict = "met" if speedup >= TARGET_FOLDER_SPEEDUP else "NOT met"
    print(f"target: folder throughput >= {TARGET_FOLDER_SPEEDUP} x rawpy in {FOLDER_JOBS} processes: "
          f"{speedup:.2f} x -> {verdict}")


def _print_table(raw: Path, times: dict) -> None:
    reference = _median(times["lumatune default -> JPEG"], 0)
    print(f"\nraw: {raw} ({os.path.getsize(raw) / 1e6:.1f} MB); {os.cpu_count()} CPUs; medians of "
          f"{len(next(iter(times.values())))} interleaved rounds")
    print(f"{'contender':34s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s} {'wall / lumatune JPEG':>21s}")
    for name, samples in times.items():
        wall, cpu, rss = (_median(samples, i) for i in range(3))
        print(f"{name:34s} {wall:8.2f} {cpu:8.2f} {rss:8.0f} {wall / reference:21.2f}")


if __name__ == "__main__":
    main()
